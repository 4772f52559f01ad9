//! Enumerations stored as lower-case text (the reference model's values) and exposed
//! to GraphQL as SCREAMING_SNAKE_CASE enums. Their serde form is the stored text, so a
//! row read as JSON (the planned read path) decodes into them.

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
