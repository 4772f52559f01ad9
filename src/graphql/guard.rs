//! What a request may ask: scopes at the root fields, and limits on the document.
//!
//! Each root field declares the scope it needs where it is declared, as
//! `#[graphql(requires_scopes = "profiles:read")]` (queries), `"profiles:write"`
//! (profile mutations) or `"admin"` (reference data): async-graphql keeps it in the
//! schema's registry, and prints it only in the federation SDL, so `schema.graphql`
//! does not show it. It is checked here, once, for every root field, and the default
//! is to deny: a root field that declares no scope, or an unknown one, is refused
//! with FORBIDDEN for everyone (a test walks the schema and fails on such a field).
//! A missing scope fails that field with FORBIDDEN.
//! Introspection is open to any caller the request got through with, unless switched
//! off (`PROFILES_INTROSPECTION=false`), which refuses it with FORBIDDEN.
//!
//! Limits async-graphql does not have: document size, root fields per operation and
//! aliases per document, each QUERY_TOO_COMPLEX naming the limit. Depth and complexity
//! are async-graphql's own (`Schema::limit_depth`, `limit_complexity`).

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Value, Variables};

use super::Limits;
use crate::auth::{Caller, Scope};
use crate::error::ErrorCode;

/// The scope the root field `field` of `parent_type` declares: `None` for
/// introspection, `Some(Err(..))` when it declares none (or an unknown one).
pub fn declared_scope(
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

pub struct Guard {
    pub limits: Limits,
}

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardExtension { limits: self.limits.clone() })
    }
}

struct GuardExtension {
    limits: Limits,
}

pub fn too_complex(message: String) -> ServerError {
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

impl GuardExtension {
    fn check(&self, document: &ExecutableDocument) -> Result<(), ServerError> {
        let limits = &self.limits;
        let mut seen = Vec::new();
        let mut alias_count = 0;
        for (_, operation) in document.operations.iter() {
            let set = &operation.node.selection_set.node;
            let mut names = Vec::new();
            root_fields(set, document, 0, &mut names);
            // Introspection fields never reach `resolve`, so they are refused here.
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
}

#[async_trait::async_trait]
impl Extension for GuardExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if query.len() > self.limits.max_query_bytes {
            return Err(too_complex(format!(
                "the query is {} bytes; the limit is {} (PROFILES_MAX_QUERY_BYTES)",
                query.len(),
                self.limits.max_query_bytes
            )));
        }
        let document = next.run(ctx, query, variables).await?;
        self.check(&document)?;
        Ok(document)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_none()
            && let Some(declared) = declared_scope(&ctx.schema_env.registry, info.parent_type, info.name)
        {
            let refusal = match declared {
                Ok(needed) if ctx.data_opt::<Caller>().is_some_and(|caller| caller.may(needed)) => None,
                Ok(needed) => Some(format!("`{}` needs the `{}` scope", info.name, needed.as_str())),
                Err(undeclared) => {
                    tracing::error!(field = info.name, "a root field without a declared scope was refused");
                    Some(undeclared)
                }
            };
            if let Some(message) = refusal {
                return Err(super::errors::coded(message, ErrorCode::Forbidden.as_str()));
            }
        }
        next.run(ctx, info).await
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    struct Root;

    #[Object]
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
        let schema = Schema::build(Root, EmptyMutation, EmptySubscription)
            .extension(Guard { limits: Limits::default() })
            .finish();
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
