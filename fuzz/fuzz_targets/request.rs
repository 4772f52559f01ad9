//! Fuzzes the whole request path in process: HTTP handling, JSON decoding, the
//! nesting bound, GraphQL parsing, validation, the guards and execution, over a seeded
//! SQLite database. The first byte picks how the rest is sent:
//!
//! - 0: as a POST body, as it is;
//! - 1: as a GET query string;
//! - 2: as the `query` of a POST (text, lossily UTF-8);
//! - 3: as the `variables` of a fixed query that takes every kind of argument.
//!
//! Whatever arrives, the answer must be clear: no panic, no 5xx, JSON whenever it says
//! so, and every GraphQL error with a code other than INTERNAL_SERVER_ERROR.

#![no_main]

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Target {
    runtime: tokio::runtime::Runtime,
    router: Router,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let path = std::env::temp_dir().join(format!("pgw-fuzz-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let router = runtime.block_on(async {
            let settings = profiles_gateway::db::PoolSettings::default();
            let db = profiles_gateway::db::connect(&url, settings).await.expect("a database");
            profiles_gateway::db::migrate(&db).await.expect("migrated");
            let clock = profiles_gateway::service::clock::Clock::system();
            let services = profiles_gateway::service::runtime::Services::new(db.clone(), clock);
            profiles_gateway::seed::seed(&services, 20, 7).await.expect("seeded");
            let options = profiles_gateway::graphql::SchemaOptions::default();
            let metrics = profiles_gateway::telemetry::install_metrics();
            profiles_gateway::http::router(profiles_gateway::http::AppState::new(db, options, metrics))
        });
        Target { runtime, router }
    })
}

/// A query taking arguments of every kind, for mode 3.
const WITH_VARIABLES: &str = "query($f: ProfileFilter, $s: String, $a: String, $n: Int, $o: ProfileOrder, \
    $k: ProfileKey!, $id: UUID!) { profiles(filter: $f, search: $s, after: $a, first: $n, orderBy: $o) \
    { totalCount nodes { id } } profileBy(key: $k) { id } profile(id: $id) { id } }";

fn request(data: &[u8]) -> Option<Request<Body>> {
    let (mode, rest) = data.split_first()?;
    let post = |body: Vec<u8>| {
        Request::post("/graphql").header("content-type", "application/json").body(Body::from(body)).ok()
    };
    match mode % 4 {
        0 => post(rest.to_vec()),
        1 => {
            let query = std::str::from_utf8(rest).ok()?;
            Request::get(format!("/graphql?{query}")).header("accept", "application/json").body(Body::empty()).ok()
        }
        2 => post(serde_json::json!({ "query": String::from_utf8_lossy(rest) }).to_string().into_bytes()),
        _ => {
            let variables: serde_json::Value = serde_json::from_slice(rest).ok()?;
            post(serde_json::json!({ "query": WITH_VARIABLES, "variables": variables }).to_string().into_bytes())
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = request(data) else { return };
    let target = target();
    let (status, json, body) = target.runtime.block_on(async {
        let response = target.router.clone().oneshot(request).await.expect("the router answers");
        let status = response.status();
        let json =
            response.headers().get("content-type").and_then(|c| c.to_str().ok()).is_some_and(|c| c.contains("json"));
        let body = response.into_body().collect().await.expect("a body").to_bytes();
        (status, json, body)
    });
    assert!(!status.is_server_error(), "status {status}: {}", String::from_utf8_lossy(&body));
    if json {
        let value: serde_json::Value = serde_json::from_slice(&body).expect("a JSON body");
        for error in value["errors"].as_array().into_iter().flatten() {
            let code = error["extensions"]["code"].as_str();
            assert!(code.is_some_and(|c| c != "INTERNAL_SERVER_ERROR"), "error without a clear code: {value}");
        }
    }
});
