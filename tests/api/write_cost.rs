//! What a write costs the database: on PostgreSQL `updateProfile` of a profile's own
//! columns and `deleteProfile` are one statement in autocommit each, the event and its
//! deliveries included. Through the write seam (SQLite, the other changes, and those
//! two with `PROFILES_ONE_STATEMENT_WRITES=off`) a write reads and locks the profile
//! with all its context holds, changes its row, and writes the event with its
//! deliveries, between BEGIN and COMMIT; the first change after a profile's creation
//! settles its created event with one more. A webhook another process created counts at the very
//! next write: no list of webhooks is kept.

use entity::{webhook, webhook_delivery};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, on_postgres};

const UPDATE: &str = "mutation($id: UUID!, $name: String) {
  updateProfile(id: $id, input: { firstName: $name }) { profile { id firstName version } userErrors { code } }
}";

async fn created(app: &TestApp, email: &str) -> Uuid {
    let payload = app
        .mutate(
            "createProfile",
            "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id } userErrors { code } } }",
            json!({ "i": { "email": email, "firstName": "Ada", "tags": ["vip"], "addresses": [
                { "addressLine1": "1 Main St", "city": "Sydney", "postcode": "2000", "country": "AU", "isDefault": true }
            ] } }),
        )
        .await;
    payload["profile"]["id"].as_str().and_then(|id| id.parse().ok()).expect("a profile")
}

/// The statements `query` costs, the wake-up sent after commits left out (it is sent
/// once per burst of commits, not per write).
async fn statements_of(app: &TestApp, query: &str, variables: Value) -> (Value, Vec<String>) {
    app.reset_statements();
    let data = app.data(query, variables).await;
    let statements = app.statements().into_iter().filter(|s| !s.starts_with("NOTIFY")).collect();
    (data, statements)
}

/// An active webhook for every type, written as another process would write it.
async fn webhook_of_another_process(app: &TestApp) -> Uuid {
    let id = Uuid::new_v4();
    let now = chrono::Utc::now();
    webhook::ActiveModel {
        id: Set(id),
        url: Set("https://hooks.example.com/profiles".into()),
        events: Set(json!(["*"])),
        description: Set(None),
        is_active: Set(true),
        secret: Set(format!("whsec_{}", "A".repeat(32))),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .expect("a webhook row");
    id
}

async fn deliveries_to(app: &TestApp, webhook: Uuid) -> u64 {
    webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(webhook))
        .count(&app.db)
        .await
        .expect("deliveries")
}

#[tokio::test]
async fn an_update_is_one_statement_on_postgres_with_its_event_and_deliveries() {
    let app = TestApp::spawn().await;
    let id = created(&app, "cost@example.com").await;
    // The first change settles the created event: in the same statement on PostgreSQL,
    // one statement more on SQLite.
    let (_, first) = statements_of(&app, UPDATE, json!({ "id": id, "name": "Bea" })).await;
    let (data, second) = statements_of(&app, UPDATE, json!({ "id": id, "name": "Cleo" })).await;
    assert_eq!(data["updateProfile"]["profile"]["firstName"], "Cleo");
    assert_eq!(data["updateProfile"]["profile"]["version"], 3);
    // PostgreSQL: one statement in autocommit (no BEGIN, no COMMIT) locks, changes,
    // writes the event and queues its deliveries. SQLite, where a statement is no
    // round trip, takes the write seam: read and lock, update, the webhooks, the event.
    let (expected_first, expected) = if on_postgres() { (1, 1) } else { (5, 4) };
    assert_eq!(first.len(), expected_first, "{first:#?}");
    assert_eq!(second.len(), expected, "{second:#?}");

    let hook = webhook_of_another_process(&app).await;
    let (_, with_webhook) = statements_of(&app, UPDATE, json!({ "id": id, "name": "Dora" })).await;
    let expected = if on_postgres() { 1 } else { 5 };
    assert_eq!(with_webhook.len(), expected, "{with_webhook:#?}");
    assert_eq!(deliveries_to(&app, hook).await, 1, "the next write after the webhook's commit delivers to it");

    let (data, deleted) = statements_of(
        &app,
        "mutation($id: UUID!) { deleteProfile(id: $id) { profile { profileType } userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(data["deleteProfile"]["profile"]["profileType"], "DELETED");
    // One statement on PostgreSQL too; SQLite's write seam: read and lock, update, the
    // webhooks, the event with its deliveries.
    let expected = if on_postgres() { 1 } else { 5 };
    assert_eq!(deleted.len(), expected, "{deleted:#?}");
    assert_eq!(deliveries_to(&app, hook).await, 2);
}

#[tokio::test]
async fn an_event_compares_with_the_profile_as_the_write_found_it() {
    let app = TestApp::spawn().await;
    let id = created(&app, "found@example.com").await;
    for name in ["Bea", "Bea", "Cleo"] {
        app.data(UPDATE, json!({ "id": id, "name": name })).await;
    }
    // A tag added: a change to what the profile owns, read back at commit.
    app.data(
        "mutation($id: UUID!) { addTags(profileId: $id, handles: [\"gold-card\"]) { userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    let history = app
        .data(
            "query($id: UUID!) { profile(id: $id) { history(first: 10) { nodes { type version changed data } } } }",
            json!({ "id": id }),
        )
        .await;
    let nodes = history["profile"]["history"]["nodes"].as_array().cloned().expect("a history");
    let seen: Vec<(String, i64, Value)> = nodes
        .iter()
        .map(|n| {
            let kind = n["type"].as_str().unwrap_or_default().to_owned();
            (kind, n["version"].as_i64().unwrap_or_default(), n["changed"].clone())
        })
        .collect();
    // Oldest first. The second "Bea" changed nothing the context shows: no event.
    assert_eq!(seen.len(), 4, "{seen:#?}");
    assert_eq!(seen[0].0, "profile.created");
    assert_eq!(seen[1].2, json!(["first_name", "full_name"]));
    assert_eq!(seen[2].2, json!(["first_name", "full_name"]));
    assert_eq!((seen[3].0.as_str(), seen[3].1), ("profile.updated", 5));
    assert_eq!(seen[3].2, json!(["flattened_tags", "tags"]));
    assert_eq!(nodes[0]["data"]["first_name"], "Ada", "the created event keeps the context it was created with");
    assert_eq!(nodes[1]["data"]["first_name"], "Bea");
    assert_eq!(nodes[2]["data"]["first_name"], "Cleo");
    assert_eq!(nodes[3]["data"]["flattened_tags"], json!(["gold-card", "vip"]));
    assert_eq!(nodes[3]["data"]["addresses"].as_array().map(Vec::len), Some(1));
}

/// PostgreSQL: a write that waits for a profile another write holds reads, once that
/// one commits, the relations it left, not those from before it (a locking read of
/// a newer row version reads its subqueries in the statement's older snapshot, so the
/// hold reads again).
#[tokio::test]
async fn a_write_that_waited_for_the_profile_sees_what_the_other_write_left() {
    if !on_postgres() {
        return; // SQLite serialises writers before they read
    }
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let id = created(&app, "waited@example.com").await;
    created(&app, "other@example.com").await;
    app.data(UPDATE, json!({ "id": id, "name": "Bea" })).await;
    // Another write: gives the profile a second tag and a new version, and holds it.
    let other = crate::races::hold(&app, &id.to_string()).await;
    let tag: i32 = {
        let row = other
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DatabaseBackend::Postgres,
                "INSERT INTO tag (handle, name, created_at, updated_at) VALUES ('late', 'Late', now(), now()) RETURNING id",
                [],
            ))
            .await
            .expect("a tag")
            .expect("its id");
        row.try_get("", "id").expect("an id")
    };
    for sql in [
        "INSERT INTO profile_tag (profile_id, tag_id, created_at) VALUES ($1, $2, now())",
        "UPDATE profile SET version = version + 1 WHERE id = $1 AND $2 > 0",
    ] {
        let statement = sea_orm::Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            sql,
            [sea_orm::Value::from(id), sea_orm::Value::from(tag)],
        );
        other.execute_raw(statement).await.expect("the other write");
    }
    let update = crate::races::spawn(&app, UPDATE, json!({ "id": id, "name": "Cleo" }));
    crate::races::until_a_write_waits(&app).await;
    other.commit().await.expect("the other write commits");
    let answer = update.await.expect("the update");
    assert_eq!(answer["data"]["updateProfile"]["profile"]["firstName"], "Cleo", "{answer}");
    let history = app
        .data(
            "query($id: UUID!) { profile(id: $id) { history(first: 10) { nodes { changed data } } } }",
            json!({ "id": id }),
        )
        .await;
    let nodes = history["profile"]["history"]["nodes"].as_array().cloned().expect("a history");
    let last = nodes.last().expect("events");
    assert_eq!(last["data"]["first_name"], "Cleo");
    assert_eq!(last["data"]["flattened_tags"], json!(["late", "vip"]), "the relations the other write left");
    assert_eq!(last["changed"], json!(["first_name", "full_name"]));
}

/// On a database upgraded from 0.1.0 (its earlier migrations applied long before),
/// `PROFILES_ONE_STATEMENT_WRITES=auto` leaves one-statement writes off, since a 0.1.0
/// replica may still serve it: updates take the write seam and write events 0.1.0
/// reads. `settle-events` writes out the events written in one statement before, and
/// the history reads the same before and after.
#[tokio::test]
async fn an_upgraded_database_takes_the_seam_and_settle_events_writes_the_rest_out() {
    if !on_postgres() {
        return; // one-statement writes are PostgreSQL's
    }
    let app = TestApp::spawn().await;
    let id = created(&app, "switch@example.com").await;
    app.data(UPDATE, json!({ "id": id, "name": "Bea" })).await;
    let raw = |sql: &'static str| {
        let db = app.db.clone();
        async move {
            let statement = sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Postgres, sql);
            db.query_one_raw(statement).await.expect("a statement").map(|row| row.try_get::<i64>("", "n"))
        }
    };
    let with_state = "SELECT COUNT(*) FILTER (WHERE state IS NOT NULL) AS n FROM profile_event";
    // The created event and the update hold states.
    assert_eq!(raw(with_state).await.and_then(Result::ok), Some(2));
    let history = "query($id: UUID!) { profile(id: $id) { history(first: 10) { nodes { version changed data } } } }";
    let before = app.data(history, json!({ "id": id })).await;

    // As if 0.1.0 had created the database a day before.
    raw("UPDATE seaql_migrations SET applied_at = applied_at - 86400 \
         WHERE version < 'm20261207_000005' RETURNING 0::bigint AS n")
    .await;
    let server = crate::binary::Binary::start(&app.url, &[]);
    let body = json!({ "query": UPDATE, "variables": { "id": id, "name": "Cleo" } }).to_string();
    let answer = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/graphql", server.port))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the server answers")
        .text()
        .await
        .expect("a body");
    let answer: Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(answer["data"]["updateProfile"]["profile"]["version"], 3, "{answer}");
    drop(server);
    assert_eq!(raw(with_state).await.and_then(Result::ok), Some(2), "the update wrote its context");

    let out = crate::helpers::run_binary_with(&app.url, &["settle-events"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Wrote out the context of 2 events.\n");
    assert_eq!(raw(with_state).await.and_then(Result::ok), Some(0));
    let after = app.data(history, json!({ "id": id })).await;
    let nodes = after["profile"]["history"]["nodes"].as_array().cloned().expect("a history");
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[..2], before["profile"]["history"]["nodes"].as_array().cloned().expect("a history")[..]);
    assert_eq!(nodes[2]["data"]["first_name"], "Cleo");
    assert_eq!(nodes[2]["changed"], json!(["first_name", "full_name"]));
}
