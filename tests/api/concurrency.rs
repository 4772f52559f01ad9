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
    use profiles_gateway::service::write::{WriteError, taken};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

    let app = TestApp::spawn().await;
    let first = create(
        &app,
        json!({ "email": "a@example.com", "mobilePhone": "+61404123123",
                                      "identities": [{ "handle": "pos", "identifier": "1" }] }),
    )
    .await;
    let fields = [
        ("email", Path::root("input").key("email")),
        ("mobile_phone", Path::root("input").key("mobilePhone")),
        ("identifier", Path::root("input").key("identities")),
    ];
    let mut fixture = crate::fixtures::bare_profile(0);
    fixture.profile.email = Some("A@EXAMPLE.COM".to_owned());
    let email = fixture.profile.clone().into_active_model().insert(&app.db).await.expect_err("email is unique");
    fixture.profile.email = None;
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
            WriteError::User(errors) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(errors[0].field, Some(vec!["input".to_owned(), field.to_owned()]));
                assert_eq!(errors[0].code, UserErrorCode::Taken);
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}
