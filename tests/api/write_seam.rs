//! The one write seam: every mutation that changes a profile writes exactly one
//! change event per changed profile into the outbox, in its transaction, with the
//! version it left; a mutation that fails or changes no profile writes none. Every root mutation of the
//! schema is run here (a test fails when a new one is not).

use std::collections::{BTreeMap, BTreeSet};

use entity::{profile, profile_event};
use sea_orm::{ActiveEnum, EntityTrait, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, user_errors};

/// Every profile's version, and every recorded change by its place in commit order
/// (profile, kind, version). A purge erases the profile's earlier changes.
async fn snapshot(app: &TestApp) -> (BTreeMap<String, i32>, BTreeMap<i64, (String, String, i32)>) {
    let versions = profile::Entity::find()
        .all(&app.db)
        .await
        .expect("profiles")
        .into_iter()
        .map(|p| (p.id.to_string(), p.version))
        .collect();
    let changes = profile_event::Entity::find()
        .order_by_asc(profile_event::Column::Seq)
        .all(&app.db)
        .await
        .expect("events")
        .into_iter()
        .map(|e| {
            let kind = e.kind.to_value().trim_start_matches("profile.").to_owned();
            (e.seq, (e.profile_id.to_string(), kind, e.version))
        })
        .collect();
    (versions, changes)
}

struct Seam<'a> {
    app: &'a TestApp,
    run: BTreeSet<String>,
}

impl Seam<'_> {
    /// Runs mutation `field` and checks that it recorded exactly `expected` (profile,
    /// kind) and that those are exactly the profiles whose version moved, each by one.
    /// Returns the payload.
    async fn step(&mut self, field: &str, query: &str, variables: Value, expected: &[(&str, &str)]) -> Value {
        self.run.insert(field.to_owned());
        let (versions_before, changes_before) = snapshot(self.app).await;
        let response = self.app.graphql(query, variables).await;
        assert!(response.get("errors").is_none(), "{field}: {response}");
        let payload = response["data"][field].clone();
        let (versions_after, changes_after) = snapshot(self.app).await;
        let last = changes_before.keys().next_back().copied().unwrap_or_default();
        let recorded: Vec<&(String, String, i32)> = changes_after.range(last + 1..).map(|(_, change)| change).collect();

        let mut got: Vec<(String, String)> = recorded.iter().map(|(id, kind, _)| (id.clone(), kind.clone())).collect();
        // `new` stands for the profile the payload returns (one just created).
        let new = payload["profile"]["id"].as_str().unwrap_or_default();
        let mut want: Vec<(String, String)> = expected
            .iter()
            .map(|(id, k)| ((if *id == "new" { new } else { id }).to_owned(), (*k).to_owned()))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{field}: recorded changes: {payload}");

        let ids: BTreeSet<&String> = versions_before.keys().chain(versions_after.keys()).collect();
        let moved: BTreeSet<String> =
            ids.into_iter().filter(|id| versions_before.get(*id) != versions_after.get(*id)).cloned().collect();
        let recorded_ids: BTreeSet<String> = recorded.iter().map(|(id, _, _)| id.clone()).collect();
        assert_eq!(moved, recorded_ids, "{field}: the profiles whose version moved are those recorded");
        for (id, kind, version) in recorded.iter().copied() {
            match kind.as_str() {
                "purged" => assert_eq!(Some(version), versions_before.get(id), "{field}: the last version"),
                "created" => assert_eq!(versions_after.get(id), Some(&1), "{field}: a new profile is version 1"),
                _ => {
                    assert_eq!(versions_after.get(id), Some(version), "{field}: the version it left");
                    assert_eq!(versions_before.get(id).map(|v| v + 1), Some(*version), "{field}: one step");
                }
            }
        }
        payload
    }
}

const PROFILE: &str = "profile { id version } userErrors { field code }";

#[tokio::test]
async fn every_mutation_records_one_change_per_changed_profile_and_failures_record_none() {
    let app = TestApp::spawn().await;
    let mut seam = Seam { app: &app, run: BTreeSet::new() };
    let id = |payload: &Value, record: &str| payload[record]["id"].as_str().expect("an id").to_owned();

    // Reference data changes no profile.
    let tag = seam
        .step(
            "createTag",
            "mutation { createTag(input: { handle: \"t0\", name: \"T0\" }) { tag { id } } }",
            json!({}),
            &[],
        )
        .await;
    let tag = id(&tag, "tag");
    let status = seam
        .step(
            "createStatus",
            "mutation { createStatus(input: { handle: \"s0\", name: \"S0\" }) { status { id } } }",
            json!({}),
            &[],
        )
        .await;
    let status = id(&status, "status");
    seam.app
        .data("mutation { createStatus(input: { handle: \"s1\", name: \"S1\" }) { status { id } } }", json!({}))
        .await;
    let tier = seam
        .step(
            "createTier",
            "mutation { createTier(input: { handle: \"gold\", name: \"Gold\" }) { tier { id } } }",
            json!({}),
            &[],
        )
        .await;
    let tier = id(&tier, "tier");
    let spare_tier = app
        .data("mutation { createTier(input: { handle: \"spare\", name: \"Spare\" }) { tier { id } } }", json!({}))
        .await;
    let spare_tier = id(&spare_tier["createTier"], "tier");
    let location = seam
        .step(
            "createLocation",
            "mutation { createLocation(input: { name: \"Shop\", externalId: \"L1\" }) { location { id } } }",
            json!({}),
            &[],
        )
        .await;
    let location = id(&location, "location");
    let spare_location =
        app.data("mutation { createLocation(input: { name: \"Spare\" }) { location { id } } }", json!({})).await;
    let spare_location = id(&spare_location["createLocation"], "location");

    let create = format!("mutation($i: ProfileCreateInput!) {{ createProfile(input: $i) {{ {PROFILE} }} }}");
    let input = json!({ "firstName": "P", "tags": ["t0"], "statuses": ["s0"], "tierHandle": "gold", "preferredLocationId": location });
    let p = seam.step("createProfile", &create, json!({ "i": input }), &[("new", "created")]).await;
    let p_id = id(&p, "profile");
    let q = seam.step("createProfile", &create, json!({ "i": { "firstName": "Q" } }), &[("new", "created")]).await;
    let q_id = id(&q, "profile");
    let failed = seam
        .step("createProfile", &create, json!({ "i": { "email": "taken@example.com" } }), &[("new", "created")])
        .await;
    assert_eq!(user_errors(&failed), vec![]);
    let failed = seam.step("createProfile", &create, json!({ "i": { "email": "TAKEN@example.com" } }), &[]).await;
    assert_eq!(user_errors(&failed), vec![("input.email".to_owned(), "TAKEN".to_owned())]);
    let (p, q) = (p_id.as_str(), q_id.as_str());

    // A failed mutation records nothing.
    let update = format!(
        "mutation($id: UUID!, $i: ProfileUpdateInput!, $v: Int) {{ updateProfile(id: $id, input: $i, expectedVersion: $v) {{ {PROFILE} }} }}"
    );
    let failed = seam.step("updateProfile", &update, json!({ "id": p, "i": { "firstName": "X" }, "v": 99 }), &[]).await;
    assert_eq!(user_errors(&failed), vec![("expectedVersion".to_owned(), "VERSION_CONFLICT".to_owned())]);
    let failed = seam.step("updateProfile", &update, json!({ "id": p, "i": { "email": "not an email" } }), &[]).await;
    assert_eq!(user_errors(&failed)[0].1, "INVALID");
    seam.step("updateProfile", &update, json!({ "id": p, "i": { "firstName": "Pat" } }), &[(p, "updated")]).await;

    // Upserts and imports: a create, an update, and nothing for an unchanged or failed row.
    let upsert = format!(
        "mutation($k: ProfileKey!, $i: ProfileCreateInput!) {{ upsertProfile(key: $k, input: $i) {{ status {PROFILE} }} }}"
    );
    let key = json!({ "email": "upsert@example.com" });
    let input = json!({ "email": "upsert@example.com", "firstName": "U" });
    let u = seam.step("upsertProfile", &upsert, json!({ "k": key, "i": input }), &[("new", "created")]).await;
    let u_id = id(&u, "profile");
    let u = u_id.as_str();
    let same = seam.step("upsertProfile", &upsert, json!({ "k": key, "i": input }), &[]).await;
    assert_eq!(same["status"], json!("UNCHANGED"));
    let input = json!({ "firstName": "V" });
    seam.step("upsertProfile", &upsert, json!({ "k": key, "i": input }), &[(u, "updated")]).await;
    let import = "mutation($rows: [JSON!]!) { importProfiles(rows: $rows) { created updated unchanged failed } }";
    let rows = json!([
        { "email": "upsert@example.com", "last_name": "W" },
        { "email": "upsert@example.com", "last_name": "W" },
        { "id": p, "email": "not an email" }
    ]);
    let counts = seam.step("importProfiles", import, json!({ "rows": rows }), &[(u, "updated")]).await;
    assert_eq!(counts, json!({ "created": 0, "updated": 1, "unchanged": 1, "failed": 1 }));

    // What a profile owns.
    let address = seam
        .step("createAddress", "mutation($p: UUID!) { createAddress(profileId: $p, input: { addressLine1: \"1 St\", city: \"Sydney\", postcode: \"2000\", country: \"AU\" }) { address { id } } }", json!({ "p": p }), &[(p, "updated")])
        .await;
    let address = id(&address, "address");
    seam.step(
        "updateAddress",
        "mutation($id: ID!) { updateAddress(id: $id, input: { city: \"Melbourne\" }) { address { id } } }",
        json!({ "id": address }),
        &[(p, "updated")],
    )
    .await;
    seam.step(
        "deleteAddress",
        "mutation($id: ID!) { deleteAddress(id: $id) { deletedId } }",
        json!({ "id": address }),
        &[(p, "updated")],
    )
    .await;
    let date = seam
        .step("createProfileDate", "mutation($p: UUID!) { createProfileDate(profileId: $p, input: { date: \"2000-01-01\", name: \"Day\" }) { profileDate { id } } }", json!({ "p": p }), &[(p, "updated")])
        .await;
    let date = id(&date, "profileDate");
    seam.step(
        "updateProfileDate",
        "mutation($id: ID!) { updateProfileDate(id: $id, input: { name: \"Other\" }) { profileDate { id } } }",
        json!({ "id": date }),
        &[(p, "updated")],
    )
    .await;
    seam.step(
        "deleteProfileDate",
        "mutation($id: ID!) { deleteProfileDate(id: $id) { deletedId } }",
        json!({ "id": date }),
        &[(p, "updated")],
    )
    .await;
    let identity = seam
        .step("createIdentity", "mutation($p: UUID!) { createIdentity(profileId: $p, input: { handle: \"pos\", identifier: \"1\" }) { identity { id } } }", json!({ "p": p }), &[(p, "updated")])
        .await;
    let identity = id(&identity, "identity");
    seam.step(
        "updateIdentity",
        "mutation($id: ID!) { updateIdentity(id: $id, input: { identifier: \"2\" }) { identity { id } } }",
        json!({ "id": identity }),
        &[(p, "updated")],
    )
    .await;
    seam.step(
        "deleteIdentity",
        "mutation($id: ID!) { deleteIdentity(id: $id) { deletedId } }",
        json!({ "id": identity }),
        &[(p, "updated")],
    )
    .await;
    for (field, handles) in [
        ("addTags", "[\"t1\"]"),
        ("removeTags", "[\"t1\"]"),
        ("addStatuses", "[\"s1\"]"),
        ("removeStatuses", "[\"s1\"]"),
    ] {
        let query = format!("mutation($p: UUID!) {{ {field}(profileId: $p, handles: {handles}) {{ {PROFILE} }} }}");
        seam.step(field, &query, json!({ "p": p }), &[(p, "updated")]).await;
    }
    let failed = seam
        .step(
            "addStatuses",
            "mutation($p: UUID!) { addStatuses(profileId: $p, handles: [\"nope\"]) { userErrors { code } } }",
            json!({ "p": p }),
            &[],
        )
        .await;
    assert_eq!(failed["userErrors"][0]["code"], "NOT_FOUND");
    seam.step(
        "updateComms",
        "mutation($p: UUID!) { updateComms(profileId: $p, input: { emailPromo: true }) { comms { emailPromo } } }",
        json!({ "p": p }),
        &[(p, "updated")],
    )
    .await;
    seam.step("updateAppearance", "mutation($p: UUID!) { updateAppearance(profileId: $p, input: { hairColour: \"red\" }) { appearance { hairColour } } }", json!({ "p": p }), &[(p, "updated")]).await;
    seam.step("setCustomAttributes", "mutation($p: UUID!) { setCustomAttributes(profileId: $p, attributes: [{ namespace: \"pos\", handle: \"x\", value: 1 }]) { profile { id } } }", json!({ "p": p }), &[(p, "updated")]).await;

    // Reference data the profile shows: changing what it shows changes the profile.
    seam.step(
        "updateTag",
        "mutation($id: ID!) { updateTag(id: $id, input: { name: \"Renamed\" }) { tag { id } } }",
        json!({ "id": tag }),
        &[],
    )
    .await;
    seam.step(
        "updateTag",
        "mutation($id: ID!) { updateTag(id: $id, input: { handle: \"t0b\" }) { tag { id } } }",
        json!({ "id": tag }),
        &[(p, "updated")],
    )
    .await;
    seam.step(
        "updateStatus",
        "mutation($id: ID!) { updateStatus(id: $id, input: { handle: \"s0b\" }) { status { id } } }",
        json!({ "id": status }),
        &[(p, "updated")],
    )
    .await;
    seam.step(
        "updateTier",
        "mutation($id: ID!) { updateTier(id: $id, input: { handle: \"gold2\" }) { tier { id } } }",
        json!({ "id": tier }),
        &[(p, "updated")],
    )
    .await;
    seam.step(
        "updateLocation",
        "mutation($id: ID!) { updateLocation(id: $id, input: { externalId: \"L2\" }) { location { id } } }",
        json!({ "id": location }),
        &[(p, "updated")],
    )
    .await;
    seam.step(
        "deleteTag",
        "mutation($id: ID!) { deleteTag(id: $id) { deletedId } }",
        json!({ "id": tag }),
        &[(p, "updated")],
    )
    .await;
    seam.step(
        "deleteStatus",
        "mutation($id: ID!) { deleteStatus(id: $id) { deletedId } }",
        json!({ "id": status }),
        &[(p, "updated")],
    )
    .await;
    let refused = seam
        .step(
            "deleteTier",
            "mutation($id: ID!) { deleteTier(id: $id) { userErrors { code } } }",
            json!({ "id": tier }),
            &[],
        )
        .await;
    assert_eq!(refused["userErrors"][0]["code"], "IN_USE");
    seam.step(
        "deleteTier",
        "mutation($id: ID!) { deleteTier(id: $id) { deletedId } }",
        json!({ "id": spare_tier }),
        &[],
    )
    .await;
    seam.step(
        "deleteLocation",
        "mutation($id: ID!) { deleteLocation(id: $id) { deletedId } }",
        json!({ "id": spare_location }),
        &[],
    )
    .await;

    // The profile's life.
    seam.step(
        "deleteProfile",
        &format!("mutation($id: UUID!) {{ deleteProfile(id: $id) {{ {PROFILE} }} }}"),
        json!({ "id": p }),
        &[(p, "deleted")],
    )
    .await;
    seam.step(
        "restoreProfile",
        &format!("mutation($id: UUID!) {{ restoreProfile(id: $id) {{ {PROFILE} }} }}"),
        json!({ "id": p }),
        &[(p, "restored")],
    )
    .await;
    seam.step(
        "restoreProfile",
        &format!("mutation($id: UUID!) {{ restoreProfile(id: $id) {{ {PROFILE} }} }}"),
        json!({ "id": p }),
        &[],
    )
    .await;
    // Webhooks change no profile: they record nothing (a delivery is not a change).
    let webhook = seam
        .step(
            "createWebhook",
            r#"mutation { createWebhook(input: { url: "http://127.0.0.1:9/hook", events: ["*"], isActive: false }) { webhook { id } } }"#,
            json!({}),
            &[],
        )
        .await["webhook"]["id"]
        .clone();
    seam.step(
        "updateWebhook",
        "mutation($id: UUID!) { updateWebhook(id: $id, input: { description: \"x\" }) { webhook { id } } }",
        json!({ "id": webhook }),
        &[],
    )
    .await;
    seam.step(
        "rotateWebhookSecret",
        "mutation($id: UUID!) { rotateWebhookSecret(id: $id) { secret } }",
        json!({ "id": webhook }),
        &[],
    )
    .await;
    seam.step(
        "updateWebhook",
        "mutation($id: UUID!) { updateWebhook(id: $id, input: { isActive: true }) { webhook { id } } }",
        json!({ "id": webhook }),
        &[],
    )
    .await;
    seam.step(
        "updateProfile",
        &format!(
            "mutation($id: UUID!) {{ updateProfile(id: $id, input: {{ firstName: \"Hooked\" }}) {{ {PROFILE} }} }}"
        ),
        json!({ "id": p }),
        &[(p, "updated")],
    )
    .await;
    let log = app
        .data("query($id: UUID!) { webhook(id: $id) { deliveries { nodes { id } } } }", json!({ "id": webhook }))
        .await;
    seam.step(
        "redeliverWebhookDelivery",
        "mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { delivery { id } } }",
        json!({ "id": log["webhook"]["deliveries"]["nodes"][0]["id"] }),
        &[],
    )
    .await;
    seam.step(
        "deleteWebhook",
        "mutation($id: UUID!) { deleteWebhook(id: $id) { deletedId } }",
        json!({ "id": webhook }),
        &[],
    )
    .await;
    seam.step(
        "purgeProfile",
        "mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId } }",
        json!({ "id": q }),
        &[(q, "purged")],
    )
    .await;

    // A merge: the survivor's event, and a deleted event for the duplicate; a failed
    // merge and a repeated one record nothing.
    let merge = "mutation($s: UUID!, $d: [UUID!]!) { mergeProfiles(input: { survivorId: $s, duplicateIds: $d }) { merge { id } userErrors { field code } } }";
    let failed = seam.step("mergeProfiles", merge, json!({ "s": p, "d": [p] }), &[]).await;
    assert_eq!(user_errors(&failed), vec![("input.duplicateIds.0".to_owned(), "SAME_PROFILE".to_owned())]);
    let done = seam.step("mergeProfiles", merge, json!({ "s": p, "d": [u] }), &[(p, "merged"), (u, "deleted")]).await;
    let again = seam.step("mergeProfiles", merge, json!({ "s": p, "d": [u] }), &[]).await;
    assert_eq!(again["merge"]["id"], done["merge"]["id"]);

    // Every mutation of the schema went through this test.
    let schema = app.data("{ __schema { mutationType { fields { name } } } }", json!({})).await;
    let all: BTreeSet<String> = schema["__schema"]["mutationType"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str().map(str::to_owned))
        .collect();
    let missing: Vec<&String> = all.difference(&seam.run).collect();
    assert!(missing.is_empty(), "mutations this test does not run: {missing:?}");
}
