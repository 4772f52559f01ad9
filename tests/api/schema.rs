//! The contract: `schema.graphql` is the schema, and everything in it is described.

use serde_json::{Value, json};

use crate::helpers::TestApp;

#[test]
fn schema_graphql_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let sdl = profiles_gateway::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &sdl).expect("write schema.graphql");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == sdl,
        "schema.graphql differs from the schema the code builds; review the change, then run \
         `UPDATE_SCHEMA=1 cargo test --test api schema` to write it"
    );
}

#[tokio::test]
async fn every_type_field_argument_and_value_has_a_description() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            "{ __schema { types { name kind description
                 fields { name description args { name description } }
                 inputFields { name description }
                 enumValues { name description } } } }",
            json!({}),
        )
        .await;
    let described = |item: &Value| item["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    let mut missing = Vec::new();
    for ty in data["__schema"]["types"].as_array().expect("types") {
        let name = ty["name"].as_str().expect("a name");
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        for (list, kind) in [("fields", "field"), ("inputFields", "input field"), ("enumValues", "value")] {
            for item in ty[list].as_array().into_iter().flatten() {
                if !described(item) {
                    missing.push(format!("{kind} {name}.{}", item["name"]));
                }
                for arg in item["args"].as_array().into_iter().flatten() {
                    if !described(arg) {
                        missing.push(format!("argument {name}.{}({})", item["name"], arg["name"]));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:#?}");
}

/// Every root field declares the one scope it needs where it is declared
/// (`requires_scopes`), which the federation SDL shows as `@requiresScopes`; the
/// guard refuses a field that declares none, so a new one without fails here first.
#[test]
fn every_root_field_declares_its_scope() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let sdl = profiles_gateway::graphql::sdl_with_scopes();
    let document = async_graphql::parser::parse_schema(&sdl).expect("the federation SDL parses");
    let mut checked = 0;
    let mut problems = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let name = ty.node.name.node.as_str();
        let TypeKind::Object(object) = &ty.node.kind else { continue };
        if !matches!(name, "Query" | "Mutation") {
            continue;
        }
        for field in &object.fields {
            let field_name = field.node.name.node.as_str();
            if field_name.starts_with('_') {
                continue; // federation's own `_service`
            }
            checked += 1;
            let scopes: Vec<String> = field
                .node
                .directives
                .iter()
                .filter(|d| d.node.name.node == "requiresScopes")
                .flat_map(|d| d.node.arguments.iter().map(|(_, value)| value.node.to_string()))
                .collect();
            let known = ["[[\"profiles:read\"]]", "[[\"profiles:write\"]]", "[[\"profiles:merge\"]]", "[[\"admin\"]]"];
            if scopes.len() != 1 || !known.contains(&scopes[0].as_str()) {
                problems.push(format!("{name}.{field_name}: {scopes:?}"));
            }
        }
    }
    assert_eq!(checked, 55, "every root field was walked");
    assert!(problems.is_empty(), "root fields without one known scope: {problems:#?}");
}
