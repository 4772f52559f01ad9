//! Orders of the profile list and the keyset pages over them.
//!
//! An order is a list of *segments*, each a condition and the keys its rows are sorted
//! by (the id breaks ties). Profiles without the sorted value (no first name, no
//! birthday) form a segment of their own that comes last in both directions; ordering
//! by next birthday has one segment for birthdays from today on and one for those
//! before today. Every segment is read with an index range scan, in order, until the
//! page is full: no query sorts the whole table.
//!
//! Name orders fold ASCII case, the same way on both databases (SQLite's `lower` folds
//! ASCII only; PostgreSQL uses `translate` in the "C" collation), so that the order,
//! and the cursor values computed in Rust, agree with the indexes. The email order is
//! the email key's ([`email_key::of`]), a column that compares bytewise on both.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::profile;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseBackend, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Value, json};

use crate::service::error::{Error, Result};
use crate::service::page::{Cursor, Direction, PageArgs, Window};
use crate::service::profiles::filter::folded;
use crate::service::profiles::read::{Planned, Selection};

/// What the list can be ordered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    /// Email, by its key (Unicode case and composition aside); profiles without a key
    /// come last: those without an email, and those whose email collides with an
    /// older profile's, waiting to be merged.
    Email,
    /// The next birthday from today (UTC); profiles without birth month and day come last.
    NextBirthday,
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum OrderDirection {
    /// Smallest first (the default).
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// An order of the profile list. Cursors carry its name, made of the variants' names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sort {
    /// What to order by.
    pub field: ProfileOrderField,
    /// Which way; ties are broken by id in the same direction.
    pub direction: OrderDirection,
}

impl Sort {
    /// The name cursors of this order carry.
    fn name(&self) -> String {
        format!("{:?}:{:?}", self.field, self.direction)
    }
}

/// One sort key: its SQL, its value in a row, and how to bind a cursor's value.
#[derive(Clone)]
struct Key {
    sql: SimpleExpr,
    /// The column the value is computed from, which every page read selects.
    reads: profile::Column,
    value: fn(&profile::Model) -> Value,
    bind: fn(&Value) -> Option<sea_orm::Value>,
}

/// A cursor's time: only years 1 to 9999, which both databases store and order (a
/// forged `-262143-01-01` would fail on PostgreSQL).
fn bind_time(value: &Value) -> Option<sea_orm::Value> {
    let time = serde_json::from_value::<DateTime<Utc>>(value.clone()).ok()?;
    (1..=9999).contains(&time.year()).then(|| time.into())
}

/// A cursor's text: never with a control character, which no stored value holds.
fn bind_text(value: &Value) -> Option<sea_orm::Value> {
    value.as_str().filter(|text| !crate::domain::validate::has_control(text)).map(|text| text.to_owned().into())
}

fn bind_int(value: &Value) -> Option<sea_orm::Value> {
    value.as_i64().and_then(|n| i32::try_from(n).ok()).map(Into::into)
}

fn fold(text: &Option<String>) -> Value {
    json!(text.as_deref().map(str::to_ascii_lowercase))
}

/// A part of the list: the rows `when` selects, sorted by `keys` then id.
#[derive(Clone)]
struct Segment {
    when: Condition,
    keys: Vec<Key>,
}

/// The segments of `sort`, in list order.
fn segments(sort: Sort, backend: DatabaseBackend, today: NaiveDate) -> Vec<Segment> {
    let column = |column: profile::Column, value, bind| Key {
        sql: Expr::col((profile::Entity, column)),
        reads: column,
        value,
        bind,
    };
    // The rows with a value of `column`, sorted by `key`, then those without.
    let nullable = |column: profile::Column, key: Key| {
        vec![
            Segment { when: Condition::all().add(column.is_not_null()), keys: vec![key] },
            Segment { when: Condition::all().add(column.is_null()), keys: Vec::new() },
        ]
    };
    let name = |name: &str, column: profile::Column, value: fn(&profile::Model) -> Value| Key {
        sql: folded(backend, name),
        reads: column,
        value,
        bind: bind_text,
    };
    let mut segments = match sort.field {
        ProfileOrderField::CreatedAt => vec![Segment {
            when: Condition::all(),
            keys: vec![column(profile::Column::CreatedAt, |m| json!(m.created_at), bind_time)],
        }],
        ProfileOrderField::UpdatedAt => vec![Segment {
            when: Condition::all(),
            keys: vec![column(profile::Column::UpdatedAt, |m| json!(m.updated_at), bind_time)],
        }],
        ProfileOrderField::FirstName => nullable(
            profile::Column::FirstName,
            name("first_name", profile::Column::FirstName, |m| fold(&m.first_name)),
        ),
        ProfileOrderField::LastName => {
            nullable(profile::Column::LastName, name("last_name", profile::Column::LastName, |m| fold(&m.last_name)))
        }
        ProfileOrderField::Email => {
            nullable(profile::Column::EmailKey, column(profile::Column::EmailKey, |m| json!(m.email_key), bind_text))
        }
        ProfileOrderField::NextBirthday => {
            let keys = vec![
                column(profile::Column::BirthMonth, |m| json!(m.birth_month), bind_int),
                column(profile::Column::BirthDay, |m| json!(m.birth_day), bind_int),
            ];
            let known = Condition::all()
                .add(profile::Column::BirthMonth.is_not_null())
                .add(profile::Column::BirthDay.is_not_null());
            let month_day =
                || Expr::tuple([Expr::col(profile::Column::BirthMonth), Expr::col(profile::Column::BirthDay)]);
            let today_md = || Expr::tuple([Expr::val(today.month() as i32), Expr::val(today.day() as i32)]);
            vec![
                Segment { when: known.clone().add(month_day().gte(today_md())), keys: keys.clone() },
                Segment { when: known.add(month_day().lt(today_md())), keys },
                Segment {
                    when: Condition::any()
                        .add(profile::Column::BirthMonth.is_null())
                        .add(profile::Column::BirthDay.is_null()),
                    keys: Vec::new(),
                },
            ]
        }
    };
    // Descending, the valued segments come in reverse; the unvalued one stays last.
    if sort.direction == OrderDirection::Desc {
        let unvalued = segments.iter().rposition(|s| s.keys.is_empty() && segments.len() > 1);
        let last = unvalued.map(|i| segments.remove(i));
        segments.reverse();
        segments.extend(last);
    }
    segments
}

/// One page of profiles, in list order, with what Relay's `pageInfo` needs.
#[derive(Debug)]
pub(crate) struct Page {
    /// The profiles, with what the read's selection asked for.
    pub rows: Vec<Planned>,
    /// The cursor of each row.
    pub cursors: Vec<Cursor>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

/// A cursor's place: its segment and the bound values of its keys.
struct Bound {
    segment: usize,
    values: Vec<sea_orm::Value>,
    id: uuid::Uuid,
}

fn bound(cursor: &Option<Cursor>, segments: &[Segment]) -> Result<Option<Bound>> {
    let Some(cursor) = cursor else { return Ok(None) };
    let bad = || Error::BadInput("the cursor is not a cursor of this list".to_owned());
    let segment = segments.get(cursor.segment).ok_or_else(bad)?;
    let raw = cursor.value.as_array().ok_or_else(bad)?;
    if raw.len() != segment.keys.len() {
        return Err(bad());
    }
    let values =
        segment.keys.iter().zip(raw).map(|(key, value)| (key.bind)(value).ok_or_else(bad)).collect::<Result<_>>()?;
    Ok(Some(Bound { segment: cursor.segment, values, id: cursor.id }))
}

/// The rows of a segment on the far side of `bound`, in the order of travel.
fn beyond(segment: &Segment, bound: &Bound, ascending: bool) -> SimpleExpr {
    let keys = segment.keys.iter().map(|k| k.sql.clone()).chain([Expr::col((profile::Entity, profile::Column::Id))]);
    let values = bound.values.iter().cloned().map(Expr::val).chain([Expr::val(bound.id)]);
    let (keys, values): (Vec<SimpleExpr>, Vec<SimpleExpr>) = (keys.collect(), values.collect());
    if ascending { Expr::tuple(keys).gt(Expr::tuple(values)) } else { Expr::tuple(keys).lt(Expr::tuple(values)) }
}

/// The page `args` selects among the profiles matching `filter`, in `sort` order, each
/// profile with `selection`, in one statement per segment. Each segment the page
/// reaches costs one statement: one for orders of one segment, and for others while the
/// first segment fills the page.
pub(crate) async fn page(
    db: &DatabaseConnection,
    filter: crate::service::profiles::filter::Filter,
    sort: Sort,
    args: &PageArgs,
    today: NaiveDate,
    selection: &Selection,
) -> Result<Page> {
    let order = sort.name();
    let window: Window = args.window(&order)?;
    let segments = segments(sort, db.get_database_backend(), today);
    let (after, before) = (bound(&window.after, &segments)?, bound(&window.before, &segments)?);
    // Cursors are made of the sort keys: every row brings them.
    let mut selection = selection.clone();
    for key in segments.iter().flat_map(|segment| &segment.keys) {
        selection.profile.add(key.reads);
    }
    let forward = window.direction == Direction::Forward;
    // The direction rows are read in: the list's, or its reverse for `last`.
    let ascending = (sort.direction == OrderDirection::Asc) == forward;
    let positions: Vec<usize> =
        if forward { (0..segments.len()).collect() } else { (0..segments.len()).rev().collect() };
    let wanted = window.size + 1;
    let mut found: Vec<(usize, Planned)> = Vec::new();
    for position in positions {
        if after.as_ref().is_some_and(|a| position < a.segment) || before.as_ref().is_some_and(|b| position > b.segment)
        {
            continue;
        }
        let segment = &segments[position];
        let mut query = profile::Entity::find().filter(filter.0.clone()).filter(segment.when.clone());
        let list_ascending = sort.direction == OrderDirection::Asc;
        if let Some(after) = after.as_ref().filter(|a| a.segment == position) {
            query = query.filter(beyond(segment, after, list_ascending));
        }
        if let Some(before) = before.as_ref().filter(|b| b.segment == position) {
            query = query.filter(beyond(segment, before, !list_ascending));
        }
        let direction = if ascending { Order::Asc } else { Order::Desc };
        for key in &segment.keys {
            query = query.order_by(key.sql.clone(), direction.clone());
        }
        let query = query.order_by(profile::Column::Id, direction).limit(wanted - found.len() as u64);
        let rows = crate::service::profiles::read::rows(db, query, &selection).await?;
        found.extend(rows.into_iter().map(|row| (position, row)));
        if found.len() as u64 >= wanted {
            break;
        }
    }
    let more = found.len() as u64 > window.size;
    found.truncate(window.size as usize);
    if !forward {
        found.reverse();
    }
    let cursors = found
        .iter()
        .map(|(segment, row)| Cursor {
            order: order.clone(),
            segment: *segment,
            value: Value::Array(segments[*segment].keys.iter().map(|k| (k.value)(&row.model)).collect()),
            id: row.model.id,
        })
        .collect();
    let rows = found.into_iter().map(|(_, row)| row).collect();
    Ok(if forward {
        Page { rows, cursors, has_next_page: more, has_previous_page: window.after.is_some() }
    } else {
        Page { rows, cursors, has_previous_page: more, has_next_page: window.before.is_some() }
    })
}
