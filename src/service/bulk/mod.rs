//! Bulk movement of profiles (SPEC §8): [`import`] matches validated rows to profiles
//! by a key and creates or updates them a wave at a time; [`export`] reads every
//! profile in the import format, a keyset page at a time.
//!
//! May use: `profiles` (creating, checking, reading), `write`, `events::context`.

pub mod export;
pub mod import;
