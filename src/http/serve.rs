//! Accepting and serving connections, with the bounds `axum::serve` does not set.
//!
//! - **Header-read timeout**: a connection must send a request's whole header within
//!   `PROFILES_HEADER_TIMEOUT` of opening (or of its first byte, on a kept-alive
//!   connection), else it is closed: silent and slowloris connections go away.
//! - **Idle timeout**: a kept-alive connection with no traffic either way for
//!   `PROFILES_IDLE_TIMEOUT` is closed (after the response in flight, if any).
//! - **Connection cap**: at most `PROFILES_MAX_CONNECTIONS` are served at once; the
//!   next waits in the listen backlog until one closes.
//! - **Graceful shutdown**: on the stop signal the listener closes, every connection
//!   finishes the request it is serving and closes, and the loop returns when the last
//!   one has.
//!
//! A request's own time is bounded by `PROFILES_REQUEST_TIMEOUT` (the router's layer),
//! which also covers a body sent slowly.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tower_http::add_extension::AddExtension;

/// How connections are bounded (the README's configuration table).
#[derive(clap::Args, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Longest a client may take to send a request's headers.
    #[arg(long, env = "PROFILES_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub header_timeout: Duration,

    /// Longest a kept-alive connection may stay silent before it is closed.
    #[arg(long, env = "PROFILES_IDLE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration, global = true)]
    pub idle_timeout: Duration,

    /// Most connections served at once; more wait to be accepted.
    #[arg(long, env = "PROFILES_MAX_CONNECTIONS", default_value_t = 512, global = true)]
    pub max_connections: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        crate::settings::defaults()
    }
}

/// A listener with the app it serves, not yet running.
pub struct Server {
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    accepting: watch::Sender<bool>,
}

impl Server {
    pub fn new(listener: TcpListener, app: Router, limits: ConnectionLimits) -> Server {
        Server { listener, app, limits, accepting: watch::Sender::new(true) }
    }

    /// Whether the listener still accepts: false once a stop closed it.
    pub fn accepting(&self) -> watch::Receiver<bool> {
        self.accepting.subscribe()
    }

    /// Serves until `stop` turns true, then closes the listener and drains the
    /// connections: it returns when the last one has closed.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let Server { listener, app, limits, accepting } = self;
        let max = limits.max_connections.max(1);
        let slots = Arc::new(Semaphore::new(max as usize));
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => slot,
                () = stopped(&mut stop) => break,
            };
            let Ok(slot) = slot else { break };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, say: wait a little rather than spin.
                        tracing::warn!(%error, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = stopped(&mut stop) => break,
            };
            let _ = stream.set_nodelay(true);
            let (io, activity) = Watched::new(stream);
            // The peer's address, for bounds per client (`ConnectInfo`, as `axum::serve` gives it).
            let app = AddExtension::new(app.clone(), ConnectInfo(peer));
            let connection = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(app)).with_upgrades();
            tokio::spawn(serve_connection(connection, activity, limits.idle_timeout, stop.clone(), slot));
        }
        drop(listener);
        accepting.send_replace(false);
        // Every connection holds a slot until it closes: having them all means none is left.
        let _ = slots.acquire_many(max).await;
    }
}

/// The connection of one client: HTTP/1 over a watched TCP stream, served by the router.
type Connection = hyper::server::conn::http1::UpgradeableConnection<
    TokioIo<Watched>,
    TowerToHyperService<AddExtension<Router, ConnectInfo<SocketAddr>>>,
>;

/// Serves one connection until it ends, closing it gracefully when it has been idle
/// too long or when the server stops.
async fn serve_connection(
    connection: Connection,
    activity: Arc<Activity>,
    idle: Duration,
    mut stop: watch::Receiver<bool>,
    _slot: tokio::sync::OwnedSemaphorePermit,
) {
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let quiet_until = activity.last() + idle;
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                break;
            }
            () = stopped(&mut stop), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(quiet_until), if !closing => {
                if activity.last() + idle <= Instant::now() {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Resolves once `stop` turns true (or its sender is gone). The value is not kept, so
/// the future holds no lock on it and stays `Send`.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await.map(|_| ());
}

/// When a connection last moved a byte either way.
struct Activity {
    start: Instant,
    millis: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let millis = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.millis.store(millis, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.millis.load(Ordering::Relaxed))
    }
}

/// A TCP stream that records when it last read or wrote.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Watched {
    fn new(stream: TcpStream) -> (Watched, Arc<Activity>) {
        let activity = Arc::new(Activity { start: Instant::now(), millis: AtomicU64::new(0) });
        (Watched { stream, activity: activity.clone() }, activity)
    }
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
