//! Losing PostgreSQL: readiness turns 503, requests fail fast with
//! SERVICE_UNAVAILABLE, and the service recovers by itself. The database is cut by a
//! TCP proxy between the app and the server, never by stopping the shared server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use profiles_gateway::db::PoolSettings;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::helpers::{Options, Rewrite, TestApp, error_codes, on_postgres};

/// A TCP proxy to PostgreSQL that can be cut (live connections dropped, new ones
/// refused) and restored.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    /// Connections dropped while cut, counted, so a test can wait for them.
    refused: tokio::sync::watch::Sender<usize>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let cut = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let refused = tokio::sync::watch::Sender::new(0);
        let (is_cut, live, count) = (cut.clone(), connections.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if is_cut.load(Ordering::SeqCst) {
                    count.send_modify(|n| *n += 1);
                    continue; // dropped: the client sees the connection closed
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                live.lock().expect("connections").push(task.abort_handle());
            }
        });
        Proxy { port, cut, connections, refused }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().expect("connections").drain(..) {
            connection.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    /// `url` with this proxy's port.
    fn rewrite(port: u16) -> Rewrite {
        Arc::new(move |url: &str| {
            let mut url = url::Url::parse(url).expect("a database URL");
            url.set_port(Some(port)).expect("a port can be set");
            url.to_string()
        })
    }
}

fn upstream() -> SocketAddr {
    let url = url::Url::parse(&std::env::var("TEST_DATABASE_URL").expect("PostgreSQL")).expect("a URL");
    let host = url.host_str().unwrap_or("127.0.0.1").replace("localhost", "127.0.0.1");
    format!("{host}:{}", url.port().unwrap_or(5432)).parse().expect("a socket address")
}

fn quick_pool() -> PoolSettings {
    PoolSettings { max_connections: 3, acquire_timeout: Duration::from_secs(1), ..PoolSettings::default() }
}

async fn ready(app: &TestApp) -> StatusCode {
    app.send(Request::get("/readyz").body(Body::empty()).expect("request")).await.0
}

const QUERY: &str = "{ tiers { handle } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_database_is_service_unavailable_and_the_service_recovers() {
    if !on_postgres() {
        eprintln!("the database-loss test runs on PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    let proxy = Proxy::start(upstream()).await;
    let app = TestApp::spawn_with(Options {
        pool: quick_pool(),
        via: Some(Proxy::rewrite(proxy.port)),
        ..Options::default()
    })
    .await;
    assert_eq!(app.graphql(QUERY, json!({})).await, json!({ "data": { "tiers": [] } }));
    assert_eq!(ready(&app).await, StatusCode::OK);

    proxy.cut();
    assert_eq!(ready(&app).await, StatusCode::SERVICE_UNAVAILABLE);
    // Within the acquire timeout (1 s here): the answer itself shows it did not hang.
    let response = app.graphql(QUERY, json!({})).await;
    assert_eq!(error_codes(&response), vec!["SERVICE_UNAVAILABLE"], "{response}");
    assert!(!response.to_string().to_lowercase().contains("connection refused"), "no driver text: {response}");

    // Back: the pool reconnects on demand. Each failed attempt takes its own acquire
    // timeout, so the loop needs no sleep; it gives up after 20 attempts.
    proxy.restore();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let response = app.graphql(QUERY, json!({})).await;
        if response == json!({ "data": { "tiers": [] } }) && ready(&app).await == StatusCode::OK {
            break;
        }
        assert!(attempts < 20, "not recovered after {attempts} attempts: {response}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_down_at_start_is_retried_until_it_answers() {
    if !on_postgres() {
        eprintln!("the start-up retry test runs on PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    let proxy = Arc::new(Proxy::start(upstream()).await);
    let url = Proxy::rewrite(proxy.port)(&std::env::var("TEST_DATABASE_URL").expect("PostgreSQL"));
    proxy.cut();
    let gave_up = profiles_gateway::db::connect_with_retry(&url, quick_pool(), Duration::from_secs(1)).await;
    assert!(gave_up.is_err(), "a database that stays down is an error after the wait");

    // The database comes back once the retries have been refused twice.
    let restorer = proxy.clone();
    let mut refused = proxy.refused.subscribe();
    let seen = *refused.borrow();
    tokio::spawn(async move {
        let _ = refused.wait_for(|n| *n >= seen + 2).await.map(|_| ());
        restorer.restore();
    });
    let db = profiles_gateway::db::connect_with_retry(&url, quick_pool(), Duration::from_secs(60))
        .await
        .expect("connects once it is back");
    assert!(*proxy.refused.borrow() >= seen + 2, "it kept retrying while the database was down");
    db.ping().await.expect("the pool answers");
}

/// The value of a counter in `/metrics` (0 when it has no series yet).
async fn counter(app: &TestApp, name: &str) -> f64 {
    let (_, _, text) = app.scrape().await;
    text.lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn terminated_backends_are_retried_or_service_unavailable_never_internal() {
    if !on_postgres() {
        eprintln!("the terminated-backend test runs on PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    let app = Arc::new(TestApp::spawn().await);
    for n in 0..5 {
        let input = json!({ "firstName": format!("K{n}"), "tags": ["a", "b"] });
        app.data(
            "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id } } }",
            json!({ "i": input }),
        )
        .await;
    }
    let retries_before = counter(&app, "graphql_read_retries_total").await;
    // Another session on the same database terminates every other backend, over and
    // over, as a failover or `pg_terminate_backend` would, while reads and writes run:
    // once every `KILL_EVERY` requests served (told by the workers, not by a timer).
    const KILL_EVERY: usize = 10;
    let served = Arc::new(tokio::sync::watch::Sender::new(0usize));
    let mut progress = served.subscribe();
    let killer =
        profiles_gateway::db::connect(&app.url, PoolSettings { max_connections: 1, ..PoolSettings::default() })
            .await
            .expect("a connection");
    let kills = tokio::spawn(async move {
        let terminate = sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        );
        let (mut killed, mut next) = (0i64, 0usize);
        // Until every worker is done (and has dropped its sender).
        while progress.wait_for(|n| *n >= next).await.is_ok() {
            use sea_orm::ConnectionTrait;
            if let Ok(Some(row)) = killer.query_one_raw(terminate.clone()).await {
                killed += row.try_get::<i64>("", "n").unwrap_or(0);
            }
            next = *progress.borrow() + KILL_EVERY;
        }
        killed
    });
    let workers: Vec<_> = (0..6)
        .map(|worker| {
            let (app, served) = (app.clone(), served.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for n in 0..60 {
                    let response = if worker == 0 {
                        let input = json!({ "firstName": format!("W{n}") });
                        app.graphql(
                            "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id } } }",
                            json!({ "i": input }),
                        )
                        .await
                    } else {
                        app.graphql(
                            "{ profiles(first: 5) { totalCount nodes { id tags { handle } addresses { id } } } }",
                            json!({}),
                        )
                        .await
                    };
                    outcomes.push((worker == 0, response));
                    served.send_modify(|n| *n += 1);
                }
                outcomes
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    drop(served);
    for worker in workers {
        outcomes.extend(worker.await.expect("the worker finishes"));
    }
    let killed = kills.await.expect("the killer finishes");
    assert!(killed > 0, "backends were terminated");
    let mut failed_reads = 0;
    for (write, response) in &outcomes {
        let codes = error_codes(response);
        assert!(codes.iter().all(|c| c == "SERVICE_UNAVAILABLE"), "write {write}: {response}");
        failed_reads += usize::from(!write && !codes.is_empty());
    }
    let reads = outcomes.iter().filter(|(write, _)| !write).count();
    let retried = counter(&app, "graphql_read_retries_total").await - retries_before;
    eprintln!("{killed} backends terminated; {failed_reads} of {reads} reads failed; {retried} retried");
    assert!(retried > 0.0, "reads that lost their connection were run again");
    // Killing every backend every 10 requests is far harsher than a failover; still,
    // most reads get through on their second connection.
    assert!(failed_reads * 2 < reads, "most reads get through: {failed_reads} of {reads} failed");
}
