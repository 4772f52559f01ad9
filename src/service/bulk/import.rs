//! Import (SPEC §8): rows already validated as new profiles (by the mutations' own
//! rules, in the GraphQL layer) are matched to existing profiles by a key, then
//! created, updated or found unchanged.
//!
//! Rows go in *waves*: the longest run of rows of which no two name the same profile
//! or the same unique value. A wave is one transaction ([`Write`], so every create and
//! update writes its change event); its creates are inserted with one statement per
//! table, and only when that fails (a value taken since the checks, a race) are they
//! inserted again one at a time, each in a savepoint, so that the failing row fails
//! alone. Updates go one at a time, each in a savepoint. A row whose values are the
//! profile's already is `UNCHANGED` and writes nothing: no version, no event. Running a
//! wave after the one before it has committed gives the same outcome as importing the
//! rows one by one in file order.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use entity::enums::ProfileType;
use entity::{
    address, appearance, comms, identity, profile, profile_date, profile_status, profile_tag, status, tag, tier,
};
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, IdenStatic,
    Iterable, ModelTrait, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use crate::domain::tag::normalize_handle;
use crate::domain::validate::{self, Path, Problems, UserError, UserErrorCode};
use crate::error::AppResult;
use crate::service::change::ChangeKind;
use crate::service::draft::{Columns, Patch};
use crate::service::profiles::checks;
use crate::service::profiles::create::{NewProfile, attach_statuses, attach_tags, insert_rows};
use crate::service::profiles::keys::ProfileKey as Key;
use crate::service::profiles::lifecycle::{self, ProfileCreate};
use crate::service::profiles::read::{self, Planned, Selection};
use crate::service::runtime::Services;
use crate::service::write::{Write, WriteError, taken};

/// What an import may do to the profiles its rows match, and to those they do not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Update a matched profile, create the rest.
    #[default]
    Upsert,
    /// Create; a row that matches a profile fails.
    CreateOnly,
    /// Update; a row that matches none fails.
    UpdateOnly,
}

/// What an import does with a key.
impl Key {
    /// The key as one string, for telling whether two rows name the same profile.
    fn claim(&self) -> String {
        match self {
            Key::Id(id) => format!("id:{id}"),
            Key::Email(email) => format!("email:{}", email.trim().to_lowercase()),
            Key::MobilePhone(phone) => format!("phone:{phone}"),
            Key::ExternalId(id) => format!("external:{}", id.trim()),
            Key::Identity { handle, identifier } => format!("identity:{}\u{0}{}", handle.trim(), identifier.trim()),
        }
    }

    /// The path of the row's value a key error is reported at.
    fn path(&self) -> Path {
        Path::root("input").key(match self {
            Key::Id(_) => "id",
            Key::Email(_) => "email",
            Key::MobilePhone(_) => "mobilePhone",
            Key::ExternalId(_) => "externalId",
            Key::Identity { .. } => "identities",
        })
    }

    /// Whether `planned` is the profile this key names.
    fn names(&self, planned: &Planned) -> bool {
        let m = &planned.model;
        let identities = planned.relations.identities.as_deref().unwrap_or_default();
        match self {
            Key::Id(id) => m.id == *id,
            Key::Email(email) => m.email.as_deref().is_some_and(|e| e.to_lowercase() == email.trim().to_lowercase()),
            Key::MobilePhone(phone) => m.mobile_phone.as_deref() == Some(phone.as_str()),
            Key::ExternalId(id) => identities.iter().any(|i| i.is_primary && i.identifier == id.trim()),
            Key::Identity { handle, identifier } => {
                identities.iter().any(|i| i.handle == handle.trim() && i.identifier == identifier.trim())
            }
        }
    }

    /// The identity that makes `planned` match this key, for choosing between
    /// profiles (the one whose identity was made first wins, as `profileBy` chooses).
    fn identity_id(&self, planned: &Planned) -> i32 {
        let identities = planned.relations.identities.as_deref().unwrap_or_default();
        match self {
            Key::ExternalId(id) => {
                identities.iter().filter(|i| i.is_primary && i.identifier == id.trim()).map(|i| i.id).min()
            }
            Key::Identity { handle, identifier } => identities
                .iter()
                .filter(|i| i.handle == handle.trim() && i.identifier == identifier.trim())
                .map(|i| i.id)
                .min(),
            _ => None,
        }
        .unwrap_or(i32::MAX)
    }
}

/// When a record was made and last changed, as a row gives them: a new record keeps
/// them, so that an exported file imports into an empty database as it was.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stamp {
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The stamps a row gives, for the profile and for each record it owns.
#[derive(Clone, Debug, Default)]
pub struct Stamps {
    pub profile: Stamp,
    pub addresses: Vec<Stamp>,
    pub dates: Vec<Stamp>,
    pub identities: Vec<Stamp>,
    pub comms: Stamp,
    pub appearance: Stamp,
}

/// A tag a row gives as an object: an unknown tag is created with its name and stamps.
#[derive(Clone, Debug)]
pub struct TagGiven {
    pub handle: String,
    pub name: String,
    pub stamp: Stamp,
}

/// Which of a profile's lists a row gives; each one given replaces the profile's.
#[derive(Clone, Copy, Debug, Default)]
pub struct Given {
    pub addresses: bool,
    pub dates: bool,
    pub identities: bool,
    pub tags: bool,
    pub statuses: bool,
}

/// One row, validated as a new profile.
pub struct ImportRow {
    /// What the row is matched by; none creates.
    pub key: Option<Key>,
    /// The id a new profile gets (a new one when none).
    pub id: Option<Uuid>,
    /// The row as `createProfile` input: columns it does not give are `Keep`.
    pub draft: ProfileCreate,
    pub given: Given,
    pub stamps: Stamps,
    pub tags: Vec<TagGiven>,
    /// The row's `external_id`: a new profile whose row gives no identities gets it as
    /// its primary identity, in the system [`EXTERNAL`] (so that a CSV keeps it).
    pub external_id: Option<String>,
}

/// The system of the primary identity made from a row's bare `external_id`.
pub const EXTERNAL: &str = "external";

/// What became of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Created,
    Updated,
    Unchanged,
    Failed,
}

/// A row's outcome: the profile after it, or why it failed.
#[derive(Debug)]
pub struct Outcome {
    pub status: Status,
    pub profile: Option<profile::Model>,
    pub errors: Vec<UserError>,
}

impl Outcome {
    fn failed(errors: Vec<UserError>) -> Outcome {
        Outcome { status: Status::Failed, profile: None, errors }
    }

    fn one(path: &Path, code: UserErrorCode, message: &str) -> Outcome {
        let mut problems = Problems::default();
        problems.add(path, code, message);
        Outcome::failed(problems.into_errors())
    }
}

/// Imports `rows` (those that failed validation stay failed) in `mode`; one outcome a
/// row, in order. A database failure stops the import: the waves before it are
/// committed, the rest is not written.
pub async fn import(
    db: &Services,
    rows: Vec<Result<ImportRow, Vec<UserError>>>,
    mode: Mode,
) -> AppResult<Vec<Outcome>> {
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(rows.len());
    let mut wave: Vec<(usize, ImportRow)> = Vec::new();
    let mut claimed: HashSet<String> = HashSet::new();
    for (index, row) in rows.into_iter().enumerate() {
        outcomes.push(None);
        match row {
            Err(errors) => outcomes[index] = Some(Outcome::failed(errors)),
            Ok(row) => {
                let claims = claims(&row);
                if claims.iter().any(|claim| claimed.contains(claim)) {
                    run_wave(db, std::mem::take(&mut wave), mode, &mut outcomes).await?;
                    claimed.clear();
                }
                claimed.extend(claims);
                wave.push((index, row));
            }
        }
    }
    run_wave(db, wave, mode, &mut outcomes).await?;
    Ok(outcomes.into_iter().map(|o| o.unwrap_or_else(|| Outcome::failed(Vec::new()))).collect())
}

/// The profile a row names and the unique values it holds, as strings.
fn claims(row: &ImportRow) -> Vec<String> {
    let p = &row.draft.new.profile;
    let mut claims: Vec<String> = row.key.iter().map(Key::claim).collect();
    claims.extend(row.id.map(|id| Key::Id(id).claim()));
    if let Patch::Set(Some(email)) = &p.email {
        claims.push(Key::Email(email.clone()).claim());
    }
    if let Patch::Set(Some(phone)) = &p.mobile_phone {
        claims.push(Key::MobilePhone(phone.clone()).claim());
    }
    for identity in &row.draft.new.identities {
        if let (Patch::Set(handle), Patch::Set(identifier)) = (&identity.handle, &identity.identifier) {
            claims.push(Key::Identity { handle: handle.clone(), identifier: identifier.clone() }.claim());
            if identity.is_primary == Patch::Set(true) {
                claims.push(Key::ExternalId(identifier.clone()).claim());
            }
        }
    }
    claims
}

async fn run_wave(
    db: &Services,
    wave: Vec<(usize, ImportRow)>,
    mode: Mode,
    outcomes: &mut [Option<Outcome>],
) -> AppResult<()> {
    if wave.is_empty() {
        return Ok(());
    }
    let mut write = Write::begin(db).await?;
    let keys: Vec<&Key> = wave.iter().filter_map(|(_, row)| row.key.as_ref()).collect();
    let current = matched(write.conn(), &keys).await?;
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    for (index, row) in wave {
        let found = row.key.as_ref().and_then(|key| {
            current.iter().filter(|p| key.names(p)).min_by_key(|p| key.identity_id(p)).map(|p| (key, p))
        });
        match (found, mode) {
            (Some((key, _)), Mode::CreateOnly) => {
                outcomes[index] = Some(Outcome::one(&key.path(), UserErrorCode::Taken, "a profile has this key"));
            }
            (Some((key, planned)), _) if planned.model.profile_type == ProfileType::Deleted => {
                let message = "the profile with this key is deleted; restore it first";
                outcomes[index] = Some(Outcome::one(&key.path(), UserErrorCode::NotFound, message));
            }
            (Some((_, planned)), _) => updates.push((index, row, planned)),
            (None, Mode::UpdateOnly) => {
                let path = row.key.as_ref().map_or_else(|| Path::root("input"), Key::path);
                outcomes[index] = Some(Outcome::one(&path, UserErrorCode::NotFound, "no profile has this key"));
            }
            (None, _) => creates.push((index, row)),
        }
    }
    create_all(&mut write, creates, outcomes).await?;
    let mut changing = Vec::new();
    for (index, row, planned) in updates {
        match changes(&write, row, planned).await? {
            RowChange::Unchanged => {
                let profile = Some(planned.model.clone());
                outcomes[index] = Some(Outcome { status: Status::Unchanged, profile, errors: Vec::new() });
            }
            RowChange::Update(update) => changing.push((index, update)),
        }
    }
    // The profiles' created events still waiting for their context, all at once rather
    // than one profile at a time as each update's version bump would.
    if !changing.is_empty() {
        let ids = changing.iter().map(|(_, update)| update.current.model.id);
        write.settle(profile::Column::Id.is_in(ids)).await?;
    }
    for (index, update) in changing {
        outcomes[index] = Some(update_one(&mut write, update).await?);
    }
    write.commit().await?;
    Ok(())
}

/// The profiles (deleted ones too) any of `keys` names, with everything they own, in
/// one statement.
async fn matched(db: &DatabaseTransaction, keys: &[&Key]) -> Result<Vec<Planned>, DbErr> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = Vec::new();
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    let mut externals = Vec::new();
    let mut identities = Condition::any();
    for key in keys {
        match key {
            Key::Id(id) => ids.push(*id),
            Key::Email(email) => emails.push(email.trim().to_lowercase()),
            Key::MobilePhone(phone) => phones.push(phone.clone()),
            Key::ExternalId(id) => externals.push(id.trim().to_owned()),
            Key::Identity { handle, identifier } => {
                identities = identities.add(
                    Condition::all()
                        .add(identity::Column::Handle.eq(handle.trim()))
                        .add(identity::Column::Identifier.eq(identifier.trim())),
                );
            }
        }
    }
    let owners = |filter: Condition| {
        profile::Column::Id.in_subquery(
            Query::select().column(identity::Column::ProfileId).from(identity::Entity).cond_where(filter).to_owned(),
        )
    };
    let mut any = Condition::any();
    if !ids.is_empty() {
        any = any.add(profile::Column::Id.is_in(ids));
    }
    if !emails.is_empty() {
        let lower = sea_orm::sea_query::Func::lower(Expr::col((profile::Entity, profile::Column::Email)));
        any = any.add(Expr::expr(lower).is_in(emails));
    }
    if !phones.is_empty() {
        any = any.add(profile::Column::MobilePhone.is_in(phones));
    }
    if !externals.is_empty() {
        any = any.add(owners(
            Condition::all()
                .add(identity::Column::IsPrimary.eq(true))
                .add(identity::Column::Identifier.is_in(externals)),
        ));
    }
    if !identities.is_empty() {
        any = any.add(owners(identities));
    }
    read::rows(db, profile::Entity::find().filter(any), &Selection::everything()).await
}

/// The stamps a row gives, over those a new record was given.
fn stamp<A: ActiveModelTrait>(
    row: &mut A,
    stamp: Stamp,
    created: <A::Entity as EntityTrait>::Column,
    updated: <A::Entity as EntityTrait>::Column,
) {
    if let Some(at) = stamp.created_at {
        row.set(created, at.into());
    }
    if let Some(at) = stamp.updated_at {
        row.set(updated, at.into());
    }
}

/// A new profile with what it owns, from a validated row, stamped as the row says.
fn new_profile(
    new: crate::service::profiles::create::NewProfileChanges,
    id: Uuid,
    stamps: &Stamps,
    now: DateTime<Utc>,
) -> NewProfile {
    let mut new = new.into_new(id, now);
    new.profile.created_at = stamps.profile.created_at.unwrap_or(new.profile.created_at);
    new.profile.updated_at = stamps.profile.updated_at.unwrap_or(new.profile.updated_at);
    for (row, s) in new.addresses.iter_mut().zip(&stamps.addresses) {
        stamp(row, *s, address::Column::CreatedAt, address::Column::UpdatedAt);
    }
    for (row, s) in new.dates.iter_mut().zip(&stamps.dates) {
        stamp(row, *s, profile_date::Column::CreatedAt, profile_date::Column::UpdatedAt);
    }
    for (row, s) in new.identities.iter_mut().zip(&stamps.identities) {
        stamp(row, *s, identity::Column::CreatedAt, identity::Column::UpdatedAt);
    }
    stamp(&mut new.comms, stamps.comms, comms::Column::CreatedAt, comms::Column::UpdatedAt);
    stamp(&mut new.appearance, stamps.appearance, appearance::Column::CreatedAt, appearance::Column::UpdatedAt);
    new
}

/// Creates the tags rows give as objects that do not exist yet, with their names and
/// stamps (those given as handles are made when attached, named as given).
async fn create_tags(db: &impl ConnectionTrait, tags: &[&TagGiven], now: DateTime<Utc>) -> Result<(), DbErr> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut seen = BTreeSet::new();
    let rows: Vec<tag::ActiveModel> = tags
        .iter()
        .filter(|t| seen.insert(normalize_handle(&t.handle)))
        .map(|t| tag::ActiveModel {
            handle: Set(normalize_handle(&t.handle)),
            name: Set(t.name.trim().to_owned()),
            created_at: Set(t.stamp.created_at.unwrap_or(now)),
            updated_at: Set(t.stamp.updated_at.unwrap_or(now)),
            ..Default::default()
        })
        .collect();
    tag::Entity::insert_many(rows)
        .on_conflict(OnConflict::column(tag::Column::Handle).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A failed write as a row's outcome; a failure that is not the row's fault stops the
/// import.
fn failed(err: DbErr) -> AppResult<Outcome> {
    match taken(err, &lifecycle::unique_fields(&Path::root("input"))) {
        WriteError::User(errors) => Ok(Outcome::failed(errors)),
        WriteError::App(err) => Err(err),
    }
}

/// Reference data a wave's rows name, found in one statement per kind.
struct Known {
    statuses: BTreeSet<String>,
    tiers: BTreeSet<String>,
}

impl Known {
    async fn of<'a>(
        db: &impl ConnectionTrait,
        rows: impl Iterator<Item = &'a ProfileCreate> + Clone,
    ) -> Result<Known, DbErr> {
        let statuses = rows.clone().flat_map(|d| d.new.statuses.iter().map(String::as_str));
        let tiers = rows.filter_map(|d| match &d.new.profile.tier_handle {
            Patch::Set(Some(handle)) => Some(handle.as_str()),
            _ => None,
        });
        Ok(Known {
            statuses: checks::known::<status::Entity>(db, status::Column::Handle, statuses).await?,
            tiers: checks::known::<tier::Entity>(db, tier::Column::Handle, tiers).await?,
        })
    }

    /// NOT_FOUND for each status and tier of `draft` that does not exist.
    fn check(&self, draft: &ProfileCreate, problems: &mut Problems) {
        let input = Path::root("input");
        if let Patch::Set(Some(handle)) = &draft.new.profile.tier_handle {
            checks::unknown_tier(&self.tiers, handle, &input.key("tierHandle"), problems);
        }
        let statuses: Vec<(Path, String)> =
            draft.new.statuses.iter().enumerate().map(|(i, h)| (input.key("statuses").index(i), h.clone())).collect();
        checks::unknown_statuses(&self.statuses, &statuses, problems);
    }
}

/// What a new profile holds of the key it was looked for by, when its row does not
/// give it: the email or mobile phone (checked as the mutations check them), the
/// identity; and an `external_id` becomes its primary identity in the system
/// [`EXTERNAL`].
fn holds_key(
    draft: &mut ProfileCreate,
    key: Option<&Key>,
    external_id: Option<String>,
    given: Given,
    problems: &mut Problems,
) {
    let p = &mut draft.new.profile;
    let identity = |handle: &str, identifier: &str, is_primary: bool| crate::service::draft::IdentityChanges {
        handle: Patch::Set(handle.to_owned()),
        identifier: Patch::Set(identifier.trim().to_owned()),
        is_primary: Patch::Set(is_primary),
        is_active: Patch::Set(true),
    };
    match key {
        Some(Key::Email(email)) if p.email == Patch::Keep => {
            p.email = Patch::Set(validate::email(problems, &Path::root("key").key("email"), Some(email)));
        }
        Some(Key::MobilePhone(phone)) if p.mobile_phone == Patch::Keep => {
            p.mobile_phone = Patch::Set(Some(phone.clone()))
        }
        Some(Key::Identity { handle, identifier }) if !given.identities => {
            let at = Path::root("key").key("identity");
            let handle = validate::text(problems, &at.key("handle"), Some(handle), validate::MAX_NAME);
            let identifier = validate::text(problems, &at.key("identifier"), Some(identifier), validate::MAX_TEXT);
            if let (Some(handle), Some(identifier)) = (handle, identifier) {
                draft.new.identities.push(identity(&handle, &identifier, false));
            }
        }
        _ => {}
    }
    if let Some(identifier) = external_id.filter(|_| !given.identities) {
        draft.new.identities.push(identity(EXTERNAL, &identifier, true));
    }
}

/// Creates the wave's new profiles: all in one statement per table when it can, else
/// one at a time so that a failing one fails alone.
async fn create_all(
    write: &mut Write,
    rows: Vec<(usize, ImportRow)>,
    outcomes: &mut [Option<Outcome>],
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let known = Known::of(write.conn(), rows.iter().map(|(_, row)| &row.draft)).await?;
    let mut ready: Vec<(usize, NewProfile)> = Vec::with_capacity(rows.len());
    let mut tags: Vec<TagGiven> = Vec::new();
    for (index, row) in rows {
        let ImportRow { id, mut draft, stamps, tags: given_tags, given, external_id, key } = row;
        let mut problems = std::mem::take(&mut draft.problems);
        holds_key(&mut draft, key.as_ref(), external_id, given, &mut problems);
        known.check(&draft, &mut problems);
        let [preferred, joined] = lifecycle::locations(
            write.conn(),
            &draft.preferred_location,
            &draft.joined_location,
            &Path::root("input"),
            &mut problems,
        )
        .await?;
        if !problems.is_empty() {
            outcomes[index] = Some(Outcome::failed(problems.into_errors()));
            continue;
        }
        let mut new = new_profile(draft.new, id.unwrap_or_else(Uuid::new_v4), &stamps, write.now());
        new.profile.preferred_location_id = preferred.or(new.profile.preferred_location_id);
        new.profile.joined_location_id = joined.or(new.profile.joined_location_id);
        tags.extend(given_tags);
        ready.push((index, new));
    }
    create_tags(write.conn(), &tags.iter().collect::<Vec<_>>(), write.now()).await?;
    let savepoint = write.conn().begin().await?;
    let all: Vec<NewProfile> = ready.iter().map(|(_, new)| new.clone()).collect();
    match insert_rows(&savepoint, all, write.now()).await {
        Ok(()) => {
            savepoint.commit().await?;
            for (index, new) in ready {
                write.record(new.profile.id, ChangeKind::Created, new.profile.version);
                outcomes[index] =
                    Some(Outcome { status: Status::Created, profile: Some(new.profile), errors: Vec::new() });
            }
        }
        Err(err) if err.sql_err().is_some() => {
            savepoint.rollback().await?;
            for (index, new) in ready {
                outcomes[index] = Some(create_one(write, new).await?);
            }
        }
        Err(err) => return Err(err.into()),
    }
    Ok(())
}

/// Creates one profile in a savepoint, after checking its unique values.
async fn create_one(write: &mut Write, new: NewProfile) -> AppResult<Outcome> {
    let mut problems = Problems::default();
    let db = write.conn();
    lifecycle::new_values_free(db, &new, &Path::root("input"), &mut problems).await?;
    if !problems.is_empty() {
        return Ok(Outcome::failed(problems.into_errors()));
    }
    let savepoint = db.begin().await?;
    let profile = new.profile.clone();
    match insert_rows(&savepoint, vec![new], write.now()).await {
        Ok(()) => {
            savepoint.commit().await?;
            write.record(profile.id, ChangeKind::Created, profile.version);
            Ok(Outcome { status: Status::Created, profile: Some(profile), errors: Vec::new() })
        }
        Err(err) => {
            savepoint.rollback().await?;
            failed(err)
        }
    }
}

/// Whether a column is the record's own bookkeeping rather than its data.
fn bookkeeping(column: &str) -> bool {
    matches!(column, "id" | "profile_id" | "created_at" | "updated_at" | "version")
}

/// `changes` with only the columns whose value differs from `current`'s.
fn differing<A: ActiveModelTrait>(mut changes: A, current: &<A::Entity as EntityTrait>::Model) -> A {
    for column in <<A::Entity as EntityTrait>::Column as Iterable>::iter() {
        if let Set(value) = changes.get(column)
            && (bookkeeping(column.as_str()) || current.get(column) == value)
        {
            changes.not_set(column);
        }
    }
    changes
}

/// Whether `new` rows (columns not set take their defaults) hold what `current` rows
/// hold, in order, bookkeeping aside.
fn same_rows<A>(new: &[A], current: &[<A::Entity as EntityTrait>::Model]) -> bool
where
    A: ActiveModelTrait,
    <A::Entity as EntityTrait>::Model: Default,
{
    let blank = <A::Entity as EntityTrait>::Model::default();
    new.len() == current.len()
        && new.iter().zip(current).all(|(new, current)| {
            <<A::Entity as EntityTrait>::Column as Iterable>::iter().all(|column| {
                let value = match new.get(column) {
                    Set(value) | Unchanged(value) => value,
                    NotSet => blank.get(column),
                };
                bookkeeping(column.as_str()) || current.get(column) == value
            })
        })
}

/// What an update changes of a matched profile: the row's values that differ from it.
struct Update<'a> {
    current: &'a Planned,
    new: NewProfile,
    columns: profile::ActiveModel,
    statuses: Vec<String>,
    given_tags: Vec<TagGiven>,
    addresses: bool,
    dates: bool,
    identities: bool,
    tags: bool,
    statuses_changed: bool,
    comms: comms::ActiveModel,
    appearance: appearance::ActiveModel,
    problems: Problems,
}

/// What a row does to the profile it matched.
enum RowChange<'a> {
    /// Nothing: the row is `UNCHANGED`.
    Unchanged,
    Update(Box<Update<'a>>),
}

/// What the row changes of the matched profile `current`. Reads, never writes.
async fn changes<'a>(write: &Write, row: ImportRow, current: &'a Planned) -> AppResult<RowChange<'a>> {
    let ImportRow { draft, given, stamps, tags: given_tags, .. } = row;
    let ProfileCreate { new, preferred_location, joined_location, mut problems } = draft;
    let id = current.model.id;
    let r = &current.relations;
    let input = Path::root("input");
    let db = write.conn();

    let mut columns = differing(new.profile.clone().columns(), &current.model);
    let [preferred, joined] =
        lifecycle::locations(db, &preferred_location, &joined_location, &input, &mut problems).await?;
    if preferred_location.is_some() && preferred != current.model.preferred_location_id {
        columns.preferred_location_id = Set(preferred);
    }
    if joined_location.is_some() && joined != current.model.joined_location_id {
        columns.joined_location_id = Set(joined);
    }
    let statuses = new.statuses.clone();
    let new = new_profile(new, id, &stamps, write.now());
    let handles = |list: &[String]| list.iter().map(|h| normalize_handle(h)).collect::<BTreeSet<_>>();
    let addresses = given.addresses && !same_rows(&new.addresses, r.addresses.as_deref().unwrap_or_default());
    let dates = given.dates && !same_rows(&new.dates, r.dates.as_deref().unwrap_or_default());
    let identities = given.identities && !same_rows(&new.identities, r.identities.as_deref().unwrap_or_default());
    let current_tags: BTreeSet<String> = r.tags.iter().flatten().map(|t| t.handle.clone()).collect();
    let tags = given.tags && handles(&new.tags) != current_tags;
    let current_statuses: BTreeSet<String> = r.statuses.iter().flatten().map(|s| s.handle.clone()).collect();
    let statuses_changed = given.statuses && statuses.iter().cloned().collect::<BTreeSet<_>>() != current_statuses;
    let comms = match r.comms.as_ref().and_then(Option::as_ref) {
        Some(current) => differing(new.comms.clone(), current),
        None => new.comms.clone(),
    };
    let appearance = match r.appearance.as_ref().and_then(Option::as_ref) {
        Some(current) => differing(new.appearance.clone(), current),
        None => new.appearance.clone(),
    };
    let changed = columns.is_changed()
        || addresses
        || dates
        || identities
        || tags
        || statuses_changed
        || comms.is_changed()
        || appearance.is_changed();
    if !changed && problems.is_empty() {
        return Ok(RowChange::Unchanged);
    }
    Ok(RowChange::Update(Box::new(Update {
        current,
        new,
        columns,
        statuses,
        given_tags,
        addresses,
        dates,
        identities,
        tags,
        statuses_changed,
        comms,
        appearance,
        problems,
    })))
}

/// Makes `update` in a savepoint, after the checks `updateProfile` makes on what
/// changes. The profile's deferred events must be settled already: [`run_wave`]
/// settles the wave's at once.
async fn update_one(write: &mut Write, update: Box<Update<'_>>) -> AppResult<Outcome> {
    let mut u = *update;
    let id = u.current.model.id;
    let input = Path::root("input");
    let db = write.conn();

    // The checks `updateProfile` makes, on what changes.
    let now = write.now();
    let today = now.date_naive();
    lifecycle::changed_columns_valid(db, &u.columns, &u.current.model, today, &input, &mut u.problems).await?;
    if u.statuses_changed {
        let paths: Vec<(Path, String)> =
            u.statuses.iter().enumerate().map(|(i, h)| (input.key("statuses").index(i), h.clone())).collect();
        checks::statuses(db, &paths, &mut u.problems).await?;
    }
    if u.identities {
        for (i, identity) in u.new.identities.iter().enumerate() {
            if let (Set(handle), Set(identifier)) = (&identity.handle, &identity.identifier) {
                let path = input.key("identities").index(i).key("identifier");
                // Its own identities are replaced: only another profile's is taken.
                let other = identity::Entity::find()
                    .filter(identity::Column::Handle.eq(handle.as_str()))
                    .filter(identity::Column::Identifier.eq(identifier.as_str()))
                    .filter(identity::Column::ProfileId.ne(id))
                    .one(db)
                    .await?;
                if other.is_some() {
                    let message = format!("another identity is `{handle}` `{identifier}`");
                    u.problems.add(&path, UserErrorCode::Taken, message);
                }
            }
        }
    }
    if !u.problems.is_empty() {
        return Ok(Outcome::failed(u.problems.into_errors()));
    }
    if u.tags {
        let objects: Vec<&TagGiven> = u.given_tags.iter().collect();
        create_tags(db, &objects, now).await?;
    }

    let savepoint = db.begin().await?;
    let written = async {
        let mut bumped = Write::bump(&savepoint, id, None, now)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("profile {id} was deleted during the import")))?;
        if u.columns.is_changed() {
            u.columns.id = Unchanged(id);
            bumped = u.columns.update(&savepoint).await?;
        }
        if u.addresses {
            replace(&savepoint, address::Column::ProfileId, id, u.new.addresses).await?;
        }
        if u.dates {
            replace(&savepoint, profile_date::Column::ProfileId, id, u.new.dates).await?;
        }
        if u.identities {
            replace(&savepoint, identity::Column::ProfileId, id, u.new.identities).await?;
        }
        if u.tags {
            profile_tag::Entity::delete_many().filter(profile_tag::Column::ProfileId.eq(id)).exec(&savepoint).await?;
            let wanted: Vec<(Uuid, String)> = u.new.tags.iter().map(|h| (id, h.clone())).collect();
            attach_tags(&savepoint, &wanted, now).await?;
        }
        if u.statuses_changed {
            profile_status::Entity::delete_many()
                .filter(profile_status::Column::ProfileId.eq(id))
                .exec(&savepoint)
                .await?;
            let wanted: Vec<(Uuid, String)> = u.statuses.iter().map(|h| (id, h.clone())).collect();
            attach_statuses(&savepoint, &wanted, now).await?;
        }
        if u.comms.is_changed() {
            comms::ActiveModel { profile_id: Unchanged(id), updated_at: Set(now), ..u.comms }
                .update(&savepoint)
                .await?;
        }
        if u.appearance.is_changed() {
            appearance::ActiveModel { profile_id: Unchanged(id), updated_at: Set(now), ..u.appearance }
                .update(&savepoint)
                .await?;
        }
        Ok::<_, DbErr>(bumped)
    }
    .await;
    match written {
        Ok(profile) => {
            savepoint.commit().await?;
            write.record(id, ChangeKind::Updated, profile.version);
            Ok(Outcome { status: Status::Updated, profile: Some(profile), errors: Vec::new() })
        }
        Err(err) => {
            savepoint.rollback().await?;
            failed(err)
        }
    }
}

/// Replaces the records of profile `id` in `E` by `rows`.
async fn replace<A>(
    db: &DatabaseTransaction,
    owner: <A::Entity as EntityTrait>::Column,
    id: Uuid,
    rows: Vec<A>,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
{
    A::Entity::delete_many().filter(owner.eq(id)).exec(db).await?;
    let rows: Vec<A> = rows
        .into_iter()
        .map(|mut row| {
            row.set(owner, id.into());
            row
        })
        .collect();
    if !rows.is_empty() {
        A::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_name_one_profile_claim_the_same_string() {
        assert_eq!(Key::Email(" A@B.example".into()).claim(), Key::Email("a@b.example".into()).claim());
        assert_ne!(Key::Email("a@b.example".into()).claim(), Key::ExternalId("a@b.example".into()).claim());
    }

    #[test]
    fn only_columns_that_differ_stay_set() {
        let current = profile::Model { first_name: Some("Ann".into()), ..Default::default() };
        let changes = profile::ActiveModel {
            first_name: Set(Some("Ann".into())),
            last_name: Set(Some("Lee".into())),
            ..Default::default()
        };
        let left = differing(changes, &current);
        assert_eq!(left.first_name, NotSet);
        assert_eq!(left.last_name, Set(Some("Lee".into())));
    }
}
