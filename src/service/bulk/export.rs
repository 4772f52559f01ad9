//! Export: every profile in the import format — the reference platform's
//! profile JSON, as the event context builds it (`context::of`) — read in pages by id
//! (keyset, no OFFSET), one planned statement a page, so that memory does not grow
//! with the table.

use chrono::NaiveDate;
use entity::profile;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::service::error::Result;
use crate::service::events::context;
use crate::service::profiles::read::{self, Selection};

/// Profiles read by one statement.
pub(crate) const PAGE: u64 = 500;

/// The stored, flat fields of a profile, in the order of the reference document: the
/// columns of the CSV form. Locations go by their natural keys (external id and name,
/// read from the embedded objects), never by this database's integer ids.
pub const FLAT: &[&str] = &[
    "id",
    "external_id",
    "title",
    "first_name",
    "last_name",
    "email",
    "gender",
    "currency",
    "joined_at",
    "mobile_phone",
    "secondary_phone",
    "birth_year",
    "birth_month",
    "birth_day",
    "company",
    "occupation",
    "avatar_url",
    "preferred_location_external_id",
    "preferred_location_name",
    "joined_location_external_id",
    "joined_location_name",
    "tier_handle",
    "created_at",
    "updated_at",
    "profile_type",
];

/// Which profiles an export reads, and how far it got.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Export {
    include_deleted: bool,
    page: u64,
    /// The last id read: the next page starts after it.
    after: Option<Uuid>,
}

impl Export {
    /// An export from the first profile on, `page` profiles a statement (at least one).
    pub(crate) fn new(include_deleted: bool, page: u64) -> Self {
        Export { include_deleted, page: page.max(1), after: None }
    }

    /// The next page of profiles in id order, each in the import format as of `today`
    /// (UTC); empty when every profile was read.
    pub(crate) async fn next(
        &mut self,
        db: &impl ConnectionTrait,
        today: NaiveDate,
    ) -> Result<Vec<Map<String, Value>>> {
        let mut query = profile::Entity::find().order_by_asc(profile::Column::Id).limit(self.page);
        if let Some(after) = self.after {
            query = query.filter(profile::Column::Id.gt(after));
        }
        // Tombstones (merged away) are never exported, deleted profiles only when asked:
        // what a tombstone held is its survivor's now.
        query = query.filter(profile::Column::MergedInto.is_null());
        if !self.include_deleted {
            query = query.filter(crate::service::profiles::keys::visible());
        }
        let rows = read::rows(db, query, &Selection::everything()).await?;
        if let Some(last) = rows.last() {
            self.after = Some(last.model.id);
        }
        Ok(rows.iter().map(|planned| context::of(planned, today)).collect())
    }
}

/// The [`FLAT`] fields of a profile in the import format, as CSV cells: text as it is,
/// numbers and booleans written out, nothing for null.
pub(crate) fn flat_cells(profile: &Map<String, Value>) -> Vec<String> {
    FLAT.iter()
        .map(|key| match flat(profile, key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        })
        .collect()
}

/// A flat field's value: a profile key, or a key of an embedded location
/// (`joined_location_external_id` is `joined_location.external_id`).
fn flat<'a>(profile: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    for location in ["preferred_location", "joined_location"] {
        if let Some(field) = key.strip_prefix(location).and_then(|rest| rest.strip_prefix('_')) {
            return profile.get(location).and_then(|object| object.get(field));
        }
    }
    profile.get(key)
}
