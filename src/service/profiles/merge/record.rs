//! The record of a merge (`profile_merge`): written with the merge, found again by a
//! repeated merge, listed by its survivor.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::profile_merge;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::rules::{FieldChoice, Moves, Released};
use crate::service::actor;
use crate::service::error::{Error, Result};

/// A merge record as the API shows it.
#[derive(Clone, Debug)]
pub struct MergeRecord {
    pub id: i32,
    pub survivor_id: Uuid,
    pub merged_ids: Vec<Uuid>,
    pub fields: Vec<FieldChoice>,
    pub moves: Moves,
    pub released: serde_json::Value,
    pub actor: Option<actor::Actor>,
    pub merged_at: DateTime<Utc>,
}

fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::Invariant(format!("a merge record does not decode: {e}")))
}

impl TryFrom<profile_merge::Model> for MergeRecord {
    type Error = Error;
    fn try_from(m: profile_merge::Model) -> Result<Self> {
        let actor = actor::Actor::from_columns(m.actor_token_id, m.actor_token_name);
        Ok(MergeRecord {
            id: m.id,
            survivor_id: m.survivor_id,
            merged_ids: decode(m.merged_ids)?,
            fields: decode(m.fields)?,
            moves: decode(m.moves)?,
            released: m.released,
            actor,
            merged_at: m.merged_at,
        })
    }
}

fn json(value: &impl serde::Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| Error::Invariant(format!("a merge record does not encode: {e}")))
}

/// Writes the record of a merge made now by the request's actor.
pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    survivor: Uuid,
    merged: &[Uuid],
    fields: &[FieldChoice],
    moves: Moves,
    released: &[Released],
    now: DateTime<Utc>,
) -> Result<MergeRecord> {
    let actor = actor::current();
    let row = profile_merge::ActiveModel {
        id: NotSet,
        survivor_id: Set(survivor),
        merged_ids: Set(json(&merged)?),
        fields: Set(json(&fields)?),
        moves: Set(json(&moves)?),
        released: Set(json(&released)?),
        actor_token_id: Set(actor.as_ref().map(|a| a.token_id)),
        actor_token_name: Set(actor.map(|a| a.token_name)),
        merged_at: Set(now),
    };
    profile_merge::Entity::insert(row).exec_with_returning(db).await?.try_into()
}

/// The merge of exactly `merged` into `survivor`, if it happened.
pub(crate) async fn repeated(
    db: &impl ConnectionTrait,
    survivor: Uuid,
    merged: &[Uuid],
) -> Result<Option<MergeRecord>> {
    let wanted: BTreeSet<Uuid> = merged.iter().copied().collect();
    for record in of_profiles(db, &[survivor]).await?.remove(&survivor).unwrap_or_default() {
        if record.merged_ids.iter().copied().collect::<BTreeSet<Uuid>>() == wanted {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// The merges into each of `survivors`, oldest first: one statement.
pub(crate) async fn of_profiles(
    db: &impl ConnectionTrait,
    survivors: &[Uuid],
) -> Result<HashMap<Uuid, Vec<MergeRecord>>> {
    let rows = profile_merge::Entity::find()
        .filter(profile_merge::Column::SurvivorId.is_in(survivors.iter().copied()))
        .order_by_asc(profile_merge::Column::Id)
        .all(db)
        .await?;
    let mut found: HashMap<Uuid, Vec<MergeRecord>> = HashMap::new();
    for row in rows {
        found.entry(row.survivor_id).or_default().push(row.try_into()?);
    }
    Ok(found)
}

/// The merge record with `id`.
pub(crate) async fn by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<MergeRecord>> {
    profile_merge::Entity::find_by_id(id).one(db).await?.map(MergeRecord::try_from).transpose()
}
