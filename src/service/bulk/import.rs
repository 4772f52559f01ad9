//! Import (SPEC §8): rows read and validated as new profiles ([`read`](super::read))
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
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use super::create::create_all;
use super::read::{at_row, prepare};
use super::row::{ImportKey, ImportRow, Mode, Outcome, Status};
use super::update::{RowChange, Update, changes, lock_references, update_one};
use crate::domain::phone::Region;
use crate::domain::validate::{Path, UserError, UserErrorCode};
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
            Key::Email(email) => format!("email:{}", email.trim().to_lowercase()),
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

    /// Whether `planned` is the profile this key names.
    fn names(&self, planned: &Planned) -> bool {
        let m = &planned.model;
        let identities = planned.relations.identities.as_deref().unwrap_or_default();
        match self {
            Key::Id(id) => m.id == *id,
            Key::Email(email) => m.email.as_deref().is_some_and(|e| e.to_lowercase() == email.trim().to_lowercase()),
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

/// Imports `rows` (those that failed validation stay failed) in `mode`; one outcome a
/// row, in order. A database failure stops the import: the waves before it are
/// committed, the rest is not written.
pub(crate) async fn import(
    db: &Services,
    rows: Vec<Result<ImportRow, Vec<UserError>>>,
    mode: Mode,
) -> Result<Vec<Outcome>> {
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
                    run_wave(db, std::mem::take(&mut wave), mode, &mut outcomes).await?;
                    claimed.clear();
                }
                claimed.extend(claims);
                wave.push((index, row));
            }
        }
    }
    run_wave(db, wave, mode, &mut outcomes).await?;
    Ok(outcomes.into_iter().map(|o| o.unwrap_or_else(|| Outcome::failed(Vec::new()))).collect())
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
            current.iter().filter(|p| key.names(p)).min_by_key(|p| key.identity_id(p)).map(|p| (key, p))
        });
        match (found, mode) {
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
    // order every write takes them: reference records, waiting events, profiles (these
    // in id order, not the file's).
    if !changing.is_empty() {
        let updates: Vec<&Update> = changing.iter().map(|(_, update)| update.as_ref()).collect();
        lock_references(write.conn(), &updates).await?;
        let ids: Vec<Uuid> = updates.iter().map(|update| update.current.model.id).collect();
        write.settle_profiles(ids.iter().copied()).await?;
        write.lock(profile::Column::Id.is_in(ids)).await?;
    }
    for (index, update) in changing {
        outcomes[index] = Some(update_one(&mut write, update).await?);
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
            Key::Email(email) => emails.push(email.trim().to_lowercase()),
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
        let lower = sea_orm::sea_query::Func::lower(Expr::col((profile::Entity, profile::Column::Email)));
        any = any.add(Expr::expr(lower).is_in(emails));
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
pub(crate) async fn write(
    db: &Services,
    rows: Vec<Result<ImportRow, Vec<UserError>>>,
    mode: Mode,
) -> Result<Vec<Outcome>> {
    // Boxed: an import is a deep future, and a resolver's frame holds its callee's
    // state inline (over 100 KB of stack in a debug build).
    let mut outcomes = Box::pin(import(db, rows, mode)).await?;
    for outcome in &mut outcomes {
        outcome.errors = std::mem::take(&mut outcome.errors).into_iter().map(at_row).collect();
    }
    Ok(outcomes)
}

/// Imports `rows` (each a row, or the problems found reading it) in `mode`, matching
/// by `keys` in order: [`prepare`], then [`write`]. What `importProfiles` runs.
pub(crate) async fn import_values(
    db: &Services,
    rows: &[Result<Value, Vec<UserError>>],
    mode: Mode,
    keys: &[ImportKey],
    region: Region,
    today: NaiveDate,
) -> Result<Vec<Outcome>> {
    write(db, prepare(rows, keys, region, today), mode).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_name_one_profile_claim_the_same_string() {
        assert_eq!(Key::Email(" A@B.example".into()).claim(), Key::Email("a@b.example".into()).claim());
        assert_ne!(Key::Email("a@b.example".into()).claim(), Key::ExternalId("a@b.example".into()).claim());
    }
}
