//! The keys that find one profile (id, email, mobile phone, external id, identity),
//! and which profiles every read may see.

use crate::service::error::{Error, Result};
use entity::enums::ProfileType;
use entity::{identity, profile};
use sea_orm::{ActiveValue, ColumnTrait, Condition};
use uuid::Uuid;

/// Profiles every read may see: all but soft-deleted ones.
pub(crate) fn visible() -> Condition {
    Condition::all().add(profile::Column::ProfileType.ne(ProfileType::Deleted))
}

/// Profiles whose email has the key of `email` ([`email_key::of`]), as the unique
/// index on `email_key` compares them: `ÉLISE@…` finds `élise@…`.
pub(crate) fn email_is(email: &str) -> sea_orm::sea_query::SimpleExpr {
    profile::Column::EmailKey.eq(email_key::of(email))
}

/// Gives `row` the key of its email and its base key (the key without a `+tag`), as the
/// email is given (set, or unchanged as in a row made from a model, which an insert
/// writes and an update does not), so that a statement writes the keys exactly when it
/// writes the email (one key per address: `email_key::of`; its base:
/// `email_key::base_of`). Every insert and update of a profile's columns passes its
/// row here.
pub(crate) fn with_email_key(row: &mut profile::ActiveModel) {
    // A blank address (which validation refuses) would have the empty key.
    let keyed = |email: &Option<String>, of: fn(&str) -> String| email.as_deref().map(of).filter(|k| !k.is_empty());
    let derive = |of: fn(&str) -> String| match &row.email {
        ActiveValue::Set(email) => ActiveValue::Set(keyed(email, of)),
        ActiveValue::Unchanged(email) => ActiveValue::Unchanged(keyed(email, of)),
        ActiveValue::NotSet => ActiveValue::NotSet,
    };
    (row.email_key, row.email_base_key) = (derive(email_key::of), derive(email_key::base_of));
}

/// A unique key of a profile, as `profileBy` and `upsertProfile` take it and an import
/// matches rows by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ProfileKey {
    Id(Uuid),
    /// Compared by its key ([`email_key::of`]).
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
