//! Webhooks (the endpoints change events are pushed to) as GraphQL types: `Webhook`,
//! its delivery log (`WebhookDelivery` in a connection), and the delivery status.

use crate::graphql::errors::Result;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::enums::DeliveryStatus;
use entity::{webhook, webhook_delivery};
use sea_orm::DatabaseConnection;

use super::event::Event;
use super::page_info::PageInfo;
use crate::service::events::webhooks::{DeliveryPage, DeliveryQuery};
use crate::service::events::{subscribers, webhooks as service};

/// An endpoint that change events are delivered to.
#[derive(Clone)]
pub(crate) struct Webhook(pub webhook::Model);

/// An endpoint that change events are delivered to, signed per Standard Webhooks. Its
/// secret is shown only by `createWebhook` and `rotateWebhookSecret`.
#[Object]
impl Webhook {
    /// The webhook's id.
    async fn id(&self) -> uuid::Uuid {
        self.0.id
    }

    /// The webhook's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        entity::node::id("Webhook", self.0.id)
    }

    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The event types it receives, or `["*"]` for all.
    async fn events(&self) -> Vec<String> {
        subscribers::types_of(&self.0.events)
    }

    /// What it is for.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Whether deliveries are sent. False when switched off, or disabled by the service
    /// after failing (see `disabledReason`); switching it on again sends what waited.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }

    /// Why the service disabled it, when it did.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }

    /// Since when every delivery attempt has failed; null while it succeeds.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Its delivery log, newest first.
    #[graphql(complexity = "crate::graphql::limits::page_size(first, None) * child_complexity + 1")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return (0–250, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return deliveries after (older than) this cursor.")] after: Option<String>,
        #[graphql(desc = "Only deliveries in this state.")] status: Option<DeliveryStatus>,
    ) -> Result<WebhookDeliveryConnection> {
        let db = ctx.data::<DatabaseConnection>()?;
        let after_given = after.is_some();
        let query = DeliveryQuery { first, after, status };
        Ok(WebhookDeliveryConnection { page: service::deliveries(db, self.0.id, &query).await?, after_given })
    }
}

/// One event sent to one webhook, and how its attempts went.
#[derive(Clone)]
pub(crate) struct WebhookDelivery {
    pub delivery: webhook_delivery::Model,
    pub event: Option<Event>,
}

/// One event sent to one webhook, and how its attempts went.
#[Object]
impl WebhookDelivery {
    /// The delivery's id (for `redeliverWebhookDelivery`).
    async fn id(&self) -> ID {
        ID(self.delivery.id.to_string())
    }

    /// The delivery's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        entity::node::id("WebhookDelivery", self.delivery.id)
    }

    /// The event delivered (its id is the `webhook-id` header).
    async fn event(&self) -> Option<&Event> {
        self.event.as_ref()
    }

    /// Where it stands.
    async fn status(&self) -> DeliveryStatus {
        self.delivery.status
    }

    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.delivery.attempts
    }

    /// The HTTP status of the last attempt, when the endpoint answered.
    async fn last_status_code(&self) -> Option<i32> {
        self.delivery.last_status_code
    }

    /// What went wrong with the last attempt, when it failed.
    async fn last_error(&self) -> Option<&str> {
        self.delivery.last_error.as_deref()
    }

    /// When it is sent (again), while PENDING.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.delivery.status == DeliveryStatus::Pending).then_some(self.delivery.next_attempt_at)
    }

    /// When the endpoint answered 2xx.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.delivery.delivered_at
    }

    /// When it was queued.
    async fn created_at(&self) -> DateTime<Utc> {
        self.delivery.created_at
    }
}

/// A delivery and its position in the log.
#[derive(SimpleObject)]
pub(crate) struct WebhookDeliveryEdge {
    /// Opaque position of this delivery; pass it as `after`.
    cursor: String,
    /// The delivery.
    node: WebhookDelivery,
}

/// A page of a webhook's deliveries, newest first (a Relay connection).
pub(crate) struct WebhookDeliveryConnection {
    page: DeliveryPage,
    after_given: bool,
}

impl WebhookDeliveryConnection {
    fn deliveries(&self) -> impl Iterator<Item = WebhookDelivery> + '_ {
        self.page
            .deliveries
            .iter()
            .map(|(delivery, event)| WebhookDelivery { delivery: delivery.clone(), event: event.clone().map(Event) })
    }
}

/// A page of a webhook's deliveries, newest first (a Relay connection).
#[Object]
impl WebhookDeliveryConnection {
    /// The deliveries of this page with their cursors.
    async fn edges(&self) -> Vec<WebhookDeliveryEdge> {
        self.deliveries()
            .map(|node| WebhookDeliveryEdge { cursor: service::delivery_cursor(node.delivery.id), node })
            .collect()
    }

    /// The deliveries of this page.
    async fn nodes(&self) -> Vec<WebhookDelivery> {
        self.deliveries().collect()
    }

    /// Where this page sits in the log.
    async fn page_info(&self) -> PageInfo {
        let deliveries = &self.page.deliveries;
        PageInfo {
            has_next_page: self.page.has_next_page,
            has_previous_page: self.after_given,
            start_cursor: deliveries.first().map(|(d, _)| service::delivery_cursor(d.id)),
            end_cursor: deliveries.last().map(|(d, _)| service::delivery_cursor(d.id)),
        }
    }
}
