//! Object identity (SPEC §10): every record type implements `Node`, is refetched by
//! its global id with `node` and `nodes` (one statement per type), has a stable `id`,
//! and keeps its scopes; what is deleted or merged away is null.

use profiles_gateway::auth::Scope;
use profiles_gateway::service::token;
use serde_json::{Value, json};

use crate::fixtures::{create, example_profile, reference_data};
use crate::helpers::{Options, TestApp, create_profile, error_codes, user_errors};

/// Every record type's `id` and `nodeId`, as a profile's reads and the webhooks'
/// show them.
const EVERYTHING: &str = "query($id: UUID!) {
  profile(id: $id) {
    id nodeId
    addresses { id nodeId }
    identities { id nodeId }
    tags { id nodeId }
    statuses { id nodeId }
    tier { id nodeId }
    joinedLocation { id nodeId }
    attributes { comms { id nodeId } appearance { id nodeId } dates { id nodeId } }
    history(first: 5) { nodes { id nodeId } }
    merges { id nodeId }
  }
  webhooks { id nodeId deliveries(first: 5) { nodes { id nodeId } } }
}";

/// Every object with a `nodeId` in `value`, with its `id`: (nodeId, id) pairs.
fn identified(value: &Value, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(object) => {
            if let (Some(Value::String(node_id)), Some(id)) = (object.get("nodeId"), object.get("id")) {
                let id = id.as_str().map_or_else(|| id.to_string(), str::to_owned);
                found.push((node_id.clone(), id));
            }
            object.values().for_each(|inner| identified(inner, found));
        }
        Value::Array(items) => items.iter().for_each(|inner| identified(inner, found)),
        _ => {}
    }
}

/// A profile with every relation, a second merged into it, an update and its delivery
/// to a webhook: one record of each of the fourteen types.
async fn one_of_each(app: &TestApp) -> (String, Value) {
    let reference = reference_data(app).await;
    let id = create(app, vec![example_profile(&reference)]).await[0].to_string();
    let webhook = app
        .mutate(
            "createWebhook",
            "mutation { createWebhook(input: { url: \"https://example.com/hook\", events: [\"*\"] }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(user_errors(&webhook), vec![]);
    let duplicate = create_profile(app, json!({ "firstName": "Dup" })).await;
    let merged = app
        .mutate(
            "mergeProfiles",
            "mutation($i: MergeProfilesInput!) { mergeProfiles(input: $i) { userErrors { code } } }",
            json!({ "i": { "survivorId": id, "duplicateIds": [duplicate] } }),
        )
        .await;
    assert_eq!(user_errors(&merged), vec![]);
    let everything = app.data(EVERYTHING, json!({ "id": id })).await;
    (id, everything)
}

#[tokio::test]
async fn every_record_type_is_a_node_refetched_in_one_statement_per_type() {
    let app = TestApp::spawn().await;
    let (profile_id, everything) = one_of_each(&app).await;
    let mut records = Vec::new();
    identified(&everything, &mut records);
    let types: std::collections::BTreeSet<String> = records
        .iter()
        .map(|(node_id, _)| {
            let decoded = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, node_id)
                .expect("a global id is URL-safe base64");
            String::from_utf8(decoded).expect("text").split(':').next().expect("a type").to_owned()
        })
        .collect();
    assert_eq!(types.len(), 14, "one record of each type: {types:?}");

    // Comms and appearance take their profile's id.
    let attributes = &everything["profile"]["attributes"];
    assert_eq!(attributes["comms"]["id"], profile_id.as_str());
    assert_eq!(attributes["appearance"]["id"], profile_id.as_str());

    // `nodes` answers each in order, as what it is, one statement per type.
    let ids: Vec<&str> = records.iter().map(|(node_id, _)| node_id.as_str()).collect();
    let query = "query($ids: [ID!]!) { nodes(nodeIds: $ids) { __typename nodeId
        ... on Profile { id firstName } ... on Address { id city } ... on Identity { id } ... on ProfileDate { id }
        ... on Tag { id } ... on Status { id } ... on Tier { id } ... on Location { id } ... on Comms { id }
        ... on Appearance { id } ... on Webhook { id } ... on WebhookDelivery { id } ... on Event { id }
        ... on ProfileMerge { id } } }";
    app.reset_statements();
    let answer = app.data(query, json!({ "ids": ids })).await;
    let statements = app.statements();
    assert_eq!(statements.len(), 14, "one statement per type: {statements:#?}");
    let nodes = answer["nodes"].as_array().expect("a list");
    assert_eq!(nodes.len(), records.len());
    for (node, (node_id, id)) in nodes.iter().zip(&records) {
        assert_eq!(node["nodeId"], node_id.as_str(), "{node}");
        let answered = node["id"].as_str().map_or_else(|| node["id"].to_string(), str::to_owned);
        assert_eq!(&answered, id, "{node}");
    }
    assert_eq!(nodes[0]["firstName"], "Example");

    // `node` answers each one alone, the same.
    for (node_id, id) in &records {
        let one =
            app.data("query($id: ID!) { node(nodeId: $id) { __typename nodeId } }", json!({ "id": node_id })).await;
        assert_eq!(one["node"]["nodeId"], node_id.as_str(), "{id}");
    }
}

#[tokio::test]
async fn a_page_of_nodes_costs_the_same_statements_as_one() {
    let app = TestApp::spawn().await;
    let query =
        "query($ids: [ID!]!) { nodes(nodeIds: $ids) { nodeId ... on Profile { firstName addresses { city } } } }";
    let mut counts = Vec::new();
    for size in [1, 40] {
        let mut ids = Vec::new();
        for n in 0..size {
            let id = create_profile(&app, json!({ "firstName": format!("P{n}") })).await;
            ids.push(app.data("query($id: UUID!) { profile(id: $id) { nodeId } }", json!({ "id": id })).await);
        }
        let ids: Vec<&Value> = ids.iter().map(|answer| &answer["profile"]["nodeId"]).collect();
        app.reset_statements();
        let answer = app.data(query, json!({ "ids": ids })).await;
        assert_eq!(answer["nodes"].as_array().expect("a list").len(), size);
        assert!(answer["nodes"].as_array().expect("a list").iter().all(|node| node["firstName"].is_string()));
        counts.push(app.statements().len());
    }
    assert_eq!(counts, vec![1, 1], "a profile's relations are planned into its one statement");
}

#[tokio::test]
async fn what_is_deleted_merged_away_unknown_or_out_of_scope_is_null_or_refused() {
    let app = TestApp::spawn_with(Options { auth_required: true, ..Options::default() }).await;
    let admin = token::create(&app.services, "admin", &[Scope::Admin]).await.expect("a token").1;
    let read = token::create(&app.services, "reader", &[Scope::ProfilesRead]).await.expect("a token").1;
    let as_admin = |query: &'static str, variables: Value| {
        let app = &app;
        let admin = admin.clone();
        async move { app.graphql_as(Some(&admin), query, variables).await.1 }
    };
    let create = "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id nodeId \
                  addresses { nodeId } attributes { comms { nodeId } } } } }";
    let mut made = Vec::new();
    for name in ["Kept", "Deleted", "Merged"] {
        let input = json!({ "firstName": name, "addresses": [{ "addressLine1": "1 Main St", "city": "Melbourne", "postcode": "3000", "country": "AU" }] });
        made.push(as_admin(create, json!({ "i": input })).await["data"]["createProfile"]["profile"].clone());
    }
    let deleted = as_admin(
        "mutation($id: UUID!) { deleteProfile(id: $id) { userErrors { code } } }",
        json!({ "id": made[1]["id"] }),
    )
    .await;
    assert_eq!(error_codes(&deleted), Vec::<String>::new(), "{deleted}");
    let merged = as_admin(
        "mutation($i: MergeProfilesInput!) { mergeProfiles(input: $i) { userErrors { code } } }",
        json!({ "i": { "survivorId": made[0]["id"], "duplicateIds": [made[2]["id"]] } }),
    )
    .await;
    assert_eq!(error_codes(&merged), Vec::<String>::new(), "{merged}");
    let webhook = as_admin(
        "mutation { createWebhook(input: { url: \"https://example.com/hook\", events: [\"*\"] }) { webhook { nodeId } } }",
        json!({}),
    )
    .await["data"]["createWebhook"]["webhook"]["nodeId"]
        .clone();

    let ids = json!([
        made[0]["nodeId"],
        made[1]["nodeId"],
        made[1]["addresses"][0]["nodeId"],
        made[1]["attributes"]["comms"]["nodeId"],
        made[2]["nodeId"],
        made[2]["addresses"][0]["nodeId"],
        "bm90IG9uZSBvZiBvdXJz",
        "not base64 at all",
        made[0]["nodeId"],
    ]);
    let query = "query($ids: [ID!]!) { nodes(nodeIds: $ids) { nodeId } }";
    let (_, answer) = app.graphql_as(Some(&read), query, json!({ "ids": ids })).await;
    let kept = json!({ "nodeId": made[0]["nodeId"] });
    assert_eq!(answer["data"]["nodes"], json!([kept, null, null, null, null, null, null, null, kept]), "{answer}");

    // Webhooks are the admin scope's: refused to a reader, answered to an admin.
    let (_, refused) = app.graphql_as(Some(&read), query, json!({ "ids": [made[0]["nodeId"], webhook] })).await;
    assert_eq!(error_codes(&refused), vec!["FORBIDDEN"]);
    let (_, allowed) = app.graphql_as(Some(&admin), query, json!({ "ids": [webhook] })).await;
    assert_eq!(allowed["data"]["nodes"][0]["nodeId"], webhook);

    // At most 100 at once; no token, no answer.
    let many: Vec<&Value> = std::iter::repeat_n(&made[0]["nodeId"], 101).collect();
    let (_, too_many) = app.graphql_as(Some(&read), query, json!({ "ids": many })).await;
    assert_eq!(error_codes(&too_many), vec!["BAD_USER_INPUT"]);
    let (status, _) = app.graphql_as(None, query, json!({ "ids": [made[0]["nodeId"]] })).await;
    assert_eq!(status, axum::http::StatusCode::UNAUTHORIZED);
}
