//! `interface Node { nodeId: ID! }` (SPEC §10): every record type, refetched by its
//! global id with `Query.node` and `Query.nodes`, as Relay does
//! (`nodeInterfaceIdField: "nodeId"`). Apollo Client and urql normalise by each
//! type's `id` instead, which every record type has.

use async_graphql::{Context, ID, Interface};
use entity::{address, appearance, comms, identity, location, profile_date, status, tag, tier};

use super::event::Event;
use super::merge::ProfileMerge;
use super::profile::Profile;
use super::webhook::{Webhook, WebhookDelivery};
use std::collections::HashMap;

use crate::auth::{Caller, Scope};
use crate::graphql::errors::Result;
use crate::graphql::guard::forbidden;
use crate::graphql::plan;
use crate::service::error::Error;
use crate::service::nodes::{self, Kind, MAX_IDS, NodeId, Record};

/// A record that can be refetched by its global id.
#[derive(Clone, Interface)]
#[allow(clippy::large_enum_variant, reason = "at most 100 per request, each moved once into the answer")]
#[graphql(field(
    name = "node_id",
    ty = "ID",
    desc = "The record's global id: opaque, stable, and of this database only (`Query.node`)."
))]
pub(crate) enum Node {
    Profile(Profile),
    Address(address::Model),
    Identity(identity::Model),
    ProfileDate(profile_date::Model),
    Tag(tag::Model),
    Status(status::Model),
    Tier(tier::Model),
    Location(location::Model),
    Comms(comms::Model),
    Appearance(appearance::Model),
    Webhook(Webhook),
    WebhookDelivery(WebhookDelivery),
    Event(Event),
    ProfileMerge(ProfileMerge),
}

impl From<Record> for Node {
    fn from(record: Record) -> Node {
        match record {
            Record::Profile(planned) => Node::Profile(planned.into()),
            Record::Address(row) => Node::Address(row),
            Record::Identity(row) => Node::Identity(row),
            Record::ProfileDate(row) => Node::ProfileDate(row),
            Record::Tag(row) => Node::Tag(row),
            Record::Status(row) => Node::Status(row),
            Record::Tier(row) => Node::Tier(row),
            Record::Location(row) => Node::Location(row),
            Record::Comms(row) => Node::Comms(row),
            Record::Appearance(row) => Node::Appearance(row),
            Record::Webhook(row) => Node::Webhook(Webhook(row)),
            Record::WebhookDelivery(delivery, event) => {
                Node::WebhookDelivery(WebhookDelivery { delivery, event: event.map(Event) })
            }
            Record::Event(event) => Node::Event(Event(event)),
            Record::ProfileMerge(record) => Node::ProfileMerge(ProfileMerge(record)),
        }
    }
}

/// The records `ids` name, in their order: `None` for an id that names nothing
/// visible. Webhooks and deliveries need the `admin` scope, as their root fields do:
/// without it, asking for one is FORBIDDEN. Profiles are read with the plan of
/// `ctx`'s selection, and know one another as a page's do.
pub(crate) async fn resolve(ctx: &Context<'_>, ids: &[ID]) -> Result<Vec<Option<Node>>> {
    if ids.len() > MAX_IDS {
        let message = format!("at most {MAX_IDS} ids at once; {} were given", ids.len());
        return Err(Error::BadInput(message).into());
    }
    let parsed: Vec<Option<NodeId>> = ids.iter().map(|id| NodeId::parse(id)).collect();
    let admin = ctx.data_opt::<Caller>().is_some_and(|caller| caller.may(Scope::Admin));
    if let Some(id) = parsed.iter().flatten().find(|id| !admin && id.kind.needs_admin()) {
        return Err(forbidden(format!("a `{}` needs the `admin` scope", id.kind.type_name())).into());
    }
    let wanted: Vec<NodeId> = parsed.iter().flatten().cloned().collect();
    let db = ctx.data::<sea_orm::DatabaseConnection>()?;
    let mut records: HashMap<NodeId, Node> = HashMap::new();
    let mut profiles = Vec::new();
    for (id, record) in nodes::load(db, &wanted, &plan::profile([ctx.field()])).await? {
        match record {
            Record::Profile(planned) => profiles.push(Profile::from(planned)),
            other => drop(records.insert(id, Node::from(other))),
        }
    }
    // The profiles found know one another, as a page's do.
    for profile in Profile::siblings(profiles) {
        records.insert(NodeId { kind: Kind::Profile, id: profile.model.id.to_string() }, Node::Profile(profile));
    }
    Ok(parsed.into_iter().map(|id| id.and_then(|id| records.get(&id).cloned())).collect())
}
