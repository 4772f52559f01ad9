//! Writes that race: the database decides, and the losers get user errors.

use serde_json::{Value, json};

use crate::helpers::{TestApp, user_errors};
use crate::profile_write::{UPDATE, create};
use crate::validation::CREATE;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_updates_with_the_same_expected_version_let_exactly_one_through() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let id = create(&app, json!({ "firstName": "Ann" })).await["id"].clone();
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move {
                let variables =
                    json!({ "id": id, "input": { "firstName": format!("Writer {n}") }, "expectedVersion": 1 });
                app.mutate("updateProfile", UPDATE, variables).await
            })
        })
        .collect();
    let mut payloads = Vec::new();
    for task in tasks {
        payloads.push(task.await.expect("the task finishes"));
    }
    let winners: Vec<&Value> = payloads.iter().filter(|p| p["profile"] != Value::Null).collect();
    assert_eq!(winners.len(), 1, "{payloads:#?}");
    for loser in payloads.iter().filter(|p| p["profile"] == Value::Null) {
        assert_eq!(user_errors(loser), vec![("expectedVersion".to_owned(), "VERSION_CONFLICT".to_owned())]);
    }
    let read = app.data("query($id: UUID!) { profile(id: $id) { firstName version } }", json!({ "id": id })).await;
    assert_eq!(read["profile"], json!({ "firstName": winners[0]["profile"]["firstName"], "version": 2 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_creates_with_the_same_email_make_one_profile_and_one_taken() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    for round in 0..5 {
        let email = format!("race{round}@example.com");
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (app, email) = (app.clone(), email.clone());
                tokio::spawn(async move {
                    app.mutate("createProfile", CREATE, json!({ "input": { "email": email } })).await
                })
            })
            .collect();
        let mut errors = Vec::new();
        for task in tasks {
            errors.push(user_errors(&task.await.expect("the task finishes")));
        }
        errors.sort();
        assert_eq!(errors, vec![vec![], vec![("input.email".to_owned(), "TAKEN".to_owned())]], "round {round}");
    }
    let count = app.data("{ profiles { totalCount } }", json!({})).await;
    assert_eq!(count["profiles"]["totalCount"], 5);
}

/// What only a unique index catches (a race between check and write) is TAKEN at the
/// right field: checked with real violations, whose messages differ per database.
#[tokio::test]
async fn unique_index_violations_map_to_taken_at_the_right_field() {
    use entity::identity;
    use profiles_gateway::domain::validate::{Path, UserErrorCode};
    use profiles_gateway::service::error::{Error, Unique, taken};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

    let app = TestApp::spawn().await;
    let first = create(
        &app,
        json!({ "email": "a@example.com", "mobilePhone": "+61404123123",
                                      "identities": [{ "handle": "pos", "identifier": "1" }] }),
    )
    .await;
    let fields = [
        (Unique::ProfileEmail, Path::root("input").key("email")),
        (Unique::ProfileMobilePhone, Path::root("input").key("mobilePhone")),
        (Unique::Identity, Path::root("input").key("identities")),
    ];
    let mut fixture = crate::fixtures::bare_profile(0);
    // Written past the service, so with the key the service would give it.
    fixture.profile.email = Some("A@EXAMPLE.COM".to_owned());
    fixture.profile.email_key = Some(email_key::of("A@EXAMPLE.COM"));
    let email = fixture.profile.clone().into_active_model().insert(&app.db).await.expect_err("email is unique");
    (fixture.profile.email, fixture.profile.email_key) = (None, None);
    fixture.profile.mobile_phone = Some("+61404123123".to_owned());
    let phone = fixture.profile.clone().into_active_model().insert(&app.db).await.expect_err("phone is unique");
    let profile_id: uuid::Uuid = first["id"].as_str().expect("id").parse().expect("uuid");
    let pair = identity::ActiveModel {
        profile_id: Set(profile_id),
        handle: Set("pos".to_owned()),
        identifier: Set("1".to_owned()),
        is_primary: Set(false),
        is_active: Set(true),
        created_at: Set(crate::fixtures::at(0)),
        updated_at: Set(crate::fixtures::at(0)),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect_err("the pair is unique");
    for (error, field) in [(email, "email"), (phone, "mobilePhone"), (pair, "identities")] {
        match taken(error, &fields) {
            Error::User(errors) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(errors[0].field, Some(vec!["input".to_owned(), field.to_owned()]));
                assert_eq!(errors[0].code, UserErrorCode::Taken);
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

/// Runs `count` copies of one GraphQL operation at once; returns the responses.
async fn at_once(app: &std::sync::Arc<TestApp>, operations: Vec<(String, Value)>) -> Vec<Value> {
    let tasks: Vec<_> = operations
        .into_iter()
        .map(|(query, variables)| {
            let app = app.clone();
            tokio::spawn(async move { app.graphql(&query, variables).await })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.expect("the task finishes"));
    }
    responses
}

const RESTORE: &str =
    "mutation($id: UUID!) { restoreProfile(id: $id) { profile { version profileType } userErrors { field code } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_restores_of_one_deleted_profile_let_exactly_one_through() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    for round in 0..3 {
        let id = create(&app, json!({ "firstName": format!("R{round}") })).await["id"].clone();
        let deleted = app
            .data("mutation($id: UUID!) { deleteProfile(id: $id) { profile { version } } }", json!({ "id": id }))
            .await;
        assert_eq!(deleted["deleteProfile"]["profile"]["version"], 2);
        let responses = at_once(&app, vec![(RESTORE.to_owned(), json!({ "id": id })); 16]).await;
        let mut winners = 0;
        for response in &responses {
            assert!(response.get("errors").is_none(), "round {round}: {response}");
            let payload = &response["data"]["restoreProfile"];
            if payload["profile"].is_null() {
                assert_eq!(user_errors(payload), vec![("id".to_owned(), "NOT_FOUND".to_owned())], "{payload}");
            } else {
                winners += 1;
                assert_eq!(payload["profile"], json!({ "version": 3, "profileType": "ACTIVE" }));
            }
        }
        assert_eq!(winners, 1, "round {round}: {responses:#?}");
        let read = app.data("query($id: UUID!) { profile(id: $id) { version } }", json!({ "id": id })).await;
        assert_eq!(read["profile"]["version"], 3, "no increment was lost");
    }
}

const ADD_TAGS: &str = "mutation($id: UUID!, $h: [String!]!) { addTags(profileId: $id, handles: $h) { profile { id } userErrors { code } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adding_a_tag_while_it_is_deleted_never_fails() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(create(&app, json!({ "firstName": format!("T{n}") })).await["id"].clone());
    }
    for round in 0..15 {
        let made = app
            .data("mutation { createTag(input: { handle: \"race\", name: \"Race\" }) { tag { id } } }", json!({}))
            .await;
        let tag = made["createTag"]["tag"]["id"].clone();
        let mut operations: Vec<(String, Value)> =
            ids.iter().map(|id| (ADD_TAGS.to_owned(), json!({ "id": id, "h": ["race", "other"] }))).collect();
        operations.insert(
            round % 4,
            ("mutation($id: ID!) { deleteTag(id: $id) { userErrors { code } } }".to_owned(), json!({ "id": tag })),
        );
        for response in at_once(&app, operations).await {
            assert!(response.get("errors").is_none(), "round {round}: {response}");
            let payload = response["data"].as_object().and_then(|d| d.values().next()).expect("a payload");
            assert_eq!(user_errors(payload), vec![], "round {round}: {response}");
        }
        // Whatever order they ran in, every profile's tags are tags that exist.
        let read = app.data("{ tags { handle } profiles { nodes { tags { handle } } } }", json!({})).await;
        let existing: Vec<&Value> = read["tags"].as_array().expect("tags").iter().map(|t| &t["handle"]).collect();
        for profile in read["profiles"]["nodes"].as_array().expect("nodes") {
            for tag in profile["tags"].as_array().expect("tags") {
                assert!(existing.contains(&&tag["handle"]), "round {round}: {read}");
            }
        }
        // Start the next round without the tag.
        if existing.contains(&&json!("race")) {
            let id = app.data("{ tags { id handle } }", json!({})).await["tags"]
                .as_array()
                .expect("tags")
                .iter()
                .find(|t| t["handle"] == "race")
                .expect("the tag")["id"]
                .clone();
            app.data("mutation($id: ID!) { deleteTag(id: $id) { userErrors { code } } }", json!({ "id": id })).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_profile_created_with_a_tier_while_the_tier_is_deleted_is_one_or_the_other() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    for round in 0..10 {
        let made = app
            .data(
                "mutation($h: String!) { createTier(input: { handle: $h, name: \"Gold\", rank: 1 }) { tier { id } } }",
                json!({ "h": format!("gold{round}") }),
            )
            .await;
        let tier = made["createTier"]["tier"]["id"].clone();
        let operations = vec![
            (
                "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id } userErrors { field code } } }"
                    .to_owned(),
                json!({ "i": { "firstName": "G", "tierHandle": format!("gold{round}") } }),
            ),
            ("mutation($id: ID!) { deleteTier(id: $id) { userErrors { field code } } }".to_owned(), json!({ "id": tier })),
        ];
        let responses = at_once(&app, operations).await;
        for response in &responses {
            assert!(response.get("errors").is_none(), "round {round}: {response}");
        }
        let created = user_errors(&responses[0]["data"]["createProfile"]);
        let deleted = user_errors(&responses[1]["data"]["deleteTier"]);
        let outcome = (created.as_slice(), deleted.as_slice());
        let created_first = outcome == (&[], &[("id".to_owned(), "IN_USE".to_owned())]);
        let deleted_first = outcome == (&[("input.tierHandle".to_owned(), "NOT_FOUND".to_owned())], &[]);
        assert!(created_first || deleted_first, "round {round}: {responses:#?}");
    }
}
