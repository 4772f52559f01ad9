//! The entities under short names: `use entity::prelude::*`.

pub use crate::address::Entity as Address;
pub use crate::appearance::Entity as Appearance;
pub use crate::comms::Entity as Comms;
pub use crate::identity::Entity as Identity;
pub use crate::location::Entity as Location;
pub use crate::profile::Entity as Profile;
pub use crate::profile_date::Entity as ProfileDate;
pub use crate::profile_status::Entity as ProfileStatus;
pub use crate::profile_tag::Entity as ProfileTag;
pub use crate::status::Entity as Status;
pub use crate::tag::Entity as Tag;
pub use crate::tier::Entity as Tier;
