//! Finding profiles: profileBy, each filter and their combination, search, every order
//! both ways, walking pages, birthday windows, bad cursors, statements per page.

use chrono::NaiveDate;
use entity::enums::ProfileType;
use sea_orm::ActiveValue::Set;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{at, create, named_profile};
use crate::helpers::{TestApp, error_codes};

/// One profile of the data set, as the tests see it.
#[derive(Clone, Debug)]
struct Row {
    id: Uuid,
    name: &'static str,
    created: i64,
    updated: i64,
    first: Option<&'static str>,
    last: Option<&'static str>,
    email: Option<&'static str>,
    birthday: Option<(i32, i32)>,
}

/// Seven profiles (one deleted) with varied names, contacts, birthdays and labels,
/// plus the reference data they use. Today is 2021-12-07.
async fn data_set(app: &TestApp) -> Vec<Row> {
    let reference = crate::fixtures::reference_data(app).await;
    let other = profiles_gateway::service::reference::create_location(&app.services, "Other", Some("STORE-009"), None)
        .await
        .expect("a location");
    struct Spec {
        name: &'static str,
        first: Option<&'static str>,
        last: Option<&'static str>,
        email: Option<&'static str>,
        phone: Option<&'static str>,
        birthday: Option<(i32, i32)>,
    }
    let specs = [
        Spec {
            name: "P0",
            first: Some("Ann"),
            last: Some("Lee"),
            email: Some("ann.lee@example.com"),
            phone: Some("+61404000001"),
            birthday: Some((12, 7)),
        },
        Spec {
            name: "P1",
            first: Some("bob"),
            last: Some("Smith"),
            email: Some("Bob@Example.net"),
            phone: Some("+61404000002"),
            birthday: Some((12, 31)),
        },
        Spec {
            name: "P2",
            first: Some("Carla"),
            last: Some("lee"),
            email: None,
            phone: Some("+64211234567"),
            birthday: Some((1, 5)),
        },
        Spec {
            name: "P3",
            first: None,
            last: Some("Adams"),
            email: Some("zed@example.com"),
            phone: None,
            birthday: Some((2, 29)),
        },
        Spec {
            name: "P4",
            first: Some("Ann"),
            last: Some("Zed"),
            email: Some("ann.zed@example.org"),
            phone: None,
            birthday: None,
        },
        Spec {
            name: "P5",
            first: Some("Dan"),
            last: None,
            email: Some("dan@example.com"),
            phone: Some("+61404000005"),
            birthday: Some((6, 15)),
        },
        Spec {
            name: "P6",
            first: Some("Émile"),
            last: Some("Ángel"),
            email: None,
            phone: None,
            birthday: Some((11, 30)),
        },
    ];
    let mut rows = Vec::new();
    let mut news = Vec::new();
    for (n, spec) in specs.iter().enumerate() {
        let n = n as i64;
        let mut new = named_profile(n, spec.first.unwrap_or(""), spec.last.unwrap_or(""));
        let p = &mut new.profile;
        (p.first_name, p.last_name) = (spec.first.map(str::to_owned), spec.last.map(str::to_owned));
        p.email = spec.email.map(str::to_owned);
        p.mobile_phone = spec.phone.map(str::to_owned);
        (p.birth_month, p.birth_day) = (spec.birthday.map(|b| b.0), spec.birthday.map(|b| b.1));
        p.updated_at = at(100 - n);
        match spec.name {
            "P0" => {
                new.tags = vec!["vip".into(), "eco".into()];
                new.statuses = vec!["vip".into()];
                p.tier_handle = Some("gold".into());
                p.joined_location_id = Some(reference.joined.id);
                new.identities = vec![identity("shopify", "S-0", true)];
            }
            "P1" => new.tags = vec!["eco".into()],
            "P2" => {
                new.tags = vec!["vip".into()];
                new.identities = vec![identity("pos", "P-2", false)];
            }
            "P3" => p.profile_type = ProfileType::Temporary,
            "P4" => p.preferred_location_id = Some(other.id),
            "P5" => {
                new.statuses = vec!["staff".into()];
                p.type_before_delete = Some(ProfileType::Active);
                p.profile_type = ProfileType::Deleted;
            }
            _ => {}
        }
        rows.push(Row {
            id: p.id,
            name: spec.name,
            created: n,
            updated: 100 - n,
            first: spec.first,
            last: spec.last,
            email: spec.email,
            birthday: spec.birthday,
        });
        news.push(new);
    }
    create(app, news).await;
    rows
}

fn identity(handle: &str, identifier: &str, is_primary: bool) -> entity::identity::ActiveModel {
    entity::identity::ActiveModel {
        handle: Set(handle.to_owned()),
        identifier: Set(identifier.to_owned()),
        is_primary: Set(is_primary),
        is_active: Set(true),
        created_at: Set(at(0)),
        updated_at: Set(at(0)),
        ..Default::default()
    }
}

const LIST: &str = "query($filter: ProfileFilter, $search: String, $orderBy: ProfileOrder, $first: Int, $after: String, $last: Int, $before: String) {
  profiles(filter: $filter, search: $search, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id nextBirthday } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

/// The data set's names of the profiles a list returns, in order.
fn names(rows: &[Row], page: &Value) -> Vec<&'static str> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            let id: Uuid = edge["node"]["id"].as_str().expect("id").parse().expect("uuid");
            rows.iter().find(|row| row.id == id).map_or("?", |row| row.name)
        })
        .collect()
}

async fn list(app: &TestApp, variables: Value) -> Value {
    app.data(LIST, variables).await["profiles"].clone()
}

#[tokio::test]
async fn profile_by_finds_each_kind_of_key() {
    let app = TestApp::spawn().await;
    let rows = data_set(&app).await;
    let query = "query($key: ProfileKey!) { profileBy(key: $key) { id } }";
    let cases = [
        (json!({ "email": " ANN.LEE@Example.COM " }), Some("P0")),
        (json!({ "mobilePhone": "0404 000 002" }), Some("P1")),
        (json!({ "mobilePhone": "+64 21 123 4567" }), Some("P2")),
        (json!({ "externalId": "S-0" }), Some("P0")),
        (json!({ "externalId": "P-2" }), None),
        (json!({ "identity": { "handle": "pos", "identifier": "P-2" } }), Some("P2")),
        (json!({ "identity": { "handle": "shopify", "identifier": "P-2" } }), None),
        (json!({ "email": "dan@example.com" }), None),
        (json!({ "email": "nobody@example.com" }), None),
    ];
    for (key, expected) in cases {
        let data = app.data(query, json!({ "key": key })).await;
        let found = data["profileBy"]["id"].as_str().map(|id| {
            let id: Uuid = id.parse().expect("uuid");
            rows.iter().find(|r| r.id == id).map_or("?", |r| r.name)
        });
        assert_eq!(found, expected, "key {key}");
    }
    let bad_phone = app.graphql(query, json!({ "key": { "mobilePhone": "12" } })).await;
    assert_eq!(error_codes(&bad_phone), vec!["BAD_USER_INPUT"]);
    let two_keys = app.graphql(query, json!({ "key": { "email": "a@b.c", "externalId": "x" } })).await;
    assert_eq!(error_codes(&two_keys), vec!["BAD_USER_INPUT"], "@oneOf takes exactly one key: {two_keys}");
}

#[tokio::test]
async fn each_filter_and_their_combination_select_the_right_profiles() {
    let app = TestApp::spawn().await;
    let rows = data_set(&app).await;
    let locations = app.data("{ locations { id name } }", json!({})).await;
    let location = |name: &str| {
        let list = locations["locations"].as_array().expect("locations");
        list.iter().find(|l| l["name"] == name).expect("the location")["id"].clone()
    };
    let (joined, other) = (location("Melbourne Central"), location("Other"));
    let cases = [
        (json!({}), vec!["P0", "P1", "P2", "P3", "P4", "P6"]),
        (json!({ "email": "ANN.LEE@example.com" }), vec!["P0"]),
        (json!({ "mobilePhone": "0404 000 002" }), vec!["P1"]),
        (json!({ "firstName": "ann" }), vec!["P0", "P4"]),
        (json!({ "lastName": " LEE " }), vec!["P0", "P2"]),
        (json!({ "profileType": ["TEMPORARY"] }), vec!["P3"]),
        (json!({ "profileType": ["DELETED"] }), vec!["P5"]),
        (json!({ "tierHandle": "gold" }), vec!["P0"]),
        (json!({ "tags": ["vip", "ECO"] }), vec!["P0"]),
        (json!({ "anyTags": ["vip", "eco"] }), vec!["P0", "P1", "P2"]),
        (json!({ "statuses": ["vip"] }), vec!["P0"]),
        (json!({ "preferredLocationId": other }), vec!["P4"]),
        (json!({ "joinedLocationId": joined }), vec!["P0"]),
        (json!({ "identityHandle": "pos" }), vec!["P2"]),
        (json!({ "createdAt": { "from": "2021-01-27T22:58:02Z", "to": "2021-01-27T22:58:04Z" } }), vec!["P1", "P2"]),
        // `from` is inclusive (P4 joined at 22:58:05), `to` exclusive (P3 was created at 22:58:04).
        (json!({ "joinedAt": { "from": "2021-01-27T22:58:05Z" } }), vec!["P4", "P6"]),
        (json!({ "updatedAt": { "to": "2021-01-27T22:59:38Z" } }), vec!["P4", "P6"]),
        (json!({ "birthMonth": 12 }), vec!["P0", "P1"]),
        (json!({ "birthdayWithinDays": 0 }), vec!["P0"]),
        (json!({ "birthdayWithinDays": 30 }), vec!["P0", "P1", "P2"]),
        (json!({ "hasEmail": false }), vec!["P2", "P6"]),
        (json!({ "hasMobilePhone": false }), vec!["P3", "P4", "P6"]),
        (json!({ "anyTags": ["vip", "eco"], "hasEmail": true, "birthMonth": 12 }), vec!["P0", "P1"]),
        (json!({ "firstName": "ann", "tierHandle": "gold", "hasMobilePhone": true }), vec!["P0"]),
    ];
    for (filter, expected) in cases {
        let page = list(&app, json!({ "filter": filter })).await;
        assert_eq!(names(&rows, &page), expected, "filter {filter}");
        assert_eq!(page["totalCount"], expected.len(), "totalCount of {filter}");
    }
    for filter in [
        json!({ "birthMonth": 13 }),
        json!({ "birthdayWithinDays": -1 }),
        json!({ "birthdayWithinDays": 367 }),
        json!({ "mobilePhone": "12" }),
        json!({ "joinedLocationId": "x" }),
    ] {
        let response = app.graphql(LIST, json!({ "filter": filter })).await;
        assert_eq!(error_codes(&response), vec!["BAD_USER_INPUT"], "filter {filter}");
    }
}

#[tokio::test]
async fn search_matches_the_start_of_names_emails_and_phone_digits() {
    let app = TestApp::spawn().await;
    let rows = data_set(&app).await;
    let cases = [
        ("an", vec!["P0", "P4"]),
        ("ANN", vec!["P0", "P4"]),
        ("ann l", vec!["P0"]),
        ("Ann  Zed", vec!["P4"]),
        ("lee", vec!["P0", "P2"]),
        ("bob@", vec!["P1"]),
        ("zed@example", vec!["P3"]),
        ("0404 000 00", vec!["P0", "P1"]),
        ("+61 404 000 002", vec!["P1"]),
        ("61404000001", vec!["P0"]),
        ("+64 21", vec!["P2"]),
        ("021 123", vec![]),
        ("61404000005", vec![]),
        ("É", vec!["P6"]),
        ("zzz", vec![]),
        ("   ", vec!["P0", "P1", "P2", "P3", "P4", "P6"]),
    ];
    for (search, expected) in cases {
        let page = list(&app, json!({ "search": search })).await;
        assert_eq!(names(&rows, &page), expected, "search {search:?}");
    }
    let combined = list(&app, json!({ "search": "ann", "filter": { "tierHandle": "gold" } })).await;
    assert_eq!(names(&rows, &combined), vec!["P0"]);
}

/// The order the data set's visible profiles should come in.
fn expected_order(rows: &[Row], field: &str, descending: bool) -> Vec<&'static str> {
    let visible: Vec<&Row> = rows.iter().filter(|r| r.name != "P5").collect();
    let fold = |text: Option<&str>| text.map(str::to_ascii_lowercase);
    // (segment, key, id): segments in list order for ascending.
    let key = |row: &Row| -> (u8, Vec<String>) {
        let text = |value: Option<&str>| match fold(value) {
            Some(v) => (0, vec![v]),
            None => (1, vec![]),
        };
        match field {
            "CREATED_AT" => (0, vec![format!("{:05}", row.created)]),
            "UPDATED_AT" => (0, vec![format!("{:05}", row.updated)]),
            "FIRST_NAME" => text(row.first),
            "LAST_NAME" => text(row.last),
            "EMAIL" => text(row.email),
            _ => match row.birthday {
                Some((m, d)) if (m, d) >= (12, 7) => (0, vec![format!("{m:02}{d:02}")]),
                Some((m, d)) => (1, vec![format!("{m:02}{d:02}")]),
                None => (2, vec![]),
            },
        }
    };
    let mut sorted = visible.clone();
    sorted.sort_by(|a, b| {
        let ((sa, ka), (sb, kb)) = (key(a), key(b));
        let last = if field == "NEXT_BIRTHDAY" { 2 } else { 1 };
        let (unvalued_a, unvalued_b) = (sa == last || ka.is_empty() && sa > 0, sb == last || kb.is_empty() && sb > 0);
        // Unvalued rows come last either way; the rest follow the direction.
        unvalued_a.cmp(&unvalued_b).then_with(|| {
            let ordering = (sa, ka, a.id).cmp(&(sb, kb, b.id));
            if descending { ordering.reverse() } else { ordering }
        })
    });
    sorted.into_iter().map(|r| r.name).collect()
}

const ORDERS: [&str; 6] = ["CREATED_AT", "UPDATED_AT", "FIRST_NAME", "LAST_NAME", "EMAIL", "NEXT_BIRTHDAY"];

#[tokio::test]
async fn every_order_both_ways_and_every_page_walk_agree() {
    let app = TestApp::spawn().await;
    let rows = data_set(&app).await;
    for field in ORDERS {
        for direction in ["ASC", "DESC"] {
            let order = json!({ "field": field, "direction": direction });
            let case = format!("{field} {direction}");
            let expected = expected_order(&rows, field, direction == "DESC");
            let whole = list(&app, json!({ "orderBy": order, "first": 250 })).await;
            assert_eq!(names(&rows, &whole), expected, "{case}");

            let mut forwards = Vec::new();
            let mut after = Value::Null;
            loop {
                let page = list(&app, json!({ "orderBy": order, "first": 2, "after": after })).await;
                forwards.extend(names(&rows, &page));
                if page["pageInfo"]["hasNextPage"] != json!(true) {
                    break;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(forwards, expected, "{case}, forwards two at a time");

            let mut backwards = Vec::new();
            let mut before = Value::Null;
            loop {
                let page = list(&app, json!({ "orderBy": order, "last": 2, "before": before })).await;
                let mut names = names(&rows, &page);
                names.extend(backwards);
                backwards = names;
                if page["pageInfo"]["hasPreviousPage"] != json!(true) {
                    break;
                }
                before = page["pageInfo"]["startCursor"].clone();
            }
            assert_eq!(backwards, expected, "{case}, backwards two at a time");
        }
    }
}

#[tokio::test]
async fn next_birthday_order_follows_the_next_birthday_field() {
    let app = TestApp::spawn().await;
    data_set(&app).await;
    let page = list(&app, json!({ "orderBy": { "field": "NEXT_BIRTHDAY" } })).await;
    let dates: Vec<Value> =
        page["edges"].as_array().expect("edges").iter().map(|e| e["node"]["nextBirthday"].clone()).collect();
    assert_eq!(
        dates,
        vec![
            json!("2021-12-07"),
            json!("2021-12-31"),
            json!("2022-01-05"),
            json!("2022-02-28"),
            json!("2022-11-30"),
            Value::Null
        ]
    );
}

#[tokio::test]
async fn cursors_survive_inserts_and_deletes_between_pages() {
    let app = TestApp::spawn().await;
    let rows = data_set(&app).await;
    let order = json!({ "field": "FIRST_NAME" });
    let expected = expected_order(&rows, "FIRST_NAME", false);
    let first = list(&app, json!({ "orderBy": order, "first": 3 })).await;
    assert_eq!(names(&rows, &first), expected[..3].to_vec());
    // Before the next page: a profile that sorts first, and the cursor's own row purged.
    create(&app, vec![named_profile(50, "Aaron", "Early")]).await;
    let at_cursor = rows.iter().find(|r| r.name == expected[2]).expect("a row").id;
    let purge = "mutation($id: UUID!) { purgeProfile(id: $id) { purgedProfileId } }";
    app.data(purge, json!({ "id": at_cursor })).await;
    let next = list(&app, json!({ "orderBy": order, "first": 3, "after": first["pageInfo"]["endCursor"] })).await;
    assert_eq!(names(&rows, &next), expected[3..6].to_vec());
    let back = list(&app, json!({ "orderBy": order, "last": 2, "before": next["pageInfo"]["startCursor"] })).await;
    assert_eq!(names(&rows, &back), expected[..2].to_vec(), "the purged row is gone");
}

#[tokio::test]
async fn cursors_of_another_order_or_no_order_are_bad_input() {
    let app = TestApp::spawn().await;
    data_set(&app).await;
    let by_name = list(&app, json!({ "orderBy": { "field": "FIRST_NAME" }, "first": 1 })).await;
    let cursor = by_name["pageInfo"]["endCursor"].clone();
    for (case, variables) in [
        ("another field", json!({ "orderBy": { "field": "EMAIL" }, "after": cursor })),
        ("another direction", json!({ "orderBy": { "field": "FIRST_NAME", "direction": "DESC" }, "after": cursor })),
        ("the default order", json!({ "before": cursor })),
        ("garbage", json!({ "orderBy": { "field": "FIRST_NAME" }, "after": "%%%" })),
    ] {
        let response = app.graphql(LIST, variables).await;
        assert_eq!(error_codes(&response), vec!["BAD_USER_INPUT"], "{case}: {response}");
    }
}

/// Profiles named after their birthday, created in `app`.
async fn birthdays(app: &TestApp, dates: &[(i32, i32)]) {
    let news = dates
        .iter()
        .enumerate()
        .map(|(n, (month, day))| {
            let mut new = named_profile(n as i64, &format!("{month:02}-{day:02}"), "B");
            (new.profile.birth_month, new.profile.birth_day) = (Some(*month), Some(*day));
            new
        })
        .collect();
    create(app, news).await;
}

async fn within(app: &TestApp, days: i32) -> Vec<String> {
    let page =
        list(app, json!({ "filter": { "birthdayWithinDays": days }, "orderBy": { "field": "NEXT_BIRTHDAY" } })).await;
    let all = app.data("{ profiles(first: 250) { nodes { id firstName } } }", json!({})).await;
    let ids: Vec<&Value> = page["edges"].as_array().expect("edges").iter().map(|e| &e["node"]["id"]).collect();
    ids.iter()
        .map(|id| {
            let node =
                all["profiles"]["nodes"].as_array().expect("nodes").iter().find(|n| &&n["id"] == id).expect("a node");
            node["firstName"].as_str().expect("a name").to_owned()
        })
        .collect()
}

#[tokio::test]
async fn birthday_windows_cross_the_year_end() {
    let app = TestApp::spawn_on(NaiveDate::from_ymd_opt(2021, 12, 25).expect("a date")).await;
    birthdays(&app, &[(12, 24), (12, 25), (12, 31), (1, 1), (1, 8), (1, 9), (2, 29)]).await;
    assert_eq!(within(&app, 0).await, vec!["12-25"]);
    assert_eq!(within(&app, 14).await, vec!["12-25", "12-31", "01-01", "01-08"]);
    assert_eq!(within(&app, 366).await.len(), 7, "a whole year holds every birthday");
}

#[tokio::test]
async fn a_29_february_birthday_counts_on_28_february_in_common_years() {
    let common = TestApp::spawn_on(NaiveDate::from_ymd_opt(2023, 2, 20).expect("a date")).await;
    birthdays(&common, &[(2, 27), (2, 28), (2, 29), (3, 1)]).await;
    assert_eq!(within(&common, 7).await, vec!["02-27"]);
    assert_eq!(within(&common, 8).await, vec!["02-27", "02-28", "02-29"]);
    assert_eq!(within(&common, 9).await, vec!["02-27", "02-28", "02-29", "03-01"]);

    let leap = TestApp::spawn_on(NaiveDate::from_ymd_opt(2024, 2, 20).expect("a date")).await;
    birthdays(&leap, &[(2, 27), (2, 28), (2, 29), (3, 1)]).await;
    assert_eq!(within(&leap, 8).await, vec!["02-27", "02-28"], "in a leap year it is on 29 February");
    assert_eq!(within(&leap, 9).await, vec!["02-27", "02-28", "02-29"]);

    let next_year = TestApp::spawn_on(NaiveDate::from_ymd_opt(2022, 12, 20).expect("a date")).await;
    birthdays(&next_year, &[(2, 28), (2, 29), (3, 1)]).await;
    assert_eq!(within(&next_year, 70).await, vec!["02-28", "02-29"], "ending on 28 February 2023");
}
