//! The commit-order lock (PostgreSQL): writers share it while they draw event numbers
//! (taken in the statement that inserts their events, `outbox`), the feed takes it
//! alone (see `events`, "Commit order").

use crate::service::error::Result;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

/// The key of the advisory lock that keeps the feed in commit order (PostgreSQL).
pub(crate) const COMMIT_ORDER_LOCK: i64 = 0x7072_6f66_696c_6573; // "profiles"

/// Takes the commit-order lock alone until the end of the transaction (PostgreSQL
/// only): once every writer that holds it shared has committed.
pub(crate) async fn exclusive(txn: &impl ConnectionTrait) -> Result<()> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let lock = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [COMMIT_ORDER_LOCK.into()],
    );
    txn.execute_raw(lock).await?;
    Ok(())
}
