//! Tags and statuses on a profile. Adding and removing are idempotent; either counts
//! as a change to the profile (`version` + 1).

use entity::{profile, profile_status, profile_tag, status, tag};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::validate::{Path, Problems};
use crate::service::error::Result;
use crate::service::profiles::checks;
use crate::service::profiles::create::{attach_statuses, attach_tags, lock_tags};
use crate::service::runtime::Services;
use crate::service::write::Write;

/// Which label a call is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Label {
    Tag,
    Status,
}

/// Attaches labels by (normalised) handle. Unknown tags are created; unknown statuses
/// are NOT_FOUND at `["handles", i]`.
pub(crate) async fn add(
    db: &Services,
    label: Label,
    profile_id: Uuid,
    handles: Vec<String>,
    mut problems: Problems,
) -> Result<profile::Model> {
    let mut txn = Write::begin(db).await?;
    // The labels are locked before the profile, as `deleteTag` and `deleteStatus` lock
    // theirs before their holders: otherwise each could hold what the other waits for
    // (see `create::lock_tags`). Tags only once their handles are known to be valid.
    match label {
        Label::Tag if problems.is_empty() => {
            lock_tags(txn.conn(), handles.iter().map(String::as_str), txn.now()).await?;
        }
        Label::Tag => {}
        // Locked to share until commit, as every check of reference data is.
        Label::Status => {
            let paths: Vec<(Path, String)> =
                handles.iter().enumerate().map(|(i, h)| (Path::root("handles").index(i), h.clone())).collect();
            checks::statuses(txn.conn(), &paths, &mut problems).await?;
        }
    }
    let profile = txn.touch(profile_id, None, &Path::root("profileId")).await?;
    problems.finish(())?;
    let wanted: Vec<(Uuid, String)> = handles.iter().map(|handle| (profile_id, handle.clone())).collect();
    match label {
        Label::Tag => attach_tags(txn.conn(), &wanted, txn.now()).await?,
        Label::Status => attach_statuses(txn.conn(), &wanted, txn.now()).await?,
    }
    txn.commit().await?;
    Ok(profile)
}

/// Detaches labels by (normalised) handle; handles the profile does not hold are ignored.
pub(crate) async fn remove(
    db: &Services,
    label: Label,
    profile_id: Uuid,
    handles: Vec<String>,
    problems: Problems,
) -> Result<profile::Model> {
    let mut txn = Write::begin(db).await?;
    // Only the profile is locked, then its links: no label. A concurrent delete of a
    // label waits for the profile, and this write waits for nothing the delete holds.
    let profile = txn.touch(profile_id, None, &Path::root("profileId")).await?;
    problems.finish(())?;
    match label {
        Label::Tag => {
            let ids = Query::select()
                .column(tag::Column::Id)
                .from(tag::Entity)
                .and_where(tag::Column::Handle.is_in(handles))
                .to_owned();
            profile_tag::Entity::delete_many()
                .filter(profile_tag::Column::ProfileId.eq(profile_id))
                .filter(profile_tag::Column::TagId.in_subquery(ids))
                .exec(txn.conn())
                .await?;
        }
        Label::Status => {
            let ids = Query::select()
                .column(status::Column::Id)
                .from(status::Entity)
                .and_where(status::Column::Handle.is_in(handles))
                .to_owned();
            profile_status::Entity::delete_many()
                .filter(profile_status::Column::ProfileId.eq(profile_id))
                .filter(profile_status::Column::StatusId.in_subquery(ids))
                .exec(txn.conn())
                .await?;
        }
    }
    txn.commit().await?;
    Ok(profile)
}
