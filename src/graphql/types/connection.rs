//! `ProfileConnection`: a Relay connection over profiles.

use async_graphql::{Context, Object, Result, SimpleObject};
use sea_orm::{Condition, DatabaseConnection};

use super::profile::Profile;
use crate::service::profile::{self as profiles, Page};

/// A page of profiles.
pub struct ProfileConnection {
    pub page: Page,
    /// The filter of the list, for `totalCount`.
    pub filter: Condition,
}

/// A profile and its position in the list.
#[derive(SimpleObject)]
pub struct ProfileEdge {
    /// Opaque position of this profile; pass it as `after` or `before`.
    cursor: String,
    /// The profile.
    node: Profile,
}

/// Where a page sits in the whole list (Relay).
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More profiles follow this page.
    has_next_page: bool,
    /// Profiles precede this page. With `first`/`after` it is true when `after` was given.
    has_previous_page: bool,
    /// Cursor of the first profile of the page.
    start_cursor: Option<String>,
    /// Cursor of the last profile of the page.
    end_cursor: Option<String>,
}

#[Object]
impl ProfileConnection {
    /// The profiles of this page with their cursors.
    async fn edges(&self) -> Vec<ProfileEdge> {
        self.page
            .rows
            .iter()
            .map(|row| ProfileEdge {
                cursor: Page::cursor(row).encode(),
                node: row.clone().into(),
            })
            .collect()
    }

    /// The profiles of this page.
    async fn nodes(&self) -> Vec<Profile> {
        self.page.rows.iter().cloned().map(Profile::from).collect()
    }

    /// Where this page sits in the list.
    async fn page_info(&self) -> PageInfo {
        let rows = &self.page.rows;
        PageInfo {
            has_next_page: self.page.has_next_page,
            has_previous_page: self.page.has_previous_page,
            start_cursor: rows.first().map(|row| Page::cursor(row).encode()),
            end_cursor: rows.last().map(|row| Page::cursor(row).encode()),
        }
    }

    /// How many profiles the whole list holds (all pages). Costs one count query.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let db = ctx.data::<DatabaseConnection>()?;
        Ok(profiles::count(db, self.filter.clone()).await?)
    }
}
