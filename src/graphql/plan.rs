//! Planning a read (one statement per root field): the columns and relations a
//! selection of `Profile` fields needs, for the service's one-statement read.
//!
//! The plan is made from the operation's syntax: fields, aliases, fragment spreads
//! and inline fragments, with `@skip`/`@include` on fields evaluated against the
//! variables. It may ask for more than runs (a directive on a fragment is not seen
//! here), never for less: a field it does not know plans every column. A test
//! checks every field of the schema's profile types against it.

use std::str::FromStr;

use async_graphql::{SelectionField, Value};
use entity::profile::Column as P;
use sea_orm::{EntityTrait, Iterable, PrimaryKeyToColumn};

use crate::service::profiles::read::{Columns, Selection};

/// The relations of a profile, as fields of `Profile` reach them.
#[derive(Clone, Copy, Debug)]
enum Relation {
    Addresses,
    Identities,
    Tags,
    Statuses,
    Tier,
    PreferredLocation,
    JoinedLocation,
}

/// What a field of `Profile` reads.
#[derive(Debug)]
enum Reads {
    /// Nothing stored but the id (`__typename`, `history`, `duplicates`).
    Nothing,
    /// The profile column it is named after.
    Stored(P),
    /// These profile columns.
    Columns(&'static [P]),
    /// A relation: the columns its subfields name, and these.
    Relation(Relation, &'static [&'static str]),
    /// `attributes`: comms, appearance and dates, by its subfields.
    Attributes,
}

/// What field `name` of `Profile` reads; `None` for a field this plan does not know.
fn reads(name: &str) -> Option<Reads> {
    use Reads::{Columns as C, Relation as R};
    use Relation::*;
    const BIRTH: &[P] = &[P::BirthYear, P::BirthMonth, P::BirthDay];
    Some(match name {
        // `history` reads the outbox, `duplicates` the candidates and `merges` the merge
        // records through their loaders, by the profile's id.
        "__typename" | "history" | "duplicates" | "merges" | "nodeId" => Reads::Nothing,
        "fullName" => C(&[P::FirstName, P::LastName]),
        "mobilePhoneCountry" | "mobilePhoneNational" | "mobilePhoneNationalPrefix" | "mobilePhoneE164" => {
            C(&[P::MobilePhone])
        }
        "birthDate" => C(BIRTH),
        "nextBirthday" | "birthDays" | "birthDaysPast" => C(&[P::BirthMonth, P::BirthDay]),
        "isCompleted" => {
            C(&[P::FirstName, P::LastName, P::Email, P::MobilePhone, P::BirthYear, P::BirthMonth, P::BirthDay])
        }
        "externalId" => R(Identities, &["is_primary", "identifier"]),
        "identities" => R(Identities, &[]),
        "tags" => R(Tags, &[]),
        "flattenedTags" => R(Tags, &["handle"]),
        "statuses" => R(Statuses, &[]),
        "flattenedStatuses" => R(Statuses, &["handle"]),
        "tier" => R(Tier, &[]),
        "preferredLocation" => R(PreferredLocation, &[]),
        "preferredLocationExternalId" => R(PreferredLocation, &["external_id"]),
        "joinedLocation" => R(JoinedLocation, &[]),
        "joinedLocationExternalId" => R(JoinedLocation, &["external_id"]),
        "address" => R(Addresses, &["is_default"]),
        "addresses" => R(Addresses, &[]),
        "attributes" => Reads::Attributes,
        // Stored fields are named after their columns.
        _ => return P::from_str(name).ok().map(Reads::Stored),
    })
}

/// Whether `field` runs: not under `@skip(if: true)` or `@include(if: false)`.
fn included(field: &SelectionField<'_>) -> bool {
    let Ok(directives) = field.directives() else { return true };
    !directives.iter().any(|directive| {
        let condition = directive.arguments.iter().find(|(name, _)| name.node == "if").map(|(_, value)| &value.node);
        matches!(
            (directive.name.node.as_str(), condition),
            ("skip", Some(Value::Boolean(true))) | ("include", Some(Value::Boolean(false)))
        )
    })
}

/// The fields that run among `field`'s subfields (fragments flattened).
fn subfields<'a>(field: &SelectionField<'a>) -> impl Iterator<Item = SelectionField<'a>> {
    field.selection_set().filter(included)
}

/// Adds to `columns` what `fields` of a relation's type read, and `extra`.
fn relation<'a, E>(columns: &mut Option<Columns<E>>, fields: impl Iterator<Item = SelectionField<'a>>, extra: &[&str])
where
    E: EntityTrait,
    E::Column: FromStr,
{
    let columns = columns.get_or_insert_with(Columns::default);
    for name in extra.iter().copied().chain(fields.map(|field| field.name())) {
        match E::Column::from_str(name) {
            Ok(column) => columns.add(column),
            Err(_) if name == "__typename" => {}
            // The global id, and the `id` of comms and appearance (their profile's), are
            // the primary key.
            Err(_) if name == "nodeId" || name == "id" => {
                E::PrimaryKey::iter().for_each(|key| columns.add(key.into_column()));
            }
            // Unknown here: fetch the whole row rather than guess.
            Err(_) => columns.add_all(),
        }
    }
}

/// The plan of a selection of `Profile` fields, from every place it appears (a
/// connection has two: `edges.node` and `nodes`).
pub(crate) fn profile<'a>(selections: impl IntoIterator<Item = SelectionField<'a>>) -> Selection {
    let mut selection = Selection::default();
    for parent in selections {
        for field in subfields(&parent) {
            add(&mut selection, &field);
        }
    }
    selection
}

fn add(selection: &mut Selection, field: &SelectionField<'_>) {
    match reads(field.name()) {
        Some(Reads::Nothing) => {}
        Some(Reads::Stored(column)) => selection.profile.add(column),
        Some(Reads::Columns(columns)) => columns.iter().for_each(|c| selection.profile.add(*c)),
        Some(Reads::Relation(which, extra)) => {
            let fields = subfields(field);
            match which {
                Relation::Addresses => relation(&mut selection.addresses, fields, extra),
                Relation::Identities => relation(&mut selection.identities, fields, extra),
                Relation::Tags => relation(&mut selection.tags, fields, extra),
                Relation::Statuses => relation(&mut selection.statuses, fields, extra),
                Relation::Tier => relation(&mut selection.tier, fields, extra),
                Relation::PreferredLocation => relation(&mut selection.preferred_location, fields, extra),
                Relation::JoinedLocation => relation(&mut selection.joined_location, fields, extra),
            }
        }
        Some(Reads::Attributes) => {
            for attribute in subfields(field) {
                let fields = subfields(&attribute);
                match attribute.name() {
                    "comms" => relation(&mut selection.comms, fields, &[]),
                    "appearance" => relation(&mut selection.appearance, fields, &[]),
                    "dates" => relation(&mut selection.dates, fields, &[]),
                    _ => {}
                }
            }
        }
        // A field this plan does not know: every profile column; its relations, if
        // any, come through the loaders.
        None => selection.profile.add_all(),
    }
}

/// The `Profile` fields under a connection: `edges.node` and `nodes`.
pub(crate) fn connection<'a>(connection: &SelectionField<'a>) -> Vec<SelectionField<'a>> {
    let mut found = Vec::new();
    for field in subfields(connection) {
        match field.name() {
            "nodes" => found.push(field),
            "edges" => found.extend(subfields(&field).filter(|edge| edge.name() == "node")),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    use entity::{address, appearance, comms, identity, location, profile_date, status, tag, tier};
    use sea_orm::EntityTrait;

    use super::{Reads, reads};

    /// The fields of object type `name` in the schema.
    fn fields(name: &str) -> Vec<String> {
        let document = async_graphql::parser::parse_schema(crate::graphql::sdl()).expect("the SDL parses");
        let found: Vec<String> = document
            .definitions
            .iter()
            .filter_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) if ty.node.name.node == name => match &ty.node.kind {
                    TypeKind::Object(object) => Some(object.fields.iter().map(|f| f.node.name.node.to_string())),
                    _ => None,
                },
                _ => None,
            })
            .flatten()
            .collect();
        assert!(!found.is_empty(), "`{name}` is an object type of the schema");
        found
    }

    /// Every field of `type_name` names a column of `E`, so its plan is exact.
    fn named_after_columns<E: EntityTrait>(type_name: &str)
    where
        E::Column: FromStr,
    {
        // The global id is the primary key's, and so is the `id` of comms and appearance
        // (their profile's); every other field is a column.
        let keyed = matches!(type_name, "Comms" | "Appearance");
        for field in fields(type_name).into_iter().filter(|field| field != "nodeId" && !(keyed && field == "id")) {
            assert!(E::Column::from_str(&field).is_ok(), "`{type_name}.{field}` is not a column: it would plan all");
        }
    }

    #[test]
    fn the_plan_knows_every_profile_field() {
        for field in fields("Profile") {
            let read = reads(&field);
            assert!(read.is_some(), "`Profile.{field}` is not planned");
            if let Some(Reads::Relation(_, extra)) = read {
                assert!(extra.iter().all(|c| !c.is_empty()));
            }
        }
        let attributes = fields("ProfileAttributes");
        assert_eq!(attributes, ["comms", "appearance", "dates"]);
    }

    #[test]
    fn the_fields_of_every_relation_are_named_after_its_columns() {
        named_after_columns::<address::Entity>("Address");
        named_after_columns::<profile_date::Entity>("ProfileDate");
        named_after_columns::<identity::Entity>("Identity");
        named_after_columns::<tag::Entity>("Tag");
        named_after_columns::<status::Entity>("Status");
        named_after_columns::<comms::Entity>("Comms");
        named_after_columns::<appearance::Entity>("Appearance");
        named_after_columns::<tier::Entity>("Tier");
        named_after_columns::<location::Entity>("Location");
    }

    #[test]
    fn the_extra_columns_a_derived_field_reads_exist() {
        for (name, entity) in [
            ("externalId", "identity"),
            ("flattenedTags", "tag"),
            ("flattenedStatuses", "status"),
            ("preferredLocationExternalId", "location"),
            ("address", "address"),
        ] {
            let Some(Reads::Relation(_, extra)) = reads(name) else { panic!("`{name}` reads a relation") };
            for column in extra {
                let known = match entity {
                    "identity" => identity::Column::from_str(column).is_ok(),
                    "tag" => tag::Column::from_str(column).is_ok(),
                    "status" => status::Column::from_str(column).is_ok(),
                    "location" => location::Column::from_str(column).is_ok(),
                    _ => address::Column::from_str(column).is_ok(),
                };
                assert!(known, "`{column}` is a column of `{entity}`");
            }
        }
    }
}
