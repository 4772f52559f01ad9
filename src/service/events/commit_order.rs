//! The commit-order lock (PostgreSQL): writers share it while they draw event numbers,
//! the feed takes it alone (see `events`, "Commit order").

use crate::service::error::Result;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

/// The key of the advisory lock that keeps the feed in commit order (PostgreSQL).
const COMMIT_ORDER_LOCK: i64 = 0x7072_6f66_696c_6573; // "profiles"

/// How [`commit_order`] takes the lock: writers share it, the feed excludes them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Shared,
    Exclusive,
}

/// Takes the commit-order lock until the end of the transaction (PostgreSQL only).
pub(crate) async fn commit_order(txn: &impl ConnectionTrait, mode: Mode) -> Result<()> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let function = match mode {
        Mode::Shared => "pg_advisory_xact_lock_shared",
        Mode::Exclusive => "pg_advisory_xact_lock",
    };
    let lock = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        format!("SELECT {function}($1)"),
        [COMMIT_ORDER_LOCK.into()],
    );
    txn.execute_raw(lock).await?;
    Ok(())
}
