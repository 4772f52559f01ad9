//! The query root: every read of the API.

use crate::graphql::errors::Result;
use async_graphql::{Context, ID, InputObject, Object, OneofObject};
use entity::{location, status, tag, tier};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::guard::Scoped;
use super::limits::page_size;
use super::list_args::{self, ProfileFilter, ProfileOrder};
use super::mutation::merge::{self, MergePreview, MergeProfilesInput};
use super::types::connection::ProfileConnection;
use super::types::event::EventConnection;
use super::types::merge::ProfileMerge;
use super::types::node::{self, Node};
use super::types::profile::Profile;
use super::types::webhook::Webhook;
use super::{Clock, plan};
use crate::domain::phone::{self, Region};
use crate::service::error::Error as ServiceError;
use crate::service::events::feed::Feed;
use crate::service::events::{feed as events, webhooks as webhook};
use crate::service::page::PageArgs;
use crate::service::profiles::keys::ProfileKey as Key;
use crate::service::profiles::merge::record as merge_record;
use crate::service::profiles::{filter as profile_filter, order as profile_order, read};
use crate::service::reference;
use crate::service::runtime::Services;

/// A unique key of a profile: give exactly one.
#[derive(OneofObject)]
pub(crate) enum ProfileKey {
    /// The email, compared case-insensitively.
    Email(String),
    /// The mobile phone, in any format a write accepts.
    MobilePhone(String),
    /// The identifier of the profile's primary identity.
    ExternalId(String),
    /// An identity in another system.
    Identity(IdentityKey),
}

impl ProfileKey {
    /// The key as the services take it: the phone in E.164 (read in `region`);
    /// BAD_USER_INPUT for a phone that is none, or a control character in any text.
    pub(crate) fn into_key(self, region: Region) -> std::result::Result<Key, ServiceError> {
        let key = match self {
            ProfileKey::Email(email) => Key::Email(email),
            ProfileKey::MobilePhone(raw) => Key::MobilePhone(
                phone::normalize(&raw, region)
                    .map_err(|_| ServiceError::BadInput("`key.mobilePhone` is not a valid phone number".to_owned()))?,
            ),
            ProfileKey::ExternalId(id) => Key::ExternalId(id),
            ProfileKey::Identity(IdentityKey { handle, identifier }) => Key::Identity { handle, identifier },
        };
        crate::service::profiles::keys::key_texts(&key.texts())?;
        Ok(key)
    }
}

/// An identity in another system.
#[derive(InputObject)]
pub(crate) struct IdentityKey {
    /// The other system, e.g. `shopify`.
    pub handle: String,
    /// The profile's id there.
    pub identifier: String,
}

/// Complexity weight of a list of reference data (it has no page size).
const REFERENCE_LIST: usize = 100;

#[derive(Default)]
pub struct QueryRoot;

/// Reads: profiles and the reference data they use.
#[Object(name = "Query", guard = "Scoped::QUERY")]
impl QueryRoot {
    /// A profile by id; null when there is none or it is deleted. The id of a profile
    /// merged into another (a tombstone) answers the survivor, so that stale links
    /// keep working.
    #[graphql(requires_scopes = "profiles:read")]
    async fn profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] id: Uuid,
    ) -> Result<Option<Profile>> {
        let db = ctx.data::<DatabaseConnection>()?;
        let selection = plan::profile([ctx.field()]);
        Ok(read::by_id(db, id, &selection).await?.map(Profile::from))
    }

    /// A record by its global id (`nodeId`), as Relay refetches it; null when there is
    /// none, or it is a profile deleted or merged away, or an address, identity, date,
    /// preferences or appearance of one (events and merge records stay readable, as
    /// through `events` and `profileMerge`). Webhooks and their deliveries need the
    /// `admin` scope.
    #[graphql(requires_scopes = "profiles:read")]
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's global id.")] node_id: ID,
    ) -> Result<Option<Node>> {
        Ok(node::resolve(ctx, std::slice::from_ref(&node_id)).await?.pop().flatten())
    }

    /// Records by their global ids, in their order (at most 100; one statement per
    /// record type): null for each id that `node` answers null.
    #[graphql(complexity = "node_ids.len() * child_complexity + 1", requires_scopes = "profiles:read")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The records' global ids (at most 100).")] node_ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        node::resolve(ctx, &node_ids).await
    }

    /// A profile by a unique key; null when there is none or it is deleted.
    #[graphql(requires_scopes = "profiles:read")]
    async fn profile_by(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key: email, mobile phone, external id or identity.")] key: ProfileKey,
    ) -> Result<Option<Profile>> {
        let db = ctx.data::<DatabaseConnection>()?;
        let key = key.into_key(ctx.data_opt::<Region>().copied().unwrap_or_default())?;
        let selection = plan::profile([ctx.field()]);
        Ok(read::by_key(db, key, &selection).await?.map(Profile::from))
    }

    /// Profiles, a page at a time: those `filter` and `search` select (every type but
    /// `DELETED` by default), in `orderBy` order (oldest first by default; ties broken by
    /// id). Give `first` (and `after`) to page forwards or `last` (and `before`) to page
    /// backwards; pages hold 20 profiles unless asked otherwise, 250 at most. Cursors
    /// stay valid while profiles are added or removed.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "page_size(first, last) * child_complexity + 1", requires_scopes = "profiles:read")]
    async fn profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many profiles to return from the start of the window (0–250).")] first: Option<i32>,
        #[graphql(desc = "Return profiles after this cursor.")] after: Option<String>,
        #[graphql(desc = "How many profiles to return from the end of the window (0–250).")] last: Option<i32>,
        #[graphql(desc = "Return profiles before this cursor.")] before: Option<String>,
        #[graphql(desc = "Which profiles to list; fields combine with AND.")] filter: Option<ProfileFilter>,
        #[graphql(desc = "Free text (at most 200 characters): the start of a first, last or full name \
                          (ignoring ASCII case) or of an email (ignoring case and accent composition), or the \
                          start of a mobile phone number in international or national format.")]
        search: Option<String>,
        #[graphql(desc = "The order; by default `createdAt` ascending.")] order_by: Option<ProfileOrder>,
    ) -> Result<ProfileConnection> {
        let db = ctx.data::<DatabaseConnection>()?;
        let region = ctx.data_opt::<Region>().copied().unwrap_or_default();
        let today = ctx.data_opt::<Clock>().cloned().unwrap_or_default().today();
        let args = PageArgs { first, after, last, before };
        let filter = profile_filter::condition(
            &filter.unwrap_or_default().into(),
            search.as_deref(),
            db.get_database_backend(),
            region,
            today,
        )
        .map_err(list_args::refused)?;
        let order = order_by.unwrap_or_default().into();
        let selection = plan::profile(plan::connection(&ctx.field()));
        let page = profile_order::page(db, filter.clone(), order, &args, today, &selection).await?;
        Ok(ProfileConnection::new(page, filter))
    }

    /// Change events of every profile in commit order, for consumers that
    /// poll: keep the last `endCursor` and pass it as `after`. An event committed late
    /// by a concurrent write is never skipped.
    #[graphql(complexity = "page_size(first, None) * child_complexity + 1", requires_scopes = "profiles:read")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return events after this cursor.")] after: Option<String>,
        #[graphql(desc = "How many events to return (0–250, default 20).")] first: Option<i32>,
        #[graphql(desc = "Only events of these types, e.g. `profile.updated`.")] types: Option<Vec<String>>,
        #[graphql(desc = "Only events of this profile.")] profile_id: Option<Uuid>,
    ) -> Result<EventConnection> {
        let db = ctx.data::<DatabaseConnection>()?;
        let feed = Feed { after, first, types, profile_id };
        let page = events::page(db, &feed).await?;
        Ok(EventConnection::new(page, feed.after.is_some()))
    }

    /// What `mergeProfiles` would do with `input`: the merge run in a transaction that
    /// is rolled back. Nothing is written. Its `blockers` are the `userErrors` the merge
    /// would give.
    #[graphql(requires_scopes = "profiles:merge")]
    async fn preview_merge(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The merge, as `mergeProfiles` takes it.")] input: MergeProfilesInput,
    ) -> Result<MergePreview> {
        merge::preview(ctx.data::<Services>()?, input).await
    }

    /// The record of a merge by id; null when there is none (a purge of its survivor
    /// removes it).
    #[graphql(requires_scopes = "profiles:read")]
    async fn profile_merge(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The merge's id.")] id: ID,
    ) -> Result<Option<ProfileMerge>> {
        let id: i32 = super::mutation::input::int_id(&id, "id")?;
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(merge_record::by_id(db, id).await?.map(ProfileMerge))
    }

    /// Every webhook, oldest first.
    #[graphql(complexity = "REFERENCE_LIST * child_complexity", requires_scopes = "admin")]
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        let rows = webhook::list(ctx.data::<DatabaseConnection>()?).await?;
        Ok(rows.into_iter().map(Webhook).collect())
    }

    /// A webhook by id; null when there is none.
    #[graphql(requires_scopes = "admin")]
    async fn webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's id.")] id: Uuid,
    ) -> Result<Option<Webhook>> {
        Ok(webhook::get(ctx.data::<DatabaseConnection>()?, id).await?.map(Webhook))
    }

    /// Every tag, by handle.
    #[graphql(complexity = "REFERENCE_LIST * child_complexity", requires_scopes = "profiles:read")]
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<tag::Model>> {
        Ok(reference::tags(ctx.data::<DatabaseConnection>()?).await?)
    }

    /// Every status, by rank then handle.
    #[graphql(complexity = "REFERENCE_LIST * child_complexity", requires_scopes = "profiles:read")]
    async fn statuses(&self, ctx: &Context<'_>) -> Result<Vec<status::Model>> {
        Ok(reference::statuses(ctx.data::<DatabaseConnection>()?).await?)
    }

    /// Every loyalty tier, by rank then handle.
    #[graphql(complexity = "REFERENCE_LIST * child_complexity", requires_scopes = "profiles:read")]
    async fn tiers(&self, ctx: &Context<'_>) -> Result<Vec<tier::Model>> {
        Ok(reference::tiers(ctx.data::<DatabaseConnection>()?).await?)
    }

    /// Every location, by name.
    #[graphql(complexity = "REFERENCE_LIST * child_complexity", requires_scopes = "profiles:read")]
    async fn locations(&self, ctx: &Context<'_>) -> Result<Vec<location::Model>> {
        Ok(reference::locations(ctx.data::<DatabaseConnection>()?).await?)
    }
}
