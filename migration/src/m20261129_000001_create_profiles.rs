//! The whole profile model: profiles, what they own, and reference data.
//!
//! Rules the database enforces itself, so that races cannot break them:
//! - email unique compared lower-cased (an expression index on `lower(email)`);
//! - mobile phone, tag/status/tier handles and location external ids unique;
//! - `(handle, identifier)` of identities unique; at most one primary identity and
//!   at most one default address per profile (partial unique indexes);
//! - owned records go with their profile (`ON DELETE CASCADE`).
//!
//! Partial and expression indexes are written as SQL: the syntax is the same on both
//! databases, and sea-query's index builder covers neither.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_create_profiles"
    }
}

/// The contact channels of `comms`, each with the flags below.
const CHANNELS: [&str; 5] = ["email", "sms", "push", "phone", "post"];
/// Flags that default to false: no marketing consent until given.
const OFF_FLAGS: [&str; 3] = ["optout", "bounced", "promo"];
/// Message categories, accepted until the customer says otherwise.
const CATEGORIES: [&str; 8] =
    ["discover", "benefits", "reminders", "account", "bookings", "feedback", "location", "service"];
/// Channels that carry a verification state.
const VERIFIED: [&str; 4] = ["email", "sms", "phone", "post"];
/// The string fields of `appearance`.
const APPEARANCE: [&str; 35] = [
    "hair_colour",
    "hair_length",
    "shape_body",
    "shape_face",
    "size_cup",
    "size_hat",
    "size_formal_jacket",
    "size_formal_jacket_length",
    "size_formal_shirt",
    "size_formal_shirt_fit",
    "size_formal_trouser",
    "size_formal_trouser_drop",
    "size_formal_trouser_leg",
    "size_jacket",
    "size_pant",
    "size_shoe",
    "size_type_age",
    "size_type_region",
    "size_top",
    "skin_type",
    "measurement_arm",
    "measurement_arm_inside",
    "measurement_bust",
    "measurement_chest",
    "measurement_foot_length",
    "measurement_head",
    "measurement_height",
    "measurement_hip",
    "measurement_leg_inside",
    "measurement_leg_outside",
    "measurement_neck",
    "measurement_neck_to_wrist",
    "measurement_shoulders",
    "measurement_waist",
    "measurement_weight",
];

/// `created_at` and `updated_at`, on every table.
fn timestamps(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table.col(timestamp_with_time_zone("created_at")).col(timestamp_with_time_zone("updated_at"))
}

/// A foreign key from `table.column` to the profile that owns the row.
fn owned_by_profile(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_profile"))
        .from(table, "profile_id")
        .to("profile", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(format!("ix_{table}_{}", columns.join("_"))).table(table);
    for column in columns {
        index.col(*column);
    }
    index
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for statement in reference_tables() {
            manager.create_table(statement).await?;
        }
        manager.create_table(profile_table()).await?;
        for statement in owned_tables() {
            manager.create_table(statement).await?;
        }
        for statement in indexes() {
            manager.create_index(statement).await?;
        }
        let db = manager.get_connection();
        for sql in [
            "CREATE UNIQUE INDEX ux_profile_email_lower ON profile (lower(email))",
            "CREATE UNIQUE INDEX ux_address_one_default ON address (profile_id) WHERE is_default",
            "CREATE UNIQUE INDEX ux_identity_one_primary ON identity (profile_id) WHERE is_primary",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "profile_status",
            "profile_tag",
            "identity",
            "profile_date",
            "address",
            "comms",
            "appearance",
            "profile",
            "status",
            "tag",
            "tier",
            "location",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

fn reference_tables() -> Vec<TableCreateStatement> {
    let mut tier = Table::create();
    tier.table("tier")
        .col(pk_auto("id"))
        .col(string_uniq("handle"))
        .col(string("name"))
        .col(integer("rank").default(0));
    let mut location = Table::create();
    location
        .table("location")
        .col(pk_auto("id"))
        .col(string("name"))
        .col(string_null("external_id").unique_key())
        .col(string_null("external_code"));
    let mut tag = Table::create();
    tag.table("tag").col(pk_auto("id")).col(string_uniq("handle")).col(string("name"));
    let mut status = Table::create();
    status
        .table("status")
        .col(pk_auto("id"))
        .col(string_uniq("handle"))
        .col(string("name"))
        .col(integer("rank").default(0));
    [tier, location, tag, status].into_iter().map(|mut table| timestamps(&mut table).to_owned()).collect()
}

fn profile_table() -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table("profile")
        .col(pk_uuid("id"))
        .col(string_null("title"))
        .col(string_null("first_name"))
        .col(string_null("last_name"))
        .col(string_null("email"))
        .col(string_null("gender"))
        .col(string_null("currency"))
        .col(timestamp_with_time_zone("joined_at"))
        .col(string_null("mobile_phone").unique_key())
        .col(string_null("secondary_phone"))
        .col(integer_null("birth_year"))
        .col(integer_null("birth_month"))
        .col(integer_null("birth_day"))
        .col(string_null("company"))
        .col(string_null("occupation"))
        .col(string_null("avatar_url"))
        .col(integer_null("preferred_location_id"))
        .col(integer_null("joined_location_id"))
        .col(string_null("tier_handle"))
        .col(string("profile_type").default("active"))
        .col(string_null("type_before_delete"))
        .col(json_binary("custom_attributes"))
        .col(integer("version").default(1))
        .foreign_key(
            ForeignKey::create()
                .name("fk_profile_preferred_location")
                .from("profile", "preferred_location_id")
                .to("location", "id")
                .on_delete(ForeignKeyAction::SetNull),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_profile_joined_location")
                .from("profile", "joined_location_id")
                .to("location", "id")
                .on_delete(ForeignKeyAction::SetNull),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_profile_tier")
                .from("profile", "tier_handle")
                .to("tier", "handle")
                .on_delete(ForeignKeyAction::SetNull)
                .on_update(ForeignKeyAction::Cascade),
        );
    timestamps(&mut table).to_owned()
}

fn owned_tables() -> Vec<TableCreateStatement> {
    let mut address = Table::create();
    address
        .table("address")
        .col(pk_auto("id"))
        .col(uuid("profile_id"))
        .col(string("address_line_1"))
        .col(string_null("address_line_2"))
        .col(string_null("address_line_3"))
        .col(string_null("company"))
        .col(double_null("latitude"))
        .col(double_null("longitude"))
        .col(string("city"))
        .col(string("postcode"))
        .col(string_null("state"))
        .col(string("country"))
        .col(string_null("notes"))
        .col(string_null("external_id"))
        .col(boolean("is_default").default(false))
        .foreign_key(&mut owned_by_profile("address"));

    let mut date = Table::create();
    date.table("profile_date")
        .col(pk_auto("id"))
        .col(uuid("profile_id"))
        .col(self::date("date"))
        .col(boolean("is_recurring").default(false))
        .col(string_null("recurring_schedule"))
        .col(string_null("name"))
        .col(string_null("handle"))
        .col(string_null("relationship"))
        .col(string_null("description"))
        .col(json("meta"))
        .col(string_null("note"))
        .foreign_key(&mut owned_by_profile("profile_date"));

    let mut identity = Table::create();
    identity
        .table("identity")
        .col(pk_auto("id"))
        .col(uuid("profile_id"))
        .col(string("handle"))
        .col(string("identifier"))
        .col(boolean("is_primary").default(false))
        .col(boolean("is_active").default(true))
        .foreign_key(&mut owned_by_profile("identity"));

    let mut comms = Table::create();
    comms.table("comms").col(uuid("profile_id").primary_key());
    for channel in CHANNELS {
        for flag in OFF_FLAGS {
            comms.col(boolean(format!("{channel}_{flag}")).default(false));
        }
        for category in CATEGORIES {
            comms.col(boolean(format!("{channel}_{category}")).default(true));
        }
    }
    for channel in VERIFIED {
        comms.col(string(format!("{channel}_verification")).default("not_sent"));
    }
    comms
        .col(timestamp_with_time_zone_null("terms_accepted_at"))
        .col(string_null("terms_accepted_version"))
        .foreign_key(&mut owned_by_profile("comms"));

    let mut appearance = Table::create();
    appearance.table("appearance").col(uuid("profile_id").primary_key());
    for field in APPEARANCE {
        appearance.col(string_null(field));
    }
    appearance.foreign_key(&mut owned_by_profile("appearance"));

    let mut tables: Vec<TableCreateStatement> = [address, date, identity, comms, appearance]
        .into_iter()
        .map(|mut table| timestamps(&mut table).to_owned())
        .collect();
    for (join, target) in [("profile_tag", "tag"), ("profile_status", "status")] {
        let target_id = format!("{target}_id");
        tables.push(
            Table::create()
                .table(join)
                .col(uuid("profile_id"))
                .col(integer(target_id.clone()))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("profile_id").col(target_id.clone()))
                .foreign_key(&mut owned_by_profile(join))
                .foreign_key(
                    ForeignKey::create()
                        .name(format!("fk_{join}_{target}"))
                        .from(join, target_id.clone())
                        .to(target, "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        );
    }
    tables
}

/// Every foreign key, and every column a lookup or the default order uses.
fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("profile", &["created_at", "id"]),
        index("profile", &["preferred_location_id"]),
        index("profile", &["joined_location_id"]),
        index("profile", &["tier_handle"]),
        index("address", &["profile_id"]),
        index("profile_date", &["profile_id"]),
        index("identity", &["profile_id"]),
        index("identity", &["identifier"]),
        index("identity", &["handle", "identifier"]).unique().to_owned(),
        index("profile_tag", &["tag_id"]),
        index("profile_status", &["status_id"]),
    ]
}
