//! `status`: statuses are defined before use; attaching an unknown handle is an error.

use async_graphql::{ComplexObject, ID, SimpleObject};
use sea_orm::entity::prelude::*;

/// A status a profile can hold, e.g. `vip` or `staff`. Defined before it is attached.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize, serde::Serialize, SimpleObject,
)]
#[serde(default)]
#[sea_orm(table_name = "status")]
#[graphql(name = "Status", complex)]
pub struct Model {
    #[sea_orm(primary_key)]
    #[graphql(skip)]
    pub id: i32,
    /// Unique, stable key of the status.
    #[sea_orm(unique)]
    pub handle: String,
    /// Display name.
    pub name: String,
    /// Position among statuses, for display.
    pub rank: i32,
    /// When the status was created (UTC).
    pub created_at: DateTimeUtc,
    /// When the status last changed (UTC).
    pub updated_at: DateTimeUtc,
}

#[ComplexObject]
impl Model {
    /// The status's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        crate::node::id("Status", self.id)
    }

    /// The status's id.
    async fn id(&self) -> ID {
        self.id.into()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::profile_status::Entity")]
    ProfileStatus,
}

impl Related<super::profile_status::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ProfileStatus.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
