//! Duplicate candidates (`Profile.duplicates`): the other visible profiles that share a
//! phone, an email but for its `+tag`, or a name and birth date with a profile — for
//! many profiles in one statement, each rule an index lookup.
//!
//! The statement, for the profiles asked about (`source`):
//! 1. *pairs*: each rule finds its candidates with an index, as a subquery correlated
//!    with the source row (a `LATERAL` join on PostgreSQL, `id IN (…)` on SQLite), and
//!    each pair carries the candidate's columns and the source's that the rules
//!    compare. The lookups:
//!    - the mobile phone equal to the source's secondary phone (the unique index on
//!      `mobile_phone`; the mobile phone equal to the source's mobile is the source
//!      itself, the phone being unique);
//!    - the secondary phone equal to the source's mobile, or to its secondary phone
//!      (`ix_profile_secondary_phone`, which holds the id);
//!    - the same email base key (`ix_profile_email_base_key`);
//!    - the same folded last and first name and birth year, month and day
//!      (`ix_profile_name_birth`).
//! 2. each pair's reasons, from those columns (a candidate found by one rule gets every
//!    rule it meets), and its position among the source's candidates: more reasons
//!    first, then by id;
//! 3. the first `first` of each source.
//!
//! Only the phone lookups stop at the first `first` candidates by id: a phone shared
//! by thousands of profiles (a store's number as the secondary phone) costs `first`
//! rows. The answer stays exact. A candidate with two or more reasons has an email or a
//! name reason, and those lookups are read whole, so it is among the pairs whatever
//! its phone lookup kept. A candidate with the phone reason alone is shown only if
//! fewer than `first` candidates come before it: all with more reasons, and those with
//! one reason and a smaller id, among them every other candidate of its own phone
//! lookup with a smaller id; so it is among the first `first` by id of that lookup.

use std::collections::HashMap;

use entity::profile::{self, Column as P};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, Order, Query, SelectStatement, UnionType};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, IdenStatic, Iterable};
use uuid::Uuid;

use crate::service::error::{Error, Result};
use crate::service::profiles::filter::folded_in;
use crate::service::profiles::keys::visible;

/// Candidates listed when `first` is not given.
pub(crate) const DEFAULT_FIRST: i32 = 10;
/// The most candidates `first` may ask for.
pub(crate) const MAX_FIRST: u64 = 50;

/// Why a profile may be a duplicate of another, in the order a candidate lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A phone, mobile or secondary, of one is a phone of the other (E.164).
    SharedPhone,
    /// The same email but for a sub-address (`ann+shop@…` and `ann@…`).
    EmailSubaddress,
    /// The same first and last name (ignoring ASCII case) and the same full birth date.
    SameNameAndBirthDate,
}

/// A duplicate candidate of a profile, and every reason it is one.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub profile: profile::Model,
    pub reasons: Vec<Reason>,
}

/// `first` as the client gives it (none: [`DEFAULT_FIRST`]): 1 to [`MAX_FIRST`].
pub(crate) fn first(value: Option<i32>) -> Result<u64> {
    u64::try_from(value.unwrap_or(DEFAULT_FIRST))
        .ok()
        .filter(|size| (1..=MAX_FIRST).contains(size))
        .ok_or_else(|| Error::BadInput(format!("`first` must be between 1 and {MAX_FIRST}")))
}

/// The profiles asked about, and the candidate a rule's lookup finds.
const SOURCE: &str = "source";
const NEAR: &str = "near";
/// The pairs, and the ranked pairs.
const PAIRS: &str = "pairs";
const RANKED: &str = "ranked";
/// The columns the statement adds to the candidate's.
const SOURCE_ID: &str = "dup_source";
const POSITION: &str = "dup_position";
/// A column per reason (1 or 0), in [`Reason`]'s order.
const REASONS: [(&str, Reason); 3] = [
    ("dup_phone", Reason::SharedPhone),
    ("dup_email", Reason::EmailSubaddress),
    ("dup_name", Reason::SameNameAndBirthDate),
];
/// The source's columns the reasons compare, carried in each pair as `dup_<column>`.
const COMPARED: [P; 8] = [
    P::MobilePhone,
    P::SecondaryPhone,
    P::EmailBaseKey,
    P::FirstName,
    P::LastName,
    P::BirthYear,
    P::BirthMonth,
    P::BirthDay,
];

/// The first `first` duplicate candidates of each of `profiles` (deleted ones too; the
/// candidates are visible), more reasons first, then by id: one statement.
pub(crate) async fn candidates(
    db: &impl ConnectionTrait,
    profiles: &[Uuid],
    first: u64,
) -> Result<HashMap<Uuid, Vec<Candidate>>> {
    let mut found: HashMap<Uuid, Vec<Candidate>> = HashMap::new();
    if profiles.is_empty() {
        return Ok(found);
    }
    let backend = db.get_database_backend();
    for row in db.query_all(&statement(backend, profiles, first)).await? {
        let source: Uuid = row.try_get("", SOURCE_ID)?;
        let mut reasons = Vec::new();
        for (column, reason) in REASONS {
            if row.try_get::<i32>("", column)? == 1 {
                reasons.push(reason);
            }
        }
        let profile = profile::Model::from_query_result(&row, "")?;
        found.entry(source).or_default().push(Candidate { profile, reasons });
    }
    Ok(found)
}

/// `column` of `table` (a table or an alias).
fn col(table: &str, column: P) -> Expr {
    Expr::col((Alias::new(table), column))
}

/// The name of the pair's column that carries the source's `column`.
fn carried(column: P) -> String {
    format!("dup_{}", column.as_str())
}

/// The lookups of the rules, as conditions on the candidate (the table `profile`, which
/// the indexes are on) and the source; whether each stops at the first candidates.
fn lookups(backend: DatabaseBackend) -> Vec<(Condition, bool)> {
    let candidate = |column: P| Expr::col((profile::Entity, column));
    let folded = |table: &str, column: &str| Expr::cust(folded_in(backend, table, column));
    let mut name = Condition::all();
    for column in ["last_name", "first_name"] {
        name = name.add(folded("profile", column).eq(folded(SOURCE, column)));
    }
    for column in [P::BirthYear, P::BirthMonth, P::BirthDay] {
        name = name.add(candidate(column).eq(col(SOURCE, column)));
    }
    vec![
        (Condition::all().add(candidate(P::MobilePhone).eq(col(SOURCE, P::SecondaryPhone))), true),
        (Condition::all().add(candidate(P::SecondaryPhone).eq(col(SOURCE, P::MobilePhone))), true),
        (Condition::all().add(candidate(P::SecondaryPhone).eq(col(SOURCE, P::SecondaryPhone))), true),
        (Condition::all().add(candidate(P::EmailBaseKey).eq(col(SOURCE, P::EmailBaseKey))), false),
        (name, false),
    ]
}

/// The candidates of one lookup for the source row, visible and not the source
/// itself, with `columns` of each; the first `limit` by id when given.
fn lookup(rule: Condition, limit: Option<u64>, columns: &[P]) -> SelectStatement {
    let mut query = Query::select();
    query.columns(columns.iter().map(|&column| (profile::Entity, column))).from(profile::Entity).cond_where(
        Condition::all().add(rule).add(visible()).add(Expr::col((profile::Entity, P::Id)).ne(col(SOURCE, P::Id))),
    );
    if let Some(limit) = limit {
        query.order_by((profile::Entity, P::Id), Order::Asc).limit(limit);
    }
    query
}

/// The pairs one lookup gives for `profiles`: the source's id and the columns the
/// reasons compare, and the whole candidate (so that no join follows: a join by id
/// after the union is planned from the union's estimate, which the limits inflate, and
/// PostgreSQL then scans the table to hash it).
fn pairs(backend: DatabaseBackend, profiles: &[Uuid], rule: Condition, limit: Option<u64>) -> SelectStatement {
    let mut query = Query::select();
    query.expr_as(col(SOURCE, P::Id), Alias::new(SOURCE_ID));
    for column in COMPARED {
        query.expr_as(col(SOURCE, column), Alias::new(carried(column)));
    }
    query
        .columns(P::iter().map(|column| (Alias::new(NEAR), column)))
        .from_as(profile::Entity, Alias::new(SOURCE))
        .and_where(col(SOURCE, P::Id).is_in(profiles.iter().copied()));
    match backend {
        // Run once per source row, by its index, stopping at the limit.
        DatabaseBackend::Postgres => {
            let every: Vec<P> = P::iter().collect();
            query.join_lateral(JoinType::InnerJoin, lookup(rule, limit, &every), Alias::new(NEAR), Expr::cust("TRUE"));
        }
        // SQLite has no LATERAL; a correlated `IN` runs the lookup per source row too.
        _ => {
            let ids = lookup(rule, limit, &[P::Id]);
            query.join_as(JoinType::InnerJoin, profile::Entity, Alias::new(NEAR), col(NEAR, P::Id).in_subquery(ids));
        }
    }
    query
}

/// The reasons, as conditions on a pair (SQL text): its candidate's columns against
/// the source's it carries.
fn reason_sql(backend: DatabaseBackend) -> [String; 3] {
    let near = |column: P| format!("\"{PAIRS}\".\"{}\"", column.as_str());
    let source = |column: P| format!("\"{PAIRS}\".\"{}\"", carried(column));
    let phones = format!("({}, {})", source(P::MobilePhone), source(P::SecondaryPhone));
    let phone = format!("{} IN {phones} OR {} IN {phones}", near(P::MobilePhone), near(P::SecondaryPhone));
    let email = format!("{} = {}", near(P::EmailBaseKey), source(P::EmailBaseKey));
    let mut name: Vec<String> = [P::LastName, P::FirstName]
        .into_iter()
        .map(|column| {
            let (mine, theirs) = (column.as_str(), carried(column));
            format!("{} = {}", folded_in(backend, PAIRS, mine), folded_in(backend, PAIRS, &theirs))
        })
        .collect();
    for column in [P::BirthYear, P::BirthMonth, P::BirthDay] {
        name.push(format!("{} = {}", near(column), source(column)));
    }
    [phone, email, name.join(" AND ")]
}

/// The whole statement: the pairs of every lookup, their reasons and positions, and the
/// first `first` of each source.
fn statement(backend: DatabaseBackend, profiles: &[Uuid], first: u64) -> SelectStatement {
    let mut each =
        lookups(backend).into_iter().map(|(rule, limited)| pairs(backend, profiles, rule, limited.then_some(first)));
    let mut all = each.next().unwrap_or_else(Query::select);
    for more in each {
        // Distinct: a candidate two lookups find is one pair.
        all.union(UnionType::Distinct, more);
    }

    let reasons = reason_sql(backend).map(|condition| format!("CASE WHEN {condition} THEN 1 ELSE 0 END"));
    let mut ranked = Query::select();
    ranked
        .columns(P::iter().map(|column| (Alias::new(PAIRS), column)))
        .column((Alias::new(PAIRS), Alias::new(SOURCE_ID)));
    for ((column, _), reason) in REASONS.iter().zip(&reasons) {
        ranked.expr_as(Expr::cust(reason.clone()), Alias::new(*column));
    }
    ranked
        .expr_as(
            Expr::cust(format!(
                "row_number() OVER (PARTITION BY \"{PAIRS}\".\"{SOURCE_ID}\" ORDER BY {} DESC, \"{PAIRS}\".\"id\" ASC)",
                reasons.join(" + "),
            )),
            Alias::new(POSITION),
        )
        .from_subquery(all, Alias::new(PAIRS));

    let position = || Expr::col((Alias::new(RANKED), Alias::new(POSITION)));
    Query::select()
        .column(sea_orm::sea_query::Asterisk)
        .from_subquery(ranked, Alias::new(RANKED))
        .and_where(position().lte(i64::try_from(first).unwrap_or(i64::MAX)))
        .order_by((Alias::new(RANKED), Alias::new(SOURCE_ID)), Order::Asc)
        .order_by_expr(position(), Order::Asc)
        .to_owned()
}
