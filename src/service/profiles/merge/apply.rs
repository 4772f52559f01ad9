//! A merge's statements, in a [`Write`] that holds every profile of it: the duplicates
//! become tombstones first (their email and phone released, so that the survivor may
//! take them), what they own moves to the survivor, then the survivor changes once.

use chrono::{DateTime, Utc};
use entity::{address, appearance, comms, identity, profile, profile_date, profile_status, profile_tag};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use super::rules::Plan;
use crate::service::error::Result;
use crate::service::profiles::keys::{email_is, with_email_key};
use crate::service::write::Write;

/// Applies `plan`: `duplicates` (held) merge into `survivor` (held).
pub(super) async fn apply(write: &mut Write, survivor: Uuid, duplicates: &[Uuid], plan: Plan) -> Result<()> {
    let now = write.now();
    let mut in_order = duplicates.to_vec();
    in_order.sort();
    for duplicate in &in_order {
        write.merge_away(*duplicate, survivor).await?;
    }
    let dups = || duplicates.iter().copied();
    let db = write.conn();

    // Identities: all move, recording where from; at most one primary.
    let mut demoted = identity::Entity::update_many()
        .col_expr(identity::Column::IsPrimary, Expr::val(false))
        .filter(identity::Column::ProfileId.is_in(dups()))
        .filter(identity::Column::IsPrimary.eq(true));
    if let Some(primary) = plan.primary_identity {
        demoted = demoted.filter(identity::Column::Id.ne(primary));
    }
    demoted.exec(db).await?;
    // One statement for all duplicates: `merged_from` takes the owner the row had.
    identity::Entity::update_many()
        .col_expr(identity::Column::MergedFrom, Expr::col(identity::Column::ProfileId))
        .col_expr(identity::Column::ProfileId, Expr::val(survivor))
        .col_expr(identity::Column::UpdatedAt, Expr::val(now))
        .filter(identity::Column::ProfileId.is_in(dups()))
        .exec(db)
        .await?;

    // Addresses: exact duplicates go, the rest move; one default.
    delete_ids::<address::Entity>(db, address::Column::Id, &plan.dropped_addresses).await?;
    let mut undefaulted = address::Entity::update_many()
        .col_expr(address::Column::IsDefault, Expr::val(false))
        .filter(address::Column::ProfileId.is_in(dups().chain([survivor])))
        .filter(address::Column::IsDefault.eq(true));
    if let Some(default) = plan.default_address {
        undefaulted = undefaulted.filter(address::Column::Id.ne(default));
    }
    undefaulted.exec(db).await?;
    let (owner, updated) = (address::Column::ProfileId, address::Column::UpdatedAt);
    move_rows::<address::Entity>(db, owner, updated, duplicates, survivor, now).await?;
    if let Some(default) = plan.default_address {
        address::Entity::update_many()
            .col_expr(address::Column::IsDefault, Expr::val(true))
            .filter(address::Column::Id.eq(default))
            .filter(address::Column::IsDefault.eq(false))
            .exec(db)
            .await?;
    }

    // Important dates: exact duplicates go, the rest move.
    delete_ids::<profile_date::Entity>(db, profile_date::Column::Id, &plan.dropped_dates).await?;
    let (owner, updated) = (profile_date::Column::ProfileId, profile_date::Column::UpdatedAt);
    move_rows::<profile_date::Entity>(db, owner, updated, duplicates, survivor, now).await?;

    // Tags and statuses: the union on the survivor; the tombstones keep none.
    if !plan.new_tags.is_empty() {
        let rows = plan.new_tags.iter().map(|tag| profile_tag::ActiveModel {
            profile_id: Set(survivor),
            tag_id: Set(*tag),
            created_at: Set(now),
        });
        profile_tag::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    profile_tag::Entity::delete_many().filter(profile_tag::Column::ProfileId.is_in(dups())).exec(db).await?;
    if !plan.new_statuses.is_empty() {
        let rows = plan.new_statuses.iter().map(|status| profile_status::ActiveModel {
            profile_id: Set(survivor),
            status_id: Set(*status),
            created_at: Set(now),
        });
        profile_status::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    profile_status::Entity::delete_many().filter(profile_status::Column::ProfileId.is_in(dups())).exec(db).await?;

    // The survivor's comms and appearance, key by key.
    if let Some(merged) = plan.comms {
        let mut row: comms::ActiveModel = comms::Model { updated_at: now, ..merged }.into_active_model();
        row = row.reset_all();
        row.update(db).await?;
    }
    if let Some(merged) = plan.appearance {
        let mut row: appearance::ActiveModel = appearance::Model { updated_at: now, ..merged }.into_active_model();
        row = row.reset_all();
        row.update(db).await?;
    }

    // The survivor's own columns, its version once; then its tombstones' tombstones.
    let mut columns = plan.columns;
    key_kept_email(write, survivor, &mut columns).await?;
    with_email_key(&mut columns);
    write.merged(survivor, columns, duplicates).await?;
    write.repoint(duplicates, survivor).await?;
    Ok(())
}

/// A survivor that keeps an email without its key (one of the profiles that shared a
/// key before it existed, which `email-collisions` lists for merging) takes the key
/// once no other profile holds it, as it may now that the duplicates let go of
/// theirs: the email is written again, and its key with it.
async fn key_kept_email(write: &Write, survivor: Uuid, columns: &mut profile::ActiveModel) -> Result<()> {
    if columns.email.is_set() {
        return Ok(());
    }
    let Some(email) = write.held(survivor).and_then(|p| p.model.email.clone().filter(|_| p.model.email_key.is_none()))
    else {
        return Ok(());
    };
    let holders = profile::Entity::find()
        .filter(email_is(&email))
        .filter(profile::Column::Id.ne(survivor))
        .count(write.conn())
        .await?;
    if holders == 0 {
        columns.email = Set(Some(email));
    }
    Ok(())
}

/// Deletes the rows of `E` whose `id` column is one of `ids` (none: no statement).
async fn delete_ids<E: EntityTrait>(db: &impl ConnectionTrait, id: E::Column, ids: &[i32]) -> Result<()> {
    if !ids.is_empty() {
        E::delete_many().filter(id.is_in(ids.iter().copied())).exec(db).await?;
    }
    Ok(())
}

/// Gives the rows of `E` that profiles `from` own (their `owner` column) to `to`, with
/// `updated` at `now`: one statement.
async fn move_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    owner: E::Column,
    updated: E::Column,
    from: &[Uuid],
    to: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    E::update_many()
        .col_expr(owner, Expr::val(to))
        .col_expr(updated, Expr::val(now))
        .filter(owner.is_in(from.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
