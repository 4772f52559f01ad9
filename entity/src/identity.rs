//! `identity`: the profile's identifiers in other systems (e.g. its Shopify customer id).

use async_graphql::{ComplexObject, ID, SimpleObject};
use sea_orm::entity::prelude::*;

/// The profile's identifier in another system. `(handle, identifier)` is unique across
/// all profiles, and a profile has at most one primary identity: its `externalId`.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize, serde::Serialize, SimpleObject,
)]
#[serde(default)]
#[sea_orm(table_name = "identity")]
#[graphql(name = "Identity", complex)]
pub struct Model {
    #[sea_orm(primary_key)]
    #[graphql(skip)]
    pub id: i32,
    #[graphql(skip)]
    pub profile_id: Uuid,
    /// The other system, e.g. `shopify`.
    pub handle: String,
    /// The profile's id in that system.
    pub identifier: String,
    /// Whether this is the profile's primary identity (its `externalId`).
    pub is_primary: bool,
    /// Whether the identity is in use.
    pub is_active: bool,
    /// When the identity was created (UTC).
    pub created_at: DateTimeUtc,
    /// When the identity last changed (UTC).
    pub updated_at: DateTimeUtc,
    /// The id of the profile this identity came from when that profile was merged into
    /// this one; null for an identity made here. Not in the event context or exports:
    /// it names a tombstone of this database.
    #[serde(skip_serializing)]
    pub merged_from: Option<Uuid>,
}

#[ComplexObject]
impl Model {
    /// The identity's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        crate::node::id("Identity", self.id)
    }

    /// The identity's id.
    async fn id(&self) -> ID {
        self.id.into()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
