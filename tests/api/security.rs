//! Tokens and scopes, query limits and HTTP limits.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use profiles_gateway::auth::Scope;
use profiles_gateway::graphql::Limits;
use profiles_gateway::http::HttpLimits;
use profiles_gateway::service::token;
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, error_codes};

async fn secured() -> TestApp {
    TestApp::spawn_with(Options { auth_required: true, ..Options::default() }).await
}

async fn token_with(app: &TestApp, scopes: &[Scope]) -> String {
    token::create(&app.services, "test", scopes).await.expect("a token").1
}

const READ: &str = "{ tiers { handle } }";
const WRITE: &str = "mutation { createProfile(input: {}) { userErrors { code } } }";
const ADMIN: &str = "mutation { createTier(input: { handle: \"gold\", name: \"Gold\" }) { userErrors { code } } }";
const MERGE: &str = "mutation { mergeProfiles(input: { survivorId: \"00000000-0000-4000-8000-000000000000\", duplicateIds: [] }) { userErrors { code } } }";

#[tokio::test]
async fn every_token_and_scope_combination() {
    let app = secured().await;
    let read = token_with(&app, &[Scope::ProfilesRead]).await;
    let write = token_with(&app, &[Scope::ProfilesWrite]).await;
    let admin = token_with(&app, &[Scope::Admin]).await;
    let read_admin = token_with(&app, &[Scope::ProfilesRead, Scope::Admin]).await;
    let merge = token_with(&app, &[Scope::ProfilesMerge]).await;
    // (token, read, write, admin, merge): the code each operation gets, or "" when
    // allowed. Merging cannot be undone: neither reading nor writing implies it.
    let cases = [
        ("profiles:read", read.as_str(), ["", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]),
        ("profiles:write", write.as_str(), ["", "", "FORBIDDEN", "FORBIDDEN"]),
        ("profiles:merge", merge.as_str(), ["", "FORBIDDEN", "FORBIDDEN", ""]),
        ("admin", admin.as_str(), ["", "", "", ""]),
        ("profiles:read,admin", read_admin.as_str(), ["", "", "", ""]),
    ];
    for (name, secret, expected) in cases {
        for (operation, code) in [READ, WRITE, ADMIN, MERGE].into_iter().zip(expected) {
            let (status, response) = app.graphql_as(Some(secret), operation, json!({})).await;
            assert_eq!(status, StatusCode::OK, "{name}: {operation}");
            let codes = error_codes(&response);
            if code.is_empty() {
                assert!(codes.is_empty(), "{name} may run {operation}: {response}");
            } else {
                assert_eq!(codes, vec![code], "{name}: {operation}: {response}");
                assert!(response["errors"][0]["message"].as_str().is_some_and(|m| m.contains("scope")));
            }
        }
    }
}

#[tokio::test]
async fn a_missing_scope_fails_only_its_field() {
    let app = secured().await;
    let read = token_with(&app, &[Scope::ProfilesRead]).await;
    let (_, response) = app
        .graphql_as(
            Some(&read),
            "mutation { a: createTier(input: { handle: \"x\", name: \"X\" }) { tier { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&response), vec!["FORBIDDEN"]);
    let (_, response) = app.graphql_as(Some(&read), "{ tiers { handle } tags { handle } __typename }", json!({})).await;
    assert_eq!(response, json!({ "data": { "tiers": [], "tags": [], "__typename": "Query" } }));
}

#[tokio::test]
async fn missing_bad_and_revoked_tokens_are_unauthenticated() {
    let app = secured().await;
    let (revoked_row, revoked) = token::create(&app.services, "old", &[Scope::Admin]).await.expect("a token");
    assert!(token::revoke(&app.services, revoked_row.id).await.expect("revoke"));
    assert!(!token::revoke(&app.services, revoked_row.id).await.expect("revoke again"), "revoking twice is refused");
    for (case, authorization) in [
        ("no header", None),
        ("unknown token", Some("Bearer pgw_not-a-real-token".to_owned())),
        ("revoked token", Some(format!("Bearer {revoked}"))),
        ("another scheme", Some("Basic dXNlcjpwYXNz".to_owned())),
        ("empty bearer", Some("Bearer ".to_owned())),
    ] {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let (status, headers, body) =
            app.send(request.body(Body::from(json!({ "query": READ }).to_string())).expect("request")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer", "{case}");
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(error_codes(&body), vec!["UNAUTHENTICATED"], "{case}");
    }
    let (status, _, _) = app.send(Request::get("/healthz").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK, "health needs no token");
}

#[tokio::test]
async fn without_auth_everything_is_allowed() {
    let app = TestApp::spawn().await;
    for operation in [READ, WRITE, ADMIN] {
        assert!(error_codes(&app.graphql(operation, json!({})).await).is_empty(), "{operation}");
    }
}

async fn limited(limits: Limits) -> TestApp {
    TestApp::spawn_with(Options { limits, ..Options::default() }).await
}

async fn http_limited(http: HttpLimits) -> TestApp {
    TestApp::spawn_with(Options { http, ..Options::default() }).await
}

fn too_complex(response: &Value, setting: &str) {
    assert_eq!(error_codes(response), vec!["QUERY_TOO_COMPLEX"], "{response}");
    assert!(
        response["errors"][0]["message"].as_str().is_some_and(|m| m.contains(setting)),
        "names {setting}: {response}"
    );
}

#[tokio::test]
async fn depth_complexity_root_fields_aliases_and_size_just_under_and_just_over() {
    let app =
        limited(Limits { max_depth: 4, max_root_fields: 3, max_aliases: 2, max_query_bytes: 200, ..Limits::default() })
            .await;
    // Depth: profiles → nodes → attributes → comms is 4 deep; → emailPromo is 5.
    assert!(
        error_codes(&app.graphql("{ profiles { nodes { attributes { __typename } } } }", json!({})).await).is_empty()
    );
    too_complex(
        &app.graphql("{ profiles { nodes { attributes { comms { emailPromo } } } } }", json!({})).await,
        "PROFILES_MAX_DEPTH",
    );
    // Root fields.
    assert!(error_codes(&app.graphql("{ tags { id } tiers { id } statuses { id } }", json!({})).await).is_empty());
    too_complex(
        &app.graphql("{ tags { id } tiers { id } statuses { id } locations { id } }", json!({})).await,
        "PROFILES_MAX_ROOT_FIELDS",
    );
    // Aliases, counted through fragments.
    assert!(error_codes(&app.graphql("{ tiers { a: handle b: handle } }", json!({})).await).is_empty());
    too_complex(
        &app.graphql("{ tiers { a: handle ...F } } fragment F on Tier { b: handle c: handle }", json!({})).await,
        "PROFILES_MAX_ALIASES",
    );
    // Document size.
    let padded = |size: usize| format!("{{ tiers {{ handle }} }}{}", " ".repeat(size - 20));
    assert!(error_codes(&app.graphql(&padded(200), json!({})).await).is_empty());
    too_complex(&app.graphql(&padded(201), json!({})).await, "PROFILES_MAX_QUERY_BYTES");
}

#[tokio::test]
async fn the_default_limits_admit_introspection_and_a_full_page_of_50_but_not_of_250() {
    let app = TestApp::spawn().await;
    let introspection =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/introspection.graphql"))
            .expect("GraphiQL's introspection query");
    let response = app.graphql(&introspection, json!({})).await;
    assert!(error_codes(&response).is_empty(), "{}", response["errors"]);
    assert!(response["data"]["__schema"]["types"].as_array().is_some_and(|t| t.len() > 50));
    let page = |size: usize| {
        format!(
            "{{ profiles(first: {size}) {{ nodes {{ {} }} }} }} {}",
            crate::profile_read::PROFILE_FIELDS,
            crate::profile_read::ADDRESS_FRAGMENT
        )
    };
    assert!(error_codes(&app.graphql(&page(50), json!({})).await).is_empty());
    too_complex(&app.graphql(&page(250), json!({})).await, "PROFILES_MAX_COMPLEXITY");
}

async fn post_body(app: &TestApp, content_type: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let request =
        Request::post("/graphql").header("content-type", content_type).body(Body::from(body)).expect("request");
    let (status, _, body) = app.send(request).await;
    (status, body)
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_and_under_it_are_served() {
    let app = http_limited(HttpLimits { max_body_bytes: 4096, ..HttpLimits::default() }).await;
    let body = |size: usize| {
        let frame = json!({ "query": "query($p: String) { tiers { handle } }", "variables": { "p": "" } }).to_string();
        let padding = "x".repeat(size - frame.len());
        json!({ "query": "query($p: String) { tiers { handle } }", "variables": { "p": padding } })
            .to_string()
            .into_bytes()
    };
    let (status, _) = post_body(&app, "application/json", body(4096)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post_body(&app, "application/json", body(4097)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// On tokio's paused clock: nothing but the timer is waited for, so 30 s pass at once.
#[tokio::test]
async fn a_request_over_its_time_is_408() {
    use futures_util::StreamExt;
    let timeout = std::time::Duration::from_secs(30);
    let app = http_limited(HttpLimits { request_timeout: timeout, ..HttpLimits::default() }).await;
    // A body that starts and never ends: the request cannot finish within any time.
    let stalled = futures_util::stream::once(async { Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{")) })
        .chain(futures_util::stream::pending());
    let request = Request::post("/graphql").header("content-type", "application/json").body(Body::from_stream(stalled));
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let (status, _, _) = app.send(request.expect("request")).await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() >= timeout, "answered when the timeout ran out, not before");
    tokio::time::resume();
    let (status, _) = post_body(&app, "application/json", json!({ "query": READ }).to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "a request that finishes in time is served");
}

#[tokio::test]
async fn cors_allows_only_listed_origins_and_none_by_default() {
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/graphql")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .expect("request")
    };
    let app = http_limited(HttpLimits {
        cors_origins: vec!["https://admin.example.com".to_owned()],
        ..HttpLimits::default()
    })
    .await;
    let (_, headers, _) = app.send(preflight("https://admin.example.com")).await;
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://admin.example.com");
    let (_, headers, _) = app.send(preflight("https://evil.example.net")).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let default = TestApp::spawn().await;
    let (_, headers, _) = default.send(preflight("https://admin.example.com")).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let app = limited(Limits { introspection: false, ..Limits::default() }).await;
    let response = app.graphql("{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(error_codes(&response), vec!["FORBIDDEN"], "{response}");
    assert_eq!(response["data"]["__schema"], Value::Null);
    assert!(error_codes(&app.graphql(READ, json!({})).await).is_empty());
}

#[tokio::test]
async fn the_postgresql_statement_timeout_is_set_on_every_connection() {
    if !crate::helpers::on_postgres() {
        eprintln!("statement timeouts are a PostgreSQL setting: not applicable on SQLite");
        return;
    }
    let pool = profiles_gateway::db::PoolSettings {
        statement_timeout: std::time::Duration::from_millis(1234),
        ..Options::default().pool
    };
    let app = TestApp::spawn_with(Options { pool, ..Options::default() }).await;
    let show = sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Postgres, "SHOW statement_timeout");
    let row = sea_orm::ConnectionTrait::query_one_raw(&app.db, show).await.expect("SHOW").expect("a row");
    assert_eq!(row.try_get::<String>("", "statement_timeout").expect("text"), "1234ms");
}
