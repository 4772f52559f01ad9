//! Mutations of what a profile owns: addresses and their default, dates, identities,
//! tags, statuses, comms, appearance and custom attributes. Each counts as a change to
//! the profile (`version` + 1).

use serde_json::{Value, json};

use crate::fixtures::reference_data;
use crate::helpers::{TestApp, user_errors};
use crate::profile_write::create;

const ADDRESSES: &str =
    "query($id: UUID!) { profile(id: $id) { version address { addressLine1 } addresses { addressLine1 isDefault } } }";

fn address(line: &str) -> Value {
    json!({ "addressLine1": line, "city": "Melbourne", "postcode": "3000", "country": "Australia" })
}

async fn add_address(app: &TestApp, profile: &Value, input: Value) -> Value {
    let query = "mutation($profileId: UUID!, $input: AddressInput!) {
      createAddress(profileId: $profileId, input: $input) { address { id isDefault } profile { version } userErrors { field code } }
    }";
    app.mutate("createAddress", query, json!({ "profileId": profile, "input": input })).await
}

async fn update_address(app: &TestApp, id: &Value, input: Value) -> Value {
    let query = "mutation($id: ID!, $input: AddressUpdateInput!) {
      updateAddress(id: $id, input: $input) { address { addressLine1 city isDefault } userErrors { field code } }
    }";
    app.mutate("updateAddress", query, json!({ "id": id, "input": input })).await
}

/// `(line 1, is default)` of each address, oldest first.
async fn addresses(app: &TestApp, profile: &Value) -> Vec<(String, bool)> {
    let data = app.data(ADDRESSES, json!({ "id": profile })).await;
    let list = data["profile"]["addresses"].as_array().expect("addresses").clone();
    let defaults = list.iter().filter(|a| a["isDefault"] == json!(true)).count();
    assert_eq!(defaults, usize::from(!list.is_empty()), "exactly one default: {list:?}");
    assert_eq!(
        data["profile"]["address"]["addressLine1"],
        list.iter().find(|a| a["isDefault"] == json!(true)).map_or(Value::Null, |a| a["addressLine1"].clone())
    );
    list.iter()
        .map(|a| (a["addressLine1"].as_str().unwrap_or_default().to_owned(), a["isDefault"] == json!(true)))
        .collect()
}

fn lines(expected: &[(&str, bool)]) -> Vec<(String, bool)> {
    expected.iter().map(|(line, default)| ((*line).to_owned(), *default)).collect()
}

#[tokio::test]
async fn a_profile_with_addresses_always_has_exactly_one_default() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({})).await["id"].clone();

    let first = add_address(&app, &id, address("A")).await;
    assert_eq!((first["address"]["isDefault"].clone(), first["profile"]["version"].clone()), (json!(true), json!(2)));
    let b = add_address(&app, &id, address("B")).await["address"]["id"].clone();
    assert_eq!(addresses(&app, &id).await, lines(&[("A", true), ("B", false)]), "the first address stays default");
    let c = add_address(
        &app,
        &id,
        json!({ "addressLine1": "C", "city": "X", "postcode": "1", "country": "Y", "isDefault": true }),
    )
    .await;
    assert_eq!(addresses(&app, &id).await, lines(&[("A", false), ("B", false), ("C", true)]), "isDefault moves it");
    let c = c["address"]["id"].clone();

    update_address(&app, &b, json!({ "isDefault": true, "city": "Sydney" })).await;
    assert_eq!(addresses(&app, &id).await, lines(&[("A", false), ("B", true), ("C", false)]));
    update_address(&app, &b, json!({ "isDefault": false })).await;
    assert_eq!(
        addresses(&app, &id).await,
        lines(&[("A", true), ("B", false), ("C", false)]),
        "passed to the oldest other"
    );

    let delete = "mutation($id: ID!) { deleteAddress(id: $id) { deletedId profile { version } userErrors { code } } }";
    let a = app.data(ADDRESSES, json!({ "id": id })).await;
    assert_eq!(a["profile"]["version"], 6, "created, three addresses added, two updates");
    let first_id = first["address"]["id"].clone();
    let deleted = app.mutate("deleteAddress", delete, json!({ "id": first_id })).await;
    assert_eq!(deleted, json!({ "deletedId": first_id, "profile": { "version": 7 }, "userErrors": [] }));
    assert_eq!(
        addresses(&app, &id).await,
        lines(&[("B", true), ("C", false)]),
        "deleting the default promotes the oldest left"
    );
    app.mutate("deleteAddress", delete, json!({ "id": b })).await;
    assert_eq!(addresses(&app, &id).await, lines(&[("C", true)]));
    let only = update_address(&app, &c, json!({ "isDefault": false })).await;
    assert_eq!(only["address"]["isDefault"], true, "ignored on the only address");
    app.mutate("deleteAddress", delete, json!({ "id": c })).await;
    assert_eq!(addresses(&app, &id).await, lines(&[]));
}

#[tokio::test]
async fn address_updates_validate_and_unknown_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({})).await["id"].clone();
    let a = add_address(&app, &id, address("A")).await["address"]["id"].clone();
    let before = app.row_counts().await;
    let payload =
        update_address(&app, &a, json!({ "city": null, "postcode": " ", "addressLine2": "x".repeat(201) })).await;
    assert_eq!(
        user_errors(&payload),
        vec![
            ("input.addressLine2".to_owned(), "TOO_LONG".to_owned()),
            ("input.city".to_owned(), "REQUIRED".to_owned()),
            ("input.postcode".to_owned(), "REQUIRED".to_owned())
        ]
    );
    let missing = update_address(&app, &json!("99999"), json!({ "city": "X" })).await;
    assert_eq!(user_errors(&missing), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);
    let no_profile = add_address(&app, &json!(uuid::Uuid::new_v4()), address("Z")).await;
    assert_eq!(user_errors(&no_profile), vec![("profileId".to_owned(), "NOT_FOUND".to_owned())]);
    assert_eq!(app.row_counts().await, before);
    let bad_id = app.graphql("mutation { deleteAddress(id: \"abc\") { deletedId } }", json!({})).await;
    assert_eq!(crate::helpers::error_codes(&bad_id), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn dates_are_created_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({})).await["id"].clone();
    let created = app
        .mutate(
            "createProfileDate",
            "mutation($id: UUID!) { createProfileDate(profileId: $id, input: { date: \"2020-05-13\", name: \"Anniversary\", meta: [\"a\", \"b\"] }) {
               profileDate { id date name isRecurring meta } profile { version } userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    let date_id = created["profileDate"]["id"].clone();
    assert_eq!(
        created,
        json!({ "profileDate": { "id": date_id, "date": "2020-05-13", "name": "Anniversary", "isRecurring": false, "meta": ["a", "b"] },
                "profile": { "version": 2 }, "userErrors": [] })
    );
    let updated = app
        .mutate(
            "updateProfileDate",
            "mutation($id: ID!) { updateProfileDate(id: $id, input: { isRecurring: true, recurringSchedule: MONTHLY, name: null, meta: null }) {
               profileDate { name isRecurring recurringSchedule meta date } userErrors { code } } }",
            json!({ "id": date_id }),
        )
        .await;
    assert_eq!(
        updated["profileDate"],
        json!({ "name": null, "isRecurring": true, "recurringSchedule": "MONTHLY", "meta": [], "date": "2020-05-13" })
    );
    let invalid = app
        .mutate(
            "updateProfileDate",
            "mutation($id: ID!) { updateProfileDate(id: $id, input: { date: null }) { profileDate { id } userErrors { field code } } }",
            json!({ "id": date_id }),
        )
        .await;
    assert_eq!(user_errors(&invalid), vec![("input.date".to_owned(), "REQUIRED".to_owned())]);
    let deleted = app
        .mutate(
            "deleteProfileDate",
            "mutation($id: ID!) { deleteProfileDate(id: $id) { deletedId profile { version attributes { dates { id } } } } }",
            json!({ "id": date_id }),
        )
        .await;
    assert_eq!(deleted, json!({ "deletedId": date_id, "profile": { "version": 4, "attributes": { "dates": [] } } }));
}

const CREATE_IDENTITY: &str = "mutation($id: UUID!, $input: IdentityInput!) {
  createIdentity(profileId: $id, input: $input) { identity { id isPrimary } profile { externalId } userErrors { field code } }
}";

#[tokio::test]
async fn identities_are_unique_and_one_is_primary() {
    let app = TestApp::spawn().await;
    let ann = create(&app, json!({ "identities": [{ "handle": "shopify", "identifier": "1", "isPrimary": true }] }))
        .await["id"]
        .clone();
    let bob = create(&app, json!({})).await["id"].clone();

    let taken = app
        .mutate(
            "createIdentity",
            CREATE_IDENTITY,
            json!({ "id": bob, "input": { "handle": "shopify", "identifier": "1" } }),
        )
        .await;
    assert_eq!(user_errors(&taken), vec![("input.identifier".to_owned(), "TAKEN".to_owned())]);

    let second = app
        .mutate(
            "createIdentity",
            CREATE_IDENTITY,
            json!({ "id": ann, "input": { "handle": "pos", "identifier": "9", "isPrimary": true } }),
        )
        .await;
    assert_eq!(second["profile"]["externalId"], "9", "the new primary identity is the external id");
    let read = app
        .data("query($id: UUID!) { profile(id: $id) { identities { identifier isPrimary } } }", json!({ "id": ann }))
        .await;
    assert_eq!(
        read["profile"]["identities"],
        json!([{ "identifier": "1", "isPrimary": false }, { "identifier": "9", "isPrimary": true }])
    );

    let update = "mutation($id: ID!, $input: IdentityUpdateInput!) {
      updateIdentity(id: $id, input: $input) { identity { identifier isActive } profile { externalId } userErrors { field code } } }";
    let changed = app
        .mutate(
            "updateIdentity",
            update,
            json!({ "id": second["identity"]["id"], "input": { "identifier": "10", "isActive": false } }),
        )
        .await;
    assert_eq!(
        changed,
        json!({ "identity": { "identifier": "10", "isActive": false }, "profile": { "externalId": "10" }, "userErrors": [] })
    );
    let clash = app
        .mutate(
            "updateIdentity",
            update,
            json!({ "id": second["identity"]["id"], "input": { "handle": "shopify", "identifier": "1" } }),
        )
        .await;
    assert_eq!(user_errors(&clash), vec![("input.identifier".to_owned(), "TAKEN".to_owned())]);
    let null = app
        .mutate("updateIdentity", update, json!({ "id": second["identity"]["id"], "input": { "isPrimary": null } }))
        .await;
    assert_eq!(user_errors(&null), vec![("input.isPrimary".to_owned(), "REQUIRED".to_owned())]);

    let delete = "mutation($id: ID!) { deleteIdentity(id: $id) { deletedId profile { externalId } } }";
    let deleted = app.mutate("deleteIdentity", delete, json!({ "id": second["identity"]["id"] })).await;
    assert_eq!(deleted["profile"]["externalId"], Value::Null, "no primary identity is left");
}

const TAGS: &str = "mutation($id: UUID!, $handles: [String!]!) {
  addTags(profileId: $id, handles: $handles) { profile { flattenedTags version } userErrors { field code } }
}";
const UNTAG: &str = "mutation($id: UUID!, $handles: [String!]!) {
  removeTags(profileId: $id, handles: $handles) { profile { flattenedTags version } userErrors { field code } }
}";

#[tokio::test]
async fn tags_are_added_and_removed_idempotently_by_normalised_handle() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({})).await["id"].clone();
    let added = app.mutate("addTags", TAGS, json!({ "id": id, "handles": ["  Big  Spender", "eco"] })).await;
    assert_eq!(added["profile"], json!({ "flattenedTags": ["big-spender", "eco"], "version": 2 }));
    let again = app.mutate("addTags", TAGS, json!({ "id": id, "handles": ["BIG SPENDER"] })).await;
    assert_eq!(again["profile"], json!({ "flattenedTags": ["big-spender", "eco"], "version": 3 }), "idempotent");
    let removed = app.mutate("removeTags", UNTAG, json!({ "id": id, "handles": [" Big Spender ", "never-had"] })).await;
    assert_eq!(removed["profile"], json!({ "flattenedTags": ["eco"], "version": 4 }));
    let bad = app.mutate("addTags", TAGS, json!({ "id": id, "handles": ["ok", ""] })).await;
    assert_eq!(user_errors(&bad), vec![("handles.1".to_owned(), "REQUIRED".to_owned())]);
    let tags = app.data("{ tags { handle name } }", json!({})).await;
    assert_eq!(
        tags["tags"],
        json!([{ "handle": "big-spender", "name": "Big  Spender" }, { "handle": "eco", "name": "eco" }])
    );
}

#[tokio::test]
async fn statuses_must_exist_before_they_are_added() {
    let app = TestApp::spawn().await;
    reference_data(&app).await;
    let id = create(&app, json!({})).await["id"].clone();
    let add = "mutation($id: UUID!, $handles: [String!]!) {
      addStatuses(profileId: $id, handles: $handles) { profile { flattenedStatuses } userErrors { field code } } }";
    let remove = "mutation($id: UUID!, $handles: [String!]!) {
      removeStatuses(profileId: $id, handles: $handles) { profile { flattenedStatuses version } userErrors { field code } } }";
    let unknown = app.mutate("addStatuses", add, json!({ "id": id, "handles": ["vip", "gold-member"] })).await;
    assert_eq!(user_errors(&unknown), vec![("handles.1".to_owned(), "NOT_FOUND".to_owned())]);
    let added = app.mutate("addStatuses", add, json!({ "id": id, "handles": ["VIP", "staff"] })).await;
    assert_eq!(added["profile"]["flattenedStatuses"], json!(["staff", "vip"]));
    let removed = app.mutate("removeStatuses", remove, json!({ "id": id, "handles": ["vip"] })).await;
    assert_eq!(removed["profile"], json!({ "flattenedStatuses": ["staff"], "version": 3 }));
}

#[tokio::test]
async fn comms_appearance_and_custom_attributes_change_only_what_is_given() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({ "customAttributes": { "custom": { "a": 1, "b": 2 } } })).await["id"].clone();
    let comms = app
        .mutate(
            "updateComms",
            "mutation($id: UUID!) { updateComms(profileId: $id, input: { smsOptout: true, emailVerification: VERIFIED, termsAcceptedAt: \"2021-01-27T00:00:00Z\" }) {
               comms { smsOptout emailOptout emailVerification termsAcceptedAt } profile { version } userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        comms,
        json!({ "comms": { "smsOptout": true, "emailOptout": false, "emailVerification": "VERIFIED", "termsAcceptedAt": "2021-01-27T00:00:00+00:00" },
                "profile": { "version": 2 }, "userErrors": [] })
    );
    let appearance = app
        .mutate(
            "updateAppearance",
            "mutation($id: UUID!, $input: AppearanceInput!) { updateAppearance(profileId: $id, input: $input) {
               appearance { hairColour sizeShoe skinType } userErrors { field code } } }",
            json!({ "id": id, "input": { "hairColour": "Red", "sizeShoe": "9" } }),
        )
        .await;
    assert_eq!(appearance["appearance"], json!({ "hairColour": "Red", "sizeShoe": "9", "skinType": null }));
    let too_long = app
        .mutate(
            "updateAppearance",
            "mutation($id: UUID!, $input: AppearanceInput!) { updateAppearance(profileId: $id, input: $input) { appearance { sizeShoe } userErrors { field code } } }",
            json!({ "id": id, "input": { "sizeShoe": null, "measurementNeckToWrist": "x".repeat(101) } }),
        )
        .await;
    assert_eq!(user_errors(&too_long), vec![("input.measurementNeckToWrist".to_owned(), "TOO_LONG".to_owned())]);

    let set = "mutation($id: UUID!, $attributes: [CustomAttributeInput!]!) {
      setCustomAttributes(profileId: $id, attributes: $attributes) { profile { customAttributes } userErrors { field code } } }";
    let changed = app
        .mutate(
            "setCustomAttributes",
            set,
            json!({ "id": id, "attributes": [
                { "namespace": "custom", "handle": "a", "value": { "nested": [1, 2] } },
                { "namespace": "custom", "handle": "b", "value": null },
                { "namespace": "loyalty", "handle": "since", "value": 2020 }
            ] }),
        )
        .await;
    assert_eq!(
        changed["profile"]["customAttributes"],
        json!({ "custom": { "a": { "nested": [1, 2] } }, "loyalty": { "since": 2020 } })
    );
    let bad = app
        .mutate(
            "setCustomAttributes",
            set,
            json!({ "id": id, "attributes": [{ "namespace": "Custom", "handle": "a b", "value": 1 }] }),
        )
        .await;
    assert_eq!(
        user_errors(&bad),
        vec![
            ("attributes.0.namespace".to_owned(), "INVALID".to_owned()),
            ("attributes.0.handle".to_owned(), "INVALID".to_owned())
        ]
    );
}
