//! `comms`: one row per profile with its communication preferences, created with it.
//!
//! Defaults: opt-outs, bounces and promotional consent false (no marketing
//! consent until given); category flags true; verification `NOT_SENT`.

use async_graphql::{ComplexObject, ID, SimpleObject};
use sea_orm::entity::prelude::*;

use crate::enums::VerificationState;

/// Communication preferences of a profile, per channel (email, SMS, push, phone, post):
/// opt-out, bounce and promotional consent, the eight message categories, and the
/// verification state of each contact point.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize, serde::Serialize, SimpleObject,
)]
#[serde(default)]
#[sea_orm(table_name = "comms")]
#[graphql(name = "Comms", complex)]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    #[graphql(skip)]
    pub profile_id: Uuid,
    /// By email: the customer opted out of all contact.
    pub email_optout: bool,
    /// By email: messages to the customer bounce.
    pub email_bounced: bool,
    /// By email: the customer consents to promotions (false until given).
    pub email_promo: bool,
    /// By email: the customer accepts new products and ranges.
    pub email_discover: bool,
    /// By email: the customer accepts loyalty benefits.
    pub email_benefits: bool,
    /// By email: the customer accepts reminders.
    pub email_reminders: bool,
    /// By email: the customer accepts account notices.
    pub email_account: bool,
    /// By email: the customer accepts bookings and appointments.
    pub email_bookings: bool,
    /// By email: the customer accepts requests for feedback.
    pub email_feedback: bool,
    /// By email: the customer accepts news from their locations.
    pub email_location: bool,
    /// By email: the customer accepts service messages.
    pub email_service: bool,
    /// By SMS: the customer opted out of all contact.
    pub sms_optout: bool,
    /// By SMS: messages to the customer bounce.
    pub sms_bounced: bool,
    /// By SMS: the customer consents to promotions (false until given).
    pub sms_promo: bool,
    /// By SMS: the customer accepts new products and ranges.
    pub sms_discover: bool,
    /// By SMS: the customer accepts loyalty benefits.
    pub sms_benefits: bool,
    /// By SMS: the customer accepts reminders.
    pub sms_reminders: bool,
    /// By SMS: the customer accepts account notices.
    pub sms_account: bool,
    /// By SMS: the customer accepts bookings and appointments.
    pub sms_bookings: bool,
    /// By SMS: the customer accepts requests for feedback.
    pub sms_feedback: bool,
    /// By SMS: the customer accepts news from their locations.
    pub sms_location: bool,
    /// By SMS: the customer accepts service messages.
    pub sms_service: bool,
    /// By push notification: the customer opted out of all contact.
    pub push_optout: bool,
    /// By push notification: messages to the customer bounce.
    pub push_bounced: bool,
    /// By push notification: the customer consents to promotions (false until given).
    pub push_promo: bool,
    /// By push notification: the customer accepts new products and ranges.
    pub push_discover: bool,
    /// By push notification: the customer accepts loyalty benefits.
    pub push_benefits: bool,
    /// By push notification: the customer accepts reminders.
    pub push_reminders: bool,
    /// By push notification: the customer accepts account notices.
    pub push_account: bool,
    /// By push notification: the customer accepts bookings and appointments.
    pub push_bookings: bool,
    /// By push notification: the customer accepts requests for feedback.
    pub push_feedback: bool,
    /// By push notification: the customer accepts news from their locations.
    pub push_location: bool,
    /// By push notification: the customer accepts service messages.
    pub push_service: bool,
    /// By phone call: the customer opted out of all contact.
    pub phone_optout: bool,
    /// By phone call: messages to the customer bounce.
    pub phone_bounced: bool,
    /// By phone call: the customer consents to promotions (false until given).
    pub phone_promo: bool,
    /// By phone call: the customer accepts new products and ranges.
    pub phone_discover: bool,
    /// By phone call: the customer accepts loyalty benefits.
    pub phone_benefits: bool,
    /// By phone call: the customer accepts reminders.
    pub phone_reminders: bool,
    /// By phone call: the customer accepts account notices.
    pub phone_account: bool,
    /// By phone call: the customer accepts bookings and appointments.
    pub phone_bookings: bool,
    /// By phone call: the customer accepts requests for feedback.
    pub phone_feedback: bool,
    /// By phone call: the customer accepts news from their locations.
    pub phone_location: bool,
    /// By phone call: the customer accepts service messages.
    pub phone_service: bool,
    /// By post: the customer opted out of all contact.
    pub post_optout: bool,
    /// By post: messages to the customer bounce.
    pub post_bounced: bool,
    /// By post: the customer consents to promotions (false until given).
    pub post_promo: bool,
    /// By post: the customer accepts new products and ranges.
    pub post_discover: bool,
    /// By post: the customer accepts loyalty benefits.
    pub post_benefits: bool,
    /// By post: the customer accepts reminders.
    pub post_reminders: bool,
    /// By post: the customer accepts account notices.
    pub post_account: bool,
    /// By post: the customer accepts bookings and appointments.
    pub post_bookings: bool,
    /// By post: the customer accepts requests for feedback.
    pub post_feedback: bool,
    /// By post: the customer accepts news from their locations.
    pub post_location: bool,
    /// By post: the customer accepts service messages.
    pub post_service: bool,
    /// Verification state of the email address.
    pub email_verification: VerificationState,
    /// Verification state of the mobile number, by SMS.
    pub sms_verification: VerificationState,
    /// Verification state of the phone number, by call.
    pub phone_verification: VerificationState,
    /// Verification state of the postal address.
    pub post_verification: VerificationState,
    /// When the customer accepted the terms (UTC).
    pub terms_accepted_at: Option<DateTimeUtc>,
    /// Which version of the terms the customer accepted.
    pub terms_accepted_version: Option<String>,
    /// When the record was created (UTC).
    pub created_at: DateTimeUtc,
    /// When the record last changed (UTC).
    pub updated_at: DateTimeUtc,
}

#[ComplexObject]
impl Model {
    /// Its profile's id: each profile has its own communication preferences.
    async fn id(&self) -> ID {
        ID(self.profile_id.to_string())
    }

    /// The global id of the profile's communication preferences (`Query.node`).
    pub async fn node_id(&self) -> ID {
        crate::node::id("Comms", self.profile_id)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
