//! The real binary: graceful shutdown on SIGTERM, JSON logs, the token commands, and
//! refusing to serve without tokens on a public address.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on loopback.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("an address").port()
}

fn start(port: u16, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.join("shutdown.db").display()))
        .env("PROFILES_LISTEN", format!("127.0.0.1:{port}"))
        .env("PROFILES_LOG_FORMAT", "json")
        .env("PROFILES_SHUTDOWN_GRACE", "20s")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

fn wait_until_up(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_request_in_flight_completes_after_sigterm_while_new_connections_are_refused() {
    let dir = tempfile::tempdir().expect("a folder");
    let port = free_port();
    let mut server = start(port, dir.path());
    wait_until_up(port);

    // A request whose body is still arriving when the signal comes.
    let body = r#"{"query":"query Slow { tiers { handle } }"}"#;
    let (head, tail) = body.split_at(10);
    let mut in_flight = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        in_flight,
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-request-id: in-flight-1\r\nContent-Length: {}\r\n\r\n{head}",
        body.len()
    )
    .expect("send the start");
    in_flight.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));

    let status = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "new connections are still accepted 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }

    in_flight.write_all(tail.as_bytes()).expect("send the rest");
    let mut response = String::new();
    in_flight.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut buffer = [0u8; 4096];
    while !response.contains("\"tiers\"") {
        let read = in_flight.read(&mut buffer).expect("the response arrives");
        assert!(read > 0, "connection closed before the response: {response}");
        response.push_str(&String::from_utf8_lossy(&buffer[..read]));
    }
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#"{"data":{"tiers":[]}}"#), "{response}");
    drop(in_flight);

    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = server.try_wait().expect("wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "a clean exit: {exit:?}");

    // Every log line is JSON; the request's line has its id, status and operation.
    let lines: Vec<serde_json::Value> = BufReader::new(server.stderr.take().expect("stderr"))
        .lines()
        .map(|line| serde_json::from_str(&line.expect("a line")).expect("a JSON log line"))
        .collect();
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
