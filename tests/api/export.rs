//! `export`: every profile in the import format, NDJSON or CSV, in id order,
//! page by page; in process and through the real binary.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use profiles_gateway::bulk::{self, Format};
use profiles_gateway::service::bulk::export::FLAT;

const CREATE: &str =
    "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id } userErrors { field code } } }";

/// Five profiles through the API, the third with relations and a comma in its
/// company, the last deleted; their ids in creation order.
async fn profiles(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut input =
            json!({ "firstName": format!("First{n}"), "lastName": "Export", "email": format!("p{n}@example.com") });
        if n == 2 {
            input = json!({
                "firstName": "Rich", "lastName": "Example", "email": "rich@example.com", "company": "Acme, \"Shoes\" Co.",
                "mobilePhone": "+61404123123", "birthYear": 1989, "birthMonth": 1, "birthDay": 1,
                "addresses": [{ "addressLine1": "1 Main St", "city": "Melbourne", "postcode": "3000", "country": "AU" }],
                "tags": ["Gold Member", "newsletter"],
                "identities": [{ "handle": "shopify", "identifier": "S-1", "isPrimary": true }],
                "comms": { "emailPromo": false, "smsPromo": true },
                "customAttributes": { "shop": { "size": "M" } }
            });
        }
        let data = app.mutate("createProfile", CREATE, json!({ "i": input })).await;
        assert_eq!(data["userErrors"], json!([]), "{data}");
        ids.push(data["profile"]["id"].as_str().expect("an id").to_owned());
    }
    let deleted = app
        .mutate(
            "deleteProfile",
            "mutation($id: UUID!) { deleteProfile(id: $id) { userErrors { code } } }",
            json!({ "id": ids[4] }),
        )
        .await;
    assert_eq!(deleted["userErrors"], json!([]), "{deleted}");
    ids
}

async fn export(app: &TestApp, format: Format, include_deleted: bool, page: u64) -> String {
    let mut out = Vec::new();
    bulk::export(&app.services, format, include_deleted, page, &mut out).await.expect("the export runs");
    String::from_utf8(out).expect("UTF-8")
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|line| serde_json::from_str(line).expect("each line is JSON")).collect()
}

#[tokio::test]
async fn ndjson_holds_every_visible_profile_in_id_order_in_the_reference_format() {
    let app = TestApp::spawn().await;
    let ids = profiles(&app).await;
    let text = export(&app, Format::Ndjson, false, 2).await;
    let rows = lines(&text);
    let mut visible: Vec<&String> = ids[..4].iter().collect();
    visible.sort();
    let exported: Vec<&str> = rows.iter().map(|row| row["id"].as_str().expect("an id")).collect();
    assert_eq!(exported, visible, "each visible profile once, in id order, across pages of 2");
    // Pages of two add up to the same file as one page.
    assert_eq!(export(&app, Format::Ndjson, false, 500).await, text);

    let rich = rows.iter().find(|row| row["id"] == json!(ids[2])).expect("the rich profile");
    assert_eq!(rich["first_name"], json!("Rich"));
    assert_eq!(rich["full_name"], json!("Rich Example"));
    assert_eq!(rich["company"], json!("Acme, \"Shoes\" Co."));
    assert_eq!(rich["mobile_phone"], json!("+61404123123"));
    assert_eq!(rich["mobile_phone_national_prefix"], json!("0404123123"));
    assert_eq!(rich["birth_date"], json!("1989-01-01"));
    assert_eq!(rich["external_id"], json!("S-1"));
    assert_eq!(rich["addresses"][0]["city"], json!("Melbourne"));
    assert_eq!(rich["addresses"][0]["is_default"], json!(true));
    assert_eq!(rich["flattened_tags"], json!(["gold-member", "newsletter"]));
    assert_eq!(rich["attributes"]["comms"]["email_promo"], json!(false));
    assert_eq!(rich["attributes"]["comms"]["sms_promo"], json!(true));
    assert_eq!(rich["custom_attributes"], json!({ "shop": { "size": "M" } }));
    assert_eq!(rich["profile_type"], json!("active"));

    let everything = lines(&export(&app, Format::Ndjson, true, 2).await);
    assert_eq!(everything.len(), 5);
    let deleted = everything.iter().find(|row| row["id"] == json!(ids[4])).expect("the deleted profile");
    assert_eq!(deleted["profile_type"], json!("deleted"));
}

#[tokio::test]
async fn csv_holds_the_flat_fields_under_a_header() {
    let app = TestApp::spawn().await;
    let ids = profiles(&app).await;
    let text = export(&app, Format::Csv, false, 3).await;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().expect("a header").iter().map(str::to_owned).collect();
    assert_eq!(header, FLAT);
    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("a row")).collect();
    assert_eq!(rows.len(), 4);
    let column = |name: &str| FLAT.iter().position(|key| *key == name).expect("a column");
    let rich = rows.iter().find(|row| row[column("id")] == ids[2]).expect("the rich profile");
    assert_eq!(&rich[column("company")], "Acme, \"Shoes\" Co.", "quoted and read back whole");
    assert_eq!(&rich[column("birth_year")], "1989");
    assert_eq!(&rich[column("external_id")], "S-1");
    assert_eq!(&rich[column("title")], "", "null is an empty cell");
    assert_eq!(&rich[column("profile_type")], "active");
}

#[tokio::test]
async fn the_binary_exports_to_a_file_and_to_standard_output() {
    let app = TestApp::spawn().await;
    profiles(&app).await;
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("profiles.ndjson");
    let run = |args: &[&str]| app.binary(args);
    let to_file = run(&["export", file.to_str().expect("a path")]);
    assert!(to_file.status.success(), "{}", String::from_utf8_lossy(&to_file.stderr));
    assert!(String::from_utf8_lossy(&to_file.stderr).contains("Exported 4 profiles."));
    let written = std::fs::read_to_string(&file).expect("the file");
    assert_eq!(lines(&written).len(), 4);
    let to_stdout = run(&["export", "--format", "csv", "-"]);
    assert!(to_stdout.status.success());
    assert_eq!(String::from_utf8_lossy(&to_stdout.stdout).lines().count(), 5, "a header and four rows");
    let unwritable = run(&["export", folder.path().join("missing/x.ndjson").to_str().expect("a path")]);
    assert!(!unwritable.status.success());
    assert!(String::from_utf8_lossy(&unwritable.stderr).contains("cannot write"));
}
