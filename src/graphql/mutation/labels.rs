//! Tags and statuses on a profile.

use crate::graphql::errors::Result;
use crate::graphql::guard::Scoped;
use async_graphql::{Context, Object};
use uuid::Uuid;

use super::{ProfilePayload, db, respond};
use crate::domain::validate::{Path, Problems};
use crate::service::profiles::input::handles;
use crate::service::profiles::labels::{self, Label};

#[derive(Default)]
pub(crate) struct LabelMutation;

async fn change(
    ctx: &Context<'_>,
    label: Label,
    add: bool,
    profile_id: Uuid,
    raw: Vec<String>,
) -> Result<ProfilePayload> {
    let mut problems = Problems::default();
    let handles = handles(&mut problems, &Path::root("handles"), &raw);
    let db = db(ctx)?;
    let result = if add {
        // Tags keep the handles as given: an auto-created tag is named after them.
        let given = if label == Label::Tag { raw } else { handles };
        labels::add(db, label, profile_id, given, problems).await
    } else {
        labels::remove(db, label, profile_id, handles, problems).await
    };
    respond(result, |profile| ProfilePayload { profile: Some(profile.into()), user_errors: Vec::new() })
}

/// Mutations of a profile's tags and statuses. Each is idempotent and counts as a
/// change to the profile (`version` + 1).
#[Object(guard = "Scoped::MUTATION")]
impl LabelMutation {
    /// Attaches tags by handle (normalised: trimmed, lower-case, inner whitespace → `-`).
    /// Unknown tags are created, named as given.
    #[graphql(requires_scopes = "profiles:write")]
    async fn add_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "Tag handles, at most 250.")] handles: Vec<String>,
    ) -> Result<ProfilePayload> {
        change(ctx, Label::Tag, true, profile_id, handles).await
    }

    /// Detaches tags by handle (normalised as on write); unknown ones are ignored.
    #[graphql(requires_scopes = "profiles:write")]
    async fn remove_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "Tag handles, at most 250.")] handles: Vec<String>,
    ) -> Result<ProfilePayload> {
        change(ctx, Label::Tag, false, profile_id, handles).await
    }

    /// Attaches statuses by handle (normalised as tags are). Each must be defined:
    /// an unknown handle is NOT_FOUND at `["handles", i]`.
    #[graphql(requires_scopes = "profiles:write")]
    async fn add_statuses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "Status handles, at most 250.")] handles: Vec<String>,
    ) -> Result<ProfilePayload> {
        change(ctx, Label::Status, true, profile_id, handles).await
    }

    /// Detaches statuses by handle; ones the profile does not hold are ignored.
    #[graphql(requires_scopes = "profiles:write")]
    async fn remove_statuses(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] profile_id: Uuid,
        #[graphql(desc = "Status handles, at most 250.")] handles: Vec<String>,
    ) -> Result<ProfilePayload> {
        change(ctx, Label::Status, false, profile_id, handles).await
    }
}
