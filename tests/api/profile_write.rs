//! Profile mutations: create with everything, partial updates, versions, lifecycle.

use serde_json::{Value, json};

use crate::fixtures::reference_data;
use crate::helpers::{TestApp, user_errors};
use crate::validation::CREATE;

pub const UPDATE: &str = "mutation($id: UUID!, $input: ProfileUpdateInput!, $expectedVersion: Int) {
  updateProfile(id: $id, input: $input, expectedVersion: $expectedVersion) {
    profile { id firstName lastName email mobilePhone birthYear birthMonth birthDay customAttributes
              tierHandle preferredLocationExternalId version updatedAt profileType }
    userErrors { field code }
  }
}";

const LIFECYCLE: &str = "mutation($id: UUID!) {
  deleteProfile(id: $id) { profile { id profileType version } userErrors { field code } }
}";

/// Creates a profile from `input` and returns its payload's profile.
pub async fn create(app: &TestApp, input: Value) -> Value {
    let payload = app.mutate("createProfile", CREATE, json!({ "input": input })).await;
    assert_eq!(user_errors(&payload), vec![], "{payload}");
    payload["profile"].clone()
}

#[tokio::test]
async fn create_profile_writes_everything_in_one_go() {
    let app = TestApp::spawn().await;
    let reference = reference_data(&app).await;
    let query = "mutation($input: ProfileCreateInput!) {
      createProfile(input: $input) {
        profile {
          firstName email mobilePhone mobilePhoneNationalPrefix currency birthDate tierHandle
          preferredLocation { name } joinedLocation { name } externalId flattenedTags flattenedStatuses
          addresses { addressLine1 isDefault } address { addressLine1 }
          attributes { comms { emailPromo smsPromo emailDiscover termsAcceptedVersion }
                       appearance { hairColour sizeShoe } dates { date name meta isRecurring recurringSchedule } }
          identities { handle identifier isPrimary isActive }
          customAttributes profileType version
        }
        userErrors { field code }
      }
    }";
    let input = json!({
        "firstName": " Ann ", "email": "Ann@Example.com", "mobilePhone": "0404 123 123", "currency": "aud",
        "birthYear": 1988, "birthMonth": 2, "birthDay": 29, "tierHandle": "gold",
        "preferredLocationId": reference.preferred.id.to_string(), "joinedLocationExternalId": "STORE-001",
        "tags": ["  VIP Customer ", "eco"], "statuses": ["vip"],
        "addresses": [
            { "addressLine1": "1 First St", "city": "Melbourne", "postcode": "3000", "country": "Australia" },
            { "addressLine1": "2 Second St", "city": "Sydney", "postcode": "2000", "country": "Australia", "isDefault": true }
        ],
        "dates": [{ "date": "2020-05-13", "name": "Anniversary", "isRecurring": true, "recurringSchedule": "YEARLY", "meta": ["a"] }],
        "identities": [{ "handle": "shopify", "identifier": "42", "isPrimary": true }, { "handle": "pos", "identifier": "7" }],
        "comms": { "emailPromo": true, "emailDiscover": false, "termsAcceptedVersion": "v2" },
        "appearance": { "hairColour": "Black", "sizeShoe": "9" },
        "customAttributes": { "custom": { "example-field": "test" } },
        "profileType": "TEMPORARY"
    });
    let payload = app.mutate("createProfile", query, json!({ "input": input })).await;
    assert_eq!(
        payload,
        json!({
            "profile": {
                "firstName": "Ann", "email": "Ann@Example.com", "mobilePhone": "+61404123123",
                "mobilePhoneNationalPrefix": "0404123123", "currency": "AUD", "birthDate": "1988-02-29",
                "tierHandle": "gold", "preferredLocation": { "name": "Chadstone" },
                "joinedLocation": { "name": "Melbourne Central" }, "externalId": "42",
                "flattenedTags": ["eco", "vip-customer"], "flattenedStatuses": ["vip"],
                "addresses": [
                    { "addressLine1": "1 First St", "isDefault": false },
                    { "addressLine1": "2 Second St", "isDefault": true }
                ],
                "address": { "addressLine1": "2 Second St" },
                "attributes": {
                    "comms": { "emailPromo": true, "smsPromo": false, "emailDiscover": false, "termsAcceptedVersion": "v2" },
                    "appearance": { "hairColour": "Black", "sizeShoe": "9" },
                    "dates": [{ "date": "2020-05-13", "name": "Anniversary", "meta": ["a"], "isRecurring": true, "recurringSchedule": "YEARLY" }]
                },
                "identities": [
                    { "handle": "shopify", "identifier": "42", "isPrimary": true, "isActive": true },
                    { "handle": "pos", "identifier": "7", "isPrimary": false, "isActive": true }
                ],
                "customAttributes": { "custom": { "example-field": "test" } },
                "profileType": "TEMPORARY",
                "version": 1
            },
            "userErrors": []
        })
    );
    let tags = app.data("{ tags { handle name } }", json!({})).await;
    assert_eq!(
        tags["tags"],
        json!([{ "handle": "eco", "name": "eco" }, { "handle": "vip-customer", "name": "VIP Customer" }])
    );
}

#[tokio::test]
async fn an_empty_create_makes_an_active_profile_with_defaults() {
    let app = TestApp::spawn().await;
    let profile = create(&app, json!({})).await;
    let read = app
        .data(
            "query($id: UUID!) { profile(id: $id) { profileType version customAttributes addresses { id }
                attributes { comms { emailOptout emailPromo smsDiscover postVerification } } } }",
            json!({ "id": profile["id"] }),
        )
        .await;
    assert_eq!(
        read["profile"],
        json!({ "profileType": "ACTIVE", "version": 1, "customAttributes": {}, "addresses": [],
                "attributes": { "comms": { "emailOptout": false, "emailPromo": false, "smsDiscover": true, "postVerification": "NOT_SENT" } } })
    );
}

#[tokio::test]
async fn update_leaves_omitted_fields_clears_nulls_and_counts_versions() {
    let app = TestApp::spawn().await;
    let profile = create(
        &app,
        json!({ "firstName": "Ann", "lastName": "Lee", "email": "ann@example.com", "birthYear": 1990,
                                        "customAttributes": { "a": { "b": 1 } } }),
    )
    .await;
    let id = profile["id"].clone();
    let payload = app
        .mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "firstName": "Anna", "lastName": null } }))
        .await;
    let updated = &payload["profile"];
    assert_eq!(user_errors(&payload), vec![]);
    assert_eq!((updated["firstName"].clone(), updated["lastName"].clone()), (json!("Anna"), Value::Null));
    assert_eq!(updated["email"], "ann@example.com", "omitted: left as it was");
    assert_eq!(updated["birthYear"], 1990);
    assert_eq!(updated["version"], 2);

    let payload = app
        .mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "customAttributes": { "c": { "d": true } } } }))
        .await;
    assert_eq!(
        payload["profile"]["customAttributes"],
        json!({ "c": { "d": true } }),
        "a given object replaces the whole"
    );
    let payload = app.mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "customAttributes": null } })).await;
    assert_eq!(payload["profile"]["customAttributes"], json!({}));
    assert_eq!(payload["profile"]["version"], 4);

    // The birth parts are checked as they will be stored: 29 February in 1990 is not a day.
    let before = app.row_counts().await;
    let payload =
        app.mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "birthMonth": 2, "birthDay": 29 } })).await;
    assert_eq!(user_errors(&payload), vec![("input.birthDay".to_owned(), "INVALID".to_owned())]);
    let payload = app
        .mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "joinedAt": null, "profileType": null } }))
        .await;
    assert_eq!(
        user_errors(&payload),
        vec![
            ("input.joinedAt".to_owned(), "REQUIRED".to_owned()),
            ("input.profileType".to_owned(), "REQUIRED".to_owned())
        ]
    );
    assert_eq!(app.row_counts().await, before);
    let read = app.data("query($id: UUID!) { profile(id: $id) { version birthMonth } }", json!({ "id": id })).await;
    assert_eq!(read["profile"], json!({ "version": 4, "birthMonth": null }), "failed updates wrote nothing");
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({ "firstName": "Ann" })).await["id"].clone();
    let ok = app
        .mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "firstName": "B" }, "expectedVersion": 1 }))
        .await;
    assert_eq!(ok["profile"]["version"], 2);
    let stale = app
        .mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "firstName": "C" }, "expectedVersion": 1 }))
        .await;
    assert_eq!(user_errors(&stale), vec![("expectedVersion".to_owned(), "VERSION_CONFLICT".to_owned())]);
    assert_eq!(stale["profile"], Value::Null);
    let read = app.data("query($id: UUID!) { profile(id: $id) { firstName version } }", json!({ "id": id })).await;
    assert_eq!(read["profile"], json!({ "firstName": "B", "version": 2 }));
}

#[tokio::test]
async fn unknown_profiles_are_not_found() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::new_v4();
    let update = app.mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "firstName": "x" } })).await;
    assert_eq!(user_errors(&update), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);
    for field in ["deleteProfile", "restoreProfile"] {
        let query =
            format!("mutation($id: UUID!) {{ {field}(id: $id) {{ profile {{ id }} userErrors {{ field code }} }} }}");
        let payload = app.mutate(field, &query, json!({ "id": id })).await;
        assert_eq!(user_errors(&payload), vec![("id".to_owned(), "NOT_FOUND".to_owned())], "{field}");
    }
    let purge = app
        .mutate(
            "purgeProfile",
            "mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId userErrors { field code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(purge, json!({ "purgedProfileId": null, "userErrors": [{ "field": ["id"], "code": "NOT_FOUND" }] }));
}

#[tokio::test]
async fn soft_delete_hides_restore_returns_and_purge_frees_unique_values() {
    let app = TestApp::spawn().await;
    let input = json!({
        "email": "ann@example.com", "mobilePhone": "+61404123123", "profileType": "TEMPORARY",
        "identities": [{ "handle": "shopify", "identifier": "42", "isPrimary": true }],
        "addresses": [{ "addressLine1": "1 Main St", "city": "X", "postcode": "1", "country": "Y" }], "tags": ["t"]
    });
    let id = create(&app, input.clone()).await["id"].clone();
    let empty = app.row_counts().await;

    let deleted = app.mutate("deleteProfile", LIFECYCLE, json!({ "id": id })).await;
    assert_eq!(deleted["profile"]["profileType"], "DELETED");
    let read =
        app.data("query($id: UUID!) { profile(id: $id) { id } profiles { totalCount } }", json!({ "id": id })).await;
    assert_eq!(read, json!({ "profile": null, "profiles": { "totalCount": 0 } }));
    let update = app.mutate("updateProfile", UPDATE, json!({ "id": id, "input": { "firstName": "x" } })).await;
    assert_eq!(
        user_errors(&update),
        vec![("id".to_owned(), "NOT_FOUND".to_owned())],
        "deleted profiles cannot be edited"
    );

    // A deleted profile keeps its unique values reserved.
    let taken = app.mutate("createProfile", CREATE, json!({ "input": input })).await;
    assert_eq!(
        user_errors(&taken),
        vec![
            ("input.email".to_owned(), "TAKEN".to_owned()),
            ("input.mobilePhone".to_owned(), "TAKEN".to_owned()),
            ("input.identities.0.identifier".to_owned(), "TAKEN".to_owned())
        ]
    );

    let restore =
        "mutation($id: UUID!) { restoreProfile(id: $id) { profile { profileType version } userErrors { code } } }";
    let restored = app.mutate("restoreProfile", restore, json!({ "id": id })).await;
    assert_eq!(restored, json!({ "profile": { "profileType": "TEMPORARY", "version": 3 }, "userErrors": [] }));
    let again = app.mutate("restoreProfile", restore, json!({ "id": id })).await;
    assert_eq!(again["userErrors"], json!([{ "code": "NOT_FOUND" }]), "only deleted profiles can be restored");

    let purge = "mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId userErrors { code } } }";
    let purged = app.mutate("purgeProfile", purge, json!({ "id": id })).await;
    assert_eq!(purged, json!({ "purgedProfileId": id, "userErrors": [] }));
    // Its change events stay: they are history, not the profile's.
    let counts: Vec<_> =
        app.row_counts().await.into_iter().filter(|(table, n)| *n > 0 && *table != "profile_event").collect();
    assert_eq!(counts, vec![("tag", 1)], "everything the profile owned went with it; the tag stays");
    assert_ne!(empty, counts);
    create(&app, input).await;
}
