//! The one-per-profile records (comms, appearance) and custom attributes.

use entity::{appearance, comms, profile};
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::{Set, Unchanged};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::validate::{MAX_ATTRIBUTE_BYTES, MAX_ITEMS, Path, Problems, UserErrorCode};
use crate::service::draft::{AppearanceChanges, Columns, CommsChanges};
use crate::service::error::Result;
use crate::service::runtime::Services;
use crate::service::write::Write;

/// Changes the given comms columns of a profile.
pub(crate) async fn update_comms(
    db: &Services,
    profile_id: Uuid,
    changes: CommsChanges,
    problems: Problems,
) -> Result<(comms::Model, profile::Model)> {
    let mut columns = changes.columns();
    let mut txn = Write::begin(db).await?;
    let profile = txn.touch(profile_id, None, &Path::root("profileId")).await?;
    problems.finish(())?;
    columns.profile_id = Unchanged(profile_id);
    columns.updated_at = Set(txn.now());
    let comms = columns.update(txn.conn()).await?;
    txn.commit().await?;
    Ok((comms, profile))
}

/// Changes the given appearance columns of a profile.
pub(crate) async fn update_appearance(
    db: &Services,
    profile_id: Uuid,
    changes: AppearanceChanges,
    problems: Problems,
) -> Result<(appearance::Model, profile::Model)> {
    let mut columns = changes.columns();
    let mut txn = Write::begin(db).await?;
    let profile = txn.touch(profile_id, None, &Path::root("profileId")).await?;
    problems.finish(())?;
    columns.profile_id = Unchanged(profile_id);
    columns.updated_at = Set(txn.now());
    let appearance = columns.update(txn.conn()).await?;
    txn.commit().await?;
    Ok((appearance, profile))
}

/// One custom attribute to set (`Some`) or remove (`None`).
pub(crate) struct AttributeChange {
    pub namespace: String,
    pub handle: String,
    pub value: Option<Value>,
}

/// Applies `changes` in order to an attributes object; a namespace left empty goes.
pub(crate) fn apply_attributes(attributes: &mut Value, changes: Vec<AttributeChange>) {
    if !attributes.is_object() {
        *attributes = Value::Object(Default::default());
    }
    let Some(namespaces) = attributes.as_object_mut() else { return };
    for AttributeChange { namespace, handle, value } in changes {
        match value {
            Some(value) => {
                let entry = namespaces.entry(namespace).or_insert_with(|| Value::Object(Default::default()));
                if let Some(handles) = entry.as_object_mut() {
                    handles.insert(handle, value);
                } else {
                    *entry = serde_json::json!({ handle: value });
                }
            }
            None => {
                let emptied = namespaces.get_mut(&namespace).and_then(Value::as_object_mut).is_some_and(|handles| {
                    handles.remove(&handle);
                    handles.is_empty()
                });
                if emptied {
                    namespaces.remove(&namespace);
                }
            }
        }
    }
}

/// Sets or removes single custom attributes. The result may hold at most 250
/// namespaces of 250 attributes each (TOO_LONG at `["attributes"]`).
pub(crate) async fn set_custom_attributes(
    db: &Services,
    profile_id: Uuid,
    changes: Vec<AttributeChange>,
    mut problems: Problems,
) -> Result<profile::Model> {
    let mut txn = Write::begin(db).await?;
    let current = txn.touch(profile_id, None, &Path::root("profileId")).await?;
    let mut attributes = current.custom_attributes.clone();
    apply_attributes(&mut attributes, changes);
    let namespaces = attributes.as_object().map(|n| n.values().collect::<Vec<_>>()).unwrap_or_default();
    let too_many = namespaces.len() > MAX_ITEMS
        || namespaces.iter().any(|handles| handles.as_object().is_some_and(|h| h.len() > MAX_ITEMS));
    if too_many || attributes.to_string().len() > MAX_ITEMS * MAX_ATTRIBUTE_BYTES {
        problems.add(
            &Path::root("attributes"),
            UserErrorCode::TooLong,
            "the profile would hold too many custom attributes",
        );
    }
    problems.finish(())?;
    let row =
        profile::ActiveModel { id: Unchanged(profile_id), custom_attributes: Set(attributes), ..Default::default() };
    let profile = row.update(txn.conn()).await?;
    txn.commit().await?;
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(namespace: &str, handle: &str, value: Option<Value>) -> AttributeChange {
        AttributeChange { namespace: namespace.into(), handle: handle.into(), value }
    }

    #[test]
    fn attributes_are_set_replaced_and_removed_and_empty_namespaces_go() {
        let mut attributes = json!({ "custom": { "a": 1, "b": 2 } });
        apply_attributes(
            &mut attributes,
            vec![
                change("custom", "a", Some(json!("one"))),
                change("custom", "b", None),
                change("loyalty", "since", Some(json!(2020))),
                change("missing", "x", None),
            ],
        );
        assert_eq!(attributes, json!({ "custom": { "a": "one" }, "loyalty": { "since": 2020 } }));
        apply_attributes(&mut attributes, vec![change("custom", "a", None)]);
        assert_eq!(attributes, json!({ "loyalty": { "since": 2020 } }));
    }
}
