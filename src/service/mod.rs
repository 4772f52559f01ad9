//! Reads and writes against the database, in one folder per capability. Writes run in
//! one transaction each, through the write seam ([`write`]); resolvers, the CLI and
//! the bulk commands call these and only convert the result.
//!
//! The leaves ([`change`], [`draft`], [`page`], [`actor`]) import nothing of the
//! service; [`write`] uses [`events`] to write a write's events and settle deferred
//! ones; [`profiles`], [`reference`] and [`bulk`] write through [`write`].
//! [`one_statement`] is the one other way a profile changes: `updateProfile` of its
//! own columns and `deleteProfile` on PostgreSQL, in one statement with the event,
//! falling back to [`write`] whenever it cannot.
//!
//! Services run with a [`runtime::Services`]: the database, the [`clock`] (the time of
//! every write; tests advance it) and the notifier of committed events
//! (`events::wakeup`), made once by the composition root.

pub(crate) mod actor;
pub mod bulk;
pub(crate) mod change;
pub mod clock;
pub(crate) mod draft;
pub mod error;
pub mod events;
pub(crate) mod nodes;
pub mod one_statement;
pub(crate) mod page;
pub mod profiles;
pub mod reference;
pub mod runtime;
pub mod token;
pub(crate) mod write;
