//! DataLoaders, made per request: one per relation kind of `Profile`, keyed by the
//! owning id, so a page of N profiles costs one statement per relation kind whatever N.
//!
//! Three generic loaders cover every relation:
//! - [`OwnedLoader`]: rows with a `profile_id` (addresses, dates, identities, comms,
//!   appearance);
//! - [`AttachedLoader`]: records joined through a link table (tags, statuses);
//! - [`KeyLoader`]: records by a unique key (tiers by handle, locations by id; the
//!   preferred and joined locations share it).

use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{address, appearance, comms, identity, location, profile_date, profile_status, profile_tag, tier};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, Related, Value};
use uuid::Uuid;

use crate::service::owned::Owned;

/// The loaders of one request.
pub struct Loaders {
    pub addresses: DataLoader<OwnedLoader<address::Entity>>,
    pub dates: DataLoader<OwnedLoader<profile_date::Entity>>,
    pub identities: DataLoader<OwnedLoader<identity::Entity>>,
    pub comms: DataLoader<OwnedLoader<comms::Entity>>,
    pub appearance: DataLoader<OwnedLoader<appearance::Entity>>,
    pub tags: DataLoader<AttachedLoader<profile_tag::Entity>>,
    pub statuses: DataLoader<AttachedLoader<profile_status::Entity>>,
    pub tiers: DataLoader<KeyLoader<tier::Entity, String>>,
    pub locations: DataLoader<KeyLoader<location::Entity, i32>>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        fn loader<L: Send + Sync + 'static>(inner: L) -> DataLoader<L> {
            DataLoader::new(inner, tokio::spawn)
        }
        Loaders {
            addresses: loader(OwnedLoader::new(db)),
            dates: loader(OwnedLoader::new(db)),
            identities: loader(OwnedLoader::new(db)),
            comms: loader(OwnedLoader::new(db)),
            appearance: loader(OwnedLoader::new(db)),
            tags: loader(AttachedLoader::new(db)),
            statuses: loader(AttachedLoader::new(db)),
            tiers: loader(KeyLoader::new(db)),
            locations: loader(KeyLoader::new(db)),
        }
    }
}

pub struct OwnedLoader<E> {
    db: DatabaseConnection,
    entity: PhantomData<fn() -> E>,
}

impl<E> OwnedLoader<E> {
    fn new(db: &DatabaseConnection) -> Self {
        OwnedLoader { db: db.clone(), entity: PhantomData }
    }
}

impl<E> Loader<Uuid> for OwnedLoader<E>
where
    E: Owned,
    E::Model: Sync,
{
    type Value = Vec<E::Model>;
    type Error = DbErr;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, DbErr> {
        let rows =
            E::find().filter(E::PROFILE.is_in(keys.iter().copied())).order_by_asc(E::ORDER).all(&self.db).await?;
        let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
        for row in rows {
            grouped.entry(E::profile_id(&row)).or_default().push(row);
        }
        Ok(grouped)
    }
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

pub struct AttachedLoader<J> {
    db: DatabaseConnection,
    link: PhantomData<fn() -> J>,
}

impl<J> AttachedLoader<J> {
    fn new(db: &DatabaseConnection) -> Self {
        AttachedLoader { db: db.clone(), link: PhantomData }
    }
}

impl<J> Loader<Uuid> for AttachedLoader<J>
where
    J: Attached,
    <J::Target as EntityTrait>::Model: Sync,
{
    type Value = Vec<<J::Target as EntityTrait>::Model>;
    type Error = DbErr;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, DbErr> {
        let rows = J::find()
            .find_also_related(J::Target::default())
            .filter(J::PROFILE.is_in(keys.iter().copied()))
            .order_by_asc(J::ORDER)
            .all(&self.db)
            .await?;
        let mut grouped: HashMap<Uuid, Self::Value> = HashMap::new();
        for (link, target) in rows {
            if let Some(target) = target {
                grouped.entry(J::profile_id(&link)).or_default().push(target);
            }
        }
        Ok(grouped)
    }
}

/// A table whose rows are found by a unique key of type `K`.
pub trait Keyed<K>: EntityTrait {
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

pub struct KeyLoader<E, K> {
    db: DatabaseConnection,
    entity: PhantomData<fn() -> (E, K)>,
}

impl<E, K> KeyLoader<E, K> {
    fn new(db: &DatabaseConnection) -> Self {
        KeyLoader { db: db.clone(), entity: PhantomData }
    }
}

impl<E, K> Loader<K> for KeyLoader<E, K>
where
    E: Keyed<K>,
    E::Model: Sync,
    K: Send + Sync + Hash + Eq + Clone + Into<Value> + 'static,
{
    type Value = E::Model;
    type Error = DbErr;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, E::Model>, DbErr> {
        let rows = E::find().filter(E::KEY.is_in(keys.iter().cloned())).all(&self.db).await?;
        Ok(rows.into_iter().map(|row| (E::key(&row), row)).collect())
    }
}
