//! Change events through the API: the outbox a mutation writes, the pull
//! feed `events`, `Profile.history`, the envelope and its event context.

use std::collections::BTreeSet;

use profiles_gateway::auth::Scope;
use profiles_gateway::service::token;
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, error_codes, user_errors};

const EVENT: &str = "id type occurredAt profileId version changed actor { tokenId tokenName } data";

async fn feed(app: &TestApp, args: &str) -> Value {
    let query = format!(
        "{{ events{args} {{ edges {{ cursor node {{ {EVENT} }} }} pageInfo {{ hasNextPage hasPreviousPage endCursor }} }} }}"
    );
    app.data(&query, json!({})).await["events"].clone()
}

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"].as_array().expect("edges").iter().map(|e| e["node"].clone()).collect()
}

fn types(connection: &Value) -> Vec<String> {
    nodes(connection).iter().map(|n| n["type"].as_str().expect("a type").to_owned()).collect()
}

async fn create(app: &TestApp, input: Value) -> String {
    crate::helpers::create_profile(app, input).await
}

async fn update(app: &TestApp, id: &str, input: Value) -> Value {
    app.mutate(
        "updateProfile",
        "mutation($id: UUID!, $i: ProfileUpdateInput!) { updateProfile(id: $id, input: $i) { profile { version } userErrors { field code } } }",
        json!({ "id": id, "i": input }),
    )
    .await
}

#[tokio::test]
async fn a_created_profile_has_one_event_with_the_reference_context() {
    let app = TestApp::spawn().await;
    app.data("mutation { createTag(input: { handle: \"vip\", name: \"VIP\" }) { tag { id } } }", json!({})).await;
    let id = create(
        &app,
        json!({ "firstName": "Example", "lastName": "User", "email": "ex@example.com", "mobilePhone": "+61404123123",
                "birthYear": 1989, "birthMonth": 1, "birthDay": 1, "tags": ["vip"] }),
    )
    .await;
    let events = feed(&app, "").await;
    let [event] = nodes(&events).try_into().expect("one event");
    assert_eq!(event["type"], "profile.created");
    assert_eq!(event["profileId"], id.as_str());
    assert_eq!(event["version"], 1);
    assert!(event["id"].as_str().is_some_and(|id| id.starts_with("evt_") && id.len() == 36), "{event}");
    assert_eq!(event["actor"], Value::Null, "authentication is off");
    let data = &event["data"];
    assert_eq!(data["id"], id.as_str());
    assert_eq!(data["full_name"], "Example User");
    assert_eq!(data["mobile_phone_country"], 61);
    assert_eq!(data["mobile_phone_national_prefix"], "0404123123");
    assert_eq!(data["birth_date"], "1989-01-01");
    assert_eq!(data["is_completed"], true);
    assert_eq!(data["flattened_tags"], json!(["vip"]));
    assert_eq!(data["tags"][0]["handle"], "vip");
    assert_eq!(data["profile_type"], "active");
    assert!(data["attributes"].get("comms").is_some() && data["attributes"]["dates"] == json!([]), "{data}");
    // Every key of the context is new.
    let changed: BTreeSet<&str> =
        event["changed"].as_array().expect("changed").iter().filter_map(Value::as_str).collect();
    let keys: BTreeSet<&str> = data.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(changed, keys);
}

#[tokio::test]
async fn an_update_lists_what_changed_and_a_rejected_or_empty_one_emits_nothing() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({ "firstName": "A", "email": "a@example.com" })).await;

    let payload = update(&app, &id, json!({ "email": "not an email" })).await;
    assert_eq!(user_errors(&payload)[0].1, "INVALID");
    assert_eq!(types(&feed(&app, "").await), ["profile.created"], "a rejected mutation emits nothing");

    update(&app, &id, json!({ "email": "b@example.com", "firstName": "B" })).await;
    let events = feed(&app, "").await;
    let updated = &nodes(&events)[1];
    assert_eq!(updated["type"], "profile.updated");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["changed"], json!(["email", "first_name", "full_name"]));
    assert_eq!(updated["data"]["email"], "b@example.com");

    // The same values again change nothing the context shows.
    update(&app, &id, json!({ "email": "b@example.com" })).await;
    assert_eq!(types(&feed(&app, "").await), ["profile.created", "profile.updated"]);
}

/// The top-level keys whose value differs between two contexts.
fn differing(a: &Value, b: &Value) -> BTreeSet<String> {
    let (a, b) = (a.as_object().expect("a context"), b.as_object().expect("a context"));
    a.keys().chain(b.keys()).filter(|key| a.get(*key) != b.get(*key)).cloned().collect()
}

#[tokio::test]
async fn a_created_event_keeps_the_context_the_profile_was_created_with() {
    let app = TestApp::spawn().await;
    let input = json!({ "firstName": "Ann", "lastName": "Lee", "email": "ann@example.com", "tags": ["vip", "eco"],
        "addresses": [
            { "addressLine1": "1 A St", "city": "Melbourne", "postcode": "3000", "country": "Australia" },
            { "addressLine1": "2 B St", "city": "Sydney", "postcode": "2000", "country": "Australia" }
        ],
        "identities": [{ "handle": "pos", "identifier": "P-1", "isPrimary": true }] });
    let id = create(&app, input).await;
    let created = nodes(&feed(&app, "").await)[0]["data"].clone();
    assert_eq!((created["first_name"].clone(), created["external_id"].clone()), (json!("Ann"), json!("P-1")));
    assert_eq!(created["addresses"].as_array().map(Vec::len), Some(2));
    assert_eq!(created["flattened_tags"].as_array().map(Vec::len), Some(2));

    update(&app, &id, json!({ "firstName": "Bea" })).await;
    let events = nodes(&feed(&app, "").await);
    assert_eq!(events[0]["data"], created, "the profile changed; its created event did not");
    assert_eq!(events[1]["changed"], json!(["first_name", "full_name"]));
    let keys: BTreeSet<String> = ["first_name", "full_name", "updated_at"].map(String::from).into();
    assert_eq!(differing(&events[0]["data"], &events[1]["data"]), keys);

    // A purge erases the profile's events; its own carries the id only.
    app.data("mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId } }", json!({ "id": id })).await;
    let events = nodes(&feed(&app, "").await);
    assert_eq!(types(&feed(&app, "").await), ["profile.purged"]);
    assert_eq!(events[0]["data"], json!({ "id": id }));

    // A profile created and never changed, then purged: its created event, still
    // waiting for its context, goes too.
    let other = create(&app, json!({ "firstName": "Cy", "addresses": [{ "addressLine1": "3 C St", "city": "Perth", "postcode": "6000", "country": "Australia" }] })).await;
    app.data("mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId } }", json!({ "id": other })).await;
    let of_other = nodes(&feed(&app, &format!("(profileId: \"{other}\")")).await);
    assert_eq!(of_other.iter().map(|e| e["type"].clone()).collect::<Vec<_>>(), ["profile.purged"]);
    assert_eq!(of_other[0]["data"], json!({ "id": other }));
}

#[tokio::test]
async fn a_reader_that_races_with_the_first_change_still_gets_the_created_context() {
    use profiles_gateway::service::events::feed::Feed;
    use profiles_gateway::service::events::{deferred, feed as events};
    let app = TestApp::spawn().await;
    let id = create(&app, json!({ "firstName": "Ann" })).await;
    // Read as the webhooks' worker and the subscriptions read: the event first, its
    // context after; here a change commits in between.
    let mut page = events::page(&app.db, &Feed::default()).await.expect("the feed");
    assert_eq!(page.events[0].data, Value::Null, "the context is deferred");
    update(&app, &id, json!({ "firstName": "Bea" })).await;
    deferred::fill(&app.db, &mut page.events).await.expect("the contexts");
    assert_eq!(page.events[0].data["first_name"], "Ann");
    // `changed` is not stored for a created event either: every key.
    assert_eq!(json!(page.events[0].changed), nodes(&feed(&app, "").await)[0]["changed"]);
    assert!(page.events[0].changed.len() > 40, "every key: {:?}", page.events[0].changed);
}

#[tokio::test]
async fn a_created_event_keeps_its_context_through_a_delete_and_a_restore() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({ "firstName": "Ann" })).await;
    app.data("mutation($id: UUID!) { deleteProfile(id: $id) { profile { id } } }", json!({ "id": id })).await;
    app.data("mutation($id: UUID!) { restoreProfile(id: $id) { profile { id } } }", json!({ "id": id })).await;
    let events = nodes(&feed(&app, "").await);
    assert_eq!(types(&feed(&app, "").await), ["profile.created", "profile.deleted", "profile.restored"]);
    assert_eq!(events[0]["data"]["profile_type"], "active");
    assert_eq!(events[1]["data"]["profile_type"], "deleted");
    assert_eq!(events[2]["data"]["profile_type"], "active");
}

#[tokio::test]
async fn a_created_event_keeps_the_tag_as_it_was_when_the_tag_is_renamed() {
    let app = TestApp::spawn().await;
    let tag =
        app.data("mutation { createTag(input: { handle: \"vip\", name: \"VIP\" }) { tag { id } } }", json!({})).await;
    let tag = tag["createTag"]["tag"]["id"].as_str().expect("an id").to_owned();
    let id = create(&app, json!({ "firstName": "Ann", "tags": ["vip"] })).await;
    let created = nodes(&feed(&app, "").await)[0]["data"].clone();
    assert_eq!(created["tags"][0]["name"], "VIP");

    // A new name is not a change to the profile (no version, no event), but its
    // created event still holds the tag as it was.
    let renamed = app
        .data(
            "mutation($id: ID!) { updateTag(id: $id, input: { name: \"Very Important\" }) { tag { name } } }",
            json!({ "id": tag }),
        )
        .await;
    assert_eq!(renamed["updateTag"]["tag"]["name"], "Very Important");
    assert_eq!(types(&feed(&app, "").await), ["profile.created"]);
    assert_eq!(nodes(&feed(&app, "").await)[0]["data"], created);
    // The next change shows the new name.
    update(&app, &id, json!({ "lastName": "Lee" })).await;
    let events = nodes(&feed(&app, "").await);
    assert_eq!(events[1]["data"]["tags"][0]["name"], "Very Important");
    assert_eq!(events[0]["data"], created);
}

#[tokio::test]
async fn the_contexts_of_a_page_of_created_events_cost_one_statement_whatever_its_size() {
    let app = TestApp::spawn().await;
    for n in 0..12 {
        create(&app, json!({ "firstName": format!("P{n}"), "tags": ["t"] })).await;
    }
    let mut costs = Vec::new();
    for size in [3, 12] {
        app.reset_statements();
        let page = feed(&app, &format!("(first: {size})")).await;
        let names: Vec<Value> = nodes(&page).iter().map(|n| n["data"]["first_name"].clone()).collect();
        assert_eq!(names, (0..size).map(|n| json!(format!("P{n}"))).collect::<Vec<_>>());
        assert!(nodes(&page).iter().all(|n| n["data"]["flattened_tags"] == json!(["t"])));
        costs.push(app.statements().len());
    }
    assert_eq!(costs[0], costs[1], "statements for 3 and for 12 events");
}

#[tokio::test]
async fn the_feed_pages_by_cursor_and_filters_by_type_and_profile() {
    let app = TestApp::spawn().await;
    let a = create(&app, json!({ "firstName": "A" })).await;
    let b = create(&app, json!({ "firstName": "B" })).await;
    update(&app, &a, json!({ "lastName": "Z" })).await;
    app.data("mutation($id: UUID!) { deleteProfile(id: $id) { profile { id } } }", json!({ "id": b })).await;

    let first = feed(&app, "(first: 2)").await;
    assert_eq!(types(&first), ["profile.created", "profile.created"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    let after = first["pageInfo"]["endCursor"].as_str().expect("a cursor");
    let rest = feed(&app, &format!("(first: 2, after: \"{after}\")")).await;
    assert_eq!(types(&rest), ["profile.updated", "profile.deleted"]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    let end = rest["pageInfo"]["endCursor"].as_str().expect("a cursor");
    let empty = feed(&app, &format!("(after: \"{end}\")")).await;
    assert_eq!(types(&empty), Vec::<String>::new());

    let deletions = feed(&app, "(types: [\"profile.deleted\"])").await;
    assert_eq!(nodes(&deletions).iter().map(|n| n["profileId"].clone()).collect::<Vec<_>>(), [json!(b)]);
    let of_a = feed(&app, &format!("(profileId: \"{a}\")")).await;
    assert_eq!(types(&of_a), ["profile.created", "profile.updated"]);

    let history = app
        .data(
            "query($id: UUID!) { profile(id: $id) { history(first: 1) { nodes { type version } pageInfo { hasNextPage endCursor } } } }",
            json!({ "id": a }),
        )
        .await;
    let history = &history["profile"]["history"];
    assert_eq!(history["nodes"], json!([{ "type": "profile.created", "version": 1 }]));
    assert_eq!(history["pageInfo"]["hasNextPage"], true);

    for bad in ["(types: [\"profile.exploded\"])", "(after: \"bm90IGEgY3Vyc29y\")", "(first: 251)"] {
        let response = app.graphql(&format!("{{ events{bad} {{ nodes {{ id }} }} }}"), json!({})).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{bad}: {response}");
    }
}

#[tokio::test]
async fn histories_of_a_page_cost_one_statement_whatever_its_size() {
    let app = TestApp::spawn().await;
    for n in 0..12 {
        let id = create(&app, json!({ "firstName": format!("P{n}") })).await;
        update(&app, &id, json!({ "lastName": "L" })).await;
    }
    let mut costs = Vec::new();
    for size in [3, 12] {
        app.reset_statements();
        let page = app
            .data(
                &format!("{{ profiles(first: {size}) {{ nodes {{ history {{ nodes {{ type version }} }} }} }} }}"),
                json!({}),
            )
            .await;
        let nodes = page["profiles"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), size);
        for node in nodes {
            assert_eq!(
                node["history"]["nodes"],
                json!([{ "type": "profile.created", "version": 1 }, { "type": "profile.updated", "version": 2 }])
            );
        }
        costs.push(app.statements().len());
    }
    assert_eq!(costs[0], costs[1], "statements for 3 and for 12 profiles");
    assert_eq!(costs[0], 2, "the page and the histories");
}

#[tokio::test]
async fn deleting_a_tag_emits_one_update_per_holder_and_purge_carries_only_the_id() {
    let app = TestApp::spawn().await;
    let tag = app.data("mutation { createTag(input: { handle: \"t\", name: \"T\" }) { tag { id } } }", json!({})).await;
    let tag = tag["createTag"]["tag"]["id"].as_str().expect("an id").to_owned();
    let holders = [
        create(&app, json!({ "firstName": "A", "tags": ["t"] })).await,
        create(&app, json!({ "firstName": "B", "tags": ["t"] })).await,
    ];
    create(&app, json!({ "firstName": "C" })).await;
    let before = feed(&app, "").await["pageInfo"]["endCursor"].as_str().expect("a cursor").to_owned();
    app.data("mutation($id: ID!) { deleteTag(id: $id) { deletedId } }", json!({ "id": tag })).await;
    let after = feed(&app, &format!("(after: \"{before}\")")).await;
    let events = nodes(&after);
    let mut profiles: Vec<&str> = events.iter().map(|e| e["profileId"].as_str().expect("an id")).collect();
    profiles.sort();
    let mut want: Vec<&str> = holders.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(profiles, want);
    for event in &events {
        assert_eq!(event["type"], "profile.updated");
        assert_eq!(event["changed"], json!(["flattened_tags", "tags"]));
        assert_eq!(event["data"]["tags"], json!([]));
    }

    let purged = &holders[0];
    app.data("mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId } }", json!({ "id": purged })).await;
    let last = feed(&app, "(types: [\"profile.purged\"])").await;
    let [event] = nodes(&last).try_into().expect("one purge");
    assert_eq!(event["profileId"], purged.as_str());
    assert_eq!(event["data"], json!({ "id": purged }), "no personal data");
    assert_eq!(event["version"], 2, "the last version");
}

#[tokio::test]
async fn the_actor_is_the_token_that_made_the_change() {
    let app = TestApp::spawn_with(Options { auth_required: true, ..Options::default() }).await;
    let (row, secret) = token::create(&app.services, "bff", &[Scope::ProfilesWrite]).await.expect("a token");
    let (_, response) = app
        .graphql_as(
            Some(&secret),
            "mutation { createProfile(input: { firstName: \"T\" }) { profile { id } } }",
            json!({}),
        )
        .await;
    assert!(response.get("errors").is_none(), "{response}");
    let (_, response) =
        app.graphql_as(Some(&secret), &format!("{{ events {{ nodes {{ {EVENT} }} }} }}"), json!({})).await;
    let actor = &response["data"]["events"]["nodes"][0]["actor"];
    assert_eq!(actor, &json!({ "tokenId": row.id.to_string(), "tokenName": "bff" }));
}

/// Writers commit concurrently while a reader polls the feed with its cursor: the
/// reader ends up with every event, each once, in the order of `seq`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_reader_misses_no_event_of_concurrent_writers() {
    let app = TestApp::spawn().await;
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for n in 0..8 {
            ids.push(create(&app, json!({ "firstName": format!("W{n}") })).await);
        }
        ids
    };
    let writers = ids.iter().cloned().map(|id| {
        let app = &app;
        async move {
            for n in 0..8 {
                let payload = update(app, &id, json!({ "lastName": format!("L{n}") })).await;
                assert_eq!(user_errors(&payload), vec![]);
            }
        }
    });
    let expected = 8 + 8 * 8;
    // Told when events may have been committed (and looks again every second anyway).
    let mut wake = app.services.notifier.wakeups();
    let reader = async {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while seen.len() < expected && std::time::Instant::now() < deadline {
            let args = cursor.as_ref().map_or("(first: 5)".to_owned(), |c| format!("(first: 5, after: \"{c}\")"));
            let page = feed(&app, &args).await;
            let got = nodes(&page);
            if got.is_empty() {
                profiles_gateway::service::events::wakeup::wait(&mut wake, std::time::Duration::from_secs(1)).await;
            }
            seen.extend(got.iter().map(|n| n["id"].as_str().expect("an id").to_owned()));
            if let Some(end) = page["pageInfo"]["endCursor"].as_str() {
                cursor = Some(end.to_owned());
            }
        }
        seen
    };
    let (_, seen) = tokio::join!(futures_util::future::join_all(writers), reader);
    let all: Vec<String> =
        nodes(&feed(&app, "(first: 250)").await).iter().map(|n| n["id"].as_str().expect("an id").to_owned()).collect();
    assert_eq!(all.len(), expected);
    assert_eq!(seen, all, "the poller saw every event once, in commit order");
}

/// The feed never shows an event while one numbered before it is uncommitted: a write
/// that drew its number (under the shared commit-order lock) and has not committed
/// holds the feed back until it does (PostgreSQL; SQLite has one writer at a time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_waits_for_a_write_that_drew_an_earlier_number() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    if !crate::helpers::on_postgres() {
        eprintln!("SQLite serialises writers: nothing to wait for");
        return;
    }
    let app = TestApp::spawn().await;
    let slow = create(&app, json!({ "firstName": "Slow" })).await;
    let fast = create(&app, json!({ "firstName": "Fast" })).await;
    let start = feed(&app, "").await["pageInfo"]["endCursor"].as_str().expect("a cursor").to_owned();

    // A write in flight: it holds the lock as writers do, and has drawn its number.
    let in_flight = app.db.begin().await.expect("a transaction");
    in_flight.execute_unprepared("SELECT pg_advisory_xact_lock_shared(8102661165239002483)").await.expect("locked");
    in_flight
        .execute_unprepared(&format!(
            "INSERT INTO profile_event (id, type, profile_id, version, changed, data, occurred_at) \
             VALUES ('evt_in_flight', 'profile.updated', '{slow}', 2, '[]', '{{}}', now())"
        ))
        .await
        .expect("an event drawn");
    // A later write commits meanwhile.
    assert_eq!(user_errors(&update(&app, &fast, json!({ "lastName": "Later" })).await), vec![]);

    let after = format!("(after: \"{start}\")");
    let held = tokio::time::timeout(std::time::Duration::from_millis(500), feed(&app, &after)).await;
    assert!(held.is_err(), "the feed must wait, not show the later event alone: {held:?}");
    in_flight.commit().await.expect("committed");
    let page = feed(&app, &after).await;
    let order: Vec<(String, String)> = nodes(&page)
        .iter()
        .map(|n| {
            (n["id"].as_str().unwrap_or_default().to_owned(), n["profileId"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    assert_eq!(order.len(), 2, "{order:?}");
    assert_eq!(order[0], ("evt_in_flight".to_owned(), slow), "the earlier number first");
    assert_eq!(order[1].1, fast);
}
