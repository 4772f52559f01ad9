//! Validation through the API: each bad input comes back as userErrors with the exact
//! path and code, all problems at once, and nothing is written.

use serde_json::{Value, json};

use crate::fixtures::reference_data;
use crate::helpers::{TestApp, user_errors};

pub const CREATE: &str = "mutation($input: ProfileCreateInput!) {
  createProfile(input: $input) {
    profile { id email mobilePhone flattenedTags flattenedStatuses }
    userErrors { field message code }
  }
}";

fn address(postcode: &str) -> Value {
    json!({ "addressLine1": "1 Main St", "city": "Melbourne", "postcode": postcode, "country": "Australia" })
}

/// `(path, code)` pairs, as [`user_errors`] returns them.
type Errors = Vec<(String, String)>;

fn errors(pairs: &[(&str, &str)]) -> Errors {
    pairs.iter().map(|(path, code)| ((*path).to_owned(), (*code).to_owned())).collect()
}

#[tokio::test]
async fn each_bad_value_is_reported_at_its_path_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    reference_data(&app).await;
    let long = "x".repeat(101);
    let many_tags: Vec<String> = (0..251).map(|n| format!("t{n}")).collect();
    let cases: Vec<(&str, Value, Errors)> = vec![
        ("email syntax", json!({ "email": "not-an-email" }), errors(&[("input.email", "INVALID")])),
        ("phone", json!({ "mobilePhone": "123" }), errors(&[("input.mobilePhone", "INVALID")])),
        ("secondary phone", json!({ "secondaryPhone": "+61 1" }), errors(&[("input.secondaryPhone", "INVALID")])),
        ("currency", json!({ "currency": "XYZ" }), errors(&[("input.currency", "INVALID")])),
        ("31 February", json!({ "birthMonth": 2, "birthDay": 31 }), errors(&[("input.birthDay", "INVALID")])),
        (
            "29 February of a common year",
            json!({ "birthYear": 2001, "birthMonth": 2, "birthDay": 29 }),
            errors(&[("input.birthDay", "INVALID")]),
        ),
        ("birth year 1899", json!({ "birthYear": 1899 }), errors(&[("input.birthYear", "INVALID")])),
        ("birth month 13", json!({ "birthMonth": 13 }), errors(&[("input.birthMonth", "INVALID")])),
        (
            "joined in a five-digit year",
            json!({ "joinedAt": "+262142-12-31T00:00:00Z" }),
            errors(&[("input.joinedAt", "INVALID")]),
        ),
        (
            "avatar over ftp",
            json!({ "avatarUrl": "ftp://example.com/a.png" }),
            errors(&[("input.avatarUrl", "INVALID")]),
        ),
        ("title too long", json!({ "title": long }), errors(&[("input.title", "TOO_LONG")])),
        (
            "blank postcode of the second address",
            json!({ "addresses": [address("3000"), address("  ")] }),
            errors(&[("input.addresses.1.postcode", "REQUIRED")]),
        ),
        (
            "latitude out of range",
            json!({ "addresses": [{ "addressLine1": "1 Main St", "city": "X", "postcode": "1", "country": "Y", "latitude": 91.0 }] }),
            errors(&[("input.addresses.0.latitude", "INVALID")]),
        ),
        (
            "two default addresses",
            json!({ "addresses": [
                { "addressLine1": "1 A St", "city": "X", "postcode": "1", "country": "Y", "isDefault": true },
                { "addressLine1": "2 B St", "city": "X", "postcode": "1", "country": "Y", "isDefault": true }] }),
            errors(&[("input.addresses.1.isDefault", "INVALID")]),
        ),
        ("blank tag", json!({ "tags": ["ok", "  "] }), errors(&[("input.tags.1", "REQUIRED")])),
        ("tag with a slash", json!({ "tags": ["a/b"] }), errors(&[("input.tags.0", "INVALID")])),
        ("251 tags", json!({ "tags": many_tags }), errors(&[("input.tags", "TOO_LONG")])),
        ("unknown status", json!({ "statuses": ["vip", "nope"] }), errors(&[("input.statuses.1", "NOT_FOUND")])),
        (
            "two primary identities",
            json!({ "identities": [
                { "handle": "shopify", "identifier": "1", "isPrimary": true },
                { "handle": "pos", "identifier": "2", "isPrimary": true }] }),
            errors(&[("input.identities.1.isPrimary", "INVALID")]),
        ),
        (
            "the same identity twice",
            json!({ "identities": [{ "handle": "pos", "identifier": "2" }, { "handle": "pos", "identifier": "2" }] }),
            errors(&[("input.identities.1.identifier", "TAKEN")]),
        ),
        (
            "blank identity handle",
            json!({ "identities": [{ "handle": " ", "identifier": "2" }] }),
            errors(&[("input.identities.0.handle", "REQUIRED")]),
        ),
        (
            "custom attribute namespace",
            json!({ "customAttributes": { "Bad NS": { "a": 1 } } }),
            errors(&[("input.customAttributes.Bad NS", "INVALID")]),
        ),
        (
            "custom attributes not an object",
            json!({ "customAttributes": [1] }),
            errors(&[("input.customAttributes", "INVALID")]),
        ),
        (
            "custom attribute too large",
            json!({ "customAttributes": { "custom": { "big": "x".repeat(10 * 1024) } } }),
            errors(&[("input.customAttributes.custom.big", "TOO_LONG")]),
        ),
        ("profile type DELETED", json!({ "profileType": "DELETED" }), errors(&[("input.profileType", "INVALID")])),
        ("unknown tier", json!({ "tierHandle": "diamond" }), errors(&[("input.tierHandle", "NOT_FOUND")])),
        (
            "unknown location id",
            json!({ "preferredLocationId": "9999" }),
            errors(&[("input.preferredLocationId", "NOT_FOUND")]),
        ),
        (
            "malformed location id",
            json!({ "joinedLocationId": "abc" }),
            errors(&[("input.joinedLocationId", "INVALID")]),
        ),
        (
            "unknown location external id",
            json!({ "joinedLocationExternalId": "STORE-999" }),
            errors(&[("input.joinedLocationExternalId", "NOT_FOUND")]),
        ),
        (
            "location by id and external id",
            json!({ "preferredLocationId": "1", "preferredLocationExternalId": "STORE-001" }),
            errors(&[("input.preferredLocationExternalId", "INVALID")]),
        ),
        (
            "a schedule without recurrence",
            json!({ "dates": [{ "date": "2020-05-13", "recurringSchedule": "YEARLY" }] }),
            errors(&[("input.dates.0.recurringSchedule", "INVALID")]),
        ),
        (
            "several problems at once",
            json!({ "email": "nope", "mobilePhone": "1", "birthMonth": 4, "birthDay": 31, "statuses": ["nope"] }),
            errors(&[
                ("input.email", "INVALID"),
                ("input.mobilePhone", "INVALID"),
                ("input.birthDay", "INVALID"),
                ("input.statuses.0", "NOT_FOUND"),
            ]),
        ),
    ];
    let before = app.row_counts().await;
    for (case, input, expected) in cases {
        let payload = app.mutate("createProfile", CREATE, json!({ "input": input })).await;
        assert_eq!(user_errors(&payload), expected, "{case}: {payload}");
        assert_eq!(payload["profile"], Value::Null, "{case}");
        assert!(payload["userErrors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: a message");
        assert_eq!(app.row_counts().await, before, "{case}: nothing was written");
    }
}

#[tokio::test]
async fn values_in_use_are_taken_whatever_their_case_or_format() {
    let app = TestApp::spawn().await;
    let first = json!({
        "email": "Ann@Example.com", "mobilePhone": "+61404123123",
        "identities": [{ "handle": "shopify", "identifier": "42", "isPrimary": true }]
    });
    let created = app.mutate("createProfile", CREATE, json!({ "input": first })).await;
    assert_eq!(user_errors(&created), vec![]);
    let before = app.row_counts().await;
    let again = json!({
        "email": "ann@example.COM", "mobilePhone": "0404 123 123",
        "identities": [{ "handle": "shopify", "identifier": "42" }]
    });
    let payload = app.mutate("createProfile", CREATE, json!({ "input": again })).await;
    assert_eq!(
        user_errors(&payload),
        errors(&[("input.email", "TAKEN"), ("input.mobilePhone", "TAKEN"), ("input.identities.0.identifier", "TAKEN")])
    );
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn graphql_itself_rejects_wrong_types_and_missing_required_fields() {
    let app = TestApp::spawn().await;
    for input in [json!({ "birthYear": "1989" }), json!({ "addresses": [{ "addressLine1": "1 Main St" }] })] {
        let response = app.graphql(CREATE, json!({ "input": input })).await;
        assert_eq!(crate::helpers::error_codes(&response), vec!["BAD_USER_INPUT"], "{response}");
    }
}
