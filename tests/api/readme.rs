//! The README's GraphQL examples run as written.

use serde_json::json;

use crate::helpers::{TestApp, error_codes};

#[tokio::test]
async fn every_graphql_example_in_the_readme_runs_without_errors() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("the README");
    let examples: Vec<&str> = readme.split("```graphql").skip(1).filter_map(|rest| rest.split("```").next()).collect();
    assert!(examples.len() >= 3, "the README shows queries and a mutation");
    let app = TestApp::spawn().await;
    // Mutations first, so the queries find something.
    let mut ordered = examples.clone();
    ordered.sort_by_key(|example| !example.trim_start().starts_with("mutation"));
    for example in ordered {
        let response = app.graphql(example, json!({})).await;
        assert!(error_codes(&response).is_empty(), "{example}\n{response}");
        let text = response.to_string();
        assert!(!text.contains("\"code\":"), "no user errors either: {response}");
    }
}
