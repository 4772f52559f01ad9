//! Benchmark of finding profiles on PostgreSQL with 100,000 seeded profiles.
//!
//! `cargo bench --bench list` (or `BENCH_DATABASE_URL=postgres://… BENCH_PROFILES=N`).
//! It creates the database if needed, seeds it once (`seed --seed 7`), then runs each
//! case through the real schema (in process, no HTTP) 20 times and prints the median,
//! with the plan PostgreSQL chose for each SQL statement the case ran (`EXPLAIN` of the
//! exact statements, captured through SeaORM's metric callback). A plan that reads or
//! sorts the whole `profile` table is flagged.
// A benchmark `expect`s what it sets up.
#![allow(clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use profiles_gateway::graphql::SchemaOptions;
use profiles_gateway::graphql::loaders::Loaders;
use profiles_gateway::http::AppState;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

const RUNS: usize = 20;

struct Bench {
    state: AppState,
    db: DatabaseConnection,
    statements: Arc<Mutex<Vec<String>>>,
}

impl Bench {
    async fn run(&self, query: &str, variables: Value) -> Value {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables))
            .data(Loaders::new(&self.db))
            .data(profiles_gateway::auth::Caller::anyone());
        let response = self.state.schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        response.data.into_json().expect("JSON data")
    }

    /// Median time of `RUNS` runs, and the statements of the last one.
    async fn measure(&self, query: &str, variables: &Value) -> (Duration, Vec<String>) {
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            self.statements.lock().expect("log").clear();
            let started = Instant::now();
            self.run(query, variables.clone()).await;
            times.push(started.elapsed());
        }
        times.sort();
        (times[RUNS / 2], self.statements.lock().expect("log").clone())
    }

    /// The plan of each statement, in one line: the scans and sorts it uses.
    async fn plans(&self, statements: &[String]) -> String {
        let mut summaries = Vec::new();
        for sql in statements {
            let explain = Statement::from_string(self.db.get_database_backend(), format!("EXPLAIN {sql}"));
            let rows = self.db.query_all_raw(explain).await.expect("EXPLAIN");
            let lines: Vec<String> =
                rows.iter().filter_map(|row| row.try_get::<String>("", "QUERY PLAN").ok()).collect();
            let mut steps: Vec<String> = lines
                .iter()
                .map(|line| line.trim().trim_start_matches("->").trim())
                .filter(|line| line.contains("Scan") || line.starts_with("Sort") || line.starts_with("Limit"))
                .map(|line| line.split("  (").next().unwrap_or(line).to_owned())
                .collect();
            steps.dedup();
            let whole_table = lines.iter().any(|l| l.contains("Seq Scan on profile "));
            summaries.push(format!(
                "{}{}",
                if whole_table { "**reads all of `profile`**: " } else { "" },
                steps.join(" → ")
            ));
        }
        summaries.join("; ")
    }
}

async fn setup() -> Bench {
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/profiles_bench".to_owned());
    let profiles: u64 = std::env::var("BENCH_PROFILES").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let (server, name) = url.rsplit_once('/').expect("a database URL");
    let admin = sea_orm::Database::connect(format!("{server}/postgres")).await.expect("PostgreSQL answers");
    let exists = admin
        .query_one_raw(Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        ))
        .await
        .expect("query")
        .is_some();
    if !exists {
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create the database");
    }
    let mut db = profiles_gateway::db::connect(&url, Default::default()).await.expect("connect");
    let statements = Arc::new(Mutex::new(Vec::new()));
    let log = statements.clone();
    db.set_metric_callback(move |info| {
        if let Ok(mut log) = log.lock() {
            log.push(info.statement.to_string());
        }
    });
    profiles_gateway::db::migrate(&db).await.expect("migrate");
    let count = profiles_gateway::service::profiles::filter::count(
        &db,
        profiles_gateway::service::profiles::filter::Filter::everything(),
    )
    .await
    .expect("count");
    if count < profiles {
        eprintln!("seeding {} profiles…", profiles - count);
        let started = Instant::now();
        let services = profiles_gateway::service::runtime::Services::new(db.clone(), Default::default());
        profiles_gateway::seed::seed(&services, (profiles - count) as usize, 7).await.expect("seed");
        eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    }
    db.execute_unprepared("ANALYZE").await.expect("analyze");
    let state = AppState::new(db.clone(), SchemaOptions::default(), profiles_gateway::telemetry::install_metrics());
    Bench { state, db, statements }
}

const PAGE: &str =
    "query($orderBy: ProfileOrder, $after: String, $filter: ProfileFilter, $search: String, $first: Int) {
  profiles(orderBy: $orderBy, after: $after, filter: $filter, search: $search, first: $first) {
    edges { cursor node { id firstName lastName email nextBirthday } }
    pageInfo { endCursor hasNextPage }
  }
}";

#[tokio::main]
async fn main() {
    let bench = setup().await;
    let total = bench.run("{ profiles { totalCount } }", json!({})).await["profiles"]["totalCount"].clone();
    println!("{total} visible profiles; each figure is the median of {RUNS} runs of a 50-profile page.\n");
    println!("| case | median | statements | plan |");
    println!("|---|---|---|---|");
    let row = |case: &str, time: Duration, statements: &[String], plan: String| {
        println!("| {case} | {:.1} ms | {} | {plan} |", time.as_secs_f64() * 1000.0, statements.len());
    };

    for field in ["CREATED_AT", "UPDATED_AT", "FIRST_NAME", "LAST_NAME", "EMAIL", "NEXT_BIRTHDAY"] {
        for direction in ["ASC", "DESC"] {
            let order = json!({ "field": field, "direction": direction });
            let first = json!({ "orderBy": order, "first": 50 });
            let (time, statements) = bench.measure(PAGE, &first).await;
            row(&format!("`{field} {direction}`, first page"), time, &statements, bench.plans(&statements).await);
            // A cursor half-way down the list, reached by walking it.
            let mut after = Value::Null;
            let mut seen = 0;
            while seen < 50_000 {
                let page = bench.run(PAGE, json!({ "orderBy": order, "first": 250, "after": after })).await;
                after = page["profiles"]["pageInfo"]["endCursor"].clone();
                seen += 250;
                if page["profiles"]["pageInfo"]["hasNextPage"] != json!(true) {
                    break;
                }
            }
            let deep = json!({ "orderBy": order, "first": 50, "after": after });
            let (time, statements) = bench.measure(PAGE, &deep).await;
            row(
                &format!("`{field} {direction}`, page after 50,000"),
                time,
                &statements,
                bench.plans(&statements).await,
            );
        }
    }

    let within =
        json!({ "filter": { "birthdayWithinDays": 14 }, "orderBy": { "field": "NEXT_BIRTHDAY" }, "first": 50 });
    let (time, statements) = bench.measure(PAGE, &within).await;
    row("`birthdayWithinDays: 14`, by next birthday", time, &statements, bench.plans(&statements).await);
    let tagged = json!({ "filter": { "tags": ["eco"], "tierHandle": "gold" }, "first": 50 });
    let (time, statements) = bench.measure(PAGE, &tagged).await;
    row("`tags: [eco], tierHandle: gold`", time, &statements, bench.plans(&statements).await);
    // Selective and broad terms: a name (about 1 in 24 first names), a full name, an
    // email, a phone prefix matching about a thousand profiles, a single letter.
    for search in ["mia", "olivia smi", "noah.w", "0412 100 1", "a"] {
        let (time, statements) = bench.measure(PAGE, &json!({ "search": search, "first": 50 })).await;
        row(&format!("`search: \"{search}\"`"), time, &statements, bench.plans(&statements).await);
    }

    // Keys of a profile in the middle of the table.
    let middle = bench
        .run(
            "query { profiles(first: 1, filter: { hasEmail: true, hasMobilePhone: true, identityHandle: \"shopify\", createdAt: { from: \"2023-01-01T00:00:00Z\" } }) {
               nodes { email mobilePhone externalId identities { handle identifier } } } }",
            json!({}),
        )
        .await["profiles"]["nodes"][0]
        .clone();
    let by = "query($key: ProfileKey!) { profileBy(key: $key) { id } }";
    for (kind, key) in [
        ("email", json!({ "email": middle["email"].as_str().unwrap_or_default().to_uppercase() })),
        ("mobilePhone", json!({ "mobilePhone": middle["mobilePhone"] })),
        ("externalId", json!({ "externalId": middle["externalId"] })),
        ("identity", json!({ "identity": middle["identities"][0] })),
    ] {
        let (time, statements) = bench.measure(by, &json!({ "key": key })).await;
        row(&format!("`profileBy({kind})`"), time, &statements, bench.plans(&statements).await);
    }
}
