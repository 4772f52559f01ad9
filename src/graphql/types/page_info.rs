//! Where a page sits in its whole list: Relay's `PageInfo`, shared by every connection.

use async_graphql::SimpleObject;

/// Where a page sits in the whole list (Relay).
#[derive(SimpleObject)]
pub(crate) struct PageInfo {
    /// More items follow this page.
    pub has_next_page: bool,
    /// Items precede this page. With `first`/`after` it is true when `after` was given.
    pub has_previous_page: bool,
    /// Cursor of the first item of the page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of the page.
    pub end_cursor: Option<String>,
}
