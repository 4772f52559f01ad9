//! GraphQL object types that are not entities themselves.

pub(crate) mod connection;
pub(crate) mod event;
pub(crate) mod merge;
pub(crate) mod node;
pub(crate) mod page_info;
pub(crate) mod profile;
pub(crate) mod webhook;
