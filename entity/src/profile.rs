//! `profile`: the customer record. Its GraphQL type lives in the service crate
//! (`graphql::types::profile`) because it adds derived fields and batched relations.

use sea_orm::entity::prelude::*;

use crate::enums::{Gender, ProfileType};

#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel, serde::Deserialize)]
#[serde(default)]
#[sea_orm(table_name = "profile")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Stored and shown as given; unique by its key, `email_key`.
    pub email: Option<String>,
    /// `email_key::of(email)`, the one key of the address (NFC, Unicode case folding),
    /// written with the email by every write and unique: uniqueness, lookups, search and
    /// the email order use it. Null without an email, and for a profile whose email has
    /// the key of an older profile's from before the key existed (a collision, listed
    /// for merging).
    pub email_key: Option<String>,
    /// `email_key::base_of(email)`: the key without the local part's `+tag`, written with
    /// the email (and for collisions too); duplicate candidates compare it. Not unique.
    pub email_base_key: Option<String>,
    pub gender: Option<Gender>,
    pub currency: Option<String>,
    pub joined_at: DateTimeUtc,
    /// E.164.
    #[sea_orm(unique)]
    pub mobile_phone: Option<String>,
    /// E.164.
    pub secondary_phone: Option<String>,
    pub birth_year: Option<i32>,
    pub birth_month: Option<i32>,
    pub birth_day: Option<i32>,
    pub company: Option<String>,
    pub occupation: Option<String>,
    pub avatar_url: Option<String>,
    pub preferred_location_id: Option<i32>,
    pub joined_location_id: Option<i32>,
    pub tier_handle: Option<String>,
    pub profile_type: ProfileType,
    /// The type a soft-deleted profile had, so that restoring brings it back.
    pub type_before_delete: Option<ProfileType>,
    /// Namespace → object of handle → JSON value.
    #[sea_orm(column_type = "JsonBinary")]
    pub custom_attributes: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// +1 on every change to the profile or any record it owns.
    pub version: i32,
    /// The survivor this profile was merged into: set, the profile is a tombstone
    /// (its type `deleted`), hidden from every read and refused by every write.
    pub merged_into: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
