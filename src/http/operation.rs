//! The type and name of the operation a request selects, for logs, metrics and the
//! WebSocket path (which refuses anything but a subscription).

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

/// The type (`query`, `mutation`) and name of the operation a request selects, for
/// logs and metrics; `anonymous` for an unnamed one.
pub(crate) fn operation(document: &ExecutableDocument, operation_name: Option<String>) -> (&'static str, String) {
    let (name, operation) = match (&document.operations, &operation_name) {
        (DocumentOperations::Single(operation), _) => (None, Some(operation)),
        (DocumentOperations::Multiple(operations), Some(name)) => (Some(name.clone()), operations.get(name.as_str())),
        (DocumentOperations::Multiple(operations), None) => {
            let first = operations.iter().next();
            (first.map(|(name, _)| name.to_string()), first.map(|(_, op)| op))
        }
    };
    let kind = match operation.map(|op| op.node.ty) {
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        _ => "query",
    };
    (kind, name.or(operation_name).unwrap_or_else(|| "anonymous".to_owned()))
}
