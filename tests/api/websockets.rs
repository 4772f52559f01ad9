//! WebSocket connections that cannot lock others out: the places of sockets
//! not yet authenticated (in all and per client address), the connection-init timeout,
//! pings, and the graphql-transport-ws close codes, through raw frames from a real
//! client (tokio-tungstenite). Timers are short settings the tests wait out by waiting
//! for the close frame, never by sleeping.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use profiles_gateway::auth::Scope;
use profiles_gateway::http::{HttpLimits, WebSocketLimits};
use profiles_gateway::service::token;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{Options, TestApp};
use crate::webhooks::{Socket, next, serve};

/// A client address on loopback other than 127.0.0.1 (all of 127/8 is loopback on Linux).
fn client(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// An app with these WebSocket limits, served on a real port.
async fn served(
    websockets: WebSocketLimits,
    trusted_proxies: Vec<IpAddr>,
    auth_required: bool,
) -> (TestApp, SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let http = HttpLimits { websockets, trusted_proxies, ..HttpLimits::default() };
    let app = TestApp::spawn_with(Options { http, auth_required, ..Options::default() }).await;
    let (address, stop) = serve(&app).await;
    (app, address, stop)
}

/// Upgrades `GET /graphql` to graphql-transport-ws from the address `from`, sending
/// nothing more; the HTTP status when the upgrade is refused.
async fn upgrade_from<S>(
    from: IpAddr,
    address: SocketAddr,
    wrap: impl FnOnce(TcpStream) -> S,
) -> Result<WebSocketStream<S>, u16>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.bind(SocketAddr::new(from, 0)).expect("bound to the client address");
    let stream = socket.connect(address).await.expect("connected");
    let mut request = format!("ws://{address}/graphql").into_client_request().expect("a request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("a header"));
    match tokio_tungstenite::client_async(request, wrap(stream)).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("the upgrade neither succeeds nor is refused: {other}"),
    }
}

/// A graphql-transport-ws socket from `from`, like [`crate::webhooks::connect`]'s.
async fn open_from(from: IpAddr, address: SocketAddr) -> Result<Socket, u16> {
    upgrade_from(from, address, MaybeTlsStream::Plain).await
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(socket: &mut WebSocketStream<S>, message: Value) {
    socket.send(Message::Text(message.to_string().into())).await.expect("sent");
}

fn init(token: Option<&str>) -> Value {
    let payload = token.map_or(json!({}), |t| json!({ "Authorization": format!("Bearer {t}") }));
    json!({ "type": "connection_init", "payload": payload })
}

fn subscribe(id: &str) -> Value {
    let query = "subscription { profileEvents { id } }";
    json!({ "id": id, "type": "subscribe", "payload": { "query": query } })
}

/// Sends `connection_init` (with `token`) and asserts it is acknowledged.
async fn acknowledged(socket: &mut Socket, token: Option<&str>) {
    send(socket, init(token)).await;
    assert_eq!(next(socket).await.expect("an ack")["type"], "connection_ack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_silent_after_the_upgrade_is_closed_with_4408_and_frees_its_place() {
    let limits = WebSocketLimits {
        max_pending_per_client: 1,
        init_timeout: Duration::from_millis(300),
        ..WebSocketLimits::default()
    };
    let (_app, address, _stop) = served(limits, vec![], false).await;
    let mut silent = open_from(client(1), address).await.expect("a WebSocket");
    assert_eq!(open_from(client(1), address).await.err(), Some(503), "the client's one waiting place is taken");

    assert_eq!(next(&mut silent).await, Err(4408), "closed for not initialising in time");
    let mut again = open_from(client(1), address).await.expect("the place is free again");
    acknowledged(&mut again, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribe_before_connection_init_is_closed_with_4401() {
    let (_app, address, _stop) = served(WebSocketLimits::default(), vec![], false).await;
    let mut socket = open_from(client(1), address).await.expect("a WebSocket");
    send(&mut socket, subscribe("1")).await;
    assert_eq!(next(&mut socket).await, Err(4401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribe_reusing_a_running_id_is_closed_with_4409_and_a_completed_id_is_free() {
    let (_app, address, _stop) = served(WebSocketLimits::default(), vec![], false).await;
    let mut socket = open_from(client(1), address).await.expect("a WebSocket");
    acknowledged(&mut socket, None).await;
    // Completed by the client, an id may be used again; while it runs it may not.
    send(&mut socket, subscribe("1")).await;
    send(&mut socket, json!({ "id": "1", "type": "complete" })).await;
    send(&mut socket, subscribe("1")).await;
    send(&mut socket, subscribe("1")).await;
    assert_eq!(next(&mut socket).await, Ok(json!({ "type": "complete", "id": "1" })), "the first one ended");
    assert_eq!(next(&mut socket).await, Err(4409), "the running one is not silently replaced");
}

/// With tokens required, sockets that never authenticate hold only their own places:
/// a client address fills its share, and authenticated clients still get every place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_never_authenticate_cannot_take_the_places_of_those_that_do() {
    let limits = WebSocketLimits {
        max: 2,
        max_pending: 4,
        max_pending_per_client: 2,
        init_timeout: Duration::from_secs(60),
        ..WebSocketLimits::default()
    };
    let (app, address, _stop) = served(limits, vec![], true).await;
    let reader = token::create(&app.services, "reader", &[Scope::ProfilesRead]).await.expect("a token").1;

    let mut idle = Vec::new();
    for _ in 0..2 {
        idle.push(open_from(client(1), address).await.expect("a WebSocket"));
    }
    assert_eq!(open_from(client(1), address).await.err(), Some(503), "one address fills only its share");

    for n in [2, 3] {
        let mut socket = open_from(client(n), address).await.expect("a WebSocket");
        acknowledged(&mut socket, Some(&reader)).await;
        idle.push(socket);
    }
    assert_eq!(
        open_from(client(4), address).await.err(),
        Some(503),
        "the authenticated ones hold both places of PROFILES_MAX_WEBSOCKETS"
    );
}

/// A trusted proxy's peer stands for many clients: it is bounded only in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_is_bounded_only_by_the_places_in_all() {
    let limits = WebSocketLimits {
        max_pending: 2,
        max_pending_per_client: 1,
        init_timeout: Duration::from_secs(60),
        ..WebSocketLimits::default()
    };
    let (_app, address, _stop) = served(limits, vec![client(1)], true).await;
    let _first = open_from(client(1), address).await.expect("a WebSocket");
    let _second = open_from(client(1), address).await.expect("past the per-client bound");
    assert_eq!(open_from(client(1), address).await.err(), Some(503), "but not past the bound in all");
    assert_eq!(open_from(client(2), address).await.err(), Some(503), "which holds for everyone");
}

/// A TCP stream whose writes, once muted, go nowhere: a client that still reads but
/// whose pongs never arrive.
struct Deaf {
    stream: TcpStream,
    muted: Arc<AtomicBool>,
}

impl AsyncRead for Deaf {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Deaf {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        if self.muted.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(data.len()));
        }
        Pin::new(&mut self.stream).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_answering_pings_stays_and_one_that_does_not_is_closed_with_3008() {
    let limits = WebSocketLimits { ping_interval: Duration::from_millis(300), ..WebSocketLimits::default() };
    let (_app, address, _stop) = served(limits, vec![], false).await;

    // tokio-tungstenite answers each ping as it reads it.
    let mut live = open_from(client(1), address).await.expect("a WebSocket");
    acknowledged(&mut live, None).await;
    let mut pings = 0;
    while pings < 3 {
        match tokio::time::timeout(Duration::from_secs(20), live.next()).await.expect("a frame in time") {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("only pings are expected: {other:?}"),
        }
    }
    send(&mut live, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut live).await, Ok(json!({ "type": "pong" })), "still served after three pings");

    let muted = Arc::new(AtomicBool::new(false));
    let deafen = |stream| Deaf { stream, muted: muted.clone() };
    let mut deaf = upgrade_from(client(2), address, deafen).await.expect("a WebSocket");
    send(&mut deaf, init(None)).await;
    muted.store(true, Ordering::SeqCst);
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(20), deaf.next()).await.expect("a frame in time") {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            other => panic!("the connection ended without a close frame: {other:?}"),
        }
    };
    assert_eq!(closed, Some(3008), "closed after an interval without a pong");
}
