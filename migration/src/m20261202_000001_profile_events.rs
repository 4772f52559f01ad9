//! `profile_event`: the outbox of change events. One row per profile per
//! committed write that changed it, written in that write's transaction
//! (`service::write::Write::commit`); it replaces `profile_change`, which held the same
//! rows without their payload. `seq` is the commit order: writers take a lock before
//! drawing it, so a reader never sees a later event without the earlier ones.
//! No foreign key: a purged profile's events stay.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000001_profile_events"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("profile_change").if_exists().to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table("profile_event")
                    .col(big_pk_auto("seq"))
                    .col(string_len_uniq("id", 40))
                    .col(string_len("type", 24))
                    .col(uuid("profile_id"))
                    .col(integer("version"))
                    .col(json("changed"))
                    .col(integer_null("actor_token_id"))
                    .col(string_len_null("actor_token_name", 200))
                    .col(json("data"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_profile_event_profile")
                    .table("profile_event")
                    .col("profile_id")
                    .col("seq")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("profile_event").to_owned()).await
    }
}
