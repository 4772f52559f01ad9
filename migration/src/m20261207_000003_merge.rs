//! Merging duplicate profiles (SPEC §9): a merged-away profile becomes a tombstone
//! (`profile.merged_into`, the survivor's id; its type `deleted`), an identity moved by
//! a merge records where it came from (`identity.merged_from`), and each merge is kept
//! as a `profile_merge` record of its survivor. The record goes with its survivor (a
//! purge erases it: `ON DELETE CASCADE`); tombstones are purged with their survivor by
//! the service, which finds them by `ix_profile_merged_into`.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000003_merge"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager.alter_table(Table::alter().table("profile").add_column(uuid_null("merged_into")).to_owned()).await?;
        manager.alter_table(Table::alter().table("identity").add_column(uuid_null("merged_from")).to_owned()).await?;
        // Tombstones by survivor: the profile read's fallback, repointing, purging.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_profile_merged_into ON profile (merged_into) WHERE merged_into IS NOT NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("profile_merge")
                    .col(pk_auto("id"))
                    .col(uuid("survivor_id"))
                    .col(json("merged_ids"))
                    .col(json("fields"))
                    .col(json("moves"))
                    .col(json("released"))
                    .col(integer_null("actor_token_id"))
                    .col(string_len_null("actor_token_name", 200))
                    .col(timestamp_with_time_zone("merged_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_profile_merge_survivor")
                            .from("profile_merge", "survivor_id")
                            .to("profile", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_profile_merge_survivor_id")
                    .table("profile_merge")
                    .col("survivor_id")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("profile_merge").to_owned()).await?;
        manager.get_connection().execute_unprepared("DROP INDEX ix_profile_merged_into").await?;
        manager.alter_table(Table::alter().table("identity").drop_column("merged_from").to_owned()).await?;
        manager.alter_table(Table::alter().table("profile").drop_column("merged_into").to_owned()).await
    }
}
