//! Change events (one per profile per committed write) as GraphQL types: `Event`, its
//! `actor`, and the connection of the feed (`Query.events`) and of `Profile.history`.

use std::borrow::Cow;

use crate::graphql::errors::Result;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::ActiveEnum;
use uuid::Uuid;

use super::page_info::PageInfo;
use crate::graphql::loaders::Loaders;
use crate::service::events::deferred::Deferred;
use crate::service::events::feed as events;
use crate::service::events::feed::FeedPage;

/// A change to a profile, as webhooks deliver it.
#[derive(Clone)]
pub(crate) struct Event(pub events::Event);

/// The API token a change was made with.
#[derive(SimpleObject)]
pub(crate) struct Actor {
    /// The token's id (`profiles-gateway token list`).
    pub(crate) token_id: ID,
    /// The token's name.
    pub(crate) token_name: String,
}

impl From<&crate::service::actor::Actor> for Actor {
    fn from(actor: &crate::service::actor::Actor) -> Self {
        Actor { token_id: ID::from(actor.token_id), token_name: actor.token_name.clone() }
    }
}

/// A change to a profile, as webhooks deliver it.
#[Object]
impl Event {
    /// `evt_` and 32 hex digits; the `webhook-id` of its deliveries.
    async fn id(&self) -> &str {
        &self.0.id
    }

    /// The event's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        entity::node::id("Event", &self.0.id)
    }

    /// `profile.created`, `profile.updated`, `profile.deleted`, `profile.restored`,
    /// `profile.purged` or `profile.merged`.
    #[graphql(name = "type")]
    async fn kind(&self) -> String {
        self.0.kind.to_value()
    }

    /// When the change committed (UTC).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// The profile changed.
    async fn profile_id(&self) -> Uuid {
        self.0.profile_id
    }

    /// The profile's version after the change (its last, for `profile.purged`).
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The top-level keys of `data` whose value changed, alphabetically (all of them
    /// for `profile.created`); `updated_at` and the day counts of the birthday are not
    /// compared.
    async fn changed(&self) -> &[String] {
        &self.0.changed
    }

    /// The token that made the change; null when authentication is off.
    async fn actor(&self) -> Option<Actor> {
        self.0.actor.as_ref().map(Actor::from)
    }

    /// The profile's event context (the reference platform's snake_case keys) after
    /// the change; for `profile.purged`, only `{"id": …}`: a purge erases the person's
    /// data, earlier events included.
    async fn data(&self, ctx: &Context<'_>) -> Result<Cow<'_, serde_json::Value>> {
        // A subscription (no loaders) has its page's contexts read already.
        let (Some(deferred), Some(loaders)) = (Deferred::of(&self.0), ctx.data_opt::<Loaders>()) else {
            return Ok(Cow::Borrowed(&self.0.data));
        };
        let context = loaders.contexts.load_one(deferred).await?;
        Ok(Cow::Owned(context.unwrap_or_default()))
    }
}

/// An event and its position in the feed.
#[derive(SimpleObject)]
pub(crate) struct EventEdge {
    /// Opaque position of this event; pass it as `after`.
    cursor: String,
    /// The event.
    node: Event,
}

/// A page of events in commit order (a Relay connection).
pub(crate) struct EventConnection {
    page: FeedPage,
    after_given: bool,
}

impl EventConnection {
    pub(crate) fn new(page: FeedPage, after_given: bool) -> Self {
        EventConnection { page, after_given }
    }
}

/// A page of events in commit order (a Relay connection).
#[Object]
impl EventConnection {
    /// The events of this page with their cursors.
    async fn edges(&self) -> Vec<EventEdge> {
        let events = self.page.events.iter();
        events.map(|e| EventEdge { cursor: events::cursor(e.seq), node: Event(e.clone()) }).collect()
    }

    /// The events of this page.
    async fn nodes(&self) -> Vec<Event> {
        self.page.events.iter().cloned().map(Event).collect()
    }

    /// Where this page sits in the feed. On an empty page `endCursor` is null: poll
    /// again with the same `after`.
    async fn page_info(&self) -> PageInfo {
        let events = &self.page.events;
        PageInfo {
            has_next_page: self.page.has_next_page,
            has_previous_page: self.after_given,
            start_cursor: events.first().map(|e| events::cursor(e.seq)),
            end_cursor: events.last().map(|e| events::cursor(e.seq)),
        }
    }
}
