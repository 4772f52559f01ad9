//! `TestApp::spawn()`: a migrated database of its own and the app's router over it.
//!
//! Without `TEST_DATABASE_URL` the database is a SQLite file in a temporary folder.
//! With `TEST_DATABASE_URL=postgres://…` a new database is created on that server and
//! dropped when the test ends; a server that cannot be reached fails the test.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use profiles_gateway::graphql::{Clock, SchemaOptions};
use profiles_gateway::http::{AppState, router};
use profiles_gateway::service::runtime::Services;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The date tests treat as today.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 12, 7).expect("a real date")
}

pub struct TestApp {
    pub router: Router,
    /// The state the router serves (to serve it on a real listener).
    pub state: AppState,
    pub db: DatabaseConnection,
    /// The app's services: its database, its clock (tests advance it) and its notifier
    /// of committed events (tests wait on it).
    pub services: Services,
    /// The URL of the test's database (straight to it, not through `Options::via`).
    pub url: String,
    statements: Arc<Mutex<Vec<String>>>,
    _database: Option<TestDatabase>,
}

/// A database of a test's own, dropped with this value.
pub enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { server, name } = self {
            let (server, database) = (server.clone(), name.clone());
            // Drop runs outside async code: use a runtime of our own on another thread.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(async {
                    let admin = sea_orm::Database::connect(server.as_str()).await?;
                    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)")).await?;
                    admin.close().await
                })?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test database {name}");
            }
        }
    }
}

impl TestDatabase {
    /// An empty database (not migrated) and its URL: a SQLite file in a temporary
    /// folder, or a new database on the `TEST_DATABASE_URL` server.
    pub async fn create() -> (String, TestDatabase) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(server) if !server.is_empty() => {
                let name = format!("pgw_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(server.as_str())
                    .await
                    .expect("TEST_DATABASE_URL is set but PostgreSQL cannot be reached");
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
                admin.close().await.expect("close admin connection");
                (with_database(&server, &name), TestDatabase::Postgres { server, name })
            }
            _ => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                (url, TestDatabase::Sqlite(dir))
            }
        }
    }
}

/// `postgres://user@host/db` → (`postgres://user@host/new`, same with `/postgres`).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// A rewrite of a database URL.
pub type Rewrite = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// How a test app differs from the default one.
#[derive(Clone)]
pub struct Options {
    pub today: NaiveDate,
    pub limits: profiles_gateway::graphql::Limits,
    pub http: profiles_gateway::http::HttpLimits,
    pub auth_required: bool,
    pub pool: profiles_gateway::db::PoolSettings,
    /// The webhook settings the mutations check URLs with.
    pub webhooks: profiles_gateway::service::events::webhooks::WebhookSettings,
    /// Rewrites the database URL the app (and `app.db`) connects with, e.g. through a
    /// proxy; migrations go straight to the database.
    pub via: Option<Rewrite>,
    /// Which documents run (persisted documents).
    pub documents: profiles_gateway::graphql::persisted::DocumentSettings,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            today: today(),
            limits: Default::default(),
            http: Default::default(),
            auth_required: false,
            pool: profiles_gateway::db::PoolSettings { max_connections: 5, ..Default::default() },
            webhooks: Default::default(),
            via: None,
            documents: Default::default(),
        }
    }
}

/// Whether the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

impl TestApp {
    /// An app whose "today" is [`today`].
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Options::default()).await
    }

    /// An app whose "today" is `today`.
    pub async fn spawn_on(today: NaiveDate) -> TestApp {
        TestApp::spawn_with(Options { today, ..Options::default() }).await
    }

    /// An app configured by `options`.
    pub async fn spawn_with(options: Options) -> TestApp {
        let (url, database) = TestDatabase::create().await;
        let direct = profiles_gateway::db::connect(&url, options.pool).await.expect("connect to the test database");
        profiles_gateway::db::migrate(&direct).await.expect("migrate the test database");
        TestApp::over(url, Some(database), options).await
    }

    /// A second app (a replica) over `other`'s database, which `other` keeps.
    pub async fn spawn_on_database(other: &TestApp) -> TestApp {
        TestApp::over(other.url.clone(), None, Options::default()).await
    }

    async fn over(url: String, database: Option<TestDatabase>, options: Options) -> TestApp {
        let direct_url = url.clone();
        let url = options.via.as_ref().map_or(url.clone(), |via| via(&url));
        let mut db = profiles_gateway::db::connect(&url, options.pool).await.expect("connect to the test database");
        // Set before the connection is cloned into the schema and loaders: a clone made before it would not report.
        let statements = Arc::new(Mutex::new(Vec::new()));
        let log = statements.clone();
        db.set_metric_callback(move |info| {
            profiles_gateway::telemetry::record_statement(info);
            if let Ok(mut log) = log.lock() {
                log.push(info.statement.to_string());
            }
        });
        let schema = SchemaOptions {
            clock: Clock::with_today(options.today),
            limits: options.limits,
            webhooks: options.webhooks,
            ..SchemaOptions::default()
        };
        let metrics = profiles_gateway::telemetry::install_metrics();
        let state = AppState::new(db.clone(), schema, metrics)
            .with_auth(options.auth_required)
            .with_http(options.http)
            .with_documents(&options.documents)
            .await
            .expect("the documents' manifest loads");
        let router = router(state.clone());
        let services = state.services.clone();
        profiles_gateway::service::one_statement::decide(&services).await.expect("the writes decided");
        let app = TestApp { router, state, db, services, url: direct_url, statements, _database: database };
        app.reset_statements();
        app
    }

    /// Forgets the statements counted so far.
    pub fn reset_statements(&self) {
        self.statements.lock().expect("statement log").clear();
    }

    /// The SQL statements run since the last reset.
    pub fn statements(&self) -> Vec<String> {
        self.statements.lock().expect("statement log").clone()
    }

    /// Sends a request to the router and returns its status and body.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("a readable body").to_bytes().to_vec();
        (status, headers, body)
    }

    /// GETs `/metrics` from the metrics listener's router (the main router has none).
    pub async fn scrape(&self) -> (StatusCode, axum::http::HeaderMap, String) {
        let router = profiles_gateway::http::prometheus::router(self.services.clone(), self.state.metrics.clone());
        let request = Request::get("/metrics").body(Body::empty()).expect("a request");
        let response = router.oneshot(request).await.expect("the metrics router answers");
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.into_body().collect().await.expect("a readable body").to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// POSTs a GraphQL operation and returns the whole JSON response.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(None, query, variables).await.1
    }

    /// POSTs a GraphQL operation with `Authorization: Bearer token`; returns the status
    /// and the JSON response.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> (StatusCode, Value) {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let (status, _, body) = self.send(request.body(Body::from(body)).expect("a valid request")).await;
        (status, serde_json::from_slice(&body).expect("a JSON response"))
    }

    /// Like [`graphql`](Self::graphql), but fails the test on any error and returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
        response["data"].clone()
    }
}

/// The `extensions.code` of each error of a response.
pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>").to_owned()).collect())
        .unwrap_or_default()
}

/// Tables of the model, for [`TestApp::row_counts`].
const TABLES: [&str; 14] = [
    "profile",
    "address",
    "profile_date",
    "tag",
    "profile_tag",
    "status",
    "profile_status",
    "identity",
    "comms",
    "appearance",
    "tier",
    "location",
    "profile_event",
    "profile_merge",
];

impl TestApp {
    /// The number of rows of every table, to show that a failed mutation wrote nothing.
    pub async fn row_counts(&self) -> Vec<(&'static str, i64)> {
        let mut counts = Vec::new();
        for table in TABLES {
            let statement = sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            );
            let row = self.db.query_one_raw(statement).await.expect("count rows").expect("a count");
            counts.push((table, row.try_get::<i64>("", "n").expect("an integer")));
        }
        counts
    }

    /// Runs the real binary over this app's database with `args`; its output.
    pub fn binary(&self, args: &[&str]) -> std::process::Output {
        run_binary(&self.url, args)
    }

    /// Runs a mutation whose root field is `field` and returns its payload.
    pub async fn mutate(&self, field: &str, query: &str, variables: Value) -> Value {
        self.data(query, variables).await[field].clone()
    }
}

/// Runs the real binary over the database at `url` with `args`; its output.
pub fn run_binary(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

/// Runs the binary with `args` on `url`, its output into pipes, with neither `RUST_LOG`
/// nor `NO_COLOR` unless `settings` gives them.
pub fn run_binary_with(url: &str, args: &[&str], settings: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .envs(settings.iter().copied())
        .output()
        .expect("the binary runs")
}

/// `userErrors` of a payload as `(path joined by '.', code)` pairs.
pub fn user_errors(payload: &Value) -> Vec<(String, String)> {
    payload["userErrors"]
        .as_array()
        .expect("a payload with userErrors")
        .iter()
        .map(|e| {
            let path: Vec<&str> = e["field"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            (path.join("."), e["code"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// Creates a profile from `input` (a `ProfileCreateInput`) and returns its id; fails
/// the test on any user error.
pub async fn create_profile(app: &TestApp, input: Value) -> String {
    let payload = app
        .mutate(
            "createProfile",
            "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id } userErrors { field code } } }",
            json!({ "i": input }),
        )
        .await;
    assert_eq!(user_errors(&payload), vec![], "{input}");
    payload["profile"]["id"].as_str().expect("an id").to_owned()
}
