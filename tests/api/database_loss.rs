//! Losing PostgreSQL: readiness turns 503, requests fail fast with
//! SERVICE_UNAVAILABLE, and the service recovers by itself. The database is cut by a
//! TCP proxy between the app and the server, never by stopping the shared server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let cut = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (is_cut, live) = (cut.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if is_cut.load(Ordering::SeqCst) {
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
        Proxy { port, cut, connections }
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
    let started = Instant::now();
    assert_eq!(ready(&app).await, StatusCode::SERVICE_UNAVAILABLE);
    let response = app.graphql(QUERY, json!({})).await;
    assert_eq!(error_codes(&response), vec!["SERVICE_UNAVAILABLE"], "{response}");
    assert!(!response.to_string().to_lowercase().contains("connection refused"), "no driver text: {response}");
    assert!(started.elapsed() < Duration::from_secs(6), "failed fast: {:?}", started.elapsed());

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = app.graphql(QUERY, json!({})).await;
        if response == json!({ "data": { "tiers": [] } }) && ready(&app).await == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "not recovered within 20 s: {response}");
        tokio::time::sleep(Duration::from_millis(200)).await;
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
    let started = Instant::now();
    let gave_up = profiles_gateway::db::connect_with_retry(&url, quick_pool(), Duration::from_secs(1)).await;
    assert!(gave_up.is_err(), "a database that stays down is an error after the wait");

    let restorer = proxy.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        restorer.restore();
    });
    let started_again = Instant::now();
    let db = profiles_gateway::db::connect_with_retry(&url, quick_pool(), Duration::from_secs(30))
        .await
        .expect("connects once it is back");
    assert!(started_again.elapsed() >= Duration::from_millis(1500), "it waited for the database");
    db.ping().await.expect("the pool answers");
    assert!(started.elapsed() < Duration::from_secs(30));
}
