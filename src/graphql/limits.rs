//! Limits on what one GraphQL document may ask, enforced by `guard` and the schema.

/// Limits on what one GraphQL document may ask (the README's security section).
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of a query's selections.
    #[arg(long, env = "PROFILES_MAX_DEPTH", default_value_t = 16, global = true)]
    pub max_depth: usize,

    /// Largest query complexity: one per field, list fields times their page size.
    #[arg(long, env = "PROFILES_MAX_COMPLEXITY", default_value_t = 100_000, global = true)]
    pub max_complexity: usize,

    /// Most fields at the root of an operation.
    #[arg(long, env = "PROFILES_MAX_ROOT_FIELDS", default_value_t = 20, global = true)]
    pub max_root_fields: usize,

    /// Most aliases in a document.
    #[arg(long, env = "PROFILES_MAX_ALIASES", default_value_t = 30, global = true)]
    pub max_aliases: usize,

    /// Largest query document, in bytes.
    #[arg(long, env = "PROFILES_MAX_QUERY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_query_bytes: usize,

    /// Whether the schema can be introspected (GraphiQL needs it).
    #[arg(long, env = "PROFILES_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub introspection: bool,
}

impl Default for Limits {
    fn default() -> Self {
        crate::settings::defaults()
    }
}

/// The complexity weight of a page: its size, as `first` or `last` ask (20 by default).
pub(crate) fn page_size(first: Option<i32>, last: Option<i32>) -> usize {
    let size = first.or(last).map_or(crate::service::page::DEFAULT_PAGE_SIZE as i32, |n| n.clamp(1, 250));
    size as usize
}
