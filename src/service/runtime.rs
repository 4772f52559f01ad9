//! What services run with besides their arguments: the database, the clock, and the
//! notifier of committed events. One [`Services`] per process (per app in tests): the
//! composition root (`app`, `http::AppState`, the CLI, tests' helpers) makes it and
//! hands it down; a service reads the time from its clock, never the system's, and the
//! write seam tells its notifier of the events it commits.

use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::OnceCell;

use sea_orm::DatabaseConnection;

use crate::service::clock::Clock;
use crate::service::events::wakeup::Notifier;

/// The database, the clock and the notifier, shared by clones. It dereferences to the
/// database, so a service that only reads passes it where a connection goes.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub clock: Clock,
    pub notifier: Notifier,
    /// How writes are made (`one_statement`).
    pub writes: WriteSettings,
    /// Whether one-statement writes are on, once decided (`one_statement::applies`).
    pub(crate) one_statement: Arc<OnceCell<bool>>,
}

impl Services {
    /// Services over `db` on `clock`, with a notifier of their own.
    pub fn new(db: DatabaseConnection, clock: Clock) -> Services {
        let notifier = Notifier::new(&db);
        Services { db, clock, notifier, writes: WriteSettings::default(), one_statement: Arc::default() }
    }

    /// These services, writing as `writes` says.
    pub fn with_writes(self, writes: WriteSettings) -> Services {
        Services { writes, one_statement: Arc::default(), ..self }
    }
}

impl Deref for Services {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// Whether updates and deletes of a profile's own columns are one statement.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct WriteSettings {
    /// On PostgreSQL, `updateProfile` of a profile's own columns and `deleteProfile` in
    /// one statement each, their events included. `auto`: on for a database this
    /// release created, off for one it upgraded (a replica of 0.1.0 may still serve it,
    /// and cannot read those events); `on` once none does.
    #[arg(long, env = "PROFILES_ONE_STATEMENT_WRITES", value_enum, default_value_t = Switch::Auto, global = true)]
    pub one_statement_writes: Switch,
}

impl Default for WriteSettings {
    fn default() -> Self {
        crate::settings::defaults()
    }
}

/// A setting that is on, off, or decided by what the service finds.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    Auto,
    On,
    Off,
}
