//! Planned reads: one SQL statement per root field, whatever the page size
//! and whatever relations are selected, plus one for `totalCount` when selected; the
//! plan follows fragments, aliases, `@skip`/`@include` and variables, and gives the
//! same answer as the loaders.

use serde_json::json;

use crate::fixtures::{create, example_profile, named_profile, reference_data};
use crate::helpers::TestApp;
use crate::profile_read::{ADDRESS_FRAGMENT, PROFILE_FIELDS};

async fn statements_for_page(app: &TestApp, size: usize, filter: serde_json::Value, search: &str) -> Vec<String> {
    let query = format!(
        "query($first: Int, $filter: ProfileFilter, $search: String) {{
           profiles(first: $first, filter: $filter, search: $search) {{ totalCount edges {{ cursor node {{ {PROFILE_FIELDS} }} }} }}
         }} {ADDRESS_FRAGMENT}"
    );
    app.reset_statements();
    let data = app.data(&query, json!({ "first": size, "filter": filter, "search": search })).await;
    let statements = app.statements();
    let edges = data["profiles"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), size);
    assert!(
        edges.iter().all(|e| e["node"]["addresses"].as_array().map(Vec::len) == Some(2)
            && e["node"]["flattenedTags"] == json!(["tag-two", "tag1"])
            && e["node"]["attributes"]["comms"]["emailPromo"] == json!(true)
            && e["node"]["joinedLocation"]["externalId"] == json!("STORE-001")),
        "every profile came with its relations"
    );
    statements
}

/// 100 profiles like the reference's example, each with every relation.
async fn hundred_example_profiles() -> (TestApp, Vec<uuid::Uuid>) {
    let app = TestApp::spawn().await;
    let reference = reference_data(&app).await;
    let profiles = (0..100)
        .map(|n| {
            let mut new = example_profile(&reference);
            new.profile.id = uuid::Uuid::new_v4();
            new.profile.email = Some(format!("user{n}@example.com"));
            new.profile.mobile_phone = Some(format!("+614041{n:05}"));
            new.profile.created_at += chrono::Duration::seconds(n);
            for identity in &mut new.identities {
                let identifier = format!("{}-{n}", identity.identifier.as_ref());
                identity.identifier = sea_orm::ActiveValue::Set(identifier);
            }
            new
        })
        .collect();
    let ids = create(&app, profiles).await;
    (app, ids)
}

#[tokio::test]
async fn a_page_with_every_relation_is_one_statement_and_total_count_another_for_10_and_100_profiles() {
    let (app, _) = hundred_example_profiles().await;
    let small = statements_for_page(&app, 10, json!(null), "").await;
    let large = statements_for_page(&app, 100, json!(null), "").await;

    assert_eq!(small.len(), 2, "10 profiles: {small:#?}");
    assert_eq!(large.len(), 2, "100 profiles: {large:#?}");
    assert!(large.iter().any(|s| s.to_lowercase().contains("count(")), "{large:#?}");
}

#[tokio::test]
async fn a_filtered_searched_page_is_one_statement_plus_total_count_for_10_and_100_profiles() {
    let (app, _) = hundred_example_profiles().await;
    let filter = json!({ "tags": ["tag1"], "statuses": ["vip"], "hasEmail": true, "birthMonth": 1 });
    let small = statements_for_page(&app, 10, filter.clone(), "exam").await;
    let large = statements_for_page(&app, 100, filter, "exam").await;
    assert_eq!((small.len(), large.len()), (2, 2), "10 profiles: {small:#?}\n100 profiles: {large:#?}");
}

#[tokio::test]
async fn one_profile_with_every_relation_is_one_statement_by_id_and_by_key() {
    let (app, ids) = hundred_example_profiles().await;
    app.reset_statements();
    let query = format!(
        "query($id: UUID!) {{ profile(id: $id) {{ {PROFILE_FIELDS} }}
           byEmail: profileBy(key: {{ email: \"USER7@example.com\" }}) {{ {PROFILE_FIELDS} }} }} {ADDRESS_FRAGMENT}"
    );
    let data = app.data(&query, json!({ "id": ids[3] })).await;
    let statements = app.statements();
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert_eq!(data["profile"]["email"], json!("user3@example.com"));
    assert_eq!(data["byEmail"]["email"], json!("user7@example.com"));
    assert_eq!(data["byEmail"]["flattenedStatuses"], data["profile"]["flattenedStatuses"]);
}

/// The read a mutation's payload makes goes through the loaders; the same fields read
/// by `profile` go through the plan: both must give the same answer.
#[tokio::test]
async fn the_planned_read_answers_as_the_loaders_do() {
    let (app, ids) = hundred_example_profiles().await;
    let mutation = format!(
        "mutation($id: UUID!) {{ updateProfile(id: $id, input: {{ company: \"Acme\" }}) {{
           profile {{ {PROFILE_FIELDS} }} userErrors {{ code }} }} }} {ADDRESS_FRAGMENT}"
    );
    let loaded = app.data(&mutation, json!({ "id": ids[0] })).await["updateProfile"]["profile"].clone();
    let query = format!("query($id: UUID!) {{ profile(id: $id) {{ {PROFILE_FIELDS} }} }} {ADDRESS_FRAGMENT}");
    let planned = app.data(&query, json!({ "id": ids[0] })).await["profile"].clone();
    assert_eq!(loaded["company"], json!("Acme"));
    assert_eq!(planned, loaded);
}

#[tokio::test]
async fn fragments_aliases_and_directives_plan_what_runs() {
    let (app, ids) = hundred_example_profiles().await;
    let query = "
      query($a: UUID!, $b: UUID!, $withTags: Boolean!, $noComms: Boolean!) {
        first: profile(id: $a) { ...Names tags @include(if: $withTags) { handle } }
        second: profile(id: $b) {
          id
          ... on Profile { attributes { comms @skip(if: $noComms) { smsPromo } dates { name } } }
          contact: email
          phone: mobilePhoneE164
        }
        page: profiles(first: 3) { nodes { ...Names } edges { node { addresses { city } } } }
        other: profiles(first: 1, orderBy: { field: CREATED_AT, direction: DESC }) { nodes { email } }
      }
      fragment Names on Profile { firstName fullName isCompleted flattenedStatuses }";
    for (with_tags, no_comms) in [(true, false), (false, true)] {
        app.reset_statements();
        let variables = json!({ "a": ids[0], "b": ids[1], "withTags": with_tags, "noComms": no_comms });
        let data = app.data(query, variables).await;
        let statements = app.statements();
        assert_eq!(statements.len(), 4, "one per root field: {statements:#?}");

        let first = &data["first"];
        assert_eq!(first["fullName"], json!("Example User"));
        assert_eq!(first["isCompleted"], json!(true));
        assert_eq!(first["flattenedStatuses"], json!(["staff", "vip"]));
        assert_eq!(
            first["tags"],
            if with_tags { json!([{ "handle": "tag-two" }, { "handle": "tag1" }]) } else { json!(null) }
        );
        // Root fields run concurrently: find each one's statement by its id.
        let of = |id: uuid::Uuid| statements.iter().find(|s| s.contains(&id.to_string())).expect("a statement");
        let reads_tags = of(ids[0]).contains("profile_tag");
        assert_eq!(reads_tags, with_tags, "tags are fetched only when included: {}", of(ids[0]));

        let second = &data["second"];
        assert_eq!(second["contact"], json!("user1@example.com"));
        assert_eq!(second["phone"], json!("+61404100001"));
        assert_eq!(second["attributes"]["dates"].as_array().map(Vec::len), Some(1));
        assert_eq!(second["attributes"]["comms"], if no_comms { json!(null) } else { json!({ "smsPromo": false }) });
        assert_eq!(of(ids[1]).contains("comms"), !no_comms, "{}", of(ids[1]));

        let page = &data["page"];
        assert_eq!(page["nodes"].as_array().map(Vec::len), Some(3));
        assert!(page["nodes"].as_array().into_iter().flatten().all(|n| n["fullName"] == json!("Example User")));
        assert!(
            page["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|e| e["node"]["addresses"].as_array().map(Vec::len) == Some(2))
        );
        assert_eq!(data["other"]["nodes"][0]["email"], json!("user99@example.com"));
    }
}

#[tokio::test]
async fn only_the_selected_columns_are_read() {
    let (app, ids) = hundred_example_profiles().await;
    app.reset_statements();
    let data =
        app.data("query($id: UUID!) { profile(id: $id) { firstName tier { name } } }", json!({ "id": ids[0] })).await;
    assert_eq!(data["profile"], json!({ "firstName": "Example", "tier": { "name": "Gold" } }));
    let statements = app.statements();
    assert_eq!(statements.len(), 1, "{statements:#?}");
    let sql = &statements[0];
    for column in ["first_name", "\"name\""] {
        assert!(sql.contains(column), "{column} is read: {sql}");
    }
    for column in ["last_name", "email", "custom_attributes", "\"rank\"", "address"] {
        assert!(!sql.contains(column), "{column} is not read: {sql}");
    }
}

/// Orders with a segment for profiles without the value read each segment the page
/// reaches with one statement.
#[tokio::test]
async fn a_page_across_the_unnamed_segment_is_one_statement_per_segment() {
    let app = TestApp::spawn().await;
    let mut profiles = vec![named_profile(1, "Ann", "A"), named_profile(2, "Bob", "B")];
    let mut unnamed = named_profile(3, "x", "C");
    unnamed.profile.first_name = None;
    profiles.push(unnamed);
    create(&app, profiles).await;
    let query =
        "{ profiles(first: 3, orderBy: { field: FIRST_NAME }) { nodes { firstName lastName tags { handle } } } }";
    app.reset_statements();
    let data = app.data(query, json!({})).await;
    assert_eq!(
        data["profiles"]["nodes"],
        json!([
            { "firstName": "Ann", "lastName": "A", "tags": [] },
            { "firstName": "Bob", "lastName": "B", "tags": [] },
            { "firstName": null, "lastName": "C", "tags": [] }
        ])
    );
    assert_eq!(app.statements().len(), 2, "{:#?}", app.statements());
    app.reset_statements();
    // A page reads one row more than it returns, to know whether another follows.
    let data =
        app.data("{ profiles(first: 1, orderBy: { field: FIRST_NAME }) { nodes { firstName } } }", json!({})).await;
    assert_eq!(data["profiles"]["nodes"], json!([{ "firstName": "Ann" }]));
    assert_eq!(app.statements().len(), 1, "{:#?}", app.statements());
}
