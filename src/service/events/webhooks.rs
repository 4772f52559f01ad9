//! Webhooks: the endpoints change events are pushed to, their deliveries,
//! and the Standard Webhooks signature each delivery carries.
//!
//! A webhook's deliveries are queued by the write that commits the event
//! ([`deliveries_of`] and [`queue`], called by `events::write` in the write's
//! transaction), so an event is never committed without them; `service::delivery`
//! sends them.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use entity::enums::{DeliveryStatus, EventKind};
use entity::{profile_event, webhook, webhook_delivery};
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde_json::Value;
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::validate::{self, Path, Problems, UserErrorCode};
use crate::service::draft::Patch;
use crate::service::error::{Error, Result};
use crate::service::events::feed::Event;
use crate::service::events::subscribers::{ALL_TYPES, pending};
use crate::service::events::targets::{self, AllowList, Targets};
use crate::service::runtime::Services;

/// The prefix of a signing secret, as Standard Webhooks libraries expect it.
pub(crate) const SECRET_PREFIX: &str = "whsec_";

/// How webhooks are delivered (flags and environment, like every setting).
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    /// How long a delivery may take before it counts as failed.
    #[arg(long = "webhook-timeout", env = "PROFILES_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub timeout: Duration,

    /// Attempts per delivery before it is FAILED.
    #[arg(long = "webhook-max-attempts", env = "PROFILES_WEBHOOK_MAX_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=30), global = true)]
    pub max_attempts: u32,

    /// The delay before the first retry; each later one is four times the one before
    /// (at most 12 hours), give or take a fifth at random.
    #[arg(long = "webhook-retry-base", env = "PROFILES_WEBHOOK_RETRY_BASE", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub retry_base: Duration,

    /// Deliveries sent at once by each process.
    #[arg(long = "webhook-concurrency", env = "PROFILES_WEBHOOK_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub concurrency: u32,

    /// Allow http URLs for hosts other than loopback (https is required otherwise).
    #[arg(long = "webhook-allow-http", env = "PROFILES_WEBHOOK_ALLOW_HTTP", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub allow_http: bool,

    /// Targets allowed although inside the network, comma-separated: networks
    /// (`10.0.0.0/8`), addresses (`10.1.2.3`) and host names (`hooks.internal`, whatever
    /// it resolves to). Everything else private, link-local, loopback or reserved is refused.
    #[arg(long = "webhook-allow-private", env = "PROFILES_WEBHOOK_ALLOW_PRIVATE", default_value = "", global = true)]
    pub allow_private: AllowList,

    /// Whether loopback targets are allowed: only while the service itself listens on
    /// loopback (development and tests), which the composition root decides from the
    /// listen address, as `PROFILES_AUTH=auto` does. True for the default address.
    #[arg(skip = true)]
    pub loopback: bool,

    /// A webhook whose every delivery attempt has failed for this long is disabled.
    #[arg(long = "webhook-disable-after", env = "PROFILES_WEBHOOK_DISABLE_AFTER", default_value = "5days", value_parser = humantime::parse_duration, global = true)]
    pub disable_after: Duration,

    /// How often the worker looks for due deliveries without being woken.
    #[arg(long = "webhook-poll", env = "PROFILES_WEBHOOK_POLL", default_value = "5s", value_parser = humantime::parse_duration, global = true)]
    pub poll: Duration,

    /// How long events are kept once every webhook has them (the latest of each
    /// profile is always kept: the next event's `changed` compares with it).
    #[arg(long = "event-retention", env = "PROFILES_EVENT_RETENTION", default_value = "30days", value_parser = humantime::parse_duration, global = true)]
    pub retention: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        crate::settings::defaults()
    }
}

impl WebhookSettings {
    /// The rules webhook targets follow under these settings.
    pub(crate) fn targets(&self) -> Targets {
        Targets::new(self.loopback, &self.allow_private)
    }
}

/// A webhook as given to `createWebhook` or `updateWebhook`: `Keep` leaves a column as
/// it is (and is REQUIRED on create for `url` and `events`).
#[derive(Clone, Debug, Default)]
pub(crate) struct WebhookInput {
    pub url: Patch<String>,
    pub events: Patch<Vec<String>>,
    pub description: Patch<Option<String>>,
    pub is_active: Patch<bool>,
}

/// The checked columns of `input`, with each problem at its path under `input`.
fn columns(
    input: WebhookInput,
    creating: bool,
    settings: &WebhookSettings,
) -> Result<webhook::ActiveModel, Vec<validate::UserError>> {
    let mut problems = Problems::default();
    let path = Path::root("input");
    let mut row = <webhook::ActiveModel as Default>::default();
    match input.url {
        Patch::Set(url) => row.url = Set(target(&mut problems, &path.key("url"), &url, settings)),
        Patch::Keep if creating => problems.add(&path.key("url"), UserErrorCode::Required, "is required"),
        Patch::Keep => {}
    }
    match input.events {
        Patch::Set(events) => row.events = Set(Value::from(event_types(&mut problems, &path.key("events"), events))),
        Patch::Keep if creating => problems.add(&path.key("events"), UserErrorCode::Required, "is required"),
        Patch::Keep => {}
    }
    if let Patch::Set(description) = input.description {
        row.description = Set(validate::text(&mut problems, &path.key("description"), description.as_deref(), 500));
    }
    if let Patch::Set(active) = input.is_active {
        row.is_active = Set(active);
        if active {
            // Switched on again: it starts afresh.
            row.disabled_reason = Set(None);
            row.failing_since = Set(None);
        }
    }
    problems.finish(row)
}

/// A webhook's URL, checked: given (REQUIRED when blank: the column is NOT NULL), an
/// http or https URL, and fit to be a target ([`unfit`]).
fn target(problems: &mut Problems, path: &Path, url: &str, settings: &WebhookSettings) -> String {
    let Some(url) = validate::http_url(problems, path, Some(url)) else {
        problems.add(path, UserErrorCode::Required, "is required");
        return String::new();
    };
    if let Some(problem) = unfit(&url, settings) {
        problems.add(path, UserErrorCode::Invalid, problem);
    }
    url
}

/// What makes an http or https URL unfit for a webhook: http where https is required,
/// or a [`refusal`]. What is no such URL at all is
/// `validate::http_url`'s to report.
fn unfit(url: &str, settings: &WebhookSettings) -> Option<String> {
    let url = url::Url::parse(url).ok().filter(|url| matches!(url.scheme(), "http" | "https"))?;
    if !settings.allow_http && !secure_or_loopback(&url) {
        Some("must be https (http only for a loopback host, or with PROFILES_WEBHOOK_ALLOW_HTTP)".to_owned())
    } else {
        refusal(&url, settings)
    }
}

/// Why a webhook may not be sent to `url`, wherever it is checked (when saved, and at
/// each delivery, for a URL saved before the rules or the settings changed):
/// credentials (they would be stored, listed to every admin and sent as Basic auth),
/// or a host inside the network (see `targets`).
pub(crate) fn refusal(url: &url::Url, settings: &WebhookSettings) -> Option<String> {
    if !url.username().is_empty() || url.password().is_some() {
        Some("must not hold a user name or password: receivers check each delivery's signature instead".to_owned())
    } else {
        settings.targets().refusal(url).map(|refused| refused.to_string())
    }
}

/// Whether `url` is anything but http to a host beyond loopback.
fn secure_or_loopback(url: &url::Url) -> bool {
    url.scheme() != "http" || url.host().is_some_and(|host| targets::is_loopback(&host))
}

/// The event types a webhook wants: known types, or `*` alone; duplicates dropped.
fn event_types(problems: &mut Problems, path: &Path, types: Vec<String>) -> Vec<String> {
    if types.is_empty() {
        problems.add(path, UserErrorCode::Required, "name at least one event type, or `*` for all");
    }
    let mut wanted: Vec<String> = Vec::new();
    for (i, kind) in types.into_iter().enumerate() {
        let kind = kind.trim().to_owned();
        if kind != ALL_TYPES && EventKind::parse(&kind).is_none() {
            let message = format!("unknown event type `{kind}`: use `*` or one of {}", EventKind::listed());
            problems.add(&path.index(i), UserErrorCode::Invalid, message);
        } else if !wanted.contains(&kind) {
            wanted.push(kind);
        }
    }
    if wanted.len() > 1 && wanted.iter().any(|t| t == ALL_TYPES) {
        problems.add(path, UserErrorCode::Invalid, "`*` already means every type: give it alone");
    }
    wanted
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
pub(crate) fn new_secret() -> Result<String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| Error::Invariant(format!("no randomness: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
}

/// The `webhook-signature` of a delivery (Standard Webhooks, "v1"): the base64 of the
/// HMAC-SHA256 of `id.timestamp.body`, keyed with the secret's bytes.
pub(crate) fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|e| format!("the webhook's secret is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Creates a webhook; returns it and its secret (shown this once).
pub(crate) async fn create(
    db: &Services,
    input: WebhookInput,
    settings: &WebhookSettings,
) -> Result<(webhook::Model, String)> {
    let mut row = columns(input, true, settings)?;
    let now = db.clock.now();
    let secret = new_secret()?;
    row.id = Set(Uuid::new_v4());
    if row.is_active.is_not_set() {
        row.is_active = Set(true);
    }
    row.secret = Set(secret.clone());
    row.disabled_reason = Set(None);
    row.failing_since = Set(None);
    row.created_at = Set(now);
    row.updated_at = Set(now);
    if row.description.is_not_set() {
        row.description = Set(None);
    }
    Ok((row.insert(&db.db).await?, secret))
}

/// Changes a webhook; NOT_FOUND at `id` when there is none.
pub(crate) async fn update(
    db: &Services,
    id: Uuid,
    input: WebhookInput,
    settings: &WebhookSettings,
) -> Result<webhook::Model> {
    let mut row = columns(input, false, settings)?;
    found(db, id).await?;
    row.id = Set(id);
    row.updated_at = Set(db.clock.now());
    row.update(&db.db).await.map_err(gone)
}

/// A webhook deleted between its check and its update is NOT_FOUND, as it would have
/// been a moment earlier.
fn gone(err: DbErr) -> Error {
    match err {
        DbErr::RecordNotUpdated => Error::user(&Path::root("id"), UserErrorCode::NotFound, "no such webhook"),
        err => err.into(),
    }
}

/// Gives a webhook a new secret (the old one stops signing at once); returns it and
/// the secret.
pub(crate) async fn rotate_secret(db: &Services, id: Uuid) -> Result<(webhook::Model, String)> {
    found(db, id).await?;
    let secret = new_secret()?;
    let row = webhook::ActiveModel {
        id: Set(id),
        secret: Set(secret.clone()),
        updated_at: Set(db.clock.now()),
        ..Default::default()
    };
    Ok((row.update(&db.db).await.map_err(gone)?, secret))
}

/// Deletes a webhook and its deliveries; returns its id.
pub(crate) async fn delete(db: &DatabaseConnection, id: Uuid) -> Result<Uuid> {
    let deleted = webhook::Entity::delete_by_id(id).exec(db).await?;
    if deleted.rows_affected == 0 {
        return Err(Error::user(&Path::root("id"), UserErrorCode::NotFound, "no such webhook"));
    }
    Ok(id)
}

async fn found(db: &DatabaseConnection, id: Uuid) -> Result<webhook::Model> {
    webhook::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::user(&Path::root("id"), UserErrorCode::NotFound, "no such webhook"))
}

/// Every webhook, oldest first.
pub(crate) async fn list(db: &DatabaseConnection) -> Result<Vec<webhook::Model>> {
    Ok(webhook::Entity::find()
        .order_by_asc(webhook::Column::CreatedAt)
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?)
}

/// One webhook, if there is one.
pub(crate) async fn get(db: &DatabaseConnection, id: Uuid) -> Result<Option<webhook::Model>> {
    Ok(webhook::Entity::find_by_id(id).one(db).await?)
}

/// Which deliveries of a webhook to list: newest first, after a cursor.
#[derive(Clone, Debug, Default)]
pub(crate) struct DeliveryQuery {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub status: Option<DeliveryStatus>,
}

/// A page of a webhook's deliveries, each with its event's summary.
pub(crate) struct DeliveryPage {
    pub deliveries: Vec<(webhook_delivery::Model, Option<Event>)>,
    pub has_next_page: bool,
}

/// The cursor of a delivery in its webhook's log.
pub(crate) fn delivery_cursor(id: i64) -> String {
    crate::service::page::numbered_cursor("delivery", id)
}

/// A page of `webhook`'s deliveries, newest first.
pub(crate) async fn deliveries(db: &DatabaseConnection, webhook: Uuid, query: &DeliveryQuery) -> Result<DeliveryPage> {
    let size = query
        .first
        .map_or(Ok(crate::service::page::DEFAULT_PAGE_SIZE), |first| crate::service::page::size("first", first))?;
    let mut find = webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook));
    if let Some(after) = &query.after {
        find = find
            .filter(webhook_delivery::Column::Id.lt(crate::service::page::decode_numbered_cursor("delivery", after)?));
    }
    if let Some(status) = &query.status {
        find = find.filter(webhook_delivery::Column::Status.eq(*status));
    }
    let mut rows = find
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(size + 1)
        .find_also_related(profile_event::Entity)
        .all(db)
        .await?;
    let has_next_page = rows.len() as u64 > size;
    rows.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    let deliveries = rows
        .into_iter()
        .map(|(delivery, event)| Ok((delivery, event.map(Event::try_from).transpose()?)))
        .collect::<Result<_>>()?;
    Ok(DeliveryPage { deliveries, has_next_page })
}

/// Queues a delivery's event to its webhook once more, as a new delivery (the log
/// keeps both); NOT_FOUND at `id` when there is no such delivery, or when its event or
/// webhook went while this ran (a purge, a prune, `deleteWebhook`).
pub(crate) async fn redeliver(db: &Services, id: i64) -> Result<(webhook_delivery::Model, Option<Event>)> {
    let missing = || Error::user(&Path::root("id"), UserErrorCode::NotFound, "no such delivery");
    // Immediate on SQLite, as every write is: a transaction that reads before it writes
    // would otherwise fail, rather than wait, when another writer holds the lock.
    let immediate = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    let txn = db.db.begin_with_options(immediate).await?;
    let original = webhook_delivery::Entity::find_by_id(id).one(&txn).await?.ok_or_else(missing)?;
    // The event and the webhook locked to share until the copy is in: what deletes
    // them waits for it (and deletes it with them), or has deleted them already.
    let event = profile_event::Entity::find()
        .filter(profile_event::Column::Id.eq(&original.event_id))
        .lock_shared()
        .one(&txn)
        .await?
        .ok_or_else(missing)?;
    webhook::Entity::find_by_id(original.webhook_id).lock_shared().one(&txn).await?.ok_or_else(missing)?;
    let again = pending(original.webhook_id, original.event_id, original.profile_id, db.clock.now());
    let row = again.insert(&txn).await?;
    // Read before the commit: a redelivery the answer cannot describe is none.
    let event = Event::try_from(event)?;
    txn.commit().await?;
    db.notifier.committed();
    Ok((row, Some(event)))
}
