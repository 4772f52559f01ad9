//! `appearance`: one row per profile with its appearance and sizes, created with it.

use async_graphql::{ComplexObject, ID, SimpleObject};
use sea_orm::entity::prelude::*;

/// Appearance, sizes and measurements of the customer, as free text (units and size
/// systems vary by retailer).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize, serde::Serialize, SimpleObject,
)]
#[serde(default)]
#[sea_orm(table_name = "appearance")]
#[graphql(name = "Appearance", complex)]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    #[graphql(skip)]
    pub profile_id: Uuid,
    /// Hair colour.
    pub hair_colour: Option<String>,
    /// Hair length.
    pub hair_length: Option<String>,
    /// Body shape.
    pub shape_body: Option<String>,
    /// Face shape.
    pub shape_face: Option<String>,
    /// Cup size.
    pub size_cup: Option<String>,
    /// Hat size.
    pub size_hat: Option<String>,
    /// Formal jacket size.
    pub size_formal_jacket: Option<String>,
    /// Formal jacket length.
    pub size_formal_jacket_length: Option<String>,
    /// Formal shirt size.
    pub size_formal_shirt: Option<String>,
    /// Formal shirt fit.
    pub size_formal_shirt_fit: Option<String>,
    /// Formal trouser size.
    pub size_formal_trouser: Option<String>,
    /// Formal trouser drop.
    pub size_formal_trouser_drop: Option<String>,
    /// Formal trouser leg length.
    pub size_formal_trouser_leg: Option<String>,
    /// Jacket size.
    pub size_jacket: Option<String>,
    /// Pant size.
    pub size_pant: Option<String>,
    /// Shoe size.
    pub size_shoe: Option<String>,
    /// Sizing age group, e.g. adult or child.
    pub size_type_age: Option<String>,
    /// Sizing region, e.g. AU or EU.
    pub size_type_region: Option<String>,
    /// Top size.
    pub size_top: Option<String>,
    /// Skin type.
    pub skin_type: Option<String>,
    /// Arm measurement.
    pub measurement_arm: Option<String>,
    /// Inside arm measurement.
    pub measurement_arm_inside: Option<String>,
    /// Bust measurement.
    pub measurement_bust: Option<String>,
    /// Chest measurement.
    pub measurement_chest: Option<String>,
    /// Foot length.
    pub measurement_foot_length: Option<String>,
    /// Head measurement.
    pub measurement_head: Option<String>,
    /// Height.
    pub measurement_height: Option<String>,
    /// Hip measurement.
    pub measurement_hip: Option<String>,
    /// Inside leg measurement.
    pub measurement_leg_inside: Option<String>,
    /// Outside leg measurement.
    pub measurement_leg_outside: Option<String>,
    /// Neck measurement.
    pub measurement_neck: Option<String>,
    /// Neck-to-wrist measurement.
    pub measurement_neck_to_wrist: Option<String>,
    /// Shoulder measurement.
    pub measurement_shoulders: Option<String>,
    /// Waist measurement.
    pub measurement_waist: Option<String>,
    /// Weight.
    pub measurement_weight: Option<String>,
    /// When the record was created (UTC).
    pub created_at: DateTimeUtc,
    /// When the record last changed (UTC).
    pub updated_at: DateTimeUtc,
}

#[ComplexObject]
impl Model {
    /// Its profile's id: each profile has its own appearance.
    async fn id(&self) -> ID {
        ID(self.profile_id.to_string())
    }

    /// The global id of the profile's appearance (`Query.node`).
    pub async fn node_id(&self) -> ID {
        crate::node::id("Appearance", self.profile_id)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
