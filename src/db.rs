//! Connecting to SQLite or PostgreSQL, and applying migrations. (The time of writes is
//! the services' clock: `service::clock`.)

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

pub use failure::{Kind, Unusable};

mod failure;

/// How a pool connects: its size and its patience (flags of every subcommand).
#[derive(clap::Args, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Largest number of pooled database connections.
    #[arg(
        id = "db_max_connections",
        value_name = "DB_MAX_CONNECTIONS",
        long = "db-max-connections",
        env = "PROFILES_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub max_connections: u32,

    /// How long a request waits for a database connection before SERVICE_UNAVAILABLE.
    #[arg(id = "db_acquire_timeout", value_name = "DB_ACQUIRE_TIMEOUT", long = "db-acquire-timeout", env = "PROFILES_DB_ACQUIRE_TIMEOUT", default_value = "3s", value_parser = humantime::parse_duration, global = true)]
    pub acquire_timeout: Duration,

    /// Longest a PostgreSQL statement may run.
    #[arg(id = "db_statement_timeout", value_name = "DB_STATEMENT_TIMEOUT", long = "db-statement-timeout", env = "PROFILES_DB_STATEMENT_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub statement_timeout: Duration,

    /// SQLite only: the memory, in MiB, that SQLite may keep for the whole process — the
    /// page caches of every pooled connection and their prepared statements. Past it,
    /// caches reuse their pages instead of growing.
    #[arg(
        id = "sqlite_cache_mib",
        value_name = "SQLITE_CACHE_MIB",
        long = "sqlite-cache-mib",
        env = "PROFILES_SQLITE_CACHE_MIB",
        default_value_t = 32,
        value_parser = clap::value_parser!(u32).range(1..=65_536),
        global = true
    )]
    pub sqlite_cache_mib: u32,
}

/// One connection's page cache may hold up to this much of the budget, in KiB: a write of
/// a few hundred profiles and their events otherwise spills pages to the WAL before it
/// commits (`pagerStress`, 5 % of an import, perf). SQLite's default is 2 MiB.
const SQLITE_CONNECTION_CACHE_KIB: u64 = 16 * 1024;

impl PoolSettings {
    /// The pragmas that hold SQLite to the budget. `soft_heap_limit` is process-wide:
    /// once SQLite's heap reaches it, page caches recycle their least recently used
    /// pages rather than allocate (the library is built with
    /// `SQLITE_ENABLE_MEMORY_MANAGEMENT` and memory accounting on). Without it each of
    /// the pool's connections could keep 16 MiB: on read-only traffic a soak's RSS levelled
    /// at 171 MiB, against 111 MiB at the default budget (docs/benchmarks.md, "Memory on
    /// SQLite").
    fn sqlite_memory_pragmas(&self) -> [(&'static str, String); 2] {
        let budget_kib = u64::from(self.sqlite_cache_mib) * 1024;
        [
            ("cache_size", format!("-{}", budget_kib.min(SQLITE_CONNECTION_CACHE_KIB))),
            ("soft_heap_limit", (budget_kib * 1024).to_string()),
        ]
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        crate::settings::defaults()
    }
}

/// Connects as [`connect`] does, waiting for a database that may yet answer (refused,
/// timed out, not found by name, starting up, full: [`Unusable::NotYet`]) with backoff
/// (0.5 s doubling to 10 s) for up to `wait`, and logging each failure. A setting that
/// waiting cannot fix ([`Unusable::Setting`]) fails at once.
pub async fn connect_with_retry(
    url: &str,
    settings: PoolSettings,
    wait: Duration,
) -> anyhow::Result<DatabaseConnection> {
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        let error = match connect(url, settings).await {
            Ok(db) => return Ok(db),
            Err(error) => error,
        };
        let Some(Unusable::NotYet(why)) = error.downcast_ref::<Unusable>() else { return Err(error) };
        if started.elapsed() + delay >= wait {
            let wait = failure::wait(wait);
            return Err(error.context(format!("the database did not answer within PROFILES_DB_CONNECT_WAIT={wait}")));
        }
        tracing::warn!("{why}; retrying in {}", failure::wait(delay));
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// A pooled connection idle this long is pinged before it is handed out.
pub(crate) const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// Opens a pool on `url`. SQLite files are created when the URL says `mode=rwc`, and
/// run in WAL mode with a busy timeout so that concurrent writers wait instead of fail.
/// PostgreSQL sessions get a statement timeout, and no JIT.
///
/// A URL that names no database this service speaks, or one that cannot be used, is an
/// [`Unusable`] error. PostgreSQL is tried first with one connection of its own: the
/// pool retries a refused connection until its acquire timeout and then says only
/// that it timed out, where this says why.
pub async fn connect(url: &str, settings: PoolSettings) -> anyhow::Result<DatabaseConnection> {
    let kind = failure::kind(url)?;
    if kind == Kind::Postgres {
        probe_postgres(url, settings.acquire_timeout).await?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    let statement_timeout = format!("{}ms", settings.statement_timeout.as_millis());
    options
        .max_connections(settings.max_connections)
        // SeaORM gives sqlx's pool one deadline, its acquire timeout (`connect_timeout`
        // sets the same one): a new connection refused within it is retried by sqlx and
        // reported as `PoolTimedOut`, its cause dropped. Hence the probe above.
        .acquire_timeout(settings.acquire_timeout)
        // sqlx pings every connection it hands out by default: a round trip to the
        // database before each request's statement (`Pool::acquire` was about 9 % of
        // the server's CPU on `profile(id)` under wrk, perf). Only a
        // connection idle long enough to have been dropped by a proxy or a failover is
        // pinged; one that broke under a statement is found there, and a read is run
        // once more on another (`http::graphql`).
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false)
        // No JIT: PostgreSQL compiles a statement whose estimated cost passes
        // `jit_above_cost`, and an import's statements (500 keys in one read, the contexts
        // of 200 new profiles) pass it: matching 500 rows took 70–135 ms with JIT and
        // 3–4 ms without (bench/import.py, log_min_duration_statement).
        .map_sqlx_postgres_opts(move |postgres| {
            postgres.options([("statement_timeout", statement_timeout.as_str()), ("jit", "off")])
        })
        .map_sqlx_sqlite_opts(move |sqlite| {
            let sqlite = sqlite
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("wal_autocheckpoint", "10000");
            settings.sqlite_memory_pragmas().into_iter().fold(sqlite, |sqlite, (key, value)| sqlite.pragma(key, value))
        });
    let mut db = Database::connect(options).await.map_err(|error| unusable(kind, url, error))?;
    db.set_metric_callback(crate::telemetry::record_statement);
    Ok(db)
}

/// Opens one connection to the PostgreSQL server `url` names, and closes it: why it
/// cannot be used, if it cannot.
async fn probe_postgres(url: &str, timeout: Duration) -> Result<(), Unusable> {
    use sqlx::{ConnectOptions as _, Connection as _};
    let options = url.parse::<sqlx::postgres::PgConnectOptions>().map_err(|error| failure::unreadable(&error))?;
    let options = options.disable_statement_logging();
    match tokio::time::timeout(timeout, options.connect()).await {
        Ok(Ok(connection)) => {
            // Closing politely is a courtesy: the server drops a vanished session anyway.
            let _ = connection.close().await;
            Ok(())
        }
        Ok(Err(error)) => Err(failure::postgres(&error, &options)),
        Err(_) => Err(Unusable::NotYet(format!(
            "no answer from {} in {} (PROFILES_DB_ACQUIRE_TIMEOUT)",
            failure::place(&options),
            failure::wait(timeout)
        ))),
    }
}

/// What SeaORM's failure to open a pool on `url` means.
fn unusable(kind: Kind, url: &str, error: DbErr) -> anyhow::Error {
    let unusable = match (kind, failure::sqlx_error(&error)) {
        (Kind::Postgres, Some(sqlx_error)) => url
            .parse::<sqlx::postgres::PgConnectOptions>()
            .map_or_else(|parse| failure::unreadable(&parse), |options| failure::postgres(sqlx_error, &options)),
        (Kind::Sqlite, Some(sqlx_error)) => match url.parse::<sqlx::sqlite::SqliteConnectOptions>() {
            Ok(options) => failure::sqlite(sqlx_error, options.get_filename(), creates_sqlite_file(url)),
            Err(parse) => failure::unreadable(&parse),
        },
        (_, None) if matches!(error, DbErr::ConnectionAcquire(_)) => {
            Unusable::NotYet(format!("no connection to {} in time", redact(url)))
        }
        (_, None) => return anyhow::Error::new(error).context(format!("cannot connect to {}", redact(url))),
    };
    anyhow::Error::new(unusable)
}

/// Whether a SQLite URL asks for its file to be created (`mode=rwc`).
fn creates_sqlite_file(url: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| query.split('&').any(|pair| pair.eq_ignore_ascii_case("mode=rwc")))
}

/// The key of the PostgreSQL advisory lock migrations run under: "profiles" in ASCII.
const MIGRATION_LOCK: i64 = 0x7072_6f66_696c_6573;

/// Applies every pending migration, one process at a time, and returns how many it
/// applied: replicas starting together never race. On PostgreSQL, under a session
/// advisory lock held on a connection of its own (released with it, should the
/// process die); on SQLite, in one `BEGIN IMMEDIATE` transaction, which holds the
/// file's write lock. A database with nothing pending takes no lock.
///
/// A database a newer build has migrated further is left as it is: schema changes are
/// made expand-then-contract, so this build keeps working on it (an older replica
/// restarting during a rolling upgrade, or a roll-back). That is said in a warning.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<usize> {
    if !matches!(standing(db).await?, Standing::Behind(_)) {
        return Ok(0);
    }
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            use sqlx::{ConnectOptions as _, Connection as _};
            let options = db.get_postgres_connection_pool().connect_options();
            let mut lock = options.connect().await.context("cannot open a connection for the migration lock")?;
            // The pool's statement timeout would end a wait behind a long migration.
            sqlx::query("SET statement_timeout = 0").execute(&mut lock).await?;
            let (taken,): (bool,) =
                sqlx::query_as("SELECT pg_try_advisory_lock($1)").bind(MIGRATION_LOCK).fetch_one(&mut lock).await?;
            if !taken {
                tracing::warn!("waiting for another process's migrations to end");
                sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut lock).await?;
            }
            let applied = apply(db).await;
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut lock).await;
            let _ = lock.close().await;
            let applied = applied?;
            unlocked.context("cannot release the migration lock")?;
            Ok(applied)
        }
        _ => {
            let options = TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            };
            let mut said = false;
            let transaction = loop {
                match db.begin_with_options(options).await {
                    Ok(transaction) => break transaction,
                    // Another process holds the write lock past the busy timeout: its
                    // migrations are long; go on waiting for them.
                    Err(error) if failure::is_busy(&error) => {
                        if !std::mem::replace(&mut said, true) {
                            tracing::warn!("waiting for another process's migrations to end");
                        }
                    }
                    Err(error) => {
                        return Err(anyhow::Error::new(error).context("cannot lock the database to migrate it"));
                    }
                }
            };
            let applied = apply(&transaction).await?;
            transaction.commit().await.context("cannot commit the migrations")?;
            Ok(applied)
        }
    }
}

/// Where `db`'s schema stands against this build's migrations.
enum Standing {
    /// Every migration this build knows is applied, and no other.
    Current,
    /// This many of this build's migrations are still to apply.
    Behind(usize),
    /// A newer build applied migrations this build does not know (said in a warning).
    Ahead,
}

/// Reads `db`'s applied migrations once and tells where its schema stands. Migrations
/// this build does not know must come after every one it knows: a known one still
/// pending under them is a history that forked, which no build should run on.
async fn standing<C: ConnectionTrait>(db: &C) -> anyhow::Result<Standing>
where
    for<'c> &'c C: sea_orm::IntoDatabaseExecutor<'c>,
{
    use migration::seaql_migrations;
    use sea_orm::EntityTrait;
    let table = Migrator::migration_table_name().to_string();
    let applied =
        if migration::SchemaManager::new(db).has_table(table).await.context("cannot read the applied migrations")? {
            seaql_migrations::Entity::find().all(db).await.context("cannot read the applied migrations")?
        } else {
            Vec::new()
        };
    let known: Vec<String> = Migrator::migrations().iter().map(|migration| migration.name().to_owned()).collect();
    let (known_applied, newer): (Vec<_>, Vec<_>) =
        applied.into_iter().map(|migration| migration.version).partition(|version| known.contains(version));
    let missing: Vec<&str> =
        known.iter().filter(|version| !known_applied.contains(version)).map(String::as_str).collect();
    Ok(match (newer.is_empty(), missing.len()) {
        (true, 0) => Standing::Current,
        (true, behind) => Standing::Behind(behind),
        (false, 0) => {
            tracing::warn!(
                migrations = newer.join(", "),
                "the database has migrations this build does not know, applied by a newer build: running on its schema without migrating"
            );
            Standing::Ahead
        }
        (false, _) => anyhow::bail!(
            "the database has migrations this build does not know ({}) but lacks some it does ({}): its history forked; restore it or run the build that migrated it",
            newer.join(", "),
            missing.join(", ")
        ),
    })
}

/// Applies the migrations still pending on `db` (the migration lock held); how many.
/// Another process, of this build or a newer one, may have migrated it while this one
/// waited for the lock.
async fn apply<C: ConnectionTrait>(db: &C) -> anyhow::Result<usize>
where
    for<'c> &'c C: sea_orm::IntoDatabaseExecutor<'c>,
{
    let Standing::Behind(pending) = standing(db).await? else { return Ok(0) };
    Migrator::up(db, None).await.map_err(|error| {
        // 42501, insufficient_privilege: a service role that may not change the schema.
        let privilege = failure::code(&error).as_deref() == Some("42501");
        let error = anyhow::Error::new(error);
        if privilege {
            error.context(
                "cannot apply migrations: this role may not change the schema; run `profiles-gateway migrate` as \
                 the tables' owner first (docs/deploying.md, Roles)",
            )
        } else {
            error.context("cannot apply migrations")
        }
    })?;
    Ok(pending)
}

/// The URL without its password, for logs.
pub(crate) fn redact(url: &str) -> String {
    match url.split_once("://").and_then(|(scheme, rest)| Some((scheme, rest.split_once('@')?))) {
        Some((scheme, (credentials, host))) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sqlite_budget_caps_each_cache_and_the_whole_heap() {
        let settings = |mib| super::PoolSettings { sqlite_cache_mib: mib, ..Default::default() };
        let pragmas = |mib| settings(mib).sqlite_memory_pragmas().map(|(key, value)| format!("{key}={value}"));
        assert_eq!(pragmas(32), ["cache_size=-16384", "soft_heap_limit=33554432"]);
        assert_eq!(pragmas(4), ["cache_size=-4096", "soft_heap_limit=4194304"]);
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(super::redact("postgres://me:secret@db:5432/x"), "postgres://me:***@db:5432/x");
        assert_eq!(super::redact("sqlite://profiles.db?mode=rwc"), "sqlite://profiles.db?mode=rwc");
    }
}
