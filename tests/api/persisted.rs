//! Persisted documents (SPEC §10): Apollo's APQ protocol, manifests in GraphQL Code
//! Generator's and Apollo's forms, `documentId` over POST and GET, the allow-list and
//! hybrid modes, loading a manifest at start and on SIGHUP.

use std::io::Write;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use profiles_gateway::auth::Scope;
use profiles_gateway::graphql::persisted::{DocumentMode, DocumentSettings};
use profiles_gateway::service::token;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::binary::Binary;
use crate::helpers::{Options, TestApp, TestDatabase, create_profile, error_codes, run_binary_with};

const TIERS: &str = "query Tiers { tiers { handle } }";
const PROFILE: &str = "query Profile($id: UUID!) { profile(id: $id) { firstName } }";
const CREATE: &str = "mutation Create { createProfile(input: { firstName: \"Ada\" }) { profile { firstName } } }";

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn apq(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// POSTs `body` with `token`; the status and the JSON answer.
async fn post(app: &TestApp, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let (status, _, body) = app.send(request.body(Body::from(body.to_string())).expect("request")).await;
    (status, serde_json::from_slice(&body).expect("a JSON answer"))
}

/// GETs `/graphql` with `parameters`; the status and the JSON answer (null when none).
async fn get(app: &TestApp, parameters: &[(&str, String)]) -> (StatusCode, Value) {
    let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(parameters).finish();
    let request = Request::get(format!("/graphql?{query}")).header(header::ACCEPT, "application/json");
    let (status, _, body) = app.send(request.body(Body::empty()).expect("request")).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A manifest file holding `json`.
fn manifest(json: &Value) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(json.to_string().as_bytes()).expect("write the manifest");
    file
}

async fn spawn(mode: DocumentMode, manifest: Option<&tempfile::NamedTempFile>, auth_required: bool) -> TestApp {
    let documents =
        DocumentSettings { documents: mode, document_manifest: manifest.map(|file| file.path().to_owned()) };
    TestApp::spawn_with(Options { documents, auth_required, ..Options::default() }).await
}

#[tokio::test]
async fn apq_answers_a_miss_keeps_a_hash_sent_with_its_text_and_runs_it_by_hash() {
    let app = spawn(DocumentMode::Apq, None, false).await;
    let hash = sha256(TIERS);

    // Apollo Client's link: the hash alone, a miss, then the hash with the text.
    let (status, miss) = post(&app, None, json!({ "extensions": apq(&hash) })).await;
    assert_eq!((status, error_codes(&miss)), (StatusCode::OK, vec!["PERSISTED_QUERY_NOT_FOUND".to_owned()]));
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound", "the message the link matches");
    let (_, stored) = post(&app, None, json!({ "query": TIERS, "extensions": apq(&hash) })).await;
    assert_eq!(stored, json!({ "data": { "tiers": [] } }));

    // Then the hash alone, over POST and over GET.
    let (_, by_hash) = post(&app, None, json!({ "extensions": apq(&hash.to_uppercase()) })).await;
    assert_eq!(by_hash, json!({ "data": { "tiers": [] } }));
    let (status, by_get) = get(&app, &[("extensions", apq(&hash).to_string())]).await;
    assert_eq!((status, by_get), (StatusCode::OK, json!({ "data": { "tiers": [] } })));

    // A hash that is not its text's is refused, and nothing is kept under it.
    let wrong = sha256("{ tiers { name } }");
    let (_, mismatch) = post(&app, None, json!({ "query": TIERS, "extensions": apq(&wrong) })).await;
    assert_eq!(error_codes(&mismatch), vec!["BAD_REQUEST"]);
    let (_, still_missing) = post(&app, None, json!({ "extensions": apq(&wrong) })).await;
    assert_eq!(error_codes(&still_missing), vec!["PERSISTED_QUERY_NOT_FOUND"]);

    // A mutation kept by hash still runs only over POST.
    let create = sha256(CREATE);
    let (_, created) = post(&app, None, json!({ "query": CREATE, "extensions": apq(&create) })).await;
    assert_eq!(created["data"]["createProfile"]["profile"]["firstName"], "Ada");
    let (status, _) = get(&app, &[("extensions", apq(&create).to_string())]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    // Text alone still runs in this mode; the malformed extension is refused.
    let (_, text) = post(&app, None, json!({ "query": TIERS })).await;
    assert_eq!(text, json!({ "data": { "tiers": [] } }));
    let (_, malformed) = post(&app, None, json!({ "extensions": { "persistedQuery": { "sha256Hash": hash } } })).await;
    assert_eq!(error_codes(&malformed), vec!["BAD_REQUEST"]);

    let (_, _, metrics) = app.scrape().await;
    for series in [
        "graphql_documents_total{source=\"apq\",outcome=\"PERSISTED_QUERY_NOT_FOUND\"}",
        "graphql_documents_total{source=\"apq\",outcome=\"admitted\"}",
        "graphql_documents_total{source=\"text\",outcome=\"admitted\"}",
    ] {
        assert!(metrics.contains(series), "{series} in {metrics}");
    }
}

#[tokio::test]
async fn the_open_mode_keeps_nothing_sent_by_hash() {
    let app = spawn(DocumentMode::Open, None, false).await;
    let hash = sha256(TIERS);
    let (_, ran) = post(&app, None, json!({ "query": TIERS, "extensions": apq(&hash) })).await;
    assert_eq!(ran, json!({ "data": { "tiers": [] } }));
    let (_, miss) = post(&app, None, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(error_codes(&miss), vec!["PERSISTED_QUERY_NOT_FOUND"], "open mode is not APQ");
}

#[tokio::test]
async fn the_allowlist_runs_the_manifests_documents_by_every_name_and_nothing_else() {
    // GraphQL Code Generator's form, keyed by the documents' SHA-256, and a key of its own.
    // Documents whose variables set page sizes load too (their cost is computed without values).
    let page = "query Page($n: Int) { profiles(first: $n) { nodes { firstName } } }";
    let nodes = "query Nodes($ids: [ID!]!) { nodes(nodeIds: $ids) { nodeId } }";
    let file = manifest(&json!({ sha256(TIERS): TIERS, "profile-v1": PROFILE, "page": page, "nodes": nodes }));
    let app = spawn(DocumentMode::Allowlist, Some(&file), false).await;
    // Written by a replica in the open mode: this one runs only the manifest.
    let id = create_profile(&TestApp::spawn_on_database(&app).await, json!({ "firstName": "Ada" })).await;
    let tiers = json!({ "data": { "tiers": [] } });

    let hash = sha256(TIERS);
    for document_id in [format!("sha256:{hash}"), hash.clone()] {
        let (_, ran) = post(&app, None, json!({ "documentId": document_id })).await;
        assert_eq!(ran, tiers, "POST documentId {document_id}");
        let (status, ran) = get(&app, &[("documentId", document_id.clone())]).await;
        assert_eq!((status, ran), (StatusCode::OK, tiers.clone()), "GET documentId {document_id}");
    }
    let (_, by_apq) = post(&app, None, json!({ "extensions": apq(&hash) })).await;
    assert_eq!(by_apq, tiers);
    let (_, by_key) =
        post(&app, None, json!({ "documentId": "profile-v1", "variables": { "id": id }, "operationName": "Profile" }))
            .await;
    assert_eq!(by_key, json!({ "data": { "profile": { "firstName": "Ada" } } }));
    let (_, paged) = post(&app, None, json!({ "documentId": "page", "variables": { "n": 1 } })).await;
    assert_eq!(paged, json!({ "data": { "profiles": { "nodes": [{ "firstName": "Ada" }] } } }));
    let (_, none) = post(&app, None, json!({ "documentId": "nodes", "variables": { "ids": [] } })).await;
    assert_eq!(none, json!({ "data": { "nodes": [] } }));
    // The text of a manifest document is that document.
    let (_, text) = post(&app, None, json!({ "query": TIERS })).await;
    assert_eq!(text, tiers);
    let (_, over_get) = get(&app, &[("query", "{ tiers { name } }".to_owned())]).await;
    assert_eq!(error_codes(&over_get), vec!["PERSISTED_QUERY_REQUIRED"], "GET text is refused too");

    // Any other text is refused, with or without a hash; unknown ids are misses.
    let other = "{ tiers { name } }";
    for body in [json!({ "query": other }), json!({ "query": other, "extensions": apq(&sha256(other)) })] {
        let (_, refused) = post(&app, None, body.clone()).await;
        assert_eq!(error_codes(&refused), vec!["PERSISTED_QUERY_REQUIRED"], "{body}");
    }
    let (_, miss) = post(&app, None, json!({ "documentId": format!("sha256:{}", sha256(other)) })).await;
    assert_eq!(error_codes(&miss), vec!["PERSISTED_QUERY_NOT_FOUND"]);
    let (_, both) = post(&app, None, json!({ "documentId": "profile-v1", "extensions": apq(&hash) })).await;
    assert_eq!(error_codes(&both), vec!["BAD_REQUEST"]);
}

#[tokio::test]
async fn an_apollo_manifest_loads_and_hybrid_lets_only_admin_tokens_send_text() {
    let file = manifest(&json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": sha256(TIERS), "name": "Tiers", "type": "query", "body": TIERS }],
    }));
    let app = spawn(DocumentMode::Hybrid, Some(&file), true).await;
    let read = token::create(&app.services, "app", &[Scope::ProfilesRead]).await.expect("a token").1;
    let admin = token::create(&app.services, "staff", &[Scope::Admin]).await.expect("a token").1;
    let other = "{ tiers { name } }";

    let (_, by_id) = post(&app, Some(&read), json!({ "documentId": format!("sha256:{}", sha256(TIERS)) })).await;
    assert_eq!(by_id, json!({ "data": { "tiers": [] } }));
    let (_, refused) = post(&app, Some(&read), json!({ "query": other })).await;
    assert_eq!(error_codes(&refused), vec!["PERSISTED_QUERY_REQUIRED"]);
    let (_, staff) = post(&app, Some(&admin), json!({ "query": other })).await;
    assert_eq!(staff, json!({ "data": { "tiers": [] } }));
    // Unauthenticated: refused before anything else.
    let (status, _) = post(&app, None, json!({ "documentId": format!("sha256:{}", sha256(TIERS)) })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_manifest_document_that_is_invalid_or_over_a_limit_stops_the_start_naming_it() {
    let (url, _database) = TestDatabase::create().await;
    // 21 root fields, one over the limit.
    // A key that is a SHA-256 but not its text's: an edited document, under its old hash.
    let stale = sha256(TIERS);
    let wide = format!("{{ {} }}", (0..21).map(|n| format!("t{n}: tiers {{ handle }}")).collect::<Vec<_>>().join(" "));
    for (manifest_json, named) in [
        (json!({ "good": TIERS, "broken": "{ tiers { nope } }" }), "broken"),
        (json!({ "wide": wide }), "wide"),
        (json!({ stale.clone(): "{ tiers { name } }" }), "its key is a SHA-256"),
        (json!({ "unparsed": "{ tiers {" }), "unparsed"),
        (
            json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [{ "id": "x", "body": 1 }] }),
            "Apollo",
        ),
    ] {
        let file = manifest(&manifest_json);
        let path = file.path().to_str().expect("a UTF-8 path");
        let output = run_binary_with(
            &url,
            &[],
            &[
                ("PROFILES_LISTEN", "127.0.0.1:0"),
                ("PROFILES_METRICS_LISTEN", "off"),
                ("PROFILES_DOCUMENTS", "allowlist"),
                ("PROFILES_DOCUMENT_MANIFEST", path),
            ],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{manifest_json}: {stderr}");
        assert!(stderr.contains("PROFILES_DOCUMENT_MANIFEST") && stderr.contains(named), "{named}: {stderr}");
    }
    // The allow-list without a manifest would run nothing: refused too.
    let output = run_binary_with(
        &url,
        &[],
        &[("PROFILES_LISTEN", "127.0.0.1:0"), ("PROFILES_METRICS_LISTEN", "off"), ("PROFILES_DOCUMENTS", "allowlist")],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs PROFILES_DOCUMENT_MANIFEST"));
}

#[tokio::test]
async fn sighup_reloads_the_manifest_and_keeps_the_old_one_when_the_new_is_invalid() {
    let (url, _database) = TestDatabase::create().await;
    let file = manifest(&json!({ "tiers": TIERS }));
    let path = file.path().to_str().expect("a UTF-8 path").to_owned();
    let binary = Binary::start(&url, &[("PROFILES_DOCUMENTS", "allowlist"), ("PROFILES_DOCUMENT_MANIFEST", &path)]);
    let ask = |id: &str| -> Value {
        let body = json!({ "documentId": id }).to_string();
        let output = std::process::Command::new("curl")
            .args(["-s", "-H", "content-type: application/json", "--data", &body])
            .arg(format!("http://127.0.0.1:{}/graphql", binary.port))
            .output()
            .expect("curl runs");
        serde_json::from_slice(&output.stdout).expect("a JSON answer")
    };
    let hangup = || {
        let status = std::process::Command::new("kill").args(["-HUP", &binary.child.id().to_string()]).status();
        assert!(status.expect("kill runs").success());
    };
    assert_eq!(error_codes(&ask("profiles")), vec!["PERSISTED_QUERY_NOT_FOUND"]);

    std::fs::write(&path, json!({ "tiers": TIERS, "profiles": "{ profiles(first: 1) { nodes { id } } }" }).to_string())
        .expect("rewrite the manifest");
    hangup();
    assert!(binary.wait_for_log("reloaded the persisted documents' manifest", 1, Duration::from_secs(20)));
    assert_eq!(ask("profiles"), json!({ "data": { "profiles": { "nodes": [] } } }));

    std::fs::write(&path, json!({ "tiers": "{ tiers { nope } }" }).to_string()).expect("rewrite the manifest");
    hangup();
    assert!(binary.wait_for_log("was not reloaded", 1, Duration::from_secs(20)));
    assert_eq!(ask("profiles"), json!({ "data": { "profiles": { "nodes": [] } } }), "the old manifest stays");
}

#[tokio::test]
async fn the_allowlist_holds_over_websocket_too() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let listed = "subscription Events { profileEvents { type } }";
    let file = manifest(&json!({ "events": listed, "create": CREATE }));
    let app = spawn(DocumentMode::Allowlist, Some(&file), false).await;
    let (address, _stop) = crate::webhooks::serve(&app).await;
    let mut socket = crate::webhooks::connect(address, None).await;
    assert_eq!(crate::webhooks::next(&mut socket).await.expect("an ack")["type"], "connection_ack");
    let send = |id: &str, payload: Value| {
        Message::Text(json!({ "id": id, "type": "subscribe", "payload": payload }).to_string().into())
    };

    // Text not in the manifest is refused; the manifest's, by its id, runs.
    let other = "subscription { profileEvents { id } }";
    socket.send(send("1", json!({ "query": other }))).await.expect("sent");
    let refused = crate::webhooks::next(&mut socket).await.expect("an answer");
    // As the other checks refuse a subscription: its one result, with the error.
    assert_eq!(refused["id"], "1", "{refused}");
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_REQUIRED", "{refused}");
    let complete = crate::webhooks::next(&mut socket).await.expect("an answer");
    assert_eq!(complete, json!({ "id": "1", "type": "complete" }));
    let mut waiters = app.services.notifier.waiters();
    socket.send(send("2", json!({ "documentId": "events" }))).await.expect("sent");
    // It starts at the latest event: told once it has read it and waits.
    let started = tokio::time::timeout(Duration::from_secs(20), waiters.changed()).await;
    assert!(started.is_ok_and(|open| open.is_ok()), "the subscription is set up");
    let (_, created) = post(&app, None, json!({ "documentId": "create" })).await;
    assert_eq!(created["data"]["createProfile"]["profile"]["firstName"], "Ada", "{created}");
    let event = crate::webhooks::next(&mut socket).await.expect("an event");
    assert_eq!(event["payload"]["data"]["profileEvents"]["type"], "profile.created", "{event}");
}
