//! Change events: the outbox rows a write commits with its changes, and the
//! feed that reads them back in commit order.
//!
//! [`Write::commit`](crate::service::write::Write::commit) is the only caller of [`write`].
//!
//! **Deferred contexts.** A `profile.created` event is written without its context
//! (`data` holds JSON `null`): until the profile changes again, the profile *is* that
//! context, so writing 5 KB of it per new profile (an import writes 100,000) would only
//! copy what the rows already hold. Reading such an event reads the profile instead
//! ([`contexts`]), as of the event's day. Every change to an existing profile through
//! the write seam first [`settle`]s the profile's deferred events — [`Write::touch`](crate::service::write::Write::touch)
//! and `touch_many` before they bump versions, purging, restoring, renaming what the
//! context shows of a tag, status, tier or location, and an import for all its updates
//! at once: they write the context the profile still has into them, in the same
//! transaction. So while an event waits, its profile is as it was at the event (but
//! for the row, where the event holds its own: see "States"). A reader reads the
//! profile and the events still waiting in one statement; an event no longer among
//! them raced with a change, and it reads the context that change settled. A context is computed by the code that reads it: were the derived
//! fields' rules (phone parts, completeness) to change in a later release, a deferred
//! event would show them as that release derives them.
//!
//! **States.** On PostgreSQL a change of a profile's own columns alone is one
//! statement (`service::one_statement`), its event included, and it reads nothing the
//! profile holds. Its event holds the profile's *state* instead of a context: the row
//! as changed and the set columns' old values, as PostgreSQL wrote them into JSON
//! ([`state`], which also derives `changed` from them). It waits like a created event:
//! its relations are the profile's until they change, and whatever changes them
//! settles it first, with its own row ([`deferred::context_of`]). The same statement
//! gives a waiting created event the row it was created with. At most
//! `one_statement::MOST_WAITING` events of a profile wait: the next change takes the
//! write seam, which settles them.
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
