//! Start-up through the real binary: a `DATABASE_URL` that waiting cannot fix fails at
//! once, naming the setting and the fix; a database that may yet answer is waited for,
//! saying why; replicas migrating one new database together never race.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;

use crate::helpers::{TestDatabase, on_postgres};

/// Runs the binary as `helpers::run_binary_with` does; its output and how long it took.
fn run(url: &str, args: &[&str], settings: &[(&str, &str)]) -> (Output, Duration) {
    let started = Instant::now();
    let output = crate::helpers::run_binary_with(url, args, settings);
    (output, started.elapsed())
}

/// `migrate` on `url` with a minute to wait must fail within seconds, its message
/// containing every one of `expected`, and retry nothing.
fn fails_at_once(url: &str, expected: &[&str]) {
    let (output, took) = run(url, &["migrate"], &[("PROFILES_DB_CONNECT_WAIT", "60s")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{url}: {stderr}");
    assert!(took < Duration::from_secs(15), "{url}: took {took:?} to fail: {stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{url}: `{part}` in {stderr}");
    }
    assert!(!stderr.contains("retrying"), "{url}: nothing to wait for: {stderr}");
}

#[test]
fn a_database_url_that_waiting_cannot_fix_fails_at_once_naming_the_fix() {
    let folder = tempfile::tempdir().expect("a folder");
    let path = |name: &str| folder.path().join(name).display().to_string();
    std::fs::write(path("a-file"), "not a folder").expect("written");

    fails_at_once("profiles.db", &["DATABASE_URL", "has no scheme", "sqlite://FILE?mode=rwc", "postgres://"]);
    fails_at_once("mysql://me:secret@127.0.0.1/profiles", &["DATABASE_URL", "scheme `mysql`", "sqlite://"]);
    fails_at_once("postgres://me@127.0.0.1:notaport/profiles", &["DATABASE_URL cannot be read"]);
    let missing_file = path("missing.db");
    fails_at_once(
        &format!("sqlite://{missing_file}"),
        &[
            "DATABASE_URL",
            &missing_file,
            "does not exist",
            "add ?mode=rwc",
            &format!("sqlite://{missing_file}?mode=rwc"),
        ],
    );
    assert!(!std::path::Path::new(&missing_file).exists(), "nothing was created");
    let missing_folder = path("no-such-folder");
    fails_at_once(
        &format!("sqlite://{missing_folder}/profiles.db?mode=rwc"),
        &["DATABASE_URL", "a folder that does not exist", &format!("mkdir -p {missing_folder}")],
    );
    fails_at_once(&format!("sqlite://{}/profiles.db?mode=rwc", path("a-file")), &["is not a folder"]);
    // A folder no one may create files in, whoever runs the test (root included).
    fails_at_once(
        "sqlite:///proc/profiles.db?mode=rwc",
        &["cannot write SQLite file /proc/profiles.db", "permissions"],
    );
}

/// A copy of the `TEST_DATABASE_URL` server's URL changed by `change`.
fn server_url(change: impl FnOnce(&mut url::Url)) -> String {
    let server = std::env::var("TEST_DATABASE_URL").expect("PostgreSQL");
    let mut url = url::Url::parse(&server).expect("a URL");
    change(&mut url);
    url.to_string()
}

#[test]
fn postgresql_refusing_the_user_or_missing_the_database_fails_at_once() {
    if !on_postgres() {
        eprintln!("the PostgreSQL URL cases run on PostgreSQL (set TEST_DATABASE_URL)");
        return;
    }
    let name = format!("pgw_missing_{}", uuid::Uuid::new_v4().simple());
    let missing = server_url(|url| url.set_path(&name));
    fails_at_once(&missing, &["has no database", &name, "createdb", "DATABASE_URL"]);
    // Trust authentication here: an unknown role is the refusal this server can give.
    let stranger = server_url(|url| {
        url.set_username("nosuchrole").expect("a user");
        url.set_password(None).expect("no password");
    });
    fails_at_once(&stranger, &["refused user `nosuchrole`", "nosuchrole", "user and password in DATABASE_URL"]);
}

#[test]
fn a_refused_connection_is_retried_saying_so_until_the_wait_ends() {
    // A port bound but not listening, for the whole test: connections to it are refused,
    // and no other test's server can take it meanwhile.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.bind("127.0.0.1:0".parse().expect("an address")).expect("a port");
    let port = socket.local_addr().expect("its address").port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let (output, took) = run(&url, &["migrate"], &[("PROFILES_DB_CONNECT_WAIT", "2s")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("connection refused at 127.0.0.1:{port}; retrying in 500ms")), "{stderr}");
    assert!(stderr.contains("did not answer within PROFILES_DB_CONNECT_WAIT=2s"), "{stderr}");
    assert!(took < Duration::from_secs(15), "gave up after the wait: {took:?}");
    drop(socket);
}

/// The migrations a database has applied.
async fn applied(url: &str) -> i64 {
    let db = sea_orm::Database::connect(url).await.expect("connect");
    let statement =
        sea_orm::Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM seaql_migrations");
    let row = db.query_one_raw(statement).await.expect("counted").expect("a row");
    let count = row.try_get::<i64>("", "n").expect("a count");
    db.close().await.expect("closed");
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_migrating_one_new_database_at_once_apply_each_migration_once() {
    const REPLICAS: usize = 4;
    let (url, _database) = TestDatabase::create().await;
    let children: Vec<_> = (0..REPLICAS)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_profiles-gateway"))
                .arg("migrate")
                .env("DATABASE_URL", &url)
                .env_remove("RUST_LOG")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the binary starts")
        })
        .collect();
    let outputs: Vec<Output> = tokio::task::spawn_blocking(move || {
        children.into_iter().map(|child| child.wait_with_output().expect("it ends")).collect()
    })
    .await
    .expect("joined");
    let said: Vec<String> = outputs.iter().map(|output| String::from_utf8_lossy(&output.stderr).into_owned()).collect();
    assert!(outputs.iter().all(|output| output.status.success()), "{said:#?}");
    let appliers: Vec<&String> = said.iter().filter(|said| said.starts_with("Applied ")).collect();
    assert_eq!(appliers.len(), 1, "one replica applies the migrations: {said:#?}");
    assert_eq!(
        said.iter().filter(|said| said.contains("up to date")).count(),
        REPLICAS - 1,
        "the others find nothing pending: {said:#?}"
    );
    let count: i64 = appliers[0]
        .trim_start_matches("Applied ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count in {}", appliers[0]));
    assert!(count > 0);
    assert_eq!(applied(&url).await, count, "each migration recorded once");
}

/// Runs `sql` on the database at `url`.
async fn execute(url: &str, sql: &str) {
    let db = sea_orm::Database::connect(url).await.expect("connect");
    db.execute_unprepared(sql).await.expect(sql);
    db.close().await.expect("closed");
}

/// An older replica restarting during a rolling upgrade (or a roll-back) finds migrations
/// it does not know: it runs on the newer schema, saying so, rather than refusing to
/// start. A history that forked (a known migration missing under unknown ones) is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_a_newer_build_migrated_is_run_on_as_it_is_and_a_forked_one_is_refused() {
    let (url, _database) = TestDatabase::create().await;
    let (output, _) = run(&url, &["migrate"], &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let before = applied(&url).await;
    execute(
        &url,
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29991231_000001_from_a_newer_build', 0)",
    )
    .await;

    for args in [&["migrate"][..], &["export", "-"][..]] {
        let (output, _) = run(&url, args, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(stderr.contains("m29991231_000001_from_a_newer_build"), "{args:?} names it: {stderr}");
        assert!(stderr.contains("does not know"), "{args:?}: {stderr}");
    }
    assert_eq!(applied(&url).await, before + 1, "nothing applied, nothing removed");

    execute(&url, "DELETE FROM seaql_migrations WHERE version = 'm20261207_000002_delivery_share'").await;
    let (output, _) = run(&url, &["migrate"], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("forked") && stderr.contains("m20261207_000002_delivery_share"), "{stderr}");
}

/// A service role that may read and write rows but not change the schema, started
/// while a migration is pending, is told to migrate as the tables' owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_may_not_change_the_schema_is_told_to_migrate_as_the_owner() {
    if !on_postgres() {
        eprintln!("roles are PostgreSQL's (set TEST_DATABASE_URL)");
        return;
    }
    let (url, _database) = TestDatabase::create().await;
    let role = format!("pgw_role_{}", uuid::Uuid::new_v4().simple());
    execute(&url, &format!("CREATE ROLE {role} LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO {role}")).await;
    let mut as_role = url::Url::parse(&url).expect("a URL");
    as_role.set_username(&role).expect("a user");
    let (output, _) = run(as_role.as_str(), &["migrate"], &[("RUST_BACKTRACE", "0")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    execute(&url, &format!("DROP OWNED BY {role}; DROP ROLE {role}")).await;
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("this role may not change the schema"), "{stderr}");
    assert!(stderr.contains("run `profiles-gateway migrate` as the tables' owner"), "{stderr}");
}
