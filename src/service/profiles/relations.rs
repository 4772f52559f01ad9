//! Loading what profiles relate to, for many profiles at once: the rows they own, the
//! records attached to them through link tables, and records by a unique key. The
//! GraphQL layer's DataLoaders batch their keys into these.

use std::collections::HashMap;
use std::hash::Hash;

use entity::{location, profile_status, profile_tag, tier};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Related, Value};
use uuid::Uuid;

use crate::service::error::Result;
use crate::service::profiles::owned::Owned;

/// The rows of `E` that each of `profiles` owns, in `E::ORDER`.
pub(crate) async fn owned<E: Owned>(
    db: &DatabaseConnection,
    profiles: &[Uuid],
) -> Result<HashMap<Uuid, Vec<E::Model>>> {
    let rows = E::find().filter(E::PROFILE.is_in(profiles.iter().copied())).order_by_asc(E::ORDER).all(db).await?;
    let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
    for row in rows {
        grouped.entry(E::profile_id(&row)).or_default().push(row);
    }
    Ok(grouped)
}

/// A link table joining profiles to the records of `Target`.
pub trait Attached: EntityTrait + Related<Self::Target> {
    type Target: EntityTrait;
    /// The `profile_id` column of the link table.
    const PROFILE: Self::Column;
    /// The column the attached records are listed by.
    const ORDER: <Self::Target as EntityTrait>::Column;
    fn profile_id(link: &Self::Model) -> Uuid;
}

impl Attached for profile_tag::Entity {
    type Target = entity::tag::Entity;
    const PROFILE: Self::Column = profile_tag::Column::ProfileId;
    const ORDER: entity::tag::Column = entity::tag::Column::Handle;
    fn profile_id(link: &Self::Model) -> Uuid {
        link.profile_id
    }
}

impl Attached for profile_status::Entity {
    type Target = entity::status::Entity;
    const PROFILE: Self::Column = profile_status::Column::ProfileId;
    const ORDER: entity::status::Column = entity::status::Column::Handle;
    fn profile_id(link: &Self::Model) -> Uuid {
        link.profile_id
    }
}

/// The records attached through link table `J` to each of `profiles`, in `J::ORDER`.
pub(crate) async fn attached<J: Attached>(
    db: &DatabaseConnection,
    profiles: &[Uuid],
) -> Result<HashMap<Uuid, Vec<<J::Target as EntityTrait>::Model>>> {
    let rows = J::find()
        .find_also_related(J::Target::default())
        .filter(J::PROFILE.is_in(profiles.iter().copied()))
        .order_by_asc(J::ORDER)
        .all(db)
        .await?;
    let mut grouped: HashMap<Uuid, Vec<<J::Target as EntityTrait>::Model>> = HashMap::new();
    for (link, target) in rows {
        if let Some(target) = target {
            grouped.entry(J::profile_id(&link)).or_default().push(target);
        }
    }
    Ok(grouped)
}

/// A table whose rows are found by a unique key of type `K`.
pub(crate) trait Keyed<K>: EntityTrait {
    const KEY: Self::Column;
    fn key(row: &Self::Model) -> K;
}

impl Keyed<String> for tier::Entity {
    const KEY: Self::Column = tier::Column::Handle;
    fn key(row: &Self::Model) -> String {
        row.handle.clone()
    }
}

impl Keyed<i32> for location::Entity {
    const KEY: Self::Column = location::Column::Id;
    fn key(row: &Self::Model) -> i32 {
        row.id
    }
}

/// The records of `E` with each of `keys`.
pub(crate) async fn by_key<E, K>(db: &DatabaseConnection, keys: &[K]) -> Result<HashMap<K, E::Model>>
where
    E: Keyed<K>,
    K: Hash + Eq + Clone + Into<Value>,
{
    let rows = E::find().filter(E::KEY.is_in(keys.iter().cloned())).all(db).await?;
    Ok(rows.into_iter().map(|row| (E::key(&row), row)).collect())
}
