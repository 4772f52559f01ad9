//! Whatever a caller sends: a clear answer, no panic, no hang, and the server keeps
//! serving.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Statuses a bad request may get; never 500.
const CLEAR: [StatusCode; 7] = [
    StatusCode::OK,
    StatusCode::BAD_REQUEST,
    StatusCode::METHOD_NOT_ALLOWED,
    StatusCode::NOT_ACCEPTABLE,
    StatusCode::PAYLOAD_TOO_LARGE,
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
    StatusCode::REQUEST_TIMEOUT,
];

/// Sends `request` with a deadline; returns the status and body, checking the answer
/// is clear and is JSON whenever it is not a 2xx of GraphiQL.
async fn answer(app: &TestApp, request: Request<Body>, case: &str) -> (StatusCode, Value) {
    let (status, headers, body) = tokio::time::timeout(Duration::from_secs(10), app.send(request))
        .await
        .unwrap_or_else(|_| panic!("{case}: no answer within 10 s"));
    assert!(CLEAR.contains(&status), "{case}: status {status}");
    let json = serde_json::from_slice(&body).unwrap_or_else(|_| {
        panic!("{case}: body is not JSON ({:?}): {}", headers.get(header::CONTENT_TYPE), String::from_utf8_lossy(&body))
    });
    (status, json)
}

async fn still_healthy(app: &TestApp) {
    let (status, _, _) = app.send(Request::get("/healthz").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    let response = app.graphql("{ tiers { handle } }", json!({})).await;
    assert_eq!(response, json!({ "data": { "tiers": [] } }));
}

fn post(content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post("/graphql").header(header::CONTENT_TYPE, content_type).body(body.into()).expect("request")
}

#[tokio::test]
async fn garbage_wrong_types_and_malformed_requests_get_clear_errors() {
    let app = TestApp::spawn().await;
    let deep_query = format!("{}{}", "{ profiles { nodes { ".repeat(200), "} } }".repeat(200));
    let alias_flood: String = (0..5000).map(|n| format!("a{n}: __typename ")).collect();
    let cases: Vec<(&str, Request<Body>, StatusCode)> = vec![
        ("garbage bytes", post("application/json", vec![0xff, 0x00, 0x13, 0x37, 0xfe]), StatusCode::BAD_REQUEST),
        ("malformed JSON", post("application/json", "{\"query\": "), StatusCode::BAD_REQUEST),
        ("JSON that is not a request", post("application/json", "[1, 2, 3]"), StatusCode::BAD_REQUEST),
        ("a batch of requests", post("application/json", json!([{ "query": "{ __typename }" }]).to_string()), StatusCode::BAD_REQUEST),
        ("a query that is a number", post("application/json", "{\"query\": 42}"), StatusCode::BAD_REQUEST),
        ("plain text", post("text/plain", "{ __typename }"), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("no content type", Request::post("/graphql").body(Body::from("{}")).expect("request"), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("form data", post("application/x-www-form-urlencoded", "query=%7B__typename%7D"), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (
            "an Accept of neither GraphQL type",
            Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/xml")
                .body(Body::from(json!({ "query": "{ __typename }" }).to_string()))
                .expect("request"),
            StatusCode::NOT_ACCEPTABLE,
        ),
        (
            "a mutation over GET",
            Request::get("/graphql?query=mutation%7BpurgeProfile(id%3A%2200000000-0000-0000-0000-000000000000%22)%7BpurgedProfileId%7D%7D")
                .header(header::ACCEPT, "application/json")
                .body(Body::empty())
                .expect("request"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        ("a huge string argument", post("application/json", json!({ "query": "query($s: String) { profiles(search: $s) { totalCount } }", "variables": { "s": "x".repeat(900_000) } }).to_string()), StatusCode::OK),
        ("deeply nested braces", post("application/json", json!({ "query": deep_query }).to_string()), StatusCode::OK),
        ("an alias flood", post("application/json", json!({ "query": format!("{{ {alias_flood} }}") }).to_string()), StatusCode::OK),
        ("a very large body", post("application/json", vec![b' '; 2 * 1024 * 1024]), StatusCode::PAYLOAD_TOO_LARGE),
    ];
    for (case, request, expected) in cases {
        let (status, body) = answer(&app, request, case).await;
        assert_eq!(status, expected, "{case}: {body}");
        assert!(body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}: a message: {body}");
        assert!(body["errors"][0]["extensions"]["code"].is_string(), "{case}: a code: {body}");
    }
    still_healthy(&app).await;
}

#[tokio::test]
async fn graphql_response_json_gets_400_for_requests_that_fail_before_execution() {
    let app = TestApp::spawn().await;
    for (query, status) in [
        ("{ nope }", StatusCode::BAD_REQUEST),
        ("{ __typename", StatusCode::BAD_REQUEST),
        ("{ __typename }", StatusCode::OK),
    ] {
        let request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/graphql-response+json")
            .body(Body::from(json!({ "query": query }).to_string()))
            .expect("request");
        let (got, headers, body) = app.send(request).await;
        assert_eq!(got, status, "{query}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/graphql-response+json");
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            body.get("data").is_none(),
            status == StatusCode::BAD_REQUEST,
            "no data entry when execution never began"
        );
    }
}

/// Bodies made by mutating valid requests: bytes flipped, cut, duplicated, spliced.
#[tokio::test]
async fn a_corpus_of_mutated_request_bodies_never_breaks_the_server() {
    let app = TestApp::spawn().await;
    let seeds = [
        json!({ "query": "{ profiles(first: 2) { totalCount nodes { id fullName } } }" }).to_string(),
        json!({ "query": "query($id: UUID!) { profile(id: $id) { id } }", "variables": { "id": "00000000-0000-0000-0000-000000000000" } }).to_string(),
        json!({ "query": "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { userErrors { code } } }", "variables": { "i": { "email": "a@b.co", "tags": ["x"] } } }).to_string(),
        json!({ "query": "{ profiles(filter: { birthdayWithinDays: 3 }, orderBy: { field: EMAIL }) { edges { cursor } } }", "operationName": null }).to_string(),
    ];
    let mut rng = fastrand::Rng::with_seed(20261129);
    for round in 0..400 {
        let mut body = seeds[round % seeds.len()].clone().into_bytes();
        for _ in 0..rng.usize(1..6) {
            match rng.u8(..4) {
                0 if !body.is_empty() => {
                    let at = rng.usize(..body.len());
                    body[at] = rng.u8(..);
                }
                1 => body.truncate(rng.usize(..=body.len())),
                2 if !body.is_empty() => {
                    let at = rng.usize(..body.len());
                    let piece = body[at..(at + rng.usize(..16)).min(body.len())].to_vec();
                    body.splice(at..at, piece);
                }
                _ => {
                    let at = rng.usize(..=body.len());
                    let token = ["{", "}", "\"", "\\u0000", "null", "[", "__schema", "$", "...", "@skip(if: true)"]
                        [rng.usize(..10)];
                    body.splice(at..at, token.bytes());
                }
            }
        }
        let case = format!("round {round}: {}", String::from_utf8_lossy(&body));
        answer(&app, post("application/json", body), &case).await;
    }
    still_healthy(&app).await;
}
