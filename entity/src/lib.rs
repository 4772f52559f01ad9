//! SeaORM entities of the profiles gateway: one module per table.
//!
//! The flat records (address, date, identity, comms, appearance and the reference
//! data) also derive their GraphQL object here, so a column and its GraphQL field are
//! declared once, with one description. `profile` is wrapped by the service crate
//! instead, because its GraphQL type carries derived fields and batched relations.

pub mod address;
pub mod api_token;
pub mod appearance;
pub mod comms;
pub mod enums;
pub mod identity;
pub mod location;
pub mod node;
pub mod prelude;
pub mod profile;
pub mod profile_date;
pub mod profile_event;
pub mod profile_merge;
pub mod profile_status;
pub mod profile_tag;
pub mod scalars;
pub mod status;
pub mod tag;
pub mod tier;
pub mod webhook;
pub mod webhook_delivery;
