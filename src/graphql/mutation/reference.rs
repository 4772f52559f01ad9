//! Create, update and delete for tags, statuses, tiers and locations.
//!
//! Deleting one that profiles use: tags and statuses are detached from them (those
//! profiles count as changed); tiers and locations are refused with IN_USE.

use crate::graphql::errors::Result;
use crate::graphql::guard::Scoped;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, MergedObject, Object};
use entity::{location, status, tag, tier};

use super::input::{given, int_id, required, required_text, text};
use super::{db, payload, respond};
use crate::domain::validate::{self, MAX_NAME, Path, Problems};
use crate::service::draft::{LocationChanges, Patch, StatusChanges, TagChanges, TierChanges};
use crate::service::reference;

/// A handle column: normalised like tag handles; `null` is REQUIRED.
fn handle(problems: &mut Problems, path: &Path, value: &MaybeUndefined<String>) -> Patch<String> {
    match required(problems, path, value) {
        Patch::Set(raw) => Patch::Set(validate::handle(problems, path, &raw)),
        other => other,
    }
}

/// A `rank`: `null` is REQUIRED.
fn rank(problems: &mut Problems, path: &Path, value: &MaybeUndefined<i32>) -> Patch<i32> {
    required(problems, path, value)
}

/// A new tag.
#[derive(InputObject)]
pub(crate) struct TagInput {
    /// Unique handle, normalised (trimmed, lower-case, inner whitespace → `-`); at most
    /// 100 characters of letters, digits and `-_.:`.
    pub handle: String,
    /// Display name (at most 100 characters); the handle as given by default.
    pub name: Option<String>,
}

/// Changes to a tag: an omitted field is left as it is; neither can be null.
#[derive(InputObject, Default)]
pub(crate) struct TagUpdateInput {
    /// Unique handle, normalised as on create. Profiles holding the tag count as changed.
    pub handle: MaybeUndefined<String>,
    /// Display name (at most 100 characters).
    pub name: MaybeUndefined<String>,
}

/// A new status.
#[derive(InputObject)]
pub(crate) struct StatusInput {
    /// Unique handle, normalised as tag handles are.
    pub handle: String,
    /// Display name (at most 100 characters).
    pub name: String,
    /// Position among statuses, for display; 0 by default.
    pub rank: Option<i32>,
}

/// Changes to a status: an omitted field is left as it is; none can be null.
#[derive(InputObject, Default)]
pub(crate) struct StatusUpdateInput {
    /// Unique handle, normalised as tag handles are. Profiles holding it count as changed.
    pub handle: MaybeUndefined<String>,
    /// Display name (at most 100 characters).
    pub name: MaybeUndefined<String>,
    /// Position among statuses.
    pub rank: MaybeUndefined<i32>,
}

/// A new loyalty tier.
#[derive(InputObject)]
pub(crate) struct TierInput {
    /// Unique handle, normalised as tag handles are.
    pub handle: String,
    /// Display name (at most 100 characters).
    pub name: String,
    /// Position among tiers, higher is better; 0 by default.
    pub rank: Option<i32>,
}

/// Changes to a tier: an omitted field is left as it is; none can be null.
#[derive(InputObject, Default)]
pub(crate) struct TierUpdateInput {
    /// Unique handle, normalised as tag handles are. Profiles in the tier follow it
    /// (their `tierHandle` changes, and they count as changed).
    pub handle: MaybeUndefined<String>,
    /// Display name (at most 100 characters).
    pub name: MaybeUndefined<String>,
    /// Position among tiers.
    pub rank: MaybeUndefined<i32>,
}

/// A new location.
#[derive(InputObject)]
pub(crate) struct LocationInput {
    /// Display name (required, at most 100 characters).
    pub name: String,
    /// Reference in the retailer's primary system: unique, at most 100 characters.
    pub external_id: Option<String>,
    /// Short code in other systems (at most 100 characters).
    pub external_code: Option<String>,
}

/// Changes to a location: an omitted field is left as it is, `null` clears it (not
/// allowed for `name`).
#[derive(InputObject, Default)]
pub(crate) struct LocationUpdateInput {
    /// Display name (at most 100 characters).
    pub name: MaybeUndefined<String>,
    /// Reference in the retailer's primary system: unique, at most 100 characters.
    pub external_id: MaybeUndefined<String>,
    /// Short code in other systems (at most 100 characters).
    pub external_code: MaybeUndefined<String>,
}

/// An input of a reference record, create or update, turned into column changes.
pub(crate) trait Columns {
    type Row;
    fn columns(&self, problems: &mut Problems, path: &Path) -> Self::Row;
}

impl Columns for TagUpdateInput {
    type Row = TagChanges;
    fn columns(&self, problems: &mut Problems, path: &Path) -> TagChanges {
        TagChanges {
            handle: handle(problems, &path.key("handle"), &self.handle),
            name: required_text(problems, &path.key("name"), &self.name, MAX_NAME),
        }
    }
}

impl Columns for TagInput {
    type Row = TagChanges;
    fn columns(&self, problems: &mut Problems, path: &Path) -> TagChanges {
        let name = self.name.clone().unwrap_or_else(|| self.handle.trim().to_owned());
        TagUpdateInput { handle: MaybeUndefined::Value(self.handle.clone()), name: MaybeUndefined::Value(name) }
            .columns(problems, path)
    }
}

impl Columns for StatusUpdateInput {
    type Row = StatusChanges;
    fn columns(&self, problems: &mut Problems, path: &Path) -> StatusChanges {
        StatusChanges {
            handle: handle(problems, &path.key("handle"), &self.handle),
            name: required_text(problems, &path.key("name"), &self.name, MAX_NAME),
            rank: rank(problems, &path.key("rank"), &self.rank),
        }
    }
}

impl Columns for StatusInput {
    type Row = StatusChanges;
    fn columns(&self, problems: &mut Problems, path: &Path) -> StatusChanges {
        StatusUpdateInput {
            handle: MaybeUndefined::Value(self.handle.clone()),
            name: MaybeUndefined::Value(self.name.clone()),
            rank: MaybeUndefined::Value(self.rank.unwrap_or(0)),
        }
        .columns(problems, path)
    }
}

impl Columns for TierUpdateInput {
    type Row = TierChanges;
    fn columns(&self, problems: &mut Problems, path: &Path) -> TierChanges {
        TierChanges {
            handle: handle(problems, &path.key("handle"), &self.handle),
            name: required_text(problems, &path.key("name"), &self.name, MAX_NAME),
            rank: rank(problems, &path.key("rank"), &self.rank),
        }
    }
}

impl Columns for TierInput {
    type Row = TierChanges;
    fn columns(&self, problems: &mut Problems, path: &Path) -> TierChanges {
        TierUpdateInput {
            handle: MaybeUndefined::Value(self.handle.clone()),
            name: MaybeUndefined::Value(self.name.clone()),
            rank: MaybeUndefined::Value(self.rank.unwrap_or(0)),
        }
        .columns(problems, path)
    }
}

impl Columns for LocationUpdateInput {
    type Row = LocationChanges;
    fn columns(&self, problems: &mut Problems, path: &Path) -> LocationChanges {
        LocationChanges {
            name: required_text(problems, &path.key("name"), &self.name, MAX_NAME),
            external_id: text(problems, &path.key("externalId"), &self.external_id, MAX_NAME),
            external_code: text(problems, &path.key("externalCode"), &self.external_code, MAX_NAME),
        }
    }
}

impl Columns for LocationInput {
    type Row = LocationChanges;
    fn columns(&self, problems: &mut Problems, path: &Path) -> LocationChanges {
        let input = LocationUpdateInput {
            name: MaybeUndefined::Value(self.name.clone()),
            external_id: given(self.external_id.clone()),
            external_code: given(self.external_code.clone()),
        };
        input.columns(problems, path)
    }
}

/// The checked columns of `input`, and the problems found.
fn draft<I: Columns>(input: &I) -> (I::Row, Problems) {
    let mut problems = Problems::default();
    let columns = input.columns(&mut problems, &Path::root("input"));
    (columns, problems)
}

/// Declares the mutation object of one kind of reference record.
macro_rules! reference_mutations {
    (
        $object:ident, $entity:ty, $noun:literal, $field:ident,
        $create:ident: $create_input:ty, $update:ident: $update_input:ty, $delete:ident,
        $payload:ident, $delete_payload:ident, on_delete: $on_delete:literal,
        // Literal: the `SimpleObject` derive sees a `concat!` in `#[doc]` unexpanded.
        docs: $payload_doc:literal, $record_doc:literal, $delete_payload_doc:literal, $deleted_doc:literal $(,)?
    ) => {
        payload!($payload, $payload_doc, $field: <$entity as sea_orm::EntityTrait>::Model => $record_doc);
        payload!($delete_payload, $delete_payload_doc, deleted_id: ID => $deleted_doc);

        #[derive(Default)]
        pub(crate) struct $object;

        #[doc = concat!("Mutations of ", $noun, "s.")]
        #[Object(guard = "Scoped::MUTATION")]
        impl $object {
            #[doc = concat!("Creates a ", $noun, ". A handle or external id in use is TAKEN.")]
            #[graphql(requires_scopes = "admin")]
            async fn $create(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The new record.")] input: $create_input,
            ) -> Result<$payload> {
                let (columns, problems) = draft(&input);
                respond(reference::create::<$entity>(db(ctx)?, columns, problems).await, |row| $payload {
                    $field: Some(row),
                    user_errors: Vec::new(),
                })
            }

            #[doc = concat!("Changes a ", $noun, ".")]
            #[graphql(requires_scopes = "admin")]
            async fn $update(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "The record's id.")] id: ID,
                #[graphql(desc = "The changes.")] input: $update_input,
            ) -> Result<$payload> {
                let id = int_id(&id, "id")?;
                let (columns, problems) = draft(&input);
                respond(reference::update::<$entity>(db(ctx)?, id, columns, problems).await, |row| $payload {
                    $field: Some(row),
                    user_errors: Vec::new(),
                })
            }

            #[doc = concat!("Deletes a ", $noun, ". ", $on_delete)]
            #[graphql(requires_scopes = "admin")]
            async fn $delete(&self, ctx: &Context<'_>, #[graphql(desc = "The record's id.")] id: ID) -> Result<$delete_payload> {
                let id = int_id(&id, "id")?;
                respond(reference::delete::<$entity>(db(ctx)?, id).await, |id| $delete_payload {
                    deleted_id: Some(id.into()),
                    user_errors: Vec::new(),
                })
            }
        }
    };
}

reference_mutations!(TagMutation, tag::Entity, "tag", tag,
    create_tag: TagInput, update_tag: TagUpdateInput, delete_tag, TagPayload, DeleteTagPayload,
    on_delete: "Profiles holding it lose it, and count as changed (`version` + 1).",
    docs: "The result of a tag mutation.", "The tag after the mutation.", "The result of deleting a tag.",
    "Id of the tag that was deleted.");
reference_mutations!(StatusMutation, status::Entity, "status", status,
    create_status: StatusInput, update_status: StatusUpdateInput, delete_status, StatusPayload, DeleteStatusPayload,
    on_delete: "Profiles holding it lose it, and count as changed (`version` + 1).",
    docs: "The result of a status mutation.", "The status after the mutation.", "The result of deleting a status.",
    "Id of the status that was deleted.");
reference_mutations!(TierMutation, tier::Entity, "tier", tier,
    create_tier: TierInput, update_tier: TierUpdateInput, delete_tier, TierPayload, DeleteTierPayload,
    on_delete: "Refused with IN_USE while any profile, deleted ones included, is in the tier.",
    docs: "The result of a tier mutation.", "The tier after the mutation.", "The result of deleting a tier.",
    "Id of the tier that was deleted.");
reference_mutations!(LocationMutation, location::Entity, "location", location,
    create_location: LocationInput, update_location: LocationUpdateInput, delete_location, LocationPayload,
    DeleteLocationPayload,
    on_delete: "Refused with IN_USE while any profile, deleted ones included, prefers it or joined there.",
    docs: "The result of a location mutation.", "The location after the mutation.", "The result of deleting a location.",
    "Id of the location that was deleted.");

/// Mutations of reference data.
#[derive(MergedObject, Default)]
pub(crate) struct ReferenceMutation(TagMutation, StatusMutation, TierMutation, LocationMutation);
