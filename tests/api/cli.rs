//! The command line's output is for people: no log lines unless `RUST_LOG` asks, no
//! colour into a pipe, and errors that say what to do (a seed run twice, a JSON
//! document given where NDJSON is read).

use std::process::Command;

use serde_json::{Value, json};

use crate::binary::Binary;
use crate::helpers::{TestApp, TestDatabase, run_binary_with as run, user_errors};

const ESCAPE: &str = "\x1b[";

#[tokio::test]
async fn commands_print_no_log_lines_and_no_colour_unless_rust_log_asks() {
    let (url, _database) = TestDatabase::create().await;
    let migrated = run(&url, &["migrate"], &[]);
    let stderr = String::from_utf8_lossy(&migrated.stderr);
    assert!(migrated.status.success(), "{stderr}");
    assert!(migrated.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "one sentence, no log lines: {stderr}");
    assert!(stderr.starts_with("Applied ") && stderr.ends_with(" migrations.\n"), "{stderr}");
    let again = run(&url, &["migrate"], &[]);
    assert_eq!(String::from_utf8_lossy(&again.stderr), "The database is up to date: no migration was pending.\n");

    // Asked for, the log lines come back, still without colour into a pipe.
    let (url, _database) = TestDatabase::create().await;
    let logged = run(&url, &["migrate"], &[("RUST_LOG", "info")]);
    let stderr = String::from_utf8_lossy(&logged.stderr);
    assert!(logged.status.success(), "{stderr}");
    assert!(stderr.contains("INFO") && stderr.contains("Applying migration"), "{stderr}");
    assert!(!stderr.contains(ESCAPE), "no colour into a pipe: {stderr:?}");
    let tokens = run(&url, &["token", "list"], &[("RUST_LOG", "debug")]);
    assert!(!String::from_utf8_lossy(&tokens.stderr).contains(ESCAPE));

    // The server's log, into a pipe, is plain too.
    let mut server = Binary::start(&url, &[]);
    server.child.kill().expect("stopped");
    let (_, log) = server.exit();
    assert!(!log.is_empty() && log.iter().all(|line| !line.contains(ESCAPE)), "{log:?}");
}

/// Without `RUST_LOG`, the server still logs at info: its start-up line says where it
/// listens (only the other commands keep to warnings).
#[test]
fn the_server_logs_at_info_unless_rust_log_says_otherwise() {
    use std::io::{BufRead, BufReader};
    let directory = tempfile::tempdir().expect("a folder");
    let url = format!("sqlite://{}?mode=rwc", directory.path().join("serve.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
        .env("DATABASE_URL", &url)
        .env("PROFILES_LISTEN", "127.0.0.1:0")
        .env("PROFILES_METRICS_LISTEN", "off")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, listened) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut seen = Vec::new();
    let started = loop {
        match listened.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) if line.contains("GraphiQL on http://") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    child.kill().expect("stopped");
    let _ = child.wait();
    let started = started.unwrap_or_else(|| panic!("no start-up line at info: {seen:#?}"));
    assert!(started.contains("INFO"), "{started}");
    assert!(!started.contains(ESCAPE), "no colour into a pipe: {started:?}");
}

/// The number of profiles the app's database holds.
async fn profiles(app: &TestApp) -> Value {
    app.data("{ profiles(first: 1) { totalCount } }", json!({})).await["profiles"]["totalCount"].clone()
}

/// Another seed adds profiles whose phones and emails meet none of the first seed's:
/// seeds 1, 11 and 101 shared US and New Zealand numbers before each seed had a block of
/// its own.
#[tokio::test]
async fn seeds_that_differ_add_profiles_side_by_side() {
    let app = TestApp::spawn().await;
    for seed in ["1", "11", "101"] {
        let seeded = app.binary(&["seed", "--profiles", "100", "--seed", seed]);
        assert!(seeded.status.success(), "seed {seed}: {}", String::from_utf8_lossy(&seeded.stderr));
    }
    assert_eq!(profiles(&app).await, json!(300));
}

#[tokio::test]
async fn a_seed_run_twice_says_to_pass_another_seed_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let first = app.binary(&["seed", "--profiles", "20"]);
    assert!(first.status.success(), "{first:?}");
    assert_eq!(profiles(&app).await, json!(20));
    let events = app.row_counts().await;

    let again = app.binary(&["seed", "--profiles", "30"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "{stderr}");
    assert!(stderr.contains("the demo data of seed 1 is already in this database"), "{stderr}");
    assert!(stderr.contains("nothing was written") && stderr.contains("--seed 2"), "{stderr}");
    assert!(!stderr.contains("UNIQUE") && !stderr.contains("duplicate key"), "no SQL: {stderr}");
    assert_eq!(app.row_counts().await, events, "nothing was written");

    let other = app.binary(&["seed", "--profiles", "30", "--seed", "2"]);
    assert!(other.status.success(), "{other:?}");
    assert_eq!(profiles(&app).await, json!(50));
}

/// A profile as an editor or an API shows it: pretty-printed, over many lines.
fn pretty_profile() -> Value {
    json!({
        "id": "92975ecb-5264-4d31-9f2b-789fa01f4555",
        "first_name": "Example",
        "last_name": "User",
        "email": "example.user@example.com",
        "birth_year": "1989",
        "addresses": [{ "address_line_1": "1 Main St", "city": "Melbourne", "postcode": "3000", "country": "AU" }],
        "attributes": { "comms": { "email_promo": true } }
    })
}

#[tokio::test]
async fn a_json_document_given_as_ndjson_is_told_once_with_the_jq_that_fixes_it() {
    let app = TestApp::spawn().await;
    let folder = tempfile::tempdir().expect("a folder");
    let document = folder.path().join("profile.json");
    let pretty = serde_json::to_string_pretty(&pretty_profile()).expect("JSON");
    assert!(pretty.lines().count() > 10);
    std::fs::write(&document, &pretty).expect("written");
    let path = document.display().to_string();

    let run = app.binary(&["import", &path]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "the input cannot be read as NDJSON: {stderr}");
    assert!(stderr.contains("one JSON document spread over lines, not NDJSON"), "{stderr}");
    assert!(stderr.contains("one JSON object a line"), "{stderr}");
    let ndjson = folder.path().join("profile.ndjson").display().to_string();
    assert!(stderr.contains(&format!("jq -c . {path} > {ndjson}")), "{stderr}");
    assert!(!stderr.contains("not JSON:"), "no reject a line: {stderr}");
    assert!(!folder.path().join("profile.json.rejects.ndjson").exists(), "no rejects file");
    assert_eq!(profiles(&app).await, json!(0));

    // An array, pretty or not, gets the filter that takes its items.
    let array = folder.path().join("profiles.json");
    std::fs::write(&array, serde_json::to_string_pretty(&json!([pretty_profile()])).expect("JSON")).expect("written");
    let run = app.binary(&["import", &array.display().to_string()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("a JSON array, not NDJSON") && stderr.contains("jq -c '.[]'"), "{stderr}");

    // What jq would make of it imports.
    std::fs::write(&document, format!("{}\n", pretty_profile())).expect("written");
    let run = app.binary(&["import", &path]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(profiles(&app).await, json!(1));
}

#[tokio::test]
async fn import_profiles_given_lines_of_text_answers_once_at_rows() {
    let app = TestApp::spawn().await;
    let pretty = serde_json::to_string_pretty(&pretty_profile()).expect("JSON");
    let lines: Vec<&str> = pretty.lines().collect();
    let query = "mutation($rows: [JSON!]!) { importProfiles(rows: $rows) {
        created failed results { index } userErrors { field code message } } }";
    for rows in [json!(lines), json!([pretty_profile().to_string()])] {
        let payload = app.mutate("importProfiles", query, json!({ "rows": rows })).await;
        assert_eq!(user_errors(&payload), vec![("rows".to_owned(), "INVALID".to_owned())], "{payload}");
        let message = payload["userErrors"][0]["message"].as_str().expect("a message");
        assert!(message.contains("rows are JSON objects, not text") && message.contains("jq -c ."), "{message}");
        assert_eq!((payload["created"].clone(), payload["results"].clone()), (json!(0), json!([])), "{payload}");
    }
    assert_eq!(profiles(&app).await, json!(0));
}
