//! Webhooks and subscriptions through the API: a receiver on port 0 checks
//! every delivery's Standard Webhooks signature with an HMAC written here (not the
//! service's), retries, order per profile, failure and disabling, the delivery log
//! and redelivery, the worker stopped or the process killed, two replicas, and a
//! subscription over a real WebSocket client.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::{SinkExt, StreamExt};
use profiles_gateway::auth::Scope;
use profiles_gateway::service::events::delivery::Worker;
use profiles_gateway::service::events::webhooks::WebhookSettings;
use profiles_gateway::service::token;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::binary::Binary;
use crate::helpers::{Options, TestApp, TestDatabase, error_codes, on_postgres, user_errors};

/// HMAC-SHA256 (RFC 2104) on SHA-256 alone: a second implementation, to check the
/// service's signatures against.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new().chain_update(block.map(|b| b ^ 0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(block.map(|b| b ^ 0x5c)).chain_update(inner).finalize().to_vec()
}

/// A delivery as the receiver saw it.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    raw: Vec<u8>,
    pub(crate) body: Value,
}

impl Received {
    /// Whether one of the `v1` signatures is the HMAC of `id.timestamp.body` with `secret`.
    fn verifies_with(&self, secret: &str) -> bool {
        let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("a whsec_ secret")).expect("base64");
        let mut signed = format!("{}.{}.", self.id, self.timestamp).into_bytes();
        signed.extend_from_slice(&self.raw);
        let expected = STANDARD.encode(hmac_sha256(&key, &signed));
        self.signature.split(' ').any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
    }
}

/// Holds answers back until it is opened (a gate never opened holds them for good).
#[derive(Clone, Default)]
pub(crate) struct Gate(Arc<tokio::sync::watch::Sender<bool>>);

impl Gate {
    fn open(&self) {
        self.0.send_replace(true);
    }

    async fn opened(&self) {
        let _ = self.0.subscribe().wait_for(|open| *open).await;
    }
}

type Answer = Arc<dyn Fn(&Received, usize) -> (u16, Option<Gate>) + Send + Sync>;

/// An HTTP endpoint on port 0 that records what it is sent and answers as `answer`
/// says, given the delivery and how many times its id was seen before: a status, sent
/// at once or once a gate opens.
pub(crate) struct Receiver {
    address: SocketAddr,
    log: Arc<Mutex<Vec<Received>>>,
    /// How many requests have arrived (tests wait on it).
    arrived: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Receiver {
    pub(crate) async fn start(
        answer: impl Fn(&Received, usize) -> (u16, Option<Gate>) + Send + Sync + 'static,
    ) -> Receiver {
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let arrived = Arc::new(tokio::sync::watch::Sender::new(0));
        let answer: Answer = Arc::new(answer);
        let (kept, counted) = (log.clone(), arrived.clone());
        let hook = move |headers: HeaderMap, raw: Bytes| {
            let (log, answer, arrived) = (kept.clone(), answer.clone(), counted.clone());
            async move {
                let header =
                    |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let received = Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp").parse().unwrap_or_default(),
                    signature: header("webhook-signature"),
                    body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
                    raw: raw.to_vec(),
                };
                let seen = log.lock().expect("log").iter().filter(|r| r.id == received.id).count();
                let (status, gate) = answer(&received, seen);
                log.lock().expect("log").push(received);
                arrived.send_modify(|n| *n += 1);
                if let Some(gate) = gate {
                    gate.opened().await;
                }
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let address = listener.local_addr().expect("an address");
        let router = axum::Router::new().route("/hook", axum::routing::post(hook));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { address, log, arrived }
    }

    /// Changes whenever a request arrives.
    pub(crate) fn arrivals(&self) -> tokio::sync::watch::Receiver<usize> {
        self.arrived.subscribe()
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.log.lock().expect("log").clone()
    }
}

/// Settings for tests whose retries come due as the test's clock is advanced: the
/// default 30 s retry base, and no polling to speak of.
fn slow_retries() -> WebhookSettings {
    WebhookSettings { retry_base: Duration::from_secs(30), poll: Duration::from_secs(60), ..fast() }
}

/// Settings for tests: milliseconds instead of minutes.
pub(crate) fn fast() -> WebhookSettings {
    WebhookSettings {
        timeout: Duration::from_secs(2),
        max_attempts: 5,
        retry_base: Duration::from_millis(20),
        concurrency: 8,
        poll: Duration::from_millis(200),
        ..WebhookSettings::default()
    }
}

/// Waits (up to 30 s) until `done` holds, looking again each time `told` changes: a
/// worker recorded an attempt ([`Worker::recorded`]), a request arrived.
pub(crate) async fn eventually<T, F: std::future::Future<Output = bool>>(
    what: &str,
    told: &mut tokio::sync::watch::Receiver<T>,
    mut done: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done().await {
        let changed = tokio::time::timeout_at(deadline, told.changed()).await;
        assert!(changed.is_ok(), "timed out waiting until {what}");
        assert!(changed.is_ok_and(|open| open.is_ok()), "nothing is left to tell, waiting until {what}");
    }
}

/// Like [`eventually`], but after each look that fails moves the app's clock to the
/// earliest retry of `webhook`'s pending deliveries (the earliest next attempt still to
/// come): retries come due at once.
async fn eventually_retried<F: std::future::Future<Output = bool>>(
    what: &str,
    app: &TestApp,
    webhook: &str,
    recorded: &mut tokio::sync::watch::Receiver<u64>,
    mut done: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done().await {
        let now = app.services.clock.now();
        let next = deliveries(app, webhook)
            .await
            .iter()
            .filter_map(|d| d["nextAttemptAt"].as_str().and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok()))
            .map(|at| at.with_timezone(&chrono::Utc))
            .filter(|at| *at > now)
            .min();
        if let Some(next) = next {
            app.services.clock.advance((next - now).to_std().unwrap_or_default() + Duration::from_millis(1));
        }
        let changed = tokio::time::timeout_at(deadline, recorded.changed()).await;
        assert!(changed.is_ok_and(|open| open.is_ok()), "timed out waiting until {what}");
    }
}

const WEBHOOK: &str = "id url events description isActive disabledReason";

pub(crate) async fn create_webhook(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let payload = app
        .mutate(
            "createWebhook",
            &format!("mutation($i: WebhookInput!) {{ createWebhook(input: $i) {{ webhook {{ {WEBHOOK} }} secret userErrors {{ field code }} }} }}"),
            json!({ "i": { "url": url, "events": events, "description": "test" } }),
        )
        .await;
    assert_eq!(user_errors(&payload), vec![]);
    (
        payload["webhook"]["id"].as_str().expect("an id").to_owned(),
        payload["secret"].as_str().expect("a secret").to_owned(),
    )
}

async fn deliveries(app: &TestApp, webhook: &str) -> Vec<Value> {
    let query = "query($id: UUID!) { webhook(id: $id) { deliveries(first: 100) { nodes { id status attempts lastStatusCode lastError nextAttemptAt deliveredAt event { id type profileId } } } } }";
    let data = app.data(query, json!({ "id": webhook })).await;
    data["webhook"]["deliveries"]["nodes"].as_array().expect("deliveries").clone()
}

async fn create_profile(app: &TestApp, first_name: &str) -> String {
    let payload = app
        .mutate(
            "createProfile",
            "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id } userErrors { field code } } }",
            json!({ "i": { "firstName": first_name } }),
        )
        .await;
    payload["profile"]["id"].as_str().expect("an id").to_owned()
}

async fn rename(app: &TestApp, id: &str, first_name: &str) {
    let payload = app
        .mutate(
            "updateProfile",
            "mutation($id: UUID!, $i: ProfileUpdateInput!) { updateProfile(id: $id, input: $i) { userErrors { code } } }",
            json!({ "id": id, "i": { "firstName": first_name } }),
        )
        .await;
    assert_eq!(user_errors(&payload), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_endpoint_is_retried_with_signed_deliveries_until_it_answers() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(|_, seen| (if seen < 2 { 500 } else { 200 }, None)).await;
    let (webhook, secret) = create_webhook(&app, &receiver.url(), json!(["*"])).await;
    // Retries 30 s and 2 min apart, which the test's clock skips.
    let worker = Worker::start(app.services.clone(), slow_retries());
    let mut recorded = worker.recorded();
    let profile = create_profile(&app, "Ann").await;

    eventually_retried("the third attempt is DELIVERED", &app, &webhook, &mut recorded, || async {
        deliveries(&app, &webhook).await.first().is_some_and(|d| d["status"] == "DELIVERED")
    })
    .await;
    let received = receiver.received();
    assert_eq!(received.len(), 3, "500, 500, then 200");
    let now = app.services.clock.now().timestamp();
    for attempt in &received {
        assert!(attempt.verifies_with(&secret), "signature of {attempt:?}");
        assert!((now - attempt.timestamp).abs() < 300, "a fresh timestamp");
        assert_eq!(attempt.id, received[0].id, "one webhook-id across retries");
    }
    let envelope = &received[2].body;
    assert_eq!(envelope["type"], "profile.created");
    assert_eq!(envelope["profileId"], profile.as_str());
    assert_eq!(envelope["id"], received[0].id.as_str());
    assert_eq!(envelope["data"]["first_name"], "Ann");
    assert!(envelope["actor"].is_null(), "no token: no actor");

    let log = deliveries(&app, &webhook).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["lastStatusCode"], 200);
    assert!(log[0]["lastError"].is_null() && log[0]["nextAttemptAt"].is_null() && log[0]["deliveredAt"].is_string());
    assert_eq!(log[0]["event"]["id"], received[0].id.as_str());

    // A signature with another secret does not verify: the check can fail.
    let mut forged = received[2].clone();
    forged.raw = br#"{"forged":true}"#.to_vec();
    assert!(!forged.verifies_with(&secret));

    let (_, _, metrics) = app.scrape().await;
    for series in [
        "webhook_deliveries_total{outcome=\"delivered\"}",
        "webhook_deliveries_total{outcome=\"retried\"}",
        "webhook_backlog_oldest_seconds 0",
        "webhook_backlog_pending 0",
    ] {
        assert!(metrics.contains(series), "{series} in\n{metrics}");
    }
    worker.stop().await;
}

#[tokio::test]
async fn webhooks_are_validated_rotated_deleted_and_only_for_admin_tokens() {
    let app = TestApp::spawn().await;
    let create =
        "mutation($i: WebhookInput!) { createWebhook(input: $i) { webhook { id } secret userErrors { field code } } }";
    let cases = [
        (json!({ "url": "ftp://example.com/x", "events": ["*"] }), vec![("input.url", "INVALID")]),
        (json!({ "url": "http://example.com/x", "events": ["*"] }), vec![("input.url", "INVALID")]),
        (json!({ "url": "https://example.com/x", "events": [] }), vec![("input.events", "REQUIRED")]),
        (json!({ "url": "https://example.com/x", "events": ["profile.nope"] }), vec![("input.events.0", "INVALID")]),
        (
            json!({ "url": "https://example.com/x", "events": ["*", "profile.created"] }),
            vec![("input.events", "INVALID")],
        ),
    ];
    for (input, expected) in cases {
        let payload = app.mutate("createWebhook", create, json!({ "i": input })).await;
        let expected: Vec<(String, String)> =
            expected.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect();
        assert_eq!(user_errors(&payload), expected, "{input}");
        assert!(payload["secret"].is_null());
    }
    assert!(app.data("{ webhooks { id } }", json!({})).await["webhooks"].as_array().expect("a list").is_empty());

    let (id, secret) =
        create_webhook(&app, "https://example.com/hook", json!(["profile.created", "profile.created"])).await;
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_")).expect("base64");
    assert_eq!(key.len(), 32);
    let listed = app.data(&format!("{{ webhooks {{ {WEBHOOK} }} }}"), json!({})).await;
    assert_eq!(listed["webhooks"][0]["events"], json!(["profile.created"]), "duplicates dropped");
    assert_eq!(listed["webhooks"][0]["isActive"], true);

    let update = "mutation($id: UUID!, $i: WebhookUpdateInput!) { updateWebhook(id: $id, input: $i) { webhook { url events description isActive } userErrors { field code } } }";
    let changed = app
        .mutate(
            "updateWebhook",
            update,
            json!({ "id": id, "i": { "events": ["*"], "description": null, "isActive": false } }),
        )
        .await;
    assert_eq!(
        changed["webhook"],
        json!({ "url": "https://example.com/hook", "events": ["*"], "description": null, "isActive": false })
    );
    let refused = app.mutate("updateWebhook", update, json!({ "id": id, "i": { "url": null } })).await;
    assert_eq!(user_errors(&refused), vec![("input.url".to_owned(), "REQUIRED".to_owned())]);
    let missing = app.mutate("updateWebhook", update, json!({ "id": uuid::Uuid::new_v4(), "i": {} })).await;
    assert_eq!(user_errors(&missing), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);

    let rotate = "mutation($id: UUID!) { rotateWebhookSecret(id: $id) { secret userErrors { code } } }";
    let rotated = app.mutate("rotateWebhookSecret", rotate, json!({ "id": id })).await;
    let new_secret = rotated["secret"].as_str().expect("a secret");
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    let delete = "mutation($id: UUID!) { deleteWebhook(id: $id) { deletedId userErrors { field code } } }";
    assert_eq!(app.mutate("deleteWebhook", delete, json!({ "id": id })).await["deletedId"], id.as_str());
    let again = app.mutate("deleteWebhook", delete, json!({ "id": id })).await;
    assert_eq!(user_errors(&again), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);
    assert!(app.data("query($id: UUID!) { webhook(id: $id) { id } }", json!({ "id": id })).await["webhook"].is_null());

    // Only `admin` tokens manage webhooks.
    let secured = TestApp::spawn_with(Options { auth_required: true, ..Options::default() }).await;
    let writer = token::create(&secured.services, "writer", &[Scope::ProfilesRead, Scope::ProfilesWrite])
        .await
        .expect("a token")
        .1;
    let input = json!({ "i": { "url": "https://example.com/hook", "events": ["*"] } });
    let (_, response) = secured.graphql_as(Some(&writer), create, input.clone()).await;
    assert_eq!(error_codes(&response), vec!["FORBIDDEN"]);
    let (_, response) = secured.graphql_as(Some(&writer), "{ webhooks { id } }", json!({})).await;
    assert_eq!(error_codes(&response), vec!["FORBIDDEN"]);
    let admin = token::create(&secured.services, "admin", &[Scope::Admin]).await.expect("a token").1;
    let (_, response) = secured.graphql_as(Some(&admin), create, input).await;
    assert!(response["data"]["createWebhook"]["secret"].is_string(), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profiles_events_arrive_in_order_while_earlier_ones_are_retried() {
    let app = TestApp::spawn().await;
    // Every event fails its first attempt; its retry comes due as the clock is advanced.
    let receiver = Receiver::start(|_, seen| (if seen == 0 { 503 } else { 200 }, None)).await;
    let (webhook, secret) = create_webhook(&app, &receiver.url(), json!(["profile.created", "profile.updated"])).await;
    let worker = Worker::start(app.services.clone(), slow_retries());
    let mut recorded = worker.recorded();
    let mut profiles = Vec::new();
    for name in ["A", "B", "C"] {
        profiles.push(create_profile(&app, name).await);
    }
    let writers = profiles.iter().map(|id| {
        let (app, id) = (&app, id.clone());
        async move {
            for n in 0..5 {
                rename(app, &id, &format!("name {n}")).await;
            }
        }
    });
    futures_util::future::join_all(writers).await;
    eventually_retried("all 18 deliveries are DELIVERED", &app, &webhook, &mut recorded, || async {
        let log = deliveries(&app, &webhook).await;
        log.len() == 18 && log.iter().all(|d| d["status"] == "DELIVERED")
    })
    .await;
    let mut versions: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for received in receiver.received() {
        assert!(received.verifies_with(&secret));
        let delivered = receiver.received().iter().filter(|r| r.id == received.id).count() == 2;
        assert!(delivered, "each event was attempted twice");
        let profile = received.body["profileId"].as_str().expect("a profile").to_owned();
        versions.entry(profile).or_default().push(received.body["version"].as_i64().expect("a version"));
    }
    for (profile, seen) in versions {
        // Each version twice (the 503, then the 200), never a later one before an earlier.
        let expected: Vec<i64> = (1..=6).flat_map(|v| [v, v]).collect();
        assert_eq!(seen, expected, "profile {profile}");
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_deliveries_fail_the_webhook_is_disabled_and_a_redelivery_goes_out() {
    let app = TestApp::spawn().await;
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let up = healthy.clone();
    let receiver =
        Receiver::start(move |_, _| (if up.load(std::sync::atomic::Ordering::SeqCst) { 200 } else { 500 }, None)).await;
    let (webhook, _) = create_webhook(&app, &receiver.url(), json!(["*"])).await;
    let settings = WebhookSettings { max_attempts: 2, disable_after: Duration::from_millis(1), ..slow_retries() };
    let worker = Worker::start(app.services.clone(), settings);
    let mut recorded = worker.recorded();
    create_profile(&app, "Ann").await;
    eventually_retried("the delivery is FAILED", &app, &webhook, &mut recorded, || async {
        deliveries(&app, &webhook).await.first().is_some_and(|d| d["status"] == "FAILED")
    })
    .await;
    let log = deliveries(&app, &webhook).await;
    assert_eq!((log[0]["attempts"].clone(), log[0]["lastStatusCode"].clone()), (json!(2), json!(500)));
    assert!(log[0]["lastError"].as_str().is_some_and(|e| e.contains("500")), "{:?}", log[0]);
    let query = "query($id: UUID!) { webhook(id: $id) { isActive disabledReason failingSince } }";
    let state = app.data(query, json!({ "id": webhook })).await["webhook"].clone();
    assert_eq!(state["isActive"], false, "disabled after failing: {state}");
    assert!(state["disabledReason"].as_str().is_some_and(|r| r.contains("failed")), "{state}");

    // Switched on again, a redelivery of the failed one is sent and recorded.
    healthy.store(true, std::sync::atomic::Ordering::SeqCst);
    let update = "mutation($id: UUID!) { updateWebhook(id: $id, input: { isActive: true }) { webhook { isActive disabledReason failingSince } } }";
    let enabled = app.mutate("updateWebhook", update, json!({ "id": webhook })).await;
    assert_eq!(enabled["webhook"], json!({ "isActive": true, "disabledReason": null, "failingSince": null }));
    let redeliver = "mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { delivery { status attempts event { type } } userErrors { field code } } }";
    let queued = app.mutate("redeliverWebhookDelivery", redeliver, json!({ "id": log[0]["id"] })).await;
    assert_eq!(
        queued["delivery"],
        json!({ "status": "PENDING", "attempts": 0, "event": { "type": "profile.created" } })
    );
    let unknown = app.mutate("redeliverWebhookDelivery", redeliver, json!({ "id": "999999" })).await;
    assert_eq!(user_errors(&unknown), vec![("id".to_owned(), "NOT_FOUND".to_owned())]);
    eventually("the redelivery is DELIVERED", &mut recorded, || async {
        deliveries(&app, &webhook).await.first().is_some_and(|d| d["status"] == "DELIVERED")
    })
    .await;
    let statuses: Vec<Value> = deliveries(&app, &webhook).await.iter().map(|d| d["status"].clone()).collect();
    assert_eq!(statuses, vec![json!("DELIVERED"), json!("FAILED")], "newest first, both kept");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_committed_while_no_worker_runs_are_delivered_once_it_starts() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(|_, _| (200, None)).await;
    let mut arrivals = receiver.arrivals();
    let (webhook, _) = create_webhook(&app, &receiver.url(), json!(["*"])).await;
    let worker = Worker::start(app.services.clone(), fast());
    let id = create_profile(&app, "Ann").await;
    eventually("the first is delivered", &mut arrivals, || async { receiver.received().len() == 1 }).await;
    worker.stop().await;
    for n in 0..3 {
        rename(&app, &id, &format!("Ann {n}")).await;
    }
    // A negative assertion: nothing can tell that nothing was sent, so give it time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "nothing is sent while no worker runs");
    let worker = Worker::start(app.services.clone(), fast());
    let mut recorded = worker.recorded();
    eventually("the rest are delivered", &mut recorded, || async {
        let log = deliveries(&app, &webhook).await;
        receiver.received().len() == 4 && log.iter().all(|d| d["status"] == "DELIVERED")
    })
    .await;
    let versions: Vec<Value> = receiver.received().iter().map(|r| r.body["version"].clone()).collect();
    assert_eq!(versions, vec![json!(1), json!(2), json!(3), json!(4)]);
    assert!(deliveries(&app, &webhook).await.iter().all(|d| d["status"] == "DELIVERED" && d["attempts"] == 1));
    worker.stop().await;
}

/// The real binary, killed with SIGKILL while a delivery is in flight: after a
/// restart every event is delivered, each marked DELIVERED once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_delivery_delivers_everything_after_a_restart() {
    let (url, _database) = TestDatabase::create().await;
    let receiver = Receiver::start(|received, seen| {
        // The first attempt of the first event hangs until the process is gone.
        let first = received.body["version"] == 1 && seen == 0;
        (200, first.then(Gate::default))
    })
    .await;
    let mut arrivals = receiver.arrivals();
    let settings = [
        ("PROFILES_WEBHOOK_TIMEOUT", "1s"),
        ("PROFILES_WEBHOOK_RETRY_BASE", "20ms"),
        ("PROFILES_WEBHOOK_POLL", "100ms"),
    ];
    let server = Binary::start(&url, &settings);
    let client = Client(format!("http://127.0.0.1:{}/graphql", server.port));
    let created = client
        .post(&format!(
            r#"mutation {{ createWebhook(input: {{ url: "{}", events: ["*"] }}) {{ webhook {{ id }} }} }}"#,
            receiver.url()
        ))
        .await;
    let webhook = created["data"]["createWebhook"]["webhook"]["id"].as_str().expect("a webhook").to_owned();
    let profile = client.post(r#"mutation { createProfile(input: { firstName: "Ann" }) { profile { id } } }"#).await;
    let id = profile["data"]["createProfile"]["profile"]["id"].as_str().expect("a profile").to_owned();
    eventually("the first delivery is in flight", &mut arrivals, || async { !receiver.received().is_empty() }).await;
    for n in 0..3 {
        client.post(&format!(r#"mutation {{ updateProfile(id: "{id}", input: {{ firstName: "Ann {n}" }}) {{ profile {{ version }} }} }}"#)).await;
    }
    drop(server); // SIGKILL, with the first delivery unanswered.

    let server = Binary::start(&url, &settings);
    let client = Client(format!("http://127.0.0.1:{}/graphql", server.port));
    let query = format!(
        r#"{{ webhook(id: "{webhook}") {{ deliveries {{ nodes {{ status attempts event {{ version }} }} }} }} }}"#
    );
    // The binary tells no one when it records an outcome: the deliveries are looked at
    // again at each request the receiver gets, and at least every 100 ms.
    let (mut arrived, ticker) = (receiver.arrivals(), tokio::sync::watch::Sender::new(0u64));
    let mut tick = ticker.subscribe();
    let ticking = tokio::spawn(async move {
        loop {
            let _ = tokio::time::timeout(Duration::from_millis(100), arrived.changed()).await;
            ticker.send_modify(|n| *n += 1);
        }
    });
    eventually("every delivery is DELIVERED", &mut tick, || async {
        let log = client.post(&query).await;
        let nodes = log["data"]["webhook"]["deliveries"]["nodes"].as_array().cloned().unwrap_or_default();
        nodes.len() == 4 && nodes.iter().all(|d| d["status"] == "DELIVERED")
    })
    .await;
    let mut delivered: HashMap<i64, usize> = HashMap::new();
    for received in receiver.received() {
        *delivered.entry(received.body["version"].as_i64().expect("a version")).or_default() += 1;
    }
    assert_eq!(delivered.keys().copied().collect::<std::collections::BTreeSet<_>>(), (1..=4).collect());
    assert_eq!(delivered[&1], 2, "the one in flight at the kill is sent again (at least once)");
    ticking.abort();
    drop(server);
}

/// A GraphQL client over real HTTP.
struct Client(String);

impl Client {
    async fn post(&self, query: &str) -> Value {
        let body = json!({ "query": query }).to_string();
        let request = reqwest::Client::new().post(&self.0).header("content-type", "application/json").body(body);
        let response = request.send().await.expect("the server answers");
        serde_json::from_slice(&response.bytes().await.expect("a body")).expect("a JSON answer")
    }
}

/// Serves `app` on a real port until the returned sender is dropped.
pub(crate) async fn serve(app: &TestApp) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    use profiles_gateway::app::{Serving, serve_until};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = Serving { connections: Default::default(), grace: Duration::from_secs(1) };
    tokio::spawn(serve_until(app.state.clone(), listener, settings, async move {
        let _ = stopped.await;
    }));
    (address, stop)
}

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws connection, initialised with `token` (if any).
pub(crate) async fn connect(address: SocketAddr, token: Option<&str>) -> Socket {
    let mut request = format!("ws://{address}/graphql").into_client_request().expect("a request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("a header"));
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.expect("a WebSocket");
    assert_eq!(response.headers()["sec-websocket-protocol"], "graphql-transport-ws");
    let payload = token.map_or(json!({}), |t| json!({ "Authorization": format!("Bearer {t}") }));
    socket
        .send(Message::Text(json!({ "type": "connection_init", "payload": payload }).to_string().into()))
        .await
        .expect("sent");
    socket
}

/// The next protocol message (pings answered), or the close frame's code.
pub(crate) async fn next(socket: &mut Socket) -> Result<Value, u16> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next()).await.expect("a message in time");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if value["type"] == "ping" {
                    socket.send(Message::Text(json!({ "type": "pong" }).to_string().into())).await.expect("pong");
                    continue;
                }
                return Ok(value);
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map_or(0, |f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            other => panic!("the connection ended: {other:?}"),
        }
    }
}

async fn subscribe(app: &TestApp, socket: &mut Socket, args: &str) {
    assert_eq!(next(socket).await.expect("an ack")["type"], "connection_ack");
    let mut waiters = app.services.notifier.waiters();
    let query = format!("subscription {{ profileEvents{args} {{ type profileId version changed }} }}");
    let message = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    socket.send(Message::Text(message.to_string().into())).await.expect("sent");
    // The subscription starts at the latest event: told once it has read it and waits.
    let started = tokio::time::timeout(Duration::from_secs(20), waiters.changed()).await;
    assert!(started.is_ok_and(|open| open.is_ok()), "the subscription is set up");
}

async fn events(socket: &mut Socket, count: usize) -> Vec<Value> {
    let mut events = Vec::new();
    while events.len() < count {
        let message = next(socket).await.expect("a message");
        assert_eq!(message["type"], "next", "{message}");
        events.push(message["payload"]["data"]["profileEvents"].clone());
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_subscription_sees_create_update_and_delete_and_needs_a_token() {
    let app = TestApp::spawn_with(Options { auth_required: true, ..Options::default() }).await;
    let (address, _stop) = serve(&app).await;
    let reader = token::create(&app.services, "reader", &[Scope::ProfilesRead]).await.expect("a token").1;
    let writer =
        token::create(&app.services, "writer", &[Scope::ProfilesRead, Scope::ProfilesWrite]).await.expect("a token").1;

    let mut anonymous = connect(address, None).await;
    assert_eq!(next(&mut anonymous).await, Err(4403), "refused without a token");
    let mut wrong = connect(address, Some("pgw_not-a-token")).await;
    assert_eq!(next(&mut wrong).await, Err(4403), "refused with an unknown token");
    // A token without `profiles:read` (every scope implies it, so: none) is refused
    // the subscription itself.
    let scopeless = token::create(&app.services, "scopeless", &[]).await.expect("a token").1;
    let mut unscoped = connect(address, Some(&scopeless)).await;
    assert_eq!(next(&mut unscoped).await.expect("an ack")["type"], "connection_ack");
    let message =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { profileEvents { id } }" } });
    unscoped.send(Message::Text(message.to_string().into())).await.expect("sent");
    let refused = next(&mut unscoped).await.expect("an answer");
    let codes: Vec<Value> = refused["payload"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(refused["payload"]["errors"].as_array().into_iter().flatten())
        .map(|e| e["extensions"]["code"].clone())
        .collect();
    assert_eq!(codes, vec![json!("FORBIDDEN")], "{refused}");

    let mut socket = connect(address, Some(&reader)).await;
    subscribe(&app, &mut socket, "").await;
    let create = r#"mutation { createProfile(input: { firstName: "Ann" }) { profile { id } } }"#;
    let (_, created) = app.graphql_as(Some(&writer), create, json!({})).await;
    let id = created["data"]["createProfile"]["profile"]["id"].as_str().expect("an id").to_owned();
    let update =
        format!(r#"mutation {{ updateProfile(id: "{id}", input: {{ lastName: "Lee" }}) {{ profile {{ id }} }} }}"#);
    app.graphql_as(Some(&writer), &update, json!({})).await;
    let delete = format!(r#"mutation {{ deleteProfile(id: "{id}") {{ profile {{ id }} }} }}"#);
    app.graphql_as(Some(&writer), &delete, json!({})).await;
    let seen = events(&mut socket, 3).await;
    let types: Vec<&str> = seen.iter().map(|e| e["type"].as_str().expect("a type")).collect();
    assert_eq!(types, ["profile.created", "profile.updated", "profile.deleted"]);
    assert!(seen.iter().all(|e| e["profileId"] == id.as_str()));
    assert_eq!(seen[1]["changed"], json!(["full_name", "last_name"]));

    // A filtered subscription, and a query over the socket is refused.
    let mut filtered = connect(address, Some(&reader)).await;
    subscribe(&app, &mut filtered, r#"(types: ["profile.created"])"#).await;
    app.graphql_as(Some(&writer), create, json!({})).await;
    assert_eq!(events(&mut filtered, 1).await[0]["type"], "profile.created");
    let query = json!({ "id": "2", "type": "subscribe", "payload": { "query": "{ tiers { handle } }" } });
    filtered.send(Message::Text(query.to_string().into())).await.expect("sent");
    let refused = next(&mut filtered).await.expect("an answer");
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{refused}");
}

/// Two servers on one PostgreSQL database: each event reaches the receiver once, and
/// a subscription on either sees the changes made through both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_deliver_each_event_once_and_subscribers_see_both() {
    if !on_postgres() {
        eprintln!("replicas share a PostgreSQL database: this test runs with TEST_DATABASE_URL");
        return;
    }
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on_database(&first).await;
    let receiver = Receiver::start(|_, _| (200, None)).await;
    let (webhook, _) = create_webhook(&first, &receiver.url(), json!(["*"])).await;
    let workers = [Worker::start(first.services.clone(), fast()), Worker::start(second.services.clone(), fast())];
    let [mut a, mut b] = [workers[0].recorded(), workers[1].recorded()];
    let (address_a, _stop_a) = serve(&first).await;
    let (address_b, _stop_b) = serve(&second).await;
    let mut on_a = connect(address_a, None).await;
    let mut on_b = connect(address_b, None).await;
    subscribe(&first, &mut on_a, "").await;
    subscribe(&second, &mut on_b, "").await;

    let writes = [&first, &second].into_iter().enumerate().map(|(n, app)| async move {
        for i in 0..10 {
            let id = create_profile(app, &format!("R{n} {i}")).await;
            rename(app, &id, "again").await;
        }
    });
    futures_util::future::join_all(writes).await;
    // Told when either worker records an attempt.
    let told = tokio::sync::watch::Sender::new(());
    let mut either = told.subscribe();
    let telling = tokio::spawn(async move {
        loop {
            tokio::select! {
                Ok(()) = a.changed() => {}
                Ok(()) = b.changed() => {}
                else => break,
            }
            told.send_replace(());
        }
    });
    eventually("40 deliveries are DELIVERED", &mut either, || async {
        let log = deliveries(&first, &webhook).await;
        log.len() == 40 && log.iter().all(|d| d["status"] == "DELIVERED")
    })
    .await;
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for received in receiver.received() {
        *per_event.entry(received.id).or_default() += 1;
    }
    assert_eq!(per_event.len(), 40);
    assert!(per_event.values().all(|n| *n == 1), "each event delivered exactly once: {per_event:?}");
    telling.abort();
    let (seen_a, seen_b) = (events(&mut on_a, 40).await, events(&mut on_b, 40).await);
    assert_eq!(seen_a, seen_b, "both subscribers see all 40, in the same order");
    for worker in workers {
        worker.stop().await;
    }
}

/// Stopping the worker lets a delivery in flight finish and be recorded: it is
/// neither lost nor sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_worker_lets_the_delivery_in_flight_finish() {
    let app = TestApp::spawn().await;
    let gate = Gate::default();
    let held = gate.clone();
    let receiver = Receiver::start(move |_, _| (200, Some(held.clone()))).await;
    let mut arrivals = receiver.arrivals();
    let (webhook, _) = create_webhook(&app, &receiver.url(), json!(["*"])).await;
    let worker = Worker::start(app.services.clone(), fast());
    create_profile(&app, "Ann").await;
    eventually("the delivery is in flight", &mut arrivals, || async { !receiver.received().is_empty() }).await;
    let mut stop = std::pin::pin!(worker.stop());
    assert!(futures_util::poll!(stop.as_mut()).is_pending(), "stopping waits for the delivery in flight");
    gate.open();
    stop.await;
    let log = deliveries(&app, &webhook).await;
    assert_eq!((log[0]["status"].clone(), log[0]["attempts"].clone()), (json!("DELIVERED"), json!(1)));
    assert_eq!(receiver.received().len(), 1);
}

/// Pruning drops events past the retention, but never one still pending delivery,
/// nor a profile's latest (the next event's `changed` compares with it).
#[tokio::test]
async fn pruning_keeps_pending_deliveries_and_each_profiles_latest_event() {
    use profiles_gateway::service::events::delivery::prune;
    let app = TestApp::spawn().await;
    let kept = create_profile(&app, "Ann").await;
    rename(&app, &kept, "Anne").await;
    rename(&app, &kept, "Annie").await;
    // A webhook that nothing delivers to (no worker): its deliveries stay PENDING.
    create_webhook(&app, "http://127.0.0.1:9/hook", json!(["*"])).await;
    let pending = create_profile(&app, "Bo").await;
    rename(&app, &pending, "Bob").await;

    let versions = |profile: String| {
        let app = &app;
        async move {
            let query = "query($p: UUID!) { events(profileId: $p) { nodes { version } } }";
            let data = app.data(query, json!({ "p": profile })).await;
            data["events"]["nodes"].as_array().expect("nodes").iter().map(|n| n["version"].clone()).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        prune(&app.db, Duration::from_secs(3600), app.services.clock.now()).await.expect("pruned"),
        0,
        "nothing is old yet"
    );
    app.services.clock.advance(Duration::from_millis(20));
    assert_eq!(prune(&app.db, Duration::from_millis(1), app.services.clock.now()).await.expect("pruned"), 2);
    assert_eq!(versions(kept.clone()).await, vec![json!(3)], "only the latest of a delivered profile");
    assert_eq!(versions(pending.clone()).await, vec![json!(1), json!(2)], "pending deliveries keep theirs");
    rename(&app, &kept, "Ann").await;
    let changed =
        app.data("query($p: UUID!) { events(profileId: $p) { nodes { changed } } }", json!({ "p": kept })).await;
    assert_eq!(
        changed["events"]["nodes"][1]["changed"],
        json!(["first_name", "full_name"]),
        "compared with the kept one"
    );
}

/// WebSocket connections are bounded (503 beyond `PROFILES_MAX_WEBSOCKETS`), and so are
/// the subscriptions of one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_connections_and_their_subscriptions_are_bounded() {
    let websockets = profiles_gateway::http::WebSocketLimits { max: 1, ..Default::default() };
    let http = profiles_gateway::http::HttpLimits { websockets, ..Default::default() };
    let app = TestApp::spawn_with(Options { http, ..Options::default() }).await;
    let (address, _stop) = serve(&app).await;
    let mut socket = connect(address, None).await;
    assert_eq!(next(&mut socket).await.expect("an ack")["type"], "connection_ack");

    let mut request = format!("ws://{address}/graphql").into_client_request().expect("a request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("a header"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 503),
        other => panic!("a second connection must be refused: {other:?}"),
    }

    for n in 0..21 {
        let query = "subscription { profileEvents { id } }";
        let message = json!({ "id": n.to_string(), "type": "subscribe", "payload": { "query": query } });
        socket.send(Message::Text(message.to_string().into())).await.expect("sent");
    }
    let refused = next(&mut socket).await.expect("an answer");
    assert_eq!(refused["id"], "20", "the 21st is refused: {refused}");
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{refused}");

    // Closing the connection frees its place.
    socket.close(None).await.expect("closed");
    drop(socket);
    // Told when the server lets the connection's place go.
    let freed = tokio::time::timeout(Duration::from_secs(20), app.state.websockets.admitted_place_freed()).await;
    freed.expect("a place is freed in time");
    let mut request = format!("ws://{address}/graphql").into_client_request().expect("a request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("a header"));
    let again = tokio_tungstenite::connect_async(request).await;
    assert!(again.is_ok(), "a place is free again");
}

/// A resolver that knows only the names a test gives it: nothing goes to real DNS.
struct Names(HashMap<&'static str, Vec<IpAddr>>);

impl Names {
    fn with(names: &[(&'static str, &[&str])]) -> Arc<Names> {
        let parse = |addresses: &[&str]| addresses.iter().map(|a| a.parse().expect("an address")).collect();
        Arc::new(Names(names.iter().map(|(name, addresses)| (*name, parse(addresses))).collect()))
    }
}

impl Resolve for Names {
    fn resolve(&self, name: Name) -> Resolving {
        let name = name.as_str().to_owned();
        let found = self.0.get(name.as_str()).cloned();
        Box::pin(async move {
            let addresses = found.ok_or_else(|| format!("{name}: no such name in this test"))?;
            Ok(Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0))) as Addrs)
        })
    }
}

const CREATE: &str =
    "mutation($i: WebhookInput!) { createWebhook(input: $i) { webhook { id } userErrors { field code message } } }";
const UPDATE: &str = "mutation($id: UUID!, $i: WebhookUpdateInput!) { updateWebhook(id: $id, input: $i) { webhook { url } userErrors { field code message } } }";

/// The `userErrors` of creating a webhook at `url`, switched off (were it saved, it
/// would still send nothing).
async fn refusal_of(app: &TestApp, url: &str) -> Vec<(String, String)> {
    let input = json!({ "i": { "url": url, "events": ["*"], "isActive": false } });
    user_errors(&app.mutate("createWebhook", CREATE, input).await)
}

fn invalid_url() -> Vec<(String, String)> {
    vec![("input.url".to_owned(), "INVALID".to_owned())]
}

#[tokio::test]
async fn webhooks_aimed_inside_the_network_are_refused_however_spelled() {
    let app = TestApp::spawn().await;
    for url in [
        // The issue's.
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://2852039166/",
        // Other spellings of the metadata address.
        "https://0xA9FEA9FE/",
        "https://0251.0376.0251.0376/",
        "https://169.254.43518/",
        "https://[::169.254.169.254]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        // Every other kind of address that is not the internet's.
        "https://172.16.0.1/",
        "https://100.64.0.1/",
        "https://0.0.0.0/",
        "https://255.255.255.255/",
        "https://224.0.0.251/",
        "https://192.0.2.10/",
        "https://[::]/",
        "https://[fd12:3456::1]/",
        "https://[fe80::1]/",
        "https://[ff02::1]/",
        "https://[2001:db8::1]/",
        // Names that can only be internal.
        "https://printer.local/",
        "https://router.home.arpa/",
        "https://metadata/",
    ] {
        assert_eq!(refusal_of(&app, url).await, invalid_url(), "{url}");
    }
    let response = app.graphql(CREATE, json!({ "i": { "url": "https://10.0.0.5/", "events": ["*"] } })).await;
    let message = response["data"]["createWebhook"]["userErrors"][0]["message"].as_str().expect("a message");
    assert!(message.contains("10.0.0.5 is a private address"), "{message}");
    assert!(message.contains("PROFILES_WEBHOOK_ALLOW_PRIVATE"), "says how to allow it: {message}");
    assert!(app.data("{ webhooks { id } }", json!({})).await["webhooks"].as_array().expect("a list").is_empty());

    // A public webhook cannot be moved inside either.
    let (id, _) = create_webhook(&app, "https://hooks.example.com/profiles", json!(["*"])).await;
    let moved = app.mutate("updateWebhook", UPDATE, json!({ "id": id, "i": { "url": "https://[fe80::1]/" } })).await;
    assert_eq!(user_errors(&moved), invalid_url());
    let kept = app.data("query($id: UUID!) { webhook(id: $id) { url } }", json!({ "id": id })).await;
    assert_eq!(kept["webhook"]["url"], "https://hooks.example.com/profiles");
}

#[tokio::test]
async fn loopback_targets_are_refused_unless_the_service_listens_on_loopback() {
    // Listening on loopback (the tests' default), a receiver there is fine.
    let local = TestApp::spawn().await;
    for url in ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "https://[::1]/", "https://app.localhost/"] {
        assert_eq!(refusal_of(&local, url).await, vec![], "{url}");
    }
    let webhooks = WebhookSettings { loopback: false, ..WebhookSettings::default() };
    let public = TestApp::spawn_with(Options { webhooks, ..Options::default() }).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "https://127.1/",
        "https://2130706433/",
        "http://localhost:9/hook",
        "https://LOCALHOST./",
        "https://app.localhost/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
    ] {
        assert_eq!(refusal_of(&public, url).await, invalid_url(), "{url}");
    }
}

/// The real binary decides from the address it listens on, as `PROFILES_AUTH=auto`
/// does: on every interface, a loopback receiver is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_loopback_targets_when_it_listens_beyond_loopback() {
    let (url, _database) = TestDatabase::create().await;
    let direct = profiles_gateway::db::connect(&url, Default::default()).await.expect("connect");
    profiles_gateway::db::migrate(&direct).await.expect("migrate");
    let created = crate::helpers::run_binary(&url, &["token", "create", "--name", "ops", "--scopes", "admin"]);
    let token = String::from_utf8(created.stdout).expect("text");
    let token = token.split_whitespace().find(|word| word.starts_with("pgw_")).expect("a token").to_owned();
    let server = Binary::start(&url, &[("PROFILES_LISTEN", "0.0.0.0:0")]);
    let body = json!({ "query": CREATE, "variables": { "i": { "url": "http://127.0.0.1:9/hook", "events": ["*"], "isActive": false } } });
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/graphql", server.port))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the server answers");
    let response: Value = serde_json::from_slice(&response.bytes().await.expect("a body")).expect("JSON");
    assert_eq!(user_errors(&response["data"]["createWebhook"]), invalid_url(), "{response}");
}

#[tokio::test]
async fn credentials_in_a_webhook_url_are_refused_and_a_blank_url_is_required() {
    let app = TestApp::spawn().await;
    for url in ["https://user:secret@example.com/hook", "https://user@example.com/hook", "https://:secret@example.com/"]
    {
        assert_eq!(refusal_of(&app, url).await, invalid_url(), "{url}");
    }
    for url in ["", "   "] {
        assert_eq!(refusal_of(&app, url).await, vec![("input.url".to_owned(), "REQUIRED".to_owned())], "{url:?}");
    }
    assert!(app.data("{ webhooks { id } }", json!({})).await["webhooks"].as_array().expect("a list").is_empty());
    let (id, _) = create_webhook(&app, "https://example.com/hook", json!(["*"])).await;
    for url in ["", "https://user:secret@example.com/hook"] {
        let refused = app.mutate("updateWebhook", UPDATE, json!({ "id": id, "i": { "url": url } })).await;
        let code = if url.is_empty() { "REQUIRED" } else { "INVALID" };
        assert_eq!(user_errors(&refused), vec![("input.url".to_owned(), code.to_owned())], "{url:?}");
    }
    let listed = app.data("{ webhooks { url } }", json!({})).await;
    assert_eq!(listed["webhooks"], json!([{ "url": "https://example.com/hook" }]), "nothing else stored");
}

/// `PROFILES_WEBHOOK_ALLOW_PRIVATE` names networks and hosts that may be targets: such
/// a webhook is saved, and a named host is delivered to whatever it resolves to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allow_list_admits_the_private_targets_it_names() {
    use clap::{CommandFactory, FromArgMatches};
    let command = profiles_gateway::cli::Cli::command().mut_args(|arg| arg.env(None::<&str>));
    let flags =
        ["profiles-gateway", "--webhook-allow-private", "10.0.0.0/8, hooks.internal", "--webhook-allow-http", "true"];
    let matches = command.try_get_matches_from(flags).expect("the flags parse");
    let parsed = profiles_gateway::cli::Cli::from_arg_matches(&matches).expect("the settings").config.webhooks;
    // As on a server listening on every interface: loopback is refused but for the list.
    let webhooks = WebhookSettings { loopback: false, ..parsed };
    let app = TestApp::spawn_with(Options { webhooks: webhooks.clone(), ..Options::default() }).await;
    for url in
        ["https://10.0.0.5/hook", "https://10.200.1.1/", "https://[::ffff:10.0.0.5]/", "https://hooks.internal/x"]
    {
        assert_eq!(refusal_of(&app, url).await, vec![], "{url}");
    }
    for url in ["https://192.168.1.1/hook", "https://other.internal/", "https://127.0.0.1/"] {
        assert_eq!(refusal_of(&app, url).await, invalid_url(), "{url}");
    }

    let receiver = Receiver::start(|_, _| (200, None)).await;
    let url = format!("http://hooks.internal:{}/hook", receiver.address.port());
    let (webhook, _) = create_webhook(&app, &url, json!(["*"])).await;
    let names = Names::with(&[("hooks.internal", &["127.0.0.1"])]);
    let settings = WebhookSettings { allow_private: webhooks.allow_private, loopback: false, ..fast() };
    let worker = Worker::start_resolving(app.services.clone(), settings, names);
    let mut recorded = worker.recorded();
    create_profile(&app, "Ann").await;
    eventually("the delivery is DELIVERED", &mut recorded, || async {
        deliveries(&app, &webhook).await.first().is_some_and(|d| d["status"] == "DELIVERED")
    })
    .await;
    assert_eq!(receiver.received().len(), 1);
    worker.stop().await;
}

/// The first attempt of each of `webhooks`' deliveries, once the worker has recorded
/// them all.
async fn first_attempts(
    app: &TestApp,
    webhooks: &[&str],
    recorded: &mut tokio::sync::watch::Receiver<u64>,
) -> Vec<Value> {
    eventually("every webhook's delivery is attempted", recorded, || async {
        let mut attempted = true;
        for webhook in webhooks {
            attempted &= deliveries(app, webhook).await.first().is_some_and(|d| d["attempts"] == 1);
        }
        attempted
    })
    .await;
    let mut first = Vec::new();
    for webhook in webhooks {
        first.push(deliveries(app, webhook).await[0].clone());
    }
    first
}

/// DNS rebinding: a name checked when the webhook was saved resolves inside at
/// delivery. Every address is checked before a connection is made; the receiver's
/// loopback address comes first, so that were the check missing, the attempt would
/// reach the receiver (and fail the test) rather than leave the machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_resolves_inside_at_delivery_is_refused_before_connecting() {
    let webhooks = WebhookSettings { allow_http: true, ..WebhookSettings::default() };
    let app = TestApp::spawn_with(Options { webhooks, ..Options::default() }).await;
    let receiver = Receiver::start(|_, _| (200, None)).await;
    let port = receiver.address.port();
    let (rebound, _) = create_webhook(&app, &format!("http://hooks.example.com:{port}/hook"), json!(["*"])).await;
    let (metadata, _) = create_webhook(&app, &format!("http://cloud.example.com:{port}/"), json!(["*"])).await;
    let names = Names::with(&[
        ("hooks.example.com", &["127.0.0.1", "10.0.0.5"]),
        ("cloud.example.com", &["127.0.0.1", "::ffff:169.254.169.254"]),
    ]);
    let worker = Worker::start_resolving(app.services.clone(), slow_retries(), names);
    let mut recorded = worker.recorded();
    create_profile(&app, "Ann").await;
    let attempts = first_attempts(&app, &[&rebound, &metadata], &mut recorded).await;
    let expected = [
        "refused: hooks.example.com resolves to 10.0.0.5, a private address",
        "refused: cloud.example.com resolves to ::ffff:169.254.169.254, a link-local address",
    ];
    for (attempt, expected) in attempts.iter().zip(expected) {
        let error = attempt["lastError"].as_str().expect("an error");
        assert!(error.starts_with(expected), "{expected} in {attempt}");
        assert!(attempt["lastStatusCode"].is_null() && attempt["status"] == "PENDING", "{attempt}");
    }
    assert!(receiver.received().is_empty(), "no connection was made");
    worker.stop().await;
}

/// A webhook saved while its target was allowed (the service listened on loopback) is
/// checked again at each delivery: an address in the URL and an address a name
/// resolves to alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_saved_before_are_checked_again_at_delivery() {
    let webhooks = WebhookSettings { allow_http: true, ..WebhookSettings::default() };
    let app = TestApp::spawn_with(Options { webhooks, ..Options::default() }).await;
    let receiver = Receiver::start(|_, _| (200, None)).await;
    let port = receiver.address.port();
    let (literal, _) = create_webhook(&app, &receiver.url(), json!(["*"])).await;
    let (named, _) = create_webhook(&app, &format!("http://hooks.example.com:{port}/hook"), json!(["*"])).await;
    // Now served beyond loopback.
    let settings = WebhookSettings { loopback: false, ..slow_retries() };
    let names = Names::with(&[("hooks.example.com", &["127.0.0.1"])]);
    let worker = Worker::start_resolving(app.services.clone(), settings, names);
    let mut recorded = worker.recorded();
    create_profile(&app, "Ann").await;
    let attempts = first_attempts(&app, &[&literal, &named], &mut recorded).await;
    let expected = [
        "refused: 127.0.0.1 is a loopback address",
        "refused: hooks.example.com resolves to 127.0.0.1, a loopback address",
    ];
    for (attempt, expected) in attempts.iter().zip(expected) {
        let error = attempt["lastError"].as_str().expect("an error");
        assert!(error.starts_with(expected), "{expected} in {attempt}");
    }
    assert!(receiver.received().is_empty(), "no connection was made");
    worker.stop().await;
}

/// Four webhooks whose receivers take each request and never answer, and a healthy
/// one, on the same events: each hanging webhook holds only its share of the slots (two
/// of sixteen), so the healthy one receives every event while all eight hanging
/// attempts are still in flight (the timeout, five minutes, frees none meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_that_never_answer_hold_only_their_share_and_a_healthy_one_gets_every_event() {
    const EVENTS: usize = 20;
    let app = TestApp::spawn().await;
    // One gate for every hanging request, opened at the end so that the worker can stop.
    let gate = Gate::default();
    let mut hanging = Vec::new();
    for _ in 0..4 {
        let held = gate.clone();
        let receiver = Receiver::start(move |_, _| (200, Some(held.clone()))).await;
        create_webhook(&app, &receiver.url(), json!(["*"])).await;
        hanging.push(receiver);
    }
    let healthy = Receiver::start(|_, _| (204, None)).await;
    let (webhook, _) = create_webhook(&app, &healthy.url(), json!(["*"])).await;
    let settings = WebhookSettings { timeout: Duration::from_secs(300), concurrency: 16, ..fast() };
    let worker = Worker::start(app.services.clone(), settings);
    let mut recorded = worker.recorded();
    for n in 0..EVENTS {
        create_profile(&app, &format!("P{n}")).await;
    }

    eventually("every delivery to the healthy receiver is DELIVERED", &mut recorded, || async {
        let log = deliveries(&app, &webhook).await;
        log.len() == EVENTS && log.iter().all(|d| d["status"] == "DELIVERED")
    })
    .await;
    assert_eq!(healthy.received().len(), EVENTS, "each once");
    for (n, receiver) in hanging.iter().enumerate() {
        let mut arrivals = receiver.arrivals();
        eventually(&format!("hanging receiver {n} holds its share"), &mut arrivals, || async {
            receiver.received().len() == 2
        })
        .await;
    }
    // None of the hanging attempts has ended: no outcome is recorded for any of them.
    let query = "{ webhooks { id deliveries(first: 100) { nodes { attempts } } } }";
    let hooks = app.data(query, json!({})).await["webhooks"].clone();
    let held: Vec<Value> = hooks
        .as_array()
        .expect("webhooks")
        .iter()
        .filter(|hook| hook["id"] != webhook.as_str())
        .flat_map(|hook| hook["deliveries"]["nodes"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(held.len(), 4 * EVENTS, "every event queued for each hanging webhook");
    assert!(held.iter().all(|d| d["attempts"] == 0), "every hanging attempt is still in flight");
    assert!(hanging.iter().all(|receiver| receiver.received().len() == 2), "no more than the share each");
    gate.open();
    worker.stop().await;
}

/// A failing webhook backs off: after a failure, its deliveries never attempted wait
/// (as long as a retry would: at least 24 s with a 30 s retry base) while its retry
/// goes when due, and a success ends the wait. Every event fails its first attempt
/// here: with five queued at once and a share of one, only the first is sent before
/// the test's clock moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_holds_its_new_deliveries_back_for_a_retry_delay() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(|_, seen| (if seen == 0 { 500 } else { 200 }, None)).await;
    let (webhook, _) = create_webhook(&app, &receiver.url(), json!(["*"])).await;
    let settings = slow_retries();
    assert_eq!(settings.concurrency, 8, "a share of one delivery at a time");
    let worker = Worker::start(app.services.clone(), settings);
    let mut recorded = worker.recorded();
    for name in ["A", "B", "C", "D", "E"] {
        create_profile(&app, name).await;
    }
    eventually_retried("every delivery is DELIVERED", &app, &webhook, &mut recorded, || async {
        let log = deliveries(&app, &webhook).await;
        log.len() == 5 && log.iter().all(|d| d["status"] == "DELIVERED")
    })
    .await;
    let received = receiver.received();
    assert_eq!(received.len(), 10, "two attempts each");
    let first = received[0].timestamp;
    let before_any_wait: Vec<&str> =
        received.iter().filter(|r| r.timestamp < first + 20).map(|r| r.id.as_str()).collect();
    assert_eq!(before_any_wait, vec![received[0].id.as_str()], "only the first was sent before the clock moved");
    worker.stop().await;
}

/// A webhook saved with credentials before they were refused is refused at delivery
/// too: nothing is sent (reqwest would send them as Basic auth) until its url changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_saved_before_are_refused_at_delivery() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(|_, _| (200, None)).await;
    let (webhook, _) = create_webhook(&app, &receiver.url(), json!(["*"])).await;
    let with_credentials = receiver.url().replacen("http://", "http://user:secret@", 1);
    let id: uuid::Uuid = webhook.parse().expect("a UUID");
    let update = sea_orm::Statement::from_sql_and_values(
        sea_orm::ConnectionTrait::get_database_backend(&app.db),
        if on_postgres() {
            "UPDATE webhook SET url = $1 WHERE id = $2"
        } else {
            "UPDATE webhook SET url = ? WHERE id = ?"
        },
        [with_credentials.into(), id.into()],
    );
    sea_orm::ConnectionTrait::execute_raw(&app.db, update).await.expect("the url stored as an older version stored it");
    let worker = Worker::start(app.services.clone(), slow_retries());
    let mut recorded = worker.recorded();
    create_profile(&app, "Ann").await;
    let attempts = first_attempts(&app, &[&webhook], &mut recorded).await;
    let error = attempts[0]["lastError"].as_str().expect("an error");
    assert!(error.starts_with("refused: must not hold a user name or password"), "{}", attempts[0]);
    assert!(receiver.received().is_empty(), "nothing was sent");
    worker.stop().await;
}
