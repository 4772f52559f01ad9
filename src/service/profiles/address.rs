//! Addresses. A profile with addresses has exactly one default: its first address
//! becomes the default, making another the default clears the old one, and deleting
//! (or un-defaulting) the default passes it to the oldest address left.

use entity::{address, profile};
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::domain::validate::{Path, Problems};
use crate::service::draft::{AddressChanges, Columns};
use crate::service::error::Result;
use crate::service::profiles::owned::find_and_touch;
use crate::service::runtime::Services;
use crate::service::write::Write;

/// A validated address input: the columns to write and what `isDefault` asked for.
pub(crate) struct AddressDraft {
    pub columns: AddressChanges,
    pub make_default: Option<bool>,
    pub problems: Problems,
}

async fn clear_default(txn: &DatabaseTransaction, profile_id: Uuid) -> Result<()> {
    address::Entity::update_many()
        .col_expr(address::Column::IsDefault, false.into())
        .filter(address::Column::ProfileId.eq(profile_id))
        .filter(address::Column::IsDefault.eq(true))
        .exec(txn)
        .await?;
    Ok(())
}

/// The profile's oldest address other than `except`.
async fn oldest_other(txn: &DatabaseTransaction, profile_id: Uuid, except: i32) -> Result<Option<address::Model>> {
    Ok(address::Entity::find()
        .filter(address::Column::ProfileId.eq(profile_id))
        .filter(address::Column::Id.ne(except))
        .order_by_asc(address::Column::CreatedAt)
        .order_by_asc(address::Column::Id)
        .one(txn)
        .await?)
}

async fn set_default(txn: &DatabaseTransaction, id: i32, is_default: bool) -> Result<()> {
    let row = address::ActiveModel { id: Unchanged(id), is_default: Set(is_default), ..Default::default() };
    row.update(txn).await?;
    Ok(())
}

pub(crate) async fn create(
    db: &Services,
    profile_id: Uuid,
    draft: AddressDraft,
) -> Result<(address::Model, profile::Model)> {
    let AddressDraft { columns, make_default, problems } = draft;
    let mut columns = columns.columns();
    let mut txn = Write::begin(db).await?;
    let profile = txn.touch(profile_id, None, &Path::root("profileId")).await?;
    problems.finish(())?;
    let has_default = address::Entity::find()
        .filter(address::Column::ProfileId.eq(profile_id))
        .filter(address::Column::IsDefault.eq(true))
        .one(txn.conn())
        .await?
        .is_some();
    let is_default = !has_default || make_default == Some(true);
    if is_default && has_default {
        clear_default(txn.conn(), profile_id).await?;
    }
    let now = txn.now();
    columns.id = NotSet;
    columns.profile_id = Set(profile_id);
    columns.is_default = Set(is_default);
    columns.created_at = Set(now);
    columns.updated_at = Set(now);
    let address = columns.insert(txn.conn()).await?;
    txn.commit().await?;
    Ok((address, profile))
}

pub(crate) async fn update(db: &Services, id: i32, draft: AddressDraft) -> Result<(address::Model, profile::Model)> {
    let AddressDraft { columns, make_default, problems } = draft;
    let mut columns = columns.columns();
    let mut txn = Write::begin(db).await?;
    let (current, profile) = find_and_touch::<address::Entity>(&mut txn, id).await?;
    problems.finish(())?;
    match make_default {
        Some(true) if !current.is_default => clear_default(txn.conn(), current.profile_id).await?,
        // The default passes to the oldest other address; a profile's only address stays default.
        Some(false) if current.is_default => {
            if let Some(other) = oldest_other(txn.conn(), current.profile_id, id).await? {
                set_default(txn.conn(), id, false).await?;
                set_default(txn.conn(), other.id, true).await?;
            }
        }
        _ => {}
    }
    columns.id = Unchanged(id);
    columns.is_default = match make_default {
        Some(true) => Set(true),
        _ => NotSet,
    };
    columns.updated_at = Set(txn.now());
    let address = columns.update(txn.conn()).await?;
    txn.commit().await?;
    Ok((address, profile))
}

pub(crate) async fn delete(db: &Services, id: i32) -> Result<(i32, profile::Model)> {
    let mut txn = Write::begin(db).await?;
    let (current, profile) = find_and_touch::<address::Entity>(&mut txn, id).await?;
    address::Entity::delete_by_id(id).exec(txn.conn()).await?;
    if current.is_default
        && let Some(other) = oldest_other(txn.conn(), current.profile_id, id).await?
    {
        set_default(txn.conn(), other.id, true).await?;
    }
    txn.commit().await?;
    Ok((id, profile))
}
