//! Change events (SPEC §7): the outbox rows a write commits with its changes, and the
//! feed that reads them back in commit order.
//!
//! [`Write::commit`](super::write::Write::commit) is the only caller of [`write`].
//!
//! **Deferred contexts.** A `profile.created` event is written without its context
//! (`data` holds JSON `null`): until the profile changes again, the profile *is* that
//! context, so writing 5 KB of it per new profile (an import writes 100,000) would only
//! copy what the rows already hold. Reading such an event reads the profile instead
//! ([`contexts`]), as of the event's day. Every change to an existing profile first
//! [`settle`]s the profile's deferred events — [`Write::touch`](super::write::Write::touch)
//! and `touch_many` before they bump versions, purging, restoring, renaming what the
//! context shows of a tag, status, tier or location, and an import for all its updates
//! at once: they write the context the profile still has into them, in the same
//! transaction. So a deferred event's profile is always at the event's version; a
//! reader that finds it at another has raced with a change, and reads the context that
//! change settled. A context is computed by the code that reads it: were the derived
//! fields' rules (phone parts, completeness) to change in a later release, a deferred
//! event would show them as that release derives them.
//!
//! **Commit order.** A reader of the whole feed pages with `seq > cursor`, so it must
//! never see an event while one with a smaller `seq` is still uncommitted (it would
//! skip that one for good). On PostgreSQL a write takes a transaction-scoped advisory
//! lock in *shared* mode just before it draws its sequence numbers, and holds it to its
//! commit: writers do not wait for one another. The feed reads under the same lock in
//! *exclusive* mode, which it gets only once every writer holding it has committed, so
//! every number drawn before its read is committed when it reads. A profile's own
//! events need no lock: two writes to one profile are serialised by its row. On SQLite
//! writers are serialised anyway (`BEGIN IMMEDIATE`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::profile_event;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::actor::{self, Actor};
use super::context;
use super::read::Planned;
use super::write::{Change, ChangeKind};
use crate::error::{AppError, AppResult};

/// The event types, as `type` holds them.
pub const TYPES: [&str; 5] = {
    let mut types = [""; 5];
    let mut i = 0;
    while i < types.len() {
        types[i] = ChangeKind::ALL[i].event_type();
        i += 1;
    }
    types
};

/// The PostgreSQL channel a write that wrote events notifies at its commit.
pub const CHANNEL: &str = "profile_events";

/// The key of the advisory lock that keeps the feed in commit order (PostgreSQL).
const COMMIT_ORDER_LOCK: i64 = 0x7072_6f66_696c_6573; // "profiles"

/// Changes handled per round of [`write`]: bounds the contexts held in memory, and the
/// parameters of one statement, when a write changes many profiles (deleting a tag).
const CHUNK: usize = 500;

/// Writes the events of `changes` in transaction `txn`, just before it commits.
/// `purged` holds the last context of each purged profile. An update that changed no
/// key of the context writes none. Returns how many it wrote.
pub(crate) async fn write(
    txn: &impl ConnectionTrait,
    changes: &[Change],
    mut purged: BTreeMap<Uuid, Map<String, Value>>,
) -> Result<usize, DbErr> {
    if changes.is_empty() {
        return Ok(0);
    }
    let now = crate::db::now();
    let today = now.date_naive();
    let actor = actor::current();
    // Taken with the first events there are to insert (a write that changed nothing the
    // context shows needs neither): the commit-order lock, then the active webhooks.
    let mut webhooks = None;
    let mut written = 0;
    for chunk in changes.chunks(CHUNK) {
        // A created profile's context is deferred and a purged one's kept: only the
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
                ChangeKind::Purged => {
                    let data = purged.remove(&change.profile_id).ok_or_else(|| {
                        DbErr::Custom(format!("profile {} was purged without its context", change.profile_id))
                    })?;
                    (json(&data)?, "[]".to_owned())
                }
                // The context is deferred (see the module's notes); `changed` is every
                // key, the same list for every created event, and not stored either.
                ChangeKind::Created => (DEFERRED.to_owned(), DEFERRED.to_owned()),
                kind => {
                    let planned = after.remove(&change.profile_id).ok_or_else(|| {
                        DbErr::Custom(format!("profile {} changed but cannot be read back", change.profile_id))
                    })?;
                    match before.get(&change.profile_id) {
                        // Every key: the context goes straight to text.
                        None => (context::text(&planned, today), json(&context::keys())?),
                        Some(before) => {
                            let data = context::of(&planned, today);
                            let changed = context::changed(before, &data);
                            if kind == ChangeKind::Updated && changed.is_empty() {
                                continue;
                            }
                            (json(&data)?, json(&changed)?)
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
                webhooks = Some(super::webhook::active(txn).await?);
            }
            let events = rows.iter().map(|row| (row.id.as_str(), row.kind, row.profile_id));
            let deliveries = super::webhook::deliveries_of(webhooks.as_deref().unwrap_or_default(), events, now);
            insert(txn, rows, actor.as_ref(), now).await?;
            super::webhook::queue(txn, deliveries).await?;
        }
    }
    metrics::counter!("events_written_total").increment(written as u64);
    Ok(written)
}

/// What `data` holds while an event's context is deferred (see the module's notes).
const DEFERRED: &str = "null";

/// The condition that an event's context is deferred; word for word the predicate of
/// the partial index `ix_profile_event_deferred`, so that it is used.
fn deferred() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust("CAST(\"data\" AS TEXT) = 'null'")
}

/// An event whose context is deferred: enough to find that context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Deferred {
    pub seq: i64,
    pub profile_id: Uuid,
    pub version: i32,
    pub occurred_at: DateTime<Utc>,
}

impl Deferred {
    /// The event's, when its context is deferred.
    pub fn of(event: &Event) -> Option<Deferred> {
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
pub async fn contexts(db: &impl ConnectionTrait, events: &[Deferred]) -> Result<HashMap<i64, Value>, DbErr> {
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
pub async fn fill(db: &impl ConnectionTrait, events: &mut [Event]) -> Result<(), DbErr> {
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
pub(crate) async fn settle(
    db: &impl ConnectionTrait,
    profiles: impl sea_orm::sea_query::IntoCondition,
) -> Result<(), DbErr> {
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
                DbErr::Custom(format!("profile {} changed without settling its events", event.profile_id))
            })?;
            data = data.case(Expr::col(Column::Seq).eq(event.seq), bound_json(backend, json(context)?));
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
fn json(value: &impl serde::Serialize) -> Result<String, DbErr> {
    serde_json::to_string(value).map_err(|e| DbErr::Json(e.to_string()))
}

/// JSON text bound for the `json` columns: as `json` on PostgreSQL, where a bound
/// [`Value`] is sent as `jsonb`, parsed into it and printed back.
fn bound_json(backend: DatabaseBackend, text: String) -> Expr {
    match backend {
        DatabaseBackend::Postgres => Expr::val(text).cast_as(Alias::new("json")),
        _ => Expr::val(text),
    }
}

/// An event about to be written, its context and changed keys as JSON text.
struct Row {
    id: String,
    kind: &'static str,
    profile_id: Uuid,
    version: i32,
    changed: String,
    data: String,
}

/// Inserts `rows` in one statement. The contexts go in as the text they were written
/// to: no tree is copied into the statement, and PostgreSQL takes them as `json` (the
/// columns' type) where a bound [`Value`] is sent as `jsonb`, parsed into it and
/// printed back (90 ms per 500 contexts, `log_min_duration_statement`).
async fn insert(
    txn: &impl ConnectionTrait,
    rows: Vec<Row>,
    actor: Option<&Actor>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
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
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    txn.execute_raw(backend.build(&insert)).await?;
    Ok(())
}

/// How [`commit_order`] takes the lock: writers share it, the feed excludes them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Shared,
    Exclusive,
}

/// Takes the commit-order lock until the end of the transaction (PostgreSQL only).
async fn commit_order(txn: &impl ConnectionTrait, mode: Mode) -> Result<(), DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let function = match mode {
        Mode::Shared => "pg_advisory_xact_lock_shared",
        Mode::Exclusive => "pg_advisory_xact_lock",
    };
    let lock = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        format!("SELECT {function}($1)"),
        [COMMIT_ORDER_LOCK.into()],
    );
    txn.execute_raw(lock).await?;
    Ok(())
}

/// The context of the latest event of each of `profiles` that has one.
async fn latest(db: &impl ConnectionTrait, profiles: &[Uuid]) -> Result<HashMap<Uuid, Map<String, Value>>, DbErr> {
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

/// One event as the feed and the webhooks give it.
#[derive(Clone, Debug)]
pub struct Event {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub profile_id: Uuid,
    pub version: i32,
    pub changed: Vec<String>,
    pub actor: Option<Actor>,
    pub data: Value,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
}

impl Event {
    /// The envelope webhooks deliver (SPEC §7): the same fields as GraphQL's `Event`.
    pub fn envelope(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "type": self.kind,
            "occurredAt": self.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            "profileId": self.profile_id,
            "version": self.version,
            "changed": self.changed,
            "actor": self.actor.as_ref().map(|a| serde_json::json!({
                "tokenId": a.token_id.to_string(),
                "tokenName": a.token_name,
            })),
            "data": self.data,
        })
    }
}

impl From<profile_event::Model> for Event {
    fn from(row: profile_event::Model) -> Self {
        let changed = match row.changed {
            Value::Array(keys) => keys.into_iter().filter_map(|k| k.as_str().map(str::to_owned)).collect(),
            // A created event's: every key.
            Value::Null => context::keys().to_vec(),
            _ => Vec::new(),
        };
        let actor = match (row.actor_token_id, row.actor_token_name) {
            (Some(token_id), Some(token_name)) => Some(Actor { token_id, token_name }),
            _ => None,
        };
        Event {
            seq: row.seq,
            id: row.id,
            kind: row.kind,
            profile_id: row.profile_id,
            version: row.version,
            changed,
            actor,
            data: row.data,
            occurred_at: row.occurred_at,
        }
    }
}

/// The position of an event in the feed, as an opaque cursor.
pub fn cursor(seq: i64) -> String {
    super::page::numbered_cursor("event", seq)
}

fn decode_cursor(text: &str) -> AppResult<i64> {
    super::page::decode_numbered_cursor("event", text)
}

/// What to list of the feed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Feed {
    /// A cursor: only events committed after it.
    pub after: Option<String>,
    /// How many (default 20, at most 250).
    pub first: Option<i32>,
    /// Only these types.
    pub types: Option<Vec<String>>,
    /// Only this profile's.
    pub profile_id: Option<Uuid>,
}

/// A page of the feed: its events and whether more follow.
#[derive(Clone, Debug, Default)]
pub struct FeedPage {
    pub events: Vec<Event>,
    pub has_next_page: bool,
}

/// The checked arguments of a feed page: after which `seq`, and how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    pub after: i64,
    pub size: u64,
}

impl Feed {
    /// Checks the page size, the types and the cursor.
    pub fn window(&self) -> AppResult<Window> {
        let size = self.first.map_or(Ok(super::page::DEFAULT_PAGE_SIZE), |first| super::page::size("first", first))?;
        if let Some(unknown) = self.types.iter().flatten().find(|t| !TYPES.contains(&t.as_str())) {
            return Err(AppError::BadUserInput(format!(
                "unknown event type `{unknown}`: use one of {}",
                TYPES.join(", ")
            )));
        }
        Ok(Window { after: self.after.as_deref().map(decode_cursor).transpose()?.unwrap_or(0), size })
    }
}

/// The `seq` of the latest event (0 when there is none): where a subscription starts.
pub async fn last_seq(db: &DatabaseConnection) -> AppResult<i64> {
    let latest: Option<Option<i64>> = profile_event::Entity::find()
        .select_only()
        .expr(Func::max(Expr::col(profile_event::Column::Seq)))
        .into_tuple()
        .one(db)
        .await?;
    Ok(latest.flatten().unwrap_or(0))
}

/// One page of the feed, in commit order.
pub async fn page(db: &DatabaseConnection, feed: &Feed) -> AppResult<FeedPage> {
    let window = feed.window()?;
    let mut query = profile_event::Entity::find().filter(profile_event::Column::Seq.gt(window.after));
    if let Some(types) = &feed.types {
        query = query.filter(profile_event::Column::Kind.is_in(types.iter().cloned()));
    }
    if let Some(profile_id) = feed.profile_id {
        query = query.filter(profile_event::Column::ProfileId.eq(profile_id));
    }
    let query = query.order_by_asc(profile_event::Column::Seq).limit(window.size + 1);
    // One profile's events are in commit order anyway; the whole feed waits for the
    // writers that drew numbers before it (see the module's notes).
    let mut rows = if feed.profile_id.is_some() {
        query.all(db).await?
    } else {
        let txn = db.begin().await?;
        commit_order(&txn, Mode::Exclusive).await?;
        let rows = query.all(&txn).await?;
        txn.commit().await?;
        rows
    };
    let has_next_page = rows.len() as u64 > window.size;
    rows.truncate(usize::try_from(window.size).unwrap_or(usize::MAX));
    Ok(FeedPage { events: rows.into_iter().map(Event::from).collect(), has_next_page })
}

/// The histories of several profiles, one page each (the same window), in one
/// statement: the events of each numbered within its profile.
pub async fn histories(
    db: &DatabaseConnection,
    profiles: &[Uuid],
    window: Window,
) -> Result<HashMap<Uuid, FeedPage>, DbErr> {
    let numbered = Query::select()
        .column(profile_event::Column::Seq)
        .expr_as(Expr::cust("ROW_NUMBER() OVER (PARTITION BY \"profile_id\" ORDER BY \"seq\")"), Alias::new("position"))
        .from(profile_event::Entity)
        .and_where(profile_event::Column::ProfileId.is_in(profiles.iter().copied()))
        .and_where(profile_event::Column::Seq.gt(window.after))
        .to_owned();
    let wanted = Query::select()
        .column(Alias::new("seq"))
        .from_subquery(numbered, Alias::new("numbered"))
        .and_where(Expr::col(Alias::new("position")).lte(window.size + 1))
        .to_owned();
    let rows = profile_event::Entity::find()
        .filter(profile_event::Column::Seq.in_subquery(wanted))
        .order_by_asc(profile_event::Column::Seq)
        .all(db)
        .await?;
    let mut pages: HashMap<Uuid, FeedPage> = profiles.iter().map(|id| (*id, FeedPage::default())).collect();
    for row in rows {
        let page = pages.entry(row.profile_id).or_default();
        if page.events.len() as u64 == window.size {
            page.has_next_page = true;
        } else {
            page.events.push(row.into());
        }
    }
    Ok(pages)
}
