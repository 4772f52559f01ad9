//! `profile_merge`: the record of one merge of duplicate profiles into a survivor
//! (SPEC §9). It goes with its survivor: purging the survivor removes it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "profile_merge")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The profile the others were merged into.
    pub survivor_id: Uuid,
    /// The merged profiles' ids, in the order the merge named them (a JSON array).
    pub merged_ids: Json,
    /// Each field's choice: `{field, customAttribute, value, fromProfileId,
    /// alternatives}` (a JSON array).
    pub fields: Json,
    /// What moved to the survivor: counts of addresses, identities, dates, tags and
    /// statuses (a JSON object).
    pub moves: Json,
    /// The unique values the merge freed: `[{field, profileId, value}]` (a JSON array).
    pub released: Json,
    pub actor_token_id: Option<i32>,
    pub actor_token_name: Option<String>,
    pub merged_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
