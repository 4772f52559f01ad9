//! `webhook_delivery`: one event to one webhook, its attempts and outcome.

use sea_orm::entity::prelude::*;

use crate::enums::DeliveryStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    /// Also the order of a profile's deliveries to one webhook.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub webhook_id: Uuid,
    /// The `profile_event` delivered (its `id`, the `webhook-id` header).
    pub event_id: String,
    pub profile_id: Uuid,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    /// When it may be sent (again).
    pub next_attempt_at: DateTimeUtc,
    /// While a worker sends it, until when it holds it; a worker that dies lets it go
    /// at that time.
    pub locked_until: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::profile_event::Entity",
        from = "Column::EventId",
        to = "super::profile_event::Column::Id"
    )]
    Event,
}

impl Related<super::profile_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Event.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
