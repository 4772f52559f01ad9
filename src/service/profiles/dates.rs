//! Important dates of a profile.

use entity::{profile, profile_date};
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use uuid::Uuid;

use crate::domain::validate::{Path, Problems};
use crate::service::draft::{Columns, DateChanges};
use crate::service::error::Result;
use crate::service::profiles::owned::find_and_touch;
use crate::service::runtime::Services;
use crate::service::write::Write;

pub(crate) async fn create(
    db: &Services,
    profile_id: Uuid,
    changes: DateChanges,
    problems: Problems,
) -> Result<(profile_date::Model, profile::Model)> {
    let mut columns = changes.columns();
    let mut txn = Write::begin(db).await?;
    let profile = txn.touch(profile_id, None, &Path::root("profileId")).await?;
    problems.finish(())?;
    let now = txn.now();
    columns.id = NotSet;
    columns.profile_id = Set(profile_id);
    columns.created_at = Set(now);
    columns.updated_at = Set(now);
    let date = columns.insert(txn.conn()).await?;
    txn.commit().await?;
    Ok((date, profile))
}

pub(crate) async fn update(
    db: &Services,
    id: i32,
    changes: DateChanges,
    problems: Problems,
) -> Result<(profile_date::Model, profile::Model)> {
    let mut columns = changes.columns();
    let mut txn = Write::begin(db).await?;
    let (_, profile) = find_and_touch::<profile_date::Entity>(&mut txn, id).await?;
    problems.finish(())?;
    columns.id = Unchanged(id);
    columns.updated_at = Set(txn.now());
    let date = columns.update(txn.conn()).await?;
    txn.commit().await?;
    Ok((date, profile))
}
