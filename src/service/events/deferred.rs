//! Deferred contexts (see `events`): reading a created event's context from its profile,
//! and settling waiting events before their profile changes.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::profile_event;
use sea_orm::sea_query::CaseStatement;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use crate::service::error::{Error, Result};
use crate::service::events::feed::Event;
use crate::service::events::{context, state};
use crate::service::profiles::read::{self, Planned, Selection};

/// Events settled per round of [`settle`]: bounds the contexts held in memory, and the
/// parameters of one statement, when a write changes many profiles (deleting a tag).
const CHUNK: usize = 500;

/// What `data` holds while an event's context is deferred (see the module's notes).
pub(crate) const DEFERRED: &str = "null";

/// The condition that an event's context is deferred; word for word the predicate of
/// the partial index `ix_profile_event_deferred`, so that it is used.
fn deferred() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(format!("CAST(\"data\" AS TEXT) = '{DEFERRED}'"))
}

/// [`deferred`] for the events table named `table` in a statement.
pub(crate) fn waiting(table: &str) -> String {
    format!("CAST(\"{table}\".\"data\" AS TEXT) = '{DEFERRED}'")
}

/// When the deferred event of the profile a planned read of profiles reads occurred, if
/// one waits: an expression that read selects besides (`read::rows_with`). Its
/// condition is the partial index's ([`waiting`]), so that the index answers it.
pub(crate) fn waiting_since() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "(SELECT MIN(\"e\".\"occurred_at\") FROM \"profile_event\" AS \"e\" \
             WHERE \"e\".\"profile_id\" = \"profile\".\"id\" AND {})",
            waiting("e")
        )
    });
    &SQL
}

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
/// settled one since it was read): each is its profile's, as of the event's day. The
/// same read says whether the profile's events still wait: a change that settles them
/// without changing the profile (renaming a tag it has) leaves its version as it was.
pub(crate) async fn contexts(db: &impl ConnectionTrait, events: &[Deferred]) -> Result<HashMap<i64, Value>> {
    if events.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Uuid> = events.iter().map(|e| e.profile_id).collect::<BTreeSet<_>>().into_iter().collect();
    let query = entity::profile::Entity::find().filter(entity::profile::Column::Id.is_in(ids));
    let mut profiles: HashMap<Uuid, Planned> = HashMap::new();
    for (planned, row) in
        read::rows_with(db, query, &Selection::everything(), &[("waiting_since", waiting_since())]).await?
    {
        let waiting: Option<DateTime<Utc>> = row.try_get("", "waiting_since")?;
        if waiting.is_some() {
            profiles.insert(planned.model.id, planned);
        }
    }
    let mut found = HashMap::with_capacity(events.len());
    let mut settled = Vec::new();
    for event in events {
        match profiles.get(&event.profile_id) {
            Some(planned) if planned.model.version == event.version => {
                let context = context::of(planned, event.occurred_at.date_naive());
                found.insert(event.seq, Value::Object(context));
            }
            // Settled, changed or purged since the event was read: the change wrote it.
            _ => settled.push(event.seq),
        }
    }
    if !settled.is_empty() {
        // Settled with its context, or with the profile's state (`state`).
        let rows = profile_event::Entity::find().filter(profile_event::Column::Seq.is_in(settled)).all(db).await?;
        for row in rows {
            let event = Event::try_from(row)?;
            found.insert(event.seq, event.data);
        }
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
        let data = events
            .iter()
            .map(|event| {
                let context = found.get(&event.seq).filter(|c| c.is_object()).ok_or_else(|| {
                    Error::Invariant(format!("profile {} changed without settling its events", event.profile_id))
                })?;
                Ok((event.seq, json(context)))
            })
            .collect::<Result<Vec<_>>>()?;
        let update = Query::update()
            .table(profile_event::Entity)
            .value(Column::Data, by_seq(backend, data))
            .and_where(Column::Seq.is_in(events.iter().map(|e| e.seq)))
            .to_owned();
        db.execute_raw(backend.build(&update)).await?;
    }
    Ok(())
}

/// Events written out per statement by [`write_out`].
const WRITTEN_OUT: u64 = 500;

/// Writes the context and `changed` of every event that holds its profile's state into
/// its `data` and `changed`, and drops the state: the event is then as one written
/// through the write seam, which a release that knows no states (0.1.0) reads. A state
/// is complete when it commits and never changes, so nothing is locked; a reader of
/// this release takes either form. Pages by `seq`: each event is read once. Returns how
/// many it wrote out.
pub async fn write_out(db: &DatabaseConnection) -> Result<u64> {
    use profile_event::Column;
    let backend = db.get_database_backend();
    let (mut written, mut after) = (0, 0);
    loop {
        let rows: Vec<(i64, Value, DateTime<Utc>)> = profile_event::Entity::find()
            .select_only()
            .columns([Column::Seq, Column::State, Column::OccurredAt])
            .filter(Column::Seq.gt(after))
            .filter(Column::State.is_not_null())
            .order_by_asc(Column::Seq)
            .limit(WRITTEN_OUT)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&(last, _, _)) = rows.last() else { return Ok(written) };
        after = last;
        let (mut data, mut changed) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
        for (seq, held, occurred_at) in rows {
            let (context, keys) = state::derive(held, occurred_at.date_naive())?;
            data.push((seq, json(&context)));
            changed.push((seq, json(&keys)));
        }
        let seqs: Vec<i64> = data.iter().map(|(seq, _)| *seq).collect();
        written += seqs.len() as u64;
        let update = Query::update()
            .table(profile_event::Entity)
            .value(Column::Data, by_seq(backend, data))
            .value(Column::Changed, by_seq(backend, changed))
            .value(Column::State, Expr::cust("NULL"))
            .and_where(Column::Seq.is_in(seqs))
            .to_owned();
        db.execute_raw(backend.build(&update)).await?;
    }
}

/// A `json` column's value per event: `CASE` of `seq`, each JSON text bound as JSON.
fn by_seq(backend: DatabaseBackend, values: Vec<(i64, String)>) -> CaseStatement {
    values.into_iter().fold(CaseStatement::new(), |case, (seq, text)| {
        case.case(Expr::col(profile_event::Column::Seq).eq(seq), bound_json(backend, text))
    })
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
