//! Graceful shutdown (in process, with the signal injected), and the real binary:
//! SIGTERM and JSON logs, the token commands, and refusing to serve without tokens on
//! a public address.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use crate::binary::Binary;
use crate::helpers::TestApp;

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("an address").port()
}

/// In process, with the shutdown signal injected: a request whose body is still
/// arriving when the signal comes completes, while the listener already refuses new
/// connections. The test is told each step (the request is in flight, the listener
/// closed, the server drained) rather than sleeping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_completes_after_the_stop_while_new_connections_are_refused() {
    use profiles_gateway::http::serve::{ConnectionLimits, Server};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    let server = Server::new(listener, profiles_gateway::http::router(app.state.clone()), ConnectionLimits::default());
    let mut accepting = server.accepting();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let serving = tokio::spawn(server.run(stopped));

    let body = r#"{"query":"query Slow { tiers { handle } }"}"#;
    let (head, tail) = body.split_at(10);
    let mut in_flight = tokio::net::TcpStream::connect(address).await.expect("connect");
    let start = format!(
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
        body.len()
    );
    in_flight.write_all(start.as_bytes()).await.expect("send the start");
    app.state.in_flight.subscribe().wait_for(|n| *n == 1).await.expect("the request reaches the router");

    stop.send_replace(true);
    accepting.wait_for(|accepting| !*accepting).await.expect("the listener closes");
    assert!(tokio::net::TcpStream::connect(address).await.is_err(), "new connections are refused");

    in_flight.write_all(tail.as_bytes()).await.expect("send the rest");
    let mut response = Vec::new();
    in_flight.read_to_end(&mut response).await.expect("the response, then the close");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#"{"data":{"tiers":[]}}"#), "{response}");
    serving.await.expect("the server drains and returns");
}

/// The real binary: SIGTERM ends it cleanly, and its JSON log has the request's line
/// (id, status, operation) and the shutdown's.
#[tokio::test]
async fn sigterm_stops_the_binary_cleanly_with_json_logs() {
    let (url, _database) = crate::helpers::TestDatabase::create().await;
    let binary = Binary::start(&url, &[("PROFILES_LOG_FORMAT", "json"), ("RUST_LOG", "info")]);
    let mut stream = TcpStream::connect(("127.0.0.1", binary.port)).expect("connect");
    let body = r#"{"query":"query Slow { tiers { handle } }"}"#;
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-request-id: in-flight-1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("the response");
    assert!(response.contains(r#"{"data":{"tiers":[]}}"#), "{response}");

    let status = Command::new("kill").args(["-TERM", &binary.child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let (exit, log) = binary.exit();
    assert!(exit.success(), "a clean exit: {exit:?}");
    let lines: Vec<serde_json::Value> =
        log.iter().map(|line| serde_json::from_str(line).expect("a JSON log line")).collect();
    let request = lines
        .iter()
        .find(|line| line["message"] == "request" && line["span"]["request_id"] == "in-flight-1")
        .unwrap_or_else(|| panic!("the request's line: {lines:#?}"));
    assert_eq!(request["status"], "200");
    assert_eq!(request["operation"], "Slow");
    assert!(request["duration_ms"].as_f64().is_some());
    assert!(lines.iter().any(|line| line["message"] == "shutting down"));
    assert!(lines.iter().any(|line| line["message"] == "stopped"));
}

fn cli(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.join("cli.db").display()))
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

#[test]
fn the_token_commands_print_a_secret_once_and_list_and_revoke_tokens() {
    let dir = tempfile::tempdir().expect("a folder");
    let created = cli(dir.path(), &["token", "create", "--name", "bff", "--scopes", "profiles:read,profiles:write"]);
    assert!(created.status.success(), "{created:?}");
    let secret = String::from_utf8(created.stdout).expect("utf-8");
    let secret = secret.trim();
    assert!(
        secret.starts_with("pgw_") && !secret.contains(char::is_whitespace),
        "only the secret on stdout: {secret:?}"
    );

    let listed = cli(dir.path(), &["token", "list"]);
    let listing = String::from_utf8(listed.stdout).expect("utf-8");
    assert!(listing.contains("bff") && listing.contains("profiles:read,profiles:write"), "{listing}");
    assert!(!listing.contains(secret), "the secret is never shown again");

    assert!(cli(dir.path(), &["token", "revoke", "1"]).status.success());
    let listing = String::from_utf8(cli(dir.path(), &["token", "list"]).stdout).expect("utf-8");
    assert!(!listing.lines().nth(1).unwrap_or_default().trim_end().ends_with('-'), "revoked: {listing}");
    assert!(!cli(dir.path(), &["token", "revoke", "1"]).status.success(), "revoking twice fails");
    let bad = cli(dir.path(), &["token", "create", "--name", "x", "--scopes", "profiles:delete"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope"));
}

#[test]
fn auth_off_on_a_public_address_refuses_to_start() {
    let dir = tempfile::tempdir().expect("a folder");
    let output = Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.path().join("off.db").display()))
        .env("PROFILES_LISTEN", format!("0.0.0.0:{}", free_port()))
        .env("PROFILES_AUTH", "off")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "it must not serve");
    assert!(String::from_utf8_lossy(&output.stderr).contains("refusing to serve profiles without tokens"));
}
