//! Email collisions: profiles whose email has the key another profile holds. Writes
//! refuse them (TAKEN), so they come only from before the key existed, when `ÉLISE@…`
//! and `élise@…` could both be stored; the migration that made the key gave it to the
//! oldest and none to the others. They stay as they are until an operator merges them
//! (the service has no merge): listed here for the `email-collisions` command and the
//! warning at every start, never merged silently.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::profile;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::service::error::Result;

/// The profiles that share one email key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Collision {
    /// The shared key ([`email_key::of`]).
    pub key: String,
    /// Every profile with an email of this key, oldest first (created_at, then id).
    pub profiles: Vec<Uuid>,
    /// The one of them that holds the key, if one still does.
    pub holder: Option<Uuid>,
}

/// Every collision, by key: the profiles with an email but no key, with whichever
/// profile holds their email's key (none, once the holder let it go: an update of the
/// email then gives it to them). Two statements, whatever the number of profiles.
pub(crate) async fn email_collisions(db: &impl ConnectionTrait) -> Result<Vec<Collision>> {
    type Row = (Uuid, Option<String>, DateTime<Utc>);
    let columns = |key: profile::Column| [profile::Column::Id, key, profile::Column::CreatedAt];
    let keyless: Vec<Row> = profile::Entity::find()
        .select_only()
        .columns(columns(profile::Column::Email))
        .filter(profile::Column::EmailKey.is_null())
        .filter(profile::Column::Email.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    if keyless.is_empty() {
        return Ok(Vec::new());
    }
    let mut groups: BTreeMap<String, Vec<(DateTime<Utc>, Uuid)>> = BTreeMap::new();
    for (id, email, created_at) in keyless {
        let key = email_key::of(email.as_deref().unwrap_or_default());
        groups.entry(key).or_default().push((created_at, id));
    }
    let holders: Vec<Row> = profile::Entity::find()
        .select_only()
        .columns(columns(profile::Column::EmailKey))
        .filter(profile::Column::EmailKey.is_in(groups.keys().cloned()))
        .into_tuple()
        .all(db)
        .await?;
    let mut held: BTreeMap<String, Uuid> = BTreeMap::new();
    for (id, key, created_at) in holders {
        let Some(key) = key else { continue };
        groups.entry(key.clone()).or_default().push((created_at, id));
        held.insert(key, id);
    }
    Ok(groups
        .into_iter()
        .map(|(key, mut profiles)| {
            profiles.sort();
            let holder = held.get(&key).copied();
            Collision { key, profiles: profiles.into_iter().map(|(_, id)| id).collect(), holder }
        })
        .collect())
}

/// Logs each collision at warn, with the profile ids only (a key is an email), so that
/// an operator sees at every start that some profiles wait to be merged.
pub(crate) async fn warn_of_email_collisions(db: &impl ConnectionTrait) -> Result<()> {
    for collision in email_collisions(db).await? {
        let profiles: Vec<String> = collision.profiles.iter().map(Uuid::to_string).collect();
        tracing::warn!(
            profiles = profiles.join(","),
            holder = %collision.holder.map_or_else(|| "none".to_owned(), |id| id.to_string()),
            "profiles share one email key and only the holder has it: merge them \
             (`profiles-gateway email-collisions` lists every such group)"
        );
    }
    Ok(())
}
