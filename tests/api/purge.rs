//! Purging erases: after `purgeProfile` no value of the person is left in
//! any table, the outbox and the delivery log included, while webhooks still get the
//! `profile.purged` event.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_postgres, user_errors};

/// Values of the person, each unlike anything else the database holds.
const SECRETS: [&str; 17] = [
    "Zelphina",
    "Zelphora",
    "Quarterbridge",
    "zelphina.q@erase-example.com",
    "412987654",
    "398765432",
    "Hushwood Antiques",
    "Marrowbone Crescent",
    "Flat Nine Overhang",
    "Quillington",
    "QX-7391",
    "Leave parcels with Odalys",
    "ZQ-99817",
    "Wedding of Zelphina",
    "Brother Ignatz",
    "Zeddy-Hushed",
    "https://avatars.erase-example.com/zq.png",
];

const CREATE: &str =
    "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id } userErrors { field code } } }";

/// A profile holding every kind of personal value there is.
fn everything() -> Value {
    json!({
        "title": "Dr", "firstName": "Zelphina", "lastName": "Quarterbridge",
        "email": "zelphina.q@erase-example.com", "mobilePhone": "0412 987 654", "secondaryPhone": "+61398765432",
        "birthYear": 1984, "birthMonth": 7, "birthDay": 19, "company": "Hushwood Antiques",
        "avatarUrl": "https://avatars.erase-example.com/zq.png",
        "addresses": [{ "addressLine1": "12 Marrowbone Crescent", "addressLine2": "Flat Nine Overhang",
            "city": "Quillington", "postcode": "QX-7391", "country": "Australia",
            "notes": "Leave parcels with Odalys" }],
        "identities": [{ "handle": "pos", "identifier": "ZQ-99817", "isPrimary": true }],
        "dates": [{ "date": "2019-03-02", "name": "Wedding of Zelphina", "relationship": "Brother Ignatz" }],
        "customAttributes": { "prefs": { "nickname": "Zeddy-Hushed" } },
        "tags": ["erase-me"],
        "comms": { "emailPromo": true }
    })
}

/// Every table of the database, by the catalog.
async fn tables(app: &TestApp) -> Vec<String> {
    let sql = if on_postgres() {
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    };
    let rows = app.db.query_all_raw(Statement::from_string(app.db.get_database_backend(), sql)).await.expect("tables");
    rows.iter().map(|row| row.try_get::<String>("", "name").expect("a table name")).collect()
}

/// Every row of `table` as one text: on PostgreSQL the row's own text form (every
/// column, JSON contexts decompressed as the service reads them); on SQLite each
/// column quoted (text as itself, blobs as hex), joined.
async fn rows_as_text(app: &TestApp, table: &str) -> Vec<String> {
    let backend = app.db.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        format!("SELECT t::text AS row FROM \"{table}\" t")
    } else {
        let columns = app
            .db
            .query_all_raw(Statement::from_string(backend, format!("SELECT name FROM pragma_table_info('{table}')")))
            .await
            .expect("columns");
        let quoted: Vec<String> = columns
            .iter()
            .map(|c| format!("quote(\"{}\")", c.try_get::<String>("", "name").expect("a column")))
            .collect();
        format!("SELECT {} AS row FROM \"{table}\"", quoted.join(" || '|' || "))
    };
    let rows = app.db.query_all_raw(Statement::from_string(backend, sql)).await.expect("rows");
    rows.iter().map(|row| row.try_get::<String>("", "row").expect("a row's text")).collect()
}

/// The places (table and row) where any of `needles` shows, in plain text or as the hex
/// of its bytes (how SQLite shows a blob), spaces ignored and case folded.
async fn found_anywhere(app: &TestApp, needles: &[&str]) -> Vec<String> {
    let fold = |text: &str| text.replace(' ', "").to_lowercase();
    let mut found = Vec::new();
    for table in tables(app).await {
        for row in rows_as_text(app, &table).await {
            let row = fold(&row);
            for needle in needles {
                let plain = fold(needle);
                let hex = hex::encode(plain.as_bytes());
                if row.contains(&plain) || row.contains(&hex) {
                    found.push(format!("{needle:?} in {table}: {row}"));
                }
            }
        }
    }
    found
}

#[tokio::test]
async fn purging_a_profile_leaves_none_of_its_values_in_any_table() {
    let app = TestApp::spawn().await;
    let webhook = app
        .mutate(
            "createWebhook",
            "mutation($i: WebhookInput!) { createWebhook(input: $i) { webhook { id } userErrors { field code } } }",
            json!({ "i": { "url": "http://127.0.0.1:9/hook", "events": ["*"] } }),
        )
        .await;
    assert_eq!(user_errors(&webhook), vec![]);
    let webhook = webhook["webhook"]["id"].clone();
    let created = app.mutate("createProfile", CREATE, json!({ "i": everything() })).await;
    assert_eq!(user_errors(&created), vec![]);
    let id = created["profile"]["id"].clone();
    let update =
        "mutation($id: UUID!) { updateProfile(id: $id, input: { firstName: \"Zelphora\" }) { userErrors { code } } }";
    assert_eq!(user_errors(&app.mutate("updateProfile", update, json!({ "id": id })).await), vec![]);
    // Another profile, kept: the check looks where data is, and a purge touches no one else.
    let kept =
        app.mutate("createProfile", CREATE, json!({ "i": { "firstName": "Kept", "email": "kept@example.com" } })).await;
    assert_eq!(user_errors(&kept), vec![]);

    // Before the purge the values are there, in the profile's tables, its events and
    // (through the events) its pending deliveries: the check can find them.
    let before = found_anywhere(&app, &SECRETS).await;
    for needle in SECRETS {
        assert!(before.iter().any(|place| place.starts_with(&format!("{needle:?} in "))), "{needle} is stored");
    }
    assert!(before.iter().any(|place| place.contains(" in profile_event: ")), "{before:#?}");

    let purge = "mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId userErrors { code } } }";
    let purged = app.mutate("purgeProfile", purge, json!({ "id": id })).await;
    assert_eq!(purged, json!({ "purgedProfileId": id, "userErrors": [] }));

    let left = found_anywhere(&app, &SECRETS).await;
    assert!(left.is_empty(), "after the purge: {left:#?}");
    assert!(!found_anywhere(&app, &["kept@example.com"]).await.is_empty(), "the other profile stays");

    // The webhook still gets the purge, and only that, of this profile.
    let query = "query($w: UUID!, $p: UUID!) { webhook(id: $w) { deliveries { nodes { status event { type profileId data } } } }
        events(profileId: $p) { nodes { type data } } }";
    let read = app.data(query, json!({ "w": webhook, "p": id })).await;
    let of_profile: Vec<&Value> = read["webhook"]["deliveries"]["nodes"]
        .as_array()
        .expect("deliveries")
        .iter()
        .filter(|d| d["event"]["profileId"] == id)
        .collect();
    let purge_event = json!({ "type": "profile.purged", "profileId": id, "data": { "id": id } });
    assert_eq!(of_profile, vec![&json!({ "status": "PENDING", "event": purge_event })]);
    assert_eq!(read["events"]["nodes"], json!([{ "type": "profile.purged", "data": { "id": id } }]));
}
