//! `location`: stores and other places a profile joined at or prefers.

use async_graphql::{ComplexObject, ID, SimpleObject};
use sea_orm::entity::prelude::*;

/// A store or other place of the retailer.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize, serde::Serialize, SimpleObject,
)]
#[serde(default)]
#[sea_orm(table_name = "location")]
#[graphql(name = "Location", complex)]
pub struct Model {
    #[sea_orm(primary_key)]
    #[graphql(skip)]
    pub id: i32,
    /// Display name.
    pub name: String,
    /// The location's reference in the retailer's primary system; unique when present.
    #[sea_orm(unique)]
    pub external_id: Option<String>,
    /// A short code of the location in other systems.
    pub external_code: Option<String>,
    /// When the location was created (UTC).
    pub created_at: DateTimeUtc,
    /// When the location last changed (UTC).
    pub updated_at: DateTimeUtc,
}

#[ComplexObject]
impl Model {
    /// The location's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        crate::node::id("Location", self.id)
    }

    /// The location's id.
    async fn id(&self) -> ID {
        self.id.into()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
