//! Rules with no I/O: phone numbers, birthday arithmetic, names and completeness, tag
//! handles. Pure functions, unit-tested beside their code.

pub(crate) mod birthday;
pub(crate) mod person;
pub mod phone;
pub(crate) mod tag;
pub mod validate;
