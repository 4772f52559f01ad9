//! Merging duplicates as GraphQL types: the merge's fields and their choices, what
//! moved, the preview, and the record of a merge (`ProfileMerge`).

use async_graphql::{Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::event::Actor;
use crate::service::profiles::merge::record::MergeRecord;
use crate::service::profiles::merge::rules::{self, AttributeKey, FieldChoice, Moves};

/// A field a merge chooses a value of: every stored scalar of a profile, the default
/// address, and each custom attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[graphql(remote = "rules::MergeField")]
pub(crate) enum MergeField {
    /// `title`.
    Title,
    /// `firstName`.
    FirstName,
    /// `lastName`.
    LastName,
    /// `email`; the values not kept are released.
    Email,
    /// `gender`.
    Gender,
    /// `currency`.
    Currency,
    /// `mobilePhone`; the values not kept are released.
    MobilePhone,
    /// `secondaryPhone`.
    SecondaryPhone,
    /// `birthYear`, `birthMonth` and `birthDay`, together from one profile.
    BirthDate,
    /// `company`.
    Company,
    /// `occupation`.
    Occupation,
    /// `avatarUrl`.
    AvatarUrl,
    /// The loyalty tier.
    Tier,
    /// The preferred location.
    PreferredLocation,
    /// The location the customer joined at.
    JoinedLocation,
    /// Which address is the default (every address moves).
    DefaultAddress,
    /// One custom attribute, named by `customAttribute`.
    CustomAttribute,
}

/// A custom attribute, by namespace and handle.
#[derive(Clone, Debug, InputObject)]
pub(crate) struct CustomAttributeKey {
    /// The attribute's namespace, e.g. `custom`.
    pub namespace: String,
    /// The attribute's handle in its namespace.
    pub handle: String,
}

impl From<CustomAttributeKey> for AttributeKey {
    fn from(key: CustomAttributeKey) -> Self {
        AttributeKey { namespace: key.namespace, handle: key.handle }
    }
}

/// A custom attribute a merge chose the value of.
#[derive(SimpleObject)]
pub(crate) struct CustomAttributeName {
    /// The attribute's namespace.
    namespace: String,
    /// The attribute's handle in its namespace.
    handle: String,
}

/// Another profile's value of a field, which the merge did not keep.
#[derive(SimpleObject)]
pub(crate) struct MergeAlternative {
    /// The profile that has it.
    profile_id: Uuid,
    /// Its value.
    value: serde_json::Value,
}

/// The value a merge keeps for a field, and where it comes from.
pub(crate) struct MergeFieldValue(pub FieldChoice);

/// The value a merge keeps for a field, and where it comes from.
#[Object]
impl MergeFieldValue {
    /// The field.
    async fn field(&self) -> MergeField {
        self.0.field.into()
    }

    /// The attribute, for `CUSTOM_ATTRIBUTE`.
    async fn custom_attribute(&self) -> Option<CustomAttributeName> {
        let key = self.0.custom_attribute.as_ref()?;
        Some(CustomAttributeName { namespace: key.namespace.clone(), handle: key.handle.clone() })
    }

    /// The value kept, as JSON: text or a number as the field stores it (the tier's
    /// handle, a location's id), `{year month day}` for the birth date, the address for
    /// the default address; null when no profile has one.
    async fn value(&self) -> &serde_json::Value {
        &self.0.value
    }

    /// The profile the value comes from.
    async fn from_profile_id(&self) -> Uuid {
        self.0.from_profile_id
    }

    /// The other profiles' values (not null, and not the kept one).
    async fn alternatives(&self) -> Vec<MergeAlternative> {
        let values = self.0.alternatives.iter();
        values.map(|a| MergeAlternative { profile_id: a.profile_id, value: a.value.clone() }).collect()
    }
}

/// What a merge moves to the survivor (exact duplicate addresses and dates collapse
/// and are not counted; tags and statuses count those the survivor did not hold).
#[derive(SimpleObject)]
pub(crate) struct MergeMoves {
    /// Addresses moved.
    addresses: i32,
    /// Identities moved.
    identities: i32,
    /// Important dates moved.
    dates: i32,
    /// Tags the survivor gains.
    tags: i32,
    /// Statuses the survivor gains.
    statuses: i32,
}

impl From<Moves> for MergeMoves {
    fn from(m: Moves) -> Self {
        MergeMoves {
            addresses: m.addresses,
            identities: m.identities,
            dates: m.dates,
            tags: m.tags,
            statuses: m.statuses,
        }
    }
}

/// A profile's version, as a merge read it.
#[derive(SimpleObject)]
pub(crate) struct ProfileVersion {
    /// The profile's id.
    pub id: Uuid,
    /// Its version.
    pub version: i32,
}

/// A profile's version, for `expectedVersions`.
#[derive(InputObject)]
pub(crate) struct ProfileVersionInput {
    /// The profile's id.
    pub id: Uuid,
    /// The version the merge was decided on.
    pub version: i32,
}

/// The record of a merge: which profiles were merged into which, when, by whom, and
/// what it chose.
#[derive(Clone)]
pub(crate) struct ProfileMerge(pub MergeRecord);

/// The record of a merge: which profiles were merged into which, when, by whom, and
/// what it chose. Purging the survivor removes it.
#[Object]
impl ProfileMerge {
    /// The merge's id.
    async fn id(&self) -> ID {
        self.0.id.into()
    }

    /// The merge's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        entity::node::id("ProfileMerge", self.0.id)
    }

    /// The profile the others were merged into.
    async fn survivor_id(&self) -> Uuid {
        self.0.survivor_id
    }

    /// The profiles merged into the survivor (tombstones since), in the order the merge
    /// named them.
    async fn merged_ids(&self) -> &[Uuid] {
        &self.0.merged_ids
    }

    /// When the merge committed (UTC).
    async fn merged_at(&self) -> DateTime<Utc> {
        self.0.merged_at
    }

    /// The token that made the merge; null when authentication is off.
    async fn actor(&self) -> Option<Actor> {
        self.0.actor.as_ref().map(Actor::from)
    }

    /// The value the merge kept for each field, and where from.
    async fn fields(&self) -> Vec<MergeFieldValue> {
        self.0.fields.iter().cloned().map(MergeFieldValue).collect()
    }

    /// What moved to the survivor.
    async fn moves(&self) -> MergeMoves {
        self.0.moves.into()
    }

    /// The unique values the merge freed (emails and mobile phones not kept):
    /// `[{field, profileId, value}]`.
    async fn released(&self) -> &serde_json::Value {
        &self.0.released
    }
}
