//! The feed: events read back in commit order, a page at a time, and the histories of
//! profiles.

use std::collections::HashMap;

use entity::enums::EventKind;
use entity::profile_event;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::service::actor::Actor;
use crate::service::error::{Error, Result};
use crate::service::events::commit_order;
use crate::service::events::{context, state};

/// One event as the feed and the webhooks give it.
#[derive(Clone, Debug)]
pub struct Event {
    pub seq: i64,
    pub id: String,
    pub kind: EventKind,
    pub profile_id: Uuid,
    pub version: i32,
    pub changed: Vec<String>,
    pub actor: Option<Actor>,
    pub data: Value,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
}

impl Event {
    /// The envelope webhooks deliver: the same fields as GraphQL's `Event`.
    pub(crate) fn envelope(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "type": self.kind.to_value(),
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

impl TryFrom<profile_event::Model> for Event {
    type Error = Error;

    /// The event a row holds; one that holds its profile's state has its `data` and
    /// `changed` derived from that ([`state`]).
    fn try_from(row: profile_event::Model) -> Result<Self> {
        let stored = |changed: Value| match changed {
            Value::Array(keys) => keys.into_iter().filter_map(|k| k.as_str().map(str::to_owned)).collect(),
            // A created event's: every key.
            Value::Null => context::keys().to_vec(),
            _ => Vec::new(),
        };
        let (data, changed) = match row.state {
            // `data` is `{}` while the state stands for it (never a context, which
            // always has keys).
            Some(held) if row.data.as_object().is_some_and(Map::is_empty) => {
                state::derive(held, row.occurred_at.date_naive())?
            }
            _ => (row.data, stored(row.changed)),
        };
        let actor = Actor::from_columns(row.actor_token_id, row.actor_token_name);
        Ok(Event {
            seq: row.seq,
            id: row.id,
            kind: row.kind,
            profile_id: row.profile_id,
            version: row.version,
            changed,
            actor,
            data,
            occurred_at: row.occurred_at,
        })
    }
}

/// The position of an event in the feed, as an opaque cursor.
pub(crate) fn cursor(seq: i64) -> String {
    crate::service::page::numbered_cursor("event", seq)
}

fn decode_cursor(text: &str) -> Result<i64> {
    crate::service::page::decode_numbered_cursor("event", text)
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
pub(crate) struct Window {
    pub after: i64,
    pub size: u64,
}

impl Feed {
    /// Checks the page size, the types and the cursor.
    pub(crate) fn window(&self) -> Result<Window> {
        let size = self
            .first
            .map_or(Ok(crate::service::page::DEFAULT_PAGE_SIZE), |first| crate::service::page::size("first", first))?;
        if let Some(unknown) = self.types.iter().flatten().find(|t| EventKind::parse(t).is_none()) {
            return Err(Error::BadInput(format!("unknown event type `{unknown}`: use one of {}", EventKind::listed())));
        }
        Ok(Window { after: self.after.as_deref().map(decode_cursor).transpose()?.unwrap_or(0), size })
    }
}

/// The `seq` of the latest event (0 when there is none): where a subscription starts.
pub(crate) async fn last_seq(db: &DatabaseConnection) -> Result<i64> {
    let latest: Option<Option<i64>> = profile_event::Entity::find()
        .select_only()
        .expr(Func::max(Expr::col(profile_event::Column::Seq)))
        .into_tuple()
        .one(db)
        .await?;
    Ok(latest.flatten().unwrap_or(0))
}

/// One page of the feed, in commit order.
pub async fn page(db: &DatabaseConnection, feed: &Feed) -> Result<FeedPage> {
    let window = feed.window()?;
    let mut query = profile_event::Entity::find().filter(profile_event::Column::Seq.gt(window.after));
    if let Some(types) = &feed.types {
        query = query.filter(profile_event::Column::Kind.is_in(types.iter().filter_map(|t| EventKind::parse(t))));
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
        commit_order::exclusive(&txn).await?;
        let rows = query.all(&txn).await?;
        txn.commit().await?;
        rows
    };
    let has_next_page = rows.len() as u64 > window.size;
    rows.truncate(usize::try_from(window.size).unwrap_or(usize::MAX));
    let events = rows.into_iter().map(Event::try_from).collect::<Result<_>>()?;
    Ok(FeedPage { events, has_next_page })
}

/// The histories of several profiles, one page each (the same window), in one
/// statement: the events of each numbered within its profile.
pub(crate) async fn histories(
    db: &DatabaseConnection,
    profiles: &[Uuid],
    window: Window,
) -> Result<HashMap<Uuid, FeedPage>> {
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
            page.events.push(row.try_into()?);
        }
    }
    Ok(pages)
}
