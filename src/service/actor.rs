//! Who makes a write: the API token of the request, recorded in its events.
//!
//! The HTTP layer runs each request inside [`acting`]; a write reads [`current`] when
//! it commits. Outside a request (the seeder, tests on the service) there is none, as
//! there is none when authentication is off.

use std::future::Future;

pub(crate) use crate::auth::Actor;

tokio::task_local! {
    static ACTOR: Option<Actor>;
}

/// Runs `work` with `actor` as the maker of its writes.
pub(crate) async fn acting<F: Future>(actor: Option<Actor>, work: F) -> F::Output {
    ACTOR.scope(actor, work).await
}

/// The actor of the running request, if any.
pub(crate) fn current() -> Option<Actor> {
    ACTOR.try_with(Clone::clone).ok().flatten()
}
