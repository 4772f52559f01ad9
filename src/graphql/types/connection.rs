//! `ProfileConnection`: a Relay connection over profiles.

use crate::graphql::errors::Result;
use async_graphql::{Context, Object, SimpleObject};
use sea_orm::DatabaseConnection;

use crate::service::profiles::filter::Filter;

use super::page_info::PageInfo;
use super::profile::Profile;
use crate::service::page::Cursor;
use crate::service::profiles::filter::count;
use crate::service::profiles::order::Page;

/// A page of profiles.
pub(crate) struct ProfileConnection {
    /// The profiles of the page, in list order, as the planned read fetched them.
    pub profiles: Vec<Profile>,
    /// The cursor of each profile.
    pub cursors: Vec<Cursor>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    /// The filter of the list, for `totalCount`.
    pub filter: Filter,
}

impl ProfileConnection {
    /// The connection over `page`.
    pub(crate) fn new(page: Page, filter: Filter) -> Self {
        ProfileConnection {
            profiles: Profile::siblings(page.rows.into_iter().map(Profile::from).collect()),
            cursors: page.cursors,
            has_previous_page: page.has_previous_page,
            has_next_page: page.has_next_page,
            filter,
        }
    }
}

/// A profile and its position in the list.
#[derive(SimpleObject)]
pub(crate) struct ProfileEdge<'a> {
    /// Opaque position of this profile; pass it as `after` or `before`.
    cursor: String,
    /// The profile.
    node: &'a Profile,
}

/// A page of profiles (a Relay connection).
#[Object]
impl ProfileConnection {
    /// The profiles of this page with their cursors.
    async fn edges(&self) -> Vec<ProfileEdge<'_>> {
        self.profiles
            .iter()
            .zip(&self.cursors)
            .map(|(profile, cursor)| ProfileEdge { cursor: cursor.encode(), node: profile })
            .collect()
    }

    /// The profiles of this page.
    async fn nodes(&self) -> &[Profile] {
        &self.profiles
    }

    /// Where this page sits in the list.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            start_cursor: self.cursors.first().map(Cursor::encode),
            end_cursor: self.cursors.last().map(Cursor::encode),
        }
    }

    /// How many profiles the whole list holds (all pages). Costs one count query.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(count(db, self.filter.clone()).await?)
    }
}
