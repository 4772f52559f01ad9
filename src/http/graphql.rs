//! `/graphql` as the GraphQL-over-HTTP specification has it: POST with
//! `application/json`, GET with query parameters (queries only: a mutation over GET is
//! 405), responses as `application/graphql-response+json` or `application/json` as
//! the `Accept` header asks (406 when it accepts neither). With
//! `application/graphql-response+json`, a request that fails before execution (it does
//! not parse or validate) is a 400; with `application/json` it is a 200, as the
//! specification requires. A browser asking for HTML gets GraphiQL.

use super::caching;
use super::operation::operation;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql_axum::GraphQLProtocol;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{ConnectInfo, Extension, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use tracing::Instrument;

use super::{AppState, reject};
use crate::auth::{Caller, Scope};
use crate::graphql::loaders::Loaders;
use crate::service::actor;
use crate::telemetry::{self, OperationName, RequestId};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The response media type the `Accept` header asks for, or `None` when it accepts
/// neither GraphQL one. No header, or `*/*`, means `application/json`.
fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()) else { return Some(JSON) };
    let types: Vec<&str> = accept.split(',').map(|t| t.split(';').next().unwrap_or_default().trim()).collect();
    if types.contains(&GRAPHQL_RESPONSE) {
        Some(GRAPHQL_RESPONSE)
    } else if types.iter().any(|t| matches!(*t, "application/json" | "application/*" | "*/*")) {
        Some(JSON)
    } else {
        None
    }
}

/// How a request arrived: a GET may only run queries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Get,
    Post,
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    id: RequestId,
    (mut request, document_id): (async_graphql::Request, Option<String>),
    media: &'static str,
    via: Via,
) -> Response {
    // The caller first: nothing of an unauthenticated request is parsed.
    let caller = match super::auth::authenticate(state, headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let started = std::time::Instant::now();
    // Then the bound on nesting, before anything recursive reads the document, the
    // parse (kept on the request: async-graphql reuses it), and the limits.
    // The document a persisted id names, or the text, if the mode lets it run.
    let resolved = state.persisted.resolve(&mut request, document_id.as_deref(), caller.may(Scope::Admin));
    let operation_name = request.operation_name.clone();
    let (kind, name, mut response) = match resolved.and_then(|_| state.documents.admit(&mut request)) {
        Err(error) => ("unknown", "unparsed".to_owned(), async_graphql::Response::from_errors(vec![error])),
        Ok(parsed) => {
            let (kind, name) = operation(&parsed.document, operation_name);
            if via == Via::Get && kind != "query" {
                let message = match kind {
                    "subscription" => "subscriptions run over WebSocket",
                    _ => "mutations are sent with POST",
                };
                return reject(StatusCode::METHOD_NOT_ALLOWED, "BAD_REQUEST", message);
            }
            match parsed.admitted {
                Err(error) => (kind, name, async_graphql::Response::from_errors(vec![error])),
                Ok(()) => {
                    let span = tracing::info_span!("graphql", operation = %name, r#type = kind);
                    let response = run(state, request, &parsed.document, kind, &id, &caller).instrument(span).await;
                    (kind, name, response)
                }
            }
        }
    };
    // A request that failed before execution: no data, and errors without a path.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    crate::graphql::errors::ensure_codes(&mut response.errors, &id, state.documents.limits());
    let codes = response.errors.iter().filter_map(|e| crate::graphql::errors::code(e).map(str::to_owned));
    let label = state.operation_labels.label(&name, !request_error);
    telemetry::record_operation(label, kind, started.elapsed(), codes);
    let mut http = if request_error {
        caching::no_store(request_errors(media, response.errors))
    } else {
        // Serialised as it is, so that fields keep the order of the selection.
        #[allow(clippy::expect_used, reason = "async-graphql's response is data and errors of JSON values")]
        let body = serde_json::to_vec(&response).expect("a GraphQL response serialises");
        // Only a whole answer: one with errors (a refusal, a database that was away) is
        // asked again, never revalidated.
        if via == Via::Get && kind == "query" && response.errors.is_empty() {
            let etag = caching::tag(&body);
            caching::revalidated(headers, with_media(StatusCode::OK, body, media), etag)
        } else {
            caching::no_store(with_media(StatusCode::OK, body, media))
        }
    };
    http.extensions_mut().insert(OperationName(name));
    http
}

/// Executes a request whose nesting was checked, with the per-request data, and puts
/// the fields of its result in selection order. A read that lost its database
/// connection runs once more on a fresh one; a write does not (it may have committed).
async fn run(
    state: &AppState,
    request: async_graphql::Request,
    document: &ExecutableDocument,
    kind: &str,
    id: &RequestId,
    caller: &Caller,
) -> async_graphql::Response {
    let operation_name = request.operation_name.clone();
    let retry = (kind == "query").then(|| (request.query.clone(), request.variables.clone()));
    let data =
        |request: async_graphql::Request| request.data(Loaders::new(&state.db)).data(id.clone()).data(caller.clone());
    let actor = caller.actor().cloned();
    let mut response = actor::acting(actor.clone(), state.schema.execute(data(request))).await;
    if let Some((query, variables)) = retry
        && response.errors.iter().any(|e| e.source::<crate::graphql::errors::ConnectionLost>().is_some())
    {
        tracing::warn!("a read lost its database connection; running it once more");
        metrics::counter!("graphql_read_retries_total").increment(1);
        let mut again = async_graphql::Request::new(query).variables(variables);
        again.operation_name = operation_name.clone();
        again.set_parsed_query(document.clone());
        response = actor::acting(actor, state.schema.execute(data(again))).await;
    }
    crate::graphql::order::restore(&mut response.data, document, operation_name.as_deref());
    response
}

/// The answer to a request that failed before execution began: no `data` entry (GraphQL
/// spec, "Response"), and 400 when the client accepts `application/graphql-response+json`.
fn request_errors(media: &'static str, errors: Vec<async_graphql::ServerError>) -> Response {
    #[derive(serde::Serialize)]
    struct Errors {
        errors: Vec<async_graphql::ServerError>,
    }
    let status = if media == GRAPHQL_RESPONSE { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    #[allow(clippy::expect_used, reason = "GraphQL errors are strings and JSON values")]
    let body = serde_json::to_vec(&Errors { errors }).expect("GraphQL errors serialise");
    with_media(status, body, media)
}

fn with_media(status: StatusCode, body: Vec<u8>, media: &'static str) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    response
}

pub(crate) async fn post(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let message =
                format!("the body is larger than {} bytes (PROFILES_MAX_BODY_BYTES)", state.http.max_body_bytes);
            return reject(StatusCode::PAYLOAD_TOO_LARGE, "BAD_REQUEST", &message);
        }
        Err(rejection) => return reject(rejection.status(), "BAD_REQUEST", &rejection.body_text()),
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|c| c.to_str().ok()).unwrap_or_default();
    if content_type.split(';').next().map(str::trim) != Some("application/json") {
        return reject(StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_REQUEST", "send the request as `application/json`");
    }
    let Some(media) = negotiate(&headers) else {
        return reject(
            StatusCode::NOT_ACCEPTABLE,
            "BAD_REQUEST",
            "accept `application/graphql-response+json` or `application/json`",
        );
    };
    // An object: serde would also read an array as a request, field by field.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let message = "the body is not a GraphQL request: send one JSON object (batches are not taken)";
        return reject(StatusCode::BAD_REQUEST, "BAD_REQUEST", message);
    }
    match serde_json::from_slice::<Body>(&body) {
        Ok(body) => execute(&state, &headers, id, body.into_request(), media, Via::Post).await,
        Err(error) => {
            reject(StatusCode::BAD_REQUEST, "BAD_REQUEST", &format!("the body is not a GraphQL request: {error}"))
        }
    }
}

/// A browser asking for HTML gets GraphiQL; anything else is a GraphQL GET request.
pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    websocket: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    protocol: Result<GraphQLProtocol, StatusCode>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    // The upgrade chooses the protocol itself, among those `GraphQLProtocol` knows.
    if let (Ok(websocket), Ok(_)) = (websocket, protocol) {
        let peer = peer.map(|Extension(ConnectInfo(peer))| peer);
        return super::subscription::upgrade(state, websocket, peer);
    }
    let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).unwrap_or_default();
    if accept.contains("text/html") && query.is_none() {
        return crate::graphiql::page();
    }
    let Some(media) = negotiate(&headers) else {
        return reject(
            StatusCode::NOT_ACCEPTABLE,
            "BAD_REQUEST",
            "accept `application/graphql-response+json` or `application/json`",
        );
    };
    let query = query.as_deref().unwrap_or_default();
    let mut request = match async_graphql::http::parse_query_string(query) {
        Ok(request) => request,
        Err(error) => {
            return reject(StatusCode::BAD_REQUEST, "BAD_REQUEST", &format!("not a GraphQL GET request: {error}"));
        }
    };
    request.operation_name = parameter(query, "operationName").or(request.operation_name);
    let document_id = parameter(query, "documentId");
    execute(&state, &headers, id, (request, document_id), media, Via::Get).await
}

/// A parameter of a GET's query string that async-graphql 7.2's GET parser does not
/// read: `operationName` (it reads `operation_name`, with no camelCase rename, so a
/// document of several operations could not be run over GET without this) and
/// `documentId`.
fn parameter(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

/// A POST's body: a GraphQL request, and the `documentId` of GraphQL-over-HTTP's
/// persisted documents (Appendix A), which `async_graphql::Request` does not read.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    query: String,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: async_graphql::Variables,
    #[serde(default)]
    extensions: async_graphql::Extensions,
    #[serde(default)]
    document_id: Option<String>,
}

impl Body {
    fn into_request(self) -> (async_graphql::Request, Option<String>) {
        let mut request = async_graphql::Request::new(self.query).variables(self.variables);
        request.operation_name = self.operation_name;
        request.extensions = self.extensions;
        (request, self.document_id)
    }
}
