//! Reads and writes against the database, one file per noun. Writes run in one
//! transaction each; resolvers call these and only convert the result.

pub mod actor;
pub mod address;
pub mod checks;
pub mod context;
pub mod delivery;
pub mod draft;
pub mod events;
pub mod export;
pub mod identity;
pub mod import;
pub mod labels;
pub mod owned;
pub mod page;
mod positional;
pub mod preferences;
pub mod profile;
pub mod profile_date;
pub mod profile_filter;
pub mod profile_order;
pub mod profile_write;
pub mod read;
pub mod reference;
pub mod relations;
pub mod token;
pub mod wakeup;
pub mod webhook;
pub mod write;
