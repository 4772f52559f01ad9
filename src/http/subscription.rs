//! Subscriptions on `/graphql` over WebSocket: the graphql-transport-ws protocol
//! (async-graphql-axum also speaks the older graphql-ws one). The token is given in
//! `connection_init`'s payload as `{"Authorization": "Bearer …"}`; without a valid one,
//! where tokens are required, the connection is closed with 4403. Each `subscribe`
//! message passes the same checks as a request over HTTP (nesting, size and the
//! document limits) before async-graphql sees it, and only subscriptions are run:
//! queries and mutations are sent over HTTP.
//!
//! An upgraded connection leaves the HTTP timeouts and connection cap behind, so it is
//! bounded here (the README's Security section):
//!
//! - until it is authenticated it holds a *waiting* place: few of them in all
//!   (`PROFILES_MAX_PENDING_WEBSOCKETS`) and per client address
//!   (`PROFILES_MAX_PENDING_WEBSOCKETS_PER_CLIENT`, except for trusted proxies), and for
//!   at most `PROFILES_WEBSOCKET_INIT_TIMEOUT` (then 4408). Sockets that never
//!   authenticate therefore cannot take the places of those that do;
//! - once authenticated it takes one of `PROFILES_MAX_WEBSOCKETS` places (1013 Try Again
//!   Later when none is left) and frees its waiting place;
//! - a ping goes out every `PROFILES_WEBSOCKET_PING_INTERVAL`; a client that sent
//!   nothing, not even the pong, since the previous one is closed (3008 Timeout).
//!
//! async-graphql 7.2 runs the protocol but answers a `subscribe` before
//! `connection_init` with 1011 and lets a `subscribe` reusing a running id end the
//! running one. [`client_messages`] sees each message as async-graphql takes it and
//! closes with the protocol's codes instead: 4401 and 4409.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_graphql::http::{ClientMessage, WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor, Request, Response, ServerError};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response as HttpResponse;
use futures_util::stream::{BoxStream, SplitSink, SplitStream};
use futures_util::{SinkExt, Stream, StreamExt};
use tokio::sync::OwnedSemaphorePermit;

use super::AppState;

mod places;
use crate::auth::{self, Caller};
use crate::graphql::AppSchema;
pub use places::Places;
use places::Waiting;

/// How WebSocket connections are bounded (the README's configuration table).
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct WebSocketLimits {
    /// Authenticated WebSocket connections open at once; more are refused.
    #[arg(long = "max-websockets", env = "PROFILES_MAX_WEBSOCKETS", default_value_t = 256, global = true)]
    pub max: usize,

    /// WebSocket connections not yet authenticated, in all; more are refused with 503.
    #[arg(
        long = "max-pending-websockets",
        env = "PROFILES_MAX_PENDING_WEBSOCKETS",
        default_value_t = 64,
        global = true
    )]
    pub max_pending: usize,

    /// WebSocket connections not yet authenticated from one client address (a trusted
    /// proxy's are counted only in all).
    #[arg(
        long = "max-pending-websockets-per-client",
        env = "PROFILES_MAX_PENDING_WEBSOCKETS_PER_CLIENT",
        default_value_t = 8,
        global = true
    )]
    pub max_pending_per_client: usize,

    /// Longest a WebSocket connection may take to be acknowledged after the upgrade (4408 beyond).
    #[arg(long = "websocket-init-timeout", env = "PROFILES_WEBSOCKET_INIT_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration, global = true)]
    pub init_timeout: Duration,

    /// How often a WebSocket connection is pinged; one silent for a whole interval is closed.
    #[arg(long = "websocket-ping-interval", env = "PROFILES_WEBSOCKET_PING_INTERVAL", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub ping_interval: Duration,
}

impl Default for WebSocketLimits {
    fn default() -> Self {
        crate::settings::defaults()
    }
}

/// Why a connection without a valid token is closed.
const REFUSED: &str = "a valid `Authorization: Bearer` token is required in connection_init";

/// Why an authenticated connection is closed when every place is taken.
const FULL: &str = "too many WebSocket connections (PROFILES_MAX_WEBSOCKETS); try again later";

/// The largest WebSocket message accepted.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Subscriptions one connection may hold at once.
const MAX_SUBSCRIPTIONS: usize = 20;

/// Upgrades a GET of `/graphql` from `peer` to a subscription connection, if it finds a
/// place to wait in for its `connection_init` (503 otherwise, and while every place of
/// an authenticated connection is taken).
pub(crate) fn upgrade(state: AppState, upgrade: WebSocketUpgrade, peer: Option<SocketAddr>) -> HttpResponse {
    let unavailable =
        |message| super::reject(axum::http::StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", message);
    if state.websockets.full() {
        return unavailable(FULL);
    }
    let Some(waiting) = state.websockets.wait(peer.map(|peer| peer.ip())) else {
        return unavailable("too many WebSocket connections waiting for connection_init; try again later");
    };
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve(state, socket, waiting))
}

/// Runs the protocol on `socket` until either side ends it, a timer runs out or the
/// client breaks the protocol; then sends the close frame that says why.
async fn serve(state: AppState, socket: WebSocket, waiting: Waiting) {
    // The protocol the upgrade chose among those the client offered.
    let protocol = socket.protocol().and_then(|chosen| chosen.to_str().ok()?.parse().ok());
    let protocol = protocol.unwrap_or(WebSocketProtocols::GraphQLWS);
    let limits = state.http.websockets.clone();
    let session = Arc::new(Session::new(waiting));
    let running = Running::default();
    let executor = Checked {
        schema: state.schema.clone(),
        documents: state.documents.clone(),
        persisted: state.persisted.clone(),
        running: running.clone(),
    };
    let (mut sink, stream) = socket.split();
    let input = client_messages(stream, session.clone(), running);
    let initialising = session.clone();
    let replies = async_graphql::http::WebSocket::from_message_stream(executor, input, protocol)
        .on_connection_init(move |payload| init(state, initialising, payload));
    let mut replies = std::pin::pin!(replies);
    let init_deadline = tokio::time::sleep(limits.init_timeout);
    let mut init_deadline = std::pin::pin!(init_deadline);
    let start = tokio::time::Instant::now() + limits.ping_interval;
    let mut pings = tokio::time::interval_at(start, limits.ping_interval);
    let close = loop {
        tokio::select! {
            reply = replies.next() => match reply {
                Some(WsMessage::Text(text)) => {
                    if !deliver(&mut sink, Message::Text(text.into()), limits.ping_interval).await {
                        return;
                    }
                }
                Some(WsMessage::Close(code, reason)) => break Some(session.close_or(code, reason)),
                // The client went away, or broke the protocol (its close is recorded).
                None => break session.take_close(),
            },
            () = &mut init_deadline, if !session.admitted() => {
                break Some(close_frame(4408, "Connection initialisation timeout"));
            }
            _ = pings.tick() => {
                if !session.heard_since_last_ping() {
                    break Some(close_frame(3008, "no answer to the last ping"));
                }
                if !deliver(&mut sink, Message::Ping(Default::default()), limits.ping_interval).await {
                    return;
                }
            }
        }
    };
    // Free the place first: a client told of the close may connect again at once.
    session.leave();
    if let Some(frame) = close {
        deliver(&mut sink, Message::Close(Some(frame)), limits.ping_interval).await;
    }
}

/// Sends `message`, unless the client has not taken it within `patience`: a client
/// that stopped reading holds its place no longer than one that stopped answering.
async fn deliver(sink: &mut SplitSink<WebSocket, Message>, message: Message, patience: Duration) -> bool {
    matches!(tokio::time::timeout(patience, sink.send(message)).await, Ok(Ok(())))
}

/// The caller of a connection, from `connection_init`'s payload; an authenticated one
/// moves from its waiting place to one of `PROFILES_MAX_WEBSOCKETS`.
async fn init(state: AppState, session: Arc<Session>, payload: serde_json::Value) -> async_graphql::Result<Data> {
    let caller = if state.auth_required {
        let header = ["Authorization", "authorization"].iter().find_map(|key| payload.get(key)?.as_str());
        let secret = header.and_then(auth::bearer);
        let found = match secret {
            Some(secret) => crate::service::token::caller(&state.db, secret).await,
            None => Ok(None),
        };
        match found {
            Ok(Some(caller)) => caller,
            Ok(None) => return Err(session.refuse(4403, REFUSED)),
            Err(error) => {
                tracing::warn!(%error, "cannot check a WebSocket connection's token");
                return Err(session.refuse(1013, "the service is unavailable; try again later"));
            }
        }
    } else {
        Caller::anyone()
    };
    let Some(place) = state.websockets.admit() else {
        return Err(session.refuse(1013, FULL));
    };
    session.admit(place);
    let mut data = Data::default();
    data.insert(caller);
    Ok(data)
}

/// The client's protocol messages, each seen as async-graphql takes it (so the running
/// ids are exactly those it runs): a `subscribe` before `connection_init` or reusing a
/// running id ends the stream, with the close the protocol gives for it recorded.
fn client_messages(
    mut socket: SplitStream<WebSocket>,
    session: Arc<Session>,
    running: Running,
) -> impl Stream<Item = serde_json::Result<ClientMessage>> {
    async_stream::stream! {
        let mut initialised = false;
        while let Some(Ok(frame)) = socket.next().await {
            session.hear();
            let bytes = match frame {
                Message::Text(_) | Message::Binary(_) => frame.into_data(),
                Message::Close(_) => break,
                // Pongs only tell that the client is there; pings are answered by axum.
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            let mut message = ClientMessage::from_bytes(&bytes);
            match &mut message {
                Ok(ClientMessage::ConnectionInit { .. }) => initialised = true,
                Ok(ClientMessage::Start { .. }) if !initialised => {
                    session.close_with(4401, "Unauthorized".into());
                    break;
                }
                Ok(ClientMessage::Start { id, .. }) if running.contains(id) => {
                    session.close_with(4409, format!("Subscriber for {id} already exists"));
                    break;
                }
                Ok(ClientMessage::Start { id, payload }) => {
                    payload.data.insert(SubscriptionId(id.clone()));
                    if let Some(document_id) = document_id(&bytes) {
                        payload.data.insert(DocumentId(document_id));
                    }
                }
                _ => {}
            }
            yield message;
        }
    }
}

/// The `documentId` of a `subscribe` message's payload (persisted documents), which
/// async-graphql's request does not read.
fn document_id(message: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Message {
        payload: Option<Payload>,
    }
    #[derive(serde::Deserialize)]
    struct Payload {
        #[serde(rename = "documentId")]
        document_id: Option<String>,
    }
    serde_json::from_slice::<Message>(message).ok()?.payload?.document_id
}

/// A subscription's `documentId`, carried on its request to the checks.
struct DocumentId(String);

/// What the connection task and the protocol's callbacks share about one connection.
struct Session {
    place: Mutex<Place>,
    /// Whether the client sent anything since the last ping.
    heard: AtomicBool,
    /// The close to send instead of async-graphql's, or when the client broke the protocol.
    close: Mutex<Option<CloseFrame>>,
}

/// Where a connection is counted: waiting for `connection_init`, then admitted, and
/// nowhere once it is closing.
enum Place {
    Waiting(#[allow(dead_code, reason = "held for its drop")] Waiting),
    Admitted(#[allow(dead_code, reason = "held for its drop")] OwnedSemaphorePermit),
    Left,
}

impl Session {
    fn new(waiting: Waiting) -> Session {
        Session { place: Mutex::new(Place::Waiting(waiting)), heard: AtomicBool::new(true), close: Mutex::new(None) }
    }

    fn admitted(&self) -> bool {
        matches!(*lock(&self.place), Place::Admitted(_))
    }

    /// Takes the connection's admitted place, freeing its waiting one.
    fn admit(&self, place: OwnedSemaphorePermit) {
        *lock(&self.place) = Place::Admitted(place);
    }

    /// Frees the connection's place, whichever it holds.
    fn leave(&self) {
        *lock(&self.place) = Place::Left;
    }

    fn hear(&self) {
        self.heard.store(true, Ordering::Relaxed);
    }

    /// Whether the client was heard since the last call (which starts a new interval).
    fn heard_since_last_ping(&self) -> bool {
        self.heard.swap(false, Ordering::Relaxed)
    }

    fn close_with(&self, code: u16, reason: String) {
        *lock(&self.close) = Some(close_frame(code, &reason));
    }

    /// Records the close for a refused `connection_init`, and the error async-graphql ends it with.
    fn refuse(&self, code: u16, reason: &str) -> async_graphql::Error {
        self.close_with(code, reason.to_owned());
        async_graphql::Error::new(reason)
    }

    fn take_close(&self) -> Option<CloseFrame> {
        lock(&self.close).take()
    }

    /// The recorded close, or else async-graphql's own.
    fn close_or(&self, code: u16, reason: String) -> CloseFrame {
        self.take_close().unwrap_or_else(|| close_frame(code, &reason))
    }
}

fn close_frame(code: u16, reason: &str) -> CloseFrame {
    CloseFrame { code, reason: reason.into() }
}

/// A lock whose holder cannot leave its data half-changed (each is one assignment),
/// so a poisoned one is still sound.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The id a `subscribe` message gave its subscription, carried in its request's data.
struct SubscriptionId(String);

/// The ids of a connection's running subscriptions.
#[derive(Clone, Default)]
struct Running(Arc<Mutex<HashSet<String>>>);

impl Running {
    fn contains(&self, id: &str) -> bool {
        lock(&self.0).contains(id)
    }

    /// Holds `id` as running until the returned guard is dropped (with its stream);
    /// none when the connection already runs its most.
    fn hold(&self, id: String) -> Option<Held> {
        let mut running = lock(&self.0);
        if running.len() >= MAX_SUBSCRIPTIONS {
            return None;
        }
        running.insert(id.clone());
        Some(Held { id, running: self.clone() })
    }
}

/// A running subscription's id, freed when its stream is dropped.
struct Held {
    id: String,
    running: Running,
}

impl Drop for Held {
    fn drop(&mut self) {
        lock(&self.running.0).remove(&self.id);
    }
}

/// The schema behind the checks an HTTP request passes, for one connection.
#[derive(Clone)]
struct Checked {
    schema: AppSchema,
    documents: Arc<crate::graphql::documents::Documents>,
    persisted: Arc<crate::graphql::persisted::Persisted>,
    running: Running,
}

impl Checked {
    /// The checks of an HTTP request: the documents the mode lets run (named by
    /// `documentId` or the APQ extension, or sent as text: `admin` callers may send any
    /// in `hybrid`), the limits, and a subscription.
    fn admit(&self, request: &mut Request, caller: Option<&Caller>) -> Result<(), ServerError> {
        let may_send_text = caller.is_some_and(|caller| caller.may(auth::Scope::Admin));
        let document_id = request.data.get(&std::any::TypeId::of::<DocumentId>());
        let document_id = document_id.and_then(|id| id.downcast_ref::<DocumentId>()).map(|id| id.0.clone());
        self.persisted.resolve(request, document_id.as_deref(), may_send_text)?;
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
        match self.admit(&mut request, None) {
            Ok(()) => self.schema.execute(request).await,
            Err(error) => Response::from_errors(vec![error]),
        }
    }

    fn execute_stream(&self, mut request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let refused =
            |error: ServerError| futures_util::stream::once(async move { Response::from_errors(vec![error]) }).boxed();
        let caller = session_data.as_ref().and_then(|data| data.get(&std::any::TypeId::of::<Caller>()));
        if let Err(error) = self.admit(&mut request, caller.and_then(|caller| caller.downcast_ref::<Caller>())) {
            return refused(error);
        }
        let id = request.data.get(&std::any::TypeId::of::<SubscriptionId>());
        let id = id.and_then(|id| id.downcast_ref::<SubscriptionId>()).map(|id| id.0.clone()).unwrap_or_default();
        let Some(held) = self.running.hold(id) else {
            let message = format!("a connection holds at most {MAX_SUBSCRIPTIONS} subscriptions");
            return refused(crate::graphql::guard::too_complex(message));
        };
        let stream = self.schema.execute_stream_with_session_data(request, session_data.unwrap_or_default());
        stream
            .map(move |response| {
                let _held = &held; // freed when the stream is dropped
                response
            })
            .boxed()
    }
}
