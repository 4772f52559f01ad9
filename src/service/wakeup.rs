//! Waking what waits for new events — the delivery worker and subscriptions — when a
//! write commits some, on whichever replica it committed.
//!
//! On PostgreSQL a write that wrote events sends `NOTIFY profile_events` in its
//! transaction (`events::write`), which PostgreSQL delivers at the commit to every
//! connection listening on the channel: each process keeps one, in a pool of its own
//! (it never takes a request's connection), and reconnects when it is lost. On SQLite
//! there is one process: [`committed`], which `Write::commit` calls, wakes it. Either
//! way a wake-up only says "look again": waiters also poll, so one that is lost costs
//! a poll interval, never an event.

use std::convert::Infallible;
use std::sync::LazyLock;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};
use tokio::sync::watch;

use super::events::CHANNEL;

/// What waiters hold: it changes when events may have been committed.
pub type Wakeups = watch::Receiver<u64>;

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

/// Changes whenever this process commits events (the SQLite signal).
static LOCAL: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::Sender::new(0));

fn bump(count: &mut u64) {
    *count = count.wrapping_add(1);
}

/// Called after a commit that wrote events.
pub(crate) fn committed() {
    LOCAL.send_modify(bump);
}

/// Sends `NOTIFY profile_events` on PostgreSQL (at the commit, inside a transaction):
/// every replica's waiters look again.
pub(crate) async fn notify(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}

/// A receiver that changes whenever events may have been committed to `db` (by any
/// process, on PostgreSQL). Must be called inside a Tokio runtime on PostgreSQL: it
/// starts the listener, which stops when every receiver is dropped.
pub fn wakeups(db: &DatabaseConnection) -> Wakeups {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return LOCAL.subscribe();
    }
    let options = (*db.get_postgres_connection_pool().connect_options()).clone();
    let pool = PgPoolOptions::new().max_connections(1).connect_lazy_with(options);
    let (sender, receiver) = watch::channel(0);
    tokio::spawn(async move {
        tokio::select! {
            () = listen(&pool, &sender) => {}
            () = sender.closed() => {}
        }
        pool.close().await;
    });
    receiver
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
