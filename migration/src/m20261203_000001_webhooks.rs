//! `webhook` and `webhook_delivery`: the endpoints change events are pushed
//! to, and one delivery per event per endpoint that wants it, written with the event
//! in the same transaction. The delivery worker claims `PENDING` rows whose
//! `next_attempt_at` has come, holds each for a lease (`locked_until`) while it sends
//! it, and records the outcome. Deleting a webhook deletes its deliveries; pruning an
//! event deletes its deliveries.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000001_webhooks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhook")
                    .col(uuid("id").primary_key())
                    .col(string_len("url", 2048))
                    .col(json("events"))
                    .col(string_len_null("description", 500))
                    .col(boolean("is_active"))
                    .col(string_len("secret", 64))
                    .col(string_len_null("disabled_reason", 500))
                    .col(timestamp_with_time_zone_null("failing_since"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_delivery")
                    .col(big_pk_auto("id"))
                    .col(uuid("webhook_id"))
                    .col(string_len("event_id", 40))
                    .col(uuid("profile_id"))
                    .col(string_len("status", 12))
                    .col(integer("attempts"))
                    .col(integer_null("last_status_code"))
                    .col(string_len_null("last_error", 500))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("webhook_delivery", "webhook_id")
                            .to("webhook", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("webhook_delivery", "event_id")
                            .to("profile_event", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The worker's claim: pending rows in the order it takes them (due time, then
        // id), so that it stops after the few it takes.
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_delivery_due")
                    .table("webhook_delivery")
                    .col("status")
                    .col("next_attempt_at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        // Order per (webhook, profile): "is an earlier one still pending?"
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_delivery_order")
                    .table("webhook_delivery")
                    .col("webhook_id")
                    .col("profile_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_webhook_delivery_event").table("webhook_delivery").col("event_id").to_owned(),
            )
            .await?;
        // Pruning: events by age.
        manager
            .create_index(
                Index::create().name("ix_profile_event_occurred").table("profile_event").col("occurred_at").to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_profile_event_occurred").table("profile_event").to_owned()).await?;
        manager.drop_table(Table::drop().table("webhook_delivery").to_owned()).await?;
        manager.drop_table(Table::drop().table("webhook").to_owned()).await
    }
}
