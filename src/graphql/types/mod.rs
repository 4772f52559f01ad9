//! GraphQL object types that are not entities themselves.

pub mod connection;
pub mod event;
pub mod page_info;
pub mod profile;
pub mod webhook;
