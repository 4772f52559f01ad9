//! Import without surprises: no blank profiles from unknown keys, no row
//! changed on its way in (bytes that are not UTF-8, a byte order mark, a key given
//! twice, dates outside the years 1 to 9999), and CSV cells that a spreadsheet would
//! run as formulas quoted on export and read back unchanged. Through the binary and
//! `importProfiles`, on both databases.

use serde_json::{Value, json};

use crate::helpers::{TestApp, user_errors};

/// Runs `import FILE` (written with `bytes`, named `name`) in a fresh folder; the exit
/// code, standard error and the rejects file's lines.
fn import_file(app: &TestApp, name: &str, bytes: &[u8]) -> (Option<i32>, String, Vec<Value>) {
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join(name);
    std::fs::write(&file, bytes).expect("written");
    let run = app.binary(&["import", file.to_str().expect("a path")]);
    let rejects = std::fs::read_to_string(folder.path().join(format!("{name}.rejects.ndjson"))).unwrap_or_default();
    let rejects = rejects.lines().map(|line| serde_json::from_str(line).expect("a reject is JSON")).collect();
    (run.status.code(), String::from_utf8_lossy(&run.stderr).into_owned(), rejects)
}

/// The number of rows of every table, profiles first: what an import wrote.
async fn written(app: &TestApp) -> Vec<(&'static str, i64)> {
    app.row_counts().await
}

async fn profiles(app: &TestApp) -> Value {
    let query = "{ profiles(first: 10) { nodes { email firstName lastName } } }";
    app.data(query, json!({})).await["profiles"]["nodes"].clone()
}

const IMPORT: &str = "mutation($rows: [JSON!]!) { importProfiles(rows: $rows) {
    created failed unknownKeys userErrors { field code message }
    results { status userErrors { field code message } } } }";

#[tokio::test]
async fn a_csv_header_without_a_known_column_stops_the_import_before_any_write() {
    let app = TestApp::spawn().await;
    let before = written(&app).await;
    for run in 0..2 {
        let (code, stderr, _) = import_file(&app, "people.csv", b"Email,First Name\nann@example.com,Ann\n");
        assert_eq!(code, Some(3), "run {run}: {stderr}");
        assert!(stderr.contains("no column the import reads (Email, First Name)"), "{stderr}");
        assert_eq!(written(&app).await, before, "run {run} wrote nothing");
    }
    // Nothing was read, so no (empty) rejects file is left behind.
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("people.csv");
    std::fs::write(&file, "Email\nann@example.com\n").expect("written");
    assert_eq!(app.binary(&["import", file.to_str().expect("a path")]).status.code(), Some(3));
    assert!(!folder.path().join("people.csv.rejects.ndjson").exists());
}

#[tokio::test]
async fn a_row_of_unknown_keys_fails_invalid_and_no_run_creates_it() {
    let app = TestApp::spawn().await;
    let before = written(&app).await;
    let file = b"{\"emial\": \"ann@example.com\", \"full_name\": \"Ann Lee\"}\n{\"emial\": \"bob@example.com\"}\n";
    for run in 0..2 {
        let (code, stderr, rejects) = import_file(&app, "people.ndjson", file);
        assert_eq!(code, Some(2), "run {run}: {stderr}");
        assert!(stderr.contains("2 rows: 0 created, 0 updated, 0 unchanged, 2 failed"), "{stderr}");
        assert!(stderr.contains("Unknown keys, ignored: emial."), "named once: {stderr}");
        assert_eq!(stderr.matches("emial").count(), 1, "{stderr}");
        assert_eq!(rejects[0]["errors"][0]["code"], json!("INVALID"), "{rejects:?}");
        assert_eq!(rejects[0]["errors"][0]["field"], json!([]));
        assert!(rejects[0]["errors"][0]["message"].as_str().is_some_and(|m| m.contains("emial")), "{rejects:?}");
        assert_eq!(written(&app).await, before, "run {run} wrote nothing");
    }
    // A row of names only is a profile; its unknown key is named and ignored.
    let (code, stderr, _) = import_file(&app, "names.ndjson", b"{\"first_name\": \"Cy\", \"nickname\": \"C\"}\n");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("Unknown keys, ignored: nickname."), "{stderr}");
    assert_eq!(profiles(&app).await, json!([{ "email": null, "firstName": "Cy", "lastName": null }]));
}

#[tokio::test]
async fn import_profiles_refuses_rows_of_unknown_keys_and_names_them() {
    let app = TestApp::spawn().await;
    let before = written(&app).await;
    let none = app.mutate("importProfiles", IMPORT, json!({ "rows": [{ "emial": "a@example.com" }, {}] })).await;
    assert_eq!(user_errors(&none), vec![("rows".to_owned(), "INVALID".to_owned())], "{none}");
    assert_eq!((none["results"].clone(), none["unknownKeys"].clone()), (json!([]), json!(["emial"])));
    assert_eq!(written(&app).await, before, "nothing written");

    let rows = json!([{ "emial": "a@example.com" }, { "first_name": "Ann", "nickname": "A" }]);
    let mixed = app.mutate("importProfiles", IMPORT, json!({ "rows": rows })).await;
    assert_eq!(mixed["userErrors"], json!([]));
    assert_eq!(mixed["results"][0]["status"], json!("FAILED"));
    assert_eq!(user_errors(&mixed["results"][0]), vec![("rows.0".to_owned(), "INVALID".to_owned())]);
    assert_eq!((mixed["created"].clone(), mixed["failed"].clone()), (json!(1), json!(1)));
    assert_eq!(mixed["unknownKeys"], json!(["emial", "nickname"]));
    assert_eq!(profiles(&app).await, json!([{ "email": null, "firstName": "Ann", "lastName": null }]));

    let too_many: Vec<Value> = (0..1001).map(|n| json!({ "email": format!("x{n}@example.com") })).collect();
    let refused = app.mutate("importProfiles", IMPORT, json!({ "rows": too_many })).await;
    assert_eq!(user_errors(&refused), vec![("rows".to_owned(), "TOO_LONG".to_owned())]);
    assert_eq!(profiles(&app).await.as_array().map(Vec::len), Some(1), "nothing more written");
}

#[tokio::test]
async fn an_ndjson_line_that_is_not_utf8_is_refused_not_stored_with_replacements() {
    let app = TestApp::spawn().await;
    let (code, stderr, rejects) =
        import_file(&app, "latin1.ndjson", b"{\"first_name\": \"Ren\xE9\"}\n{\"first_name\": \"Ok\"}\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["line"], json!(1));
    assert_eq!(rejects[0]["errors"][0]["code"], json!("INVALID"));
    assert!(rejects[0]["errors"][0]["message"].as_str().is_some_and(|m| m.contains("not UTF-8")), "{rejects:?}");
    assert_eq!(profiles(&app).await, json!([{ "email": null, "firstName": "Ok", "lastName": null }]));
}

#[tokio::test]
async fn a_byte_order_mark_is_skipped_and_every_row_imports() {
    let app = TestApp::spawn().await;
    let ndjson = b"\xEF\xBB\xBF{\"email\": \"a@example.com\"}\n{\"email\": \"b@example.com\"}\n";
    let (code, stderr, _) = import_file(&app, "bom.ndjson", ndjson);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("2 rows: 2 created"), "{stderr}");
    let csv = b"\xEF\xBB\xBFemail,first_name\nc@example.com,Cy\n";
    let (code, stderr, _) = import_file(&app, "bom.csv", csv);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("Unknown keys"), "the first column is `email`: {stderr}");
    let emails: Vec<Value> =
        profiles(&app).await.as_array().into_iter().flatten().map(|p| p["email"].clone()).collect();
    assert_eq!(emails, vec![json!("a@example.com"), json!("b@example.com"), json!("c@example.com")]);
}

#[tokio::test]
async fn a_key_given_twice_refuses_the_row_naming_the_key() {
    let app = TestApp::spawn().await;
    let before = written(&app).await;
    let ndjson = b"{\"email\": \"a@example.com\", \"first_name\": \"A\", \"email\": \"b@example.com\"}\n\
        {\"email\": \"c@example.com\", \"addresses\": [{\"city\": \"X\", \"city\": \"Y\"}]}\n";
    let (code, stderr, rejects) = import_file(&app, "twice.ndjson", ndjson);
    assert_eq!(code, Some(2), "{stderr}");
    let fields: Vec<&Value> = rejects.iter().map(|r| &r["errors"][0]["field"]).collect();
    assert_eq!(fields, vec![&json!(["email"]), &json!(["addresses", "0", "city"])]);
    assert!(rejects.iter().all(|r| r["errors"][0]["code"] == json!("INVALID")), "{rejects:?}");
    assert!(rejects[0]["errors"][0]["message"].as_str().is_some_and(|m| m.contains("`email` is given twice")));

    let (code, stderr, rejects) =
        import_file(&app, "twice.csv", b"email,first_name,email\na@example.com,A,b@example.com\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(rejects[0]["errors"][0]["field"], json!(["email"]), "{rejects:?}");
    assert_eq!(written(&app).await, before, "nothing written");
}

/// Dates and times a row or a mutation gives beyond the years 1 to 9999.
const OUT_OF_RANGE: [&str; 2] = ["10000-01-01", "0000-06-01"];

#[tokio::test]
async fn dates_outside_the_years_1_to_9999_are_invalid_in_imports() {
    let app = TestApp::spawn().await;
    let before = written(&app).await;
    for date in OUT_OF_RANGE {
        let rows = json!([
            { "email": "a@example.com", "joined_at": format!("{date} 00:00:00") },
            { "email": "b@example.com", "attributes": { "dates": [{ "date": date }] } },
            { "email": "c@example.com", "created_at": format!("{date} 00:00:00") },
            { "email": "d@example.com", "addresses": [{ "address_line_1": "1 A St", "city": "X", "postcode": "1",
                "country": "AU", "updated_at": format!("{date}T00:00:00Z") }] },
        ]);
        let payload = app.mutate("importProfiles", IMPORT, json!({ "rows": rows })).await;
        let errors: Vec<Vec<(String, String)>> =
            payload["results"].as_array().expect("results").iter().map(user_errors).collect();
        let invalid = |path: &str| vec![(path.to_owned(), "INVALID".to_owned())];
        assert_eq!(
            errors,
            vec![
                invalid("rows.0.joined_at"),
                invalid("rows.1.attributes.dates.0.date"),
                invalid("rows.2.created_at"),
                invalid("rows.3.addresses.0.updated_at"),
            ],
            "{date}: {payload}"
        );
    }
    let file = format!("{}\n", json!({ "email": "e@example.com", "joined_at": "10000-01-01 00:00:00" }));
    let (code, stderr, rejects) = import_file(&app, "far.ndjson", file.as_bytes());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(rejects[0]["errors"][0]["field"], json!(["joined_at"]), "{rejects:?}");
    assert_eq!(written(&app).await, before, "nothing written");
}

#[tokio::test]
async fn dates_outside_the_years_1_to_9999_are_invalid_in_mutations() {
    let app = TestApp::spawn().await;
    const CREATE: &str = "mutation($input: ProfileCreateInput!) {
        createProfile(input: $input) { profile { id } userErrors { field code } } }";
    let created = app.mutate("createProfile", CREATE, json!({ "input": { "email": "a@example.com" } })).await;
    let id = created["profile"]["id"].clone();
    let before = written(&app).await;
    const DATE: &str = "mutation($id: UUID!, $input: ProfileDateInput!) {
        createProfileDate(profileId: $id, input: $input) { profileDate { id } userErrors { field code } } }";
    const UPDATE: &str = "mutation($id: UUID!, $input: ProfileUpdateInput!) {
        updateProfile(id: $id, input: $input) { profile { id } userErrors { field code } } }";
    // The `Date` scalar reads four-digit years, or more with a sign.
    for date in ["+10000-01-01", "0000-06-01"] {
        let time = format!("{date}T00:00:00Z");
        let input = json!({ "email": "b@example.com", "joinedAt": time, "dates": [{ "date": date }] });
        let payload = app.mutate("createProfile", CREATE, json!({ "input": input })).await;
        let expected = [("input.joinedAt", "INVALID"), ("input.dates.0.date", "INVALID")];
        let expected: Vec<(String, String)> =
            expected.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect();
        assert_eq!(user_errors(&payload), expected, "{date}: {payload}");
        let payload = app.mutate("createProfileDate", DATE, json!({ "id": id, "input": { "date": date } })).await;
        assert_eq!(user_errors(&payload), vec![("input.date".to_owned(), "INVALID".to_owned())], "{payload}");
        let payload = app.mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "joinedAt": time } })).await;
        assert_eq!(user_errors(&payload), vec![("input.joinedAt".to_owned(), "INVALID".to_owned())], "{payload}");
    }
    assert_eq!(written(&app).await, before, "nothing written");
}

#[tokio::test]
async fn formula_cells_are_quoted_on_export_and_import_back_unchanged() {
    let app = TestApp::spawn().await;
    const CREATE: &str = "mutation($input: ProfileCreateInput!) {
        createProfile(input: $input) { profile { id } userErrors { field code } } }";
    let input = json!({ "email": "f@example.com", "firstName": "=HYPERLINK(\"http://x.example\")",
        "lastName": "-Smith", "company": "@corp", "occupation": "'=quoted", "title": "'Mr",
        "mobilePhone": "+44 7911 123456" });
    let created = app.mutate("createProfile", CREATE, json!({ "input": input })).await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    let id = created["profile"]["id"].clone();

    let export = app.binary(&["export", "--format", "csv", "-"]);
    assert_eq!(export.status.code(), Some(0), "{}", String::from_utf8_lossy(&export.stderr));
    let csv = String::from_utf8(export.stdout).expect("UTF-8");
    for cell in ["'=HYPERLINK", ",'-Smith,", ",'@corp,", ",''=quoted,", ",'Mr,", ",'+447911123456,"] {
        assert!(csv.contains(cell), "{cell} in {csv}");
    }

    const PROFILE: &str = "query($id: UUID!) { profile(id: $id) {
        email firstName lastName company occupation title mobilePhone } }";
    let original = app.data(PROFILE, json!({ "id": id })).await["profile"].clone();
    assert_eq!(original["mobilePhone"], json!("+447911123456"));
    let other = TestApp::spawn().await;
    let (code, stderr, _) = import_file(&other, "flat.csv", csv.as_bytes());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(other.data(PROFILE, json!({ "id": id })).await["profile"], original, "the round trip changes nothing");
}
