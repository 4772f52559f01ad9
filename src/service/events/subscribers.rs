//! Who gets an event: the active webhooks that want its type, and the pending
//! deliveries a write queues for them in its own transaction.

use crate::service::error::Result;
use chrono::{DateTime, Utc};
use entity::enums::{DeliveryStatus, EventKind};
use entity::{webhook, webhook_delivery};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

/// What `events` holds to want every type.
pub(crate) const ALL_TYPES: &str = "*";

/// The end of a PostgreSQL statement that queues the deliveries of the events that
/// `events` (a name in its `WITH`, with columns `id`, `type` and `profile_id`) holds,
/// to every active webhook that wants their type, due at `now` (SQL of a timestamp):
/// no list of webhooks is read or kept, so a webhook another process created or
/// switched off counts from its commit on.
pub(crate) fn queue_sql(events: &str, now: &str) -> String {
    format!(
        "INSERT INTO webhook_delivery (webhook_id, event_id, profile_id, status, attempts, next_attempt_at, created_at) \
         SELECT w.id, e.id, e.profile_id, '{}', 0, {now}, {now} \
         FROM {events} AS e JOIN webhook AS w ON w.is_active \
           AND EXISTS (SELECT 1 FROM json_array_elements_text(w.events) AS t(name) WHERE t.name IN ('{}', e.type))",
        DeliveryStatus::Pending.to_value(),
        ALL_TYPES,
    )
}

/// An active webhook, as the fan-out of a write needs it.
pub(crate) struct Subscriber {
    id: Uuid,
    types: Vec<String>,
}

impl Subscriber {
    fn wants(&self, kind: &str) -> bool {
        self.types.iter().any(|t| t == ALL_TYPES || t == kind)
    }
}

/// The active webhooks (read once per write that writes events).
pub(crate) async fn active(db: &impl ConnectionTrait) -> Result<Vec<Subscriber>> {
    let rows: Vec<(Uuid, Value)> = webhook::Entity::find()
        .select_only()
        .columns([webhook::Column::Id, webhook::Column::Events])
        .filter(webhook::Column::IsActive.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, events)| Subscriber { id, types: types_of(&events) }).collect())
}

/// The event types a webhook's `events` column holds.
pub(crate) fn types_of(events: &Value) -> Vec<String> {
    events.as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect()
}

/// One pending delivery per event per webhook that wants its type.
pub(crate) fn deliveries_of<'a>(
    webhooks: &[Subscriber],
    events: impl Iterator<Item = (&'a str, EventKind, Uuid)>,
    now: DateTime<Utc>,
) -> Vec<webhook_delivery::ActiveModel> {
    let mut deliveries = Vec::new();
    for (id, kind, profile_id) in events {
        let kind = kind.to_value();
        for webhook in webhooks.iter().filter(|w| w.wants(&kind)) {
            deliveries.push(pending(webhook.id, id.to_owned(), profile_id, now));
        }
    }
    deliveries
}

pub(crate) fn pending(
    webhook_id: Uuid,
    event_id: String,
    profile_id: Uuid,
    now: DateTime<Utc>,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        id: NotSet,
        webhook_id: Set(webhook_id),
        event_id: Set(event_id),
        profile_id: Set(profile_id),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        last_status_code: Set(None),
        last_error: Set(None),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
    }
}

/// Inserts deliveries, a bounded number per statement.
pub(crate) async fn queue(db: &impl ConnectionTrait, deliveries: Vec<webhook_delivery::ActiveModel>) -> Result<()> {
    let mut deliveries = deliveries.into_iter().peekable();
    while deliveries.peek().is_some() {
        let batch: Vec<_> = deliveries.by_ref().take(1000).collect();
        webhook_delivery::Entity::insert_many(batch).exec_without_returning(db).await?;
    }
    Ok(())
}
