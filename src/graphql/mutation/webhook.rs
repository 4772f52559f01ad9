//! Webhooks: create, change, rotate the secret of and delete them, and
//! queue a delivery again. Scope `admin`.

use crate::graphql::errors::Result;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use uuid::Uuid;

use super::input::{int_id, plain, required};
use super::{db, payload, respond};
use crate::domain::validate::{Path, Problems};
use crate::graphql::guard::Scoped;
use crate::graphql::types::event::Event;
use crate::graphql::types::webhook::{Webhook, WebhookDelivery};
use crate::service::events::webhooks as service;
use crate::service::events::webhooks::{WebhookInput as Changes, WebhookSettings};

/// A new webhook.
#[derive(InputObject)]
pub(crate) struct WebhookInput {
    /// Where deliveries are POSTed: https (http only to a loopback host, unless the
    /// service allows it), at most 2,048 characters, without a user name or password,
    /// and not inside the network (private, link-local, loopback and other reserved
    /// addresses and names are refused unless the service names them as exceptions).
    pub url: String,
    /// The event types to receive, e.g. `["profile.created", "profile.updated"]`, or
    /// `["*"]` for all.
    pub events: Vec<String>,
    /// What it is for (at most 500 characters).
    pub description: Option<String>,
    /// Whether deliveries are sent; true by default.
    pub is_active: Option<bool>,
}

/// Changes to a webhook: an omitted field is left as it is; only `description` may be
/// null.
#[derive(InputObject, Default)]
pub(crate) struct WebhookUpdateInput {
    /// Where deliveries are POSTed (the rules of `WebhookInput.url`).
    pub url: MaybeUndefined<String>,
    /// The event types to receive, or `["*"]` for all.
    pub events: MaybeUndefined<Vec<String>>,
    /// What it is for (at most 500 characters); null clears it.
    pub description: MaybeUndefined<String>,
    /// Switching it on again clears `disabledReason` and sends what waited.
    pub is_active: MaybeUndefined<bool>,
}

impl WebhookUpdateInput {
    fn changes(self, problems: &mut Problems) -> Changes {
        let path = Path::root("input");
        Changes {
            url: required(problems, &path.key("url"), &self.url),
            events: required(problems, &path.key("events"), &self.events),
            description: plain(&self.description),
            is_active: required(problems, &path.key("isActive"), &self.is_active),
        }
    }
}

impl From<WebhookInput> for WebhookUpdateInput {
    fn from(input: WebhookInput) -> Self {
        WebhookUpdateInput {
            url: MaybeUndefined::Value(input.url),
            events: MaybeUndefined::Value(input.events),
            description: input.description.map_or(MaybeUndefined::Undefined, MaybeUndefined::Value),
            is_active: input.is_active.map_or(MaybeUndefined::Undefined, MaybeUndefined::Value),
        }
    }
}

payload!(WebhookSecretPayload, "A webhook and its signing secret, shown this once.",
    webhook: Webhook => "The webhook.",
    secret: String => "`whsec_` and the base64 of the signing key: give it to the receiver's Standard Webhooks library.");
payload!(WebhookPayload, "The result of `updateWebhook`.", webhook: Webhook => "The webhook after the change.");
payload!(DeleteWebhookPayload, "The result of `deleteWebhook`.", deleted_id: Uuid => "Id of the webhook deleted, with its deliveries.");
payload!(RedeliverWebhookDeliveryPayload, "The result of `redeliverWebhookDelivery`.",
    delivery: WebhookDelivery => "The new delivery, PENDING.");

fn settings<'a>(ctx: &Context<'a>) -> Result<&'a WebhookSettings> {
    Ok(ctx.data::<WebhookSettings>()?)
}

#[derive(Default)]
pub(crate) struct WebhookMutation;

/// Webhooks.
#[Object(guard = "Scoped::MUTATION")]
impl WebhookMutation {
    /// Creates a webhook: every later event of the types it names is delivered to it.
    /// The payload holds its signing secret, shown this once.
    #[graphql(requires_scopes = "admin")]
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new webhook.")] input: WebhookInput,
    ) -> Result<WebhookSecretPayload> {
        let mut problems = Problems::default();
        let changes = WebhookUpdateInput::from(input).changes(&mut problems);
        let result = match problems.finish(changes) {
            Ok(changes) => service::create(db(ctx)?, changes, settings(ctx)?).await,
            Err(errors) => Err(errors.into()),
        };
        respond(result, |(webhook, secret)| WebhookSecretPayload {
            webhook: Some(Webhook(webhook)),
            secret: Some(secret),
            user_errors: Vec::new(),
        })
    }

    /// Changes a webhook.
    #[graphql(requires_scopes = "admin")]
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's id.")] id: Uuid,
        #[graphql(desc = "The changes.")] input: WebhookUpdateInput,
    ) -> Result<WebhookPayload> {
        let mut problems = Problems::default();
        let changes = input.changes(&mut problems);
        let result = match problems.finish(changes) {
            Ok(changes) => service::update(db(ctx)?, id, changes, settings(ctx)?).await,
            Err(errors) => Err(errors.into()),
        };
        respond(result, |webhook| WebhookPayload { webhook: Some(Webhook(webhook)), user_errors: Vec::new() })
    }

    /// Gives a webhook a new signing secret, shown this once; the old one stops
    /// signing at once.
    #[graphql(requires_scopes = "admin")]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's id.")] id: Uuid,
    ) -> Result<WebhookSecretPayload> {
        respond(service::rotate_secret(db(ctx)?, id).await, |(webhook, secret)| WebhookSecretPayload {
            webhook: Some(Webhook(webhook)),
            secret: Some(secret),
            user_errors: Vec::new(),
        })
    }

    /// Deletes a webhook and its delivery log; what was pending is not sent.
    #[graphql(requires_scopes = "admin")]
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's id.")] id: Uuid,
    ) -> Result<DeleteWebhookPayload> {
        respond(service::delete(db(ctx)?, id).await, |id| DeleteWebhookPayload {
            deleted_id: Some(id),
            user_errors: Vec::new(),
        })
    }

    /// Queues a delivery's event to its webhook again, as a new delivery (sent after
    /// the profile's deliveries pending before it).
    #[graphql(requires_scopes = "admin")]
    async fn redeliver_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery's id.")] id: ID,
    ) -> Result<RedeliverWebhookDeliveryPayload> {
        respond(service::redeliver(db(ctx)?, int_id(&id, "id")?).await, |(delivery, event)| {
            RedeliverWebhookDeliveryPayload {
                delivery: Some(WebhookDelivery { delivery, event: event.map(Event) }),
                user_errors: Vec::new(),
            }
        })
    }
}
