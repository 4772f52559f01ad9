//! Records by their global ids (`Query.node`, `Query.nodes`; SPEC §10): one statement
//! per record type, whatever the number of ids of that type.
//!
//! A global id names a record of this database (`entity::node`). What a request may
//! not see is not found: a profile that is deleted or merged away, and what such a
//! profile owns (its addresses, identities, dates, preferences and appearance). Which
//! caller may see which type is the GraphQL layer's to say ([`Kind::needs_admin`]).

use std::collections::HashMap;
use std::str::FromStr;

use entity::{
    address, appearance, comms, identity, location, profile, profile_date, profile_event, profile_merge, status, tag,
    tier, webhook, webhook_delivery,
};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::service::error::Result;
use crate::service::events::feed::Event;
use crate::service::profiles::keys::visible;
use crate::service::profiles::merge::record::MergeRecord;
use crate::service::profiles::read::{self, Planned, Selection};

/// Most ids one `nodes` may ask for.
pub const MAX_IDS: usize = 100;

/// The record types that have global ids, by their GraphQL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Profile,
    Address,
    Identity,
    ProfileDate,
    Tag,
    Status,
    Tier,
    Location,
    Comms,
    Appearance,
    Webhook,
    WebhookDelivery,
    Event,
    ProfileMerge,
}

impl Kind {
    const ALL: [Kind; 14] = [
        Kind::Profile,
        Kind::Address,
        Kind::Identity,
        Kind::ProfileDate,
        Kind::Tag,
        Kind::Status,
        Kind::Tier,
        Kind::Location,
        Kind::Comms,
        Kind::Appearance,
        Kind::Webhook,
        Kind::WebhookDelivery,
        Kind::Event,
        Kind::ProfileMerge,
    ];

    /// The GraphQL type's name, as global ids hold it.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Kind::Profile => "Profile",
            Kind::Address => "Address",
            Kind::Identity => "Identity",
            Kind::ProfileDate => "ProfileDate",
            Kind::Tag => "Tag",
            Kind::Status => "Status",
            Kind::Tier => "Tier",
            Kind::Location => "Location",
            Kind::Comms => "Comms",
            Kind::Appearance => "Appearance",
            Kind::Webhook => "Webhook",
            Kind::WebhookDelivery => "WebhookDelivery",
            Kind::Event => "Event",
            Kind::ProfileMerge => "ProfileMerge",
        }
    }

    /// Webhooks and their deliveries are the `admin` scope's, as their root fields are;
    /// the rest is `profiles:read`'s.
    pub(crate) fn needs_admin(self) -> bool {
        matches!(self, Kind::Webhook | Kind::WebhookDelivery)
    }
}

/// What a global id names: a type, and the record's own id as text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct NodeId {
    pub kind: Kind,
    pub id: String,
}

impl NodeId {
    /// The record a global id names; `None` when it is not one of ours.
    pub(crate) fn parse(global: &str) -> Option<NodeId> {
        let (type_name, id) = entity::node::parse(global)?;
        let kind = Kind::ALL.into_iter().find(|kind| kind.type_name() == type_name)?;
        Some(NodeId { kind, id })
    }
}

/// A record found by its global id.
#[allow(clippy::large_enum_variant, reason = "at most 100 per request, each moved once")]
pub(crate) enum Record {
    Profile(Planned),
    Address(address::Model),
    Identity(identity::Model),
    ProfileDate(profile_date::Model),
    Tag(tag::Model),
    Status(status::Model),
    Tier(tier::Model),
    Location(location::Model),
    Comms(comms::Model),
    Appearance(appearance::Model),
    Webhook(webhook::Model),
    WebhookDelivery(webhook_delivery::Model, Option<Event>),
    Event(Event),
    ProfileMerge(MergeRecord),
}

/// The own ids among `ids` that parse as `T` (one that does not is no record's).
fn own<T: FromStr>(ids: &[&NodeId]) -> Vec<T> {
    ids.iter().filter_map(|node| node.id.parse().ok()).collect()
}

/// The ids of the visible profiles, as a subquery.
fn visible_profiles() -> SelectStatement {
    Query::select().column(profile::Column::Id).from(profile::Entity).cond_where(visible()).to_owned()
}

/// The rows of `E` whose `key` is among `values`; with `owner`, only those of a
/// visible profile. One statement.
async fn find<E, V>(
    db: &impl ConnectionTrait,
    key: E::Column,
    values: Vec<V>,
    owner: Option<E::Column>,
) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    V: Into<sea_orm::Value>,
{
    let mut query = E::find().filter(key.is_in(values));
    if let Some(owner) = owner {
        query = query.filter(owner.in_subquery(visible_profiles()));
    }
    Ok(query.all(db).await?)
}

/// The records `ids` name that exist and are visible, by id: one statement per type
/// among them; profiles read with `selection` (a planned read).
pub(crate) async fn load(
    db: &impl ConnectionTrait,
    ids: &[NodeId],
    selection: &Selection,
) -> Result<HashMap<NodeId, Record>> {
    let mut by_kind: HashMap<Kind, Vec<&NodeId>> = HashMap::new();
    for id in ids {
        by_kind.entry(id.kind).or_default().push(id);
    }
    let mut found = HashMap::new();
    for (kind, ids) in by_kind {
        let mut put = |id: String, record: Record| {
            found.insert(NodeId { kind, id }, record);
        };
        match kind {
            Kind::Profile => {
                let query =
                    profile::Entity::find().filter(profile::Column::Id.is_in(own::<Uuid>(&ids))).filter(visible());
                for planned in read::rows(db, query, selection).await? {
                    put(planned.model.id.to_string(), Record::Profile(planned));
                }
            }
            Kind::Address => {
                let rows = find::<address::Entity, _>(
                    db,
                    address::Column::Id,
                    own::<i32>(&ids),
                    Some(address::Column::ProfileId),
                )
                .await?;
                rows.into_iter().for_each(|row| put(row.id.to_string(), Record::Address(row)));
            }
            Kind::Identity => {
                let rows = find::<identity::Entity, _>(
                    db,
                    identity::Column::Id,
                    own::<i32>(&ids),
                    Some(identity::Column::ProfileId),
                )
                .await?;
                rows.into_iter().for_each(|row| put(row.id.to_string(), Record::Identity(row)));
            }
            Kind::ProfileDate => {
                let rows = find::<profile_date::Entity, _>(
                    db,
                    profile_date::Column::Id,
                    own::<i32>(&ids),
                    Some(profile_date::Column::ProfileId),
                )
                .await?;
                rows.into_iter().for_each(|row| put(row.id.to_string(), Record::ProfileDate(row)));
            }
            Kind::Comms => {
                let rows = find::<comms::Entity, _>(
                    db,
                    comms::Column::ProfileId,
                    own::<Uuid>(&ids),
                    Some(comms::Column::ProfileId),
                )
                .await?;
                rows.into_iter().for_each(|row| put(row.profile_id.to_string(), Record::Comms(row)));
            }
            Kind::Appearance => {
                let rows = find::<appearance::Entity, _>(
                    db,
                    appearance::Column::ProfileId,
                    own::<Uuid>(&ids),
                    Some(appearance::Column::ProfileId),
                )
                .await?;
                rows.into_iter().for_each(|row| put(row.profile_id.to_string(), Record::Appearance(row)));
            }
            Kind::Tag => {
                let rows = find::<tag::Entity, _>(db, tag::Column::Id, own::<i32>(&ids), None).await?;
                rows.into_iter().for_each(|row| put(row.id.to_string(), Record::Tag(row)));
            }
            Kind::Status => {
                let rows = find::<status::Entity, _>(db, status::Column::Id, own::<i32>(&ids), None).await?;
                rows.into_iter().for_each(|row| put(row.id.to_string(), Record::Status(row)));
            }
            Kind::Tier => {
                let rows = find::<tier::Entity, _>(db, tier::Column::Id, own::<i32>(&ids), None).await?;
                rows.into_iter().for_each(|row| put(row.id.to_string(), Record::Tier(row)));
            }
            Kind::Location => {
                let rows = find::<location::Entity, _>(db, location::Column::Id, own::<i32>(&ids), None).await?;
                rows.into_iter().for_each(|row| put(row.id.to_string(), Record::Location(row)));
            }
            Kind::Webhook => {
                let rows = find::<webhook::Entity, _>(db, webhook::Column::Id, own::<Uuid>(&ids), None).await?;
                rows.into_iter().for_each(|row| put(row.id.to_string(), Record::Webhook(row)));
            }
            Kind::WebhookDelivery => {
                let rows = webhook_delivery::Entity::find()
                    .filter(webhook_delivery::Column::Id.is_in(own::<i64>(&ids)))
                    .find_also_related(profile_event::Entity)
                    .all(db)
                    .await?;
                for (delivery, event) in rows {
                    let event = event.map(Event::try_from).transpose()?;
                    put(delivery.id.to_string(), Record::WebhookDelivery(delivery, event));
                }
            }
            Kind::Event => {
                let wanted: Vec<String> = ids.iter().map(|node| node.id.clone()).collect();
                let rows =
                    profile_event::Entity::find().filter(profile_event::Column::Id.is_in(wanted)).all(db).await?;
                for row in rows {
                    put(row.id.clone(), Record::Event(Event::try_from(row)?));
                }
            }
            Kind::ProfileMerge => {
                let rows = profile_merge::Entity::find()
                    .filter(profile_merge::Column::Id.is_in(own::<i32>(&ids)))
                    .all(db)
                    .await?;
                for row in rows {
                    put(row.id.to_string(), Record::ProfileMerge(MergeRecord::try_from(row)?));
                }
            }
        }
    }
    Ok(found)
}
