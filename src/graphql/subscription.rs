//! The subscription root: change events as they commit, read from the
//! outbox, so a subscriber on one replica sees what every replica commits.

use async_graphql::{Context, Result, Subscription};
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::guard::Needs;
use super::types::event::Event;
use crate::auth::Scope;
use crate::service::error::Error as ServiceError;
use crate::service::events::feed::Feed;
use crate::service::events::webhooks::WebhookSettings;
use crate::service::events::{deferred, feed as events};
use crate::service::runtime::Services;

/// Events handed over per read of the outbox.
const BATCH: i32 = 100;

#[derive(Default)]
pub struct SubscriptionRoot;

/// Pushes over WebSocket (graphql-transport-ws).
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every change event committed from now on, in commit order, as the feed
    /// (`Query.events`) lists them. Needs the `profiles:read` scope.
    #[graphql(guard = "Needs(Scope::ProfilesRead)")]
    async fn profile_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of these types, e.g. `profile.updated`.")] types: Option<Vec<String>>,
        #[graphql(desc = "Only events of this profile.")] profile_id: Option<Uuid>,
    ) -> Result<impl Stream<Item = Event> + use<>> {
        let db = ctx.data::<DatabaseConnection>()?.clone();
        let notifier = ctx.data::<Services>()?.notifier.clone();
        let poll = ctx.data::<WebhookSettings>()?.poll;
        let mut feed = Feed { after: None, first: Some(BATCH), types, profile_id };
        feed.window()?;
        let mut after = events::last_seq(&db).await?;
        // Waits from here on: the notifier counts it once its starting point is read.
        let mut wake = notifier.wakeups();
        Ok(async_stream::stream! {
            loop {
                feed.after = Some(events::cursor(after));
                let mut more = false;
                // Contexts deferred by their events, read for the whole page at once.
                let page = async {
                    let mut page = events::page(&db, &feed).await?;
                    deferred::fill(&db, &mut page.events).await?;
                    Ok::<_, ServiceError>(page)
                }
                .await;
                match page {
                    Ok(page) => {
                        more = page.has_next_page;
                        for event in page.events {
                            after = event.seq;
                            yield Event(event);
                        }
                    }
                    Err(error) => tracing::warn!(?error, "a subscription cannot read the outbox; trying again"),
                }
                if !more {
                    crate::service::events::wakeup::wait(&mut wake, poll).await;
                }
            }
        })
    }
}
