//! A nested page costs a constant number of SQL statements, whatever its size (SPEC §5).

use serde_json::json;

use crate::fixtures::{create, example_profile, reference_data};
use crate::helpers::TestApp;
use crate::profile_read::{ADDRESS_FRAGMENT, PROFILE_FIELDS};

/// One for the page, one per relation kind (addresses, dates, identities, tags,
/// statuses, comms, appearance, tiers, locations), one for `totalCount`.
const STATEMENTS: usize = 1 + 9 + 1;

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
async fn hundred_example_profiles() -> TestApp {
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
    create(&app, profiles).await;
    app
}

#[tokio::test]
async fn a_nested_page_costs_the_same_statements_for_10_and_100_profiles() {
    let app = hundred_example_profiles().await;
    let small = statements_for_page(&app, 10, json!(null), "").await;
    let large = statements_for_page(&app, 100, json!(null), "").await;

    assert_eq!(small.len(), large.len(), "10 profiles: {small:#?}\n100 profiles: {large:#?}");
    assert_eq!(large.len(), STATEMENTS, "{large:#?}");
}

#[tokio::test]
async fn a_filtered_searched_page_costs_the_same_statements_for_10_and_100_profiles() {
    let app = hundred_example_profiles().await;
    let filter = json!({ "tags": ["tag1"], "statuses": ["vip"], "hasEmail": true, "birthMonth": 1 });
    let small = statements_for_page(&app, 10, filter.clone(), "exam").await;
    let large = statements_for_page(&app, 100, filter, "exam").await;
    assert_eq!(small.len(), large.len(), "10 profiles: {small:#?}\n100 profiles: {large:#?}");
    assert_eq!(large.len(), STATEMENTS, "{large:#?}");
}
