//! The HTTP surface: health, readiness, GraphiQL, GET requests, error codes.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::helpers::{TestApp, error_codes};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let (status, _, bytes) = app.send(Request::get(path).body(Body::empty()).expect("request")).await;
        assert_eq!((status, bytes.as_slice()), (StatusCode::OK, body.as_bytes()), "{path}");
    }
}

#[tokio::test]
async fn readiness_turns_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.clone().close().await.expect("close the pool");
    let (status, _, _) = app.send(Request::get("/readyz").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_browser_gets_graphiql_and_a_client_gets_json() {
    let app = TestApp::spawn().await;
    let html = Request::get("/graphql").header(header::ACCEPT, "text/html,application/xhtml+xml").body(Body::empty());
    let (status, headers, body) = app.send(html.expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().expect("ascii").starts_with("text/html"));
    assert!(String::from_utf8_lossy(&body).contains("graphiql"), "the page loads GraphiQL");

    let get = Request::get("/graphql?query=%7Btiers%7Bhandle%7D%7D").header(header::ACCEPT, "application/json");
    let (status, _, body) = app.send(get.body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).expect("json"), json!({ "data": { "tiers": [] } }));
}

#[tokio::test]
async fn every_error_carries_a_code() {
    let app = TestApp::spawn().await;
    let cases = [
        ("{ profiles( }", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        ("{ profile(id: \"not-a-uuid\") { id } }", json!({}), "BAD_USER_INPUT"),
        ("query($id: UUID!) { profile(id: $id) { id } }", json!({ "id": "nope" }), "BAD_USER_INPUT"),
        ("query($id: UUID!) { profile(id: $id) { id } }", json!({}), "BAD_USER_INPUT"),
    ];
    for (query, variables, code) in cases {
        let response = app.graphql(query, variables).await;
        assert_eq!(error_codes(&response), vec![code], "{query}: {response}");
    }
}

#[tokio::test]
async fn internal_errors_are_opaque_and_carry_the_request_id() {
    let app = TestApp::spawn().await;
    // Renaming away a table the query needs makes the database fail with SQL in its message.
    sea_orm::ConnectionTrait::execute_unprepared(&app.db, "ALTER TABLE tier RENAME TO tier_gone")
        .await
        .expect("rename a table");
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-request-id", "test-request-42")
        .body(Body::from(json!({ "query": "{ tiers { handle } }" }).to_string()))
        .expect("request");
    let (status, headers, body) = app.send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-request-id"], "test-request-42");
    let response: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        response["errors"][0]["extensions"],
        json!({ "code": "INTERNAL_SERVER_ERROR", "requestId": "test-request-42" })
    );
    assert_eq!(response["errors"][0]["message"], "Internal server error.");
    let text = String::from_utf8_lossy(&body).to_lowercase();
    for leak in ["select", "tier\"", "sqlite", "postgres", "relation", "no such table"] {
        assert!(!text.contains(leak), "the response leaks {leak:?}: {text}");
    }
}

/// Fields come back in the order the query selects them, however long each takes
/// (async-graphql inserts them as they complete; `graphql::order` restores the order).
#[tokio::test]
async fn response_fields_follow_the_selection_order() {
    let app = TestApp::spawn().await;
    crate::fixtures::create(&app, vec![crate::fixtures::named_profile(0, "Ann", "Lee")]).await;
    let query =
        "{ profiles(first: 1) { totalCount pageInfo { hasNextPage } nodes { lastName firstName } } tiers { handle } }";
    for round in 0..20 {
        let request = Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(json!({ "query": query }).to_string()))
            .expect("request");
        let (_, _, body) = app.send(request).await;
        let text = String::from_utf8(body).expect("utf-8");
        let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap_or_else(|| panic!("{key} in {text}"));
        let order = ["profiles", "totalCount", "pageInfo", "nodes", "lastName", "firstName", "tiers"].map(at);
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "round {round}: {text}");
    }
}

#[tokio::test]
async fn a_get_request_that_does_not_parse_is_a_parse_error_not_405() {
    let app = TestApp::spawn().await;
    let request =
        Request::get("/graphql?query=%7B%20profiles(").header(header::ACCEPT, "application/json").body(Body::empty());
    let (status, _, body) = app.send(request.expect("request")).await;
    assert_eq!(status, StatusCode::OK);
    let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(error_codes(&body), vec!["GRAPHQL_PARSE_FAILED"]);
}

/// A document of several operations runs the one `operationName` names, over GET (a
/// query-string parameter) as over POST (a body field).
#[tokio::test]
async fn operation_name_picks_the_operation_over_get_and_post() {
    let app = TestApp::spawn().await;
    let document = "query A { tiers { handle } } query B { tags { handle } }";
    for name in ["A", "B"] {
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("query", document)
            .append_pair("operationName", name)
            .finish();
        let get = Request::get(format!("/graphql?{encoded}")).header(header::ACCEPT, "application/json");
        let (status, _, body) = app.send(get.body(Body::empty()).expect("request")).await;
        let over_get: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let body = json!({ "query": document, "operationName": name }).to_string();
        let post = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        let (_, _, body) = app.send(post.body(Body::from(body)).expect("request")).await;
        let over_post: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let expected = if name == "A" { json!({ "data": { "tiers": [] } }) } else { json!({ "data": { "tags": [] } }) };
        assert_eq!((status, &over_get), (StatusCode::OK, &expected), "GET {name}");
        assert_eq!(over_post, expected, "POST {name}");
    }
}

/// GETs `/graphql` with `query` and `variables`, and `If-None-Match` when given.
async fn get_query(
    app: &TestApp,
    query: &str,
    variables: serde_json::Value,
    if_none_match: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("query", query)
        .append_pair("variables", &variables.to_string())
        .finish();
    let mut request = Request::get(format!("/graphql?{query}")).header(header::ACCEPT, "application/json");
    if let Some(etag) = if_none_match {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    app.send(request.body(Body::empty()).expect("request")).await
}

#[tokio::test]
async fn a_get_query_is_revalidated_by_its_etag_and_everything_else_is_no_store() {
    let app = TestApp::spawn().await;
    let id = crate::helpers::create_profile(&app, json!({ "firstName": "Ada", "email": "ada@example.com" })).await;
    let query = "query($id: UUID!) { profile(id: $id) { firstName version } }";

    let (status, headers, body) = get_query(&app, query, json!({ "id": id }), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-cache");
    assert_eq!(headers[header::VARY], "Accept, Authorization", "the body depends on both");
    let etag = headers[header::ETAG].to_str().expect("ascii").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 66, "a strong tag: {etag}");
    assert!(String::from_utf8_lossy(&body).contains("Ada"));

    // The same answer again: 304, no body, the same tag; a weak form of it matches too.
    for held in [etag.clone(), format!("\"other\", W/{etag}")] {
        let (status, headers, body) = get_query(&app, query, json!({ "id": id }), Some(&held)).await;
        assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0), "{held}");
        assert_eq!(headers[header::ETAG], etag.as_str());
        assert_eq!(headers[header::CACHE_CONTROL], "private, no-cache");
    }

    // A mutation's answer is never stored; a POSTed query's neither.
    let body = json!({
        "query": "mutation($id: UUID!) { updateProfile(id: $id, input: { firstName: \"Grace\" }) { userErrors { code } } }",
        "variables": { "id": id },
    });
    let post = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    let (status, headers, _) = app.send(post.body(Body::from(body.to_string())).expect("request")).await;
    assert_eq!((status, &headers[header::CACHE_CONTROL]), (StatusCode::OK, &"no-store".parse().expect("a value")));
    assert!(headers.get(header::ETAG).is_none());
    let body = json!({ "query": query, "variables": { "id": id } });
    let post = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    let (_, headers, _) = app.send(post.body(Body::from(body.to_string())).expect("request")).await;
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");

    // The changed profile answers in full, under another tag.
    let (status, headers, body) = get_query(&app, query, json!({ "id": id }), Some(&etag)).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(headers[header::ETAG], etag.as_str());
    assert!(String::from_utf8_lossy(&body).contains("Grace"));

    // Requests refused before GraphQL are not stored either, and nothing is public.
    let (status, headers, _) = get_query(&app, "{ profiles( }", json!({}), None).await;
    assert_eq!((status, &headers[header::CACHE_CONTROL]), (StatusCode::OK, &"no-store".parse().expect("a value")));
    assert!(headers.get(header::ETAG).is_none(), "a refusal has no tag");
    // An answer with errors is asked again, never revalidated.
    let (status, headers, body) = get_query(&app, "{ profiles(first: 1000) { nodes { id } } }", json!({}), None).await;
    assert_eq!(error_codes(&serde_json::from_slice(&body).expect("json")), vec!["BAD_USER_INPUT"]);
    assert_eq!((status, &headers[header::CACHE_CONTROL]), (StatusCode::OK, &"no-store".parse().expect("a value")));
    assert!(headers.get(header::ETAG).is_none(), "an answer with errors has no tag");
    let get = Request::get("/graphql?query=mutation%7BdeleteProfile(id%3A%22x%22)%7BuserErrors%7Bcode%7D%7D%7D");
    let (status, headers, _) = app.send(get.body(Body::empty()).expect("request")).await;
    assert_eq!(
        (status, &headers[header::CACHE_CONTROL]),
        (StatusCode::METHOD_NOT_ALLOWED, &"no-store".parse().expect("a value"))
    );
}

#[tokio::test]
async fn a_json_array_is_not_a_request_and_a_get_subscription_is_told_where_to_go() {
    let app = TestApp::spawn().await;
    for body in [r#"["{ tiers { handle } }"]"#, "[]", r#"[{"query":"{ tiers { handle } }"}]"#] {
        let post = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        let (status, _, answer) = app.send(post.body(Body::from(body)).expect("request")).await;
        let answer: serde_json::Value = serde_json::from_slice(&answer).expect("json");
        assert_eq!((status, error_codes(&answer)), (StatusCode::BAD_REQUEST, vec!["BAD_REQUEST".to_owned()]), "{body}");
    }
    let (status, _, answer) = get_query(&app, "subscription { profileEvents { id } }", json!({}), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(String::from_utf8_lossy(&answer).contains("WebSocket"));
}
