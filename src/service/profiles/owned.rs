//! Records a profile owns (addresses, dates, identities, comms, appearance): what their
//! reads and writes share.

use entity::{address, appearance, comms, identity, profile, profile_date};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
use uuid::Uuid;

use crate::domain::validate::{Path, UserErrorCode};
use crate::service::error::{Error, Result};
use crate::service::runtime::Services;
use crate::service::write::Write;

/// A table whose rows belong to one profile.
pub(crate) trait Owned: EntityTrait {
    /// The `profile_id` column.
    const PROFILE: Self::Column;
    /// The column the rows of one profile are listed by.
    const ORDER: Self::Column;
    /// What one row is called in messages.
    const NOUN: &'static str;
    fn profile_id(row: &Self::Model) -> Uuid;
}

macro_rules! owned {
    ($($module:ident by $order:ident, $noun:literal);* $(;)?) => {$(
        impl Owned for $module::Entity {
            const PROFILE: Self::Column = $module::Column::ProfileId;
            const ORDER: Self::Column = $module::Column::$order;
            const NOUN: &'static str = $noun;
            fn profile_id(row: &Self::Model) -> Uuid {
                row.profile_id
            }
        }
    )*};
}
owned! {
    address by Id, "address";
    profile_date by Id, "date";
    identity by Id, "identity";
    comms by ProfileId, "comms";
    appearance by ProfileId, "appearance";
}

/// Row `id` of `E` and its profile, touched (version + 1): how every change to an
/// owned row starts. NOT_FOUND at `["id"]` when there is no such row, or its profile
/// is deleted.
pub(crate) async fn find_and_touch<E>(txn: &mut Write, id: i32) -> Result<(E::Model, profile::Model)>
where
    E: Owned,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i32>,
{
    let path = Path::root("id");
    let missing = || Error::user(&path, UserErrorCode::NotFound, format!("no {} has this id", E::NOUN));
    let row = E::find_by_id(id).one(txn.conn()).await?.ok_or_else(missing)?;
    let profile = txn.touch(E::profile_id(&row), None, &path).await?;
    // Read again now that the profile is locked, as every change to its rows locks it
    // first: a write that held it may have changed or deleted the row since the first
    // read, and writing to a row that is gone would fail as no user error does.
    let row = E::find_by_id(id).one(txn.conn()).await?.ok_or_else(missing)?;
    Ok((row, profile))
}

/// Deletes row `id` of `E`; returns its id and the profile after the change.
pub(crate) async fn delete<E>(db: &Services, id: i32) -> Result<(i32, profile::Model)>
where
    E: Owned,
    E::Model: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i32>,
{
    let mut txn = Write::begin(db).await?;
    let (row, profile) = find_and_touch::<E>(&mut txn, id).await?;
    row.into_active_model().delete(txn.conn()).await?;
    txn.commit().await?;
    Ok((id, profile))
}
