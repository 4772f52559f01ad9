//! Deferred contexts (see `events`): reading a created event's context from its profile,
//! and settling waiting events before their profile changes.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::profile_event;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use crate::service::error::{Error, Result};
use crate::service::events::context;
use crate::service::events::feed::Event;
use crate::service::profiles::read::Planned;

/// Changes handled per round of [`write`]: bounds the contexts held in memory, and the
/// parameters of one statement, when a write changes many profiles (deleting a tag).
const CHUNK: usize = 500;

/// What `data` holds while an event's context is deferred (see the module's notes).
pub(crate) const DEFERRED: &str = "null";

/// The condition that an event's context is deferred; word for word the predicate of
/// the partial index `ix_profile_event_deferred`, so that it is used.
fn deferred() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust("CAST(\"data\" AS TEXT) = 'null'")
}

/// When the deferred event of the profile a planned read of profiles reads occurred, if
/// one waits: an expression that read selects besides (`read::rows_with`). Its
/// condition is the partial index's, so that the index answers it.
pub(crate) const WAITING_SINCE: &str = "(SELECT MIN(\"e\".\"occurred_at\") FROM \"profile_event\" AS \"e\" \
     WHERE \"e\".\"profile_id\" = \"profile\".\"id\" AND CAST(\"e\".\"data\" AS TEXT) = 'null')";

/// Writes `context` (JSON text) into the deferred events of profile `id`, whose row the
/// change holds: the context it found the profile with, before changing it.
pub(crate) async fn settle_with(db: &impl ConnectionTrait, id: Uuid, context: &str) -> Result<()> {
    let backend = db.get_database_backend();
    let update = Query::update()
        .table(profile_event::Entity)
        .value(profile_event::Column::Data, bound_json(backend, context.to_owned()))
        .and_where(profile_event::Column::ProfileId.eq(id))
        .and_where(deferred())
        .to_owned();
    db.execute_raw(backend.build(&update)).await?;
    Ok(())
}

/// An event whose context is deferred: enough to find that context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Deferred {
    pub seq: i64,
    pub profile_id: Uuid,
    pub version: i32,
    pub occurred_at: DateTime<Utc>,
}

impl Deferred {
    /// The event's, when its context is deferred.
    pub(crate) fn of(event: &Event) -> Option<Deferred> {
        Value::is_null(&event.data).then_some(Deferred {
            seq: event.seq,
            profile_id: event.profile_id,
            version: event.version,
            occurred_at: event.occurred_at,
        })
    }
}

/// The contexts of deferred events, by `seq`, in one statement (two when a change
/// settled one since it was read): each is its profile's, as of the event's day.
pub(crate) async fn contexts(db: &impl ConnectionTrait, events: &[Deferred]) -> Result<HashMap<i64, Value>> {
    if events.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Uuid> = events.iter().map(|e| e.profile_id).collect::<BTreeSet<_>>().into_iter().collect();
    let profiles: HashMap<Uuid, Planned> =
        context::read(db, &ids).await?.into_iter().map(|p| (p.model.id, p)).collect();
    let mut found = HashMap::with_capacity(events.len());
    let mut settled = Vec::new();
    for event in events {
        match profiles.get(&event.profile_id) {
            Some(planned) if planned.model.version == event.version => {
                let context = context::of(planned, event.occurred_at.date_naive());
                found.insert(event.seq, Value::Object(context));
            }
            // Changed (or purged) since the event was read: the change wrote it.
            _ => settled.push(event.seq),
        }
    }
    if !settled.is_empty() {
        let rows: Vec<(i64, Value)> = profile_event::Entity::find()
            .select_only()
            .columns([profile_event::Column::Seq, profile_event::Column::Data])
            .filter(profile_event::Column::Seq.is_in(settled))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Gives `events` whose context is deferred their context ([`contexts`]).
pub async fn fill(db: &impl ConnectionTrait, events: &mut [Event]) -> Result<()> {
    let deferred: Vec<Deferred> = events.iter().filter_map(Deferred::of).collect();
    let mut found = contexts(db, &deferred).await?;
    for event in events.iter_mut().filter(|e| Value::is_null(&e.data)) {
        event.data = found.remove(&event.seq).unwrap_or(Value::Null);
    }
    Ok(())
}

/// Writes into the deferred events of the profiles `profiles` selects the context they
/// have now, before a change to them: how every change to an existing profile starts
/// (see the module's notes). On `db`, the change's transaction.
pub(crate) async fn settle(db: &impl ConnectionTrait, profiles: impl sea_orm::sea_query::IntoCondition) -> Result<()> {
    use profile_event::Column;
    let owners = Query::select()
        .column(entity::profile::Column::Id)
        .from(entity::profile::Entity)
        .cond_where(profiles)
        .to_owned();
    let waiting: Vec<(i64, Uuid, i32, DateTime<Utc>)> = profile_event::Entity::find()
        .select_only()
        .columns([Column::Seq, Column::ProfileId, Column::Version, Column::OccurredAt])
        .filter(deferred())
        .filter(Column::ProfileId.in_subquery(owners))
        // Locked in seq order, after their profiles (the one lock order: the caller
        // holds them).
        .order_by_asc(Column::Seq)
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    let backend = db.get_database_backend();
    for chunk in waiting.chunks(CHUNK) {
        let events: Vec<Deferred> = chunk
            .iter()
            .map(|&(seq, profile_id, version, occurred_at)| Deferred { seq, profile_id, version, occurred_at })
            .collect();
        let found = contexts(db, &events).await?;
        let mut data = sea_orm::sea_query::CaseStatement::new();
        for event in &events {
            let context = found.get(&event.seq).filter(|c| c.is_object()).ok_or_else(|| {
                Error::Invariant(format!("profile {} changed without settling its events", event.profile_id))
            })?;
            data = data.case(Expr::col(Column::Seq).eq(event.seq), bound_json(backend, json(context)));
        }
        let update = Query::update()
            .table(profile_event::Entity)
            .value(Column::Data, data)
            .and_where(Column::Seq.is_in(events.iter().map(|e| e.seq)))
            .to_owned();
        db.execute_raw(backend.build(&update)).await?;
    }
    Ok(())
}

/// `value` as JSON text.
#[allow(clippy::expect_used, reason = "a JSON map or a list of strings always serialises")]
pub(crate) fn json(value: &(impl serde::Serialize + ?Sized)) -> String {
    serde_json::to_string(value).expect("a JSON map or a list of strings serialises")
}

/// JSON text bound for the `json` columns: as `json` on PostgreSQL, where a bound
/// [`Value`] is sent as `jsonb`, parsed into it and printed back.
pub(crate) fn bound_json(backend: DatabaseBackend, text: String) -> Expr {
    match backend {
        DatabaseBackend::Postgres => Expr::val(text).cast_as(Alias::new("json")),
        _ => Expr::val(text),
    }
}
