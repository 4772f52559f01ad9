//! What a write did to each profile it changed, and the type of the change event
//! that says so. A leaf: the write seam records changes, the outbox writes their
//! events, webhooks filter by their types.

use entity::enums::EventKind;
use uuid::Uuid;

/// What a write did to a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ChangeKind {
    Updated,
    /// Other profiles were merged into this one (the survivor).
    Merged,
    Created,
    Deleted,
    Restored,
    Purged,
}

impl ChangeKind {
    /// The type of the change event this kind of change writes.
    pub(crate) const fn event_type(self) -> EventKind {
        match self {
            ChangeKind::Created => EventKind::Created,
            ChangeKind::Updated => EventKind::Updated,
            ChangeKind::Deleted => EventKind::Deleted,
            ChangeKind::Restored => EventKind::Restored,
            ChangeKind::Purged => EventKind::Purged,
            ChangeKind::Merged => EventKind::Merged,
        }
    }
}

/// One profile's change in a write: what happened to it, and the version it left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    pub profile_id: Uuid,
    pub kind: ChangeKind,
    pub version: i32,
}
