//! `seed --profiles N [--seed S]`: realistic, deterministic demo data.
//!
//! The same seed always gives the same profiles: varied names, valid emails and phones
//! in several countries, birthdays (29 February included), 0–3 addresses, dates, tags,
//! statuses, identities, tiers, locations and custom attributes. Profiles are written
//! in batches, each batch in one transaction, with one statement per table.

use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use entity::enums::{Gender, ProfileType, RecurringSchedule, VerificationState};
use entity::scalars::StringList;
use entity::{address, appearance, comms, identity, location, profile, profile_date};
use fastrand::Rng;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, Iterable, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::phone::{self, Region};
use crate::service::error::Error;
use crate::service::profiles::create::{NewProfile, create_many};
use crate::service::reference;
use crate::service::runtime::Services;

/// Profiles per transaction: large enough to amortise round trips, small enough to
/// stay under PostgreSQL's 65,535 bind parameters per statement.
const BATCH: usize = 500;

const FIRST_NAMES: [&str; 24] = [
    "Olivia",
    "Noah",
    "Charlotte",
    "Oliver",
    "Amelia",
    "William",
    "Isla",
    "Jack",
    "Mia",
    "Leo",
    "Ava",
    "Henry",
    "Zoe",
    "Lucas",
    "Aisha",
    "Mateo",
    "Mei",
    "Arjun",
    "Sofia",
    "Kai",
    "Chloé",
    "José",
    "Siobhan",
    "Ngaio",
];
const LAST_NAMES: [&str; 24] = [
    "Smith",
    "Jones",
    "Williams",
    "Brown",
    "Wilson",
    "Taylor",
    "Nguyen",
    "Johnson",
    "Martin",
    "White",
    "Anderson",
    "Walker",
    "Thompson",
    "Chen",
    "Singh",
    "Patel",
    "García",
    "O'Brien",
    "Kowalski",
    "Rossi",
    "Müller",
    "Tanaka",
    "Papadopoulos",
    "MacDonald",
];
const DOMAINS: [&str; 4] = ["example.com", "example.net", "example.org", "mail.example"];
const TAGS: [&str; 10] = [
    "newsletter",
    "vip-event",
    "online-only",
    "in-store",
    "gift-buyer",
    "sale-hunter",
    "Early Adopter",
    "eco",
    "footwear",
    "accessories",
];
const CITIES: [(&str, &str, &str, &str); 6] = [
    ("Melbourne", "3000", "VIC", "Australia"),
    ("Sydney", "2000", "NSW", "Australia"),
    ("Brisbane", "4000", "QLD", "Australia"),
    ("Auckland", "1010", "AUK", "New Zealand"),
    ("London", "SW1A 1AA", "", "United Kingdom"),
    ("New York", "10001", "NY", "United States"),
];
const STREETS: [&str; 8] =
    ["Collins St", "George St", "Queen St", "High St", "Chapel St", "King St", "Smith St", "Victoria Rd"];

pub async fn seed(db: &Services, count: usize, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let reference = ensure_reference_data(db).await?;
    let mut rng = Rng::with_seed(seed);
    let progress = ProgressBar::new(count as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} profiles, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut done = 0;
    while done < count {
        let batch: Vec<NewProfile> =
            (done..count.min(done + BATCH)).map(|n| demo_profile(&mut rng, seed, n, &reference)).collect();
        let size = batch.len();
        if let Some(taken) = already_seeded(db, &batch).await? {
            let before = if done == 0 {
                "nothing was written".to_owned()
            } else {
                format!("{done} profiles were written first")
            };
            anyhow::bail!(
                "the demo data of seed {seed} is already in this database (its profile {} exists; {before}): \
                 pass --seed N with another N to add more, e.g. `seed --profiles {count} --seed {}`",
                taken,
                seed.wrapping_add(1)
            );
        }
        create_many(db, batch).await.map_err(|error| anyhow::anyhow!("seeding failed: {error:?}"))?;
        done += size;
        progress.inc(size as u64);
    }
    progress.finish_and_clear();
    eprintln!("Seeded {count} profiles (seed {seed}) in {:.1} s.", started.elapsed().as_secs_f64());
    Ok(())
}

/// The id of a profile of `batch` that the database holds already: a seed's profiles
/// are the same every run, ids included, so a seed run twice finds its own.
async fn already_seeded(db: &Services, batch: &[NewProfile]) -> anyhow::Result<Option<uuid::Uuid>> {
    let ids = batch.iter().map(|new| new.profile.id);
    let found = profile::Entity::find()
        .select_only()
        .column(profile::Column::Id)
        .filter(profile::Column::Id.is_in(ids))
        .into_tuple::<uuid::Uuid>()
        .one(&db.db)
        .await?;
    Ok(found)
}

/// Ids of the reference rows profiles point at.
struct Reference {
    tiers: Vec<String>,
    locations: Vec<i32>,
    statuses: Vec<String>,
}

/// Tiers, statuses and locations, created once (a second seed run keeps them).
async fn ensure_reference_data(db: &Services) -> anyhow::Result<Reference> {
    let tiers = [("bronze", "Bronze", 1), ("silver", "Silver", 2), ("gold", "Gold", 3), ("platinum", "Platinum", 4)];
    let statuses =
        [("vip", "VIP", 1), ("staff", "Staff", 2), ("wholesale", "Wholesale", 3), ("influencer", "Influencer", 4)];
    for (handle, name, rank) in tiers {
        existing_is_fine(reference::create_tier(db, handle, name, rank).await)?;
    }
    for (handle, name, rank) in statuses {
        existing_is_fine(reference::create_status(db, handle, name, rank).await)?;
    }
    for (n, (city, ..)) in CITIES.iter().enumerate() {
        let (external_id, code) = (format!("STORE-{:03}", n + 1), format!("S{:02}", n + 1));
        let created =
            reference::create_location(db, &format!("{city} Flagship"), Some(&external_id), Some(&code)).await;
        existing_is_fine(created)?;
    }
    Ok(Reference {
        tiers: tiers.iter().map(|(handle, ..)| (*handle).to_owned()).collect(),
        statuses: statuses.iter().map(|(handle, ..)| (*handle).to_owned()).collect(),
        locations: location::Entity::find()
            .order_by_asc(location::Column::Id)
            .all(&db.db)
            .await?
            .into_iter()
            .map(|l| l.id)
            .collect(),
    })
}

/// A reference record made now or by an earlier run (TAKEN) is fine; failures are not.
fn existing_is_fine<T>(result: crate::service::error::Result<T>) -> anyhow::Result<()> {
    match result {
        Ok(_) | Err(Error::User(_)) => Ok(()),
        Err(error) => Err(anyhow::anyhow!("cannot create reference data: {error}")),
    }
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

/// A valid mobile number, unique to profile `n` of this seed, in one of four countries.
///
/// Each country's numbers are cut into 1,000 blocks, one a seed (`seed × 3 mod 1000`:
/// seeds that differ modulo 1,000 never share one), and profile `n` takes the next
/// number of its country in the block. The smallest block (US: 7,000 numbers, a tenth
/// of the profiles) holds the numbers of 70,000 profiles: up to that many a seed, no two
/// seeds' numbers meet.
fn mobile(rng: &mut Rng, seed: u64, n: usize) -> String {
    let block = (seed.wrapping_mul(1_000_003) % 1_000) as usize;
    // The profile's place among this seed's profiles of its country.
    let (country, place) = (n % 10, n / 10);
    let australian =
        |first: usize, per_block: usize, k: usize| format!("+614{:08}", first + block * per_block + k % per_block);
    let candidates = match country {
        0..=6 => vec![australian(10_000_000, 70_000, place * 7 + country)],
        7 => vec![format!("+6421{:07}", block * 10_000 + place % 10_000)],
        8 => {
            // Drawn as the seed always has, so that the rest of the profile is unchanged.
            let _ = rng.u8(..7);
            let number = block * 7_000 + place % 7_000;
            vec![format!("+1415{}{:06}", 2 + number / 1_000_000, number % 1_000_000)]
        }
        _ => vec![format!("+4474{:08}", block * 100_000 + place % 100_000)],
    };
    // Australian numbers of a range of their own, should another country's not be valid.
    let fallback = australian(80_000_000, 19_000, place * 3 + country.saturating_sub(7));
    candidates
        .into_iter()
        .chain([fallback])
        .find_map(|number| phone::normalize(&number, Region::default()).ok())
        .unwrap_or_default()
}

fn demo_profile(rng: &mut Rng, seed: u64, n: usize, reference: &Reference) -> NewProfile {
    // Deterministic bytes, marked as a version 4 UUID.
    let id = uuid::Builder::from_random_bytes(rng.u128(..).to_be_bytes()).into_uuid();
    let first = *pick(rng, &FIRST_NAMES);
    let last = *pick(rng, &LAST_NAMES);
    let ascii = |name: &str| name.chars().filter(char::is_ascii_alphabetic).collect::<String>().to_lowercase();
    let email = format!("{}.{}.{seed}.{n}@{}", ascii(first), ascii(last), pick(rng, &DOMAINS));
    let joined_at = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).single().unwrap_or_default()
        + Duration::seconds(rng.i64(0..6 * 365 * 86_400))
        + Duration::microseconds(rng.i64(0..1_000_000));
    let (birth_year, birth_month, birth_day) = match n % 50 {
        0 => (Some(*pick(rng, &[1988, 1992, 2000, 2004])), Some(2), Some(29)),
        1 => (None, None, None),
        2 => (None, Some(rng.i32(1..=12)), Some(rng.i32(1..=28))),
        _ => (Some(rng.i32(1950..=2006)), Some(rng.i32(1..=12)), Some(rng.i32(1..=28))),
    };
    let has = |rng: &mut Rng, percent: u8| rng.u8(..100) < percent;
    let location_id = |rng: &mut Rng| reference.locations.get(rng.usize(..reference.locations.len().max(1))).copied();
    let model = profile::Model {
        id,
        title: has(rng, 40).then(|| (*pick(rng, &["Mr", "Ms", "Mrs", "Dr", "Mx"])).to_owned()),
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        email: has(rng, 95).then_some(email),
        // Derived from the email by the insert.
        email_key: None,
        email_base_key: None,
        gender: Some(*pick(rng, &[Gender::Female, Gender::Male, Gender::Other, Gender::Withheld])),
        currency: Some((*pick(rng, &["AUD", "AUD", "NZD", "USD", "GBP"])).to_owned()),
        joined_at,
        mobile_phone: has(rng, 90).then(|| mobile(rng, seed, n)),
        secondary_phone: has(rng, 15).then(|| "+61398765432".to_owned()),
        birth_year,
        birth_month,
        birth_day,
        company: has(rng, 20).then(|| (*pick(rng, &["Acme Shoe Co.", "Globex", "Initech", "Umbrella"])).to_owned()),
        occupation: has(rng, 30).then(|| (*pick(rng, &["Marketing", "Nurse", "Engineer", "Teacher"])).to_owned()),
        avatar_url: has(rng, 10).then(|| format!("https://images.example.com/avatars/{id}.png")),
        preferred_location_id: if has(rng, 60) { location_id(rng) } else { None },
        joined_location_id: if has(rng, 70) { location_id(rng) } else { None },
        tier_handle: has(rng, 60).then(|| pick(rng, &reference.tiers).clone()),
        profile_type: if n % 40 == 39 { ProfileType::Temporary } else { ProfileType::Active },
        type_before_delete: None,
        custom_attributes: serde_json::json!({
            "custom": { "favourite-colour": pick(rng, &["black", "navy", "green", "red"]), "visits": rng.u32(0..200) }
        }),
        created_at: joined_at,
        updated_at: joined_at,
        version: 1,
        merged_into: None,
    };
    let now = joined_at;
    let addresses = (0..rng.usize(0..=3))
        .map(|k| {
            let (city, postcode, state, country) = *pick(rng, &CITIES);
            address::Model {
                id: 0,
                profile_id: id,
                address_line_1: format!("{} {}", rng.u16(1..400), pick(rng, &STREETS)),
                address_line_2: (k == 1).then(|| format!("Unit {}", rng.u8(1..40))),
                address_line_3: None,
                company: None,
                latitude: None,
                longitude: None,
                city: city.to_owned(),
                postcode: postcode.to_owned(),
                state: (!state.is_empty()).then(|| state.to_owned()),
                country: country.to_owned(),
                notes: None,
                external_id: None,
                is_default: k == 0,
                created_at: now + Duration::seconds(k as i64),
                updated_at: now + Duration::seconds(k as i64),
            }
            .into_active_model()
        })
        .map(without_id::<address::ActiveModel>)
        .collect();
    let dates = (0..rng.usize(0..=2))
        .map(|k| {
            let date =
                NaiveDate::from_ymd_opt(rng.i32(2000..=2025), rng.u32(1..=12), rng.u32(1..=28)).unwrap_or_default();
            let (name, relationship) =
                *pick(rng, &[("Anniversary", "partner"), ("Birthday", "child"), ("Birthday", "mother")]);
            profile_date::Model {
                id: 0,
                profile_id: id,
                date,
                is_recurring: true,
                recurring_schedule: Some(RecurringSchedule::Yearly),
                name: Some(name.to_owned()),
                handle: Some(format!("{}-{k}", name.to_lowercase())),
                relationship: Some(relationship.to_owned()),
                description: None,
                meta: StringList(vec![format!("source:seed-{seed}")]),
                note: None,
                created_at: now,
                updated_at: now,
            }
            .into_active_model()
        })
        .map(without_id::<profile_date::ActiveModel>)
        .collect();
    let identities = (0..rng.usize(0..=2))
        .map(|k| {
            let (handle, identifier) = match k {
                0 => ("shopify", format!("gid://shopify/Customer/{seed}{n:08}")),
                _ => ("pos", format!("POS-{seed}-{n}")),
            };
            identity::Model {
                id: 0,
                profile_id: id,
                handle: handle.to_owned(),
                identifier,
                is_primary: k == 0,
                is_active: true,
                created_at: now,
                updated_at: now,
                merged_from: None,
            }
            .into_active_model()
        })
        .map(without_id::<identity::ActiveModel>)
        .collect();
    let tags = (0..rng.usize(0..=3)).map(|_| (*pick(rng, &TAGS)).to_owned()).collect();
    let statuses = if has(rng, 25) { vec![pick(rng, &reference.statuses).clone()] } else { Vec::new() };
    // Every row of a batch sets the same comms and appearance columns: one statement each.
    let comms = comms::ActiveModel {
        email_promo: Set(has(rng, 55)),
        sms_promo: Set(has(rng, 30)),
        email_verification: Set(if has(rng, 70) { VerificationState::Verified } else { VerificationState::NotSent }),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let appearance = appearance::ActiveModel {
        hair_colour: Set(has(rng, 40).then(|| (*pick(rng, &["Black", "Brown", "Blonde", "Red"])).to_owned())),
        size_shoe: Set(has(rng, 50).then(|| rng.u8(5..13).to_string())),
        size_top: Set(has(rng, 50).then(|| (*pick(rng, &["XS", "S", "M", "L", "XL"])).to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    NewProfile { profile: model, addresses, dates, identities, tags, statuses, comms, appearance }
}

/// Leaves the auto-increment id to the database.
fn without_id<A: sea_orm::ActiveModelTrait>(mut model: A) -> A {
    for key in <A::Entity as EntityTrait>::PrimaryKey::iter() {
        model.not_set(sea_orm::PrimaryKeyToColumn::into_column(key));
    }
    model
}
