//! Which profiles a list shows: `ProfileFilter` (all fields combine with AND) and free
//! text `search`, as one condition. Every part can use an index.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use entity::enums::ProfileType;
use entity::{identity, profile, profile_status, profile_tag, status, tag};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, DatabaseBackend};

use crate::domain::phone::{self, Region};
use crate::domain::tag::normalize_handle;
use crate::domain::validate;
use crate::domain::validate::{UserError, UserErrorCode};
use crate::service::error::Result;

/// The SQL expression of a column folded to lower case for ASCII letters only.
pub(crate) fn folded(backend: DatabaseBackend, column: &str) -> SimpleExpr {
    Expr::cust(folded_in(backend, "profile", column))
}

/// The SQL of `table`'s (a table or an alias) `column` folded as [`folded`] folds it:
/// the expression the name indexes hold.
pub(crate) fn folded_in(backend: DatabaseBackend, table: &str, column: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!(
            "translate(\"{table}\".\"{column}\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE \"C\""
        ),
        _ => format!("lower(\"{table}\".\"{column}\")"),
    }
}

/// The profiles a list selects: what [`condition`] makes of a filter and a search,
/// for [`crate::service::profiles::order::page`] and [`crate::service::profiles::filter::count`].
#[derive(Clone, Debug)]
pub struct Filter(pub(crate) Condition);

impl Filter {
    /// Every profile, deleted ones included.
    pub fn everything() -> Filter {
        Filter(Condition::all())
    }
}

/// A filter or search value that cannot be used: its path among the list's arguments
/// (`["filter", "birthMonth"]`, `["search"]`) and what is wrong with it.
pub(crate) type Refusal = UserError;

/// The longest birthday window.
pub(crate) const MAX_BIRTHDAY_DAYS: i32 = 366;
/// The longest search text, in characters.
pub(crate) const MAX_SEARCH: usize = 200;

/// A time range: `from` inclusive, `to` exclusive; either may be open.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimeRange {
    /// From this time on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this time (exclusive).
    pub to: Option<DateTime<Utc>>,
}

/// Which profiles to list. Fields combine with AND; list fields hold at most 250 items.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProfileFilter {
    /// This email, compared by its key (Unicode case and composition aside).
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
    pub preferred_location_id: Option<String>,
    /// Joined at this location.
    pub joined_location_id: Option<String>,
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

fn bad(path: &[&str], message: impl Into<String>) -> Refusal {
    UserError {
        field: Some(path.iter().map(|p| (*p).to_owned()).collect()),
        message: message.into(),
        code: UserErrorCode::Invalid,
    }
}

fn list<'a>(name: &str, items: &'a Option<Vec<String>>) -> Result<Vec<String>, Refusal> {
    let items: &'a [String] = items.as_deref().unwrap_or_default();
    if items.len() > crate::domain::validate::MAX_ITEMS {
        return Err(bad(&["filter", name], "holds more than 250 items"));
    }
    Ok(items.iter().map(|h| normalize_handle(h)).collect())
}

/// Ids of profiles linked to a label whose handle is in `handles`.
fn holding_tags(handles: Vec<String>) -> SelectStatement {
    Query::select()
        .column((profile_tag::Entity, profile_tag::Column::ProfileId))
        .from(profile_tag::Entity)
        .inner_join(
            tag::Entity,
            Expr::col((tag::Entity, tag::Column::Id)).equals((profile_tag::Entity, profile_tag::Column::TagId)),
        )
        .and_where(Expr::col((tag::Entity, tag::Column::Handle)).is_in(handles))
        .to_owned()
}

fn holding_statuses(handles: Vec<String>) -> SelectStatement {
    Query::select()
        .column((profile_status::Entity, profile_status::Column::ProfileId))
        .from(profile_status::Entity)
        .inner_join(
            status::Entity,
            Expr::col((status::Entity, status::Column::Id))
                .equals((profile_status::Entity, profile_status::Column::StatusId)),
        )
        .and_where(Expr::col((status::Entity, status::Column::Handle)).is_in(handles))
        .to_owned()
}

fn range(condition: Condition, column: profile::Column, range: &Option<TimeRange>) -> Condition {
    let Some(range) = range else { return condition };
    let mut condition = condition;
    if let Some(from) = range.from {
        condition = condition.add(column.gte(from));
    }
    if let Some(to) = range.to {
        condition = condition.add(column.lt(to));
    }
    condition
}

fn location_id(name: &str, id: &str) -> Result<i32, Refusal> {
    id.parse().map_err(|_| bad(&["filter", name], "is not an id of this API"))
}

/// `(birth_month, birth_day)` as a row value, to compare with `(month, day)` pairs.
fn month_day() -> SimpleExpr {
    Expr::tuple([Expr::col(profile::Column::BirthMonth), Expr::col(profile::Column::BirthDay)])
}

fn pair(date: NaiveDate) -> SimpleExpr {
    Expr::tuple([Expr::val(date.month() as i32), Expr::val(date.day() as i32)])
}

/// Birthdays (month and day) that fall from `today` to `days` days later. The window
/// is at most two ranges of `(month, day)` pairs, split at the year end; where a range
/// ends on 28 February of a common year, 29 February birthdays fall inside it too.
pub(crate) fn birthday_window(today: NaiveDate, days: i32) -> Condition {
    let end = today + Duration::days(i64::from(days));
    let year_end = |year: i32| NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today);
    let year_start = |year: i32| NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today);
    let ranges = if end.year() == today.year() {
        vec![(today, end)]
    } else if end.year() == today.year() + 1 && end < today.with_year(end.year()).unwrap_or(end) {
        vec![(today, year_end(today.year())), (year_start(end.year()), end)]
    } else {
        // A whole year or more: every birthday.
        vec![(year_start(today.year()), year_end(today.year()))]
    };
    let mut window = Condition::any();
    for (from, to) in ranges {
        let mut within = Condition::all().add(month_day().gte(pair(from))).add(month_day().lte(pair(to)));
        if to.month() == 2 && to.day() == 28 && NaiveDate::from_ymd_opt(to.year(), 2, 29).is_none() {
            within = Condition::any()
                .add(within)
                .add(Condition::all().add(profile::Column::BirthMonth.eq(2)).add(profile::Column::BirthDay.eq(29)));
        }
        window = window.add(within);
    }
    window
}

/// The smallest string greater than every string starting with `prefix`.
fn after_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Values of `key` that start with `prefix` (a range, so an index serves it).
fn starts_with(key: SimpleExpr, prefix: &str) -> Condition {
    let mut condition = Condition::all().add(key.clone().gte(prefix));
    if let Some(end) = after_prefix(prefix) {
        condition = condition.add(key.lt(end));
    }
    condition
}

/// Free-text search: the start of the first name, last name or full name ("ann le"),
/// ignoring ASCII case; the start of the email's key ([`email_key::of`], so Unicode case
/// and composition aside); or the start of the mobile phone's digits, typed
/// internationally or nationally (with or without the trunk prefix) for `region`.
pub(crate) fn search(text: &str, backend: DatabaseBackend, region: Region) -> Option<Condition> {
    let words: Vec<String> = text.split_whitespace().map(str::to_ascii_lowercase).collect();
    if words.is_empty() {
        return None;
    }
    let term = words.join(" ");
    let mut any = Condition::any()
        .add(starts_with(folded(backend, "first_name"), &term))
        .add(starts_with(folded(backend, "last_name"), &term))
        .add(starts_with(Expr::col((profile::Entity, profile::Column::EmailKey)), &email_key::of(&term)));
    // A full name: the first name, then the start of the last name.
    if let [first, rest @ ..] = words.as_slice()
        && !rest.is_empty()
    {
        any = any.add(
            Condition::all()
                .add(folded(backend, "first_name").eq(first.as_str()))
                .add(starts_with(folded(backend, "last_name"), &rest.join(" "))),
        );
    }
    let digits: String = term.chars().filter(char::is_ascii_digit).collect();
    let only_phone_characters = term.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if digits.len() >= 2 && only_phone_characters {
        let code = phone::calling_code(region);
        // Only the trunk prefix goes, once: "00" is not every number.
        let trunk = phone::trunk_prefix(region);
        let national = trunk.and_then(|trunk| digits.strip_prefix(trunk.as_str())).unwrap_or(&digits);
        let mut prefixes = vec![format!("+{digits}")];
        if let Some(code) = code {
            prefixes.push(format!("+{code}{national}"));
        }
        prefixes.dedup();
        for prefix in prefixes {
            any = any.add(starts_with(phone_key(backend), &prefix));
        }
    }
    Some(any)
}

/// The stored mobile phone, compared bytewise (as its "C"-collated index sorts it).
fn phone_key(backend: DatabaseBackend) -> SimpleExpr {
    match backend {
        DatabaseBackend::Postgres => Expr::cust("\"profile\".\"mobile_phone\" COLLATE \"C\""),
        _ => Expr::col((profile::Entity, profile::Column::MobilePhone)),
    }
}

/// BAD_USER_INPUT when a text of the filter, or the search, holds a control character
/// (see [`validate::has_control`]): no stored value holds one, and PostgreSQL cannot
/// even compare with NUL.
fn refuse_control_characters(f: &ProfileFilter, search_text: Option<&str>) -> Result<(), Refusal> {
    let texts = [
        ("email", &f.email),
        ("mobilePhone", &f.mobile_phone),
        ("firstName", &f.first_name),
        ("lastName", &f.last_name),
        ("tierHandle", &f.tier_handle),
        ("identityHandle", &f.identity_handle),
    ];
    let lists = [("tags", &f.tags), ("anyTags", &f.any_tags), ("statuses", &f.statuses)];
    let fields = texts.into_iter().flat_map(|(field, text)| text.as_deref().map(|text| (field, text))).chain(
        lists.into_iter().flat_map(|(field, list)| list.iter().flatten().map(move |text| (field, text.as_str()))),
    );
    for (field, text) in fields {
        if validate::has_control(text) {
            return Err(bad(&["filter", field], validate::CONTROL_MESSAGE));
        }
    }
    if search_text.is_some_and(validate::has_control) {
        return Err(bad(&["search"], validate::CONTROL_MESSAGE));
    }
    Ok(())
}

/// The condition `filter` and `search` make, for a list read on `today`.
pub(crate) fn condition(
    filter: &ProfileFilter,
    search_text: Option<&str>,
    backend: DatabaseBackend,
    region: Region,
    today: NaiveDate,
) -> Result<Filter, Refusal> {
    let f = filter;
    refuse_control_characters(f, search_text)?;
    let mut c = Condition::all();
    c = match &f.profile_type {
        // Tombstones (merged away) are `deleted` too, but no list ever shows them.
        Some(types) if types.contains(&ProfileType::Deleted) => {
            c.add(profile::Column::ProfileType.is_in(types.iter().copied())).add(profile::Column::MergedInto.is_null())
        }
        Some(types) => c.add(profile::Column::ProfileType.is_in(types.iter().copied())),
        None => c.add(crate::service::profiles::keys::visible()),
    };
    if let Some(email) = &f.email {
        c = c.add(crate::service::profiles::keys::email_is(email));
    }
    if let Some(raw) = &f.mobile_phone {
        let e164 = phone::normalize(raw, region)
            .map_err(|_| bad(&["filter", "mobilePhone"], "is not a valid phone number"))?;
        c = c.add(profile::Column::MobilePhone.eq(e164));
    }
    if let Some(name) = &f.first_name {
        c = c.add(folded(backend, "first_name").eq(name.trim().to_ascii_lowercase()));
    }
    if let Some(name) = &f.last_name {
        c = c.add(folded(backend, "last_name").eq(name.trim().to_ascii_lowercase()));
    }
    if let Some(tier) = &f.tier_handle {
        c = c.add(profile::Column::TierHandle.eq(normalize_handle(tier)));
    }
    for handle in list("tags", &f.tags)? {
        c = c.add(profile::Column::Id.in_subquery(holding_tags(vec![handle])));
    }
    let any_tags = list("anyTags", &f.any_tags)?;
    if f.any_tags.is_some() {
        c = c.add(profile::Column::Id.in_subquery(holding_tags(any_tags)));
    }
    for handle in list("statuses", &f.statuses)? {
        c = c.add(profile::Column::Id.in_subquery(holding_statuses(vec![handle])));
    }
    if let Some(id) = &f.preferred_location_id {
        c = c.add(profile::Column::PreferredLocationId.eq(location_id("preferredLocationId", id)?));
    }
    if let Some(id) = &f.joined_location_id {
        c = c.add(profile::Column::JoinedLocationId.eq(location_id("joinedLocationId", id)?));
    }
    if let Some(handle) = &f.identity_handle {
        let holders = Query::select()
            .column(identity::Column::ProfileId)
            .from(identity::Entity)
            .and_where(identity::Column::Handle.eq(handle.trim()))
            .to_owned();
        c = c.add(profile::Column::Id.in_subquery(holders));
    }
    c = range(c, profile::Column::CreatedAt, &f.created_at);
    c = range(c, profile::Column::UpdatedAt, &f.updated_at);
    c = range(c, profile::Column::JoinedAt, &f.joined_at);
    if let Some(month) = f.birth_month {
        if !(1..=12).contains(&month) {
            return Err(bad(&["filter", "birthMonth"], "must be between 1 and 12"));
        }
        c = c.add(profile::Column::BirthMonth.eq(month));
    }
    if let Some(days) = f.birthday_within_days {
        if !(0..=MAX_BIRTHDAY_DAYS).contains(&days) {
            return Err(bad(&["filter", "birthdayWithinDays"], format!("must be between 0 and {MAX_BIRTHDAY_DAYS}")));
        }
        c = c.add(birthday_window(today, days));
    }
    for (wanted, column) in [(f.has_email, profile::Column::Email), (f.has_mobile_phone, profile::Column::MobilePhone)]
    {
        c = match wanted {
            Some(true) => c.add(column.is_not_null()),
            Some(false) => c.add(column.is_null()),
            None => c,
        };
    }
    if search_text.is_some_and(|text| text.chars().count() > MAX_SEARCH) {
        return Err(bad(&["search"], format!("must be at most {MAX_SEARCH} characters")));
    }
    if let Some(search) = search_text.and_then(|text| search(text, backend, region)) {
        c = c.add(search);
    }
    Ok(Filter(c))
}

/// How many visible profiles match `filter`.
pub async fn count(db: &sea_orm::DatabaseConnection, filter: Filter) -> crate::service::error::Result<u64> {
    use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
    Ok(profile::Entity::find().filter(filter.0).count(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_end_just_after_their_last_character() {
        assert_eq!(after_prefix("ann").as_deref(), Some("ano"));
        assert_eq!(after_prefix("+614").as_deref(), Some("+615"));
        assert_eq!(after_prefix(""), None);
    }
}
