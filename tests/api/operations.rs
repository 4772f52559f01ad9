//! What operators and explorers see: metrics, request ids, the embedded GraphiQL.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::helpers::TestApp;

async fn get(app: &TestApp, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let (status, headers, body) = app.send(Request::get(path).body(Body::empty()).expect("request")).await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// The value of the sample of `name` whose labels include every one of `labels`.
fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} ")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_count_what_happened() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.graphql("query MetricsProbe { tiers { handle } }", json!({})).await;
    }
    app.graphql("query MetricsProbeBroken { nope }", json!({})).await;
    app.graphql("mutation MetricsProbeWrite { createProfile(input: {}) { userErrors { code } } }", json!({})).await;
    let (status, headers, text) = app.scrape().await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().expect("ascii").starts_with("text/plain"));
    let query = ["operation=\"MetricsProbe\"", "type=\"query\""];
    assert_eq!(sample(&text, "graphql_operations_total", &query), Some(3.0), "{text}");
    assert_eq!(sample(&text, "graphql_operation_duration_seconds_count", &query), Some(3.0));
    assert_eq!(
        sample(&text, "graphql_operations_total", &["operation=\"MetricsProbeWrite\"", "type=\"mutation\""]),
        Some(1.0)
    );
    assert!(sample(&text, "graphql_errors_total", &["code=\"GRAPHQL_VALIDATION_FAILED\""]).is_some_and(|n| n >= 1.0));
    let graphql = ["route=\"/graphql\"", "method=\"POST\"", "status=\"200\""];
    assert!(sample(&text, "http_requests_total", &graphql).is_some_and(|n| n >= 5.0), "{text}");
    assert!(sample(&text, "http_request_duration_seconds_bucket", &[graphql[0], "le=\"+Inf\""]).is_some());
    assert!(sample(&text, "db_statements_total", &["outcome=\"ok\""]).is_some_and(|n| n >= 4.0));
    assert!(sample(&text, "db_statement_duration_seconds_count", &[]).is_some_and(|n| n >= 4.0));
    assert!(sample(&text, "db_pool_connections", &["state=\"idle\""]).is_some());
    assert!(sample(&text, "db_pool_connections", &["state=\"in_use\""]).is_some());
}

#[tokio::test]
async fn request_ids_are_taken_or_made_and_returned() {
    let app = TestApp::spawn().await;
    let given = Request::get("/healthz").header("x-request-id", "abc-123").body(Body::empty()).expect("request");
    let (_, headers, _) = app.send(given).await;
    assert_eq!(headers["x-request-id"], "abc-123");
    let (_, headers, _) = get(&app, "/healthz").await;
    let made = headers["x-request-id"].to_str().expect("ascii");
    assert!(uuid::Uuid::parse_str(made).is_ok(), "a new id: {made}");
    let unsafe_id = Request::get("/healthz").header("x-request-id", "a b").body(Body::empty()).expect("request");
    let (_, headers, _) = app.send(unsafe_id).await;
    assert!(uuid::Uuid::parse_str(headers["x-request-id"].to_str().expect("ascii")).is_ok(), "replaced, not echoed");
}

#[tokio::test]
async fn graphiql_and_its_assets_come_from_the_service_itself() {
    let app = TestApp::spawn().await;
    let page = Request::get("/graphql").header(header::ACCEPT, "text/html").body(Body::empty()).expect("request");
    let (status, headers, body) = app.send(page).await;
    let html = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii").contains("default-src 'none'"));
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing from elsewhere:\n{html}");
    assert!(html.contains("isHeadersEditorEnabled") && html.contains("query FirstProfiles"));
    for (asset, media) in [
        ("react.production.min.js", "text/javascript"),
        ("react-dom.production.min.js", "text/javascript"),
        ("graphiql.min.js", "text/javascript"),
        ("graphiql.min.css", "text/css"),
        ("LICENSES.txt", "text/plain; charset=utf-8"),
    ] {
        let path = format!("{}/{asset}", profiles_gateway::graphiql::ASSETS);
        assert!(asset == "LICENSES.txt" || html.contains(&path), "the page uses {path}");
        let (status, headers, body) = get(&app, &path).await;
        assert_eq!((status, headers[header::CONTENT_TYPE].to_str().expect("ascii")), (StatusCode::OK, media), "{path}");
        assert!(body.len() > 1000, "{path} has content");
    }
    let (status, _, _) = get(&app, &format!("{}/nope.js", profiles_gateway::graphiql::ASSETS)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(profiles_gateway::graphiql::embedded_bytes() > 1_000_000);
}

/// `/metrics` is not on the main router, tokens or not: the real binary, with tokens
/// required, answers 404 there and keeps `/healthz` and `/readyz` open, while its
/// metrics listener (port 0 here, loopback by default) serves the Prometheus text.
#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_not_on_the_main_one() {
    let app = TestApp::spawn().await;
    assert_eq!(get(&app, "/metrics").await.0, StatusCode::NOT_FOUND);

    let (url, _database) = crate::helpers::TestDatabase::create().await;
    let server = crate::binary::Binary::start(&url, &[("PROFILES_AUTH", "required")]);
    let client = reqwest::Client::new();
    let fetch = |port: u16, path: &str| {
        let request = client.get(format!("http://127.0.0.1:{port}{path}"));
        async move {
            let response = request.send().await.expect("the server answers");
            (response.status().as_u16(), response.text().await.expect("a body"))
        }
    };
    let anonymous = client
        .post(format!("http://127.0.0.1:{}/graphql", server.port))
        .header("content-type", "application/json")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(anonymous.status().as_u16(), 401, "tokens are required");
    assert_eq!(fetch(server.port, "/metrics").await.0, 404);
    assert_eq!(fetch(server.port, "/healthz").await, (200, "ok".to_owned()));
    assert_eq!(fetch(server.port, "/readyz").await, (200, "ready".to_owned()));
    let metrics_port = server.metrics_port.expect("a metrics listener");
    let (status, text) = fetch(metrics_port, "/metrics").await;
    assert_eq!(status, 200);
    assert!(sample(&text, "http_requests_total", &["route=\"/healthz\"", "status=\"200\""]).is_some(), "{text}");
    assert_eq!(fetch(metrics_port, "/graphql").await.0, 404, "the metrics listener serves nothing else");
}
