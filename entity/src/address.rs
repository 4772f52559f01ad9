//! `address`: postal addresses owned by a profile; exactly one is the default.

use async_graphql::{ComplexObject, ID, SimpleObject};
use sea_orm::entity::prelude::*;

/// A postal address of a profile. A profile with addresses has exactly one default.
#[derive(Clone, Debug, Default, PartialEq, DeriveEntityModel, serde::Deserialize, serde::Serialize, SimpleObject)]
#[serde(default)]
#[sea_orm(table_name = "address")]
#[graphql(name = "Address", complex)]
pub struct Model {
    #[sea_orm(primary_key)]
    #[graphql(skip)]
    pub id: i32,
    #[graphql(skip)]
    pub profile_id: Uuid,
    /// First line of the street address.
    pub address_line_1: String,
    /// Second line of the street address.
    pub address_line_2: Option<String>,
    /// Third line of the street address.
    pub address_line_3: Option<String>,
    /// Company at this address.
    pub company: Option<String>,
    /// Latitude in decimal degrees (WGS 84).
    pub latitude: Option<f64>,
    /// Longitude in decimal degrees (WGS 84).
    pub longitude: Option<f64>,
    /// City or suburb.
    pub city: String,
    /// Postcode or ZIP code.
    pub postcode: String,
    /// State, province or region.
    pub state: Option<String>,
    /// Country.
    pub country: String,
    /// Free-text delivery notes.
    pub notes: Option<String>,
    /// The address's reference in another system.
    pub external_id: Option<String>,
    /// Whether this is the profile's default address.
    pub is_default: bool,
    /// When the address was created (UTC).
    pub created_at: DateTimeUtc,
    /// When the address last changed (UTC).
    pub updated_at: DateTimeUtc,
}

#[ComplexObject]
impl Model {
    /// The address's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        crate::node::id("Address", self.id)
    }

    /// The address's id.
    async fn id(&self) -> ID {
        self.id.into()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
