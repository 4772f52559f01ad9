//! Planned reads: a root field's whole selection in one statement.
//!
//! The statement selects, for each profile row, one JSON array of only the columns the
//! selection needs, and one correlated subquery per selected relation that returns its
//! rows as a JSON array of such arrays (`json_build_array`/`json_agg` on PostgreSQL,
//! `json_array`/`json_group_array` on SQLite). The arrays decode straight into the
//! entity models ([`positional`]), columns left out taking their defaults; nothing
//! reads them, since the plan holds every column its selection resolves. The GraphQL
//! types therefore resolve planned and loaded profiles alike.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use entity::{address, appearance, comms, identity, location, profile, profile_date, status, tag, tier};
use sea_orm::sea_query::{Alias, ColumnType, Expr, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, IdenStatic, Iterable, QueryFilter,
    QuerySelect, QueryTrait, Select, Statement, Value as SeaValue,
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::service::error::{Error, Result};
use crate::service::profiles::keys::{ProfileKey, key_condition, visible};
use crate::service::profiles::positional;

/// Some columns of table `E`.
pub(crate) struct Columns<E: EntityTrait> {
    columns: BTreeMap<&'static str, E::Column>,
    entity: PhantomData<fn() -> E>,
}

impl<E: EntityTrait> Clone for Columns<E> {
    fn clone(&self) -> Self {
        Columns { columns: self.columns.clone(), entity: PhantomData }
    }
}

impl<E: EntityTrait> std::fmt::Debug for Columns<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.columns.keys()).finish()
    }
}

impl<E: EntityTrait> Default for Columns<E> {
    fn default() -> Self {
        Columns { columns: BTreeMap::new(), entity: PhantomData }
    }
}

impl<E: EntityTrait> Columns<E> {
    /// Every column of the table.
    pub(crate) fn all() -> Self {
        let mut columns = Self::default();
        columns.add_all();
        columns
    }

    pub(crate) fn add(&mut self, column: E::Column) {
        self.columns.insert(column.as_str(), column);
    }

    pub(crate) fn add_all(&mut self) {
        self.columns.extend(E::Column::iter().map(|column| (column.as_str(), column)));
    }

    fn with(mut self, column: E::Column) -> Self {
        self.add(column);
        self
    }

    /// The columns' names, in the order the statement selects them.
    fn names(&self) -> Vec<&'static str> {
        self.columns.keys().copied().collect()
    }
}

/// What a read needs: the profile columns, and the columns of each relation it reads
/// (`None`: the relation is not read, or is left to the loaders).
#[derive(Clone, Debug, Default)]
pub(crate) struct Selection {
    pub profile: Columns<profile::Entity>,
    pub addresses: Option<Columns<address::Entity>>,
    pub dates: Option<Columns<profile_date::Entity>>,
    pub identities: Option<Columns<identity::Entity>>,
    pub tags: Option<Columns<tag::Entity>>,
    pub statuses: Option<Columns<status::Entity>>,
    pub comms: Option<Columns<comms::Entity>>,
    pub appearance: Option<Columns<appearance::Entity>>,
    pub tier: Option<Columns<tier::Entity>>,
    pub preferred_location: Option<Columns<location::Entity>>,
    pub joined_location: Option<Columns<location::Entity>>,
}

impl Selection {
    /// Every column of the profile and of every relation (the event context).
    pub(crate) fn everything() -> Self {
        Selection {
            profile: Columns::all(),
            addresses: Some(Columns::all()),
            dates: Some(Columns::all()),
            identities: Some(Columns::all()),
            tags: Some(Columns::all()),
            statuses: Some(Columns::all()),
            comms: Some(Columns::all()),
            appearance: Some(Columns::all()),
            tier: Some(Columns::all()),
            preferred_location: Some(Columns::all()),
            joined_location: Some(Columns::all()),
        }
    }
}

/// The relations a planned read fetched with the profile; `None`: not fetched.
#[derive(Clone, Debug, Default)]
pub(crate) struct Relations {
    pub addresses: Option<Vec<address::Model>>,
    pub dates: Option<Vec<profile_date::Model>>,
    pub identities: Option<Vec<identity::Model>>,
    pub tags: Option<Vec<tag::Model>>,
    pub statuses: Option<Vec<status::Model>>,
    pub comms: Option<Option<comms::Model>>,
    pub appearance: Option<Option<appearance::Model>>,
    pub tier: Option<Option<tier::Model>>,
    pub preferred_location: Option<Option<location::Model>>,
    pub joined_location: Option<Option<location::Model>>,
}

/// A profile as a planned read returns it: the selected columns (the others hold
/// defaults) and the selected relations.
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    pub model: profile::Model,
    pub relations: Relations,
}

/// The visible profile with id `id`; for a tombstone (a profile merged into another),
/// its survivor, so that stale links keep working. One statement when the profile is
/// there, one more when it is not.
pub(crate) async fn by_id(db: &impl ConnectionTrait, id: Uuid, selection: &Selection) -> Result<Option<Planned>> {
    if let Some(found) = one(db, Condition::all().add(profile::Column::Id.eq(id)), selection).await? {
        return Ok(Some(found));
    }
    let survivor = sea_orm::sea_query::Query::select()
        .column(profile::Column::MergedInto)
        .from(profile::Entity)
        .and_where(profile::Column::Id.eq(id))
        .to_owned();
    one(db, Condition::all().add(profile::Column::Id.in_subquery(survivor)), selection).await
}

/// The visible profile `key` names (see [`key_condition`]).
pub(crate) async fn by_key(
    db: &impl ConnectionTrait,
    key: ProfileKey,
    selection: &Selection,
) -> Result<Option<Planned>> {
    one(db, Condition::all().add(key_condition(key)?), selection).await
}

async fn one(db: &impl ConnectionTrait, condition: Condition, selection: &Selection) -> Result<Option<Planned>> {
    let query = profile::Entity::find().filter(condition).filter(visible()).limit(1);
    Ok(rows(db, query, selection).await?.into_iter().next())
}

/// The rows of `query` (filtered, ordered and limited), each with `selection`: one
/// statement.
pub(crate) async fn rows(
    db: &impl ConnectionTrait,
    query: Select<profile::Entity>,
    selection: &Selection,
) -> Result<Vec<Planned>> {
    Ok(rows_with(db, query, selection, &[]).await?.into_iter().map(|(planned, _)| planned).collect())
}

/// [`rows`], each with its row, which also holds the value of each of `extra` (a name
/// and the SQL of a correlated expression the statement selects besides), for the
/// caller to read.
pub(crate) async fn rows_with(
    db: &impl ConnectionTrait,
    query: Select<profile::Entity>,
    selection: &Selection,
    extra: &[(&'static str, &str)],
) -> Result<Vec<(Planned, sea_orm::QueryResult)>> {
    let backend = db.get_database_backend();
    let mut statement: SelectStatement = query.into_query();
    statement.clear_selects();
    let sql = Sql(backend, Rows::Positional);
    let profile_columns = selection.profile.clone().with(profile::Column::Id);
    statement.expr_as(Expr::cust(sql.text(sql.row(PROFILE, &profile_columns))), Alias::new("profile"));
    for (name, subquery) in sql.relations(selection) {
        statement.expr_as(Expr::cust(subquery), Alias::new(name));
    }
    for (name, expression) in extra {
        statement.expr_as(Expr::cust(expression.to_string()), Alias::new(*name));
    }
    let rows = db.query_all_raw(literal_limit(backend.build(&statement))).await?;
    let decoder = Decoder::new(&profile_columns, selection);
    rows.into_iter()
        .map(|row| {
            let text: String = row.try_get("", "profile")?;
            let model = decoded(positional::row(&text, &decoder.profile))?;
            let relations = decoder.relations(&row)?;
            Ok((Planned { model, relations }, row))
        })
        .collect()
}

/// `statement` with its `LIMIT` written as a number rather than a parameter. With a
/// parameter there, PostgreSQL plans the statement anew at every execution (a custom
/// plan never costs more than the generic one, whose row estimate cannot use the
/// limit); with the number, it keeps one plan per connection. pgbench, the page of
/// 50 with every parameter written in: 995–1,105 statements/s with a `LIMIT`
/// parameter, 1,433–1,474 with the number. The limit is the server's own, never a
/// client's text.
fn literal_limit(mut statement: Statement) -> Statement {
    let backend = statement.db_backend;
    let Some(values) = statement.values.as_mut() else { return statement };
    let Some(SeaValue::BigUnsigned(Some(limit))) = values.0.last() else { return statement };
    let placeholder = match backend {
        DatabaseBackend::Postgres => format!("LIMIT ${}", values.0.len()),
        _ => "LIMIT ?".to_owned(),
    };
    if let Some(head) = statement.sql.strip_suffix(&placeholder) {
        statement.sql = format!("{head}LIMIT {limit}");
        values.0.pop();
    }
    statement
}

fn decoded<T>(result: serde_json::Result<T>) -> Result<T> {
    result.map_err(|error| Error::Invariant(format!("a planned row does not decode: {error}")))
}

/// The column names of each array the statement returns, in the order it selects them.
struct Decoder {
    profile: Vec<&'static str>,
    addresses: Option<Vec<&'static str>>,
    dates: Option<Vec<&'static str>>,
    identities: Option<Vec<&'static str>>,
    tags: Option<Vec<&'static str>>,
    statuses: Option<Vec<&'static str>>,
    comms: Option<Vec<&'static str>>,
    appearance: Option<Vec<&'static str>>,
    tier: Option<Vec<&'static str>>,
    preferred_location: Option<Vec<&'static str>>,
    joined_location: Option<Vec<&'static str>>,
}

impl Decoder {
    fn new(profile: &Columns<profile::Entity>, s: &Selection) -> Self {
        Decoder {
            profile: profile.names(),
            addresses: s.addresses.as_ref().map(Columns::names),
            dates: s.dates.as_ref().map(Columns::names),
            identities: s.identities.as_ref().map(Columns::names),
            tags: s.tags.as_ref().map(Columns::names),
            statuses: s.statuses.as_ref().map(Columns::names),
            comms: s.comms.as_ref().map(Columns::names),
            appearance: s.appearance.as_ref().map(Columns::names),
            tier: s.tier.as_ref().map(Columns::names),
            preferred_location: s.preferred_location.as_ref().map(Columns::names),
            joined_location: s.joined_location.as_ref().map(Columns::names),
        }
    }

    fn relations(&self, row: &sea_orm::QueryResult) -> Result<Relations> {
        Ok(Relations {
            addresses: list(row, "addresses", &self.addresses)?,
            dates: list(row, "dates", &self.dates)?,
            identities: list(row, "identities", &self.identities)?,
            tags: list(row, "tags", &self.tags)?,
            statuses: list(row, "statuses", &self.statuses)?,
            comms: one_of(row, "comms", &self.comms)?,
            appearance: one_of(row, "appearance", &self.appearance)?,
            tier: one_of(row, "tier", &self.tier)?,
            preferred_location: one_of(row, "preferred_location", &self.preferred_location)?,
            joined_location: one_of(row, "joined_location", &self.joined_location)?,
        })
    }
}

/// A list relation, when selected (its column `names`). No rows give NULL on
/// PostgreSQL (`json_agg`).
fn list<T: DeserializeOwned>(
    row: &sea_orm::QueryResult,
    name: &str,
    names: &Option<Vec<&'static str>>,
) -> Result<Option<Vec<T>>> {
    let Some(names) = names else { return Ok(None) };
    let text: Option<String> = row.try_get("", name)?;
    Ok(Some(match text {
        Some(text) => decoded(positional::rows(&text, names))?,
        None => Vec::new(),
    }))
}

/// A one-row relation, when selected (its column `names`): `Some(None)` when there
/// is no row.
fn one_of<T: DeserializeOwned>(
    row: &sea_orm::QueryResult,
    name: &str,
    names: &Option<Vec<&'static str>>,
) -> Result<Option<Option<T>>> {
    let Some(names) = names else { return Ok(None) };
    let text: Option<String> = row.try_get("", name)?;
    Ok(Some(text.map(|text| decoded(positional::row(&text, names))).transpose()?))
}

/// The table the page query reads profiles from; subqueries refer to its columns.
const PROFILE: &str = "profile";

/// How a relation's rows are found for the current profile row.
enum Source {
    /// Rows of the relation's table whose `profile_id` is the profile's id.
    Owned,
    /// Rows joined through link table `link`, whose `key` column holds their id.
    Linked { link: &'static str, key: &'static str },
    /// The row whose `key` column equals the profile's column `reference`.
    Keyed { key: &'static str, reference: &'static str },
}

/// Every relation of the profile row named `profile` as one JSON object (PostgreSQL):
/// `{"addresses": [...], …, "tier": {...}, …}`, a list relation an array of its rows
/// (`null` when it has none), a one-row relation its row or `null`, and each row an
/// object of every column by name. What an event's state holds (`events::state`): by
/// name, so that it still decodes after a column is added. The same text every time:
/// built once, not on every write.
pub(crate) fn relations_object() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let sql = Sql(DatabaseBackend::Postgres, Rows::Named);
        let pairs: Vec<String> = sql
            .relations(&Selection::everything())
            .into_iter()
            .map(|(name, subquery)| format!("'{name}', {subquery}"))
            .collect();
        format!("json_build_object({})", pairs.join(", "))
    });
    &SQL
}

/// How a statement writes a row as JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// An array of the selected columns ([`positional`]), as text.
    Positional,
    /// An object of every column by name, as JSON (PostgreSQL).
    Named,
}

/// SQL text of one backend. Every identifier in it comes from the entities, never
/// from a request; every value is a column.
struct Sql(DatabaseBackend, Rows);

impl Sql {
    fn postgres(&self) -> bool {
        self.0 == DatabaseBackend::Postgres
    }

    /// Column `column` of `table` as a JSON value that decodes into its model field.
    fn value<C: ColumnTrait>(&self, table: &str, column: C) -> String {
        let qualified = format!("\"{table}\".\"{}\"", column.as_str());
        if self.postgres() {
            return qualified;
        }
        // SQLite keeps booleans as 0/1, UUIDs as 16-byte blobs and JSON as text.
        match column.def().get_column_type() {
            ColumnType::Boolean => {
                format!("json(CASE WHEN {qualified} IS NULL THEN NULL WHEN {qualified} THEN 'true' ELSE 'false' END)")
            }
            // `hex(NULL)` is the empty string: a null UUID stays null.
            ColumnType::Uuid if column.def().is_null() => {
                format!("CASE WHEN {qualified} IS NULL THEN NULL ELSE lower(hex({qualified})) END")
            }
            ColumnType::Uuid => format!("lower(hex({qualified}))"),
            ColumnType::Json | ColumnType::JsonBinary => format!("json({qualified})"),
            _ => qualified,
        }
    }

    /// A JSON array of `columns` of `table`, in the order of [`Columns::names`].
    /// PostgreSQL's `json_build_array` takes at most 100 arguments; no table has as
    /// many columns (a test checks).
    fn row<E: EntityTrait>(&self, table: &str, columns: &Columns<E>) -> String {
        if self.1 == Rows::Named {
            return format!("to_json(\"{table}\")");
        }
        let values: Vec<String> = columns.columns.values().map(|column| self.value(table, *column)).collect();
        let function = if self.postgres() { "json_build_array" } else { "json_array" };
        format!("{function}({})", values.join(", "))
    }

    /// A JSON value as text (the driver reads `json` as text only on SQLite).
    fn text(&self, json: String) -> String {
        if self.postgres() && self.1 == Rows::Positional { format!("({json})::text") } else { json }
    }

    /// `FROM … WHERE …` of a relation's rows for the current profile row.
    fn from<E: EntityTrait>(&self, source: &Source) -> String {
        let table = E::default().table_name().to_owned();
        match source {
            Source::Owned => format!("FROM \"{table}\" AS \"r\" WHERE \"r\".\"profile_id\" = \"{PROFILE}\".\"id\""),
            Source::Linked { link, key } => format!(
                "FROM \"{link}\" AS \"l\" JOIN \"{table}\" AS \"r\" ON \"r\".\"id\" = \"l\".\"{key}\" \
                 WHERE \"l\".\"profile_id\" = \"{PROFILE}\".\"id\""
            ),
            Source::Keyed { key, reference } => {
                format!("FROM \"{table}\" AS \"r\" WHERE \"r\".\"{key}\" = \"{PROFILE}\".\"{reference}\"")
            }
        }
    }

    /// A subquery giving the relation's rows as a JSON array in `order`.
    fn list<E: EntityTrait>(&self, columns: &Columns<E>, source: Source, order: E::Column) -> String {
        // Ties (none among unique handles) are broken by id.
        let order = match order.as_str() {
            "id" => "\"r\".\"id\"".to_owned(),
            name => format!("\"r\".\"{name}\", \"r\".\"id\""),
        };
        let aggregate = if self.postgres() { "json_agg" } else { "json_group_array" };
        let row = self.row("r", columns);
        self.text(format!("(SELECT {aggregate}({row} ORDER BY {order}) {})", self.from::<E>(&source)))
    }

    /// A subquery giving the relation's one row as a JSON array.
    fn single<E: EntityTrait>(&self, columns: &Columns<E>, source: Source) -> String {
        self.text(format!("(SELECT {} {} LIMIT 1)", self.row("r", columns), self.from::<E>(&source)))
    }

    /// The subquery of every relation `s` selects, named by its result column.
    fn relations(&self, s: &Selection) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(c) = &s.addresses {
            out.push(("addresses", self.list(c, Source::Owned, address::Column::Id)));
        }
        if let Some(c) = &s.dates {
            out.push(("dates", self.list(c, Source::Owned, profile_date::Column::Id)));
        }
        if let Some(c) = &s.identities {
            out.push(("identities", self.list(c, Source::Owned, identity::Column::Id)));
        }
        if let Some(c) = &s.tags {
            let source = Source::Linked { link: "profile_tag", key: "tag_id" };
            out.push(("tags", self.list(c, source, tag::Column::Handle)));
        }
        if let Some(c) = &s.statuses {
            let source = Source::Linked { link: "profile_status", key: "status_id" };
            out.push(("statuses", self.list(c, source, status::Column::Handle)));
        }
        if let Some(c) = &s.comms {
            out.push(("comms", self.single(c, Source::Owned)));
        }
        if let Some(c) = &s.appearance {
            out.push(("appearance", self.single(c, Source::Owned)));
        }
        if let Some(c) = &s.tier {
            out.push(("tier", self.single(c, Source::Keyed { key: "handle", reference: "tier_handle" })));
        }
        if let Some(c) = &s.preferred_location {
            let source = Source::Keyed { key: "id", reference: "preferred_location_id" };
            out.push(("preferred_location", self.single(c, source)));
        }
        if let Some(c) = &s.joined_location {
            let source = Source::Keyed { key: "id", reference: "joined_location_id" };
            out.push(("joined_location", self.single(c, source)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most arguments a PostgreSQL function takes (`FUNC_MAX_ARGS`).
    const MAX_ARGUMENTS: usize = 100;

    fn width<E: EntityTrait>() -> usize {
        Columns::<E>::all().columns.len()
    }

    #[test]
    fn the_limit_is_written_as_a_number_and_other_values_stay_parameters() {
        for backend in [DatabaseBackend::Postgres, DatabaseBackend::Sqlite] {
            let query = profile::Entity::find().filter(profile::Column::FirstName.eq("x")).limit(51);
            let statement = literal_limit(backend.build(&query.into_query()));
            assert!(statement.sql.ends_with("LIMIT 51"), "{}", statement.sql);
            assert_eq!(statement.values.map(|v| v.0), Some(vec![SeaValue::from("x")]));
        }
    }

    #[test]
    fn every_table_fits_one_json_array_call() {
        let widths = [
            width::<profile::Entity>(),
            width::<address::Entity>(),
            width::<profile_date::Entity>(),
            width::<identity::Entity>(),
            width::<tag::Entity>(),
            width::<status::Entity>(),
            width::<comms::Entity>(),
            width::<appearance::Entity>(),
            width::<tier::Entity>(),
            width::<location::Entity>(),
        ];
        assert!(widths.iter().all(|&w| w > 0 && w <= MAX_ARGUMENTS), "{widths:?}");
    }
}
