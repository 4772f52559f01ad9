//! What services run with besides their arguments: the database, the clock, and the
//! notifier of committed events. One [`Services`] per process (per app in tests): the
//! composition root (`app`, `http::AppState`, the CLI, tests' helpers) makes it and
//! hands it down; a service reads the time from its clock, never the system's, and the
//! write seam tells its notifier of the events it commits.

use std::ops::Deref;

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
}

impl Services {
    /// Services over `db` on `clock`, with a notifier of their own.
    pub fn new(db: DatabaseConnection, clock: Clock) -> Services {
        let notifier = Notifier::new(&db);
        Services { db, clock, notifier }
    }
}

impl Deref for Services {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.db
    }
}
