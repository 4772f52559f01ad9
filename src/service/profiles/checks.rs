//! Checks against the database that writes make before writing, reporting problems
//! with the path of the value at fault. Unique indexes still guard against races
//! (see [`crate::service::write::taken`]). Reference data found here (tiers, locations,
//! statuses) is locked `FOR SHARE` until the write commits, so that a concurrent
//! delete, which locks it `FOR UPDATE`, cannot remove it between check and write
//! (SQLite serialises writers, and ignores the lock).

use std::collections::BTreeSet;

use entity::{identity, location, profile, status, tier};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::domain::validate::{Path, Problems, UserErrorCode};
use crate::service::error::Result;

/// A location named by the caller: by id or by its external id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LocationRef {
    Id(i32),
    ExternalId(String),
}

/// The id of the location `reference` names, or NOT_FOUND at `path`.
pub(crate) async fn location(
    db: &impl ConnectionTrait,
    reference: &LocationRef,
    path: &Path,
    problems: &mut Problems,
) -> Result<Option<i32>> {
    let found = match reference {
        LocationRef::Id(id) => location::Entity::find_by_id(*id).lock_shared().one(db).await?,
        LocationRef::ExternalId(external) => {
            location::Entity::find()
                .filter(location::Column::ExternalId.eq(external.as_str()))
                .lock_shared()
                .one(db)
                .await?
        }
    };
    if found.is_none() {
        problems.add(path, UserErrorCode::NotFound, "no such location");
    }
    Ok(found.map(|l| l.id))
}

/// NOT_FOUND at `path` unless a tier has `handle`.
pub(crate) async fn tier(db: &impl ConnectionTrait, handle: &str, path: &Path, problems: &mut Problems) -> Result<()> {
    let known = known::<tier::Entity>(db, tier::Column::Handle, [handle]).await?;
    unknown_tier(&known, handle, path, problems);
    Ok(())
}

/// NOT_FOUND at each path whose status handle is not defined.
pub(crate) async fn statuses(
    db: &impl ConnectionTrait,
    handles: &[(Path, String)],
    problems: &mut Problems,
) -> Result<()> {
    let known = known::<status::Entity>(db, status::Column::Handle, handles.iter().map(|(_, h)| h.as_str())).await?;
    unknown_statuses(&known, handles, problems);
    Ok(())
}

/// NOT_FOUND at each path whose status handle is not among `known`.
pub(crate) fn unknown_statuses(known: &BTreeSet<String>, handles: &[(Path, String)], problems: &mut Problems) {
    for (path, handle) in handles {
        if !known.contains(handle) {
            problems.add(path, UserErrorCode::NotFound, format!("no status has the handle `{handle}`"));
        }
    }
}

/// NOT_FOUND at `path` unless `handle` is among the `known` tiers.
pub(crate) fn unknown_tier(known: &BTreeSet<String>, handle: &str, path: &Path, problems: &mut Problems) {
    if !known.contains(handle) {
        problems.add(path, UserErrorCode::NotFound, "no such tier");
    }
}

/// Which of `handles` a row of `E` has in `column` (statuses, tiers), in one statement,
/// locked `FOR SHARE` like every check of reference data.
pub(crate) async fn known<'a, E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    handles: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeSet<String>> {
    let wanted: BTreeSet<&str> = handles.into_iter().collect();
    if wanted.is_empty() {
        return Ok(BTreeSet::new());
    }
    let found: Vec<String> = E::find()
        .select_only()
        .column(column)
        .filter(column.is_in(wanted))
        .order_by_asc(column)
        .lock_shared()
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// TAKEN at `path` when another profile (deleted ones too) has the key of `email`, as
/// the unique index on `email_key` compares them.
pub(crate) async fn email_free(
    db: &impl ConnectionTrait,
    email: &str,
    except: Option<Uuid>,
    path: &Path,
    problems: &mut Problems,
) -> Result<()> {
    let mut query = profile::Entity::find().filter(crate::service::profiles::keys::email_is(email));
    if let Some(id) = except {
        query = query.filter(profile::Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() {
        problems.add(path, UserErrorCode::Taken, "another profile has this email");
    }
    Ok(())
}

/// TAKEN at `path` when another profile (deleted ones too) has this mobile phone.
pub(crate) async fn phone_free(
    db: &impl ConnectionTrait,
    phone: &str,
    except: Option<Uuid>,
    path: &Path,
    problems: &mut Problems,
) -> Result<()> {
    let mut query = profile::Entity::find().filter(profile::Column::MobilePhone.eq(phone));
    if let Some(id) = except {
        query = query.filter(profile::Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() {
        problems.add(path, UserErrorCode::Taken, "another profile has this mobile phone");
    }
    Ok(())
}

/// TAKEN at `path` when another identity has this handle and identifier.
pub(crate) async fn identity_free(
    db: &impl ConnectionTrait,
    handle: &str,
    identifier: &str,
    except: Option<i32>,
    path: &Path,
    problems: &mut Problems,
) -> Result<()> {
    let mut query = identity::Entity::find()
        .filter(identity::Column::Handle.eq(handle))
        .filter(identity::Column::Identifier.eq(identifier));
    if let Some(id) = except {
        query = query.filter(identity::Column::Id.ne(id));
    }
    if query.one(db).await?.is_some() {
        problems.add(path, UserErrorCode::Taken, format!("another identity is `{handle}` `{identifier}`"));
    }
    Ok(())
}
