//! `profiles`: keyset pagination forwards and backwards, and its argument errors.

use entity::profile;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{bare_profile, create, deleted, named_profile};
use crate::helpers::{TestApp, error_codes};

const PAGE: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  profiles(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

/// 25 visible profiles, pairs of them created in the same second (so `id` breaks the
/// tie), plus one deleted; returns the visible ids in list order.
async fn twenty_five(app: &TestApp) -> Vec<Uuid> {
    let mut rows: Vec<_> = (0..25).map(|n| named_profile(n / 2, "P", &n.to_string())).collect();
    rows.push(deleted(bare_profile(3)));
    let ids = create(app, rows).await;
    let mut visible: Vec<(i64, Uuid)> = ids[..25].iter().enumerate().map(|(n, id)| (n as i64 / 2, *id)).collect();
    visible.sort();
    visible.into_iter().map(|(_, id)| id).collect()
}

fn ids(page: &Value) -> Vec<Uuid> {
    page["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().expect("id").parse().expect("uuid"))
        .collect()
}

async fn page(app: &TestApp, variables: Value) -> Value {
    app.data(PAGE, variables).await["profiles"].clone()
}

#[tokio::test]
async fn walking_forwards_visits_every_profile_once_in_order() {
    let app = TestApp::spawn().await;
    let expected = twenty_five(&app).await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut flags = Vec::new();
    loop {
        let page = page(&app, json!({ "first": 10, "after": after })).await;
        assert_eq!(page["totalCount"], 25, "the deleted profile is not counted");
        let edge_ids: Vec<&Value> = page["edges"].as_array().expect("edges").iter().map(|e| &e["node"]["id"]).collect();
        let node_ids: Vec<&Value> = page["nodes"].as_array().expect("nodes").iter().map(|n| &n["id"]).collect();
        assert_eq!(edge_ids, node_ids, "edges and nodes agree");
        assert_eq!(page["pageInfo"]["endCursor"], page["edges"][9.min(edge_ids.len().max(1) - 1)]["cursor"]);
        seen.extend(ids(&page));
        let info = &page["pageInfo"];
        flags.push((info["hasPreviousPage"].clone(), info["hasNextPage"].clone()));
        if info["hasNextPage"] != json!(true) {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen, expected);
    assert_eq!(flags, vec![(json!(false), json!(true)), (json!(true), json!(true)), (json!(true), json!(false))]);
}

#[tokio::test]
async fn walking_backwards_visits_every_profile_once_in_order() {
    let app = TestApp::spawn().await;
    let expected = twenty_five(&app).await;
    let mut pages = Vec::new();
    let mut before = Value::Null;
    loop {
        let page = page(&app, json!({ "last": 10, "before": before })).await;
        let info = page["pageInfo"].clone();
        pages.push(ids(&page));
        if info["hasPreviousPage"] != json!(true) {
            assert_eq!(info["hasNextPage"], json!(true), "the first page, reached from its end");
            break;
        }
        before = info["startCursor"].clone();
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 10, 5]);
    let seen: Vec<Uuid> = pages.into_iter().rev().flatten().collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_cursor_stays_valid_when_rows_are_inserted_and_deleted() {
    let app = TestApp::spawn().await;
    let expected = twenty_five(&app).await;
    let first = page(&app, json!({ "first": 10 })).await;
    let cursor = first["pageInfo"]["endCursor"].clone();

    // A profile created before all others, and the profile the cursor points at purged.
    create(&app, vec![named_profile(-100, "Early", "Bird")]).await;
    profile::Entity::delete_by_id(expected[9]).exec(&app.db).await.expect("delete a row");

    let next = page(&app, json!({ "first": 10, "after": cursor })).await;
    assert_eq!(ids(&next), expected[10..20].to_vec());
    let back = page(&app, json!({ "last": 3, "before": next["pageInfo"]["startCursor"] })).await;
    assert_eq!(ids(&back), expected[6..9].to_vec());
}

#[tokio::test]
async fn page_sizes_default_to_twenty_and_zero_is_allowed() {
    let app = TestApp::spawn().await;
    twenty_five(&app).await;
    assert_eq!(ids(&page(&app, json!({})).await).len(), 20);
    let empty = page(&app, json!({ "first": 0 })).await;
    assert_eq!(empty["edges"], json!([]));
    assert_eq!(empty["pageInfo"]["hasNextPage"], json!(true));
    assert_eq!(empty["pageInfo"]["endCursor"], Value::Null);
}

#[tokio::test]
async fn bad_page_arguments_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let cases = [
        ("first over 250", json!({ "first": 251 })),
        ("negative first", json!({ "first": -1 })),
        ("last over 250", json!({ "last": 251 })),
        ("first and last", json!({ "first": 1, "last": 1 })),
        ("garbage cursor", json!({ "after": "not a cursor" })),
        ("base64 of non-JSON", json!({ "before": "bm90IGpzb24" })),
        (
            "cursor of another order",
            json!({ "after": "eyJvIjoiZW1haWwiLCJ2IjoiYSIsImlkIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIn0" }),
        ),
    ];
    for (case, variables) in cases {
        let response = app.graphql(PAGE, variables).await;
        assert_eq!(error_codes(&response), vec!["BAD_USER_INPUT"], "{case}: {response}");
        assert_eq!(response["data"], Value::Null, "{case}");
    }
}
