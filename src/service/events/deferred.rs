//! Deferred contexts (see `events`): reading a waiting event's context from its
//! profile, and settling waiting events before their profile's relations change.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::{profile, profile_event};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::service::error::{Error, Result};
use crate::service::events::feed::Event;
use crate::service::events::{context, state};
use crate::service::profiles::read::{self, Planned, Selection};

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

/// [`deferred`] for the events table named `table` in a statement.
pub(crate) fn waiting(table: &str) -> String {
    format!("CAST(\"{table}\".\"data\" AS TEXT) = 'null'")
}

/// The events of the profile a planned read reads (`read::rows_with`) that wait for
/// their context, in the statement's snapshot: an expression the read selects besides,
/// named `waiting`, giving JSON text `[[seq, "YYYY-MM-DD", state], …]` (the event's day
/// in UTC; `state` null unless the event holds the profile's row), NULL or `[]` when
/// none waits ([`waiting_of`]). Its condition is the partial index's, so that the
/// index answers it.
pub(crate) fn waiting_sql(backend: DatabaseBackend) -> String {
    let condition = "FROM \"profile_event\" AS \"e\" \
        WHERE \"e\".\"profile_id\" = \"profile\".\"id\" AND CAST(\"e\".\"data\" AS TEXT) = 'null'";
    match backend {
        DatabaseBackend::Postgres => format!(
            "(SELECT json_agg(json_build_array(\"e\".\"seq\", \
             to_char(\"e\".\"occurred_at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD'), \"e\".\"state\"))::text {condition})"
        ),
        _ => format!(
            "(SELECT json_group_array(json_array(\"e\".\"seq\", date(\"e\".\"occurred_at\"), json(\"e\".\"state\"))) \
             {condition})"
        ),
    }
}

/// An event waiting for its context, as a planned read of its profile found it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Waiting {
    pub seq: i64,
    /// The day the event occurred (UTC): its context is as of that day.
    pub day: NaiveDate,
    /// The profile's state the event holds (`events::state`), when its row is not
    /// the profile's.
    pub state: Option<Value>,
}

/// The waiting events a planned read selected with [`waiting_sql`].
pub(crate) fn waiting_of(row: &sea_orm::QueryResult) -> Result<Vec<Waiting>> {
    let text: Option<String> = row.try_get("", "waiting")?;
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|error| Error::Invariant(format!("waiting events do not decode: {error}"))),
    }
}

/// The context of `event`, a waiting event of `profile` (read with everything its
/// context holds, in the snapshot that found the event waiting): the row the event
/// holds, else the profile's, with the profile's relations, as of the event's day.
/// While an event waits, its profile's relations have not changed since it.
pub(crate) fn context_of(profile: &Planned, event: &Waiting) -> Result<Map<String, Value>> {
    Ok(match &event.state {
        None => context::of(profile, event.day),
        Some(held) => context::of_parts(&state::row(held)?, &profile.relations, event.day),
    })
}

/// Writes the context of each of `waiting`, events of `profile` whose row the change
/// holds (read with them): before it changes the profile.
pub(crate) async fn settle_held(db: &impl ConnectionTrait, profile: &Planned, waiting: &[Waiting]) -> Result<()> {
    let contexts = waiting.iter().map(|event| Ok((event.seq, context_of(profile, event)?))).collect::<Result<_>>()?;
    write(db, contexts).await
}

/// Writes each context into its event (by `seq`), in one statement.
async fn write(db: &impl ConnectionTrait, contexts: Vec<(i64, Map<String, Value>)>) -> Result<()> {
    if contexts.is_empty() {
        return Ok(());
    }
    use profile_event::Column;
    let backend = db.get_database_backend();
    let mut data = sea_orm::sea_query::CaseStatement::new();
    for (seq, context) in &contexts {
        data = data.case(Expr::col(Column::Seq).eq(*seq), bound_json(backend, json(context)));
    }
    let update = Query::update()
        .table(profile_event::Entity)
        .value(Column::Data, data)
        .and_where(Column::Seq.is_in(contexts.iter().map(|(seq, _)| *seq)))
        .to_owned();
    db.execute_raw(backend.build(&update)).await?;
    Ok(())
}

/// An event whose context is deferred: enough to find that context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Deferred {
    pub seq: i64,
    pub profile_id: Uuid,
}

impl Deferred {
    /// The event's, when its context is deferred.
    pub(crate) fn of(event: &Event) -> Option<Deferred> {
        Value::is_null(&event.data).then_some(Deferred { seq: event.seq, profile_id: event.profile_id })
    }
}

/// The profiles `ids` (deleted ones too) with everything their contexts hold, each with
/// its waiting events, in one statement (one snapshot).
async fn with_waiting(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, (Planned, Vec<Waiting>)>> {
    let query = profile::Entity::find().filter(profile::Column::Id.is_in(ids.iter().copied()));
    let waiting = waiting_sql(db.get_database_backend());
    let rows = read::rows_with(db, query, &Selection::everything(), &[("waiting", &waiting)]).await?;
    rows.into_iter().map(|(planned, row)| Ok((planned.model.id, (planned, waiting_of(&row)?)))).collect()
}

/// The contexts of deferred events, by `seq`, in one statement (two when a change
/// settled one since it was read): each from its profile as it is while the event
/// still waits ([`context_of`]).
pub(crate) async fn contexts(db: &impl ConnectionTrait, events: &[Deferred]) -> Result<HashMap<i64, Value>> {
    if events.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Uuid> = events.iter().map(|e| e.profile_id).collect::<BTreeSet<_>>().into_iter().collect();
    let profiles = with_waiting(db, &ids).await?;
    let mut found = HashMap::with_capacity(events.len());
    let mut settled = Vec::new();
    for event in events {
        let waiting = profiles.get(&event.profile_id).and_then(|(planned, waiting)| {
            waiting.iter().find(|w| w.seq == event.seq).map(|waiting| (planned, waiting))
        });
        match waiting {
            Some((planned, waiting)) => {
                found.insert(event.seq, Value::Object(context_of(planned, waiting)?));
            }
            // Settled (or purged) since the event was read: the change wrote it.
            None => settled.push(event.seq),
        }
    }
    if !settled.is_empty() {
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
    let waiting: Vec<(i64, Uuid)> = profile_event::Entity::find()
        .select_only()
        .columns([Column::Seq, Column::ProfileId])
        .filter(deferred())
        .filter(Column::ProfileId.in_subquery(owners))
        // Locked in seq order, after their profiles (the one lock order: the caller
        // holds them).
        .order_by_asc(Column::Seq)
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    for chunk in waiting.chunks(CHUNK) {
        let events: Vec<Deferred> = chunk.iter().map(|&(seq, profile_id)| Deferred { seq, profile_id }).collect();
        let mut found = contexts(db, &events).await?;
        let contexts = events
            .iter()
            .map(|event| match found.remove(&event.seq) {
                Some(Value::Object(context)) => Ok((event.seq, context)),
                _ => Err(Error::Invariant(format!("profile {} changed without settling its events", event.profile_id))),
            })
            .collect::<Result<_>>()?;
        write(db, contexts).await?;
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
