//! The arguments of the `profiles` list as GraphQL sees them: filter, time ranges and
//! order. Each becomes the service's plain value; the service's refusals come back as
//! BAD_USER_INPUT naming the argument.

use async_graphql::{Enum, ID, InputObject};
use chrono::{DateTime, Utc};
use entity::enums::ProfileType;

use crate::service::error::Error as ServiceError;
use crate::service::profiles::{filter as profile_filter, order as profile_order};

/// A time range: `from` inclusive, `to` exclusive; either may be open.
#[derive(Clone, Debug, Default, InputObject)]
pub(crate) struct TimeRange {
    /// From this time on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this time (exclusive).
    pub to: Option<DateTime<Utc>>,
}

/// Which profiles to list. Fields combine with AND; list fields hold at most 250 items.
#[derive(Clone, Debug, Default, InputObject)]
pub(crate) struct ProfileFilter {
    /// This email, compared case-insensitively.
    pub email: Option<String>,
    /// This mobile phone, in any format a write accepts.
    pub mobile_phone: Option<String>,
    /// This first name, ignoring ASCII case.
    pub first_name: Option<String>,
    /// This last name, ignoring ASCII case.
    pub last_name: Option<String>,
    /// Any of these types. By default every type but `DELETED`.
    pub profile_type: Option<Vec<ProfileType>>,
    /// In this tier.
    pub tier_handle: Option<String>,
    /// Holding all of these tags (handles, normalised).
    pub tags: Option<Vec<String>>,
    /// Holding any of these tags (handles, normalised).
    pub any_tags: Option<Vec<String>>,
    /// Holding all of these statuses (handles, normalised).
    pub statuses: Option<Vec<String>>,
    /// Preferring this location.
    pub preferred_location_id: Option<ID>,
    /// Joined at this location.
    pub joined_location_id: Option<ID>,
    /// With an identity in this other system, e.g. `shopify`.
    pub identity_handle: Option<String>,
    /// Created in this range.
    pub created_at: Option<TimeRange>,
    /// Last changed in this range.
    pub updated_at: Option<TimeRange>,
    /// Joined in this range.
    pub joined_at: Option<TimeRange>,
    /// Born in this month, 1–12.
    pub birth_month: Option<i32>,
    /// With a birthday from today (UTC) to this many days ahead, 0–366, across the year
    /// end; a 29 February birthday counts on 28 February in other years.
    pub birthday_within_days: Option<i32>,
    /// With an email (true) or without one (false).
    pub has_email: Option<bool>,
    /// With a mobile phone (true) or without one (false).
    pub has_mobile_phone: Option<bool>,
}

impl From<TimeRange> for profile_filter::TimeRange {
    fn from(range: TimeRange) -> Self {
        profile_filter::TimeRange { from: range.from, to: range.to }
    }
}

impl From<ProfileFilter> for profile_filter::ProfileFilter {
    fn from(f: ProfileFilter) -> Self {
        profile_filter::ProfileFilter {
            email: f.email,
            mobile_phone: f.mobile_phone,
            first_name: f.first_name,
            last_name: f.last_name,
            profile_type: f.profile_type,
            tier_handle: f.tier_handle,
            tags: f.tags,
            any_tags: f.any_tags,
            statuses: f.statuses,
            preferred_location_id: f.preferred_location_id.map(|id| id.0),
            joined_location_id: f.joined_location_id.map(|id| id.0),
            identity_handle: f.identity_handle,
            created_at: f.created_at.map(Into::into),
            updated_at: f.updated_at.map(Into::into),
            joined_at: f.joined_at.map(Into::into),
            birth_month: f.birth_month,
            birthday_within_days: f.birthday_within_days,
            has_email: f.has_email,
            has_mobile_phone: f.has_mobile_phone,
        }
    }
}

/// What the list can be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum)]
#[graphql(remote = "profile_order::ProfileOrderField")]
pub(crate) enum ProfileOrderField {
    /// When the profile was created (the default).
    #[default]
    CreatedAt,
    /// When the profile last changed.
    UpdatedAt,
    /// First name, ignoring ASCII case; profiles without one come last.
    FirstName,
    /// Last name, ignoring ASCII case; profiles without one come last.
    LastName,
    /// Email, ignoring case and accent composition (its key); profiles without one, or
    /// whose email waits to be merged with an older profile's, come last.
    Email,
    /// The next birthday from today (UTC); profiles without birth month and day come last.
    NextBirthday,
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum)]
#[graphql(remote = "profile_order::OrderDirection")]
pub(crate) enum OrderDirection {
    /// Smallest first (the default).
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// An order of the profile list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, InputObject)]
pub(crate) struct ProfileOrder {
    /// What to order by.
    pub field: ProfileOrderField,
    /// Which way; ties are broken by id in the same direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl From<ProfileOrder> for profile_order::Sort {
    fn from(order: ProfileOrder) -> Self {
        profile_order::Sort { field: order.field.into(), direction: order.direction.into() }
    }
}

/// A service refusal of a list argument as BAD_USER_INPUT: "`filter.birthMonth` must
/// be between 1 and 12".
pub(crate) fn refused(refusal: profile_filter::Refusal) -> ServiceError {
    let path = refusal.field.unwrap_or_default().join(".");
    ServiceError::BadInput(format!("`{path}` {}", refusal.message))
}
