//! A change of one profile's own columns as one statement, its event included
//! (PostgreSQL): what `updateProfile` does when it sets only columns that need no
//! check against other rows.
//!
//! In autocommit, the statement
//! 1. locks the profile's row (`old`: after a wait, the row as the other write left it);
//! 2. changes it (`new`) with the write seam's version statement (`write::bump`), only
//!    if it is visible, at the expected version, and fewer than [`MOST_WAITING`] of its
//!    events wait for their context;
//! 3. gives a waiting created event the row it was created with (`settled`), which
//!    until now was the profile's;
//! 4. takes the commit-order lock and writes the event, when a set column's value
//!    differs: it holds the profile's state, the row as changed and the set columns'
//!    old values (`events::state`), and waits for its context like a created event:
//!    its relations are the profile's until they change, and the change that changes
//!    them settles it first (`deferred`);
//! 5. queues the event's deliveries to the webhooks that want it;
//!
//! and returns the row. No row back means no change was made: the caller then takes the
//! write seam, which says why (NOT_FOUND, ALREADY_MERGED, VERSION_CONFLICT). So
//! nothing commits without its event, as through the seam, in one round trip instead
//! of five, and without reading what the profile holds.

use entity::enums::EventKind;
use entity::profile;
use sea_orm::sea_query::{ColumnType, Expr, IntoCondition};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend,
    FromQueryResult, IdenStatic, Iterable, QueryTrait, Statement,
};
use uuid::Uuid;

use crate::service::actor;
use crate::service::error::Result;
use crate::service::events::commit_order::COMMIT_ORDER_LOCK;
use crate::service::events::deferred;
use crate::service::events::subscribers::queue_sql;
use crate::service::profiles::keys::visible;
use crate::service::runtime::Services;
use crate::service::write::bump;

/// The columns a change may set to take this way: each is a key of the context by
/// itself (so a changed value is a changed key), needs no check against other rows,
/// and names no relation.
const COLUMNS: [profile::Column; 12] = [
    profile::Column::Title,
    profile::Column::FirstName,
    profile::Column::LastName,
    profile::Column::Gender,
    profile::Column::Currency,
    profile::Column::JoinedAt,
    profile::Column::SecondaryPhone,
    profile::Column::Company,
    profile::Column::Occupation,
    profile::Column::AvatarUrl,
    profile::Column::ProfileType,
    profile::Column::CustomAttributes,
];

/// How many of a profile's events may wait for their context before a change takes the
/// write seam, which settles them: what the seam's next read of the profile and its
/// settling carry is bounded, however many changes came one statement at a time.
pub(crate) const MOST_WAITING: usize = 50;

/// Sets `columns` on visible profile `id` (at `expected_version`, if given) in one
/// statement with its event, where it can (see the module's notes): the profile as
/// stored, or `None` when nothing was changed and the write seam must take it.
pub(crate) async fn update(
    services: &Services,
    id: Uuid,
    expected_version: Option<i32>,
    columns: &profile::ActiveModel,
) -> Result<Option<profile::Model>> {
    if services.db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(None);
    }
    let mut set = Vec::new();
    for column in profile::Column::iter() {
        match columns.get(column) {
            ActiveValue::NotSet => {}
            ActiveValue::Set(value) if COLUMNS.iter().any(|c| c.as_str() == column.as_str()) => {
                set.push((column, value))
            }
            _ => return Ok(None),
        }
    }
    if set.is_empty() {
        return Ok(None);
    }
    let now = services.clock.now();
    let mut condition = Condition::all()
        .add(profile::Column::Id.eq(id))
        .add(visible())
        .add(profile::Column::MergedInto.is_null())
        .add(Expr::cust("\"profile\".\"id\" IN (SELECT \"id\" FROM \"old\")"))
        .add(Expr::cust(format!(
            "(SELECT COUNT(*) FROM (SELECT 1 FROM \"profile_event\" AS \"e\" WHERE \"e\".\"profile_id\" = \"profile\".\"id\" \
             AND {} LIMIT {MOST_WAITING}) AS \"w\") < {MOST_WAITING}",
            deferred::waiting("e")
        )));
    if let Some(version) = expected_version {
        condition = condition.add(profile::Column::Version.eq(version));
    }
    let mut change = bump(condition.into_condition(), now);
    for (column, value) in &set {
        change = change.col_expr(*column, Expr::val(value.clone()));
    }
    let mut change = change.into_query();
    change.returning_all();
    let Statement { sql: change, values, .. } = DatabaseBackend::Postgres.build(&change);
    let mut values = values.map(|v| v.0).unwrap_or_default();
    // The parameters after the change's own.
    let mut param = |value: sea_orm::Value| {
        values.push(value);
        format!("${}", values.len())
    };
    let old = format!("\"old\" AS (SELECT * FROM \"profile\" WHERE \"id\" = {} FOR UPDATE)", param(id.into()));
    let event = if cfg!(feature = "bench-no-events") {
        // The reference build of `bench/writes.sh`: the change alone.
        "\"event\" AS (SELECT NULL WHERE FALSE)".to_owned()
    } else {
        let before: Vec<String> =
            set.iter().map(|(column, _)| format!("'{0}', \"profile\".\"{0}\"", column.as_str())).collect();
        let compared = |table: &str| -> Vec<String> {
            set.iter()
                .map(|(column, _)| match column.def().get_column_type() {
                    // As text: `jsonb` equality holds 1 and 1.0 equal, the context not.
                    ColumnType::Json | ColumnType::JsonBinary => {
                        format!("CAST(\"{table}\".\"{}\" AS TEXT)", column.as_str())
                    }
                    _ => format!("\"{table}\".\"{}\"", column.as_str()),
                })
                .collect()
        };
        let actor = actor::current();
        let at = param(now.into());
        format!(
            "\"settled\" AS (UPDATE \"profile_event\" AS \"e\" SET \"state\" = json_build_object('row', to_json(\"profile\")) \
               FROM \"old\" AS \"profile\" \
               WHERE \"e\".\"profile_id\" = \"profile\".\"id\" AND {waiting} AND \"e\".\"state\" IS NULL \
                 AND \"profile\".\"id\" IN (SELECT \"id\" FROM \"new\")), \
             \"commit_order\" AS (SELECT pg_advisory_xact_lock_shared({lock})), \
             \"event\" AS (INSERT INTO \"profile_event\" (\"id\", \"type\", \"profile_id\", \"version\", \"changed\", \
               \"actor_token_id\", \"actor_token_name\", \"data\", \"state\", \"occurred_at\") \
               SELECT {event_id}, {kind}, \"new\".\"id\", \"new\".\"version\", 'null'::json, {token_id}, {token_name}, \
                 'null'::json, json_build_object('row', to_json(\"new\"), 'before', json_build_object({before})), \
                 {at}::timestamptz \
               FROM \"new\" JOIN \"old\" AS \"profile\" ON \"profile\".\"id\" = \"new\".\"id\" CROSS JOIN \"commit_order\" \
               WHERE ({old_values}) IS DISTINCT FROM ({new_values}) \
               RETURNING \"id\", \"type\", \"profile_id\"), \
             \"deliveries\" AS ({deliveries})",
            waiting = deferred::waiting("e"),
            lock = param(COMMIT_ORDER_LOCK.into()),
            event_id = param(format!("evt_{}", Uuid::new_v4().simple()).into()),
            kind = param(EventKind::Updated.to_value().into()),
            token_id = param(actor.as_ref().map(|a| a.token_id).into()),
            token_name = param(actor.as_ref().map(|a| a.token_name.clone()).into()),
            before = before.join(", "),
            old_values = compared("profile").join(", "),
            new_values = compared("new").join(", "),
            deliveries = queue_sql("\"event\"", &format!("{at}::timestamptz")),
        )
    };
    let sql = format!(
        "WITH {old}, \"new\" AS ({change}), {event} \
         SELECT \"new\".*, (SELECT COUNT(*) FROM \"event\") AS \"events\" FROM \"new\""
    );
    let Some(row) =
        services.db.query_one_raw(Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)).await?
    else {
        return Ok(None);
    };
    let profile = profile::Model::from_query_result(&row, "")?;
    let events: i64 = row.try_get("", "events")?;
    if events > 0 {
        metrics::counter!("events_written_total").increment(events.unsigned_abs());
        services.notifier.committed();
    }
    Ok(Some(profile))
}
