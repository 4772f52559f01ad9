//! What a request may ask: scopes at the root fields, and limits on the document.
//!
//! Each root field declares the scope it needs where it is declared, as
//! `#[graphql(requires_scopes = "profiles:read")]` (queries), `"profiles:write"`
//! (profile mutations) or `"admin"` (reference data): async-graphql keeps it in the
//! schema's registry, and prints it only in the federation SDL, so `schema.graphql`
//! does not show it. [`Scoped`], the guard of the root objects, checks it for every
//! root field, and the default is to deny: a root field that declares no scope, or an unknown one, is refused
//! with FORBIDDEN for everyone (a test walks the schema and fails on such a field).
//! A missing scope fails that field with FORBIDDEN.
//! Introspection is open to any caller the request got through with, unless switched
//! off (`PROFILES_INTROSPECTION=false`), which refuses it with FORBIDDEN.
//!
//! Limits async-graphql does not have: document size, root fields per operation and
//! aliases per document, each QUERY_TOO_COMPLEX naming the limit, checked by
//! [`parse`] and [`check`] before the request runs. Depth and complexity are async-graphql's own
//! (`Schema::limit_depth`, `limit_complexity`).

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Context, ErrorExtensions, ServerError};

use super::Limits;
use crate::auth::{Caller, Scope};
use crate::graphql::errors::ErrorCode;

/// The scope the root field `field` of `parent_type` declares: `None` for
/// introspection, `Some(Err(..))` when it declares none (or an unknown one).
pub(crate) fn declared_scope(
    registry: &async_graphql::registry::Registry,
    parent_type: &str,
    field: &str,
) -> Option<Result<Scope, String>> {
    if field.starts_with("__") {
        return None;
    }
    let declared = registry
        .types
        .get(parent_type)
        .and_then(|ty| ty.field_by_name(field))
        .map(|meta| meta.requires_scopes.as_slice())
        .unwrap_or_default();
    Some(match declared {
        [scope] => scope.parse::<Scope>(),
        _ => Err(format!("`{field}` declares no single scope and is refused to everyone")),
    })
}

/// The guard of a root object's fields: the caller must hold the scope the field
/// declares; a field that declares none is refused to everyone.
pub(crate) struct Scoped(pub &'static str);

impl Scoped {
    pub(crate) const QUERY: Scoped = Scoped("Query");
    pub(crate) const MUTATION: Scoped = Scoped("Mutation");
}

impl async_graphql::Guard for Scoped {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let field = ctx.item.node.name.node.as_str();
        let refusal = match declared_scope(&ctx.schema_env.registry, self.0, field) {
            None => None,
            Some(Ok(needed)) if ctx.data_opt::<Caller>().is_some_and(|caller| caller.may(needed)) => None,
            Some(Ok(needed)) => Some(format!("`{field}` needs the `{}` scope", needed.as_str())),
            Some(Err(undeclared)) => {
                tracing::error!(field, "a root field without a declared scope was refused");
                Some(undeclared)
            }
        };
        refusal.map_or(Ok(()), |message| Err(forbidden(message)))
    }
}

/// The guard of a subscription field, where async-graphql has no `requires_scopes`:
/// the caller must hold the scope.
pub(crate) struct Needs(pub Scope);

impl async_graphql::Guard for Needs {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        if ctx.data_opt::<Caller>().is_some_and(|caller| caller.may(self.0)) {
            return Ok(());
        }
        let field = ctx.item.node.name.node.as_str();
        Err(forbidden(format!("`{field}` needs the `{}` scope", self.0.as_str())))
    }
}

pub(crate) fn forbidden(message: String) -> async_graphql::Error {
    async_graphql::Error::new(message)
        .extend_with(|_, extensions| extensions.set("code", ErrorCode::Forbidden.as_str()))
}

pub(crate) fn too_complex(message: String) -> ServerError {
    super::errors::coded(message, "QUERY_TOO_COMPLEX")
}

/// Counts the aliases of a selection set and of the fragments it spreads (each once).
/// A chain of fragments each spreading the next is followed at most 32 deep, as the
/// parser bounds selection sets.
fn aliases(set: &SelectionSet, document: &ExecutableDocument, seen: &mut Vec<String>, depth: usize) -> usize {
    if depth > 32 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some())
                    + aliases(&field.node.selection_set.node, document, seen, depth + 1)
            }
            Selection::InlineFragment(fragment) => {
                aliases(&fragment.node.selection_set.node, document, seen, depth + 1)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.to_string();
                match document.fragments.get(&spread.node.fragment_name.node) {
                    Some(fragment) if !seen.contains(&name) => {
                        seen.push(name);
                        aliases(&fragment.node.selection_set.node, document, seen, depth + 1)
                    }
                    _ => 0,
                }
            }
        })
        .sum()
}

/// The names of the fields at the root of a selection set, through fragments.
fn root_fields<'a>(set: &'a SelectionSet, document: &'a ExecutableDocument, depth: usize, names: &mut Vec<&'a str>) {
    if depth > 16 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => names.push(field.node.name.node.as_str()),
            Selection::InlineFragment(fragment) => {
                root_fields(&fragment.node.selection_set.node, document, depth + 1, names)
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    root_fields(&fragment.node.selection_set.node, document, depth + 1, names);
                }
            }
        }
    }
}

/// Checks the limits of `document` (and introspection, when switched off).
pub(crate) fn check(limits: &Limits, document: &ExecutableDocument) -> Result<(), ServerError> {
    let mut seen = Vec::new();
    let mut alias_count = 0;
    for (_, operation) in document.operations.iter() {
        let set = &operation.node.selection_set.node;
        let mut names = Vec::new();
        root_fields(set, document, 0, &mut names);
        // Introspection fields are no root fields of `Query`: `Scoped` never sees them.
        if !limits.introspection && names.iter().any(|name| matches!(*name, "__schema" | "__type")) {
            let message = "introspection is switched off (PROFILES_INTROSPECTION)";
            return Err(super::errors::coded(message, ErrorCode::Forbidden.as_str()));
        }
        let roots = names.len();
        if roots > limits.max_root_fields {
            return Err(too_complex(format!(
                "an operation has {roots} root fields; the limit is {} (PROFILES_MAX_ROOT_FIELDS)",
                limits.max_root_fields
            )));
        }
        alias_count += aliases(set, document, &mut seen, 0);
    }
    if alias_count > limits.max_aliases {
        return Err(too_complex(format!(
            "the document has {alias_count} aliases; the limit is {} (PROFILES_MAX_ALIASES)",
            limits.max_aliases
        )));
    }
    Ok(())
}

/// The document of a request within the size limit, parsed once: the parse is kept on
/// the request, and async-graphql reuses it. A document that does not parse is
/// GRAPHQL_PARSE_FAILED, or QUERY_TOO_COMPLEX when it is nested past the parser's
/// bound. [`check`] then checks its limits.
pub(crate) fn parse<'r>(
    request: &'r mut async_graphql::Request,
    limits: &Limits,
) -> Result<&'r ExecutableDocument, ServerError> {
    if request.query.len() > limits.max_query_bytes {
        return Err(too_complex(format!(
            "the query is {} bytes; the limit is {} (PROFILES_MAX_QUERY_BYTES)",
            request.query.len(),
            limits.max_query_bytes
        )));
    }
    request.parsed_query().map_err(|error| {
        let limit = error.message.starts_with("The recursion depth of the query");
        let mut coded =
            super::errors::coded(error.message, if limit { "QUERY_TOO_COMPLEX" } else { "GRAPHQL_PARSE_FAILED" });
        coded.locations = error.locations;
        coded
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, Value};

    use super::*;

    struct Root;

    #[Object(guard = "Scoped(\"Root\")")]
    impl Root {
        #[graphql(requires_scopes = "profiles:read")]
        async fn declared(&self) -> i32 {
            1
        }

        async fn undeclared(&self) -> i32 {
            2
        }

        #[graphql(requires_scopes = "profiles:everything")]
        async fn unknown(&self) -> i32 {
            3
        }
    }

    async fn run(query: &str, caller: Caller) -> async_graphql::Response {
        let schema = Schema::build(Root, EmptyMutation, EmptySubscription).finish();
        schema.execute(async_graphql::Request::new(query).data(caller)).await
    }

    #[tokio::test]
    async fn a_root_field_is_refused_unless_it_declares_a_scope_the_caller_holds() {
        let everything = || Caller::with(Scope::ALL);
        assert_eq!(run("{ declared }", everything()).await.data.to_string(), "{declared: 1}");
        let reader_only = run("{ declared }", Caller::with([])).await;
        assert_eq!(reader_only.errors[0].message, "`declared` needs the `profiles:read` scope");
        for field in ["undeclared", "unknown"] {
            let response = run(&format!("{{ {field} }}"), everything()).await;
            let code = response.errors[0].extensions.as_ref().and_then(|e| e.get("code")).cloned();
            assert_eq!(code, Some(Value::from("FORBIDDEN")), "{field}: {:?}", response.errors);
        }
    }
}
