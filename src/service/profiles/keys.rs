//! The keys that find one profile (id, email, mobile phone, external id, identity),
//! and which profiles every read may see.

use crate::service::error::{Error, Result};
use entity::enums::ProfileType;
use entity::{identity, profile};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

/// Profiles every read may see: all but soft-deleted ones.
pub(crate) fn visible() -> Condition {
    Condition::all().add(profile::Column::ProfileType.ne(ProfileType::Deleted))
}

/// Profiles whose email is `email`, compared lower-cased by the database, as the
/// unique index on `lower(email)` compares them.
pub(crate) fn email_is(email: &str) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Func, SimpleExpr};
    let lower = |e: SimpleExpr| SimpleExpr::FunctionCall(Func::lower(e));
    lower(Expr::col((profile::Entity, profile::Column::Email))).eq(lower(Expr::val(email.trim())))
}

/// A unique key of a profile, as `profileBy` and `upsertProfile` take it and an import
/// matches rows by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ProfileKey {
    Id(Uuid),
    /// Compared lower-cased.
    Email(String),
    /// In E.164.
    MobilePhone(String),
    /// The identifier of a primary identity.
    ExternalId(String),
    Identity {
        handle: String,
        identifier: String,
    },
}

impl ProfileKey {
    /// The texts of the key.
    pub(crate) fn texts(&self) -> Vec<&str> {
        match self {
            ProfileKey::Id(_) => Vec::new(),
            ProfileKey::Email(text) | ProfileKey::MobilePhone(text) | ProfileKey::ExternalId(text) => vec![text],
            ProfileKey::Identity { handle, identifier } => vec![handle, identifier],
        }
    }
}

/// BAD_USER_INPUT when a text of a key holds a control character (which no stored
/// value holds, and which PostgreSQL refuses in a parameter).
pub(crate) fn key_texts(texts: &[&str]) -> Result<()> {
    if texts.iter().any(|text| crate::domain::validate::has_control(text)) {
        return Err(Error::BadInput(format!("`key` {}", crate::domain::validate::CONTROL_MESSAGE)));
    }
    Ok(())
}

/// The condition selecting the profile `key` names (visible or not). An external id
/// is unique per system, so two systems may share one: it selects the profile whose
/// identity was made first.
pub(crate) fn key_condition(key: ProfileKey) -> Result<sea_orm::sea_query::SimpleExpr> {
    use sea_orm::sea_query::Query;
    let owner = |filter: Condition| {
        Query::select()
            .column(identity::Column::ProfileId)
            .from(identity::Entity)
            .cond_where(filter)
            .order_by(identity::Column::Id, sea_orm::Order::Asc)
            .limit(1)
            .to_owned()
    };
    key_texts(&key.texts())?;
    Ok(match key {
        ProfileKey::Id(id) => profile::Column::Id.eq(id),
        ProfileKey::Email(email) => email_is(&email),
        ProfileKey::MobilePhone(e164) => profile::Column::MobilePhone.eq(e164),
        ProfileKey::ExternalId(id) => profile::Column::Id.in_subquery(owner(
            Condition::all().add(identity::Column::IsPrimary.eq(true)).add(identity::Column::Identifier.eq(id.trim())),
        )),
        ProfileKey::Identity { handle, identifier } => profile::Column::Id.in_subquery(owner(
            Condition::all()
                .add(identity::Column::Handle.eq(handle.trim()))
                .add(identity::Column::Identifier.eq(identifier.trim())),
        )),
    })
}
