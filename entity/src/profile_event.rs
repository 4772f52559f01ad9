//! `profile_event`: the outbox of change events, one row per profile per
//! committed write that changed it, in commit order (`seq`).

use sea_orm::entity::prelude::*;

use crate::enums::EventKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "profile_event")]
pub struct Model {
    /// Commit order: a reader that sees an event sees every event before it.
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// `evt_` and 32 hex digits; the `webhook-id` of its deliveries.
    #[sea_orm(unique)]
    pub id: String,
    #[sea_orm(column_name = "type")]
    pub kind: EventKind,
    pub profile_id: Uuid,
    /// The profile's version after the change (the last one, for `profile.purged`).
    pub version: i32,
    /// The top-level context keys whose value changed (a JSON array of strings).
    pub changed: Json,
    pub actor_token_id: Option<i32>,
    pub actor_token_name: Option<String>,
    /// The event context after the change (only the profile's id, for `profile.purged`).
    pub data: Json,
    /// The profile's state at the event, as PostgreSQL wrote it in the statement that
    /// changed the profile: `{"row", "before", "relations"}` (`service::events::state`;
    /// no `before` for a created event). While it is set, `data` is `{}` and `data` and
    /// `changed` are derived from it (`settle-events` writes them out and clears it).
    pub state: Option<Json>,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
