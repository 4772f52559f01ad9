//! `tag`: free-form labels; attaching an unknown handle creates the tag.

use async_graphql::{ComplexObject, ID, SimpleObject};
use sea_orm::entity::prelude::*;

/// A label attached to profiles. Handles are normalised: trimmed, lower-case, inner
/// whitespace turned into `-`.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize, serde::Serialize, SimpleObject,
)]
#[serde(default)]
#[sea_orm(table_name = "tag")]
#[graphql(name = "Tag", complex)]
pub struct Model {
    #[sea_orm(primary_key)]
    #[graphql(skip)]
    pub id: i32,
    /// Unique, normalised key of the tag.
    #[sea_orm(unique)]
    pub handle: String,
    /// Display name; for an auto-created tag, the handle as given, trimmed.
    pub name: String,
    /// When the tag was created (UTC).
    pub created_at: DateTimeUtc,
    /// When the tag last changed (UTC).
    pub updated_at: DateTimeUtc,
}

#[ComplexObject]
impl Model {
    /// The tag's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        crate::node::id("Tag", self.id)
    }

    /// The tag's id.
    async fn id(&self) -> ID {
        self.id.into()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::profile_tag::Entity")]
    ProfileTag,
}

impl Related<super::profile_tag::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ProfileTag.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
