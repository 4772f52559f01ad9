//! Import: the reference's profile JSON and CSV, matched by key and
//! upserted, each row landing or failing alone; `importProfiles` and `upsertProfile`;
//! the export round trip; the binary's exit codes and its memory on 100,000 rows.

use std::sync::atomic::AtomicBool;

use serde_json::{Value, json};

use crate::helpers::TestApp;
use profiles_gateway::bulk::{self, Counts, Format, ImportOptions};
use profiles_gateway::service::bulk::row::{DEFAULT_KEYS, ImportKey, Mode};

/// The reference document's profile JSON (its first document), as one line.
fn reference_row() -> Value {
    let text = include_str!("../../docs/reference/profile-properties.txt");
    let start = text.find('{').expect("the profile JSON");
    let end = text.find("Attribute |").expect("the field table after it");
    serde_json::from_str(text[start..end].trim()).expect("the reference's profile JSON is JSON")
}

fn options(format: Format, mode: Mode, keys: &[ImportKey]) -> ImportOptions {
    ImportOptions {
        format,
        mode,
        keys: keys.to_vec(),
        region: profiles_gateway::domain::phone::Region::default(),
        batch: bulk::IMPORT_BATCH,
    }
}

/// Imports `text` in process; the counts and the rejects file's lines.
async fn import_with(app: &TestApp, text: &str, options: &ImportOptions) -> (Counts, Vec<Value>) {
    let mut rejects = Vec::new();
    let stop = AtomicBool::new(false);
    let input = std::io::Cursor::new(text.as_bytes().to_vec());
    let counts =
        bulk::import(&app.services, input, options, &mut rejects, |_| {}, &stop).await.expect("the import runs");
    let rejects = String::from_utf8(rejects).expect("UTF-8");
    (counts, rejects.lines().map(|line| serde_json::from_str(line).expect("each reject is JSON")).collect())
}

async fn import(app: &TestApp, text: &str) -> (Counts, Vec<Value>) {
    import_with(app, text, &options(Format::Ndjson, Mode::Upsert, &DEFAULT_KEYS)).await
}

fn ndjson(rows: &[Value]) -> String {
    rows.iter().map(|row| format!("{row}\n")).collect()
}

const PROFILE: &str = "query($id: UUID!) { profile(id: $id) {
    id email firstName lastName company birthYear birthMonth birthDay joinedAt version gender
    tags { handle } statuses { handle } identities { handle identifier isPrimary }
    addresses { addressLine1 city isDefault }
    attributes { comms { emailPromo smsPromo pushPromo } appearance { hairColour } dates { date recurringSchedule name } }
    customAttributes } }";

async fn profile(app: &TestApp, id: &str) -> Value {
    app.data(PROFILE, json!({ "id": id })).await["profile"].clone()
}

async fn events(app: &TestApp) -> i64 {
    app.row_counts().await.into_iter().find(|(table, _)| *table == "profile_event").map_or(0, |(_, n)| n)
}

fn counts(created: u64, updated: u64, unchanged: u64, failed: u64) -> (u64, u64, u64, u64) {
    (created, updated, unchanged, failed)
}

fn of(c: &Counts) -> (u64, u64, u64, u64) {
    (c.created, c.updated, c.unchanged, c.failed)
}

#[tokio::test]
async fn the_reference_profile_json_imports_and_imports_again_unchanged() {
    let app = TestApp::spawn().await;
    let mut row = reference_row();
    // The copy of the reference hides its example's email behind an email-protection
    // placeholder, which is no email: as is, the row fails there, and only there.
    let (counted, rejects) = import(&app, &ndjson(&[row.clone()])).await;
    assert_eq!(of(&counted), counts(0, 0, 0, 1));
    assert_eq!(rejects[0]["line"], json!(1));
    assert_eq!(
        rejects[0]["errors"],
        json!([{ "field": ["email"], "code": "INVALID", "message": "is not a valid email address" }])
    );
    assert_eq!(app.row_counts().await.iter().find(|(t, _)| *t == "profile").map(|(_, n)| *n), Some(0));

    row["email"] = json!("example.user@example.com");
    let (counted, rejects) = import(&app, &ndjson(&[row.clone()])).await;
    assert_eq!(of(&counted), counts(1, 0, 0, 0), "{rejects:?}");
    let id = "92975ecb-5264-4d31-9f2b-789fa01f4555";
    let p = profile(&app, id).await;
    assert_eq!(p["email"], json!("example.user@example.com"));
    assert_eq!(
        (p["birthYear"].clone(), p["birthMonth"].clone(), p["birthDay"].clone()),
        (json!(1989), json!(1), json!(1))
    );
    assert_eq!(p["joinedAt"], json!("2021-01-27T00:00:00+00:00"));
    assert_eq!(p["gender"], json!("MALE"));
    assert_eq!(p["company"], json!("Acme Shoe Co."));
    let attributes = &p["attributes"];
    assert_eq!(attributes["comms"], json!({ "emailPromo": true, "smsPromo": false, "pushPromo": true }));
    assert_eq!(attributes["appearance"]["hairColour"], json!("Black"));
    assert_eq!(
        attributes["dates"],
        json!([{ "date": "2020-05-13", "recurringSchedule": "YEARLY", "name": "date_name" }])
    );
    assert_eq!(p["customAttributes"], json!({ "custom": { "example-field": "test" } }));
    // `addresses` holds the profile's addresses; `address`, which disagrees, is derived.
    assert_eq!(
        p["addresses"],
        json!([
            { "addressLine1": "123 Buckaby Lane", "city": "Melbourne", "isDefault": true },
            { "addressLine1": "321 Winston St", "city": "Melbourne", "isDefault": false }
        ])
    );
    assert_eq!(p["version"], json!(1));
    let written = events(&app).await;
    assert_eq!(written, 1, "profile.created");

    let (counted, _) = import(&app, &ndjson(&[row])).await;
    assert_eq!(of(&counted), counts(0, 0, 1, 0));
    assert_eq!(profile(&app, id).await["version"], json!(1), "no version bump");
    assert_eq!(events(&app).await, written, "no event");
}

#[tokio::test]
async fn an_imported_profile_s_created_event_carries_its_context_after_an_import_changes_it() {
    let app = TestApp::spawn().await;
    let mut row = reference_row();
    row["email"] = json!("example.user@example.com");
    import(&app, &ndjson(&[row.clone()])).await;
    row["first_name"] = json!("Changed");
    let (counted, _) = import(&app, &ndjson(&[row])).await;
    assert_eq!(of(&counted), counts(0, 1, 0, 0));

    let query = "{ events { nodes { type changed data } } }";
    let events = app.data(query, json!({})).await["events"]["nodes"].clone();
    let [created, updated] = [&events[0], &events[1]];
    assert_eq!(
        (created["type"].clone(), updated["type"].clone()),
        (json!("profile.created"), json!("profile.updated"))
    );
    let data = &created["data"];
    assert_eq!(data["first_name"], "Example", "as imported");
    assert_eq!(data["addresses"].as_array().map(Vec::len), Some(2));
    assert_eq!(data["attributes"]["appearance"]["hair_colour"], "Black");
    assert_eq!(data["custom_attributes"], json!({ "custom": { "example-field": "test" } }));
    // Had the created event's context not been the one the profile had, more would differ.
    assert_eq!(updated["changed"], json!(["first_name", "full_name"]));
    assert_eq!(updated["data"]["first_name"], "Changed");
}

#[tokio::test]
async fn updating_imported_profiles_settles_their_created_events_a_wave_at_a_time() {
    let app = TestApp::spawn().await;
    let rows = |name: &str| -> Vec<Value> {
        (0..50).map(|n| json!({ "email": format!("u{n}@example.com"), "first_name": name })).collect()
    };
    import(&app, &ndjson(&rows("Ann"))).await;
    app.reset_statements();
    let (counted, _) = import(&app, &ndjson(&rows("Bea"))).await;
    assert_eq!(of(&counted), counts(0, 50, 0, 0));
    let settles = app.statements().iter().filter(|sql| sql.starts_with("UPDATE \"profile_event\"")).count();
    assert_eq!(settles, 1, "the wave's 50 created events get their contexts in one statement");

    let query = "{ events(first: 100) { nodes { type data } } }";
    let events = app.data(query, json!({})).await["events"]["nodes"].clone();
    let names = |kind: &str| -> Vec<Value> {
        let nodes = events.as_array().expect("nodes").iter().filter(|e| e["type"] == kind);
        nodes.map(|e| e["data"]["first_name"].clone()).collect()
    };
    assert_eq!(names("profile.created"), vec![json!("Ann"); 50]);
    assert_eq!(names("profile.updated"), vec![json!("Bea"); 50]);
}

#[tokio::test]
async fn each_bad_row_is_reported_with_its_line_and_path_and_every_good_row_lands() {
    let app = TestApp::spawn().await;
    let id = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    let good =
        |n: u32| json!({ "id": id(n), "email": format!("good{n}@example.com"), "first_name": format!("Good{n}") });
    let text = [
        good(1).to_string(),
        json!({ "id": id(2), "email": "not an email" }).to_string(),
        json!({ "id": id(3), "birth_year": "1990", "birth_month": "2", "birth_day": "31" }).to_string(),
        good(4).to_string(),
        json!({ "id": id(5), "statuses": [{ "handle": "no-such-status" }] }).to_string(),
        json!({ "id": id(6), "email": "GOOD1@example.com" }).to_string(),
        "{\"id\": \"broken".to_owned(),
        String::new(),
        good(9).to_string(),
        json!({ "id": id(10), "gender": "robot", "birth_year": "nineteen" }).to_string(),
    ]
    .join("\n");
    let (counted, rejects) = import(&app, &text).await;
    assert_eq!(of(&counted), counts(3, 0, 0, 6), "{rejects:#?}");
    let reported: Vec<(u64, Vec<(String, String)>)> = rejects
        .iter()
        .map(|r| {
            let errors = r["errors"].as_array().expect("errors").iter();
            let errors = errors.map(|e| (e["field"].to_string(), e["code"].as_str().unwrap_or_default().to_owned()));
            (r["line"].as_u64().expect("a line"), errors.collect())
        })
        .collect();
    let e = |field: &str, code: &str| (field.to_owned(), code.to_owned());
    assert_eq!(
        reported,
        vec![
            (2, vec![e("[\"email\"]", "INVALID")]),
            (3, vec![e("[\"birth_day\"]", "INVALID")]),
            (5, vec![e("[\"statuses\",\"0\"]", "NOT_FOUND")]),
            (6, vec![e("[\"email\"]", "TAKEN")]),
            (7, vec![e("[]", "INVALID")]),
            (10, vec![e("[\"birth_year\"]", "INVALID"), e("[\"gender\"]", "INVALID")]),
        ]
    );
    assert_eq!(rejects[0]["row"], json!({ "id": id(2), "email": "not an email" }), "the row as read");
    assert_eq!(rejects[4]["row"], json!("{\"id\": \"broken"), "a broken line as text");
    for n in [1, 4, 9] {
        assert_eq!(profile(&app, &id(n)).await["firstName"], json!(format!("Good{n}")));
    }

    // A CSV row with more cells than the header fails alone.
    let csv = "id,email,first_name\n".to_owned()
        + &format!("{},csv1@example.com,Csv\n", id(20))
        + &format!("{},csv2@example.com,Too,Many\n", id(21))
        + &format!("{},csv3@example.com,Csv\n", id(22));
    let (counted, rejects) = import_with(&app, &csv, &options(Format::Csv, Mode::Upsert, &DEFAULT_KEYS)).await;
    assert_eq!(of(&counted), counts(2, 0, 0, 1));
    assert_eq!(rejects[0]["line"], json!(3));
    assert_eq!(rejects[0]["errors"][0]["code"], json!("INVALID"));
    assert_eq!(profile(&app, &id(22)).await["email"], json!("csv3@example.com"));
}

#[tokio::test]
async fn rows_match_by_each_key_and_an_update_leaves_what_the_row_does_not_give() {
    let app = TestApp::spawn().await;
    let first = json!({
        "email": "ann@example.com", "mobile_phone": "+61404000001", "first_name": "Ann", "last_name": "Lee",
        "company": "Acme", "tags": ["vip"], "identities": [{ "handle": "pos", "identifier": "P-1", "is_primary": true }]
    });
    let (counted, _) = import(&app, &ndjson(&[first])).await;
    assert_eq!(of(&counted), counts(1, 0, 0, 0));
    let id = app.data("{ profiles(first: 1) { nodes { id } } }", json!({})).await["profiles"]["nodes"][0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    for (key, row, name) in [
        (ImportKey::Id, json!({ "id": id, "first_name": "ById" }), "ById"),
        (ImportKey::Email, json!({ "email": "ANN@example.com", "first_name": "ByEmail" }), "ByEmail"),
        (ImportKey::MobilePhone, json!({ "mobile_phone": "0404 000 001", "first_name": "ByPhone" }), "ByPhone"),
        (ImportKey::ExternalId, json!({ "external_id": "P-1", "first_name": "ByExternal" }), "ByExternal"),
    ] {
        let (counted, rejects) =
            import_with(&app, &ndjson(&[row]), &options(Format::Ndjson, Mode::Upsert, &[key])).await;
        assert_eq!(of(&counted), counts(0, 1, 0, 0), "{key:?}: {rejects:?}");
        let p = profile(&app, &id).await;
        assert_eq!(p["firstName"], json!(name));
        // What the row did not give is left as it was.
        assert_eq!((p["lastName"].clone(), p["company"].clone()), (json!("Lee"), json!("Acme")));
        assert_eq!(p["tags"], json!([{ "handle": "vip" }]));
        assert_eq!(p["identities"][0]["identifier"], json!("P-1"));
    }
    // A list the row gives replaces the profile's.
    let (counted, _) = import(&app, &ndjson(&[json!({ "id": id, "tags": ["gold", "new"] })])).await;
    assert_eq!(of(&counted), counts(0, 1, 0, 0));
    assert_eq!(profile(&app, &id).await["tags"], json!([{ "handle": "gold" }, { "handle": "new" }]));
    assert_eq!(profile(&app, &id).await["version"], json!(6));

    // The first key the row has decides: a new id creates, and its email is taken.
    let other = json!({ "id": "00000000-0000-4000-8000-000000000099", "email": "ann@example.com" });
    let (counted, rejects) = import(&app, &ndjson(&[other])).await;
    assert_eq!(of(&counted), counts(0, 0, 0, 1));
    assert_eq!(rejects[0]["errors"][0]["code"], json!("TAKEN"));
}

#[tokio::test]
async fn the_three_modes() {
    let app = TestApp::spawn().await;
    let known = json!({ "email": "known@example.com", "first_name": "Known" });
    import(&app, &ndjson(&[known])).await;
    let rows = ndjson(&[
        json!({ "email": "known@example.com", "first_name": "Changed" }),
        json!({ "email": "new@example.com", "first_name": "New" }),
    ]);
    let run = |mode| options(Format::Ndjson, mode, &DEFAULT_KEYS);

    let (counted, rejects) = import_with(&app, &rows, &run(Mode::CreateOnly)).await;
    assert_eq!(of(&counted), counts(1, 0, 0, 1));
    assert_eq!(rejects[0]["line"], json!(1));
    assert_eq!(
        rejects[0]["errors"][0],
        json!({ "field": ["email"], "code": "TAKEN", "message": "a profile has this key" })
    );

    let rows = ndjson(&[
        json!({ "email": "known@example.com", "first_name": "Changed" }),
        json!({ "email": "other@example.com", "first_name": "Other" }),
    ]);
    let (counted, rejects) = import_with(&app, &rows, &run(Mode::UpdateOnly)).await;
    assert_eq!(of(&counted), counts(0, 1, 0, 1));
    assert_eq!(rejects[0]["line"], json!(2));
    assert_eq!(rejects[0]["errors"][0]["code"], json!("NOT_FOUND"));

    let rows = ndjson(&[
        json!({ "email": "known@example.com", "first_name": "Changed" }),
        json!({ "email": "new@example.com", "first_name": "Renamed" }),
        json!({ "email": "third@example.com" }),
    ]);
    let (counted, _) = import_with(&app, &rows, &run(Mode::Upsert)).await;
    assert_eq!(of(&counted), counts(1, 1, 1, 0));
    let names = app.data("{ profiles(first: 10) { nodes { firstName email } } }", json!({})).await;
    assert_eq!(
        names["profiles"]["nodes"],
        json!([
            { "firstName": "Changed", "email": "known@example.com" },
            { "firstName": "Renamed", "email": "new@example.com" },
            { "firstName": null, "email": "third@example.com" }
        ])
    );
}

#[tokio::test]
async fn rows_naming_one_profile_twice_go_in_file_order() {
    let app = TestApp::spawn().await;
    let rows = ndjson(&[
        json!({ "email": "twice@example.com", "first_name": "One" }),
        json!({ "email": "twice@example.com", "last_name": "Two" }),
        json!({ "email": "twice@example.com", "last_name": "Two" }),
    ]);
    let (counted, _) = import(&app, &rows).await;
    assert_eq!(of(&counted), counts(1, 1, 1, 0));
    let p = app.data("{ profiles(first: 5) { nodes { firstName lastName version } } }", json!({})).await;
    assert_eq!(p["profiles"]["nodes"], json!([{ "firstName": "One", "lastName": "Two", "version": 2 }]));
}

#[tokio::test]
async fn a_batch_too_big_for_one_statement_is_inserted_in_a_few_not_row_by_row() {
    let app = TestApp::spawn().await;
    // One batch: 500 rows × 16 addresses × 9 columns set, more values than one statement
    // binds on either database (32,766 on SQLite, 65,535 on PostgreSQL).
    let rows: Vec<Value> = (0..500)
        .map(|n| {
            let addresses: Vec<Value> = (0..16)
                .map(|a| json!({ "address_line_1": format!("{a} Lane {n}"), "city": "Perth", "postcode": "6000", "country": "AU" }))
                .collect();
            json!({ "email": format!("wide{n}@example.com"), "addresses": addresses })
        })
        .collect();
    app.reset_statements();
    let (counted, rejects) = import(&app, &ndjson(&rows)).await;
    assert_eq!((of(&counted), rejects.len()), (counts(500, 0, 0, 0), 0));
    let inserts = app.statements().iter().filter(|sql| sql.starts_with("INSERT INTO \"address\"")).count();
    assert!((2..=6).contains(&inserts), "8,000 addresses in a few statements, not one a profile: {inserts}");
    let page = app.data("{ profiles(first: 1) { nodes { addresses { city } } } }", json!({})).await;
    assert_eq!(page["profiles"]["nodes"][0]["addresses"].as_array().map(Vec::len), Some(16));
}

/// Profiles with everything an export carries but reference data (statuses, tiers and
/// locations are defined in each database, with their own stamps), in id order.
fn generated(count: u32) -> Vec<Value> {
    (0..count)
        .map(|n| {
            json!({
                "id": format!("00000000-0000-4000-8000-{n:012}"),
                "email": format!("p{n}@example.com"), "first_name": format!("First{n}"), "last_name": "Round",
                "mobile_phone": format!("+614040{n:05}"), "birth_year": "1980", "birth_month": "2", "birth_day": "29",
                "joined_at": "2020-03-04 05:06:07", "created_at": "2020-03-04 05:06:07", "updated_at": "2021-01-02 03:04:05",
                "gender": "female", "currency": "aud", "company": "Acme, \"Shoes\" Co.",
                "addresses": [
                    { "address_line_1": format!("{n} Main St"), "city": "Melbourne", "postcode": "3000", "country": "AU",
                      "created_at": "2020-03-04 05:06:07", "updated_at": "2020-03-04 05:06:07" },
                    { "address_line_1": "2 Side St", "city": "Sydney", "postcode": "2000", "country": "AU", "is_default": true }
                ],
                "tags": [{ "handle": "gold-member", "name": "Gold Member", "created_at": "2019-01-01 00:00:00" }, { "handle": "newsletter" }],
                "identities": [{ "handle": "shopify", "identifier": format!("S-{n}"), "is_primary": true }],
                "attributes": {
                    "comms": { "email_promo": false, "sms_promo": "true" },
                    "appearance": { "size_shoe": "9" },
                    "dates": [{ "date": "2015-06-07 00:00:00", "is_recurring": true, "recurring_schedule": "yearly", "name": "Wedding" }]
                },
                "custom_attributes": { "shop": { "size": "M", "n": n } },
            })
        })
        .collect()
}

async fn exported(app: &TestApp, format: Format) -> String {
    let mut out = Vec::new();
    bulk::export(&app.services, format, false, 500, &mut out).await.expect("the export runs");
    String::from_utf8(out).expect("UTF-8")
}

#[tokio::test]
async fn export_then_import_into_an_empty_database_then_export_gives_the_same_file() {
    let source = TestApp::spawn().await;
    let (counted, rejects) = import(&source, &ndjson(&generated(30))).await;
    assert_eq!(of(&counted), counts(30, 0, 0, 0), "{rejects:?}");
    let first = exported(&source, Format::Ndjson).await;
    assert_eq!(first.lines().count(), 30);

    let target = TestApp::spawn().await;
    let (counted, _) = import(&target, &first).await;
    assert_eq!(of(&counted), counts(30, 0, 0, 0));
    assert_eq!(exported(&target, Format::Ndjson).await, first);
    // Imported again, the file changes nothing.
    let (counted, _) = import(&target, &first).await;
    assert_eq!(of(&counted), counts(0, 0, 30, 0));

    let csv = exported(&source, Format::Csv).await;
    let flat = TestApp::spawn().await;
    let (counted, _) = import_with(&flat, &csv, &options(Format::Csv, Mode::Upsert, &DEFAULT_KEYS)).await;
    assert_eq!(of(&counted), counts(30, 0, 0, 0));
    assert_eq!(exported(&flat, Format::Csv).await, csv);
}

const IMPORT: &str = "mutation($rows: [JSON!]!, $mode: ImportMode, $matchOn: [ImportKey!]) {
    importProfiles(rows: $rows, mode: $mode, matchOn: $matchOn) {
        created updated unchanged failed
        results { index status profile { email firstName version } userErrors { field code } } } }";

#[tokio::test]
async fn import_profiles_and_upsert_profile_through_graphql() {
    let app = TestApp::spawn().await;
    let rows = json!([
        { "email": "a@example.com", "first_name": "A" },
        { "email": "b@example.com", "birth_month": "13" },
        { "email": "c@example.com", "first_name": "C" }
    ]);
    let payload = app.mutate("importProfiles", IMPORT, json!({ "rows": rows })).await;
    assert_eq!((payload["created"].clone(), payload["failed"].clone()), (json!(2), json!(1)));
    assert_eq!(payload["results"][0]["status"], json!("CREATED"));
    assert_eq!(payload["results"][0]["profile"], json!({ "email": "a@example.com", "firstName": "A", "version": 1 }));
    assert_eq!(payload["results"][1]["status"], json!("FAILED"));
    assert_eq!(
        payload["results"][1]["userErrors"],
        json!([{ "field": ["rows", "1", "birth_month"], "code": "INVALID" }])
    );

    let again = app
        .mutate("importProfiles", IMPORT, json!({ "rows": rows, "mode": "UPDATE_ONLY", "matchOn": ["EMAIL"] }))
        .await;
    assert_eq!(
        (again["updated"].clone(), again["unchanged"].clone(), again["failed"].clone()),
        (json!(0), json!(2), json!(1))
    );

    // A control character in a key fails its row, on PostgreSQL too (which refuses NUL).
    let hostile = json!([{ "external_id": "a\u{0}b", "email": "e\u{0}@example.com" }, { "external_id": "ok-1" }]);
    let payload = app.mutate("importProfiles", IMPORT, json!({ "rows": hostile, "matchOn": ["EXTERNAL_ID"] })).await;
    let errors: Vec<&Value> = payload["results"][0]["userErrors"].as_array().expect("errors").iter().collect();
    assert!(errors.contains(&&json!({ "field": ["rows", "0", "external_id"], "code": "INVALID" })), "{payload}");
    assert_eq!(payload["results"][1]["status"], json!("CREATED"));

    // More than 1,000 rows: the request's own problem (import_rows.rs).

    const UPSERT: &str = "mutation($key: ProfileKey!, $input: ProfileCreateInput!) {
        upsertProfile(key: $key, input: $input) { status profile { email firstName lastName version } userErrors { field code } } }";
    let key = json!({ "email": "A@example.com" });
    let updated = app.mutate("upsertProfile", UPSERT, json!({ "key": key, "input": { "lastName": "Smith" } })).await;
    assert_eq!(updated["status"], json!("UPDATED"));
    assert_eq!(
        updated["profile"],
        json!({ "email": "a@example.com", "firstName": "A", "lastName": "Smith", "version": 2 })
    );
    let unchanged = app.mutate("upsertProfile", UPSERT, json!({ "key": key, "input": { "lastName": "Smith" } })).await;
    assert_eq!((unchanged["status"].clone(), unchanged["profile"]["version"].clone()), (json!("UNCHANGED"), json!(2)));
    // A new profile holds the key's value when the input does not give it.
    let created = app
        .mutate("upsertProfile", UPSERT, json!({ "key": { "email": "d@example.com" }, "input": { "firstName": "D" } }))
        .await;
    assert_eq!(created["status"], json!("CREATED"));
    assert_eq!(created["profile"]["email"], json!("d@example.com"));
    const EXTERNAL: &str = "mutation($key: ProfileKey!, $input: ProfileCreateInput!) {
        upsertProfile(key: $key, input: $input) { status profile { externalId identities { handle identifier isPrimary } } } }";
    let key = json!({ "externalId": "X-1" });
    let created = app.mutate("upsertProfile", EXTERNAL, json!({ "key": key, "input": { "firstName": "E" } })).await;
    assert_eq!(created["status"], json!("CREATED"));
    assert_eq!(
        created["profile"],
        json!({ "externalId": "X-1", "identities": [{ "handle": "external", "identifier": "X-1", "isPrimary": true }] })
    );
    let again = app.mutate("upsertProfile", EXTERNAL, json!({ "key": key, "input": { "firstName": "E" } })).await;
    assert_eq!(again["status"], json!("UNCHANGED"));
    let key = json!({ "identity": { "handle": "pos", "identifier": "P-9" } });
    let created = app.mutate("upsertProfile", EXTERNAL, json!({ "key": key, "input": { "firstName": "I" } })).await;
    assert_eq!(created["profile"]["identities"], json!([{ "handle": "pos", "identifier": "P-9", "isPrimary": false }]));
    let again = app.mutate("upsertProfile", EXTERNAL, json!({ "key": key, "input": { "lastName": "J" } })).await;
    assert_eq!(again["status"], json!("UPDATED"));
    let invalid = app.mutate("upsertProfile", UPSERT, json!({ "key": { "email": "nope" }, "input": {} })).await;
    assert_eq!(invalid["userErrors"], json!([{ "field": ["key", "email"], "code": "INVALID" }]));
    let key = json!({ "email": "A@example.com" });
    let invalid = app.mutate("upsertProfile", UPSERT, json!({ "key": key, "input": { "email": "nope" } })).await;
    assert_eq!(invalid["status"], json!("FAILED"));
    assert_eq!(invalid["userErrors"], json!([{ "field": ["input", "email"], "code": "INVALID" }]));
}

#[tokio::test]
async fn the_binary_exits_by_outcome_and_writes_rejects_beside_the_file() {
    let app = TestApp::spawn().await;
    let folder = tempfile::tempdir().expect("a folder");
    let good = folder.path().join("good.ndjson");
    std::fs::write(&good, ndjson(&generated(3))).expect("written");
    let path = good.to_str().expect("a path");
    let run = app.binary(&["import", path]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("3 rows: 3 created, 0 updated, 0 unchanged, 0 failed"));
    assert!(!folder.path().join("good.ndjson.rejects.ndjson").exists(), "no rejects when none failed");

    let mixed = folder.path().join("mixed.csv");
    std::fs::write(&mixed, "email,first_name\nok@example.com,Ok\nbad,Bad\n").expect("written");
    let run = app.binary(&["import", mixed.to_str().expect("a path"), "--match", "email"]);
    assert_eq!(run.status.code(), Some(2), "{}", String::from_utf8_lossy(&run.stderr));
    let rejects = std::fs::read_to_string(folder.path().join("mixed.csv.rejects.ndjson")).expect("a rejects file");
    let reject: Value = serde_json::from_str(rejects.trim()).expect("JSON");
    assert_eq!(reject["line"], json!(3));
    assert_eq!(reject["errors"][0]["field"], json!(["email"]));

    let run = app.binary(&["import", folder.path().join("missing.ndjson").to_str().expect("a path")]);
    assert_eq!(run.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&run.stderr).contains("cannot read"));
}

/// The peak resident memory of a process, read from /proc while it runs (kB).
/// The largest peak RSS, in kB, of the children of this test process that have ended:
/// an upper bound on the peak of the one just waited for (told by the kernel at its
/// exit, not sampled).
fn children_peak_kb() -> u64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).expect("rusage");
    u64::try_from(usage.max_rss()).unwrap_or(0)
}

/// 100,000 reference rows (2 addresses, 3 tags, a status and an identity each) go
/// through the binary in bounded memory: it reads a batch at a time.
#[tokio::test]
async fn a_hundred_thousand_rows_import_in_bounded_memory() {
    const ROWS: u32 = 100_000;
    const BOUND_KB: u64 = 200 * 1024;
    let app = TestApp::spawn().await;
    let status = "mutation { createStatus(input: { handle: \"member\", name: \"Member\" }) { userErrors { code } } }";
    assert_eq!(app.mutate("createStatus", status, json!({})).await["userErrors"], json!([]));
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("big.ndjson");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("a file"));
        for n in 0..ROWS {
            let row = json!({
                "id": format!("00000000-0000-4000-9000-{n:012}"), "email": format!("big{n}@example.com"),
                "first_name": "Big", "last_name": format!("Row{n}"), "birth_year": "1990",
                "addresses": [
                    { "address_line_1": "1 Main St", "city": "Melbourne", "postcode": "3000", "country": "AU" },
                    { "address_line_1": "2 Side St", "city": "Sydney", "postcode": "2000", "country": "AU" }
                ],
                "tags": ["vip", "newsletter", format!("cohort-{}", n % 10)],
                "statuses": [{ "handle": "member" }],
                "identities": [{ "handle": "pos", "identifier": format!("B-{n}"), "is_primary": true }]
            });
            writeln!(out, "{row}").expect("written");
        }
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
        .args(["import", file.to_str().expect("a path")])
        .env("DATABASE_URL", &app.url)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).expect("readable");
    let status = tokio::task::spawn_blocking(move || child.wait()).await.expect("joined").expect("the binary ends");
    let peak = children_peak_kb();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("100000 rows: 100000 created"), "{stderr}");
    assert!(peak > 0, "the peak was read");
    assert!(peak < BOUND_KB, "peak RSS {peak} kB over {BOUND_KB} kB");
    let count = app.data("{ profiles(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(count["profiles"]["totalCount"], json!(ROWS));
}

#[tokio::test]
async fn rows_that_give_different_fields_land_together_with_the_defaults_of_what_they_leave_out() {
    let app = TestApp::spawn().await;
    let rows = ndjson(&[
        json!({ "email": "s1@example.com", "attributes": { "comms": { "email_promo": "false" } },
                "identities": [{ "handle": "pos", "identifier": "1", "is_active": false }] }),
        json!({ "email": "s2@example.com", "identities": [{ "handle": "pos", "identifier": "2" }],
                "addresses": [{ "address_line_1": "1 St", "address_line_2": "Rear", "city": "A", "postcode": "1", "country": "AU" }] }),
        json!({ "email": "s3@example.com", "attributes": { "comms": { "sms_promo": true }, "appearance": { "size_shoe": "9" } },
                "addresses": [{ "address_line_1": "2 St", "city": "B", "postcode": "2", "country": "AU" }] }),
    ]);
    let (counted, rejects) = import(&app, &rows).await;
    assert_eq!(of(&counted), counts(3, 0, 0, 0), "{rejects:?}");
    let query = "{ profiles(first: 5) { nodes { email identities { isActive } addresses { addressLine2 }
        attributes { comms { emailPromo smsPromo } appearance { sizeShoe } } } } }";
    let found = app.data(query, json!({})).await;
    let defaults = app.data(
        "mutation { createProfile(input: { email: \"d@example.com\" }) { profile { attributes { comms { emailPromo smsPromo } } } } }",
        json!({}),
    )
    .await;
    let comms = &defaults["createProfile"]["profile"]["attributes"]["comms"];
    let nodes = &found["profiles"]["nodes"];
    assert_eq!(nodes[0]["attributes"]["comms"]["emailPromo"], json!(false));
    assert_eq!(nodes[0]["attributes"]["comms"]["smsPromo"], comms["smsPromo"], "the default, not null");
    assert_eq!(nodes[0]["identities"], json!([{ "isActive": false }]));
    assert_eq!(nodes[1]["identities"], json!([{ "isActive": true }]));
    assert_eq!(nodes[1]["addresses"], json!([{ "addressLine2": "Rear" }]));
    assert_eq!(nodes[1]["attributes"]["comms"], *comms);
    assert_eq!(nodes[2]["attributes"]["comms"]["smsPromo"], json!(true));
    assert_eq!(nodes[2]["attributes"]["appearance"]["sizeShoe"], json!("9"));
    assert_eq!(nodes[2]["addresses"], json!([{ "addressLine2": null }]));
}

/// Ctrl-C (SIGINT) stops the binary after the batch in progress, which says how far it
/// got; the same command run again finds those rows unchanged and imports the rest.
#[tokio::test]
async fn an_interrupted_import_stops_after_its_batch_and_resumes_by_running_again() {
    const ROWS: u32 = 20_000;
    let app = TestApp::spawn().await;
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("long.ndjson");
    let rows: Vec<Value> = (0..ROWS)
        .map(|n| json!({ "id": format!("00000000-0000-4000-b000-{n:012}"), "email": format!("long{n}@example.com") }))
        .collect();
    std::fs::write(&file, ndjson(&rows)).expect("written");
    let path = file.to_str().expect("a path");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
        .args(["import", path])
        .env("DATABASE_URL", &app.url)
        .env("RUST_LOG", "warn")
        // A progress line after every batch: the first one says the first batch is in.
        .env("PROFILES_PROGRESS_EVERY", "0s")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let (first_batch, told) = tokio::sync::oneshot::channel();
    let stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut first_batch = Some(first_batch);
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            if line.contains("rows/s), line ")
                && let Some(told) = first_batch.take()
            {
                let _ = told.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // Once the first batch is in, interrupt it.
    told.await.expect("the import says when its first batch is in");
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(sent.success());
    let status = tokio::task::spawn_blocking(move || child.wait()).await.expect("joined").expect("the binary ends");
    let stderr = reader.join().expect("stderr read");
    assert_eq!(status.code(), Some(130), "{stderr}");
    let stopped: u64 = stderr
        .split("Interrupted after line ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("says how far it got: {stderr}"));
    assert!(stopped > 0 && stopped < u64::from(ROWS) && stopped.is_multiple_of(bulk::IMPORT_BATCH as u64), "{stderr}");
    let count = app.data("{ profiles(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(count["profiles"]["totalCount"], json!(stopped), "every row up to that line, none after");

    let again = app.binary(&["import", path]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    let expected =
        format!("{ROWS} rows: {} created, 0 updated, {stopped} unchanged, 0 failed", u64::from(ROWS) - stopped);
    assert!(stderr.contains(&expected), "{expected} in {stderr}");
}

/// A 50 MB cell does not make the CSV import hold 50 MB: a record is bounded while it
/// is read (1 MiB, as an NDJSON line), its row fails with its line in the rejects file,
/// and the rows around it land.
#[tokio::test]
async fn a_csv_record_over_a_mebibyte_fails_its_row_unread_and_the_others_land() {
    const BOUND_KB: u64 = 200 * 1024;
    let app = TestApp::spawn().await;
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("cells.csv");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("a file"));
        writeln!(out, "email,first_name").expect("written");
        writeln!(out, "before@example.com,Before").expect("written");
        // Quoted, with line breaks in it: the record ends where its quotes do.
        let line = "x".repeat(999) + "\n";
        writeln!(out, "huge@example.com,\"{}\"", line.repeat(50_000)).expect("written");
        writeln!(out, "after@example.com,After").expect("written");
    }
    let run = app.binary(&["import", file.to_str().expect("a path")]);
    let peak = children_peak_kb();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("3 rows: 2 created, 0 updated, 0 unchanged, 1 failed"), "{stderr}");
    assert!(peak > 0 && peak < BOUND_KB, "peak RSS {peak} kB over {BOUND_KB} kB");
    let rejects = std::fs::read_to_string(folder.path().join("cells.csv.rejects.ndjson")).expect("a rejects file");
    let reject: Value = serde_json::from_str(rejects.trim()).expect("one JSON line");
    assert_eq!(reject["line"], json!(3));
    assert_eq!(
        reject["errors"],
        json!([{ "code": "INVALID", "field": [], "message": "the row is longer than 1048576 bytes" }])
    );
    let found =
        app.data("{ profiles(first: 5, orderBy: { field: EMAIL }) { nodes { email firstName } } }", json!({})).await;
    assert_eq!(
        found["profiles"]["nodes"],
        json!([{ "email": "after@example.com", "firstName": "After" }, { "email": "before@example.com", "firstName": "Before" }])
    );
}
