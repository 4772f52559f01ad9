//! `Profile.duplicates`: the other visible profiles sharing a phone, an email but for
//! its `+tag`, or a name and birth date; every reason of each, more reasons first,
//! then by id; `first`; one statement for a page of profiles, whatever its size; and
//! the email base key the migration writes for the rows already there.

use migration::{Migrator, MigratorTrait};
use profiles_gateway::service::profiles::create::NewProfile;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{bare_profile, create, deleted, named_profile};
use crate::helpers::{TestApp, TestDatabase, error_codes};

const DUPLICATES: &str = "query($id: UUID!, $first: Int) {
  profile(id: $id) { duplicates(first: $first) { profile { id fullName } reasons } } }";

/// A profile with these phones, email, name and birth date (`None`: none), with id
/// `id` (its place among candidates of as many reasons).
#[derive(Clone, Copy, Default)]
struct Person<'a> {
    id: u128,
    mobile: Option<&'a str>,
    secondary: Option<&'a str>,
    email: Option<&'a str>,
    name: Option<(&'a str, &'a str)>,
    born: (Option<i32>, Option<i32>, Option<i32>),
}

impl Person<'_> {
    fn profile(&self) -> NewProfile {
        let mut new = match self.name {
            Some((first, last)) => named_profile(0, first, last),
            None => bare_profile(0),
        };
        let p = &mut new.profile;
        p.id = Uuid::from_u128(self.id);
        p.mobile_phone = self.mobile.map(str::to_owned);
        p.secondary_phone = self.secondary.map(str::to_owned);
        p.email = self.email.map(str::to_owned);
        (p.birth_year, p.birth_month, p.birth_day) = self.born;
        new
    }
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

async fn duplicates_of(app: &TestApp, profile: Uuid, first: Option<i64>) -> Vec<(Uuid, Vec<String>)> {
    let data = app.data(DUPLICATES, json!({ "id": profile, "first": first })).await;
    data["profile"]["duplicates"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            let id = c["profile"]["id"].as_str().expect("an id").parse().expect("a UUID");
            let reasons = c["reasons"].as_array().expect("reasons").iter().map(|r| r.as_str().expect("a reason"));
            (id, reasons.map(str::to_owned).collect())
        })
        .collect()
}

fn listed(pairs: &[(u128, &[&str])]) -> Vec<(Uuid, Vec<String>)> {
    pairs.iter().map(|(n, reasons)| (id(*n), reasons.iter().map(|r| (*r).to_owned()).collect())).collect()
}

const PHONE: &[&str] = &["SHARED_PHONE"];
const EMAIL: &[&str] = &["EMAIL_SUBADDRESS"];
const NAME: &[&str] = &["SAME_NAME_AND_BIRTH_DATE"];
const ALL: &[&str] = &["SHARED_PHONE", "EMAIL_SUBADDRESS", "SAME_NAME_AND_BIRTH_DATE"];

#[tokio::test]
async fn each_reason_finds_the_profiles_that_meet_it_and_no_others() {
    let app = TestApp::spawn().await;
    let born = (Some(1990), Some(5), Some(4));
    let people = [
        // A mobile that is another's secondary phone; two secondary phones alike.
        Person { id: 1, mobile: Some("+61404000001"), ..Default::default() },
        Person { id: 2, secondary: Some("+61404000001"), ..Default::default() },
        Person { id: 3, mobile: Some("+61404000003"), secondary: Some("+61398765432"), ..Default::default() },
        Person { id: 4, secondary: Some("+61398765432"), ..Default::default() },
        // One address but for its tag, and case; another address.
        Person { id: 11, email: Some("ann+shop@example.com"), ..Default::default() },
        Person { id: 12, email: Some("Ann@Example.com"), ..Default::default() },
        Person { id: 13, email: Some("ANN+news@example.com"), ..Default::default() },
        Person { id: 14, email: Some("anne@example.com"), ..Default::default() },
        Person { id: 15, email: Some("ann@example.org"), ..Default::default() },
        // A name in other ASCII case and one birth date; another day; no year.
        Person { id: 21, name: Some(("Mia", "Chen")), born, ..Default::default() },
        Person { id: 22, name: Some(("MIA", "chen")), born, ..Default::default() },
        Person { id: 23, name: Some(("Mia", "Chen")), born: (Some(1990), Some(5), Some(5)), ..Default::default() },
        Person { id: 24, name: Some(("Mia", "Chen")), born: (None, Some(5), Some(4)), ..Default::default() },
        Person { id: 25, name: Some(("Mia", "Cheng")), born, ..Default::default() },
    ];
    create(&app, people.iter().map(Person::profile).collect()).await;

    for (profile, expected) in [
        (1, listed(&[(2, PHONE)])),
        (2, listed(&[(1, PHONE)])),
        (3, listed(&[(4, PHONE)])),
        (4, listed(&[(3, PHONE)])),
        (11, listed(&[(12, EMAIL), (13, EMAIL)])),
        (12, listed(&[(11, EMAIL), (13, EMAIL)])),
        (14, listed(&[])),
        (15, listed(&[])),
        (21, listed(&[(22, NAME)])),
        (22, listed(&[(21, NAME)])),
        (23, listed(&[])),
        (24, listed(&[])),
        (25, listed(&[])),
    ] {
        assert_eq!(duplicates_of(&app, id(profile), None).await, expected, "the duplicates of {profile}");
    }
}

#[tokio::test]
async fn a_candidate_meeting_several_rules_lists_every_reason_and_comes_before_those_meeting_fewer() {
    let app = TestApp::spawn().await;
    let born = (Some(1985), Some(12), Some(31));
    let store = Some("+61398765432");
    let people = [
        Person {
            id: 9,
            mobile: Some("+61404000009"),
            secondary: store,
            email: Some("lee+vip@example.com"),
            name: Some(("Lee", "Park")),
            born,
        },
        // Smaller ids, fewer reasons.
        Person { id: 1, secondary: store, ..Default::default() },
        Person { id: 2, secondary: Some("+61404000009"), email: Some("lee@example.com"), ..Default::default() },
        Person { id: 3, secondary: store, email: Some("lee@example.net"), ..Default::default() },
        Person {
            id: 8,
            mobile: Some("+61404000008"),
            secondary: store,
            email: Some("lee+a@example.com"),
            name: Some(("lee", "PARK")),
            born,
        },
    ];
    create(&app, people.iter().map(Person::profile).collect()).await;

    assert_eq!(
        duplicates_of(&app, id(9), None).await,
        listed(&[(8, ALL), (2, &["SHARED_PHONE", "EMAIL_SUBADDRESS"]), (1, PHONE), (3, PHONE)]),
        "most reasons first, then by id"
    );
    assert_eq!(
        duplicates_of(&app, id(8), Some(2)).await,
        listed(&[(9, ALL), (1, PHONE)]),
        "another's first two: one reason each after all three, by id"
    );
}

#[tokio::test]
async fn a_profile_is_never_its_own_duplicate() {
    let app = TestApp::spawn().await;
    let alone = Person {
        id: 1,
        mobile: Some("+61404000001"),
        secondary: Some("+61404000001"),
        email: Some("solo+tag@example.com"),
        name: Some(("Solo", "Person")),
        born: (Some(2000), Some(1), Some(1)),
    };
    create(&app, vec![alone.profile()]).await;
    assert_eq!(duplicates_of(&app, id(1), None).await, listed(&[]));
}

#[tokio::test]
async fn deleted_profiles_are_not_candidates_nor_take_a_place() {
    let app = TestApp::spawn().await;
    let store = Some("+61398765432");
    let person = |id| Person { id, secondary: store, ..Default::default() };
    create(
        &app,
        vec![person(5).profile(), deleted(person(1).profile()), deleted(person(2).profile()), person(3).profile()],
    )
    .await;
    assert_eq!(duplicates_of(&app, id(5), None).await, listed(&[(3, PHONE)]));
    assert_eq!(duplicates_of(&app, id(5), Some(1)).await, listed(&[(3, PHONE)]), "the deleted ones take no place");

    let deleted_one = app.data(DUPLICATES, json!({ "id": id(1) })).await;
    assert_eq!(deleted_one["profile"], Value::Null, "a deleted profile is not read at all");
}

#[tokio::test]
async fn first_bounds_the_candidates_and_out_of_range_is_bad_user_input() {
    let app = TestApp::spawn().await;
    let store = Some("+61398765432");
    let people: Vec<NewProfile> =
        (1..=60).map(|n| Person { id: n, secondary: store, ..Default::default() }.profile()).collect();
    create(&app, people).await;

    let ids = |range: std::ops::RangeInclusive<u128>| -> Vec<(Uuid, Vec<String>)> {
        range.map(|n| (id(n), vec!["SHARED_PHONE".to_owned()])).collect()
    };
    assert_eq!(duplicates_of(&app, id(1), None).await, ids(2..=11), "ten by default, by id");
    assert_eq!(duplicates_of(&app, id(30), Some(3)).await, ids(1..=3));
    assert_eq!(duplicates_of(&app, id(1), Some(50)).await, ids(2..=51));

    for first in [0, -1, 51, 250] {
        let response = app.graphql(DUPLICATES, json!({ "id": id(1), "first": first })).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "first: {first}: {response}");
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("between 1 and 50"), "first: {first}: {message}");
    }
}

#[tokio::test]
async fn a_changed_email_is_compared_by_its_new_base_key() {
    let app = TestApp::spawn().await;
    let people = [
        Person { id: 1, email: Some("kai@example.com"), ..Default::default() },
        Person { id: 2, email: Some("someone@example.com"), ..Default::default() },
    ];
    create(&app, people.iter().map(Person::profile).collect()).await;
    assert_eq!(duplicates_of(&app, id(1), None).await, listed(&[]));

    let update = "mutation($id: UUID!, $email: String) {
      updateProfile(id: $id, input: { email: $email }) { userErrors { code } } }";
    let payload = app.mutate("updateProfile", update, json!({ "id": id(2), "email": "Kai+Work@Example.com" })).await;
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(duplicates_of(&app, id(1), None).await, listed(&[(2, EMAIL)]));

    let payload = app.mutate("updateProfile", update, json!({ "id": id(2), "email": null })).await;
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(duplicates_of(&app, id(1), None).await, listed(&[]), "no email, no base key");
}

/// The statements a page of `size` profiles costs, each asking for its duplicates.
async fn statements_for_page(app: &TestApp, size: usize) -> Vec<String> {
    let query = "query($first: Int) { profiles(first: $first) { nodes { id
        duplicates(first: 3) { reasons profile { id fullName mobilePhone } } } } }";
    app.reset_statements();
    let data = app.data(query, json!({ "first": size })).await;
    let statements = app.statements();
    let nodes = data["profiles"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), size);
    assert!(
        nodes.iter().all(|node| node["duplicates"].as_array().is_some_and(|d| !d.is_empty())),
        "every profile has candidates"
    );
    statements
}

#[tokio::test]
async fn a_page_asking_for_duplicates_costs_the_same_statements_for_10_and_50_profiles() {
    let app = TestApp::spawn().await;
    // Pairs: a mobile and the other's secondary phone, an email and its tagged form, and
    // a name and birth date, in turn.
    let people: Vec<NewProfile> = (0..60u128)
        .map(|n| {
            let pair = n / 2;
            let mut person = Person { id: n + 1, ..Default::default() };
            let phone = format!("+614040{pair:05}");
            let email = if n % 2 == 0 { format!("p{pair}@example.com") } else { format!("p{pair}+tag@example.com") };
            let mut new = match pair % 3 {
                0 if n % 2 == 0 => Person { mobile: Some(&phone), ..person }.profile(),
                0 => Person { secondary: Some(&phone), ..person }.profile(),
                1 => Person { email: Some(&email), ..person }.profile(),
                _ => {
                    person.born = (Some(1970), Some(1), Some(1));
                    Person { name: Some(("Same", "Name")), ..person }.profile()
                }
            };
            new.profile.last_name = new.profile.last_name.map(|last| format!("{last}{pair}"));
            new.profile.created_at += chrono::Duration::seconds(i64::try_from(n).expect("small"));
            new
        })
        .collect();
    create(&app, people).await;

    let small = statements_for_page(&app, 10).await;
    let large = statements_for_page(&app, 50).await;
    assert_eq!(small.len(), large.len(), "10 profiles: {small:#?}\n50 profiles: {large:#?}");
    assert_eq!(large.len(), 2, "the page and the duplicates: {large:#?}");
}

#[tokio::test]
async fn the_migration_writes_the_email_base_key_of_the_rows_already_there() {
    let (url, _database) = TestDatabase::create().await;
    let db = profiles_gateway::db::connect(&url, Default::default()).await.expect("connect");
    let mine = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261207_000004_duplicates")
        .expect("the duplicates migration") as u32;
    Migrator::up(&db, Some(mine)).await.expect("the migrations before it");

    for (n, email) in [(1, Some("Ann+Shop@Example.com")), (2, Some("ann@example.com")), (3, None)] {
        crate::email_key::insert_old_profile(&db, id(n), email, 1).await;
    }
    Migrator::up(&db, None).await.expect("the duplicates migration and those after it");

    let keys = Query::select()
        .columns(["id", "email_base_key"].map(Alias::new))
        .from(Alias::new("profile"))
        .and_where(Expr::col(Alias::new("id")).is_in([id(1), id(2), id(3)]))
        .order_by(Alias::new("id"), sea_orm::Order::Asc)
        .to_owned();
    let rows: Vec<(Uuid, Option<String>)> = db
        .query_all(&keys)
        .await
        .expect("the base keys")
        .iter()
        .map(|row| (row.try_get("", "id").expect("an id"), row.try_get("", "email_base_key").expect("text")))
        .collect();
    let base = Some("ann@example.com".to_owned());
    assert_eq!(rows, vec![(id(1), base.clone()), (id(2), base), (id(3), None)]);
}
