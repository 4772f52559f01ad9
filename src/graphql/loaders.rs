//! DataLoaders, made per request: one per relation kind of `Profile`, keyed by the
//! owning id, so a page of N profiles costs one statement per relation kind whatever N.
//! They batch keys; the statements are the service's (`service::relations`).
//!
//! Three generic loaders cover every relation:
//! - [`OwnedLoader`]: rows with a `profile_id` (addresses, dates, identities, comms,
//!   appearance);
//! - [`AttachedLoader`]: records joined through a link table (tags, statuses);
//! - [`KeyLoader`]: records by a unique key (tiers by handle, locations by id; the
//!   preferred and joined locations share it).
//!
//! Beside them, loaders for what is not a relation: histories, event contexts and
//! duplicate candidates; and [`Siblings`], which loads duplicate candidates for a whole
//! page at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{address, appearance, comms, identity, location, profile_date, profile_status, profile_tag, tier};
use sea_orm::{DatabaseConnection, EntityTrait, Value};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::service::events::deferred::Deferred;
use crate::service::events::feed::{FeedPage, Window};
use crate::service::events::{deferred, feed as events};
use crate::service::profiles::duplicates::{self, Candidate};
use crate::service::profiles::merge::record::{self as merge_record, MergeRecord};
use crate::service::profiles::owned::Owned;
use crate::service::profiles::relations::{self, Attached, Keyed};

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
    pub histories: DataLoader<HistoryLoader>,
    pub contexts: DataLoader<ContextLoader>,
    pub duplicates: DataLoader<DuplicatesLoader>,
    pub merges: DataLoader<MergeLoader>,
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
            histories: loader(HistoryLoader { db: db.clone() }),
            contexts: loader(ContextLoader { db: db.clone() }),
            duplicates: loader(DuplicatesLoader { db: db.clone() }),
            merges: loader(MergeLoader { db: db.clone() }),
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
    type Error = crate::service::error::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        relations::owned::<E>(&self.db, keys).await
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
    type Error = crate::service::error::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        relations::attached::<J>(&self.db, keys).await
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
    type Error = crate::service::error::Error;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, E::Model>, Self::Error> {
        relations::by_key::<E, K>(&self.db, keys).await
    }
}

/// A page of one profile's history: which profile, and the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct HistoryKey {
    pub profile: Uuid,
    pub window: Window,
}

/// Profiles' histories (`Profile.history`): one statement per distinct page asked for.
pub struct HistoryLoader {
    db: DatabaseConnection,
}

impl Loader<HistoryKey> for HistoryLoader {
    type Value = FeedPage;
    type Error = crate::service::error::Error;

    async fn load(&self, keys: &[HistoryKey]) -> Result<HashMap<HistoryKey, FeedPage>, Self::Error> {
        let mut windows: HashMap<Window, Vec<Uuid>> = HashMap::new();
        for key in keys {
            windows.entry(key.window).or_default().push(key.profile);
        }
        let mut found = HashMap::new();
        for (window, profiles) in windows {
            for (profile, page) in events::histories(&self.db, &profiles, window).await? {
                found.insert(HistoryKey { profile, window }, page);
            }
        }
        Ok(found)
    }
}

/// The contexts of events that defer theirs (`Event.data`; see `service::events`): one
/// statement for a page of them.
pub struct ContextLoader {
    db: DatabaseConnection,
}

impl Loader<Deferred> for ContextLoader {
    type Value = serde_json::Value;
    type Error = crate::service::error::Error;

    async fn load(&self, keys: &[Deferred]) -> Result<HashMap<Deferred, serde_json::Value>, Self::Error> {
        let mut found = deferred::contexts(&self.db, keys).await?;
        Ok(keys.iter().filter_map(|key| Some((*key, found.remove(&key.seq)?))).collect())
    }
}

/// The duplicate candidates of one profile: which profile, and how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DuplicatesKey {
    pub profile: Uuid,
    pub first: u64,
}

/// Profiles' duplicate candidates (`Profile.duplicates`): one statement per distinct
/// `first` asked for.
pub struct DuplicatesLoader {
    db: DatabaseConnection,
}

impl Loader<DuplicatesKey> for DuplicatesLoader {
    type Value = Vec<Candidate>;
    type Error = crate::service::error::Error;

    async fn load(&self, keys: &[DuplicatesKey]) -> Result<HashMap<DuplicatesKey, Vec<Candidate>>, Self::Error> {
        let mut sizes: HashMap<u64, Vec<Uuid>> = HashMap::new();
        for key in keys {
            sizes.entry(key.first).or_default().push(key.profile);
        }
        let mut found = HashMap::new();
        for (first, profiles) in sizes {
            for (profile, candidates) in duplicates::candidates(&self.db, &profiles, first).await? {
                found.insert(DuplicatesKey { profile, first }, candidates);
            }
        }
        Ok(found)
    }
}

/// Every profile's candidates of one `first`, by key.
type Found = HashMap<DuplicatesKey, Vec<Candidate>>;

/// Profiles read together (the nodes of a page, the candidates of a profile): the first
/// of them whose `duplicates` resolves loads them for all, in one batch, and the others
/// wait for it. A DataLoader's batch holds the keys that arrive within its delay (1 ms),
/// and the resolvers of a page of more than ~30 profiles yield part-way (the list is
/// resolved by a `FuturesUnordered`, which yields every 32 polls): in a slow build or on
/// a busy machine the rest arrive later and make a second batch. Reading for the page's
/// ids at once makes a page one batch whatever the timing.
#[derive(Debug)]
pub(crate) struct Siblings {
    ids: Vec<Uuid>,
    /// One load per `first` asked for.
    duplicates: Mutex<HashMap<u64, Arc<OnceCell<Found>>>>,
}

impl Siblings {
    pub(crate) fn new(ids: Vec<Uuid>) -> Arc<Siblings> {
        Arc::new(Siblings { ids, duplicates: Mutex::default() })
    }

    /// The candidates of `key`, loaded with those of every sibling.
    pub(crate) async fn duplicates(
        &self,
        loader: &DataLoader<DuplicatesLoader>,
        key: DuplicatesKey,
    ) -> Result<Vec<Candidate>, crate::service::error::Error> {
        let cell = {
            let mut cells = self.duplicates.lock().unwrap_or_else(PoisonError::into_inner);
            cells.entry(key.first).or_default().clone()
        };
        let keys = self.ids.iter().map(|&profile| DuplicatesKey { profile, first: key.first });
        let found = cell.get_or_try_init(|| loader.load_many(keys)).await?;
        Ok(found.get(&key).cloned().unwrap_or_default())
    }
}

/// The merges into each profile (`Profile.merges`): one statement for a page of them.
pub struct MergeLoader {
    db: DatabaseConnection,
}

impl Loader<Uuid> for MergeLoader {
    type Value = Vec<MergeRecord>;
    type Error = crate::service::error::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<MergeRecord>>, Self::Error> {
        merge_record::of_profiles(&self.db, keys).await
    }
}
