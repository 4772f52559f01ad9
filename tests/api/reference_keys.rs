//! Reference data and keys: a database moves whole. Export, import into an
//! empty database, export gives the same file but for the databases' own integer ids,
//! on each database and from a SQLite file to the test's database (SQLite → PostgreSQL
//! on the PostgreSQL run); records are matched by natural key, never by integer id.

use std::sync::atomic::AtomicBool;

use serde_json::{Value, json};

use crate::helpers::{TestApp, user_errors};
use profiles_gateway::bulk::{self, Counts, Format, ImportOptions};
use profiles_gateway::service::bulk::row::{DEFAULT_KEYS, Mode};

/// `value` without the databases' own integer ids: every `id` or `…_id` key whose
/// value is a number (profile ids are UUIDs, external ids text: they stay).
fn without_integer_ids(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .filter(|(key, value)| !((key == "id" || key.ends_with("_id")) && value.is_number()))
                .map(|(key, value)| (key, without_integer_ids(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_integer_ids).collect()),
        other => other,
    }
}

/// An NDJSON export's lines, integer ids aside.
fn lines(ndjson: &str) -> Vec<Value> {
    ndjson.lines().map(|line| without_integer_ids(serde_json::from_str(line).expect("a JSON line"))).collect()
}

/// How many of the export's profiles embed `key` as an object.
fn embedding(ndjson: &str, key: &str) -> usize {
    ndjson.lines().filter(|line| line.contains(&format!("\"{key}\":{{"))).count()
}

async fn exported(app: &TestApp) -> String {
    let mut out = Vec::new();
    bulk::export(&app.services, Format::Ndjson, false, 500, &mut out).await.expect("the export runs");
    String::from_utf8(out).expect("UTF-8")
}

async fn import(app: &TestApp, text: &str, format: Format) -> (Counts, Vec<Value>) {
    let options = ImportOptions {
        format,
        mode: Mode::Upsert,
        keys: DEFAULT_KEYS.to_vec(),
        region: profiles_gateway::domain::phone::Region::default(),
        batch: bulk::IMPORT_BATCH,
    };
    let mut rejects = Vec::new();
    let input = std::io::Cursor::new(text.as_bytes().to_vec());
    let counts = bulk::import(&app.services, input, &options, &mut rejects, |_| {}, &AtomicBool::new(false))
        .await
        .expect("the import runs");
    let rejects = String::from_utf8(rejects).expect("UTF-8");
    (counts, rejects.lines().map(|line| serde_json::from_str(line).expect("each reject is JSON")).collect())
}

fn created(counts: &Counts) -> (u64, u64, u64, u64, u64) {
    (counts.created, counts.updated, counts.unchanged, counts.failed, counts.kept)
}

#[tokio::test]
async fn a_seeded_database_exports_into_an_empty_one_and_exports_the_same_file() {
    let source = TestApp::spawn().await;
    profiles_gateway::seed::seed(&source.services, 150, 1).await.expect("seeded");
    let file = exported(&source).await;
    assert_eq!(file.lines().count(), 150);
    for key in ["tier", "joined_location", "preferred_location"] {
        assert!(embedding(&file, key) > 0, "the seed's profiles embed a {key}");
    }
    for list in ["statuses", "tags"] {
        assert!(file.contains(&format!("\"{list}\":[{{")), "the seed's profiles embed {list}");
    }

    let target = TestApp::spawn().await;
    let (counts, rejects) = import(&target, &file, Format::Ndjson).await;
    assert_eq!(created(&counts), (150, 0, 0, 0, 0), "{rejects:?}");
    let again = exported(&target).await;
    assert_eq!(lines(&again), lines(&file));
    // Imported again, nothing changes and nothing differs.
    let (counts, _) = import(&target, &file, Format::Ndjson).await;
    assert_eq!(created(&counts), (0, 0, 150, 0, 0));
}

/// Runs the real binary over the SQLite file `url`.
fn binary_on(url: &str, args: &[&str]) -> std::process::Output {
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(run.status.success(), "{args:?}: {}", String::from_utf8_lossy(&run.stderr));
    run
}

#[tokio::test]
async fn a_sqlite_file_the_cli_seeds_and_exports_moves_whole_into_this_database() {
    let folder = tempfile::tempdir().expect("a folder");
    let source = format!("sqlite://{}?mode=rwc", folder.path().join("source.db").display());
    let path = |name: &str| folder.path().join(name).to_str().expect("a path").to_owned();
    binary_on(&source, &["seed", "--profiles", "120", "--seed", "7"]);
    binary_on(&source, &["export", &path("source.ndjson")]);
    binary_on(&source, &["export", "--format", "csv", &path("source.csv")]);

    // The test's database: SQLite, or PostgreSQL on the PostgreSQL run.
    let target = TestApp::spawn().await;
    let run = target.binary(&["import", &path("source.ndjson")]);
    let said = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{said}");
    assert!(said.contains("120 rows: 120 created, 0 updated, 0 unchanged, 0 failed"), "{said}");
    let run = target.binary(&["export", &path("target.ndjson")]);
    assert!(run.status.success());
    let file = std::fs::read_to_string(path("source.ndjson")).expect("the source's export");
    assert!(embedding(&file, "joined_location") > 0 && embedding(&file, "tier") > 0, "reference data travels");
    assert_eq!(lines(&std::fs::read_to_string(path("target.ndjson")).expect("the target's export")), lines(&file));

    // The CSV names locations by external id: it finds the same ones here.
    let csv = std::fs::read_to_string(path("source.csv")).expect("the CSV");
    assert!(csv.lines().next().is_some_and(|header| header.contains("joined_location_external_id")));
    assert!(!csv.lines().next().is_some_and(|header| header.contains("joined_location_id")));
    let (counts, rejects) = import(&target, &csv, Format::Csv).await;
    assert_eq!(created(&counts), (0, 0, 120, 0, 0), "{rejects:?}");
}

const CREATE_LOCATION: &str =
    "mutation($input: LocationInput!) { createLocation(input: $input) { location { id name } userErrors { code } } }";
const IMPORT: &str = "mutation($rows: [JSON!]!) { importProfiles(rows: $rows) {
    created failed keptReferences
    results { status profile { email joinedLocation { name externalId } preferredLocation { name } tier { handle name rank } statuses { handle name } }
              userErrors { field code message } } } }";

async fn location(app: &TestApp, name: &str, external_id: Option<&str>) -> Value {
    let input = json!({ "name": name, "externalId": external_id });
    app.mutate("createLocation", CREATE_LOCATION, json!({ "input": input })).await["location"]["id"].clone()
}

async fn import_rows(app: &TestApp, rows: Value) -> Value {
    app.mutate("importProfiles", IMPORT, json!({ "rows": rows })).await
}

#[tokio::test]
async fn a_profile_joined_at_north_store_lands_at_north_store_where_its_id_is_south_store() {
    let source = TestApp::spawn().await;
    let north = location(&source, "North Store", None).await;
    let create = "mutation($input: ProfileCreateInput!) { createProfile(input: $input) { userErrors { code } } }";
    let input = json!({ "email": "ann@example.com", "joinedLocationId": north, "preferredLocationId": north });
    assert_eq!(source.mutate("createProfile", create, json!({ "input": input })).await["userErrors"], json!([]));
    let file = exported(&source).await;

    let target = TestApp::spawn().await;
    let south = location(&target, "South Store", None).await;
    assert_eq!(south, north, "the same integer id names another store here");
    let (counts, rejects) = import(&target, &file, Format::Ndjson).await;
    assert_eq!(created(&counts), (1, 0, 0, 0, 0), "{rejects:?}");
    let profile = target
        .data("{ profiles { nodes { joinedLocation { name } preferredLocation { name } } } }", json!({}))
        .await["profiles"]["nodes"][0]
        .clone();
    assert_eq!(
        profile,
        json!({ "joinedLocation": { "name": "North Store" }, "preferredLocation": { "name": "North Store" } })
    );
    let stores = target.data("{ locations { name } }", json!({})).await["locations"].clone();
    assert_eq!(stores, json!([{ "name": "North Store" }, { "name": "South Store" }]), "made once, for both");

    // An integer id alone links nothing.
    let outcome = import_rows(&target, json!([{ "email": "bob@example.com", "joined_location_id": south }])).await;
    assert_eq!(outcome["results"][0]["profile"]["joinedLocation"], Value::Null);
}

#[tokio::test]
async fn a_location_name_two_locations_share_fails_the_row_naming_it() {
    let app = TestApp::spawn().await;
    location(&app, "Main Street", None).await;
    location(&app, "Main Street", Some("MAIN-2")).await;
    let before = app.row_counts().await;
    let rows = json!([
        { "email": "a@example.com", "joined_location": { "name": "Main Street", "external_id": null, "external_code": null } },
        { "email": "b@example.com", "preferred_location_name": "Main Street" },
    ]);
    let outcome = import_rows(&app, rows).await;
    assert_eq!(outcome["failed"], json!(2));
    let results = outcome["results"].as_array().expect("results");
    assert_eq!(user_errors(&results[0]), vec![("rows.0.joined_location.name".to_owned(), "INVALID".to_owned())]);
    assert_eq!(user_errors(&results[1]), vec![("rows.1.preferred_location_name".to_owned(), "INVALID".to_owned())]);
    let message = results[0]["userErrors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("2 locations are named `Main Street`"), "{message}");
    assert_eq!(app.row_counts().await, before, "nothing written");

    // Its external id names it.
    let rows =
        json!([{ "email": "a@example.com", "joined_location": { "name": "Main Street", "external_id": "MAIN-2" } }]);
    let outcome = import_rows(&app, rows).await;
    assert_eq!(
        outcome["results"][0]["profile"]["joinedLocation"],
        json!({ "name": "Main Street", "externalId": "MAIN-2" })
    );
}

#[tokio::test]
async fn a_bare_handle_or_key_that_names_nothing_fails_not_found_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let before = app.row_counts().await;
    let rows = json!([
        { "email": "a@example.com", "tier_handle": "gold" },
        { "email": "b@example.com", "tier": { "handle": "gold" } },
        { "email": "c@example.com", "statuses": [{ "handle": "vip" }] },
        { "email": "d@example.com", "joined_location": { "id": 1, "external_id": "STORE-001" } },
        { "email": "e@example.com", "preferred_location_external_id": "STORE-001" },
        { "email": "f@example.com", "joined_location_name": "Melbourne Flagship" },
    ]);
    let outcome = import_rows(&app, rows).await;
    assert_eq!(outcome["failed"], json!(6));
    let errors: Vec<Vec<(String, String)>> =
        outcome["results"].as_array().expect("results").iter().map(user_errors).collect();
    let not_found = |path: &str| vec![(path.to_owned(), "NOT_FOUND".to_owned())];
    assert_eq!(
        errors,
        vec![
            not_found("rows.0.tier_handle"),
            not_found("rows.1.tier_handle"),
            not_found("rows.2.statuses.0"),
            not_found("rows.3.joined_location.external_id"),
            not_found("rows.4.preferred_location_external_id"),
            not_found("rows.5.joined_location_name"),
        ]
    );
    assert_eq!(app.row_counts().await, before, "nothing written");
}

#[tokio::test]
async fn an_embedded_record_that_differs_keeps_the_existing_one_and_is_counted() {
    let app = TestApp::spawn().await;
    let tier = "mutation { createTier(input: { handle: \"gold\", name: \"Gold\", rank: 3 }) { userErrors { code } } }";
    app.data(tier, json!({})).await;
    location(&app, "North Store", Some("N-1")).await;
    let row = |email: &str| {
        json!({ "email": email,
            "tier": { "id": 99, "handle": "gold", "name": "Golden", "rank": 9 },
            "joined_location": { "id": 99, "name": "Northern Store", "external_id": "N-1", "external_code": null },
            "statuses": [{ "handle": "vip", "name": "VIP", "rank": 1 }] })
    };
    let outcome = import_rows(&app, json!([row("a@example.com"), row("b@example.com")])).await;
    assert_eq!(outcome["created"], json!(2), "{outcome:#}");
    assert_eq!(outcome["keptReferences"], json!(["location `N-1`", "tier `gold`"]));
    let profile = &outcome["results"][0]["profile"];
    assert_eq!(profile["tier"], json!({ "handle": "gold", "name": "Gold", "rank": 3 }), "kept as it is");
    assert_eq!(profile["joinedLocation"], json!({ "name": "North Store", "externalId": "N-1" }));
    assert_eq!(profile["statuses"], json!([{ "handle": "vip", "name": "VIP" }]), "a missing status is made");

    // The command counts each record once, however many rows describe it.
    let file: String = ["c@example.com", "d@example.com"].iter().map(|email| format!("{}\n", row(email))).collect();
    let (counts, rejects) = import(&app, &file, Format::Ndjson).await;
    assert_eq!(created(&counts), (2, 0, 0, 0, 2), "{rejects:?}");
    assert!(
        counts.to_string().ends_with("; 2 reference records kept as this database has them, though the file differs")
    );
}

#[tokio::test]
async fn two_imports_that_make_the_same_records_at_once_both_land() {
    let app = TestApp::spawn().await;
    let rows = |n: u32| {
        json!(
            (0..20)
                .map(|i| json!({ "email": format!("p{n}-{i}@example.com"),
            "tier": { "handle": "gold", "name": "Gold", "rank": 3 },
            "joined_location": { "name": "Pop-up", "external_id": null, "external_code": null },
            "preferred_location": { "name": "Flagship", "external_id": "F-1", "external_code": "F" },
            "statuses": [{ "handle": "vip", "name": "VIP", "rank": 1 }] }))
                .collect::<Vec<_>>()
        )
    };
    let (one, two) =
        tokio::join!(app.graphql(IMPORT, json!({ "rows": rows(1) })), app.graphql(IMPORT, json!({ "rows": rows(2) })));
    for response in [one, two] {
        assert!(response.get("errors").is_none(), "{response:#}");
        assert_eq!(response["data"]["importProfiles"]["created"], json!(20), "{response:#}");
    }
    let counts = app.row_counts().await;
    let count = |table: &str| counts.iter().find(|(t, _)| *t == table).map(|(_, n)| *n);
    assert_eq!((count("tier"), count("status"), count("location")), (Some(1), Some(1), Some(2)));
}

/// No silent changes at the edges of reference data: a bare integer location id (an
/// older CSV's column) fails the row rather than dropping its location, and an
/// embedded record's stamp outside the years 1 to 9999 fails it rather than being
/// replaced by now.
#[tokio::test]
async fn an_integer_location_id_or_an_embedded_stamp_out_of_range_fails_the_row() {
    let app = TestApp::spawn().await;
    let before = app.row_counts().await;
    let rows = json!([
        { "email": "a@example.com", "joined_location_id": 1 },
        { "email": "b@example.com", "tier": { "handle": "gold", "name": "Gold", "rank": 1, "created_at": "+10000-01-01T00:00:00Z" } },
        { "email": "c@example.com", "preferred_location": { "name": "North", "external_id": null, "external_code": null,
            "updated_at": "yesterday" } },
    ]);
    let outcome = import_rows(&app, rows).await;
    assert_eq!(outcome["failed"], json!(3), "{outcome}");
    let errors: Vec<Vec<(String, String)>> =
        outcome["results"].as_array().expect("results").iter().map(user_errors).collect();
    let invalid = |path: &str| vec![(path.to_owned(), "INVALID".to_owned())];
    assert_eq!(
        errors,
        vec![
            invalid("rows.0.joined_location_id"),
            invalid("rows.1.tier.created_at"),
            invalid("rows.2.preferred_location.updated_at"),
        ]
    );
    assert_eq!(app.row_counts().await, before, "nothing written");
}
