//! `profile_date`: important dates of a profile (the reference's `attributes.dates`).

use async_graphql::{ComplexObject, ID, SimpleObject};
use sea_orm::entity::prelude::*;

use crate::enums::RecurringSchedule;
use crate::scalars::{Date, StringList};

/// An important date of the customer: an anniversary, a partner's birthday, …
#[derive(
    Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize, serde::Serialize, SimpleObject,
)]
#[serde(default)]
#[sea_orm(table_name = "profile_date")]
#[graphql(name = "ProfileDate", complex)]
pub struct Model {
    #[sea_orm(primary_key)]
    #[graphql(skip)]
    pub id: i32,
    #[graphql(skip)]
    pub profile_id: Uuid,
    #[graphql(skip)]
    pub date: chrono::NaiveDate,
    /// Whether the date recurs.
    pub is_recurring: bool,
    /// How often the date recurs, when it does.
    pub recurring_schedule: Option<RecurringSchedule>,
    /// Display name of the date.
    pub name: Option<String>,
    /// A stable key for the kind of date, e.g. `anniversary`.
    pub handle: Option<String>,
    /// Who the date concerns, relative to the customer, e.g. `wife`.
    pub relationship: Option<String>,
    /// What the date is.
    pub description: Option<String>,
    #[graphql(skip)]
    #[sea_orm(column_type = "Json")]
    pub meta: StringList,
    /// A free-text note.
    pub note: Option<String>,
    /// When the record was created (UTC).
    pub created_at: DateTimeUtc,
    /// When the record last changed (UTC).
    pub updated_at: DateTimeUtc,
}

#[ComplexObject]
impl Model {
    /// The date's global id (`Query.node`).
    pub async fn node_id(&self) -> ID {
        crate::node::id("ProfileDate", self.id)
    }

    /// The record's id.
    async fn id(&self) -> ID {
        self.id.into()
    }

    /// The date itself.
    async fn date(&self) -> Date {
        Date(self.date)
    }

    /// Extra labels attached to the date.
    async fn meta(&self) -> &[String] {
        &self.meta.0
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
