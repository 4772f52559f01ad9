//! Waking what waits for new events — the delivery worker and subscriptions — when a
//! write commits some, on whichever replica it committed.
//!
//! A [`Notifier`] is made once per process (per app: the composition root makes it,
//! and hands it to the write seam, the delivery worker and subscriptions, in
//! `service::runtime::Services`). `Write::commit` calls [`Notifier::committed`] after a
//! commit that wrote events. On SQLite there is one process, and that wakes its
//! waiters. On PostgreSQL it sends `NOTIFY
//! profile_events` on its own, once the commit is done — at most one in flight per
//! notifier, 10 ms after the first commit it covers — which PostgreSQL delivers to
//! every connection listening on the channel: each notifier keeps one, from its first
//! waiter on, in a pool of its own (it never takes a request's connection), and
//! reconnects when it is lost. Not in
//! the write's transaction: a NOTIFY there serialises commits (pgbench, 16 clients
//! inserting a row: 8,271 commits/s, 3,322 with a NOTIFY in each). Either way a
//! wake-up only says "look again": waiters also poll, so one that is lost (a process
//! killed right after its commit) costs a poll interval, never an event.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use tokio::sync::watch;

/// The PostgreSQL channel a write that wrote events notifies at its commit.
pub(crate) const CHANNEL: &str = "profile_events";

/// What waiters hold: it changes when events may have been committed.
pub(crate) type Wakeups = watch::Receiver<u64>;

/// Waits until `wake` changes or `poll` has passed, whichever comes first.
pub async fn wait(wake: &mut Wakeups, poll: Duration) {
    // A closed channel (its listener gone) leaves the poll.
    let _ = tokio::time::timeout(poll, async {
        if wake.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await;
}

fn bump(count: &mut u64) {
    *count = count.wrapping_add(1);
}

/// How long a NOTIFY waits for the commits that follow the first it covers.
const NOTIFY_DELAY: Duration = Duration::from_millis(10);

/// Wakes this process's waiters when events may have been committed (see the module's
/// notes). Its clones share it.
#[derive(Clone)]
pub struct Notifier(Arc<Inner>);

struct Inner {
    /// The database whose commits it tells of (PostgreSQL: the NOTIFY goes there).
    db: DatabaseConnection,
    /// Changes when events may have been committed: by this notifier's commits on
    /// SQLite, by what the listener hears on PostgreSQL.
    wake: Arc<watch::Sender<u64>>,
    /// Whether a NOTIFY is scheduled (PostgreSQL).
    scheduled: Arc<AtomicBool>,
    /// The PostgreSQL listener, started with the first waiter; it stops with the notifier.
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Counts the waiters that ever started waiting ([`Notifier::waiters`]).
    waiters: watch::Sender<u64>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(Some(listener)) = self.listener.get_mut().map(Option::take) {
            listener.abort();
        }
    }
}

impl Notifier {
    /// A notifier for the commits to `db`. Nothing is started yet: on PostgreSQL the
    /// listener starts with the first [`Notifier::wakeups`].
    pub(crate) fn new(db: &DatabaseConnection) -> Notifier {
        Notifier(Arc::new(Inner {
            db: db.clone(),
            wake: Arc::new(watch::Sender::new(0)),
            scheduled: Arc::default(),
            listener: Mutex::new(None),
            waiters: watch::Sender::new(0),
        }))
    }

    fn postgres(&self) -> bool {
        self.0.db.get_database_backend() == DatabaseBackend::Postgres
    }

    /// Called after a commit that wrote events (see the module's notes).
    pub(crate) fn committed(&self) {
        if !self.postgres() {
            self.0.wake.send_modify(bump);
            return;
        }
        let scheduled = self.0.scheduled.clone();
        if scheduled.swap(true, Ordering::SeqCst) {
            return; // the NOTIFY already scheduled is sent after this commit
        }
        let db = self.0.db.clone();
        tokio::spawn(async move {
            tokio::time::sleep(NOTIFY_DELAY).await;
            // Cleared first: a commit from now on schedules another.
            scheduled.store(false, Ordering::SeqCst);
            if let Err(error) = db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await {
                tracing::warn!(%error, "cannot notify other processes of committed events; they poll");
            }
        });
    }

    /// A receiver that changes whenever events may have been committed to the database
    /// (by any process, on PostgreSQL). Must be called inside a Tokio runtime on
    /// PostgreSQL: the first starts the listener.
    pub fn wakeups(&self) -> Wakeups {
        let receiver = self.0.wake.subscribe();
        if self.postgres()
            && let Ok(mut listener) = self.0.listener.lock()
            && listener.is_none()
        {
            let options = (*self.0.db.get_postgres_connection_pool().connect_options()).clone();
            let pool = PgPoolOptions::new().max_connections(1).connect_lazy_with(options);
            let sender = self.0.wake.clone();
            *listener = Some(tokio::spawn(async move { listen(&pool, &sender).await }));
        }
        self.0.waiters.send_modify(bump);
        receiver
    }

    /// How many waiters have started waiting (it only grows): a subscription counts
    /// once its starting point is read, so a test can wait until it is set up.
    pub fn waiters(&self) -> watch::Receiver<u64> {
        self.0.waiters.subscribe()
    }
}

/// Listens for ever, reconnecting with a growing pause (up to 10 s) while PostgreSQL
/// cannot be reached.
async fn listen(pool: &sea_orm::sqlx::PgPool, sender: &watch::Sender<u64>) {
    let mut pause = Duration::from_millis(100);
    loop {
        let session: Result<Infallible, sea_orm::sqlx::Error> = async {
            let mut listener = PgListener::connect_with(pool).await?;
            listener.listen(CHANNEL).await?;
            // Whatever committed while no one listened is found by looking again.
            sender.send_modify(bump);
            loop {
                listener.recv().await?;
                sender.send_modify(bump);
            }
        }
        .await;
        let Err(error) = session;
        tracing::warn!(%error, "listening for committed events failed; polling until it is back");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}
