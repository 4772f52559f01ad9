//! The delivery worker: a Tokio task in every serving process that sends
//! pending webhook deliveries, signed per Standard Webhooks, and records each outcome.
//!
//! - **Claiming.** The free slots are offered to the active webhooks with due
//!   deliveries in turn, each up to its share ([`pacing`](super::pacing): one receiver
//!   that hangs or fails cannot hold every slot, and a failing one waits): one
//!   statement per webhook takes its due deliveries and leases them (`locked_until`,
//!   twice the timeout and a second); on PostgreSQL the candidates are locked `FOR
//!   UPDATE SKIP LOCKED`, so replicas never take the same row. A worker that dies
//!   mid-delivery leaves its lease to run out: the delivery is sent again then (at
//!   least once, never lost).
//! - **Order.** A delivery is due only when no earlier delivery of the same profile to
//!   the same webhook is still pending: a later event waits while an earlier one is
//!   retried (or in flight on another replica).
//! - **Outcome.** A 2xx is DELIVERED. Anything else, a timeout or a connection error is
//!   retried after a [`retry_delay`] until the last attempt, then FAILED. A webhook whose
//!   attempts have all failed for `disable_after` is switched off, with the reason.
//! - **Waking.** The services' notifier (LISTEN/NOTIFY, or the in-process signal), the
//!   end of a delivery, the earliest retry (or end of a failing webhook's wait) this
//!   worker scheduled, and a poll interval.
//! - **Time.** Leases, retries, stamps, signatures and pruning read the services' clock:
//!   a test that advances it makes a retry (or a lease's end) due at once, and the
//!   worker, woken by the advance, looks again.
//! - **Telling.** [`Worker::recorded`] changes after each outcome is recorded, so that
//!   what waits for a delivery is told rather than polling.
//! - **Stopping.** [`Worker::stop`] stops claiming and waits for the deliveries in
//!   flight (each bounded by the timeout); their outcome is recorded.
//! - **Housekeeping.** Hourly, events older than the retention are pruned once no
//!   delivery of theirs is pending, keeping each profile's latest.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::enums::DeliveryStatus;
use entity::{profile_event, webhook, webhook_delivery};
use reqwest::dns::Resolve;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Statement,
};
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::service::clock::Clock;
use crate::service::error::Result;
use crate::service::events::feed::Event;
use crate::service::events::pacing::{Pacing, retry_delay};
use crate::service::events::targets::{GuardedResolver, Refused, SystemResolver};
use crate::service::events::webhooks::{WebhookSettings, refusal, sign};
use crate::service::runtime::Services;

/// How often old events are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The running worker; [`Worker::stop`] ends it.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    recorded: Arc<watch::Sender<u64>>,
}

impl Worker {
    /// Starts delivering from the services' database, on their clock, woken by their
    /// notifier; host names are resolved by the system's resolver.
    pub fn start(services: Services, settings: WebhookSettings) -> Worker {
        Worker::start_resolving(services, settings, Arc::new(SystemResolver))
    }

    /// Like [`Worker::start`], with host names resolved by `resolver` (tests give a
    /// name whatever address they need). Either way every address a name resolves to
    /// is checked before a connection is made (see `targets`).
    pub fn start_resolving(services: Services, settings: WebhookSettings, resolver: Arc<dyn Resolve>) -> Worker {
        let (stop, stopping) = watch::channel(false);
        let recorded = Arc::new(watch::Sender::new(0));
        let wake = services.notifier.wakeups();
        let resolver = Arc::new(GuardedResolver::new(resolver, settings.targets()));
        let task = tokio::spawn(run(services.db, services.clock, settings, resolver, wake, stopping, recorded.clone()));
        Worker { stop, task, recorded }
    }

    /// Changes after each attempt this worker has sent and recorded (or failed to).
    pub fn recorded(&self) -> watch::Receiver<u64> {
        self.recorded.subscribe()
    }

    /// Stops claiming and waits for the deliveries in flight to be sent and recorded.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the delivery worker ended abnormally");
        }
    }
}

/// The client deliveries are sent with: no redirects (a receiver could redirect
/// inside), no proxy (the address checked must be the address connected to), and
/// names resolved by `resolver`.
fn client(settings: &WebhookSettings, resolver: Arc<GuardedResolver>) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(resolver)
        .user_agent(concat!("profiles-gateway/", env!("CARGO_PKG_VERSION"), " (webhooks)"))
        .build()
}

async fn run(
    db: DatabaseConnection,
    clock: Clock,
    settings: WebhookSettings,
    resolver: Arc<GuardedResolver>,
    mut wake: watch::Receiver<u64>,
    mut stopping: watch::Receiver<bool>,
    recorded: Arc<watch::Sender<u64>>,
) {
    let client = match client(&settings, resolver) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "no HTTP client: webhooks are not delivered");
            return;
        }
    };
    let concurrency = settings.concurrency as usize;
    let mut pacing = Pacing::new(settings.concurrency, settings.retry_base);
    let mut in_flight: JoinSet<Sent> = JoinSet::new();
    let mut next_retry: Option<DateTime<Utc>> = None;
    let mut next_prune = clock.now();
    let mut advanced = clock.advanced();
    let mut wake_open = true;
    loop {
        if *stopping.borrow() {
            break;
        }
        // Claimed at every wake-up with a free slot: waiting for more (a batch) would
        // keep a healthy webhook waiting while others' hanging attempts hold the rest.
        let free = concurrency.saturating_sub(in_flight.len());
        if free > 0 {
            match claim(&db, &mut pacing, free, &settings, clock.now()).await {
                Ok(jobs) => {
                    for job in jobs {
                        pacing.claimed(job.delivery.webhook_id);
                        let (db, clock, client, settings) =
                            (db.clone(), clock.clone(), client.clone(), settings.clone());
                        in_flight.spawn(async move { job.deliver(&db, &clock, &client, &settings).await });
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot claim webhook deliveries; trying again shortly"),
            }
        }
        if clock.now() >= next_prune {
            next_prune = clock.now() + PRUNE_EVERY;
            match prune(&db, settings.retention, clock.now()).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "pruned events past their retention"),
                Err(error) => tracing::warn!(%error, "pruning events failed"),
            }
        }
        let mut wait = settings.poll;
        if let Some(at) = next_retry {
            wait = wait.min((at - clock.now()).to_std().unwrap_or_default());
        }
        tokio::select! {
            changed = wake.changed(), if wake_open => wake_open = changed.is_ok(),
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                if let Ok(sent) = done {
                    let resumes = pacing.finished(sent.webhook, sent.succeeded, clock.now());
                    for at in sent.retry.into_iter().chain(resumes) {
                        next_retry = Some(next_retry.map_or(at, |earliest| std::cmp::min(earliest, at)));
                    }
                }
                recorded.send_modify(|n| *n = n.wrapping_add(1));
            }
            () = tokio::time::sleep(wait) => {}
            _ = advanced.changed() => {}
            _ = stopping.changed() => {}
        }
        if next_retry.is_some_and(|at| at <= clock.now()) {
            next_retry = None;
        }
    }
    while in_flight.join_next().await.is_some() {
        recorded.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// A claimed delivery: what to send, where, signed with what.
struct Job {
    delivery: webhook_delivery::Model,
    url: String,
    secret: String,
    body: Vec<u8>,
}

/// The condition on a delivery `d` (joined to its webhook `w`) of being due at `now`
/// (a placeholder): pending, its time come, not leased, and no earlier delivery of the
/// same profile to the same webhook still pending.
fn due(now: &str) -> String {
    format!(
        "{} AND w.is_active \
         AND NOT EXISTS (SELECT 1 FROM webhook_delivery e WHERE e.webhook_id = d.webhook_id \
             AND e.profile_id = d.profile_id AND e.status = 'PENDING' AND e.id < d.id)",
        ready(now)
    )
}

/// The condition on a delivery `d` of being ready at `now` (a placeholder): pending,
/// its time come, and not leased.
fn ready(now: &str) -> String {
    format!(
        "d.status = 'PENDING' AND d.next_attempt_at <= {now} \
         AND (d.locked_until IS NULL OR d.locked_until <= {now})"
    )
}

/// Claims up to `free` deliveries due at `now` for this worker, each webhook's within
/// its room in `pacing` (see the module's notes).
async fn claim(
    db: &DatabaseConnection,
    pacing: &mut Pacing,
    mut free: usize,
    settings: &WebhookSettings,
    now: DateTime<Utc>,
) -> Result<Vec<Job>> {
    let webhooks = pacing.in_turn(with_due_deliveries(db, now).await?);
    let mut claimed = Vec::new();
    for webhook in &webhooks {
        if free == 0 {
            break;
        }
        let room = pacing.room(webhook.id).min(free);
        if room == 0 {
            continue;
        }
        let retries_only = pacing.holds_new_ones(webhook.id, webhook.failing_since.is_some(), now);
        let taken = claim_of(db, webhook.id, room, retries_only, settings, now).await?;
        free -= taken.len();
        claimed.extend(taken);
    }
    jobs(db, claimed, webhooks).await
}

/// The active webhooks with a delivery whose time has come and that no one holds (one
/// index probe each, `ix_webhook_delivery_webhook_due`).
async fn with_due_deliveries(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<webhook::Model>> {
    let backend = db.get_database_backend();
    let now_is = if backend == DatabaseBackend::Postgres { "$1" } else { "?" };
    let sql = format!(
        "SELECT w.* FROM webhook w WHERE w.is_active AND EXISTS (SELECT 1 FROM webhook_delivery d \
         WHERE d.webhook_id = w.id AND {}) ORDER BY w.id",
        ready(now_is)
    );
    let values: Vec<sea_orm::Value> = match backend {
        DatabaseBackend::Postgres => vec![now.into()],
        _ => vec![now.into(), now.into()],
    };
    Ok(webhook::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, values)).all(db).await?)
}

/// Claims up to `limit` deliveries of `webhook` due at `now` (only those attempted
/// before, when `retries_only`), in the order they came due.
async fn claim_of(
    db: &DatabaseConnection,
    webhook: Uuid,
    limit: usize,
    retries_only: bool,
    settings: &WebhookSettings,
    now: DateTime<Utc>,
) -> Result<Vec<webhook_delivery::Model>> {
    let lease = settings.timeout.saturating_mul(2) + Duration::from_secs(1);
    let until = now + chrono::Duration::from_std(lease).unwrap_or_else(|_| chrono::Duration::hours(1));
    let retries = if retries_only { "AND d.attempts > 0" } else { "" };
    let backend = db.get_database_backend();
    let limit = limit as i64;
    let statement = match backend {
        DatabaseBackend::Postgres => Statement::from_sql_and_values(
            backend,
            format!(
                "WITH due AS (SELECT d.id FROM webhook_delivery d JOIN webhook w ON w.id = d.webhook_id \
                 WHERE d.webhook_id = $4 AND {} {retries} ORDER BY d.next_attempt_at, d.id LIMIT $3 \
                 FOR UPDATE OF d SKIP LOCKED) \
                 UPDATE webhook_delivery SET locked_until = $2 FROM due WHERE webhook_delivery.id = due.id \
                 RETURNING webhook_delivery.*",
                due("$1")
            ),
            [now.into(), until.into(), limit.into(), webhook.into()],
        ),
        // One process: no other claimer to skip.
        _ => Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE webhook_delivery SET locked_until = ? WHERE id IN (SELECT d.id FROM webhook_delivery d \
                 JOIN webhook w ON w.id = d.webhook_id WHERE d.webhook_id = ? AND {} {retries} \
                 ORDER BY d.next_attempt_at, d.id LIMIT ?) RETURNING *",
                due("?")
            ),
            [until.into(), webhook.into(), now.into(), now.into(), limit.into()],
        ),
    };
    Ok(webhook_delivery::Model::find_by_statement(statement).all(db).await?)
}

/// The jobs of the `claimed` deliveries of `webhooks`: each with its event's envelope.
async fn jobs(
    db: &DatabaseConnection,
    claimed: Vec<webhook_delivery::Model>,
    webhooks: Vec<webhook::Model>,
) -> Result<Vec<Job>> {
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let webhooks: HashMap<Uuid, webhook::Model> = webhooks.into_iter().map(|w| (w.id, w)).collect();
    let event_ids = claimed.iter().map(|d| d.event_id.clone());
    let mut events: Vec<Event> = profile_event::Entity::find()
        .filter(profile_event::Column::Id.is_in(event_ids))
        .all(db)
        .await?
        .into_iter()
        .map(Event::try_from)
        .collect::<Result<_>>()?;
    crate::service::events::deferred::fill(db, &mut events).await?;
    let events: HashMap<String, Event> = events.into_iter().map(|e| (e.id.clone(), e)).collect();
    Ok(claimed
        .into_iter()
        .filter_map(|delivery| {
            let webhook = webhooks.get(&delivery.webhook_id)?;
            // Two deliveries of one event (a redelivery) share its payload.
            let event = events.get(&delivery.event_id)?;
            #[allow(clippy::expect_used, reason = "a serde_json::Value always serialises")]
            let body = serde_json::to_vec(&event.envelope()).expect("a JSON value serialises");
            Some(Job { url: webhook.url.clone(), secret: webhook.secret.clone(), body, delivery })
        })
        .collect())
}

/// An attempt sent and recorded: of which webhook, how it went, and when its delivery
/// is tried again, if it is.
struct Sent {
    webhook: Uuid,
    succeeded: bool,
    retry: Option<DateTime<Utc>>,
}

/// How one attempt went.
struct Attempt {
    status: Option<u16>,
    error: Option<String>,
}

impl Attempt {
    fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    /// An attempt refused before any connection: its target is inside the network.
    fn refused(refused: &impl std::fmt::Display) -> Attempt {
        Attempt { status: None, error: Some(format!("refused: {refused}").chars().take(500).collect()) }
    }
}

impl Job {
    /// Sends the delivery and records the outcome.
    async fn deliver(
        self,
        db: &DatabaseConnection,
        clock: &Clock,
        client: &reqwest::Client,
        settings: &WebhookSettings,
    ) -> Sent {
        let started = Instant::now();
        let attempt = self.send(client, settings, clock.now()).await;
        metrics::histogram!("webhook_delivery_seconds").record(started.elapsed().as_secs_f64());
        let retry = match self.record(db, settings, &attempt, clock.now()).await {
            Ok(retry) => retry,
            Err(error) => {
                // The lease runs out and the delivery is sent again: at least once.
                tracing::warn!(%error, delivery = self.delivery.id, "cannot record a delivery's outcome");
                None
            }
        };
        Sent { webhook: self.delivery.webhook_id, succeeded: attempt.succeeded(), retry }
    }

    async fn send(&self, client: &reqwest::Client, settings: &WebhookSettings, now: DateTime<Utc>) -> Attempt {
        // A URL saved before the rules (or the settings) changed: checked as when saved
        // (an address in it is not resolved, so the resolver never sees it).
        if let Some(refused) = url::Url::parse(&self.url).ok().and_then(|url| refusal(&url, settings)) {
            return Attempt::refused(&refused);
        }
        let id = &self.delivery.event_id;
        let timestamp = now.timestamp();
        let signature = match sign(&self.secret, id, timestamp, &self.body) {
            Ok(signature) => signature,
            Err(error) => return Attempt { status: None, error: Some(error) },
        };
        let request = client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(self.body.clone());
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                Attempt { status: Some(response.status().as_u16()), error: None }
            }
            Ok(response) => {
                let status = response.status();
                Attempt { status: Some(status.as_u16()), error: Some(format!("the endpoint answered {status}")) }
            }
            Err(error) if error.is_timeout() => Attempt {
                status: None,
                error: Some(format!("no answer within {}", humantime::format_duration(settings.timeout))),
            },
            Err(error) => {
                let error = error.without_url();
                let mut message = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    if let Some(refused) = cause.downcast_ref::<Refused>() {
                        return Attempt::refused(refused);
                    }
                    message = format!("{message}: {cause}");
                    source = cause.source();
                }
                Attempt { status: None, error: Some(message.chars().take(500).collect()) }
            }
        }
    }

    /// Records the attempt, ended at `now`, on the delivery and its webhook; returns the
    /// next attempt's time when there is one.
    async fn record(
        &self,
        db: &DatabaseConnection,
        settings: &WebhookSettings,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        use webhook_delivery::Column as D;
        let attempts = self.delivery.attempts + 1;
        let mut update = webhook_delivery::Entity::update_many()
            .col_expr(D::Attempts, Expr::val(attempts))
            .col_expr(D::LastStatusCode, Expr::val(attempt.status.map(i32::from)))
            .col_expr(D::LastError, Expr::val(attempt.error.clone()))
            .col_expr(D::LockedUntil, Expr::val(Option::<DateTime<Utc>>::None))
            .filter(D::Id.eq(self.delivery.id))
            .filter(D::Status.eq(DeliveryStatus::Pending));
        let mut retry = None;
        let outcome = if attempt.succeeded() {
            update = update
                .col_expr(D::Status, Expr::val(DeliveryStatus::Delivered))
                .col_expr(D::DeliveredAt, Expr::val(now));
            "delivered"
        } else if attempts >= settings.max_attempts as i32 {
            update = update.col_expr(D::Status, Expr::val(DeliveryStatus::Failed));
            "failed"
        } else {
            let delay = retry_delay(settings.retry_base, attempts as u32);
            let at = now + chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::hours(12));
            update = update.col_expr(D::NextAttemptAt, Expr::val(at));
            retry = Some(at);
            "retried"
        };
        update.exec(db).await?;
        metrics::counter!("webhook_deliveries_total", "outcome" => outcome).increment(1);
        // Every success ends a failing spell (a no-op unless one is recorded): a spell
        // begun by another delivery claimed beside this one must not outlive it.
        if attempt.succeeded() {
            webhook::Entity::update_many()
                .col_expr(webhook::Column::FailingSince, Expr::val(Option::<DateTime<Utc>>::None))
                .filter(webhook::Column::Id.eq(self.delivery.webhook_id))
                .filter(webhook::Column::FailingSince.is_not_null())
                .exec(db)
                .await?;
        } else {
            self.failing(db, settings, now).await?;
        }
        Ok(retry)
    }

    /// Notes that the webhook is failing, and disables it when it has failed for too long.
    async fn failing(&self, db: &DatabaseConnection, settings: &WebhookSettings, now: DateTime<Utc>) -> Result<()> {
        use webhook::Column as W;
        let since = Expr::from(Func::coalesce([Expr::col(W::FailingSince), Expr::val(now)]));
        webhook::Entity::update_many()
            .col_expr(W::FailingSince, since)
            .filter(W::Id.eq(self.delivery.webhook_id))
            .exec(db)
            .await?;
        let limit = chrono::Duration::from_std(settings.disable_after).unwrap_or(chrono::Duration::MAX);
        let Some(cutoff) = now.checked_sub_signed(limit) else { return Ok(()) };
        let reason = format!(
            "every delivery attempt failed for {} (the last: {})",
            humantime::format_duration(settings.disable_after),
            self.delivery.event_id
        );
        let disabled = webhook::Entity::update_many()
            .col_expr(W::IsActive, Expr::val(false))
            .col_expr(W::DisabledReason, Expr::val(reason.chars().take(500).collect::<String>()))
            .col_expr(W::UpdatedAt, Expr::val(now))
            .filter(W::Id.eq(self.delivery.webhook_id))
            .filter(W::IsActive.eq(true))
            .filter(W::FailingSince.lte(cutoff))
            .exec(db)
            .await?;
        if disabled.rows_affected > 0 {
            tracing::warn!(webhook = %self.delivery.webhook_id, "disabled a webhook that kept failing");
            metrics::counter!("webhooks_disabled_total").increment(1);
        }
        Ok(())
    }
}

/// Deletes events older than `retention` at `now` that no delivery is still pending
/// for, but not the latest of any profile. Returns how many.
pub async fn prune(db: &DatabaseConnection, retention: Duration, now: DateTime<Utc>) -> Result<u64> {
    use profile_event::Column as E;
    let Some(cutoff) = chrono::Duration::from_std(retention).ok().and_then(|r| now.checked_sub_signed(r)) else {
        return Ok(0);
    };
    let pending = Query::select()
        .column(webhook_delivery::Column::EventId)
        .from(webhook_delivery::Entity)
        .and_where(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .to_owned();
    let latest = Query::select()
        .expr(Func::max(Expr::col(E::Seq)))
        .from(profile_event::Entity)
        .group_by_col(E::ProfileId)
        .to_owned();
    let deleted = profile_event::Entity::delete_many()
        .filter(E::OccurredAt.lt(cutoff))
        .filter(E::Id.not_in_subquery(pending))
        .filter(E::Seq.not_in_subquery(latest))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// Sets the backlog gauges: pending deliveries, and the age of the oldest at `now` (the
/// number to alert on: it grows when deliveries fail or the worker falls behind).
pub(crate) async fn observe_backlog(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<()> {
    use webhook_delivery::Column as D;
    let (count, oldest): (i64, Option<DateTime<Utc>>) = webhook_delivery::Entity::find()
        .select_only()
        .expr(Expr::col(D::Id).count())
        .expr(Func::min(Expr::col(D::CreatedAt)))
        .filter(D::Status.eq(DeliveryStatus::Pending))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    let age = oldest.map_or(0.0, |at| std::cmp::max((now - at).num_milliseconds(), 0) as f64 / 1000.0);
    metrics::gauge!("webhook_backlog_pending").set(count as f64);
    metrics::gauge!("webhook_backlog_oldest_seconds").set(age);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_standard_webhooks_v1() {
        // The example of the Standard Webhooks specification's test vectors.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, id, 1614265330, body).expect("a signature");
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
