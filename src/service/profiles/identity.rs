//! Identities in other systems: `(handle, identifier)` unique across all profiles,
//! at most one primary identity per profile (making one primary demotes the old one).

use entity::{identity, profile};
use sea_orm::ActiveValue::{self, NotSet, Set, Unchanged};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::validate::{Path, Problems};
use crate::service::draft::{Columns, IdentityChanges};
use crate::service::error::Result;
use crate::service::error::{Unique, taken};
use crate::service::profiles::checks;
use crate::service::profiles::owned::find_and_touch;
use crate::service::runtime::Services;
use crate::service::write::Write;

async fn demote_primary(txn: &DatabaseTransaction, profile_id: Uuid, except: Option<i32>) -> Result<()> {
    let mut update = identity::Entity::update_many()
        .col_expr(identity::Column::IsPrimary, false.into())
        .filter(identity::Column::ProfileId.eq(profile_id))
        .filter(identity::Column::IsPrimary.eq(true));
    if let Some(id) = except {
        update = update.filter(identity::Column::Id.ne(id));
    }
    update.exec(txn).await?;
    Ok(())
}

fn value<T: Clone + Into<sea_orm::Value>>(column: &ActiveValue<T>, current: T) -> T {
    match column {
        ActiveValue::Set(v) | ActiveValue::Unchanged(v) => v.clone(),
        ActiveValue::NotSet => current,
    }
}

fn unique(input: &Path) -> [(Unique, Path); 1] {
    [(Unique::Identity, input.key("identifier"))]
}

pub(crate) async fn create(
    db: &Services,
    profile_id: Uuid,
    changes: IdentityChanges,
    mut problems: Problems,
) -> Result<(identity::Model, profile::Model)> {
    let mut columns = changes.columns();
    let input = Path::root("input");
    let mut txn = Write::begin(db).await?;
    let profile = txn.touch(profile_id, None, &Path::root("profileId")).await?;
    let (handle, identifier) = (value(&columns.handle, String::new()), value(&columns.identifier, String::new()));
    checks::identity_free(txn.conn(), &handle, &identifier, None, &input.key("identifier"), &mut problems).await?;
    problems.finish(())?;
    if value(&columns.is_primary, false) {
        demote_primary(txn.conn(), profile_id, None).await?;
    }
    let now = txn.now();
    columns.id = NotSet;
    columns.profile_id = Set(profile_id);
    columns.created_at = Set(now);
    columns.updated_at = Set(now);
    let identity = columns.insert(txn.conn()).await.map_err(|err| taken(err, &unique(&input)))?;
    txn.commit().await?;
    Ok((identity, profile))
}

pub(crate) async fn update(
    db: &Services,
    id: i32,
    changes: IdentityChanges,
    mut problems: Problems,
) -> Result<(identity::Model, profile::Model)> {
    let mut columns = changes.columns();
    let input = Path::root("input");
    let mut txn = Write::begin(db).await?;
    let (current, profile) = find_and_touch::<identity::Entity>(&mut txn, id).await?;
    let handle = value(&columns.handle, current.handle.clone());
    let identifier = value(&columns.identifier, current.identifier.clone());
    if (&handle, &identifier) != (&current.handle, &current.identifier) {
        checks::identity_free(txn.conn(), &handle, &identifier, Some(id), &input.key("identifier"), &mut problems)
            .await?;
    }
    problems.finish(())?;
    if value(&columns.is_primary, false) && !current.is_primary {
        demote_primary(txn.conn(), current.profile_id, Some(id)).await?;
    }
    columns.id = Unchanged(id);
    columns.updated_at = Set(txn.now());
    let identity = columns.update(txn.conn()).await.map_err(|err| taken(err, &unique(&input)))?;
    txn.commit().await?;
    Ok((identity, profile))
}
