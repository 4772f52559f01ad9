//! Profiles and what they own: finding one by a key ([`keys`]), the planned read
//! ([`read`], [`positional`]), lists ([`filter`], [`order`]), creating ([`create`]),
//! the lifecycle ([`lifecycle`]: create, update, delete, restore, purge), the inputs
//! and their rules ([`input`]), the checks writes make first ([`checks`]), and the
//! owned records (addresses, dates, identities, labels, preferences) with their batch
//! loaders ([`relations`]).
//!
//! May use: `write` (every change goes through the seam), `draft`, `page`, `change`,
//! and the domain rules. Nothing here knows of events beyond what the seam does.

pub mod address;
pub mod checks;
pub mod create;
pub mod dates;
pub mod filter;
pub mod identity;
pub mod input;
pub mod keys;
pub mod labels;
pub mod lifecycle;
pub mod order;
pub mod owned;
mod positional;
pub mod preferences;
pub mod read;
pub mod relations;
