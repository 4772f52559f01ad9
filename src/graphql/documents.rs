//! Admits a request's document, and keeps the documents it admitted by their text.
//!
//! A document is admitted when it nests no deeper than `nesting` allows, parses, and
//! keeps the limits `guard::check` enforces. Clients send the same few documents again
//! and again with other variables, and parsing is the largest single cost of a small
//! read (about an eighth of the server's CPU for `profile(id)`, measured with perf under
//! bench/run.sh): so a document that was admitted is kept, by its exact text, and the
//! next request with that text skips the scan, the parse and the checks; only its
//! variables are measured. The cache holds at most [`MAX_ENTRIES`] documents and
//! [`MAX_TEXT_BYTES`] of their text, and drops the least recently used beyond either;
//! a document longer than [`MAX_CACHED_BYTES`] is not kept.

use std::sync::Arc;

use super::bounded::Bounded;
use super::{Limits, guard, nesting};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerError};

/// Most documents kept.
pub(crate) const MAX_ENTRIES: usize = 512;
/// Most text kept, summed over the documents.
pub(crate) const MAX_TEXT_BYTES: usize = 1024 * 1024;
/// Longest document kept.
pub(crate) const MAX_CACHED_BYTES: usize = 16 * 1024;

/// A document that parsed: whether it keeps the limits is `admitted`.
pub(crate) struct Parsed {
    pub document: Arc<ExecutableDocument>,
    pub admitted: Result<(), ServerError>,
}

pub struct Documents {
    limits: Limits,
    /// Admitted documents by their text, bounded by the text's bytes.
    cache: Bounded<Box<str>, Arc<ExecutableDocument>>,
}

impl Documents {
    pub(crate) fn new(limits: Limits) -> Self {
        Documents { limits, cache: Bounded::new(MAX_ENTRIES, MAX_TEXT_BYTES, |text, _| text.len()) }
    }

    /// The limits documents are checked against.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Measures the request's nesting and parses its document (an `Err` when either
    /// fails), then checks the document's limits (`Parsed::admitted`). The parse is left
    /// on the request, where async-graphql takes it instead of parsing again.
    pub(crate) fn admit(&self, request: &mut Request) -> Result<Parsed, ServerError> {
        let known = self.cache.get(request.query.as_str());
        if let Some(document) = known {
            nesting::check_variables(&request.variables)?;
            request.set_parsed_query(ExecutableDocument::clone(&document));
            return Ok(Parsed { document, admitted: Ok(()) });
        }
        nesting::check(&request.query, &request.variables)?;
        let document = Arc::new(guard::parse(request, &self.limits)?.clone());
        let admitted = guard::check(&self.limits, &document);
        if admitted.is_ok() && request.query.len() <= MAX_CACHED_BYTES {
            self.cache.put(request.query.as_str().into(), document.clone());
        }
        Ok(Parsed { document, admitted })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_admitted_document_is_kept_and_reused_and_the_cache_is_bounded() {
        let documents = Documents::new(Limits::default());
        let mut first = Request::new("{ a }");
        let parsed = documents.admit(&mut first).expect("parses");
        assert!(parsed.admitted.is_ok());
        let mut again = Request::new("{ a }");
        let reused = documents.admit(&mut again).expect("parses");
        assert!(Arc::ptr_eq(&parsed.document, &reused.document), "the second request reuses the first parse");
        assert!(again.parsed_query().is_ok());

        // A document over a limit is reported, and not kept.
        let limits = Limits { max_root_fields: 1, ..Limits::default() };
        let strict = Documents::new(limits);
        let over = strict.admit(&mut Request::new("{ a b }")).expect("parses");
        assert!(over.admitted.is_err());
        assert_eq!(strict.cache.measure().0, 0);
        assert!(strict.admit(&mut Request::new("{ a b }")).expect("parses").admitted.is_err());

        // Variables are measured on every request, also for a kept document.
        let deep = (0..100).fold(serde_json::json!(1), |inner, _| serde_json::json!([inner]));
        let variables = async_graphql::Variables::from_json(serde_json::json!({ "v": deep }));
        assert!(documents.admit(&mut Request::new("{ a }").variables(variables)).is_err());

        // Text beyond the budget pushes out the least recently used.
        for n in 0..2 * MAX_TEXT_BYTES / MAX_CACHED_BYTES {
            let text = format!("{{ a{n}(s: \"{}\") }}", "b".repeat(MAX_CACHED_BYTES * 2 / 3));
            documents.admit(&mut Request::new(text)).expect("parses");
        }
        let (entries, bytes, _) = documents.cache.measure();
        assert!(bytes <= MAX_TEXT_BYTES && entries <= MAX_ENTRIES, "{entries} documents, {bytes} bytes");
        // More short documents than it has room for: the count stays what is held.
        for n in 0..2 * MAX_ENTRIES {
            documents.admit(&mut Request::new(format!("{{ short{n} }}"))).expect("parses");
        }
        let (_, counted, held) = documents.cache.measure();
        assert_eq!(counted, held, "the count is what is held");
        assert!(entries >= MAX_TEXT_BYTES / MAX_CACHED_BYTES, "{entries} documents");
        let too_long = format!("{{ a(s: \"{}\") }}", "b".repeat(MAX_CACHED_BYTES));
        documents.admit(&mut Request::new(too_long.clone())).expect("parses");
        assert!(!documents.cache.contains(too_long.as_str()));
    }
}
