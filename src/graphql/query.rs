//! The query root: the read API of SPEC §4.

use async_graphql::{Context, Object, Result};
use entity::{location, status, tag, tier};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::types::connection::ProfileConnection;
use super::types::profile::Profile;
use crate::service::page::PageArgs;
use crate::service::{profile as profiles, reference};

#[derive(Default)]
pub struct QueryRoot;

/// Reads: profiles and the reference data they use.
#[Object(name = "Query")]
impl QueryRoot {
    /// A profile by id; null when there is none or it is deleted.
    async fn profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile's id.")] id: Uuid,
    ) -> Result<Option<Profile>> {
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(profiles::find(db, id).await?.map(Profile::from))
    }

    /// Profiles, oldest first (by `createdAt`, then `id`), a page at a time. Give
    /// `first` (and `after`) to page forwards or `last` (and `before`) to page backwards;
    /// pages hold 20 profiles unless asked otherwise, 250 at most.
    async fn profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many profiles to return from the start of the window (0–250).")] first: Option<i32>,
        #[graphql(desc = "Return profiles after this cursor.")] after: Option<String>,
        #[graphql(desc = "How many profiles to return from the end of the window (0–250).")] last: Option<i32>,
        #[graphql(desc = "Return profiles before this cursor.")] before: Option<String>,
    ) -> Result<ProfileConnection> {
        let db = ctx.data::<DatabaseConnection>()?;
        let args = PageArgs { first, after, last, before };
        let filter = profiles::visible();
        let page = profiles::page(db, filter.clone(), &args).await?;
        ProfileConnection::new(ctx, page, filter).await
    }

    /// Every tag, by handle.
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<tag::Model>> {
        Ok(reference::tags(ctx.data::<DatabaseConnection>()?).await?)
    }

    /// Every status, by rank then handle.
    async fn statuses(&self, ctx: &Context<'_>) -> Result<Vec<status::Model>> {
        Ok(reference::statuses(ctx.data::<DatabaseConnection>()?).await?)
    }

    /// Every loyalty tier, by rank then handle.
    async fn tiers(&self, ctx: &Context<'_>) -> Result<Vec<tier::Model>> {
        Ok(reference::tiers(ctx.data::<DatabaseConnection>()?).await?)
    }

    /// Every location, by name.
    async fn locations(&self, ctx: &Context<'_>) -> Result<Vec<location::Model>> {
        Ok(reference::locations(ctx.data::<DatabaseConnection>()?).await?)
    }
}
