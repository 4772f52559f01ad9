//! Rules with no I/O: phone numbers, birthday arithmetic, names and completeness, tag
//! handles. Pure functions, unit-tested beside their code.

pub mod birthday;
pub mod person;
pub mod phone;
pub mod tag;
pub mod validate;
