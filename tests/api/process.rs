//! The real binary under attack, on the test's database (SQLite or PostgreSQL):
//! nesting bombs (authenticated or not), silent, slow and idle connections, and the
//! connection cap. After each, the process must still be alive and serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary::Binary;
use crate::helpers::TestDatabase;

/// A running `profiles-gateway` on a database of its own.
struct Server {
    binary: Binary,
    port: u16,
    url: String,
    _database: TestDatabase,
}

impl Server {
    async fn start(settings: &[(&str, &str)]) -> Server {
        let (url, database) = TestDatabase::create().await;
        let binary = Binary::start(&url, settings);
        Server { port: binary.port, binary, url, _database: database }
    }

    fn alive(&mut self) -> bool {
        self.binary.alive()
    }

    /// A token with `scopes`, made by the binary's own command on the same database.
    fn token(&self, scopes: &str) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
            .args(["token", "create", "--name", "attacker", "--scopes", scopes])
            .env("DATABASE_URL", &self.url)
            .env("RUST_LOG", "error")
            .output()
            .expect("the token command runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("a read timeout");
        stream
    }

    /// Sends one request on a new connection (closed after it) and returns the status
    /// and the JSON body.
    fn send(&self, method: &str, target: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let mut stream = self.connect();
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes())).expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read the response");
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("a status line: {text:?}"));
        let body = text.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    fn post(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.send("POST", "/graphql", token, &body.to_string())
    }

    fn still_serves(&mut self) {
        assert!(self.alive(), "the process died");
        let (status, _) = self.send("GET", "/healthz", None, "");
        assert_eq!(status, 200, "the process answers");
    }
}

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

/// `[[[…"a"…]]]`, `depth` deep.
fn list_bomb(depth: usize) -> String {
    format!("{}\"a\"{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn nesting_bombs_are_refused_before_parsing_and_the_process_lives() {
    let mut server = Server::start(&[("PROFILES_AUTH", "required")]).await;
    let token = server.token("profiles:read,profiles:write");
    let bomb = format!("{{ profiles(filter: {{ tags: {} }}) {{ totalCount }} }}", list_bomb(1600));
    let object_bomb = format!(
        "{{ profiles(filter: {{ tags: [\"a\"] }}, search: {}1{}) {{ totalCount }} }}",
        "{a: ".repeat(2000),
        "}".repeat(2000)
    );

    // Unauthenticated: refused before anything parses the document, GET and POST alike.
    let get = format!("/graphql?query={}", url::form_urlencoded::byte_serialize(bomb.as_bytes()).collect::<String>());
    let (status, response) = server.send("GET", &get, None, "");
    assert_eq!((status, code(&response)), (401, "UNAUTHENTICATED"), "{response}");
    server.still_serves();
    let (status, response) = server.post(None, &json!({ "query": bomb }));
    assert_eq!((status, code(&response)), (401, "UNAUTHENTICATED"), "{response}");
    server.still_serves();

    // Authenticated: every shape of bomb is a coded error, over GET and POST.
    let fragments: String =
        (0..1500).map(|n| format!("fragment F{n} on Query {{ ...F{} }} ", n + 1)).collect::<String>()
            + "fragment F1500 on Query { __typename }";
    let variables_bomb = (0..100).fold(json!("a"), |inner, _| json!([inner]));
    let cases: Vec<(&str, Value, &str)> = vec![
        ("a list literal 1,600 deep", json!({ "query": bomb }), "QUERY_TOO_COMPLEX"),
        ("an object literal 2,000 deep", json!({ "query": object_bomb }), "QUERY_TOO_COMPLEX"),
        (
            "selection sets 2,000 deep",
            json!({ "query": format!("{}{}", "{ profiles { nodes { ".repeat(1000), "} } }".repeat(1000)) }),
            "QUERY_TOO_COMPLEX",
        ),
        ("a chain of 1,500 fragments", json!({ "query": format!("{{ ...F0 }} {fragments}") }), "QUERY_TOO_COMPLEX"),
        (
            "variables 100 deep",
            json!({ "query": "query($t: [String!]) { profiles(filter: { tags: $t }) { totalCount } }", "variables": { "t": variables_bomb } }),
            "BAD_USER_INPUT",
        ),
    ];
    for (case, body, expected) in cases {
        let (status, response) = server.post(Some(&token), &body);
        assert!(status < 500, "{case}: {status}");
        assert_eq!(code(&response), expected, "{case}: {response}");
        server.still_serves();
    }
    let (status, response) = server.send("GET", &get, Some(&token), "");
    assert_eq!((status, code(&response)), (200, "QUERY_TOO_COMPLEX"), "{response}");
    // Variables JSON past serde_json's own bound (128) is a malformed body.
    let deep_json = format!(
        "{{\"query\": \"{{ __typename }}\", \"variables\": {{\"v\": {}1{}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let (status, response) = server.send("POST", "/graphql", Some(&token), &deep_json);
    assert_eq!((status, code(&response)), (400, "BAD_REQUEST"), "{response}");
    server.still_serves();
}

/// Reads until the server closes the connection; fails if it is still open when the
/// read timeout (20 s) runs out.
fn closed_by_server(stream: &mut TcpStream) {
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(error) => panic!("the server kept the connection open: {error}"),
        }
    }
}

#[tokio::test]
async fn silent_slow_and_idle_connections_are_closed_and_the_cap_holds() {
    let mut server = Server::start(&[
        ("PROFILES_HEADER_TIMEOUT", "1s"),
        ("PROFILES_IDLE_TIMEOUT", "2s"),
        ("PROFILES_MAX_CONNECTIONS", "4"),
    ])
    .await;

    // Silent: connects and sends nothing.
    let mut silent = server.connect();
    closed_by_server(&mut silent);

    // Slowloris: a header a byte at a time, never finished.
    let mut slow = server.connect();
    let started = Instant::now();
    // A byte every 100 ms: between two, waits to be told the server closed it.
    slow.set_read_timeout(Some(Duration::from_millis(100))).expect("a read timeout");
    for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".iter().cycle() {
        if slow.write_all(&[*byte]).is_err() {
            break; // the server closed it
        }
        assert!(started.elapsed() < Duration::from_secs(20), "a slow header is still being read");
        match slow.read(&mut [0u8; 64]) {
            Ok(0) => break, // the server closed it
            Ok(_) => {}     // what it said before closing
            Err(error) if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => break, // reset by the server
        }
    }

    // Idle: one request on a kept-alive connection, then nothing.
    let mut idle = server.connect();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("send");
    let mut buffer = [0u8; 1024];
    let read = idle.read(&mut buffer).expect("the response");
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    closed_by_server(&mut idle);

    // The cap: four silent connections hold every slot, so a fifth request is served
    // only once the header timeout has closed one of them.
    let mut holders: Vec<TcpStream> = (0..4).map(|_| server.connect()).collect();
    let (status, _) = server.send("GET", "/healthz", None, "");
    assert_eq!(status, 200);
    let mut closed = 0;
    for holder in &mut holders {
        holder.set_nonblocking(true).expect("non-blocking");
        closed += usize::from(match holder.read(&mut [0u8; 16]) {
            Ok(read) => read == 0,
            Err(error) => error.kind() != std::io::ErrorKind::WouldBlock,
        });
    }
    assert!(closed >= 1, "the fifth request was served while four connections held every slot");
    server.still_serves();
}
