//! Change events: the outbox rows a write commits with its changes, and the
//! feed that reads them back in commit order.
//!
//! [`Write::commit`](crate::service::write::Write::commit) is the only caller of [`write`].
//!
//! **Deferred contexts.** A `profile.created` event is written without its context
//! (`data` holds JSON `null`): until the profile changes again, the profile *is* that
//! context, so writing 5 KB of it per new profile (an import writes 100,000) would only
//! copy what the rows already hold. Reading such an event reads the profile instead
//! ([`contexts`]), as of the event's day. Every change to an existing profile first
//! [`settle`]s the profile's deferred events — [`Write::touch`](crate::service::write::Write::touch)
//! and `touch_many` before they bump versions, purging, restoring, renaming what the
//! context shows of a tag, status, tier or location, and an import for all its updates
//! at once: they write the context the profile still has into them, in the same
//! transaction (a one-statement change writes the state instead). So a deferred
//! event's profile is always at the event's version; a reader that finds it at another
//! has raced with a change, and reads the context or state that change settled. A context is computed by the code that reads it: were the derived
//! fields' rules (phone parts, completeness) to change in a later release, a deferred
//! event would show them as that release derives them.
//!
//! **States.** On PostgreSQL `updateProfile` of a profile's own columns and
//! `deleteProfile` are one statement each (`service::one_statement`), their events
//! included. Such an event holds the profile's *state* instead of its context: the
//! row, the set columns' old values and the relations, as PostgreSQL wrote them into
//! JSON in that statement; its `data` is `{}` and its context and `changed` are
//! derived from the state when it is read ([`state`]). It waits for nothing: the state
//! is complete when it commits. The same statement gives a created event that still
//! waits the state the profile had.
//!
//! **Commit order.** A reader of the whole feed pages with `seq > cursor`, so it must
//! never see an event while one with a smaller `seq` is still uncommitted (it would
//! skip that one for good). On PostgreSQL a write takes a transaction-scoped advisory
//! lock in *shared* mode just before it draws its sequence numbers, and holds it to its
//! commit: writers do not wait for one another. The feed reads under the same lock in
//! *exclusive* mode, which it gets only once every writer holding it has committed, so
//! every number drawn before its read is committed when it reads. A profile's own
//! events need no lock: two writes to one profile are serialised by its row. On SQLite
//! writers are serialised anyway (`BEGIN IMMEDIATE`).
//!
//! The files: [`outbox`] writes a write's events (the seam's commit calls it),
//! [`deferred`] reads and settles deferred contexts, [`state`] derives a state's, [`context`] builds a context,
//! [`feed`] reads events back, [`subscribers`] queues deliveries, [`webhooks`] manages
//! the endpoints, [`targets`] says where they may point, [`delivery`] sends
//! ([`pacing`]: each webhook's share), [`wakeup`] wakes what waits, [`commit_order`] is
//! the lock. May use: `profiles::read` (contexts are planned reads), `change`, `actor`,
//! `page`, `draft`.

pub(crate) mod commit_order;
pub(crate) mod context;
pub mod deferred;
pub mod delivery;
pub mod feed;
pub(crate) mod outbox;
pub(crate) mod pacing;
pub(crate) mod state;
pub(crate) mod subscribers;
pub mod targets;
pub mod wakeup;
pub mod webhooks;
