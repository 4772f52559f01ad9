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
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::parser::types::DocumentOperations;
use async_graphql::{Request, Response, ServerError, Value};
use lru::LruCache;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::AppSchema;
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
    by_id: HashMap<String, Arc<str>>,
    /// The number of documents (each is under two names or one).
    documents: usize,
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
    /// the first that fails is named in the error.
    pub(crate) async fn load(path: &Path, documents: &Documents, schema: &AppSchema) -> Result<Manifest, String> {
        let json = std::fs::read_to_string(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let mut manifest = Manifest::default();
        for (key, text) in Manifest::parse(&json)? {
            check(&text, documents, schema).await.map_err(|error| format!("document `{key}`: {error}"))?;
            let text: Arc<str> = text.into();
            manifest.by_id.insert(sha256(&text), text.clone());
            manifest.by_id.insert(key, text);
            manifest.documents += 1;
        }
        Ok(manifest)
    }

    fn get(&self, id: &str) -> Option<Arc<str>> {
        self.by_id.get(id).or_else(|| self.by_id.get(id.strip_prefix("sha256:")?)).cloned()
    }
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
    for name in names {
        let mut request = Request::new(text).data(Validating);
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
    apq: Mutex<Apq>,
}

struct Apq {
    documents: LruCache<String, Arc<str>>,
    text_bytes: usize,
}

impl Persisted {
    /// The documents `settings` allow, with an empty manifest until [`reload`](Self::reload).
    pub(crate) fn new(settings: &DocumentSettings) -> Self {
        let entries = NonZeroUsize::new(APQ_ENTRIES).unwrap_or(NonZeroUsize::MIN);
        Persisted {
            mode: settings.documents,
            path: settings.document_manifest.clone(),
            manifest: RwLock::new(Arc::new(Manifest::default())),
            apq: Mutex::new(Apq { documents: LruCache::new(entries), text_bytes: 0 }),
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
        let count = manifest.documents;
        *self.manifest.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(manifest);
        Ok(count)
    }

    fn manifest(&self) -> Arc<Manifest> {
        self.manifest.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn apq(&self) -> std::sync::MutexGuard<'_, Apq> {
        // The cache holds no invariant a panic could break halfway.
        self.apq.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
        let manifest = self.manifest();
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
            return match manifest.get(&sha256(&request.query)) {
                Some(_) => Ok(Source::Manifest),
                None => Err((Source::Text, Refusal::Required)),
            };
        };
        if request.query.is_empty() {
            // An id alone: the manifest's, or one APQ kept.
            if let Some(text) = manifest.get(id) {
                request.query = text.to_string();
                return Ok(Source::Manifest);
            }
            if via == Source::Apq
                && self.mode == DocumentMode::Apq
                && let Some(text) = self.apq().documents.get(id).cloned()
            {
                request.query = text.to_string();
                return Ok(Source::Apq);
            }
            return Err((via, Refusal::NotFound));
        }
        // An id with its text: the text must be what the id names.
        let hash = sha256(&request.query);
        let named = id.strip_prefix("sha256:").unwrap_or(id);
        let known = manifest.get(id);
        if named != hash && known.as_deref() != Some(request.query.as_str()) {
            return Err((via, Refusal::Mismatch));
        }
        if known.is_some() || manifest.get(&hash).is_some() {
            return Ok(Source::Manifest);
        }
        if !any_text {
            return Err((via, Refusal::Required));
        }
        if via == Source::Apq && self.mode == DocumentMode::Apq && request.query.len() <= MAX_CACHED_BYTES {
            self.keep(hash, request.query.as_str().into());
        }
        Ok(via)
    }

    fn keep(&self, hash: String, text: Arc<str>) {
        let mut apq = self.apq();
        let bytes = text.len();
        if apq.documents.put(hash, text).is_none() {
            apq.text_bytes += bytes;
        }
        while apq.text_bytes > APQ_TEXT_BYTES {
            match apq.documents.pop_lru() {
                Some((_, text)) => apq.text_bytes -= text.len(),
                None => break,
            }
        }
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
