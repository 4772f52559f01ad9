//! Changes to records as plain values: what the GraphQL layer hands the services
//! after validating its input, and what a service turns into the columns it writes.
//! Nothing here knows GraphQL; nothing above the services knows SeaORM.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{Gender, ProfileType, RecurringSchedule, VerificationState};
use entity::scalars::StringList;
use sea_orm::ActiveValue;

/// A change to one column: leave it as it is, or set it (to `None` to clear a
/// nullable one).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Patch<T> {
    #[default]
    Keep,
    Set(T),
}

impl<T> Patch<T> {
    fn active(self) -> ActiveValue<T>
    where
        T: Into<sea_orm::Value>,
    {
        match self {
            Patch::Keep => ActiveValue::NotSet,
            Patch::Set(value) => ActiveValue::Set(value),
        }
    }
}

/// Changes that become the columns of one kind of row.
pub(crate) trait Columns {
    type Row;
    /// The columns these changes set (nothing else), for the service to write.
    fn columns(self) -> Self::Row;
}

/// A struct of `Patch`es, one per column of an entity, and its conversion into the
/// entity's active model (what is kept stays `NotSet`).
macro_rules! changes {
    ($(#[$doc:meta])* $name:ident => $entity:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub(crate) struct $name {
            $(pub $field: Patch<$ty>,)*
        }

        impl Columns for $name {
            type Row = entity::$entity::ActiveModel;
            fn columns(self) -> entity::$entity::ActiveModel {
                entity::$entity::ActiveModel { $($field: self.$field.active(),)* ..Default::default() }
            }
        }
    };
}

changes!(
    /// Changes to a profile's own columns (its locations travel apart, as `LocationChange`s).
    ProfileChanges => profile {
    title: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    gender: Option<Gender>,
    currency: Option<String>,
    joined_at: DateTime<Utc>,
    mobile_phone: Option<String>,
    secondary_phone: Option<String>,
    birth_year: Option<i32>,
    birth_month: Option<i32>,
    birth_day: Option<i32>,
    company: Option<String>,
    occupation: Option<String>,
    avatar_url: Option<String>,
    tier_handle: Option<String>,
    profile_type: ProfileType,
    custom_attributes: serde_json::Value,
});

changes!(
    /// Changes to an address.
    AddressChanges => address {
    address_line_1: String,
    address_line_2: Option<String>,
    address_line_3: Option<String>,
    company: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    city: String,
    postcode: String,
    state: Option<String>,
    country: String,
    notes: Option<String>,
    external_id: Option<String>,
    is_default: bool,
});

changes!(
    /// Changes to an important date.
    DateChanges => profile_date {
    date: NaiveDate,
    is_recurring: bool,
    recurring_schedule: Option<RecurringSchedule>,
    name: Option<String>,
    handle: Option<String>,
    relationship: Option<String>,
    description: Option<String>,
    meta: StringList,
    note: Option<String>,
});

changes!(
    /// Changes to an identity in another system.
    IdentityChanges => identity {
    handle: String,
    identifier: String,
    is_primary: bool,
    is_active: bool,
});

changes!(
    /// Changes to communication preferences.
    CommsChanges => comms {
    email_optout: bool,
    email_bounced: bool,
    email_promo: bool,
    email_discover: bool,
    email_benefits: bool,
    email_reminders: bool,
    email_account: bool,
    email_bookings: bool,
    email_feedback: bool,
    email_location: bool,
    email_service: bool,
    sms_optout: bool,
    sms_bounced: bool,
    sms_promo: bool,
    sms_discover: bool,
    sms_benefits: bool,
    sms_reminders: bool,
    sms_account: bool,
    sms_bookings: bool,
    sms_feedback: bool,
    sms_location: bool,
    sms_service: bool,
    push_optout: bool,
    push_bounced: bool,
    push_promo: bool,
    push_discover: bool,
    push_benefits: bool,
    push_reminders: bool,
    push_account: bool,
    push_bookings: bool,
    push_feedback: bool,
    push_location: bool,
    push_service: bool,
    phone_optout: bool,
    phone_bounced: bool,
    phone_promo: bool,
    phone_discover: bool,
    phone_benefits: bool,
    phone_reminders: bool,
    phone_account: bool,
    phone_bookings: bool,
    phone_feedback: bool,
    phone_location: bool,
    phone_service: bool,
    post_optout: bool,
    post_bounced: bool,
    post_promo: bool,
    post_discover: bool,
    post_benefits: bool,
    post_reminders: bool,
    post_account: bool,
    post_bookings: bool,
    post_feedback: bool,
    post_location: bool,
    post_service: bool,
    email_verification: VerificationState,
    sms_verification: VerificationState,
    phone_verification: VerificationState,
    post_verification: VerificationState,
    terms_accepted_at: Option<DateTime<Utc>>,
    terms_accepted_version: Option<String>,
});

changes!(
    /// Changes to appearance and sizes.
    AppearanceChanges => appearance {
    hair_colour: Option<String>,
    hair_length: Option<String>,
    shape_body: Option<String>,
    shape_face: Option<String>,
    size_cup: Option<String>,
    size_hat: Option<String>,
    size_formal_jacket: Option<String>,
    size_formal_jacket_length: Option<String>,
    size_formal_shirt: Option<String>,
    size_formal_shirt_fit: Option<String>,
    size_formal_trouser: Option<String>,
    size_formal_trouser_drop: Option<String>,
    size_formal_trouser_leg: Option<String>,
    size_jacket: Option<String>,
    size_pant: Option<String>,
    size_shoe: Option<String>,
    size_type_age: Option<String>,
    size_type_region: Option<String>,
    size_top: Option<String>,
    skin_type: Option<String>,
    measurement_arm: Option<String>,
    measurement_arm_inside: Option<String>,
    measurement_bust: Option<String>,
    measurement_chest: Option<String>,
    measurement_foot_length: Option<String>,
    measurement_head: Option<String>,
    measurement_height: Option<String>,
    measurement_hip: Option<String>,
    measurement_leg_inside: Option<String>,
    measurement_leg_outside: Option<String>,
    measurement_neck: Option<String>,
    measurement_neck_to_wrist: Option<String>,
    measurement_shoulders: Option<String>,
    measurement_waist: Option<String>,
    measurement_weight: Option<String>,
});

changes!(
    /// Changes to a tag.
    TagChanges => tag {
    handle: String,
    name: String,
});

changes!(
    /// Changes to a status.
    StatusChanges => status {
    handle: String,
    name: String,
    rank: i32,
});

changes!(
    /// Changes to a tier.
    TierChanges => tier {
    handle: String,
    name: String,
    rank: i32,
});

changes!(
    /// Changes to a location.
    LocationChanges => location {
    name: String,
    external_id: Option<String>,
    external_code: Option<String>,
});
