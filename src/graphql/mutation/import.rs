//! Import through GraphQL: `importProfiles` hands its rows to the service's
//! import (`service::bulk`, which reads them as the `import` command does) and
//! `upsertProfile` its one `ProfileCreateInput`; here are only their enums (mirrors of
//! the service's), payloads and resolvers.

use crate::graphql::errors::Result;
use async_graphql::{Context, Enum, Object, SimpleObject};
use serde_json::Value;

use super::profile::ProfileCreateInput;
use super::{UserError, db};
use crate::domain::validate;
use crate::graphql::guard::Scoped;
use crate::graphql::query::ProfileKey;
use crate::graphql::types::profile::Profile;
use crate::service::bulk::import as service;
use crate::service::bulk::row::{self, DEFAULT_KEYS, ImportRow, Mode, Outcome, Stamps, Status};
use crate::service::error::Error as ServiceError;
use crate::service::profiles::input as plain;
use crate::service::profiles::keys::ProfileKey as Key;

/// Rows `importProfiles` takes at once.
pub(crate) const MAX_ROWS: usize = 1_000;

/// What an import does with the profiles its rows match and with the rest.
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[graphql(remote = "crate::service::bulk::row::Mode")]
pub(crate) enum ImportMode {
    /// Update a matched profile, create the rest.
    #[default]
    Upsert,
    /// Create; a row that matches a profile fails with TAKEN.
    CreateOnly,
    /// Update; a row that matches none fails with NOT_FOUND.
    UpdateOnly,
}

/// A value a row is matched to an existing profile by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::service::bulk::row::ImportKey")]
pub(crate) enum ImportKey {
    /// The profile's `id`.
    Id,
    /// The `email`, compared case-insensitively.
    Email,
    /// The `mobile_phone`, compared in E.164.
    MobilePhone,
    /// The `external_id`: the identifier of the primary identity.
    ExternalId,
}

/// What became of a row.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::service::bulk::row::Status")]
pub(crate) enum ImportStatus {
    /// A new profile.
    Created,
    /// A matched profile, changed.
    Updated,
    /// A matched profile that already held the row's values: nothing was written.
    Unchanged,
    /// Nothing was written; `userErrors` says why.
    Failed,
}

/// The outcome of one row of `importProfiles`.
#[derive(SimpleObject)]
pub(crate) struct ImportRowResult {
    /// The row's position in `rows`, from 0.
    pub index: i32,
    /// What became of the row.
    pub status: ImportStatus,
    /// The profile after the row; null when it failed.
    pub profile: Option<Profile>,
    /// Why the row failed, at paths into `rows`.
    pub user_errors: Vec<UserError>,
}

/// The result of `importProfiles`: one result a row, the counts, and the problems of
/// the request as a whole.
#[derive(SimpleObject)]
pub(crate) struct ImportProfilesPayload {
    /// One result a row, in the order of `rows`; empty when `userErrors` has any.
    pub results: Vec<ImportRowResult>,
    /// Rows that created a profile.
    pub created: i32,
    /// Rows that changed a profile.
    pub updated: i32,
    /// Rows that matched a profile holding their values already.
    pub unchanged: i32,
    /// Rows that wrote nothing because of their `userErrors`.
    pub failed: i32,
    /// The rows' top-level keys that the import does not know (at most 50, sorted):
    /// they were ignored.
    pub unknown_keys: Vec<String>,
    /// Problems with the request as a whole, at `["rows"]`: more than 1,000 rows
    /// (TOO_LONG), or no row that gives a field of a profile (INVALID). When there
    /// are any, nothing was written.
    pub user_errors: Vec<UserError>,
    /// The reference records (tiers, statuses, tags, locations) that rows embed
    /// otherwise than this database holds them, e.g. "tier `gold`": each kept as it
    /// is, never overwritten, and named once.
    pub kept_references: Vec<String>,
}

/// The result of `upsertProfile`.
#[derive(SimpleObject)]
pub(crate) struct UpsertProfilePayload {
    /// CREATED, UPDATED, UNCHANGED or FAILED.
    pub status: ImportStatus,
    /// The profile after the mutation; null when it failed.
    pub profile: Option<Profile>,
    /// Problems with the input. When there are any, nothing was written.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub(crate) struct ImportMutation;

/// Importing many profiles at once, and upserting one.
#[Object(guard = "Scoped::MUTATION")]
impl ImportMutation {
    /// Imports up to 1,000 profiles as the reference platform's profile JSON objects
    /// (snake_case, as `export` writes them), as the `import` command does: each row is
    /// matched by the first of `matchOn` it has, then updated (only the fields it
    /// gives), created, or left UNCHANGED when it holds the profile's values already;
    /// each row lands or fails alone.
    #[graphql(requires_scopes = "profiles:write")]
    async fn import_profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rows: profile JSON objects, snake_case.")] rows: Vec<Value>,
        #[graphql(
            desc = "What to do with matched and unmatched rows (null: UPSERT).",
            default_with = "Some(ImportMode::Upsert)"
        )]
        mode: Option<ImportMode>,
        #[graphql(desc = "The keys rows are matched by, in order; by default id, email, mobile phone, external id.")]
        match_on: Option<Vec<ImportKey>>,
    ) -> Result<ImportProfilesPayload> {
        let keys: Vec<row::ImportKey> =
            match_on.map_or_else(|| DEFAULT_KEYS.to_vec(), |keys| keys.into_iter().map(Into::into).collect());
        let mode = mode.unwrap_or_default().into();
        let (region, today) = (super::profile::region(ctx), super::profile::today(ctx));
        let request = service::import_values(db(ctx)?, rows, MAX_ROWS, mode, &keys, region, today).await?;
        let outcomes = request.outcomes;
        let count = |status: Status| outcomes.iter().filter(|o| o.status == status).count() as i32;
        Ok(ImportProfilesPayload {
            created: count(Status::Created),
            updated: count(Status::Updated),
            unchanged: count(Status::Unchanged),
            failed: count(Status::Failed),
            unknown_keys: request.unknown_keys.names().map(str::to_owned).collect(),
            user_errors: request.problems.into_iter().map(UserError::from).collect(),
            kept_references: request.kept.into_iter().collect(),
            results: outcomes
                .into_iter()
                .enumerate()
                .map(|(index, outcome)| ImportRowResult {
                    index: index as i32,
                    status: outcome.status.into(),
                    profile: outcome.profile.map(Profile::from),
                    user_errors: outcome
                        .errors
                        .into_iter()
                        .map(|e| {
                            let field = e.field.map(|f| {
                                let mut path = vec!["rows".to_owned(), index.to_string()];
                                path.extend(f);
                                path
                            });
                            UserError::from(validate::UserError { field, ..e })
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    /// Updates the profile `key` names with `input` (only the fields it gives; a list
    /// it gives replaces the profile's), or creates it from `input` when there is none,
    /// with the key's value when `input` does not give it (an external id becomes the
    /// primary identity in the system `external`). A profile that already holds
    /// `input`'s values is left UNCHANGED.
    #[graphql(requires_scopes = "profiles:write")]
    async fn upsert_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key: email, mobile phone, external id or identity.")] key: ProfileKey,
        #[graphql(desc = "The profile.")] input: ProfileCreateInput,
    ) -> Result<UpsertProfilePayload> {
        let region = super::profile::region(ctx);
        let key = key.into_key(region)?;
        // A new profile made from an external id holds it as its primary identity.
        let external_id = match &key {
            Key::ExternalId(id) => Some(id.clone()),
            _ => None,
        };
        let input = plain::ProfileCreateInput::from(input);
        let given = input.gives();
        let mut draft = input.validate(region, super::profile::today(ctx));
        let outcome = if draft.problems.is_empty() {
            let row = ImportRow {
                key: Some(key),
                id: None,
                draft,
                given,
                stamps: Stamps::default(),
                tags: Vec::new(),
                references: Default::default(),
                external_id,
            };
            Box::pin(service::import(db(ctx)?, vec![Ok(row)], Mode::Upsert)).await?.outcomes.pop()
        } else {
            Some(Outcome {
                status: Status::Failed,
                profile: None,
                errors: std::mem::take(&mut draft.problems).into_errors(),
            })
        };
        let outcome =
            outcome.ok_or_else(|| ServiceError::Invariant("an import of one row gave no outcome".to_owned()))?;
        Ok(UpsertProfilePayload {
            status: outcome.status.into(),
            profile: outcome.profile.map(Profile::from),
            user_errors: outcome.errors.into_iter().map(UserError::from).collect(),
        })
    }
}
