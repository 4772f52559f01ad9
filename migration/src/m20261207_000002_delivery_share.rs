//! The delivery worker claims each webhook's due deliveries on their own (a webhook's
//! share of the slots, `service::events::pacing`): an index that finds them by webhook,
//! in the order they come due, without reading its delivered history.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000002_delivery_share"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_delivery_webhook_due")
                    .table("webhook_delivery")
                    .col("webhook_id")
                    .col("status")
                    .col("next_attempt_at")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_webhook_delivery_webhook_due").table("webhook_delivery").to_owned())
            .await
    }
}
