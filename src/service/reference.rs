//! Reference data: tags, statuses, tiers and locations.

use entity::{location, status, tag, tier};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use crate::error::AppResult;

/// Every tag, by handle.
pub async fn tags(db: &DatabaseConnection) -> AppResult<Vec<tag::Model>> {
    Ok(tag::Entity::find()
        .order_by_asc(tag::Column::Handle)
        .all(db)
        .await?)
}

/// Every status, by rank then handle.
pub async fn statuses(db: &DatabaseConnection) -> AppResult<Vec<status::Model>> {
    Ok(status::Entity::find()
        .order_by_asc(status::Column::Rank)
        .order_by_asc(status::Column::Handle)
        .all(db)
        .await?)
}

/// Every tier, by rank then handle.
pub async fn tiers(db: &DatabaseConnection) -> AppResult<Vec<tier::Model>> {
    Ok(tier::Entity::find()
        .order_by_asc(tier::Column::Rank)
        .order_by_asc(tier::Column::Handle)
        .all(db)
        .await?)
}

/// Every location, by name then id.
pub async fn locations(db: &DatabaseConnection) -> AppResult<Vec<location::Model>> {
    Ok(location::Entity::find()
        .order_by_asc(location::Column::Name)
        .order_by_asc(location::Column::Id)
        .all(db)
        .await?)
}
