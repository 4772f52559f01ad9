//! Puts response fields back in selection order.
//!
//! The GraphQL specification orders a result's fields as the query selects them.
//! async-graphql 7.2 resolves a query's fields concurrently and inserts each result as
//! it completes, so a field that waits on the database can land after faster ones
//! (`totalCount` after `nodes`). Resolving concurrently is what lets the DataLoaders
//! batch, so the order is restored on the finished response instead.

use async_graphql::Value;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;

/// Reorders `data` as the operation `operation_name` of `document` selects it.
pub(crate) fn restore(data: &mut Value, document: &ExecutableDocument, operation_name: Option<&str>) {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) => operations.values().next(),
    };
    if let Some(operation) = operation {
        let mut plans = Plans { document, known: HashMap::new() };
        reorder(data, vec![&operation.node.selection_set.node], &mut plans);
    }
}

/// The response keys of a group of selection sets, in order of first appearance,
/// each with the selection sets of its sub-fields (a key may be selected in several
/// places).
type Keys<'a> = Rc<IndexMap<String, Vec<&'a SelectionSet>>>;

/// The keys of each group of selection sets met so far: every object of a list is
/// ordered by the same group, which is walked once.
struct Plans<'a> {
    document: &'a ExecutableDocument,
    known: HashMap<Vec<*const SelectionSet>, Keys<'a>>,
}

impl<'a> Plans<'a> {
    fn keys(&mut self, sets: Vec<&'a SelectionSet>) -> Keys<'a> {
        let id: Vec<*const SelectionSet> = sets.iter().map(|set| *set as *const SelectionSet).collect();
        let document = self.document;
        self.known.entry(id).or_insert_with(|| Rc::new(keys(&sets, document))).clone()
    }
}

fn keys<'a>(sets: &[&'a SelectionSet], document: &'a ExecutableDocument) -> IndexMap<String, Vec<&'a SelectionSet>> {
    fn walk<'a>(
        set: &'a SelectionSet,
        document: &'a ExecutableDocument,
        keys: &mut IndexMap<String, Vec<&'a SelectionSet>>,
        depth: usize,
    ) {
        if depth > 32 {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.to_string();
                    keys.entry(key).or_default().push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    walk(&fragment.node.selection_set.node, document, keys, depth + 1)
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                        walk(&fragment.node.selection_set.node, document, keys, depth + 1);
                    }
                }
            }
        }
    }
    let mut keys = IndexMap::new();
    for set in sets {
        walk(set, document, &mut keys, 0);
    }
    keys
}

fn reorder<'a>(value: &mut Value, sets: Vec<&'a SelectionSet>, plans: &mut Plans<'a>) {
    if matches!(value, Value::List(_) | Value::Object(_)) {
        let keys = plans.keys(sets);
        reorder_by(value, &keys, plans);
    }
}

fn reorder_by<'a>(value: &mut Value, keys: &Keys<'a>, plans: &mut Plans<'a>) {
    match value {
        Value::List(items) => items.iter_mut().for_each(|item| reorder_by(item, keys, plans)),
        Value::Object(fields) => {
            // Most objects arrive in order already: rebuild only those that do not.
            let expected = keys.keys().filter(|key| fields.contains_key(key.as_str()));
            if !fields.keys().map(|name| name.as_str()).eq(expected.map(String::as_str)) {
                let mut ordered = IndexMap::with_capacity(fields.len());
                for key in keys.keys() {
                    if let Some((name, child)) = fields.shift_remove_entry(key.as_str()) {
                        ordered.insert(name, child);
                    }
                }
                // Nothing should be left; if anything is, it keeps its place at the end.
                ordered.extend(fields.drain(..));
                *fields = ordered;
            }
            for (name, child) in fields.iter_mut() {
                if let Some(children) = keys.get(name.as_str()) {
                    reorder(child, children.clone(), plans);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_the_selection_through_fragments_and_lists() {
        let query = "query Q { b a: x ...F list { z y } } fragment F on Query { c }";
        let mut data = Value::from_json(serde_json::json!({
            "list": [{ "y": 1, "z": 2 }, { "y": 3, "z": 4 }], "c": 1, "a": 2, "b": 3
        }))
        .expect("a value");
        restore(&mut data, &async_graphql::parser::parse_query(query).expect("a query"), None);
        assert_eq!(
            serde_json::to_string(&data).expect("JSON"),
            r#"{"b":3,"a":2,"c":1,"list":[{"z":2,"y":1},{"z":4,"y":3}]}"#
        );
    }
}
