//! Bulk movement of profiles: [`read`] reads and validates an import's rows
//! ([`row`] is what it reads them into; [`embedded`], the reference records they name
//! by natural key), [`import`] matches them to profiles by a key, finds or makes their
//! [`references`] and [`create`]s or [`update`]s them a wave at a time; [`export`]
//! reads every profile in the import format, a keyset page at a time. [`known`] holds
//! the keys a row may have, [`json`] reads a row refusing a key given twice, and
//! [`formula`] keeps CSV cells from running as spreadsheet formulas.
//!
//! May use: `profiles` (the input and its rules, creating, checking, reading),
//! `write`, `events::context`.

mod create;
mod embedded;
pub mod export;
pub(crate) mod formula;
pub(crate) mod import;
pub(crate) mod json;
pub mod known;
pub(crate) mod read;
mod references;
pub mod row;
mod update;
