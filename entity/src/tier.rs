//! `tier`: the loyalty tiers a profile can hold, referenced by handle.

use async_graphql::{ComplexObject, ID, SimpleObject};
use sea_orm::entity::prelude::*;

/// A loyalty tier. Profiles refer to it by `handle`.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize, serde::Serialize, SimpleObject,
)]
#[serde(default)]
#[sea_orm(table_name = "tier")]
#[graphql(name = "Tier", complex)]
pub struct Model {
    #[sea_orm(primary_key)]
    #[graphql(skip)]
    pub id: i32,
    /// Unique, stable key of the tier, e.g. `gold`.
    #[sea_orm(unique)]
    pub handle: String,
    /// Display name.
    pub name: String,
    /// Position among tiers; higher ranks are better.
    pub rank: i32,
    /// When the tier was created (UTC).
    pub created_at: DateTimeUtc,
    /// When the tier last changed (UTC).
    pub updated_at: DateTimeUtc,
}

#[ComplexObject]
impl Model {
    /// The tier's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        crate::node::id("Tier", self.id)
    }

    /// The tier's id.
    async fn id(&self) -> ID {
        self.id.into()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
