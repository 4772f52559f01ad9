//! API tokens: create (returning the secret once), list, revoke, and find the caller
//! of a secret.

use entity::api_token;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::{self, Caller, Scope};
use crate::service::actor::Actor;
use crate::service::error::{Error, Result};
use crate::service::runtime::Services;

/// Creates a token; returns it and its secret, which is not stored and cannot be shown again.
pub async fn create(db: &Services, name: &str, scopes: &[Scope]) -> Result<(api_token::Model, String)> {
    let secret = auth::new_secret().map_err(|e| Error::Invariant(format!("no randomness: {e}")))?;
    let row = api_token::ActiveModel {
        name: Set(name.to_owned()),
        secret_hash: Set(auth::hash_secret(&secret)),
        scopes: Set(auth::format_scopes(scopes)),
        created_at: Set(db.clock.now()),
        revoked_at: Set(None),
        ..Default::default()
    };
    Ok((row.insert(&db.db).await?, secret))
}

/// Every token, revoked ones too, oldest first.
pub(crate) async fn list(db: &DatabaseConnection) -> Result<Vec<api_token::Model>> {
    Ok(api_token::Entity::find().order_by_asc(api_token::Column::Id).all(db).await?)
}

/// Revokes token `id`; false when there is no such live token.
pub async fn revoke(db: &Services, id: i32) -> Result<bool> {
    let result = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, sea_orm::sea_query::Expr::val(db.clock.now()))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(&db.db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The caller a secret stands for, if it is a live token.
pub(crate) async fn caller(db: &DatabaseConnection, secret: &str) -> Result<Option<Caller>> {
    let token = api_token::Entity::find()
        .filter(api_token::Column::SecretHash.eq(auth::hash_secret(secret)))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    Ok(token.map(|token| {
        Caller::with(auth::parse_scopes(&token.scopes).unwrap_or_default())
            .by(Actor { token_id: token.id, token_name: token.name })
    }))
}
