//! Bounds how deeply a document and its variables nest, before anything recursive
//! reads them. The HTTP layer calls [`check`] first thing after authentication, before
//! it parses the document itself; any other way into the schema must do the same.
//!
//! async-graphql's parser bounds the nesting of selection sets, but not of list and
//! object literals: `[[[[…]]]]` some 1,600 deep (a 3 KB request) overflows a worker's
//! stack and aborts the process. So the raw text is scanned first, without recursion,
//! and a document nesting deeper than [`MAX_NESTING`] is refused unparsed. Variables
//! arrive through serde_json, whose parser stops at 128 levels; what it lets through
//! is measured here, again without recursion, against the same bound.

use async_graphql::{ServerError, Value as ConstValue, Variables};

/// Deepest nesting of brackets (`{`, `[`, `(`) a document may have, and of values in
/// its variables. A query at the selection depth limit (16) with a filter argument
/// nests about 20 deep.
pub(crate) const MAX_NESTING: usize = 64;

/// The deepest nesting of `{`, `[` and `(` in a GraphQL document, ignoring strings,
/// block strings and comments. Unbalanced text is measured as far as it goes; the
/// parser reports what is wrong with it.
pub(crate) fn document_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0usize);
    while at < bytes.len() {
        match bytes[at] {
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' && bytes[at] != b'\r' {
                    at += 1;
                }
            }
            b'"' if bytes[at..].starts_with(b"\"\"\"") => {
                // A block string ends at the next `"""` not escaped as `\"""`.
                at += 3;
                while at < bytes.len() && !bytes[at..].starts_with(b"\"\"\"") {
                    at += if bytes[at..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                at += 2;
            }
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' && bytes[at] != b'\n' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at += 1;
    }
    deepest
}

/// The deepest nesting of lists and objects in `value` (a scalar is 0).
pub(crate) fn value_depth(value: &ConstValue) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0usize)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &ConstValue>> = match value {
            ConstValue::List(items) => Box::new(items.iter()),
            ConstValue::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    deepest
}

/// Refuses a document, or variables, nesting deeper than [`MAX_NESTING`].
pub(crate) fn check(query: &str, variables: &Variables) -> Result<(), ServerError> {
    let depth = document_depth(query);
    if depth > MAX_NESTING {
        return Err(super::guard::too_complex(format!(
            "the document nests {depth} levels deep; the limit is {MAX_NESTING}"
        )));
    }
    check_variables(variables)
}

/// Refuses variables nesting deeper than [`MAX_NESTING`].
pub(crate) fn check_variables(variables: &Variables) -> Result<(), ServerError> {
    let deepest = variables.values().map(value_depth).max().unwrap_or(0);
    if deepest > MAX_NESTING {
        let mut error =
            ServerError::new(format!("a variable nests {deepest} levels deep; the limit is {MAX_NESTING}"), None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", crate::graphql::errors::ErrorCode::BadUserInput.as_str());
        return Err(error);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_count_outside_strings_and_comments() {
        assert_eq!(document_depth("{ a }"), 1);
        assert_eq!(document_depth("{ a(f: { x: [1, [2]] }) { b } }"), 5);
        assert_eq!(document_depth(r#"{ a(s: "[[[[{{{{") }"#), 2);
        assert_eq!(document_depth(r#"{ a(s: "\"[[[[") }"#), 2);
        assert_eq!(document_depth("{ a(s: \"\"\"[[[ \\\"\"\" [[[\"\"\") }"), 2);
        assert_eq!(document_depth("# [[[[[[\n{ a }"), 1);
        assert_eq!(document_depth(&"[".repeat(5000)), 5000);
        assert_eq!(document_depth("}}}{"), 1);
    }

    #[test]
    fn values_are_measured_without_recursion() {
        let mut value = ConstValue::Null;
        for _ in 0..100_000 {
            value = ConstValue::List(vec![value]);
        }
        assert_eq!(value_depth(&value), 100_000);
        // Dropping it recursively would overflow the stack: take it apart by hand.
        while let ConstValue::List(mut items) = value {
            value = items.pop().unwrap_or(ConstValue::Null);
        }
        let object = ConstValue::from_json(serde_json::json!({ "a": { "b": [1, { "c": 2 }] }, "d": 1 }));
        assert_eq!(value_depth(&object.expect("a value")), 4);
    }

    #[test]
    fn deep_documents_and_variables_are_refused() {
        let bomb = format!(
            "{{ profiles(filter: {{ tags: {}\"a\"{} }}) {{ totalCount }} }}",
            "[".repeat(1600),
            "]".repeat(1600)
        );
        let error = check(&bomb, &Variables::default()).expect_err("too deep");
        assert!(error.message.contains("1603 levels"), "{}", error.message);
        assert!(check("{ a(x: [[1]]) { b } }", &Variables::default()).is_ok());
        let deep = (0..100).fold(serde_json::json!(1), |inner, _| serde_json::json!([inner]));
        let variables = Variables::from_json(serde_json::json!({ "v": deep }));
        assert!(check("query($v: JSON) { a(v: $v) }", &variables).is_err());
    }
}
