//! Profiles and what they own: finding one by a key ([`keys`]), the profiles whose
//! email collides with an older one's key ([`collisions`]), the planned read
//! ([`read`], [`positional`]), lists ([`filter`], [`order`]), creating ([`create`]),
//! the lifecycle ([`lifecycle`]: create, update, delete, restore, purge), duplicate
//! candidates ([`duplicates`]), merging duplicates ([`merge`]), the inputs and their
//! rules ([`input`]), the checks writes make first ([`checks`]), and the owned records
//! (addresses, dates, identities, labels, preferences) with their batch loaders
//! ([`relations`]).
//!
//! May use: `write` (every change goes through the seam), `draft`, `page`, `change`,
//! and the domain rules. Nothing here knows of events beyond what the seam does.

pub(crate) mod address;
pub(crate) mod checks;
pub(crate) mod collisions;
pub mod create;
pub(crate) mod dates;
pub(crate) mod duplicates;
pub mod filter;
pub(crate) mod identity;
pub(crate) mod input;
pub(crate) mod keys;
pub(crate) mod labels;
pub(crate) mod lifecycle;
pub(crate) mod merge;
pub(crate) mod order;
pub(crate) mod owned;
mod positional;
pub(crate) mod preferences;
pub(crate) mod read;
pub(crate) mod relations;
