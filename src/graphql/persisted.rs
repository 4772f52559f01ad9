//! Persisted documents (SPEC §10): which documents a request may run, named by an id
//! or sent as text, under `PROFILES_DOCUMENTS`.
//!
//! - A **manifest** (`PROFILES_DOCUMENT_MANIFEST`) lists the documents an app was built
//!   with, in GraphQL Code Generator's `{ "<hash>": "<text>" }` form or Apollo's
//!   `apollo-persisted-query-manifest` form. Each is admitted (nesting, parse, every
//!   limit: it goes into the admitted-document cache) and validated against the schema
//!   when it is loaded; one that fails stops the load, named. A manifest is found by
//!   its key as given, or by the SHA-256 of its text.
//! - A request names a document by `documentId` (GraphQL-over-HTTP, Appendix A:
//!   `sha256:<hex>`, or a manifest key as given) or by Apollo's APQ extension
//!   (`extensions.persistedQuery.sha256Hash`).
//! - `open`: text runs, and ids name manifest documents. `apq`: the same, and a hash
//!   sent with its text is checked and kept (bounded), so that the next request sends
//!   the hash alone. `allowlist`: only manifest documents run; other text is
//!   `PERSISTED_QUERY_REQUIRED`. `hybrid`: the same, but callers that may send text
//!   (`admin` tokens: GraphiQL, staff) send any.
//!
//! An unknown id is `PERSISTED_QUERY_NOT_FOUND` with the message `PersistedQueryNotFound`,
//! which Apollo Client's persisted-queries link answers by sending the text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::parser::types::DocumentOperations;
use async_graphql::{Request, Response, ServerError, Value};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::AppSchema;
use super::bounded::Bounded;
use super::documents::{Documents, MAX_CACHED_BYTES};

/// Which documents run (`PROFILES_DOCUMENTS`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DocumentMode {
    /// Any text; ids name manifest documents.
    #[default]
    Open,
    /// Any text, and Apollo's automatic persisted queries: a hash sent with its text is
    /// kept, and the hash alone names it afterwards.
    Apq,
    /// Only the manifest's documents.
    Allowlist,
    /// The manifest's documents for everyone; text from `admin` tokens.
    Hybrid,
}

/// Where documents come from (the README's "For frontend teams").
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentSettings {
    /// Which documents run: `open`, `apq`, `allowlist` or `hybrid`.
    #[arg(long, env = "PROFILES_DOCUMENTS", value_enum, default_value_t = DocumentMode::Open, global = true)]
    pub documents: DocumentMode,

    /// A manifest of persisted documents (GraphQL Code Generator's or Apollo's form),
    /// validated at start and reloaded on SIGHUP.
    #[arg(long, env = "PROFILES_DOCUMENT_MANIFEST", global = true)]
    pub document_manifest: Option<PathBuf>,
}

/// Most documents APQ keeps, and most text summed over them.
const APQ_ENTRIES: usize = 1024;
const APQ_TEXT_BYTES: usize = 4 * 1024 * 1024;

/// The documents of a manifest, by every name a request may give them.
#[derive(Default)]
pub(crate) struct Manifest {
    /// By the manifest's keys, as given.
    by_key: HashMap<String, Arc<str>>,
    /// By the SHA-256 of their text, in lowercase hex: a text is the manifest's when
    /// its hash is here.
    by_hash: HashMap<String, Arc<str>>,
}

/// Apollo's `apollo-persisted-query-manifest`.
#[derive(Deserialize)]
struct ApolloManifest {
    format: String,
    operations: Vec<ApolloOperation>,
}

#[derive(Deserialize)]
struct ApolloOperation {
    id: String,
    body: String,
}

/// The SHA-256 of `text`, in lowercase hex.
fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Manifest {
    /// The documents of `json`, in either form (not yet checked against the schema).
    fn parse(json: &str) -> Result<Vec<(String, String)>, String> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|error| format!("the manifest is not JSON: {error}"))?;
        if value.get("format").is_some() {
            let apollo: ApolloManifest = serde_json::from_value(value)
                .map_err(|error| format!("not an Apollo persisted query manifest: {error}"))?;
            if apollo.format != "apollo-persisted-query-manifest" {
                return Err(format!("unknown manifest format `{}`", apollo.format));
            }
            return Ok(apollo.operations.into_iter().map(|o| (o.id, o.body)).collect());
        }
        let map: HashMap<String, String> = serde_json::from_value(value)
            .map_err(|error| format!("a manifest is Apollo's form or an object of document texts by key: {error}"))?;
        let mut documents: Vec<(String, String)> = map.into_iter().collect();
        documents.sort();
        Ok(documents)
    }

    /// Reads the manifest at `path`, and admits and validates each of its documents:
    /// the first that fails is named in the error. A key that reads as a SHA-256 must
    /// be its document's (else an edited document would stay reachable by the old
    /// text's hash).
    pub(crate) async fn load(path: &Path, documents: &Documents, schema: &AppSchema) -> Result<Manifest, String> {
        let json = tokio::fs::read_to_string(path)
            .await
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let mut manifest = Manifest::default();
        for (key, text) in Manifest::parse(&json)? {
            let hash = sha256(&text);
            let hex = key.strip_prefix("sha256:").unwrap_or(&key);
            if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && !hex.eq_ignore_ascii_case(&hash) {
                return Err(format!("document `{key}`: its key is a SHA-256, but not its text's ({hash})"));
            }
            check(&text, documents, schema).await.map_err(|error| format!("document `{key}`: {error}"))?;
            let text: Arc<str> = text.into();
            manifest.by_hash.insert(hash, text.clone());
            manifest.by_key.insert(key, text);
        }
        Ok(manifest)
    }

    /// The document `id` names: a key as given, or `sha256:<hex>` or `<hex>` of its text.
    fn get(&self, id: &str) -> Option<Arc<str>> {
        let hex = id.strip_prefix("sha256:").unwrap_or(id).to_ascii_lowercase();
        self.by_key.get(id).or_else(|| self.by_hash.get(&hex)).cloned()
    }

    /// Whether the text whose SHA-256 is `hash` is one of the manifest's documents.
    fn holds(&self, hash: &str) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// How many documents it has.
    fn len(&self) -> usize {
        self.by_hash.len()
    }
}

/// Variables that let validation compute a document's cost without a request's values
/// (async-graphql reads the arguments a complexity counts — page sizes, `nodeIds` —
/// from the variables, and fails on one it cannot find): an empty list for a list, null
/// for a nullable value, the zero of a required built-in scalar. A required value of
/// another type is left out: no cost counts it, and validation checks a value it is
/// given against its type.
fn placeholders(document: &async_graphql::parser::types::ExecutableDocument) -> async_graphql::Variables {
    use async_graphql::parser::types::BaseType;
    use serde_json::{Value, json};
    let mut variables = serde_json::Map::new();
    for (_, operation) in document.operations.iter() {
        for definition in &operation.node.variable_definitions {
            let ty = &definition.node.var_type.node;
            let value = match &ty.base {
                BaseType::List(_) => json!([]),
                BaseType::Named(_) if ty.nullable => Value::Null,
                BaseType::Named(name) => match name.as_str() {
                    "Int" | "Float" => json!(0),
                    "String" | "ID" => json!(""),
                    "Boolean" => json!(false),
                    _ => continue,
                },
            };
            variables.insert(definition.node.name.node.to_string(), value);
        }
    }
    async_graphql::Variables::from_json(Value::Object(variables))
}

/// Admits `text` (nesting, parse, limits; it is then in the cache) and validates each
/// of its operations against the schema, running none.
async fn check(text: &str, documents: &Documents, schema: &AppSchema) -> Result<(), String> {
    let mut request = Request::new(text);
    let parsed = documents.admit(&mut request).map_err(|error| error.message)?;
    parsed.admitted.map_err(|error| error.message)?;
    let names: Vec<Option<String>> = match &parsed.document.operations {
        DocumentOperations::Single(_) => vec![None],
        DocumentOperations::Multiple(operations) => operations.keys().map(|name| Some(name.to_string())).collect(),
    };
    let variables = placeholders(&parsed.document);
    for name in names {
        let mut request = Request::new(text).variables(variables.clone()).data(Validating);
        request.operation_name = name;
        let response = schema.execute(request).await;
        if let Some(error) = response.errors.first() {
            return Err(error.message.clone());
        }
    }
    Ok(())
}

/// Marks a request that must be validated and not run.
struct Validating;

/// The schema extension that stops a [`Validating`] request after validation. The
/// schema that serves requests has no extension (see `build_schema`): only
/// [`validator`]'s.
struct DryRun;

struct DryRunExtension;

impl ExtensionFactory for DryRun {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DryRunExtension)
    }
}

#[async_trait::async_trait]
impl Extension for DryRunExtension {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if ctx.data_opt::<Validating>().is_some() {
            return Response::new(Value::Null);
        }
        next.run(ctx, operation_name).await
    }
}

/// A schema that validates manifest documents: the serving schema's types and limits,
/// and the extension that runs nothing.
pub(crate) fn validator(limits: &super::Limits) -> AppSchema {
    async_graphql::Schema::build(super::QueryRoot, super::MutationRoot::default(), super::SubscriptionRoot)
        .extension(DryRun)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .finish()
}

/// Where a request's document came from (a metric label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Text,
    Manifest,
    Apq,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Text => "text",
            Source::Manifest => "manifest",
            Source::Apq => "apq",
        }
    }
}

/// The documents a process may run: its mode, its manifest (replaced on reload) and
/// the APQ documents it has kept.
pub struct Persisted {
    mode: DocumentMode,
    /// Where the manifest is read from, at start and on SIGHUP.
    path: Option<PathBuf>,
    manifest: RwLock<Arc<Manifest>>,
    /// APQ's documents by their SHA-256, bounded by the bytes of their text.
    apq: Bounded<String, Arc<str>>,
}

impl Persisted {
    /// The documents `settings` allow, with an empty manifest until [`reload`](Self::reload).
    pub(crate) fn new(settings: &DocumentSettings) -> Self {
        Persisted {
            mode: settings.documents,
            path: settings.document_manifest.clone(),
            manifest: RwLock::new(Arc::new(Manifest::default())),
            apq: Bounded::new(APQ_ENTRIES, APQ_TEXT_BYTES, |_, text| text.len()),
        }
    }

    /// Reads the manifest again and puts it in place of the one in use, if every
    /// document in it is admitted and valid; else the one in use stays, and the error
    /// names the document. The number of documents now in use.
    pub async fn reload(&self, documents: &Documents) -> Result<usize, String> {
        let Some(path) = &self.path else {
            if matches!(self.mode, DocumentMode::Allowlist | DocumentMode::Hybrid) {
                return Err("PROFILES_DOCUMENTS=allowlist or hybrid needs PROFILES_DOCUMENT_MANIFEST".to_owned());
            }
            return Ok(0);
        };
        let manifest = Manifest::load(path, documents, &validator(documents.limits())).await?;
        let count = manifest.len();
        *self.manifest.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(manifest);
        Ok(count)
    }

    fn manifest(&self) -> Arc<Manifest> {
        self.manifest.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Sets the text of the document `request` names (by `document_id`, or by the APQ
    /// extension) on it, or checks that its text may run: what the mode allows, else a
    /// request error. `may_send_text` says whether the caller may send any text
    /// (`hybrid`). Counted by source and outcome.
    pub(crate) fn resolve(
        &self,
        request: &mut Request,
        document_id: Option<&str>,
        may_send_text: bool,
    ) -> Result<Source, ServerError> {
        let outcome = self.decide(request, document_id, may_send_text);
        let (source, result) = match &outcome {
            Ok(source) => (source.label(), "admitted"),
            Err((source, error)) => (source.label(), error.extensions_code()),
        };
        metrics::counter!("graphql_documents_total", "source" => source, "outcome" => result).increment(1);
        outcome.map_err(|(_, error)| error.into_server_error())
    }

    fn decide(
        &self,
        request: &mut Request,
        document_id: Option<&str>,
        may_send_text: bool,
    ) -> Result<Source, (Source, Refusal)> {
        let apq_hash = apq_hash(request).map_err(|refusal| (Source::Apq, refusal))?;
        let any_text = match self.mode {
            DocumentMode::Open | DocumentMode::Apq => true,
            DocumentMode::Hybrid => may_send_text,
            DocumentMode::Allowlist => false,
        };
        let id = match (document_id, apq_hash.as_deref()) {
            (Some(_), Some(_)) => return Err((Source::Text, Refusal::Both)),
            (Some(id), None) => Some((id, Source::Manifest)),
            (None, Some(hash)) => Some((hash, Source::Apq)),
            (None, None) => None,
        };
        let Some((id, via)) = id else {
            // Text alone.
            if any_text {
                return Ok(Source::Text);
            }
            return match self.manifest().holds(&sha256(&request.query)) {
                true => Ok(Source::Manifest),
                false => Err((Source::Text, Refusal::Required)),
            };
        };
        let manifest = self.manifest();
        if request.query.is_empty() {
            // An id alone: the manifest's, or one APQ kept.
            if let Some(text) = manifest.get(id) {
                request.query = text.to_string();
                return Ok(Source::Manifest);
            }
            if via == Source::Apq
                && self.mode == DocumentMode::Apq
                && let Some(text) = self.apq.get(id)
            {
                request.query = text.to_string();
                return Ok(Source::Apq);
            }
            return Err((via, Refusal::NotFound));
        }
        // An id with its text: the text must be what the id names.
        let hash = sha256(&request.query);
        let named = id.strip_prefix("sha256:").unwrap_or(id);
        if !named.eq_ignore_ascii_case(&hash) && manifest.get(id).as_deref() != Some(request.query.as_str()) {
            return Err((via, Refusal::Mismatch));
        }
        if manifest.holds(&hash) {
            return Ok(Source::Manifest);
        }
        if !any_text {
            return Err((via, Refusal::Required));
        }
        if via == Source::Apq && self.mode == DocumentMode::Apq && request.query.len() <= MAX_CACHED_BYTES {
            self.apq.put(hash, request.query.as_str().into());
        }
        Ok(via)
    }
}

/// `extensions.persistedQuery.sha256Hash` (version 1), lowercased.
fn apq_hash(request: &Request) -> Result<Option<String>, Refusal> {
    let Some(persisted) = request.extensions.get("persistedQuery") else { return Ok(None) };
    let Value::Object(persisted) = persisted else { return Err(Refusal::Malformed) };
    match (persisted.get("version"), persisted.get("sha256Hash")) {
        (Some(Value::Number(version)), Some(Value::String(hash))) if version.as_u64() == Some(1) => {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(Refusal::Malformed),
    }
}

/// Why a request's document may not run.
#[derive(Debug)]
enum Refusal {
    NotFound,
    Required,
    Mismatch,
    Both,
    Malformed,
}

impl Refusal {
    fn extensions_code(&self) -> &'static str {
        match self {
            Refusal::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            Refusal::Required => "PERSISTED_QUERY_REQUIRED",
            Refusal::Mismatch | Refusal::Both | Refusal::Malformed => "BAD_REQUEST",
        }
    }

    fn into_server_error(self) -> ServerError {
        let message = match self {
            // The message Apollo Client's persisted-queries link looks for.
            Refusal::NotFound => "PersistedQueryNotFound",
            Refusal::Required => {
                "only persisted documents run here: send a `documentId` of the manifest (PROFILES_DOCUMENTS)"
            }
            Refusal::Mismatch => "provided sha does not match query",
            Refusal::Both => "send a `documentId` or `extensions.persistedQuery`, not both",
            Refusal::Malformed => "`extensions.persistedQuery` needs `version: 1` and a `sha256Hash`",
        };
        super::errors::coded(message, self.extensions_code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apq_store_counts_what_it_holds_and_stays_within_its_bounds() {
        let persisted = Persisted::new(&DocumentSettings { documents: DocumentMode::Apq, document_manifest: None });
        for n in 0..3 * APQ_ENTRIES {
            // Now and then a long one, and the same hash twice.
            let text = if n % 100 == 0 {
                format!("{{ a{n}(s: \"{}\") }}", "b".repeat(8 * 1024))
            } else {
                format!("{{ a{n} }}")
            };
            persisted.apq.put(sha256(&text), text.as_str().into());
            persisted.apq.put(sha256(&text), text.as_str().into());
        }
        let (entries, counted, held) = persisted.apq.measure();
        assert_eq!(counted, held, "the count is what is held");
        assert!(entries <= APQ_ENTRIES && held <= APQ_TEXT_BYTES);
        assert!(entries > APQ_ENTRIES / 2, "still holds documents: {entries}");
    }
}
