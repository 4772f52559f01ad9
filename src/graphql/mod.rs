//! The GraphQL schema: its roots, per-request data, and limits.

pub(crate) mod bounded;
pub(crate) mod documents;
pub(crate) mod errors;
pub(crate) mod guard;
pub(crate) mod limits;
pub(crate) mod list_args;
pub mod loaders;
pub(crate) mod mutation;
pub(crate) mod nesting;
pub(crate) mod order;
pub mod persisted;
pub(crate) mod plan;
pub(crate) mod query;
pub(crate) mod subscription;
pub(crate) mod types;

use async_graphql::Schema;

use crate::domain::phone::Region;
use crate::service::runtime::Services;
pub use limits::Limits;
use mutation::MutationRoot;
use query::QueryRoot;
use subscription::SubscriptionRoot;

pub(crate) type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// "Today" for birthday fields, and the time of writes: the services' one clock.
pub use crate::service::clock::Clock;

/// What the schema needs besides the services.
#[derive(Clone, Debug, Default)]
pub struct SchemaOptions {
    pub region: Region,
    /// The clock the app's services run on (`AppState::new` makes them with it).
    pub clock: Clock,
    pub limits: Limits,
    /// Webhook settings (the URL rules of `createWebhook`, the subscriptions' poll).
    pub webhooks: crate::service::events::webhooks::WebhookSettings,
    /// How writes are made (the services' `writes`).
    pub writes: crate::service::runtime::WriteSettings,
}

/// Builds the schema over `services`: reads use their database, writes begin on them,
/// subscriptions wait on their notifier, and "today" is their clock's. Loaders are not
/// here: they are made per request (see `http::graphql`).
pub(crate) fn build_schema(services: Services, options: SchemaOptions) -> AppSchema {
    let limits = options.limits;
    // No extensions: with any, async-graphql sends every field of a response through
    // the extension chain and a registry look-up, which cost a third of the CPU of a
    // page read (bench/run.sh). Scopes are root-field guards (`guard::Scoped`); the
    // document limits, parse errors and error codes are checked by the HTTP layer
    // (`guard::parse` and `check`, `errors::ensure_codes`). Introspection, when switched off, is
    // refused by `guard` with FORBIDDEN; async-graphql's own switch would answer
    // `__schema: null` without saying why.
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .data(services.db.clone())
        .data(services.clock.clone())
        .data(services)
        .data(options.webhooks)
        .data(options.region)
        // The defaults admit GraphiQL's introspection query and a page of 50 profiles
        // selecting every field (tests check both).
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot).finish().sdl()
}

/// The same with the federation directives, which show each root field's declared
/// scope as `@requiresScopes` (a test checks that every root field has one).
pub fn sdl_with_scopes() -> String {
    let options = async_graphql::SDLExportOptions::new().federation();
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot).finish().sdl_with_options(options)
}
