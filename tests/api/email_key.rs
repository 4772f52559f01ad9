//! One email key: spellings of one address that differ in Unicode case or
//! composition are one profile for uniqueness, `profileBy`, `upsertProfile`, imports,
//! search and the email order, on both databases; and the migration that made the key
//! keeps it for the oldest of colliding rows and lists the others.

use chrono::{TimeZone, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Order};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::binary::Binary;
use crate::helpers::{TestApp, TestDatabase, run_binary, user_errors};

const CREATE: &str = "mutation($input: ProfileCreateInput!) {
  createProfile(input: $input) { profile { id email } userErrors { field code } } }";
const PROFILE_BY: &str = "query($email: String!) { profileBy(key: { email: $email }) { id email firstName } }";
const UPSERT: &str = "mutation($key: ProfileKey!, $input: ProfileCreateInput!) {
  upsertProfile(key: $key, input: $input) { status profile { id email firstName } userErrors { field code } } }";
const IMPORT: &str = "mutation($rows: [JSON!]!) {
  importProfiles(rows: $rows, matchOn: [EMAIL]) {
    created updated failed results { status profile { id } userErrors { field code } } } }";
const LIST: &str =
    "query($search: String, $orderBy: ProfileOrder, $first: Int, $after: String, $last: Int, $before: String) {
  profiles(search: $search, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    nodes { email } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

/// Pairs of spellings of one address, each with what it shows.
const PAIRS: [(&str, &str, &str); 7] = [
    ("ÉLISE@example.com", "élise@example.com", "accented capital"),
    ("ÄNNE@example.de", "änne@example.de", "umlaut"),
    ("ΑΣ@example.gr", "ασ@example.gr", "final sigma"),
    ("ЖАННА@example.ru", "жанна@example.ru", "Cyrillic"),
    ("ann@BÜCHER.example", "ann@bücher.example", "non-ASCII domain"),
    ("jos\u{e9}@example.com", "jose\u{301}@example.com", "NFC and NFD"),
    ("JOSE\u{301}@EXAMPLE.ORG", "josé@example.org", "NFD capital and NFC small"),
];

async fn create(app: &TestApp, email: &str) -> Value {
    app.mutate("createProfile", CREATE, json!({ "input": { "email": email } })).await
}

async fn profile_count(app: &TestApp) -> i64 {
    app.row_counts().await.into_iter().find(|(table, _)| *table == "profile").map_or(0, |(_, n)| n)
}

#[tokio::test]
async fn spellings_of_one_email_are_one_profile_for_every_write_and_lookup() {
    let app = TestApp::spawn().await;
    for (n, (first, other, case)) in PAIRS.into_iter().enumerate() {
        let created = create(&app, first).await;
        assert_eq!(user_errors(&created), vec![], "{case}: {created}");
        let id = created["profile"]["id"].clone();
        assert_eq!(created["profile"]["email"], json!(first), "{case}: the address is kept as given");
        let before = app.row_counts().await;

        let taken = create(&app, other).await;
        assert_eq!(user_errors(&taken), vec![("input.email".to_owned(), "TAKEN".to_owned())], "{case}");
        assert_eq!(app.row_counts().await, before, "{case}: a refused create writes nothing");

        let found = app.data(PROFILE_BY, json!({ "email": other })).await;
        assert_eq!(found["profileBy"]["id"], id, "{case}: profileBy finds it by the other spelling");

        let upsert = json!({ "key": { "email": other }, "input": { "firstName": format!("Up{n}") } });
        let upserted = app.mutate("upsertProfile", UPSERT, upsert).await;
        assert_eq!((upserted["status"].clone(), upserted["profile"]["id"].clone()), (json!("UPDATED"), id.clone()));
        assert_eq!(upserted["profile"]["email"], json!(first), "{case}: upsert keeps the stored address");

        let rows = json!([{ "email": other, "first_name": format!("Imported{n}") }]);
        let imported = app.mutate("importProfiles", IMPORT, json!({ "rows": rows })).await;
        assert_eq!((imported["created"].clone(), imported["updated"].clone()), (json!(0), json!(1)), "{case}");
        assert_eq!(imported["results"][0]["profile"]["id"], id, "{case}: the import updated the same profile");

        let found = app.data(PROFILE_BY, json!({ "email": first })).await;
        assert_eq!(found["profileBy"]["firstName"], json!(format!("Imported{n}")), "{case}");
        assert_eq!(profile_count(&app).await, n as i64 + 1, "{case}: one profile per address");
    }
}

#[tokio::test]
async fn changing_an_email_to_another_spelling_of_a_taken_one_is_taken_and_of_its_own_is_not() {
    let app = TestApp::spawn().await;
    create(&app, "ΑΣ@example.gr").await;
    let other = create(&app, "zoe@example.gr").await["profile"]["id"].clone();
    let own = create(&app, "élise@example.com").await["profile"]["id"].clone();
    let update = "mutation($id: UUID!, $email: String) {
      updateProfile(id: $id, input: { email: $email }) { profile { email } userErrors { field code } } }";

    let taken = app.mutate("updateProfile", update, json!({ "id": other, "email": "ας@EXAMPLE.gr" })).await;
    assert_eq!(user_errors(&taken), vec![("input.email".to_owned(), "TAKEN".to_owned())]);

    let respelled = app.mutate("updateProfile", update, json!({ "id": own, "email": "ÉLISE@example.com" })).await;
    assert_eq!(user_errors(&respelled), vec![]);
    assert_eq!(respelled["profile"]["email"], json!("ÉLISE@example.com"));
    let found = app.data(PROFILE_BY, json!({ "email": "élise@EXAMPLE.com" })).await;
    assert_eq!(found["profileBy"]["id"], own);
}

/// The emails of a list, walked forwards and backwards two at a time.
async fn walks(app: &TestApp, order: &Value) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let emails = |page: &Value| page["nodes"].as_array().expect("nodes").iter().map(|n| n["email"].clone()).collect();
    let page = |variables: Value| async move { app.data(LIST, variables).await["profiles"].clone() };
    let whole: Vec<Value> = emails(&page(json!({ "orderBy": order, "first": 50 })).await);
    let (mut forwards, mut after) = (Vec::new(), Value::Null);
    loop {
        let next = page(json!({ "orderBy": order, "first": 2, "after": after })).await;
        forwards.extend(emails(&next));
        if next["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = next["pageInfo"]["endCursor"].clone();
    }
    let (mut backwards, mut before) = (Vec::new(), Value::Null);
    loop {
        let previous = page(json!({ "orderBy": order, "last": 2, "before": before })).await;
        let mut earlier: Vec<Value> = emails(&previous);
        earlier.extend(backwards);
        backwards = earlier;
        if previous["pageInfo"]["hasPreviousPage"] != json!(true) {
            break;
        }
        before = previous["pageInfo"]["startCursor"].clone();
    }
    (whole, forwards, backwards)
}

#[tokio::test]
async fn the_email_order_and_search_follow_the_key_through_every_page() {
    let app = TestApp::spawn().await;
    for email in ["ÉMILE@x.example", "zoë@x.example", "ΣΟΦΙΑ@x.example", "élodie@x.example", "Adam@x.example"] {
        create(&app, email).await;
    }
    app.mutate("createProfile", CREATE, json!({ "input": { "firstName": "No email" } })).await;
    // By key, bytewise: a < z < é (U+00E9) < σ (U+03C3); "élodie" < "émile" although
    // "É" (U+00C9) sorts before "é" as written. Profiles without a key come last.
    let ascending =
        json!(["Adam@x.example", "zoë@x.example", "élodie@x.example", "ÉMILE@x.example", "ΣΟΦΙΑ@x.example", null]);
    let (whole, forwards, backwards) = walks(&app, &json!({ "field": "EMAIL", "direction": "ASC" })).await;
    assert_eq!(Value::from(whole), ascending);
    assert_eq!(Value::from(forwards), ascending, "forwards two at a time");
    assert_eq!(Value::from(backwards), ascending, "backwards two at a time");

    let descending =
        json!(["ΣΟΦΙΑ@x.example", "ÉMILE@x.example", "élodie@x.example", "zoë@x.example", "Adam@x.example", null]);
    let (whole, forwards, backwards) = walks(&app, &json!({ "field": "EMAIL", "direction": "DESC" })).await;
    assert_eq!(Value::from(whole), descending);
    assert_eq!(Value::from(forwards), descending, "forwards two at a time");
    assert_eq!(Value::from(backwards), descending, "backwards two at a time");

    for (search, expected) in [
        ("émi", "ÉMILE@x.example"),
        ("ÉLO", "élodie@x.example"),
        ("e\u{301}lo", "élodie@x.example"),
        ("σοφ", "ΣΟΦΙΑ@x.example"),
        ("ZOË@", "zoë@x.example"),
    ] {
        let found = app.data(LIST, json!({ "search": search })).await;
        assert_eq!(found["profiles"]["nodes"], json!([{ "email": expected }]), "search {search:?}");
    }
}

/// A profile row as an older schema held it (before the email key), inserted by SQL:
/// for the tests of migrations that fill a new column.
pub(crate) async fn insert_old_profile(db: &impl ConnectionTrait, id: Uuid, email: Option<&str>, day: u32) {
    let created = Utc.with_ymd_and_hms(2020, 1, day, 0, 0, 0).single().expect("a real time");
    let insert = Query::insert()
        .into_table(Alias::new("profile"))
        .columns(
            ["id", "email", "joined_at", "profile_type", "custom_attributes", "version", "created_at", "updated_at"]
                .map(Alias::new),
        )
        .values([
            id.into(),
            email.map(str::to_owned).into(),
            created.into(),
            "active".into(),
            json!({}).into(),
            1.into(),
            created.into(),
            created.into(),
        ])
        .expect("as many values as columns")
        .to_owned();
    db.execute(&insert).await.expect("an old profile row");
}

#[tokio::test]
async fn the_migration_keys_the_oldest_of_colliding_rows_and_lists_the_others_at_start_and_by_command() {
    let (url, _database) = TestDatabase::create().await;
    let db = profiles_gateway::db::connect(&url, Default::default()).await.expect("connect");
    let mine = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261207_000001_email_key")
        .expect("the email key migration") as u32;
    Migrator::up(&db, Some(mine)).await.expect("the migrations before it");

    // NFC and NFD spellings: two rows under `lower(email)` on both databases.
    let id = |n: u128| Uuid::from_u128(n);
    insert_old_profile(&db, id(1), Some("jos\u{e9}@example.com"), 9).await;
    insert_old_profile(&db, id(2), Some("JOSE\u{301}@example.com"), 2).await; // oldest: keeps the key
    insert_old_profile(&db, id(4), Some("ma\u{301}ria@example.com"), 5).await;
    insert_old_profile(&db, id(3), Some("m\u{e1}ria@example.com"), 5).await; // same time, smaller id: keeps it
    insert_old_profile(&db, id(5), Some("ann@example.com"), 1).await;
    insert_old_profile(&db, id(6), None, 1).await;
    Migrator::up(&db, None).await.expect("the email key migration and those after it");

    let keys = Query::select()
        .columns(["id", "email", "email_key"].map(Alias::new))
        .from(Alias::new("profile"))
        .order_by(Alias::new("id"), Order::Asc)
        .to_owned();
    let rows: Vec<(Uuid, Option<String>, Option<String>)> = db
        .query_all(&keys)
        .await
        .expect("the keys")
        .iter()
        .map(|row| {
            let get = |column: &str| row.try_get::<Option<String>>("", column).expect("text");
            (row.try_get("", "id").expect("an id"), get("email"), get("email_key"))
        })
        .collect();
    let key = |k: &str| Some(k.to_owned());
    assert_eq!(
        rows.iter().map(|(id, _, key)| (*id, key.clone())).collect::<Vec<_>>(),
        vec![
            (id(1), None),
            (id(2), key("jos\u{e9}@example.com")),
            (id(3), key("m\u{e1}ria@example.com")),
            (id(4), None),
            (id(5), key("ann@example.com")),
            (id(6), None),
        ]
    );
    assert_eq!(rows[0].1.as_deref(), Some("jos\u{e9}@example.com"), "the address itself stays as it was");
    let unique = Query::update()
        .table(Alias::new("profile"))
        .value(Alias::new("email_key"), "ann@example.com")
        .and_where(Expr::col(Alias::new("id")).eq(id(1)))
        .to_owned();
    assert!(db.execute(&unique).await.is_err(), "the key is unique");

    let listed = run_binary(&url, &["email-collisions"]);
    assert!(listed.status.success(), "{listed:?}");
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        format!("jos\u{e9}@example.com\t*{}\t{}\nm\u{e1}ria@example.com\t*{}\t{}\n", id(2), id(1), id(3), id(4)),
        "each group oldest first, the holder marked"
    );

    let mut server = Binary::start(&url, &[("RUST_LOG", "error,profiles_gateway=warn,profiles_gateway::app=info")]);
    assert!(server.alive(), "the service started");
    server.child.kill().expect("stop the server");
    let (_, log) = server.exit();
    let warnings: Vec<&String> = log.iter().filter(|line| line.contains("share one email key")).collect();
    assert_eq!(warnings.len(), 2, "one warning per collision: {log:#?}");
    assert!(warnings[0].contains(&id(1).to_string()) && warnings[0].contains(&id(2).to_string()), "{warnings:?}");
    assert!(log.iter().all(|line| !line.contains("example.com")), "ids, never emails, in the log: {log:#?}");
}
