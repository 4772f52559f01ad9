//! GraphQL object types that are not entities themselves.

pub mod connection;
pub mod profile;
