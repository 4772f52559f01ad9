//! Writing a write's change events into the outbox, with their webhook deliveries,
//! just before it commits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::enums::EventKind;
use entity::{profile_event, webhook_delivery};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::service::actor::{self, Actor};
use crate::service::change::{Change, ChangeKind};
use crate::service::error::{Error, Result};
use crate::service::events::commit_order::{Mode, commit_order};
use crate::service::events::context;
use crate::service::events::deferred::{DEFERRED, bound_json, json};
use crate::service::profiles::read::Planned;

/// Changes handled per round of [`write`]: bounds the contexts held in memory, and the
/// parameters of one statement, when a write changes many profiles (deleting a tag).
const CHUNK: usize = 500;

/// Writes the events of `changes` in transaction `txn`, just before it commits. An
/// update that changed no key of the context writes none; a purge's event carries the
/// profile's id only. The events occur at `now` (the write's clock). Returns how many
/// it wrote.
pub(crate) async fn write(txn: &impl ConnectionTrait, changes: &[Change], now: DateTime<Utc>) -> Result<usize> {
    if changes.is_empty() {
        return Ok(0);
    }
    let today = now.date_naive();
    let actor = actor::current();
    // Taken with the first events there are to insert (a write that changed nothing the
    // context shows needs neither): the commit-order lock, then the active webhooks.
    let mut webhooks = None;
    let mut written = 0;
    for chunk in changes.chunks(CHUNK) {
        // A created profile's context is deferred and a purged one has none: only the
        // others are read back, and compared with their previous event.
        let read_back: Vec<Uuid> = chunk
            .iter()
            .filter(|c| !matches!(c.kind, ChangeKind::Created | ChangeKind::Purged))
            .map(|c| c.profile_id)
            .collect();
        let mut after: HashMap<Uuid, Planned> =
            context::read(txn, &read_back).await?.into_iter().map(|p| (p.model.id, p)).collect();
        let before = latest(txn, &read_back).await?;
        let mut rows = Vec::with_capacity(chunk.len());
        for change in chunk {
            let (data, changed) = match change.kind {
                // No personal data outlives a purge, not even in its own event.
                ChangeKind::Purged => (json(&serde_json::json!({ "id": change.profile_id })), "[]".to_owned()),
                // The context is deferred (see the module's notes); `changed` is every
                // key, the same list for every created event, and not stored either.
                ChangeKind::Created => (DEFERRED.to_owned(), DEFERRED.to_owned()),
                kind => {
                    let planned = after.remove(&change.profile_id).ok_or_else(|| {
                        Error::Invariant(format!("profile {} changed but cannot be read back", change.profile_id))
                    })?;
                    match before.get(&change.profile_id) {
                        // Every key: the context goes straight to text.
                        None => (context::text(&planned, today), json(context::keys())),
                        Some(before) => {
                            let data = context::of(&planned, today);
                            let changed = context::changed(before, &data);
                            if kind == ChangeKind::Updated && changed.is_empty() {
                                continue;
                            }
                            (json(&data), json(&changed))
                        }
                    }
                }
            };
            rows.push(Row {
                id: format!("evt_{}", Uuid::new_v4().simple()),
                kind: change.kind.event_type(),
                profile_id: change.profile_id,
                version: change.version,
                changed,
                data,
            });
        }
        written += rows.len();
        if !rows.is_empty() {
            if webhooks.is_none() {
                commit_order(txn, Mode::Shared).await?;
                webhooks = Some(crate::service::events::subscribers::active(txn).await?);
            }
            let events = rows.iter().map(|row| (row.id.as_str(), row.kind, row.profile_id));
            let deliveries = crate::service::events::subscribers::deliveries_of(
                webhooks.as_deref().unwrap_or_default(),
                events,
                now,
            );
            insert(txn, rows, actor.as_ref(), now).await?;
            crate::service::events::subscribers::queue(txn, deliveries).await?;
        }
    }
    metrics::counter!("events_written_total").increment(written as u64);
    Ok(written)
}

/// Deletes every event of profile `id` and every delivery of them, pending or done,
/// in transaction `txn`: what a purge erases. Deliveries first, though the
/// foreign key would cascade: the statement says what goes.
pub(crate) async fn erase(txn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    webhook_delivery::Entity::delete_many().filter(webhook_delivery::Column::ProfileId.eq(id)).exec(txn).await?;
    profile_event::Entity::delete_many().filter(profile_event::Column::ProfileId.eq(id)).exec(txn).await?;
    Ok(())
}

/// An event about to be written, its context and changed keys as JSON text.
struct Row {
    id: String,
    kind: EventKind,
    profile_id: Uuid,
    version: i32,
    changed: String,
    data: String,
}

/// Inserts `rows` in one statement. The contexts go in as the text they were written
/// to: no tree is copied into the statement, and PostgreSQL takes them as `json` (the
/// columns' type) where a bound [`Value`] is sent as `jsonb`, parsed into it and
/// printed back (90 ms per 500 contexts, `log_min_duration_statement`).
async fn insert(txn: &impl ConnectionTrait, rows: Vec<Row>, actor: Option<&Actor>, now: DateTime<Utc>) -> Result<()> {
    use profile_event::Column;
    let backend = txn.get_database_backend();
    let mut insert = Query::insert();
    insert.into_table(profile_event::Entity).columns([
        Column::Id,
        Column::Kind,
        Column::ProfileId,
        Column::Version,
        Column::Changed,
        Column::ActorTokenId,
        Column::ActorTokenName,
        Column::Data,
        Column::OccurredAt,
    ]);
    for row in rows {
        insert
            .values([
                Expr::val(row.id),
                Expr::val(row.kind),
                Expr::val(row.profile_id),
                Expr::val(row.version),
                bound_json(backend, row.changed),
                Expr::val(actor.map(|a| a.token_id)),
                Expr::val(actor.map(|a| a.token_name.clone())),
                bound_json(backend, row.data),
                Expr::val(now),
            ])
            .map_err(|e| Error::Invariant(e.to_string()))?;
    }
    txn.execute_raw(backend.build(&insert)).await?;
    Ok(())
}

/// The context of the latest event of each of `profiles` that has one.
async fn latest(db: &impl ConnectionTrait, profiles: &[Uuid]) -> Result<HashMap<Uuid, Map<String, Value>>> {
    if profiles.is_empty() {
        return Ok(HashMap::new());
    }
    #[derive(FromQueryResult)]
    struct Latest {
        profile_id: Uuid,
        data: Value,
    }
    let newest = Query::select()
        .expr(Func::max(Expr::col(profile_event::Column::Seq)))
        .from(profile_event::Entity)
        .and_where(profile_event::Column::ProfileId.is_in(profiles.iter().copied()))
        .group_by_col(profile_event::Column::ProfileId)
        .to_owned();
    let rows = profile_event::Entity::find()
        .select_only()
        .columns([profile_event::Column::ProfileId, profile_event::Column::Data])
        .filter(profile_event::Column::Seq.in_subquery(newest))
        .into_model::<Latest>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.data {
            Value::Object(map) => Some((row.profile_id, map)),
            _ => None,
        })
        .collect())
}
