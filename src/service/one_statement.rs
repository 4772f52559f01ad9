//! A change of one profile's own columns as one statement, its event included
//! (PostgreSQL): what `updateProfile` does when it sets only columns that need no
//! check against other rows, and what `deleteProfile` does.
//!
//! In autocommit, the statement
//! 1. locks the profile's row (`old`), and says whether it is the version the
//!    statement's snapshot has (else its relations, read from that snapshot, could be
//!    older than the row: see `write`'s `FRESH`);
//! 2. changes it (`new`) with the write seam's version statement (`write::bump`), only
//!    if it is visible (a tombstone is not), at the expected version, and fresh;
//! 3. reads its relations once (`relations`), and gives a created event that still
//!    waits for its context the state the profile had (`settled`);
//! 4. takes the commit-order lock and writes the event, when a set column's value
//!    differs: it holds the profile's state — the row as changed, the set columns'
//!    old values and the relations — from which its context and `changed` are derived
//!    when it is read (`events::state`);
//! 5. queues the event's deliveries to the webhooks that want it;
//!
//! and returns the row. No row back means no change was made: the caller then takes the
//! write seam, which says why (NOT_FOUND, ALREADY_MERGED, VERSION_CONFLICT) or, when the
//! row was not fresh, makes the change. So nothing commits without its event, as
//! through the seam, in one round trip instead of five.
//!
//! A release before this one cannot read such events (it shows `data: {}`): the
//! setting `PROFILES_ONE_STATEMENT_WRITES` leaves this off on a database upgraded from
//! one (`auto`) until it is `on`, and `settle-events` writes their contexts out before
//! going back to it (docs/deploying.md).

use entity::enums::{EventKind, ProfileType};
use entity::profile;
use sea_orm::sea_query::{ColumnType, Expr, IntoCondition};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend,
    DatabaseConnection, FromQueryResult, IdenStatic, Iterable, QueryTrait, Statement,
};
use uuid::Uuid;

use crate::service::actor;
use crate::service::error::Result;
use crate::service::events::commit_order::COMMIT_ORDER_LOCK;
use crate::service::events::deferred;
use crate::service::events::subscribers::queue_sql;
use crate::service::profiles::keys::visible;
use crate::service::profiles::read;
use crate::service::runtime::{Services, Switch};
use crate::service::write::{FRESH, bump};

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

/// Decides now what the setting leaves to the database (`auto`), rather than at the
/// first write: the composition root's, before it serves.
pub async fn decide(services: &Services) -> Result<()> {
    applies(services).await.map(|_| ())
}

/// Whether a change may take one statement: on PostgreSQL, as the setting says; for
/// `auto`, when this release created the database (decided once per process).
pub(crate) async fn applies(services: &Services) -> Result<bool> {
    if services.db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(false);
    }
    match services.writes.one_statement_writes {
        Switch::On => Ok(true),
        Switch::Off => Ok(false),
        Switch::Auto => services.one_statement.get_or_try_init(|| created_by_this_release(&services.db)).await.copied(),
    }
}

/// The migration that brought states in.
const STATES: &str = "m20261207_000005_event_state";

/// Whether the database was created with the migration that brought states in, rather
/// than upgraded to it: its migrations were all applied within a minute of that one.
/// Only then can no replica of an earlier release (0.1.0) be serving it.
async fn created_by_this_release(db: &DatabaseConnection) -> Result<bool> {
    let sql = format!(
        "SELECT (SELECT MIN(applied_at) FROM seaql_migrations) >= applied_at - 60 AS created \
         FROM seaql_migrations WHERE version = '{STATES}'"
    );
    let row = db.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql)).await?;
    Ok(match row {
        Some(row) => row.try_get::<Option<bool>>("", "created")?.unwrap_or(false),
        None => false,
    })
}

/// Sets `columns` on visible profile `id` (at `expected_version`, if given) in one
/// statement with its event, where it can (see the module's notes): the profile as
/// stored, or `None` when nothing was changed and the write seam must take it.
pub(crate) async fn update(
    services: &Services,
    id: Uuid,
    expected_version: Option<i32>,
    columns: &profile::ActiveModel,
) -> Result<Option<profile::Model>> {
    if !applies(services).await? {
        return Ok(None);
    }
    let mut set = Vec::new();
    for column in profile::Column::iter() {
        match columns.get(column) {
            ActiveValue::NotSet => {}
            ActiveValue::Set(value) if COLUMNS.iter().any(|c| c.as_str() == column.as_str()) => {
                set.push((column, Expr::val(value)))
            }
            _ => return Ok(None),
        }
    }
    if set.is_empty() {
        return Ok(None);
    }
    change(services, id, expected_version, EventKind::Updated, set).await
}

/// Soft-deletes visible profile `id` in one statement with its event, where it can:
/// its type becomes `DELETED`, the type it had kept to restore. The profile as stored,
/// or `None` when nothing was changed and the write seam must take it (`Write::delete`
/// does the same).
pub(crate) async fn delete(services: &Services, id: Uuid) -> Result<Option<profile::Model>> {
    if !applies(services).await? {
        return Ok(None);
    }
    let set = vec![
        (profile::Column::ProfileType, Expr::val(ProfileType::Deleted)),
        // An UPDATE's values see the row as it was.
        (profile::Column::TypeBeforeDelete, Expr::col(profile::Column::ProfileType)),
    ];
    change(services, id, None, EventKind::Deleted, set).await
}

/// The statement (see the module's notes) that sets `set` on visible profile `id`, at
/// `expected_version` if given, and writes its `kind` event.
async fn change(
    services: &Services,
    id: Uuid,
    expected_version: Option<i32>,
    kind: EventKind,
    set: Vec<(profile::Column, Expr)>,
) -> Result<Option<profile::Model>> {
    let now = services.clock.now();
    let mut condition = Condition::all()
        .add(profile::Column::Id.eq(id))
        .add(visible())
        .add(Expr::cust("\"profile\".\"id\" IN (SELECT \"id\" FROM \"old\" WHERE \"fresh\")"));
    if let Some(version) = expected_version {
        condition = condition.add(profile::Column::Version.eq(version));
    }
    let mut change = bump(condition.into_condition(), now);
    for (column, value) in &set {
        change = change.col_expr(*column, value.clone());
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
    let old = format!(
        "\"old\" AS (SELECT \"profile\".*, {FRESH} AS \"fresh\" FROM \"profile\" \
         WHERE \"profile\".\"id\" = {} FOR UPDATE)",
        param(id.into())
    );
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
            "\"relations\" AS (SELECT {relations} AS \"r\" FROM \"old\" AS \"profile\"), \
             \"settled\" AS (UPDATE \"profile_event\" AS \"e\" SET \"data\" = '{{}}'::json, \"state\" = json_build_object(\
               'row', (to_jsonb(\"profile\") - 'fresh')::json, 'relations', \"relations\".\"r\") \
               FROM \"old\" AS \"profile\" CROSS JOIN \"relations\" \
               WHERE \"e\".\"profile_id\" = \"profile\".\"id\" AND {waiting} \
                 AND \"profile\".\"id\" IN (SELECT \"id\" FROM \"new\")), \
             \"commit_order\" AS (SELECT pg_advisory_xact_lock_shared({lock})), \
             \"event\" AS (INSERT INTO \"profile_event\" (\"id\", \"type\", \"profile_id\", \"version\", \"changed\", \
               \"actor_token_id\", \"actor_token_name\", \"data\", \"state\", \"occurred_at\") \
               SELECT {event_id}, {kind}, \"new\".\"id\", \"new\".\"version\", 'null'::json, {token_id}, {token_name}, \
                 '{{}}'::json, json_build_object('row', to_json(\"new\"), 'before', json_build_object({before}), \
                 'relations', \"relations\".\"r\"), {at}::timestamptz \
               FROM \"new\" JOIN \"old\" AS \"profile\" ON \"profile\".\"id\" = \"new\".\"id\" \
                 CROSS JOIN \"relations\" CROSS JOIN \"commit_order\" \
               WHERE ({old_values}) IS DISTINCT FROM ({new_values}) \
               RETURNING \"id\", \"type\", \"profile_id\"), \
             \"deliveries\" AS ({deliveries})",
            relations = read::relations_object(),
            waiting = deferred::waiting("e"),
            lock = param(COMMIT_ORDER_LOCK.into()),
            event_id = param(format!("evt_{}", Uuid::new_v4().simple()).into()),
            kind = param(kind.to_value().into()),
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
