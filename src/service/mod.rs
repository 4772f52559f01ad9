//! Reads and writes against the database, one file per noun. Writes run in one
//! transaction each; resolvers call these and only convert the result.

pub mod checks;
pub mod page;
pub mod profile;
pub mod profile_write;
pub mod reference;
pub mod write;
