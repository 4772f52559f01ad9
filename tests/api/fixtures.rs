//! Test data, written through the service layer.

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::enums::{Gender, ProfileType, RecurringSchedule, VerificationState};
use entity::scalars::StringList;
use entity::{address, appearance, comms, identity, location, profile, profile_date, tier};
use profiles_gateway::service::profiles::create::{NewProfile, blank, create_many};
use profiles_gateway::service::reference;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::IntoActiveModel;
use uuid::Uuid;

use crate::helpers::TestApp;

/// Reference rows the example profile points at.
pub struct Reference {
    pub tier: tier::Model,
    pub joined: location::Model,
    pub preferred: location::Model,
}

pub async fn reference_data(app: &TestApp) -> Reference {
    let db = &app.services;
    let tier = reference::create_tier(db, "gold", "Gold", 3).await.expect("tier");
    reference::create_status(db, "vip", "VIP", 1).await.expect("status");
    reference::create_status(db, "staff", "Staff", 2).await.expect("status");
    let joined =
        reference::create_location(db, "Melbourne Central", Some("STORE-001"), Some("MC")).await.expect("location");
    let preferred = reference::create_location(db, "Chadstone", Some("STORE-002"), None).await.expect("location");
    Reference { tier, joined, preferred }
}

pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 1, 27, 22, 58, 1).single().expect("a real time") + Duration::seconds(seconds)
}

/// A profile with nothing but its required columns, created at `at(seconds)`.
pub fn bare_profile(seconds: i64) -> NewProfile {
    let now = at(seconds);
    NewProfile {
        profile: blank(Uuid::new_v4(), now),
        addresses: Vec::new(),
        dates: Vec::new(),
        identities: Vec::new(),
        tags: Vec::new(),
        statuses: Vec::new(),
        comms: comms::ActiveModel { created_at: Set(now), updated_at: Set(now), ..Default::default() },
        appearance: appearance::ActiveModel { created_at: Set(now), updated_at: Set(now), ..Default::default() },
    }
}

/// A profile with a given name, created at `at(seconds)`.
pub fn named_profile(seconds: i64, first: &str, last: &str) -> NewProfile {
    let mut new = bare_profile(seconds);
    new.profile.first_name = Some(first.to_owned());
    new.profile.last_name = Some(last.to_owned());
    new
}

fn new_address(line_1: &str, is_default: bool, seconds: i64) -> address::ActiveModel {
    let mut row = address::Model {
        id: 0,
        profile_id: Uuid::nil(),
        address_line_1: line_1.to_owned(),
        address_line_2: None,
        address_line_3: None,
        company: None,
        latitude: None,
        longitude: None,
        city: "Melbourne".to_owned(),
        postcode: "3002".to_owned(),
        state: Some("VIC".to_owned()),
        country: "Australia".to_owned(),
        notes: None,
        external_id: None,
        is_default,
        created_at: at(seconds),
        updated_at: at(seconds),
    }
    .into_active_model();
    row.id = NotSet;
    row
}

/// The "Example User" of the reference profile model, with every field and relation.
pub fn example_profile(reference: &Reference) -> NewProfile {
    let mut new = bare_profile(0);
    new.profile = profile::Model {
        title: Some("Mr".to_owned()),
        first_name: Some("Example".to_owned()),
        last_name: Some("User".to_owned()),
        email: Some("Example.User@Example.com".to_owned()),
        gender: Some(Gender::Male),
        currency: Some("AUD".to_owned()),
        joined_at: Utc.with_ymd_and_hms(2021, 1, 27, 0, 0, 0).single().expect("a real time"),
        mobile_phone: Some("+61404123123".to_owned()),
        secondary_phone: Some("+61421123123".to_owned()),
        birth_year: Some(1989),
        birth_month: Some(1),
        birth_day: Some(1),
        company: Some("Acme Shoe Co.".to_owned()),
        occupation: Some("Marketing".to_owned()),
        avatar_url: Some("https://images.example.com/u/1.png".to_owned()),
        preferred_location_id: Some(reference.preferred.id),
        joined_location_id: Some(reference.joined.id),
        tier_handle: Some(reference.tier.handle.clone()),
        custom_attributes: serde_json::json!({ "custom": { "example-field": "test" } }),
        ..new.profile
    };
    let mut second = new_address("321 Winston St", false, 60);
    second.address_line_2 = Set(Some("Georgebury Crt Level 3".to_owned()));
    second.company = Set(Some("Acme Shoe Co.".to_owned()));
    second.latitude = Set(Some(-37.8136));
    second.longitude = Set(Some(144.9631));
    new.addresses = vec![new_address("123 Buckaby Lane", true, 0), second];
    let mut date = profile_date::Model {
        id: 0,
        profile_id: Uuid::nil(),
        date: chrono::NaiveDate::from_ymd_opt(2020, 5, 13).expect("a real date"),
        is_recurring: true,
        recurring_schedule: Some(RecurringSchedule::Yearly),
        name: Some("date_name".to_owned()),
        handle: Some("date_handle".to_owned()),
        relationship: Some("wife".to_owned()),
        description: Some("anniversary".to_owned()),
        meta: StringList(vec!["1".to_owned()]),
        note: Some("note".to_owned()),
        created_at: at(0),
        updated_at: at(0),
    }
    .into_active_model();
    date.id = NotSet;
    new.dates = vec![date];
    new.identities = [("pos", "POS-1", false), ("shopify", "SHOP-42", true)]
        .into_iter()
        .map(|(handle, identifier, is_primary)| {
            let mut row = identity::Model {
                id: 0,
                profile_id: Uuid::nil(),
                handle: handle.to_owned(),
                identifier: identifier.to_owned(),
                is_primary,
                is_active: true,
                created_at: at(0),
                updated_at: at(0),
                merged_from: None,
            }
            .into_active_model();
            row.id = NotSet;
            row
        })
        .collect();
    new.tags = vec!["  Tag Two ".to_owned(), "tag1".to_owned()];
    new.statuses = vec!["vip".to_owned(), "staff".to_owned()];
    new.comms = comms::ActiveModel {
        push_promo: Set(true),
        email_promo: Set(true),
        email_verification: Set(VerificationState::Verified),
        terms_accepted_version: Set(Some("2021-01".to_owned())),
        ..new.comms
    };
    new.appearance = appearance::ActiveModel {
        hair_colour: Set(Some("Black".to_owned())),
        hair_length: Set(Some("Short".to_owned())),
        shape_body: Set(Some("Straight".to_owned())),
        ..new.appearance
    };
    new
}

/// Creates `profiles` through the service layer and returns their ids.
pub async fn create(app: &TestApp, profiles: Vec<NewProfile>) -> Vec<Uuid> {
    create_many(&app.services, profiles).await.expect("fixtures are valid")
}

/// Marks a profile deleted (soft delete) the way the service stores it.
pub fn deleted(mut new: NewProfile) -> NewProfile {
    new.profile.type_before_delete = Some(new.profile.profile_type);
    new.profile.profile_type = ProfileType::Deleted;
    new
}
