//! Import: rows read and validated as new profiles ([`read`](super::read))
//! are matched to existing profiles by a key, then created ([`create`](super::create)),
//! updated ([`update`](super::update)) or found unchanged.
//!
//! Rows go in *waves*: the longest run of rows of which no two name the same profile
//! or the same unique value. A wave is one transaction ([`Write`], so every create and
//! update writes its change event); its creates are inserted with one statement per
//! table, and only when that fails (a value taken since the checks, a race) are they
//! inserted again one at a time, each in a savepoint, so that the failing row fails
//! alone. Updates go one at a time, each in a savepoint. A row whose values are the
//! profile's already is `UNCHANGED` and writes nothing: no version, no event. Running a
//! wave after the one before it has committed gives the same outcome as importing the
//! rows one by one in file order.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::enums::ProfileType;
use entity::{identity, profile};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use super::create::create_all;
use super::known::{self, UnknownKeys};
use super::read::{at_row, prepare};
use super::references::{self, Kept};
use super::row::{ImportKey, ImportRow, Mode, Outcome, Status};
use super::update::{RowChange, Update, changes, lock_references, update_one};
use crate::domain::phone::Region;
use crate::domain::validate::{Path, Problems, UserError, UserErrorCode};
use crate::service::draft::Patch;
use crate::service::error::Result;
use crate::service::profiles::keys::ProfileKey as Key;
use crate::service::profiles::read::{self, Planned, Selection};
use crate::service::runtime::Services;
use crate::service::write::Write;

/// What an import does with a key.
impl Key {
    /// The key as one string, for telling whether two rows name the same profile.
    fn claim(&self) -> String {
        match self {
            Key::Id(id) => format!("id:{id}"),
            Key::Email(email) => format!("email:{}", email_key::of(email)),
            Key::MobilePhone(phone) => format!("phone:{phone}"),
            Key::ExternalId(id) => format!("external:{}", id.trim()),
            Key::Identity { handle, identifier } => format!("identity:{}\u{0}{}", handle.trim(), identifier.trim()),
        }
    }

    /// The path of the row's value a key error is reported at.
    fn path(&self) -> Path {
        Path::root("input").key(match self {
            Key::Id(_) => "id",
            Key::Email(_) => "email",
            Key::MobilePhone(_) => "mobilePhone",
            Key::ExternalId(_) => "externalId",
            Key::Identity { .. } => "identities",
        })
    }

    /// The key with an email given as its key ([`email_key::of`]), computed once for
    /// [`names`](Key::names) to compare with each profile.
    fn folded(&self) -> std::borrow::Cow<'_, Key> {
        match self {
            Key::Email(email) => std::borrow::Cow::Owned(Key::Email(email_key::of(email))),
            _ => std::borrow::Cow::Borrowed(self),
        }
    }

    /// Whether `planned` is the profile this key names; the key is [`folded`](Key::folded).
    fn names(&self, planned: &Planned) -> bool {
        let m = &planned.model;
        let identities = planned.relations.identities.as_deref().unwrap_or_default();
        match self {
            Key::Id(id) => m.id == *id,
            Key::Email(key) => m.email_key.as_deref() == Some(key.as_str()),
            Key::MobilePhone(phone) => m.mobile_phone.as_deref() == Some(phone.as_str()),
            Key::ExternalId(id) => identities.iter().any(|i| i.is_primary && i.identifier == id.trim()),
            Key::Identity { handle, identifier } => {
                identities.iter().any(|i| i.handle == handle.trim() && i.identifier == identifier.trim())
            }
        }
    }

    /// The identity that makes `planned` match this key, for choosing between
    /// profiles (the one whose identity was made first wins, as `profileBy` chooses).
    fn identity_id(&self, planned: &Planned) -> i32 {
        let identities = planned.relations.identities.as_deref().unwrap_or_default();
        match self {
            Key::ExternalId(id) => {
                identities.iter().filter(|i| i.is_primary && i.identifier == id.trim()).map(|i| i.id).min()
            }
            Key::Identity { handle, identifier } => identities
                .iter()
                .filter(|i| i.handle == handle.trim() && i.identifier == identifier.trim())
                .map(|i| i.id)
                .min(),
            _ => None,
        }
        .unwrap_or(i32::MAX)
    }
}

/// What an import did: one outcome a row, in order, and the reference records its rows
/// describe otherwise than this database has them (kept as they are).
pub(crate) struct Imported {
    pub outcomes: Vec<Outcome>,
    pub kept: Kept,
}

/// Imports `rows` (those that failed validation stay failed) in `mode`. A database
/// failure stops the import: the waves before it are committed, the rest is not
/// written.
pub(crate) async fn import(
    db: &Services,
    rows: Vec<Result<ImportRow, Vec<UserError>>>,
    mode: Mode,
) -> Result<Imported> {
    let mut kept = Kept::new();
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(rows.len());
    let mut wave: Vec<(usize, ImportRow)> = Vec::new();
    let mut claimed: HashSet<String> = HashSet::new();
    for (index, row) in rows.into_iter().enumerate() {
        outcomes.push(None);
        match row {
            Err(errors) => outcomes[index] = Some(Outcome::failed(errors)),
            Ok(row) => {
                let claims = claims(&row);
                if claims.iter().any(|claim| claimed.contains(claim)) {
                    run_wave(db, std::mem::take(&mut wave), mode, &mut outcomes, &mut kept).await?;
                    claimed.clear();
                }
                claimed.extend(claims);
                wave.push((index, row));
            }
        }
    }
    run_wave(db, wave, mode, &mut outcomes, &mut kept).await?;
    let outcomes = outcomes.into_iter().map(|o| o.unwrap_or_else(|| Outcome::failed(Vec::new()))).collect();
    Ok(Imported { outcomes, kept })
}

/// The profile a row names and the unique values it holds, as strings.
fn claims(row: &ImportRow) -> Vec<String> {
    let p = &row.draft.new.profile;
    let mut claims: Vec<String> = row.key.iter().map(Key::claim).collect();
    claims.extend(row.id.map(|id| Key::Id(id).claim()));
    if let Patch::Set(Some(email)) = &p.email {
        claims.push(Key::Email(email.clone()).claim());
    }
    if let Patch::Set(Some(phone)) = &p.mobile_phone {
        claims.push(Key::MobilePhone(phone.clone()).claim());
    }
    for identity in &row.draft.new.identities {
        if let (Patch::Set(handle), Patch::Set(identifier)) = (&identity.handle, &identity.identifier) {
            claims.push(Key::Identity { handle: handle.clone(), identifier: identifier.clone() }.claim());
            if identity.is_primary == Patch::Set(true) {
                claims.push(Key::ExternalId(identifier.clone()).claim());
            }
        }
    }
    claims
}

async fn run_wave(
    db: &Services,
    wave: Vec<(usize, ImportRow)>,
    mode: Mode,
    outcomes: &mut [Option<Outcome>],
    kept: &mut Kept,
) -> Result<()> {
    if wave.is_empty() {
        return Ok(());
    }
    let mut write = Write::begin(db).await?;
    let keys: Vec<&Key> = wave.iter().filter_map(|(_, row)| row.key.as_ref()).collect();
    let current = matched(write.conn(), &keys).await?;
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    for (index, row) in wave {
        let found = row.key.as_ref().and_then(|key| {
            let folded = key.folded();
            current.iter().filter(|p| folded.names(p)).min_by_key(|p| key.identity_id(p)).map(|p| (key, p))
        });
        match (found, mode) {
            (Some((key, planned)), _) if planned.model.merged_into.is_some() => {
                let message = "the profile with this key was merged into another; use that one";
                outcomes[index] = Some(Outcome::one(&key.path(), UserErrorCode::AlreadyMerged, message));
            }
            (Some((key, _)), Mode::CreateOnly) => {
                outcomes[index] = Some(Outcome::one(&key.path(), UserErrorCode::Taken, "a profile has this key"));
            }
            (Some((key, planned)), _) if planned.model.profile_type == ProfileType::Deleted => {
                let message = "the profile with this key is deleted; restore it first";
                outcomes[index] = Some(Outcome::one(&key.path(), UserErrorCode::NotFound, message));
            }
            (Some((_, planned)), _) => updates.push((index, row, planned)),
            (None, Mode::UpdateOnly) => {
                let path = row.key.as_ref().map_or_else(|| Path::root("input"), Key::path);
                outcomes[index] = Some(Outcome::one(&path, UserErrorCode::NotFound, "no profile has this key"));
            }
            (None, _) => creates.push((index, row)),
        }
    }
    // The reference records of the rows that go on, found or made in this transaction.
    let mut going_on: Vec<(usize, &mut ImportRow)> = creates
        .iter_mut()
        .map(|(index, row)| (*index, row))
        .chain(updates.iter_mut().map(|(index, row, _)| (*index, row)))
        .collect();
    let failed = references::settle(write.conn(), &mut going_on, write.now(), kept).await?;
    creates.retain(|(index, _)| !failed.contains_key(index));
    updates.retain(|(index, ..)| !failed.contains_key(index));
    for (index, problems) in failed {
        outcomes[index] = Some(Outcome::failed(problems.into_errors()));
    }
    create_all(&mut write, creates, outcomes).await?;
    let mut changing = Vec::new();
    for (index, row, planned) in updates {
        match changes(&write, row, planned).await? {
            RowChange::Unchanged => {
                let profile = Some(planned.model.clone());
                outcomes[index] = Some(Outcome { status: Status::Unchanged, profile, errors: Vec::new() });
            }
            RowChange::Update(update) => changing.push((index, update)),
        }
    }
    // The profiles' created events still waiting for their context, all at once rather
    // than one profile at a time as each update's version bump would. Locks go in the
    // order every write takes them: reference records, profiles (in id order, not the
    // file's), their waiting events.
    if !changing.is_empty() {
        let updates: Vec<&Update> = changing.iter().map(|(_, update)| update.as_ref()).collect();
        let known = lock_references(write.conn(), &updates).await?;
        let ids: Vec<Uuid> = updates.iter().map(|update| update.current.model.id).collect();
        write.lock(profile::Column::Id.is_in(ids.iter().copied())).await?;
        write.settle_profiles(ids).await?;
        for (index, update) in changing {
            outcomes[index] = Some(update_one(&mut write, update, &known).await?);
        }
    }
    write.commit().await?;
    Ok(())
}

/// The profiles (deleted ones too) any of `keys` names, with everything they own, in
/// one statement.
async fn matched(db: &DatabaseTransaction, keys: &[&Key]) -> Result<Vec<Planned>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::new();
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    let mut externals = Vec::new();
    let mut identities = Condition::any();
    for key in keys {
        match key {
            Key::Id(id) => ids.push(*id),
            Key::Email(email) => emails.push(email_key::of(email)),
            Key::MobilePhone(phone) => phones.push(phone.clone()),
            Key::ExternalId(id) => externals.push(id.trim().to_owned()),
            Key::Identity { handle, identifier } => {
                identities = identities.add(
                    Condition::all()
                        .add(identity::Column::Handle.eq(handle.trim()))
                        .add(identity::Column::Identifier.eq(identifier.trim())),
                );
            }
        }
    }
    let owners = |filter: Condition| {
        profile::Column::Id.in_subquery(
            Query::select().column(identity::Column::ProfileId).from(identity::Entity).cond_where(filter).to_owned(),
        )
    };
    let mut any = Condition::any();
    if !ids.is_empty() {
        any = any.add(profile::Column::Id.is_in(ids));
    }
    if !emails.is_empty() {
        any = any.add(profile::Column::EmailKey.is_in(emails));
    }
    if !phones.is_empty() {
        any = any.add(profile::Column::MobilePhone.is_in(phones));
    }
    if !externals.is_empty() {
        any = any.add(owners(
            Condition::all()
                .add(identity::Column::IsPrimary.eq(true))
                .add(identity::Column::Identifier.is_in(externals)),
        ));
    }
    if !identities.is_empty() {
        any = any.add(owners(identities));
    }
    read::rows(db, profile::Entity::find().filter(any), &Selection::everything()).await
}

/// Writes rows [`prepare`] read, in `mode`; problems are reported at paths into each
/// row (`["addresses", "0", "postcode"]`).
pub(crate) async fn write(db: &Services, rows: Vec<Result<ImportRow, Vec<UserError>>>, mode: Mode) -> Result<Imported> {
    // Boxed: an import is a deep future, and a resolver's frame holds its callee's
    // state inline (over 100 KB of stack in a debug build).
    let mut imported = Box::pin(import(db, rows, mode)).await?;
    for outcome in &mut imported.outcomes {
        outcome.errors = std::mem::take(&mut outcome.errors).into_iter().map(at_row).collect();
    }
    Ok(imported)
}

/// What `importProfiles` makes of its rows: the request's own problems (when there
/// are any, nothing was written and no row has an outcome), each row's outcome, the
/// reference records kept as this database has them, and the rows' keys that the
/// import does not know.
pub(crate) struct RequestOutcome {
    pub problems: Vec<UserError>,
    pub outcomes: Vec<Outcome>,
    pub kept: Kept,
    pub unknown_keys: UnknownKeys,
}

/// The problems of `rows` as a whole, at `["rows"]`: more than `max_rows`, or rows
/// (objects all) of which none gives a key the import reads — a request for blank
/// profiles, refused as a CSV whose header names no such column is.
fn request_problems(rows: &[Value], max_rows: usize, unknown: &UnknownKeys) -> Vec<UserError> {
    let mut problems = Problems::default();
    let at = Path::root("rows");
    let reads_nothing = |row: &Value| row.as_object().is_some_and(|row| known::nothing_read(row).is_some());
    if rows.len() > max_rows {
        problems.add(&at, UserErrorCode::TooLong, format!("holds at most {max_rows} rows"));
    } else if !rows.is_empty() && rows.iter().all(Value::is_string) {
        // The lines of a file sent as they are: NDJSON's, or a JSON document's.
        problems.add(
            &at,
            UserErrorCode::Invalid,
            "rows are JSON objects, not text: send each NDJSON line parsed, one profile object a row \
             (`jq -c . file.json` turns a JSON document into one object a line, `jq -c '.[]'` an array)",
        );
    } else if !rows.is_empty() && rows.iter().all(reads_nothing) {
        let unknown = if unknown.is_empty() { String::new() } else { format!("; unknown keys: {unknown}") };
        problems.add(&at, UserErrorCode::Invalid, format!("no row gives a field of a profile{unknown}"));
    }
    problems.into_errors()
}

/// Imports `rows` (at most `max_rows`) in `mode`, matching by `keys` in order:
/// [`prepare`], then [`write`]. What `importProfiles` runs.
pub(crate) async fn import_values(
    db: &Services,
    rows: Vec<Value>,
    max_rows: usize,
    mode: Mode,
    keys: &[ImportKey],
    region: Region,
    today: NaiveDate,
) -> Result<RequestOutcome> {
    let mut unknown_keys = UnknownKeys::default();
    if rows.len() <= max_rows {
        rows.iter().filter_map(Value::as_object).for_each(|row| unknown_keys.note(row.keys()));
    }
    let problems = request_problems(&rows, max_rows, &unknown_keys);
    if !problems.is_empty() {
        return Ok(RequestOutcome { problems, outcomes: Vec::new(), kept: Kept::new(), unknown_keys });
    }
    let rows: Vec<_> = rows.into_iter().map(Ok).collect();
    let Imported { outcomes, kept } = write(db, prepare(&rows, keys, region, today), mode).await?;
    Ok(RequestOutcome { problems, outcomes, kept, unknown_keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_name_one_profile_claim_the_same_string() {
        assert_eq!(Key::Email(" A@B.example".into()).claim(), Key::Email("a@b.example".into()).claim());
        assert_eq!(Key::Email("ÉLISE@b.example".into()).claim(), Key::Email("élise@b.example".into()).claim());
        assert_ne!(Key::Email("a@b.example".into()).claim(), Key::ExternalId("a@b.example".into()).claim());
    }
}
