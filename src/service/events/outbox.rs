//! Writing a write's change events into the outbox, with their webhook deliveries,
//! just before it commits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::enums::EventKind;
use entity::{profile, profile_event, webhook_delivery};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Statement};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::service::actor::{self, Actor};
use crate::service::change::{Change, ChangeKind};
use crate::service::error::{Error, Result};
use crate::service::events::commit_order::COMMIT_ORDER_LOCK;
use crate::service::events::context;
use crate::service::events::deferred::{DEFERRED, bound_json, json};
use crate::service::events::feed::Event;
use crate::service::events::subscribers::queue_sql;
use crate::service::profiles::read::Planned;

/// Changes handled per round of [`write`]: bounds the contexts held in memory, and the
/// parameters of one statement, when a write changes many profiles (deleting a tag).
const CHUNK: usize = 500;

/// Writes the events of `changes` in transaction `txn`, just before it commits. An
/// update that changed no key of the context writes none; a purge's event carries the
/// profile's id only. `changed` compares with the context a profile had when the write
/// [held](Held) it, else with its previous event. The events
/// occur at `now` (the write's clock). `extra` holds keys an event's `data` has
/// besides the context, where they apply (a merge's `merged_from`, `merged_into` and
/// `deleted_reason`): every other event's `data` is the context alone. Returns how
/// many it wrote.
pub(crate) async fn write(
    txn: &impl ConnectionTrait,
    changes: &[Change],
    held: &HashMap<Uuid, Held>,
    extra: &HashMap<Uuid, Map<String, Value>>,
    now: DateTime<Utc>,
) -> Result<usize> {
    if changes.is_empty() || cfg!(feature = "bench-no-events") {
        return Ok(0);
    }
    let today = now.date_naive();
    let actor = actor::current();
    let mut written = 0;
    for chunk in changes.chunks(CHUNK) {
        // A created profile's context is deferred and a purged one has none. Of the
        // others, those whose row alone changed need no read back, and those the write
        // held need no previous event.
        let compared = || chunk.iter().filter(|c| !matches!(c.kind, ChangeKind::Created | ChangeKind::Purged));
        let read_back: Vec<Uuid> = compared()
            .filter(|c| held.get(&c.profile_id).is_none_or(|h| h.after.is_none()))
            .map(|c| c.profile_id)
            .collect();
        let mut after: HashMap<Uuid, Planned> =
            context::read(txn, &read_back).await?.into_iter().map(|p| (p.model.id, p)).collect();
        let unheld: Vec<Uuid> =
            compared().filter(|c| !held.contains_key(&c.profile_id)).map(|c| c.profile_id).collect();
        let mut previous = latest(txn, &unheld).await?;
        let mut rows = Vec::with_capacity(chunk.len());
        for change in chunk {
            let id = change.profile_id;
            let (data, changed) = match change.kind {
                // No personal data outlives a purge, not even in its own event.
                ChangeKind::Purged => (json(&serde_json::json!({ "id": id })), "[]".to_owned()),
                // The context is deferred (see the module's notes); `changed` is every
                // key, the same list for every created event, and not stored either.
                ChangeKind::Created => (DEFERRED.to_owned(), DEFERRED.to_owned()),
                kind => {
                    let profile = held.get(&id);
                    let extra = extra.get(&id);
                    let (data, changed) = match profile.and_then(|h| h.after.as_ref().map(|row| (h, row))) {
                        // Only the row changed, and no relation it names: the keys that
                        // differ are those its columns give, compared without relations,
                        // and the context goes straight to text.
                        Some((held, row)) => {
                            let changed = context::row_changed(&held.before.model, row, today);
                            let relations = &held.before.relations;
                            let data = match extra {
                                None => context::text_of_parts(row, relations, today),
                                Some(keys) => json(&with_keys(context::of_parts(row, relations, today), keys)),
                            };
                            (data, Some(changed))
                        }
                        None => {
                            let planned = after.remove(&id).ok_or_else(|| {
                                Error::Invariant(format!("profile {id} changed but cannot be read back"))
                            })?;
                            let data = context::of(&planned, today);
                            let before = match profile {
                                Some(held) => Some(context::of(&held.before, today)),
                                None => previous.remove(&id),
                            };
                            let changed = before.map(|before| context::changed(&before, &data));
                            let data = match extra {
                                None => data,
                                Some(keys) => with_keys(data, keys),
                            };
                            (json(&data), changed)
                        }
                    };
                    let changed = match changed {
                        // Every key: its earlier context is unknown.
                        None => context::keys().to_vec(),
                        Some(changed) if kind == ChangeKind::Updated && changed.is_empty() => continue,
                        Some(changed) => changed,
                    };
                    (data, json(&changed))
                }
            };
            rows.push(Row {
                id: format!("evt_{}", Uuid::new_v4().simple()),
                kind: change.kind.event_type(),
                profile_id: id,
                version: change.version,
                changed,
                data,
            });
        }
        written += rows.len();
        if !rows.is_empty() {
            insert(txn, rows, actor.as_ref(), now).await?;
        }
    }
    metrics::counter!("events_written_total").increment(written as u64);
    Ok(written)
}

/// A profile the write read, with all its context holds, as it locked it before its
/// first change (`Write::hold`): its change event's `changed` compares with this,
/// not with the previous event, which the write then need not read.
pub(crate) struct Held {
    /// The profile as the write found it.
    pub before: Planned,
    /// The profile's row as the write left it, while nothing but the row's own columns
    /// changed, none of them naming a relation: its context is then `after` with the
    /// relations of `before`, and needs no read either. `None` once anything else may
    /// have changed.
    pub after: Option<profile::Model>,
}

/// `context` with the keys an event's `data` has besides it (a merge's).
fn with_keys(mut context: Map<String, Value>, keys: &Map<String, Value>) -> Map<String, Value> {
    context.extend(keys.iter().map(|(key, value)| (key.clone(), value.clone())));
    context
}

/// Deletes every event of the profiles `ids` and every delivery of them, pending or
/// done, in transaction `txn`: what a purge erases (a profile and its tombstones).
/// Deliveries first, though the foreign key would cascade: the statement says what goes.
pub(crate) async fn erase(txn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<()> {
    let ids = || ids.iter().copied();
    webhook_delivery::Entity::delete_many().filter(webhook_delivery::Column::ProfileId.is_in(ids())).exec(txn).await?;
    profile_event::Entity::delete_many().filter(profile_event::Column::ProfileId.is_in(ids())).exec(txn).await?;
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

/// Inserts `rows` and queues their deliveries to the active webhooks that want their
/// types. The contexts go in as the text they were written to: no tree is copied into
/// the statement, and PostgreSQL takes them as `json` (the columns' type) where a bound
/// [`Value`] is sent as `jsonb`, parsed into it and printed back (90 ms per 500
/// contexts, `log_min_duration_statement`).
///
/// On PostgreSQL it is one statement: the commit-order lock (shared), the events, and
/// the deliveries selected from the webhooks. So no list of webhooks is read or kept:
/// a webhook another process created or switched off counts from its commit on. On
/// SQLite, where a statement costs no round trip, the webhooks are read.
async fn insert(txn: &impl ConnectionTrait, rows: Vec<Row>, actor: Option<&Actor>, now: DateTime<Utc>) -> Result<()> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        return insert_postgres(txn, rows, actor, now).await;
    }
    let webhooks = crate::service::events::subscribers::active(txn).await?;
    let events = rows.iter().map(|row| (row.id.as_str(), row.kind, row.profile_id));
    let deliveries = crate::service::events::subscribers::deliveries_of(&webhooks, events, now);
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
    crate::service::events::subscribers::queue(txn, deliveries).await?;
    Ok(())
}

/// [`insert`] on PostgreSQL, in one statement (see there). The lock is taken before the
/// events draw their numbers (see `events`, "Commit order"): the insert reads its rows
/// joined to the lock's.
async fn insert_postgres(
    txn: &impl ConnectionTrait,
    rows: Vec<Row>,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut values: Vec<sea_orm::Value> = vec![COMMIT_ORDER_LOCK.into(), now.into()];
    let mut tuples = Vec::with_capacity(rows.len());
    for row in rows {
        let at = values.len();
        tuples.push(format!(
            "(${}::text, ${}::text, ${}::uuid, ${}::int4, ${}::json, ${}::int4, ${}::text, ${}::json)",
            at + 1,
            at + 2,
            at + 3,
            at + 4,
            at + 5,
            at + 6,
            at + 7,
            at + 8
        ));
        values.extend([
            row.id.into(),
            row.kind.to_value().into(),
            row.profile_id.into(),
            row.version.into(),
            row.changed.into(),
            actor.map(|a| a.token_id).into(),
            actor.map(|a| a.token_name.clone()).into(),
            row.data.into(),
        ]);
    }
    let sql = format!(
        "WITH commit_order AS (SELECT pg_advisory_xact_lock_shared($1)), \
         events AS (INSERT INTO profile_event \
           (id, type, profile_id, version, changed, actor_token_id, actor_token_name, data, occurred_at) \
           SELECT v.*, $2::timestamptz FROM (VALUES {}) \
             AS v(id, type, profile_id, version, changed, actor_token_id, actor_token_name, data) \
           CROSS JOIN commit_order \
           RETURNING id, type, profile_id) {}",
        tuples.join(", "),
        queue_sql("events", "$2::timestamptz"),
    );
    txn.execute_raw(Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)).await?;
    Ok(())
}

/// The context of the latest event of each of `profiles` that has one.
async fn latest(db: &impl ConnectionTrait, profiles: &[Uuid]) -> Result<HashMap<Uuid, Map<String, Value>>> {
    if profiles.is_empty() {
        return Ok(HashMap::new());
    }
    let newest = Query::select()
        .expr(Func::max(Expr::col(profile_event::Column::Seq)))
        .from(profile_event::Entity)
        .and_where(profile_event::Column::ProfileId.is_in(profiles.iter().copied()))
        .group_by_col(profile_event::Column::ProfileId)
        .to_owned();
    let rows = profile_event::Entity::find().filter(profile_event::Column::Seq.in_subquery(newest)).all(db).await?;
    let mut contexts = HashMap::with_capacity(rows.len());
    for row in rows {
        let id = row.profile_id;
        // A state's context is derived from it; a deferred one's is the profile's,
        // settled before the change (see `events`).
        if let Value::Object(map) = Event::try_from(row)?.data {
            contexts.insert(id, map);
        }
    }
    Ok(contexts)
}
