//! What an import works on: a row read and validated ([`ImportRow`]), how rows are
//! matched ([`ImportKey`]) and what is done with them ([`Mode`]), and what became of
//! each ([`Outcome`]). The command line's value enums are these; the GraphQL enums
//! mirror them.

use chrono::{DateTime, Utc};
use entity::profile;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::validate::{self, Path, Problems, UserError, UserErrorCode};
use crate::service::profiles::keys::ProfileKey as Key;
use crate::service::profiles::lifecycle::ProfileCreate;

pub(crate) use crate::service::profiles::input::Given;
use crate::service::profiles::input::field::instant;

/// What an import may do to the profiles its rows match, and to those they do not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Update a matched profile, create the rest.
    #[default]
    Upsert,
    /// Create; a row that matches a profile fails.
    CreateOnly,
    /// Update; a row that matches none fails.
    UpdateOnly,
}

/// A value a row is matched to an existing profile by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ImportKey {
    /// The profile's `id`.
    Id,
    /// The `email`, compared case-insensitively.
    Email,
    /// The `mobile_phone`, compared in E.164.
    MobilePhone,
    /// The `external_id`: the identifier of the primary identity.
    ExternalId,
}

/// The keys rows are matched by unless told otherwise, in the order they are tried.
pub const DEFAULT_KEYS: [ImportKey; 4] =
    [ImportKey::Id, ImportKey::Email, ImportKey::MobilePhone, ImportKey::ExternalId];

/// When a record was made and last changed, as a row gives them: a new record keeps
/// them, so that an exported file imports into an empty database as it was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Stamp {
    /// The stamps of a record given as an object; one that is no time in the years 1
    /// to 9999 is a problem at its path under `record`, never dropped silently.
    pub(crate) fn of_object(object: &Map<String, Value>, problems: &mut Problems, record: &Path) -> Stamp {
        let mut at = |key: &str, field: &str| {
            let given = object.get(key).filter(|value| !value.is_null())?;
            let time = given.as_str().and_then(instant);
            match time {
                Some(time) => validate::instant(problems, &record.key(field), Some(&time)),
                None => problems.add(&record.key(field), UserErrorCode::Invalid, "is not a valid DateTime"),
            }
            time
        };
        Stamp { created_at: at("created_at", "createdAt"), updated_at: at("updated_at", "updatedAt") }
    }
}

/// The stamps a row gives, for the profile and for each record it owns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stamps {
    pub profile: Stamp,
    pub addresses: Vec<Stamp>,
    pub dates: Vec<Stamp>,
    pub identities: Vec<Stamp>,
    pub comms: Stamp,
    pub appearance: Stamp,
}

/// A tag a row gives as an object: an unknown tag is created with its name and stamps.
#[derive(Clone, Debug)]
pub(crate) struct TagGiven {
    pub handle: String,
    pub name: String,
    /// Whether the row gave the name (else it is the handle): only a given name is
    /// compared with an existing tag's.
    pub named: bool,
    pub stamp: Stamp,
}

/// A tier or a status a row embeds whole (`{handle, name, rank}`): created when no
/// record has its handle, compared with the one that has it otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RankedGiven {
    pub handle: String,
    pub name: String,
    pub rank: i32,
    pub stamp: Stamp,
}

/// A location a row names: embedded (`joined_location: {name, external_id,
/// external_code}`), or by a bare name (a CSV's `joined_location_name`). Found by its
/// `external_id`, else by a `name` exactly one location has.
#[derive(Clone, Debug)]
pub(crate) struct LocationGiven {
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub external_code: Option<String>,
    /// The row embeds the whole record: a missing one is created.
    pub whole: bool,
    pub stamp: Stamp,
    /// Where the row gives each key, for its problems.
    pub external_id_path: Path,
    pub name_path: Path,
}

/// The reference records a row names by natural key, beyond the handles its draft
/// holds already (`tier_handle`, `statuses`, `joined_location_external_id`).
#[derive(Clone, Debug, Default)]
pub(crate) struct References {
    /// The embedded `tier`, when whole.
    pub tier: Option<RankedGiven>,
    /// The statuses embedded whole.
    pub statuses: Vec<RankedGiven>,
    /// The preferred location and the joined one, when named by an object or a name.
    pub preferred_location: Option<LocationGiven>,
    pub joined_location: Option<LocationGiven>,
}

/// One row, validated as a new profile.
pub(crate) struct ImportRow {
    /// What the row is matched by; none creates.
    pub key: Option<Key>,
    /// The id a new profile gets (a new one when none).
    pub id: Option<Uuid>,
    /// The row as `createProfile` input: columns it does not give are `Keep`.
    pub draft: ProfileCreate,
    pub given: Given,
    pub stamps: Stamps,
    pub tags: Vec<TagGiven>,
    /// The reference records it names by natural key.
    pub references: References,
    /// The row's `external_id`: a new profile whose row gives no identities gets it as
    /// its primary identity, in the system [`EXTERNAL`] (so that a CSV keeps it).
    pub external_id: Option<String>,
}

/// The system of the primary identity made from a row's bare `external_id`.
pub(crate) const EXTERNAL: &str = "external";

/// What became of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Created,
    Updated,
    Unchanged,
    Failed,
}

/// A row's outcome: the profile after it, or why it failed.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub status: Status,
    pub profile: Option<profile::Model>,
    pub errors: Vec<UserError>,
}

impl Outcome {
    pub(super) fn failed(errors: Vec<UserError>) -> Outcome {
        Outcome { status: Status::Failed, profile: None, errors }
    }

    pub(super) fn one(path: &Path, code: UserErrorCode, message: &str) -> Outcome {
        let mut problems = Problems::default();
        problems.add(path, code, message);
        Outcome::failed(problems.into_errors())
    }
}
