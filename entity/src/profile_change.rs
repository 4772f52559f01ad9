//! `profile_change`: what a committed write did to a profile (created, updated,
//! deleted, restored, purged) and the version it left. One row per profile per write.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "profile_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub profile_id: Uuid,
    /// `created`, `updated`, `deleted`, `restored` or `purged`.
    pub kind: String,
    /// The profile's version after the write (the last one, for `purged`).
    pub version: i32,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
