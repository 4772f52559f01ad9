//! The documentation's GraphQL examples run as written, against the demo data.
//!
//! Every ```` ```graphql ```` block of `README.md` and of `docs/*.md` is an example. The
//! database is first seeded with the `seed` command the README's quick tour gives (run
//! through the real binary, arguments read from the README), so that what a newcomer
//! types is what is tested. Then, in the order a reader meets them:
//!
//! 1. each subscription starts on a real WebSocket (graphql-transport-ws);
//! 2. each mutation runs, with no error and no `userErrors` anywhere in its payload;
//! 3. each subscription has received an event, without errors (the mutations made it);
//! 4. each query runs without errors, no root field is null, and every `nodes` list it
//!    returns holds at least one node — so a finding example (a filter, a search, a
//!    key) must find something in the demo data, whatever the date.
//!
//! Examples are written with literals, never variables: an example declaring one would
//! fail here for the missing value (`BAD_USER_INPUT`), as it would for a reader
//! pasting it into GraphiQL. A block of schema definitions (SDL: `type`, `input`, …) in
//! `docs/` is shown, not run; every block of the README must be an operation.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, error_codes};
use crate::webhooks::{Socket, connect, next, serve};

/// A ```` ```graphql ```` block and the file it is in.
struct Example {
    file: String,
    text: String,
}

impl Example {
    /// An operation (`{ … }`, `query`, `mutation`, `subscription`), not SDL.
    fn runs(&self) -> bool {
        let start = self.text.trim_start();
        start.starts_with('{') || ["query", "mutation", "subscription"].iter().any(|kind| start.starts_with(kind))
    }

    fn kind(&self) -> &str {
        let start = self.text.trim_start();
        ["mutation", "subscription"].into_iter().find(|kind| start.starts_with(kind)).unwrap_or("query")
    }
}

/// The README, then the files of `docs/` in name order.
fn documents() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("the docs folder")
        .map(|entry| entry.expect("a docs entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    std::iter::once(root.join("README.md"))
        .chain(docs)
        .map(|path| {
            let name = path.strip_prefix(root).expect("inside the checkout").display().to_string();
            (name, std::fs::read_to_string(&path).expect("a readable document"))
        })
        .collect()
}

fn examples(documents: &[(String, String)]) -> Vec<Example> {
    documents
        .iter()
        .flat_map(|(file, text)| {
            text.split("```graphql\n").skip(1).map(|rest| Example {
                file: file.clone(),
                text: rest.split("```").next().expect("split yields a first part").to_owned(),
            })
        })
        .collect()
}

/// The arguments of the quick tour's `cargo run --release -- seed …` line.
fn seed_arguments(readme: &str) -> Vec<String> {
    let line = readme
        .lines()
        .find_map(|line| line.trim().strip_prefix("cargo run --release -- seed"))
        .expect("the README shows how to seed demo data");
    let arguments = line.split('#').next().expect("split yields a first part");
    std::iter::once("seed").chain(arguments.split_whitespace()).map(str::to_owned).collect()
}

/// Every non-empty `userErrors` list anywhere in `value`.
fn user_errors(value: &Value, found: &mut Vec<Value>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                if key == "userErrors" && field.as_array().is_some_and(|errors| !errors.is_empty()) {
                    found.push(field.clone());
                }
                user_errors(field, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| user_errors(item, found)),
        _ => {}
    }
}

/// The path of every empty `nodes` list in `value`.
fn empty_pages(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                let here = format!("{path}.{key}");
                if key == "nodes" && field.as_array().is_some_and(Vec::is_empty) {
                    found.push(here.clone());
                }
                empty_pages(field, &here, found);
            }
        }
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(n, item)| empty_pages(item, &format!("{path}.{n}"), found));
        }
        _ => {}
    }
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::Text(message.to_string().into())).await.expect("sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_graphql_example_of_the_docs_runs_against_the_demo_data() {
    let documents = documents();
    let mut examples = examples(&documents);
    let shown = examples.iter().filter(|e| !e.runs()).map(|e| format!("{}:\n{}", e.file, e.text)).collect::<Vec<_>>();
    assert!(shown.iter().all(|e| !e.starts_with("README.md")), "every README block is an operation: {shown:?}");
    examples.retain(Example::runs);
    let of_kind = |kind: &str| examples.iter().filter(|e| e.kind() == kind).collect::<Vec<_>>();
    let (queries, mutations, subscriptions) = (of_kind("query"), of_kind("mutation"), of_kind("subscription"));
    let in_readme = examples.iter().filter(|e| e.file == "README.md").count();
    assert!(in_readme >= 4, "the README shows a read, a write, a search and a subscription; found {in_readme}");
    assert!(!subscriptions.is_empty(), "a subscription example");

    let app = TestApp::spawn().await;
    let seed = seed_arguments(&documents[0].1);
    let arguments: Vec<&str> = seed.iter().map(String::as_str).collect();
    let seeded = tokio::task::block_in_place(|| app.binary(&arguments));
    assert!(seeded.status.success(), "{seed:?}: {}", String::from_utf8_lossy(&seeded.stderr));

    // 1. Subscriptions first, so that the mutations' events reach them.
    let (address, _stop) = serve(&app).await;
    let mut sockets = Vec::new();
    for (n, example) in subscriptions.iter().enumerate() {
        let mut socket = connect(address, None).await;
        assert_eq!(next(&mut socket).await.expect("an ack")["type"], "connection_ack");
        let mut waiters = app.services.notifier.waiters();
        send(&mut socket, json!({ "id": n.to_string(), "type": "subscribe", "payload": { "query": example.text } }))
            .await;
        // A subscription reads the latest event and then waits: told once it waits.
        let started = tokio::time::timeout(Duration::from_secs(20), waiters.changed()).await;
        assert!(started.is_ok_and(|open| open.is_ok()), "{}: the subscription starts\n{}", example.file, example.text);
        sockets.push(socket);
    }

    // 2. Mutations, in the order of the documents.
    for example in &mutations {
        let response = app.graphql(&example.text, json!({})).await;
        let context = format!("{}:\n{}\n{response:#}", example.file, example.text);
        assert!(response.get("errors").is_none(), "errors {:?}: {context}", error_codes(&response));
        let mut problems = Vec::new();
        user_errors(&response["data"], &mut problems);
        assert!(problems.is_empty(), "userErrors: {context}");
    }

    // 3. Each subscription saw at least one of those changes.
    for (socket, example) in sockets.iter_mut().zip(&subscriptions) {
        let message = next(socket).await.expect("an event, not a close");
        let context = format!("{}:\n{}\n{message:#}", example.file, example.text);
        assert_eq!(message["type"], "next", "{context}");
        assert!(message["payload"].get("errors").is_none(), "{context}");
        assert!(message["payload"]["data"].as_object().is_some_and(|data| !data.is_empty()), "{context}");
    }

    // 4. Queries find what they look for.
    for example in &queries {
        let response = app.graphql(&example.text, json!({})).await;
        let context = format!("{}:\n{}\n{response:#}", example.file, example.text);
        assert!(response.get("errors").is_none(), "errors {:?}: {context}", error_codes(&response));
        let data = response["data"].as_object().expect("data");
        let nulls: Vec<&String> = data.iter().filter(|(_, value)| value.is_null()).map(|(key, _)| key).collect();
        assert!(nulls.is_empty(), "root fields {nulls:?} found nothing: {context}");
        let mut empty = Vec::new();
        empty_pages(&response["data"], "data", &mut empty);
        assert!(empty.is_empty(), "{empty:?} found no profile: {context}");
    }
}
