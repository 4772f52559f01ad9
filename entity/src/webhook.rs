//! `webhook`: an endpoint that change events are delivered to.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Where deliveries are POSTed: http(s).
    pub url: String,
    /// The event types it wants (a JSON array of strings), or `["*"]` for all.
    pub events: Json,
    pub description: Option<String>,
    /// Whether deliveries are sent; false when switched off or disabled after failing.
    pub is_active: bool,
    /// `whsec_` and the base64 of the signing key.
    pub secret: String,
    /// Why the service disabled it, when it did.
    pub disabled_reason: Option<String>,
    /// Since when every delivery attempt has failed; null after a success.
    pub failing_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
