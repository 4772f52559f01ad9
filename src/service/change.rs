//! What a write did to each profile it changed, and the type of the change event
//! that says so. A leaf: the write seam records changes, the outbox writes their
//! events, webhooks filter by their types.

use uuid::Uuid;

/// What a write did to a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Updated,
    Created,
    Deleted,
    Restored,
    Purged,
}

impl ChangeKind {
    /// Every kind, in the order of [`ChangeKind::event_type`]'s list.
    pub const ALL: [ChangeKind; 5] =
        [ChangeKind::Created, ChangeKind::Updated, ChangeKind::Deleted, ChangeKind::Restored, ChangeKind::Purged];

    /// The type of the change event this kind of change writes.
    pub const fn event_type(self) -> &'static str {
        match self {
            ChangeKind::Created => "profile.created",
            ChangeKind::Updated => "profile.updated",
            ChangeKind::Deleted => "profile.deleted",
            ChangeKind::Restored => "profile.restored",
            ChangeKind::Purged => "profile.purged",
        }
    }
}

/// One profile's change in a write: what happened to it, and the version it left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub profile_id: Uuid,
    pub kind: ChangeKind,
    pub version: i32,
}

/// The event types, as `type` holds them.
pub const TYPES: [&str; 5] = {
    let mut types = [""; 5];
    let mut i = 0;
    while i < types.len() {
        types[i] = ChangeKind::ALL[i].event_type();
        i += 1;
    }
    types
};
