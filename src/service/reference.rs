//! Reference data: tags, statuses, tiers and locations.

use entity::{location, status, tag, tier};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryOrder};

use crate::error::AppResult;

/// Every tag, by handle.
pub async fn tags(db: &DatabaseConnection) -> AppResult<Vec<tag::Model>> {
    Ok(tag::Entity::find().order_by_asc(tag::Column::Handle).all(db).await?)
}

/// Every status, by rank then handle.
pub async fn statuses(db: &DatabaseConnection) -> AppResult<Vec<status::Model>> {
    Ok(status::Entity::find().order_by_asc(status::Column::Rank).order_by_asc(status::Column::Handle).all(db).await?)
}

/// Every tier, by rank then handle.
pub async fn tiers(db: &DatabaseConnection) -> AppResult<Vec<tier::Model>> {
    Ok(tier::Entity::find().order_by_asc(tier::Column::Rank).order_by_asc(tier::Column::Handle).all(db).await?)
}

/// Every location, by name then id.
pub async fn locations(db: &DatabaseConnection) -> AppResult<Vec<location::Model>> {
    Ok(location::Entity::find().order_by_asc(location::Column::Name).order_by_asc(location::Column::Id).all(db).await?)
}

/// Creates a tier.
pub async fn create_tier(db: &DatabaseConnection, handle: &str, name: &str, rank: i32) -> AppResult<tier::Model> {
    let now = crate::db::now();
    let row = tier::ActiveModel {
        handle: Set(handle.to_owned()),
        name: Set(name.to_owned()),
        rank: Set(rank),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(db).await?)
}

/// Creates a status.
pub async fn create_status(db: &DatabaseConnection, handle: &str, name: &str, rank: i32) -> AppResult<status::Model> {
    let now = crate::db::now();
    let row = status::ActiveModel {
        handle: Set(handle.to_owned()),
        name: Set(name.to_owned()),
        rank: Set(rank),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(db).await?)
}

/// Creates a location.
pub async fn create_location(
    db: &DatabaseConnection,
    name: &str,
    external_id: Option<&str>,
    external_code: Option<&str>,
) -> AppResult<location::Model> {
    let now = crate::db::now();
    let row = location::ActiveModel {
        name: Set(name.to_owned()),
        external_id: Set(external_id.map(str::to_owned)),
        external_code: Set(external_code.map(str::to_owned)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(db).await?)
}
