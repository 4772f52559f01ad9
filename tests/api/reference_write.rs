//! Tags, statuses, tiers and locations: create, update, delete, and what deleting one
//! in use does.

use serde_json::{Value, json};

use crate::helpers::{TestApp, user_errors};
use crate::profile_write::create;

async fn run(app: &TestApp, field: &str, query: &str, variables: Value) -> Value {
    app.mutate(field, query, variables).await
}

#[tokio::test]
async fn reference_records_are_created_unique_changed_and_listed() {
    let app = TestApp::spawn().await;
    let tier = "mutation($input: TierInput!) { createTier(input: $input) { tier { id handle name rank } userErrors { field code } } }";
    let gold =
        run(&app, "createTier", tier, json!({ "input": { "handle": " Gold ", "name": "Gold", "rank": 3 } })).await;
    assert_eq!(gold["tier"]["handle"], "gold");
    let taken = run(&app, "createTier", tier, json!({ "input": { "handle": "GOLD", "name": "Again" } })).await;
    assert_eq!(user_errors(&taken), vec![("input.handle".to_owned(), "TAKEN".to_owned())]);
    let blank = run(&app, "createTier", tier, json!({ "input": { "handle": " ", "name": " " } })).await;
    assert_eq!(
        user_errors(&blank),
        vec![("input.handle".to_owned(), "REQUIRED".to_owned()), ("input.name".to_owned(), "REQUIRED".to_owned())]
    );

    let tag =
        "mutation($input: TagInput!) { createTag(input: $input) { tag { handle name } userErrors { field code } } }";
    assert_eq!(
        run(&app, "createTag", tag, json!({ "input": { "handle": "New In" } })).await["tag"],
        json!({ "handle": "new-in", "name": "New In" })
    );
    let status = "mutation($input: StatusInput!) { createStatus(input: $input) { status { handle name rank } userErrors { field code } } }";
    assert_eq!(
        run(&app, "createStatus", status, json!({ "input": { "handle": "vip", "name": "VIP" } })).await["status"]["rank"],
        0
    );

    let location = "mutation($input: LocationInput!) { createLocation(input: $input) { location { id name externalId } userErrors { field code } } }";
    let store = run(&app, "createLocation", location, json!({ "input": { "name": "CBD", "externalId": "S1" } })).await;
    let again =
        run(&app, "createLocation", location, json!({ "input": { "name": "CBD 2", "externalId": "S1" } })).await;
    assert_eq!(user_errors(&again), vec![("input.externalId".to_owned(), "TAKEN".to_owned())]);

    let update = "mutation($id: ID!, $input: LocationUpdateInput!) { updateLocation(id: $id, input: $input) { location { name externalId externalCode } userErrors { field code } } }";
    let changed = run(
        &app,
        "updateLocation",
        update,
        json!({ "id": store["location"]["id"], "input": { "externalId": null, "externalCode": "C" } }),
    )
    .await;
    assert_eq!(changed["location"], json!({ "name": "CBD", "externalId": null, "externalCode": "C" }));
    let missing = run(&app, "updateLocation", update, json!({ "id": "424242", "input": { "name": "X" } })).await;
    assert_eq!(user_errors(&missing), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);

    let lists =
        app.data("{ tiers { handle } tags { handle } statuses { handle } locations { name } }", json!({})).await;
    assert_eq!(
        lists,
        json!({ "tiers": [{ "handle": "gold" }], "tags": [{ "handle": "new-in" }], "statuses": [{ "handle": "vip" }], "locations": [{ "name": "CBD" }] })
    );
}

#[tokio::test]
async fn deleting_a_label_detaches_it_and_deleting_a_used_tier_or_location_is_refused() {
    let app = TestApp::spawn().await;
    run(
        &app,
        "createTier",
        "mutation { createTier(input: { handle: \"gold\", name: \"Gold\" }) { tier { id } } }",
        json!({}),
    )
    .await;
    let location = run(
        &app,
        "createLocation",
        "mutation { createLocation(input: { name: \"CBD\", externalId: \"S1\" }) { location { id } } }",
        json!({}),
    )
    .await;
    let status = run(
        &app,
        "createStatus",
        "mutation { createStatus(input: { handle: \"vip\", name: \"VIP\" }) { status { id } } }",
        json!({}),
    )
    .await;
    let profile = create(
        &app,
        json!({ "tags": ["eco"], "statuses": ["vip"], "tierHandle": "gold", "joinedLocationExternalId": "S1" }),
    )
    .await;
    let read = "query($id: UUID!) { profile(id: $id) { version flattenedTags flattenedStatuses tierHandle joinedLocation { name } } }";
    let tags = app.data("{ tags { id } tiers { id } }", json!({})).await;

    let delete_tag = "mutation($id: ID!) { deleteTag(id: $id) { deletedId userErrors { code } } }";
    let deleted = run(&app, "deleteTag", delete_tag, json!({ "id": tags["tags"][0]["id"] })).await;
    assert_eq!(deleted, json!({ "deletedId": tags["tags"][0]["id"], "userErrors": [] }));
    let delete_status = "mutation($id: ID!) { deleteStatus(id: $id) { deletedId userErrors { code } } }";
    run(&app, "deleteStatus", delete_status, json!({ "id": status["status"]["id"] })).await;
    let after = app.data(read, json!({ "id": profile["id"] })).await;
    assert_eq!(
        after["profile"],
        json!({ "version": 3, "flattenedTags": [], "flattenedStatuses": [], "tierHandle": "gold", "joinedLocation": { "name": "CBD" } }),
        "labels are detached, and each detachment is a change"
    );

    let before = app.row_counts().await;
    let delete_tier = "mutation($id: ID!) { deleteTier(id: $id) { deletedId userErrors { field code } } }";
    let refused = run(&app, "deleteTier", delete_tier, json!({ "id": tags["tiers"][0]["id"] })).await;
    assert_eq!(refused["deletedId"], Value::Null);
    assert_eq!(user_errors(&refused), vec![("id".to_owned(), "IN_USE".to_owned())]);
    let delete_location = "mutation($id: ID!) { deleteLocation(id: $id) { deletedId userErrors { field code } } }";
    let refused = run(&app, "deleteLocation", delete_location, json!({ "id": location["location"]["id"] })).await;
    assert_eq!(user_errors(&refused), vec![("id".to_owned(), "IN_USE".to_owned())]);
    assert_eq!(app.row_counts().await, before);

    // Renaming the tier's handle carries its profiles along.
    let rename = "mutation($id: ID!) { updateTier(id: $id, input: { handle: \"Platinum\" }) { tier { handle } userErrors { code } } }";
    assert_eq!(
        run(&app, "updateTier", rename, json!({ "id": tags["tiers"][0]["id"] })).await["tier"]["handle"],
        "platinum"
    );
    let moved = app.data(read, json!({ "id": profile["id"] })).await;
    assert_eq!(
        (moved["profile"]["tierHandle"].clone(), moved["profile"]["version"].clone()),
        (json!("platinum"), json!(4))
    );

    let purge = "mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId } }";
    run(&app, "purgeProfile", purge, json!({ "id": profile["id"] })).await;
    let freed = run(&app, "deleteTier", delete_tier, json!({ "id": tags["tiers"][0]["id"] })).await;
    assert_eq!(user_errors(&freed), vec![]);
}
