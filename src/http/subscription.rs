//! Subscriptions on `/graphql` over WebSocket: the graphql-transport-ws protocol
//! (async-graphql-axum also speaks the older graphql-ws one). The token is given in
//! `connection_init`'s payload as `{"Authorization": "Bearer …"}`; without a valid one,
//! where tokens are required, the connection is closed with 4403. Each `subscribe`
//! message passes the same checks as a request over HTTP (nesting, size and the
//! document limits) before async-graphql sees it, and only subscriptions are run:
//! queries and mutations are sent over HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Data, Executor, Request, Response, ServerError};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::response::Response as HttpResponse;
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt};

use super::AppState;
use crate::auth::{self, Caller};
use crate::graphql::AppSchema;

/// Why a connection without a valid token is closed.
const REFUSED: &str = "a valid `Authorization: Bearer` token is required in connection_init";

/// The largest WebSocket message accepted.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Subscriptions one connection may hold at once.
const MAX_SUBSCRIPTIONS: usize = 20;

/// Upgrades a GET of `/graphql` to a subscription connection, while fewer than
/// `PROFILES_MAX_WEBSOCKETS` are open (503 otherwise). An upgraded connection leaves
/// the HTTP accept loop's count, so this is its bound.
pub(crate) fn upgrade(state: AppState, upgrade: WebSocketUpgrade, protocol: GraphQLProtocol) -> HttpResponse {
    let Ok(permit) = state.websockets.clone().try_acquire_owned() else {
        let message = "too many WebSocket connections (PROFILES_MAX_WEBSOCKETS); try again later";
        return super::reject(axum::http::StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", message);
    };
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            let _permit = permit;
            let executor =
                Checked { schema: state.schema.clone(), documents: state.documents.clone(), active: Arc::default() };
            let (sink, stream) = socket.split();
            // async-graphql closes a refused `connection_init` with 1002; the protocol
            // says 4403 Forbidden.
            let sink = sink.with(|message: Message| async move {
                Ok::<_, axum::Error>(match message {
                    Message::Close(Some(frame)) if frame.code == 1002 && frame.reason.as_str() == REFUSED => {
                        Message::Close(Some(CloseFrame { code: 4403, reason: frame.reason }))
                    }
                    other => other,
                })
            });
            GraphQLWebSocket::new_with_pair(sink, stream, executor, protocol)
                .on_connection_init(move |payload| init(state, payload))
                .serve()
                .await
        })
}

/// The caller of a connection, from `connection_init`'s payload.
async fn init(state: AppState, payload: serde_json::Value) -> async_graphql::Result<Data> {
    let mut data = Data::default();
    let caller = if state.auth_required {
        let header = ["Authorization", "authorization"].iter().find_map(|key| payload.get(key)?.as_str());
        let secret = header.and_then(auth::bearer).ok_or(REFUSED)?;
        match crate::service::token::caller(&state.db, secret).await {
            Ok(Some(caller)) => caller,
            Ok(None) => return Err(REFUSED.into()),
            Err(error) => return Err(async_graphql::Error::from(error)),
        }
    } else {
        Caller::anyone()
    };
    data.insert(caller);
    Ok(data)
}

/// The schema behind the checks an HTTP request passes, for one connection.
#[derive(Clone)]
struct Checked {
    schema: AppSchema,
    documents: Arc<crate::graphql::documents::Documents>,
    /// The connection's running subscriptions.
    active: Arc<AtomicUsize>,
}

/// Holds one of a connection's subscription slots until dropped with its stream.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Checked {
    fn admit(&self, request: &mut Request) -> Result<(), ServerError> {
        let operation_name = request.operation_name.clone();
        let parsed = self.documents.admit(request)?;
        parsed.admitted?;
        if super::operation::operation(&parsed.document, operation_name).0 != "subscription" {
            return Err(crate::graphql::errors::coded(
                "only subscriptions run over WebSocket: send queries and mutations with POST",
                "BAD_REQUEST",
            ));
        }
        Ok(())
    }
}

impl Executor for Checked {
    async fn execute(&self, mut request: Request) -> Response {
        match self.admit(&mut request) {
            Ok(()) => self.schema.execute(request).await,
            Err(error) => Response::from_errors(vec![error]),
        }
    }

    fn execute_stream(&self, mut request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let refused =
            |error: ServerError| futures_util::stream::once(async move { Response::from_errors(vec![error]) }).boxed();
        if let Err(error) = self.admit(&mut request) {
            return refused(error);
        }
        if self.active.fetch_add(1, Ordering::SeqCst) >= MAX_SUBSCRIPTIONS {
            self.active.fetch_sub(1, Ordering::SeqCst);
            let message = format!("a connection holds at most {MAX_SUBSCRIPTIONS} subscriptions");
            return refused(crate::graphql::guard::too_complex(message));
        }
        let slot = Slot(self.active.clone());
        let stream = self.schema.execute_stream_with_session_data(request, session_data.unwrap_or_default());
        stream
            .map(move |response| {
                let _held = &slot; // freed when the stream is dropped
                response
            })
            .boxed()
    }
}
