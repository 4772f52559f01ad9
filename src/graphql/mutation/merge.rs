//! `mergeProfiles`, and the input it shares with `previewMerge`: both run the one
//! merge of the service (`service::profiles::merge`), which the preview rolls back.

use crate::graphql::errors::Result;
use crate::graphql::guard::Scoped;
use async_graphql::{Context, InputObject, Object, SimpleObject};
use uuid::Uuid;

use super::{UserError, db, payload, respond};
use crate::graphql::types::merge::{
    CustomAttributeKey, MergeField, MergeFieldValue, MergeMoves, ProfileMerge, ProfileVersion, ProfileVersionInput,
};
use crate::graphql::types::profile::Profile;
use crate::service::error::Error;
use crate::service::profiles::merge::{self as service, FieldSource, Mode, Outcome};
use crate::service::runtime::Services;

/// Take a field's value from one profile of the merge (even a null value).
#[derive(InputObject)]
pub(crate) struct MergeFieldSource {
    /// The field.
    pub field: MergeField,
    /// The profile to take it from: the survivor or one of the duplicates.
    pub profile_id: Uuid,
    /// The attribute, with `CUSTOM_ATTRIBUTE` (and only there).
    pub custom_attribute: Option<CustomAttributeKey>,
}

/// A merge of duplicates into a survivor.
#[derive(InputObject)]
pub(crate) struct MergeProfilesInput {
    /// The profile that stays.
    pub survivor_id: Uuid,
    /// The profiles merged into it: 1 to 4, distinct, not the survivor. They become
    /// tombstones.
    pub duplicate_ids: Vec<Uuid>,
    /// Fields to take from a given profile rather than by the rules.
    pub field_sources: Option<Vec<MergeFieldSource>>,
    /// The versions the merge was decided on (e.g. a preview's `expectedVersions`):
    /// VERSION_CONFLICT, writing nothing, unless each profile is still at its version.
    pub expected_versions: Option<Vec<ProfileVersionInput>>,
}

impl From<MergeProfilesInput> for service::MergeInput {
    fn from(input: MergeProfilesInput) -> Self {
        service::MergeInput {
            survivor_id: input.survivor_id,
            duplicate_ids: input.duplicate_ids,
            field_sources: input
                .field_sources
                .unwrap_or_default()
                .into_iter()
                .map(|s| FieldSource {
                    field: s.field.into(),
                    profile_id: s.profile_id,
                    custom_attribute: s.custom_attribute.map(Into::into),
                })
                .collect(),
            expected_versions: input
                .expected_versions
                .unwrap_or_default()
                .into_iter()
                .map(|v| (v.id, v.version))
                .collect(),
        }
    }
}

/// What a merge would do, worked out by running it and rolling it back.
#[derive(SimpleObject)]
pub(crate) struct MergePreview {
    /// The survivor as it would be; null when the merge is blocked.
    pub profile: Option<Profile>,
    /// The value the merge would keep for each field, and where from.
    pub fields: Vec<MergeFieldValue>,
    /// What would move to the survivor; null when the merge is blocked.
    pub moves: Option<MergeMoves>,
    /// Why the merge cannot be made as asked (the `userErrors` `mergeProfiles` would
    /// give); empty when it can.
    pub blockers: Vec<UserError>,
    /// The version of each profile the preview read (the survivor first): pass them to
    /// `mergeProfiles` as `expectedVersions` to merge only what was previewed.
    pub expected_versions: Vec<ProfileVersion>,
}

payload!(
    MergeProfilesPayload,
    "The result of `mergeProfiles`.",
    profile: Profile => "The survivor after the merge.",
    merge: ProfileMerge => "The record of the merge (of the earlier one, for a merge repeated).",
);

/// Runs the merge of `input` and rolls it back: what `previewMerge` answers. The merge's
/// user errors are its blockers.
pub(crate) async fn preview(services: &Services, input: MergeProfilesInput) -> Result<MergePreview> {
    match service::merge(services, input.into(), Mode::Preview).await {
        Ok(Outcome::Merged(merged)) => Ok(MergePreview {
            expected_versions: merged
                .versions
                .iter()
                .map(|(id, version)| ProfileVersion { id: *id, version: *version })
                .collect(),
            profile: Some(Profile::from(merged.survivor)),
            fields: merged.fields.into_iter().map(MergeFieldValue).collect(),
            moves: Some(merged.moves.into()),
            blockers: Vec::new(),
        }),
        // A preview never repeats a merge (it says ALREADY_MERGED).
        Ok(Outcome::Repeated(_)) => Err(Error::Invariant("a preview repeated a merge".to_owned()).into()),
        Err(Error::User(errors)) => Ok(MergePreview {
            profile: None,
            fields: Vec::new(),
            moves: None,
            blockers: errors.into_iter().map(UserError::from).collect(),
            expected_versions: Vec::new(),
        }),
        Err(error) => Err(error.into()),
    }
}

#[derive(Default)]
pub(crate) struct MergeMutation;

/// Merging duplicates.
#[Object(guard = "Scoped::MUTATION")]
impl MergeMutation {
    /// Merges duplicate profiles into a survivor, in one transaction (SPEC §9; the rules
    /// are in the README, "Merging duplicates"). The duplicates become tombstones:
    /// hidden from every list and lookup, `profile(id:)` answers the survivor, and every
    /// mutation on them is ALREADY_MERGED. Their email and mobile phone are released.
    /// The survivor's `version` goes up by one. Repeating a merge that happened returns
    /// its record and writes nothing. Cannot be undone.
    #[graphql(requires_scopes = "profiles:merge")]
    async fn merge_profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The merge.")] input: MergeProfilesInput,
    ) -> Result<MergeProfilesPayload> {
        let services = db(ctx)?;
        let outcome = service::merge(services, input.into(), Mode::Commit).await;
        let repeated = match &outcome {
            Ok(Outcome::Repeated(record)) => Some(record.survivor_id),
            _ => None,
        };
        // A repeated merge answers the survivor as it is now.
        let survivor = match repeated {
            Some(id) => {
                let selection = crate::service::profiles::read::Selection::everything();
                crate::service::profiles::read::by_id(&services.db, id, &selection).await?
            }
            None => None,
        };
        respond(outcome, |outcome| match outcome {
            Outcome::Merged(merged) => MergeProfilesPayload {
                profile: Some(Profile::from(merged.survivor)),
                merge: Some(ProfileMerge(merged.record)),
                user_errors: Vec::new(),
            },
            Outcome::Repeated(record) => MergeProfilesPayload {
                profile: survivor.map(Profile::from),
                merge: Some(ProfileMerge(record)),
                user_errors: Vec::new(),
            },
        })
    }
}
