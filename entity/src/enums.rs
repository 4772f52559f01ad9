//! Enumerations stored as lower-case text (the reference model's values) and exposed
//! to GraphQL as SCREAMING_SNAKE_CASE enums. Their serde form is the stored text, so a
//! row read as JSON (the planned read path) decodes into them. The last two are the
//! outbox's: a webhook delivery's status (stored as GraphQL names it) and a change
//! event's type (stored as the feed and webhooks name it).

use sea_orm::Iterable;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A profile's gender, as the customer gave it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// Male.
    #[sea_orm(string_value = "male")]
    Male,
    /// Female.
    #[sea_orm(string_value = "female")]
    Female,
    /// The customer chose not to say.
    #[sea_orm(string_value = "withheld")]
    Withheld,
    /// Another gender.
    #[sea_orm(string_value = "other")]
    Other,
}

/// The kind of a profile. `DELETED` profiles are hidden from every read.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum ProfileType {
    /// A regular customer profile (the default).
    #[default]
    #[sea_orm(string_value = "active")]
    Active,
    /// A short-lived profile, e.g. a guest checkout.
    #[sea_orm(string_value = "temporary")]
    Temporary,
    /// A profile that depends on another customer, e.g. a child.
    #[sea_orm(string_value = "dependant")]
    Dependant,
    /// A profile still missing required details.
    #[sea_orm(string_value = "incomplete")]
    Incomplete,
    /// A profile awaiting confirmation.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// A profile used by the platform itself.
    #[sea_orm(string_value = "system")]
    System,
    /// A soft-deleted profile; `restoreProfile` brings it back.
    #[sea_orm(string_value = "deleted")]
    Deleted,
}

/// How often an important date recurs.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum RecurringSchedule {
    /// Every year on the same day and month.
    #[sea_orm(string_value = "yearly")]
    Yearly,
    /// Every month on the same day.
    #[sea_orm(string_value = "monthly")]
    Monthly,
    /// Every week on the same weekday.
    #[sea_orm(string_value = "weekly")]
    Weekly,
}

/// The verification state of a contact channel.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "snake_case")]
pub enum VerificationState {
    /// No verification was sent (the default).
    #[default]
    #[sea_orm(string_value = "not_sent")]
    NotSent,
    /// A verification was sent and not yet answered.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// The customer verified the channel.
    #[sea_orm(string_value = "verified")]
    Verified,
    /// Verification failed.
    #[sea_orm(string_value = "failed")]
    Failed,
}

// `webhook_delivery.status` (a `VARCHAR(12)`), stored as GraphQL names it.
/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum DeliveryStatus {
    /// Not sent yet, or being retried.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The endpoint answered 2xx.
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    /// Every attempt failed.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// The type of a change event (`profile_event.type`), as the feed, GraphQL's
/// `Event.type` and webhooks name it; a webhook's `events` and the feed's `types`
/// filter by these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum EventKind {
    /// A profile was created.
    #[sea_orm(string_value = "profile.created")]
    Created,
    /// A profile changed.
    #[sea_orm(string_value = "profile.updated")]
    Updated,
    /// A profile was soft-deleted.
    #[sea_orm(string_value = "profile.deleted")]
    Deleted,
    /// A deleted profile was restored.
    #[sea_orm(string_value = "profile.restored")]
    Restored,
    /// A profile was purged for good.
    #[sea_orm(string_value = "profile.purged")]
    Purged,
    /// Other profiles were merged into this one (the survivor).
    #[sea_orm(string_value = "profile.merged")]
    Merged,
}

impl EventKind {
    /// The type named `name`, if there is one.
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::iter().find(|kind| kind.to_value() == name)
    }

    /// Every type's name, in order, as a message lists them.
    pub fn listed() -> String {
        EventKind::iter().map(|kind| kind.to_value()).collect::<Vec<_>>().join(", ")
    }
}
