//! `profile_change`: one row per profile per committed write that changed it, written
//! in that write's transaction (`service::write::Write::commit`). Change events build
//! on it. No foreign key: a purged profile's last change stays.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_profile_changes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("profile_change")
                    .col(big_pk_auto("id"))
                    .col(uuid("profile_id"))
                    .col(string_len("kind", 16))
                    .col(integer("version"))
                    .col(timestamp_with_time_zone("changed_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_profile_change_profile")
                    .table("profile_change")
                    .col("profile_id")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("profile_change").to_owned()).await
    }
}
