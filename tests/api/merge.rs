//! Merging duplicate profiles (SPEC §9), through the API: every rule of the README's
//! table, the preview (the merge, rolled back), every error code, tombstones, the
//! event pair, a repeated merge, crossing merges, and a survivor's round trip through
//! export and import.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;

use entity::profile;
use profiles_gateway::bulk::{self, Format, ImportOptions};
use profiles_gateway::service::bulk::row::{DEFAULT_KEYS, Mode};
use profiles_gateway::service::events::delivery::Worker;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, on_postgres, user_errors};
use crate::webhooks::{Receiver, create_webhook, eventually, fast};

const SURVIVOR: &str = "id version title firstName lastName email mobilePhone gender company joinedAt \
    flattenedTags flattenedStatuses customAttributes mergedInto \
    address { addressLine1 } addresses { addressLine1 isDefault } \
    identities { handle identifier isPrimary mergedFrom } \
    attributes { comms { emailOptout smsBounced emailPromo } appearance { hairColour sizeShoe } dates { name date } }";

const FIELDS: &str = "fields { field customAttribute { namespace handle } value fromProfileId alternatives { profileId value } } \
    moves { addresses identities dates tags statuses }";

fn merge_query() -> String {
    format!(
        "mutation($i: MergeProfilesInput!) {{ mergeProfiles(input: $i) {{ profile {{ {SURVIVOR} }} \
         merge {{ id survivorId mergedIds mergedAt {FIELDS} released }} userErrors {{ field code message }} }} }}"
    )
}

fn preview_query() -> String {
    format!(
        "query($i: MergeProfilesInput!) {{ previewMerge(input: $i) {{ profile {{ {SURVIVOR} }} {FIELDS} \
         blockers {{ field code }} expectedVersions {{ id version }} }} }}"
    )
}

async fn create(app: &TestApp, input: Value) -> String {
    crate::helpers::create_profile(app, input).await
}

async fn merge(app: &TestApp, input: Value) -> Value {
    app.mutate("mergeProfiles", &merge_query(), json!({ "i": input })).await
}

async fn preview(app: &TestApp, input: Value) -> Value {
    app.data(&preview_query(), json!({ "i": input })).await["previewMerge"].clone()
}

fn errors(payload: &Value) -> Vec<(String, String)> {
    user_errors(payload)
}

fn pair(path: &str, code: &str) -> (String, String) {
    (path.to_owned(), code.to_owned())
}

async fn statuses(app: &TestApp, handles: &[&str]) {
    for handle in handles {
        app.data(
            "mutation($h: String!) { createStatus(input: { handle: $h, name: $h }) { status { id } } }",
            json!({ "h": handle }),
        )
        .await;
    }
}

fn address(line: &str, default: bool) -> Value {
    json!({ "addressLine1": line, "city": "Sydney", "postcode": "2000", "country": "AU", "isDefault": default })
}

/// The field choice of `field` in a preview or merge record.
fn field<'a>(fields: &'a Value, name: &str) -> &'a Value {
    fields.as_array().expect("fields").iter().find(|f| f["field"] == name).expect("the field is listed")
}

#[tokio::test]
async fn a_merge_applies_every_rule_of_the_table() {
    let app = TestApp::spawn().await;
    statuses(&app, &["vip", "staff"]).await;
    let s = create(
        &app,
        json!({
            "firstName": "Ann", "title": "Ms", "email": "ann@example.com", "joinedAt": "2020-01-01T00:00:00Z",
            "tags": ["a"], "statuses": ["vip"], "addresses": [address("1 Main St", true)],
            "identities": [{ "handle": "pos", "identifier": "1" }],
            "appearance": { "hairColour": "brown" }, "customAttributes": { "custom": { "colour": "red" } },
            "dates": [{ "date": "2000-01-01", "name": "Wedding" }]
        }),
    )
    .await;
    let d1 = create(
        &app,
        json!({
            "firstName": "Annie", "lastName": "Lee", "email": "ann.lee@example.com", "mobilePhone": "+61404000001",
            "joinedAt": "2019-01-01T00:00:00Z", "tags": ["b", "a"], "statuses": ["staff"],
            "addresses": [address("1 Main St", false), address("2 High St", true)],
            "identities": [{ "handle": "shopify", "identifier": "42", "isPrimary": true }],
            "comms": { "emailOptout": true, "emailPromo": true }, "appearance": { "sizeShoe": "9" },
            "customAttributes": { "custom": { "colour": "blue", "size": "M" } },
            "dates": [{ "date": "2000-01-01", "name": "Wedding" }, { "date": "2001-02-03", "name": "Graduation" }]
        }),
    )
    .await;
    let d2 = create(
        &app,
        json!({ "firstName": "A.", "gender": "FEMALE", "company": "Acme",
                "identities": [{ "handle": "pos", "identifier": "2", "isPrimary": true }] }),
    )
    .await;
    let input = json!({
        "survivorId": s, "duplicateIds": [d1, d2],
        "fieldSources": [
            { "field": "COMPANY", "profileId": s },
            { "field": "CUSTOM_ATTRIBUTE", "profileId": d1, "customAttribute": { "namespace": "custom", "handle": "colour" } }
        ]
    });
    let payload = merge(&app, input).await;
    assert_eq!(errors(&payload), vec![]);
    let p = &payload["profile"];
    // Scalars: the survivor's, else the first duplicate's with one, unless a source says.
    assert_eq!((p["firstName"].clone(), p["title"].clone()), (json!("Ann"), json!("Ms")));
    assert_eq!((p["lastName"].clone(), p["gender"].clone()), (json!("Lee"), json!("FEMALE")));
    assert_eq!(p["company"], Value::Null, "a source names the survivor's null company");
    assert_eq!((p["email"].clone(), p["mobilePhone"].clone()), (json!("ann@example.com"), json!("+61404000001")));
    assert!(p["joinedAt"].as_str().is_some_and(|at| at.starts_with("2019-01-01")), "the earliest: {p}");
    assert_eq!(p["version"], 2, "the survivor's version goes up by one");
    assert_eq!(p["mergedInto"], Value::Null);
    // Tags and statuses: the union.
    assert_eq!(p["flattenedTags"], json!(["a", "b"]));
    assert_eq!(p["flattenedStatuses"], json!(["staff", "vip"]));
    // Addresses: exact duplicates collapse; the survivor's default stays.
    assert_eq!(
        p["addresses"],
        json!([{ "addressLine1": "1 Main St", "isDefault": true }, { "addressLine1": "2 High St", "isDefault": false }])
    );
    assert_eq!(p["address"]["addressLine1"], "1 Main St");
    // Identities move with where they came from; the survivor had no primary, so the
    // first duplicate's is its primary.
    let identities: BTreeSet<String> = p["identities"]
        .as_array()
        .expect("identities")
        .iter()
        .map(|i| format!("{}:{} {} {}", i["handle"], i["identifier"], i["isPrimary"], i["mergedFrom"]))
        .collect();
    let expected: BTreeSet<String> = [
        "\"pos\":\"1\" false null".to_owned(),
        format!("\"shopify\":\"42\" true \"{d1}\""),
        format!("\"pos\":\"2\" false \"{d2}\""),
    ]
    .into_iter()
    .collect();
    assert_eq!(identities, expected);
    // Comms: opt-outs and bounces OR-ed, the rest the survivor's; appearance and custom
    // attributes key by key.
    assert_eq!(p["attributes"]["comms"], json!({ "emailOptout": true, "smsBounced": false, "emailPromo": false }));
    assert_eq!(p["attributes"]["appearance"], json!({ "hairColour": "brown", "sizeShoe": "9" }));
    assert_eq!(p["customAttributes"], json!({ "custom": { "colour": "blue", "size": "M" } }));
    // Dates: exact duplicates collapse.
    assert_eq!(p["attributes"]["dates"].as_array().map(Vec::len), Some(2));

    let record = &payload["merge"];
    assert_eq!(record["survivorId"], s.as_str());
    assert_eq!(record["mergedIds"], json!([d1, d2]));
    assert_eq!(record["moves"], json!({ "addresses": 1, "identities": 2, "dates": 1, "tags": 1, "statuses": 1 }));
    assert_eq!(record["released"], json!([{ "field": "email", "profileId": d1, "value": "ann.lee@example.com" }]));
    let company = field(&record["fields"], "COMPANY");
    assert_eq!((company["value"].clone(), company["fromProfileId"].clone()), (Value::Null, json!(s)));
    assert_eq!(company["alternatives"], json!([{ "profileId": d2, "value": "Acme" }]));
    let first = field(&record["fields"], "FIRST_NAME");
    assert_eq!(
        first["alternatives"],
        json!([{ "profileId": d1, "value": "Annie" }, { "profileId": d2, "value": "A." }])
    );
    let colour = record["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["customAttribute"] == json!({ "namespace": "custom", "handle": "colour" }))
        .expect("the attribute is listed");
    assert_eq!((colour["value"].clone(), colour["fromProfileId"].clone()), (json!("blue"), json!(d1)));

    // The released email is free; the kept phone is the survivor's.
    create(&app, json!({ "email": "ANN.LEE@example.com" })).await;
    let taken = app
        .mutate(
            "createProfile",
            "mutation { createProfile(input: { mobilePhone: \"0404 000 001\" }) { userErrors { field code } } }",
            json!({}),
        )
        .await;
    assert_eq!(errors(&taken), vec![pair("input.mobilePhone", "TAKEN")]);
    let merges = app.data("query($id: UUID!) { profile(id: $id) { merges { id } } }", json!({ "id": s })).await;
    assert_eq!(merges["profile"]["merges"], json!([{ "id": record["id"] }]));
}

#[tokio::test]
async fn a_default_address_source_moves_the_default_and_a_survivors_primary_stays() {
    let app = TestApp::spawn().await;
    let s = create(
        &app,
        json!({ "addresses": [address("1 Main St", true)],
                "identities": [{ "handle": "pos", "identifier": "1", "isPrimary": true }] }),
    )
    .await;
    let d = create(
        &app,
        json!({ "addresses": [address("2 High St", true)],
                "identities": [{ "handle": "shopify", "identifier": "9", "isPrimary": true }] }),
    )
    .await;
    let input = json!({ "survivorId": s, "duplicateIds": [d], "fieldSources": [{ "field": "DEFAULT_ADDRESS", "profileId": d }] });
    let payload = merge(&app, input).await;
    assert_eq!(errors(&payload), vec![]);
    let p = &payload["profile"];
    assert_eq!(p["address"]["addressLine1"], "2 High St");
    let primaries: Vec<&Value> =
        p["identities"].as_array().expect("identities").iter().filter(|i| i["isPrimary"] == true).collect();
    assert_eq!(primaries.len(), 1);
    assert_eq!(primaries[0]["identifier"], "1", "the survivor's primary stays");
}

#[tokio::test]
async fn a_tombstone_holds_no_tier_or_location_that_could_stay_in_use() {
    let app = TestApp::spawn().await;
    let tier = "mutation { createTier(input: { handle: \"gold\", name: \"Gold\" }) { tier { id } } }";
    let tier = app.data(tier, json!({})).await["createTier"]["tier"]["id"].clone();
    let location = "mutation { createLocation(input: { name: \"North\" }) { location { id } } }";
    let location = app.data(location, json!({})).await["createLocation"]["location"]["id"].clone();
    let s = create(&app, json!({ "firstName": "Sam" })).await;
    let d = create(&app, json!({ "tierHandle": "gold", "joinedLocationId": location })).await;
    // The survivor keeps its own (null) tier and location: a source names it.
    let sources = json!([{ "field": "TIER", "profileId": s }, { "field": "JOINED_LOCATION", "profileId": s }]);
    let payload = merge(&app, json!({ "survivorId": s, "duplicateIds": [d], "fieldSources": sources })).await;
    assert_eq!(errors(&payload), vec![]);
    let deleted = app
        .data(
            "mutation($t: ID!, $l: ID!) { deleteTier(id: $t) { userErrors { code } } \
               deleteLocation(id: $l) { userErrors { code } } }",
            json!({ "t": tier, "l": location }),
        )
        .await;
    assert_eq!(deleted["deleteTier"]["userErrors"], json!([]), "{deleted}");
    assert_eq!(deleted["deleteLocation"]["userErrors"], json!([]), "{deleted}");
}

#[tokio::test]
async fn the_preview_is_the_merge_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let s = create(&app, json!({ "firstName": "Sam", "tags": ["x"], "addresses": [address("1 Main St", true)] })).await;
    let d = create(
        &app,
        json!({ "lastName": "Dee", "email": "dee@example.com", "tags": ["y"], "addresses": [address("2 High St", true)],
                "customAttributes": { "custom": { "k": 1 } } }),
    )
    .await;
    let input = json!({ "survivorId": s, "duplicateIds": [d] });
    let before = app.row_counts().await;
    let previewed = preview(&app, input.clone()).await;
    assert_eq!(app.row_counts().await, before, "a preview writes nothing");
    assert_eq!(previewed["blockers"], json!([]));
    assert_eq!(previewed["expectedVersions"], json!([{ "id": s, "version": 1 }, { "id": d, "version": 1 }]));
    let unchanged = app.data("query($id: UUID!) { profile(id: $id) { id version } }", json!({ "id": d })).await;
    assert_eq!(unchanged["profile"], json!({ "id": d, "version": 1 }), "the duplicate is untouched");

    let with_versions =
        json!({ "survivorId": s, "duplicateIds": [d], "expectedVersions": previewed["expectedVersions"] });
    let merged = merge(&app, with_versions).await;
    assert_eq!(errors(&merged), vec![]);
    assert_eq!(merged["profile"], previewed["profile"], "the preview showed the survivor as the merge left it");
    assert_eq!(merged["merge"]["fields"], previewed["fields"]);
    assert_eq!(merged["merge"]["moves"], previewed["moves"]);
}

#[tokio::test]
async fn every_error_code_writes_nothing_and_the_preview_lists_it() {
    let app = TestApp::spawn().await;
    let s = create(&app, json!({ "firstName": "S" })).await;
    let d = create(&app, json!({ "firstName": "D" })).await;
    let gone = create(&app, json!({ "firstName": "Gone" })).await;
    let merged = create(&app, json!({ "firstName": "M" })).await;
    let other = create(&app, json!({ "firstName": "O" })).await;
    app.data("mutation($id: UUID!) { deleteProfile(id: $id) { profile { id } } }", json!({ "id": gone })).await;
    assert_eq!(errors(&merge(&app, json!({ "survivorId": other, "duplicateIds": [merged] })).await), vec![]);
    let unknown = uuid::Uuid::new_v4().to_string();
    let attribute = json!({ "namespace": "custom", "handle": "x" });
    let cases = [
        (json!({ "survivorId": unknown, "duplicateIds": [d] }), vec![pair("input.survivorId", "NOT_FOUND")]),
        (json!({ "survivorId": s, "duplicateIds": [unknown] }), vec![pair("input.duplicateIds.0", "NOT_FOUND")]),
        (json!({ "survivorId": s, "duplicateIds": [s] }), vec![pair("input.duplicateIds.0", "SAME_PROFILE")]),
        (json!({ "survivorId": s, "duplicateIds": [d, d] }), vec![pair("input.duplicateIds.1", "SAME_PROFILE")]),
        (json!({ "survivorId": s, "duplicateIds": [gone] }), vec![pair("input.duplicateIds.0", "PROFILE_DELETED")]),
        (json!({ "survivorId": gone, "duplicateIds": [d] }), vec![pair("input.survivorId", "PROFILE_DELETED")]),
        (json!({ "survivorId": s, "duplicateIds": [merged] }), vec![pair("input.duplicateIds.0", "ALREADY_MERGED")]),
        (json!({ "survivorId": merged, "duplicateIds": [d] }), vec![pair("input.survivorId", "ALREADY_MERGED")]),
        (json!({ "survivorId": s, "duplicateIds": [] }), vec![pair("input.duplicateIds", "TOO_MANY_DUPLICATES")]),
        (
            json!({ "survivorId": s, "duplicateIds": (0..5).map(|_| uuid::Uuid::new_v4().to_string()).collect::<Vec<_>>() }),
            vec![pair("input.duplicateIds", "TOO_MANY_DUPLICATES")],
        ),
        (
            json!({ "survivorId": s, "duplicateIds": [d], "expectedVersions": [{ "id": d, "version": 7 }] }),
            vec![pair("input.expectedVersions.0.version", "VERSION_CONFLICT")],
        ),
        (
            json!({ "survivorId": s, "duplicateIds": [d], "fieldSources": [{ "field": "TITLE", "profileId": other }] }),
            vec![pair("input.fieldSources.0.profileId", "FIELD_SOURCE_INVALID")],
        ),
        (
            json!({ "survivorId": s, "duplicateIds": [d], "fieldSources": [{ "field": "CUSTOM_ATTRIBUTE", "profileId": d }] }),
            vec![pair("input.fieldSources.0.customAttribute", "FIELD_SOURCE_INVALID")],
        ),
        (
            json!({ "survivorId": s, "duplicateIds": [d],
                    "fieldSources": [{ "field": "TITLE", "profileId": d, "customAttribute": attribute }] }),
            vec![pair("input.fieldSources.0.customAttribute", "FIELD_SOURCE_INVALID")],
        ),
        (
            json!({ "survivorId": s, "duplicateIds": [d], "fieldSources": [{ "field": "DEFAULT_ADDRESS", "profileId": d }] }),
            vec![pair("input.fieldSources.0.profileId", "FIELD_SOURCE_INVALID")],
        ),
    ];
    let before = app.row_counts().await;
    for (input, expected) in cases {
        let payload = merge(&app, input.clone()).await;
        assert_eq!(errors(&payload), expected, "{input}");
        assert!(payload["merge"].is_null() && payload["profile"].is_null(), "{input}");
        let previewed = preview(&app, input.clone()).await;
        let blockers: Vec<(String, String)> = user_errors(&json!({ "userErrors": previewed["blockers"] }));
        assert_eq!(blockers, expected, "the preview's blockers: {input}");
        assert!(previewed["profile"].is_null(), "{input}");
    }
    assert_eq!(app.row_counts().await, before, "no failed merge wrote anything");
}

#[tokio::test]
async fn a_tombstone_answers_with_its_survivor_and_every_mutation_on_it_is_already_merged() {
    let app = TestApp::spawn().await;
    let s = create(&app, json!({ "firstName": "Sam" })).await;
    let d = create(
        &app,
        json!({ "firstName": "Dee", "email": "dee@example.com", "mobilePhone": "+61404000002",
                "identities": [{ "handle": "pos", "identifier": "77", "isPrimary": true }] }),
    )
    .await;
    assert_eq!(errors(&merge(&app, json!({ "survivorId": s, "duplicateIds": [d] })).await), vec![]);

    // Reads: the id answers the survivor (one more statement, on the miss only); lists,
    // searches and keys never show the tombstone.
    app.reset_statements();
    let hit = app.data("query($id: UUID!) { profile(id: $id) { id firstName } }", json!({ "id": s })).await;
    assert_eq!(hit["profile"]["id"], s.as_str());
    assert_eq!(app.statements().len(), 1, "a hit is one statement: {:#?}", app.statements());
    app.reset_statements();
    let stale = app.data("query($id: UUID!) { profile(id: $id) { id firstName } }", json!({ "id": d })).await;
    assert_eq!(stale["profile"], json!({ "id": s, "firstName": "Sam" }));
    assert_eq!(app.statements().len(), 2, "a tombstone costs one more: {:#?}", app.statements());
    let lists = app
        .data(
            "{ all: profiles(first: 50) { totalCount nodes { id } } \
               search: profiles(search: \"dee\") { nodes { id } } \
               deleted: profiles(filter: { profileType: [DELETED] }) { nodes { id } } \
               byEmail: profileBy(key: { email: \"dee@example.com\" }) { id } \
               byPhone: profileBy(key: { mobilePhone: \"+61404000002\" }) { id } \
               byExternal: profileBy(key: { externalId: \"77\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(lists["all"], json!({ "totalCount": 1, "nodes": [{ "id": s }] }));
    assert_eq!(lists["search"]["nodes"], json!([{ "id": s }]), "the survivor took the email: {lists}");
    assert_eq!(lists["deleted"]["nodes"], json!([]), "a tombstone is no soft-deleted profile");
    assert_eq!((lists["byEmail"].clone(), lists["byPhone"].clone()), (json!({ "id": s }), json!({ "id": s })));
    assert_eq!(lists["byExternal"], json!({ "id": s }), "the identity moved");

    // Writes: ALREADY_MERGED, and the survivor is untouched.
    let before = app.row_counts().await;
    let survivor_version = || async {
        app.data("query($id: UUID!) { profile(id: $id) { version } }", json!({ "id": s })).await["profile"]["version"]
            .clone()
    };
    let version = survivor_version().await;
    let payload = "userErrors { field code }";
    let mutations = [
        (
            "updateProfile",
            format!("mutation($id: UUID!) {{ updateProfile(id: $id, input: {{ firstName: \"X\" }}) {{ {payload} }} }}"),
            "id",
        ),
        ("deleteProfile", format!("mutation($id: UUID!) {{ deleteProfile(id: $id) {{ {payload} }} }}"), "id"),
        ("restoreProfile", format!("mutation($id: UUID!) {{ restoreProfile(id: $id) {{ {payload} }} }}"), "id"),
        ("purgeProfile", format!("mutation($id: UUID!) {{ purgeProfile(id: $id) {{ {payload} }} }}"), "id"),
        (
            "createAddress",
            format!(
                "mutation($id: UUID!) {{ createAddress(profileId: $id, input: {{ addressLine1: \"1\", city: \"C\", postcode: \"1\", country: \"AU\" }}) {{ {payload} }} }}"
            ),
            "profileId",
        ),
        (
            "createProfileDate",
            format!(
                "mutation($id: UUID!) {{ createProfileDate(profileId: $id, input: {{ date: \"2000-01-01\" }}) {{ {payload} }} }}"
            ),
            "profileId",
        ),
        (
            "createIdentity",
            format!(
                "mutation($id: UUID!) {{ createIdentity(profileId: $id, input: {{ handle: \"h\", identifier: \"i\" }}) {{ {payload} }} }}"
            ),
            "profileId",
        ),
        (
            "addTags",
            format!("mutation($id: UUID!) {{ addTags(profileId: $id, handles: [\"t\"]) {{ {payload} }} }}"),
            "profileId",
        ),
        (
            "removeTags",
            format!("mutation($id: UUID!) {{ removeTags(profileId: $id, handles: [\"t\"]) {{ {payload} }} }}"),
            "profileId",
        ),
        (
            "updateComms",
            format!(
                "mutation($id: UUID!) {{ updateComms(profileId: $id, input: {{ emailPromo: true }}) {{ {payload} }} }}"
            ),
            "profileId",
        ),
        (
            "updateAppearance",
            format!(
                "mutation($id: UUID!) {{ updateAppearance(profileId: $id, input: {{ hairColour: \"x\" }}) {{ {payload} }} }}"
            ),
            "profileId",
        ),
        (
            "setCustomAttributes",
            format!(
                "mutation($id: UUID!) {{ setCustomAttributes(profileId: $id, attributes: [{{ namespace: \"a\", handle: \"b\", value: 1 }}]) {{ {payload} }} }}"
            ),
            "profileId",
        ),
    ];
    for (name, query, path) in mutations {
        let answer = app.mutate(name, &query, json!({ "id": d })).await;
        assert_eq!(errors(&answer), vec![pair(path, "ALREADY_MERGED")], "{name}");
    }
    let upserted = app
        .mutate(
            "importProfiles",
            "mutation($rows: [JSON!]!) { importProfiles(rows: $rows) { failed results { userErrors { field code } } } }",
            json!({ "rows": [{ "id": d, "first_name": "X" }] }),
        )
        .await;
    assert_eq!(upserted["failed"], 1);
    assert_eq!(upserted["results"][0]["userErrors"][0]["code"], "ALREADY_MERGED");
    assert_eq!(app.row_counts().await, before, "nothing was written");
    assert_eq!(survivor_version().await, version, "the survivor was never touched");
}

#[tokio::test]
async fn purging_the_survivor_purges_its_tombstones_and_merge_records_with_their_events() {
    let app = TestApp::spawn().await;
    let s = create(&app, json!({ "firstName": "Sam" })).await;
    let d = create(&app, json!({ "firstName": "Dee", "addresses": [address("2 High St", true)] })).await;
    let merged = merge(&app, json!({ "survivorId": s, "duplicateIds": [d] })).await;
    let record = merged["merge"]["id"].clone();
    let purged = app
        .mutate(
            "purgeProfile",
            "mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId userErrors { code } } }",
            json!({ "id": s }),
        )
        .await;
    assert_eq!(purged["purgedProfileId"], s.as_str());
    let after = app
        .data(
            "query($s: UUID!, $d: UUID!, $m: ID!) { s: profile(id: $s) { id } d: profile(id: $d) { id } \
               merge: profileMerge(id: $m) { id } \
               events(profileId: $d) { nodes { type data } } }",
            json!({ "s": s, "d": d, "m": record }),
        )
        .await;
    assert_eq!(
        (after["s"].clone(), after["d"].clone(), after["merge"].clone()),
        (Value::Null, Value::Null, Value::Null)
    );
    assert_eq!(after["events"]["nodes"], json!([{ "type": "profile.purged", "data": { "id": d } }]));
    let counts: Vec<(&str, i64)> =
        app.row_counts().await.into_iter().filter(|(table, _)| *table != "profile_event").collect();
    assert!(counts.iter().all(|(_, n)| *n == 0), "nothing of either profile is left: {counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_writes_the_event_pair_to_the_feed_and_to_webhooks() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(|_, _| (200, None)).await;
    create_webhook(&app, &receiver.url(), json!(["profile.merged", "profile.deleted"])).await;
    let worker = Worker::start(app.services.clone(), fast());
    let s = create(&app, json!({ "firstName": "Sam" })).await;
    let d = create(&app, json!({ "lastName": "Dee", "email": "dee@example.com" })).await;
    assert_eq!(errors(&merge(&app, json!({ "survivorId": s, "duplicateIds": [d] })).await), vec![]);

    let feed = app
        .data(
            "{ events(types: [\"profile.merged\", \"profile.deleted\"]) { nodes { type profileId version changed data } } }",
            json!({}),
        )
        .await;
    let nodes = feed["events"]["nodes"].as_array().expect("events").clone();
    assert_eq!(nodes.len(), 2, "{nodes:#?}");
    let merged = nodes.iter().find(|e| e["type"] == "profile.merged").expect("a merged event");
    assert_eq!((merged["profileId"].clone(), merged["version"].clone()), (json!(s), json!(2)));
    assert_eq!(merged["data"]["merged_from"], json!([d]));
    assert_eq!((merged["data"]["id"].clone(), merged["data"]["last_name"].clone()), (json!(s), json!("Dee")));
    let changed: Vec<&str> = merged["changed"].as_array().expect("changed").iter().filter_map(Value::as_str).collect();
    assert!(
        changed.contains(&"last_name") && changed.contains(&"email") && !changed.contains(&"first_name"),
        "{changed:?}"
    );
    let deleted = nodes.iter().find(|e| e["type"] == "profile.deleted").expect("a deleted event");
    assert_eq!(deleted["profileId"], d.as_str());
    assert_eq!(
        (deleted["data"]["deleted_reason"].clone(), deleted["data"]["merged_into"].clone()),
        (json!("merged"), json!(s))
    );
    assert_eq!(
        (deleted["data"]["email"].clone(), deleted["data"]["profile_type"].clone()),
        (Value::Null, json!("deleted"))
    );
    // Other events keep the context's keys alone.
    let created = app
        .data(
            "query($id: UUID!) { events(profileId: $id, types: [\"profile.created\"]) { nodes { data } } }",
            json!({ "id": s }),
        )
        .await;
    assert!(created["events"]["nodes"][0]["data"].get("merged_from").is_none());

    let mut arrivals = receiver.arrivals();
    eventually("both events are delivered", &mut arrivals, || async { receiver.received().len() >= 2 }).await;
    let mut types: Vec<String> =
        receiver.received().iter().map(|r| r.body["type"].as_str().unwrap_or_default().to_owned()).collect();
    types.sort();
    assert_eq!(types, ["profile.deleted", "profile.merged"]);
    worker.stop().await;
}

#[tokio::test]
async fn a_repeated_merge_returns_its_record_and_writes_nothing_even_with_stale_versions() {
    let app = TestApp::spawn().await;
    let s = create(&app, json!({ "firstName": "Sam" })).await;
    let d = create(&app, json!({ "firstName": "Dee" })).await;
    let input = json!({ "survivorId": s, "duplicateIds": [d], "expectedVersions": [{ "id": s, "version": 1 }, { "id": d, "version": 1 }] });
    let first = merge(&app, input.clone()).await;
    assert_eq!(errors(&first), vec![]);
    let before = app.row_counts().await;
    let again = merge(&app, input).await;
    assert_eq!(errors(&again), vec![]);
    assert_eq!(again["merge"], first["merge"]);
    assert_eq!(again["profile"]["version"], 2);
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_survivor_merged_later_takes_its_tombstones_along() {
    let app = TestApp::spawn().await;
    let a = create(&app, json!({ "firstName": "A" })).await;
    let b = create(&app, json!({ "firstName": "B" })).await;
    let c = create(&app, json!({ "firstName": "C" })).await;
    assert_eq!(errors(&merge(&app, json!({ "survivorId": b, "duplicateIds": [a] })).await), vec![]);
    assert_eq!(errors(&merge(&app, json!({ "survivorId": c, "duplicateIds": [b] })).await), vec![]);
    let stale = app.data("query($id: UUID!) { profile(id: $id) { id } }", json!({ "id": a })).await;
    assert_eq!(stale["profile"]["id"], c.as_str(), "A's tombstone names C now");
    let rows = profile::Entity::find().all(&app.db).await.expect("profiles");
    let into =
        |id: &str| rows.iter().find(|p| p.id.to_string() == id).and_then(|p| p.merged_into).map(|u| u.to_string());
    assert_eq!((into(&a), into(&b), into(&c)), (Some(c.clone()), Some(c.clone()), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crossing_merges_end_with_every_profile_live_or_a_tombstone_of_a_live_one() {
    if !on_postgres() {
        return; // SQLite runs one writer at a time: nothing crosses.
    }
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(create(&app, json!({ "firstName": format!("P{n}") })).await);
    }
    let merges = (0..8).map(|n| {
        let (app, survivor, duplicate) = (&app, ids[n].clone(), ids[(n + 1) % 8].clone());
        async move {
            app.graphql(
                "mutation($i: MergeProfilesInput!) { mergeProfiles(input: $i) { merge { id } userErrors { code } } }",
                json!({ "i": { "survivorId": survivor, "duplicateIds": [duplicate] } }),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(merges).await;
    for answer in &answers {
        // No INTERNAL, and no CONFLICT either: merges lock in one order, and wait.
        assert_eq!(error_codes(answer), Vec::<String>::new(), "{answer}");
        let refused = user_errors(&answer["data"]["mergeProfiles"]);
        assert!(refused.iter().all(|(_, code)| code == "ALREADY_MERGED"), "{answer}");
    }
    let rows = profile::Entity::find().all(&app.db).await.expect("profiles");
    let live = |id: uuid::Uuid| {
        rows.iter()
            .any(|p| p.id == id && p.merged_into.is_none() && p.profile_type != entity::enums::ProfileType::Deleted)
    };
    for row in &rows {
        match row.merged_into {
            None => assert!(live(row.id), "{row:?}"),
            Some(survivor) => assert!(live(survivor), "{row:?} is a tombstone of a live profile"),
        }
    }
    assert!(rows.iter().any(|p| p.merged_into.is_some()), "some merge landed: {answers:?}");
}

#[tokio::test]
async fn a_merged_survivor_round_trips_through_export_and_import() {
    let source = TestApp::spawn().await;
    let s = create(
        &source,
        json!({ "firstName": "Sam", "identities": [{ "handle": "pos", "identifier": "1" }], "addresses": [address("1 Main St", true)] }),
    )
    .await;
    let d = create(
        &source,
        json!({ "lastName": "Dee", "email": "dee@example.com", "tags": ["vip"],
                "identities": [{ "handle": "shopify", "identifier": "9", "isPrimary": true }], "addresses": [address("2 High St", true)] }),
    )
    .await;
    assert_eq!(errors(&merge(&source, json!({ "survivorId": s, "duplicateIds": [d] })).await), vec![]);
    let file = exported(&source).await;
    assert_eq!(file.lines().count(), 1, "the tombstone is not exported: {file}");
    assert!(!file.contains("merged_from"), "merged_from names a tombstone of this database only");

    let target = TestApp::spawn().await;
    let counts = import(&target, &file).await;
    assert_eq!((counts.created, counts.failed), (1, 0));
    assert_eq!(lines(&exported(&target).await), lines(&file));
}

async fn exported(app: &TestApp) -> String {
    let mut out = Vec::new();
    bulk::export(&app.services, Format::Ndjson, false, 500, &mut out).await.expect("the export runs");
    String::from_utf8(out).expect("UTF-8")
}

async fn import(app: &TestApp, text: &str) -> bulk::Counts {
    let options = ImportOptions {
        format: Format::Ndjson,
        mode: Mode::Upsert,
        keys: DEFAULT_KEYS.to_vec(),
        region: profiles_gateway::domain::phone::Region::default(),
        batch: bulk::IMPORT_BATCH,
    };
    let input = std::io::Cursor::new(text.as_bytes().to_vec());
    bulk::import(&app.services, input, &options, &mut Vec::new(), |_| {}, &AtomicBool::new(false))
        .await
        .expect("the import runs")
}

/// An export's lines without the databases' own integer ids.
fn lines(ndjson: &str) -> Vec<Value> {
    fn strip(value: Value) -> Value {
        match value {
            Value::Object(object) => Value::Object(
                object
                    .into_iter()
                    .filter(|(key, value)| !((key == "id" || key.ends_with("_id")) && value.is_number()))
                    .map(|(key, value)| (key, strip(value)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(strip).collect()),
            other => other,
        }
    }
    ndjson.lines().map(|line| strip(serde_json::from_str(line).expect("a JSON line"))).collect()
}

/// A survivor that kept an email without its key (it shared the key with an older
/// profile before keys existed) takes the key once the merge frees it: the address
/// is then found by any spelling and taken for a new profile.
#[tokio::test]
async fn a_survivor_without_its_email_key_takes_it_once_the_merge_frees_it() {
    let app = TestApp::spawn().await;
    let holder = create(&app, json!({ "email": "élise@example.com", "firstName": "Élise" })).await;
    let survivor = create(&app, json!({ "email": "survivor@example.com", "firstName": "Elise" })).await;
    // As the email key migration leaves the younger of two colliding rows.
    let old = profile::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(survivor.parse().expect("a uuid")),
        email: sea_orm::ActiveValue::Set(Some("ÉLISE@example.com".into())),
        email_key: sea_orm::ActiveValue::Set(None),
        email_base_key: sea_orm::ActiveValue::Set(None),
        ..Default::default()
    };
    profile::Entity::update(old).exec(&app.db).await.expect("the survivor without a key");

    let payload = merge(&app, json!({ "survivorId": survivor, "duplicateIds": [holder] })).await;
    assert_eq!(errors(&payload), vec![]);
    assert_eq!(payload["profile"]["email"], "ÉLISE@example.com", "the survivor's own spelling stays");
    let found = app.data("query { profileBy(key: { email: \"Élise@Example.com\" }) { id } }", json!({})).await;
    assert_eq!(found["profileBy"]["id"], survivor.as_str(), "found by another spelling");
    let taken = app
        .mutate(
            "createProfile",
            "mutation { createProfile(input: { email: \"élise@EXAMPLE.com\" }) { profile { id } userErrors { field code } } }",
            json!({}),
        )
        .await;
    assert_eq!(errors(&taken), vec![pair("input.email", "TAKEN")]);
}
