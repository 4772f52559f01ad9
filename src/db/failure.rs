//! Why a database cannot be used: a `DATABASE_URL` that waiting cannot fix (start-up
//! fails at once, naming the setting and the fix), or a server that may yet answer
//! (start-up waits for it). Told from sqlx's typed errors, not from their text.

use std::path::Path;
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};

/// Why a database cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// The setting is wrong: no wait can fix it. The message says what to change.
    Setting(String),
    /// The server may yet answer: it refused the connection or did not answer, its name
    /// did not resolve, it is starting up, or it has no connection to spare.
    NotYet(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Setting(message) | Unusable::NotYet(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Unusable {}

/// The two URL forms, for messages.
const FORMS: &str =
    "sqlite://FILE?mode=rwc (a file, created if missing) or postgres://USER:PASSWORD@HOST:PORT/DATABASE";

/// The databases this service speaks, told by the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// The kind of database `url` names; a URL without a scheme, or with one this service
/// does not speak, is a setting to fix.
pub fn kind(url: &str) -> Result<Kind, Unusable> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme).filter(|scheme| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        Some("sqlite") => Ok(Kind::Sqlite),
        Some("postgres" | "postgresql") => Ok(Kind::Postgres),
        None => {
            Err(Unusable::Setting(format!("DATABASE_URL `{}` has no scheme: write {FORMS}", crate::db::redact(url))))
        }
        Some(other) => Err(Unusable::Setting(format!(
            "DATABASE_URL's scheme `{other}` is not one this service speaks: write {FORMS}"
        ))),
    }
}

/// Where a PostgreSQL server is, for messages: `host:port` or the socket's path.
pub(crate) fn place(options: &sqlx::postgres::PgConnectOptions) -> String {
    match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

/// The sqlx error inside SeaORM's, if it holds one.
pub(crate) fn sqlx_error(error: &DbErr) -> Option<&sqlx::Error> {
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => Some(error),
        _ => None,
    }
}

/// The database's own code for `error` (a SQLSTATE on PostgreSQL, a result code on
/// SQLite), if the database gave one.
pub(crate) fn code(error: &DbErr) -> Option<String> {
    match sqlx_error(error)? {
        sqlx::Error::Database(database) => database.code().map(|code| code.into_owned()),
        _ => None,
    }
}

/// SQLite's primary result code in a (possibly extended) result `code`.
fn sqlite_primary(code: &str) -> Option<u32> {
    code.parse::<u32>().ok().map(|code| code & 0xff)
}

/// SQLITE_BUSY: the database is locked by another connection past the busy timeout.
pub(crate) fn is_busy(error: &DbErr) -> bool {
    code(error).as_deref().and_then(sqlite_primary) == Some(SQLITE_BUSY)
}

/// A URL sqlx cannot read.
pub(crate) fn unreadable(error: &sqlx::Error) -> Unusable {
    Unusable::Setting(format!("DATABASE_URL cannot be read ({error}): write {FORMS}"))
}

/// What a failure to connect to PostgreSQL at `options` means.
pub(crate) fn postgres(error: &sqlx::Error, options: &sqlx::postgres::PgConnectOptions) -> Unusable {
    let at = place(options);
    match error {
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => Unusable::NotYet(format!("connection refused at {at}")),
            std::io::ErrorKind::TimedOut => Unusable::NotYet(format!("no answer from {at}")),
            // Not found by name, unreachable, reset: a network or a server on its way.
            _ => Unusable::NotYet(format!("cannot reach {at}: {io}")),
        },
        sqlx::Error::PoolTimedOut => Unusable::NotYet(format!("no connection from {at} in time")),
        sqlx::Error::Database(database) => {
            let code = database.code().unwrap_or_default();
            let message = database.message();
            let user = options.get_username();
            let name = options.get_database().unwrap_or(user);
            match code.as_ref() {
                // cannot_connect_now
                "57P03" => Unusable::NotYet(format!("PostgreSQL at {at} is starting up")),
                // too_many_connections
                "53300" => Unusable::NotYet(format!("PostgreSQL at {at} has no connection to spare ({message})")),
                // invalid_password, invalid_authorization_specification (no such role)
                "28P01" | "28000" => Unusable::Setting(format!(
                    "PostgreSQL at {at} refused user `{user}`: {message}. Check the user and password in \
                     DATABASE_URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)"
                )),
                // invalid_catalog_name
                "3D000" => Unusable::Setting(format!(
                    "PostgreSQL at {at} has no database `{name}`: create it (createdb -h {} -p {} -U {user} \
                     {name}) or name an existing one at the end of DATABASE_URL",
                    options.get_host(),
                    options.get_port()
                )),
                _ => Unusable::Setting(format!(
                    "PostgreSQL at {at} refused the connection: {message} (SQLSTATE {code}). Check DATABASE_URL"
                )),
            }
        }
        sqlx::Error::Tls(tls) => Unusable::Setting(format!(
            "TLS with PostgreSQL at {at} failed: {tls}. Check `sslmode` and the certificates in DATABASE_URL"
        )),
        sqlx::Error::Configuration(_) => unreadable(error),
        sqlx::Error::Protocol(protocol) => Unusable::Setting(format!(
            "{at} does not answer as PostgreSQL does ({protocol}): check the host and port in DATABASE_URL"
        )),
        other => Unusable::Setting(format!("cannot connect to PostgreSQL at {at}: {other}. Check DATABASE_URL")),
    }
}

/// SQLite's primary result codes that say a file cannot be opened or written.
const SQLITE_PERM: u32 = 3;
const SQLITE_READONLY: u32 = 8;
const SQLITE_CANTOPEN: u32 = 14;
const SQLITE_NOTADB: u32 = 26;

/// SQLite's primary result codes that say another connection holds a lock: it ends.
const SQLITE_BUSY: u32 = 5;
const SQLITE_LOCKED: u32 = 6;

/// What a failure to open the SQLite file at `path` means: a setting (a file does not
/// come by waiting), unless another process holds the file's lock for longer than the
/// busy timeout (replicas opening one new file together): that ends. `creates`: whether
/// the URL says `mode=rwc`.
pub(crate) fn sqlite(error: &sqlx::Error, path: &Path, creates: bool) -> Unusable {
    let file = path.display();
    let sqlx::Error::Database(database) = error else {
        return match error {
            sqlx::Error::Configuration(_) => unreadable(error),
            sqlx::Error::PoolTimedOut => {
                Unusable::NotYet(format!("SQLite file {file} is held by another connection (pool timed out)"))
            }
            other => Unusable::Setting(format!("cannot open SQLite file {file}: {other}")),
        };
    };
    let code = database.code().as_deref().and_then(sqlite_primary).unwrap_or_default();
    if matches!(code, SQLITE_BUSY | SQLITE_LOCKED) {
        return Unusable::NotYet(format!("SQLite file {file} is locked by another connection: {}", database.message()));
    }
    let folder = path.parent().filter(|folder| !folder.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let shown = folder.display();
    Unusable::Setting(match code {
        SQLITE_CANTOPEN | SQLITE_PERM | SQLITE_READONLY if !folder.exists() => format!(
            "DATABASE_URL names {file}, in a folder that does not exist: create it (mkdir -p {shown}) or name \
             a file in an existing folder"
        ),
        SQLITE_CANTOPEN | SQLITE_PERM | SQLITE_READONLY if !folder.is_dir() => {
            format!("DATABASE_URL names {file}, but {shown} is not a folder: name a file in a folder")
        }
        SQLITE_CANTOPEN if !path.exists() && !creates => format!(
            "DATABASE_URL names {file}, which does not exist: add ?mode=rwc to create it \
             (sqlite://{file}?mode=rwc), or name an existing file"
        ),
        SQLITE_CANTOPEN | SQLITE_PERM | SQLITE_READONLY => format!(
            "cannot write SQLite file {file} ({}): this user needs to write the file and its folder {shown}, \
             where SQLite keeps its -wal and -shm files. Check their permissions, or name another file in \
             DATABASE_URL",
            database.message()
        ),
        SQLITE_NOTADB => format!("DATABASE_URL names {file}, which is not a SQLite database: name another file"),
        _ => format!("cannot open SQLite file {file}: {}. Check DATABASE_URL", database.message()),
    })
}

/// A wait, as people write it: `500ms`, `1s`, `10s`.
pub(crate) fn wait(duration: Duration) -> String {
    humantime::format_duration(Duration::from_millis(duration.as_millis() as u64)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_tells_the_database_or_the_fix() {
        assert_eq!(kind("sqlite://profiles.db?mode=rwc"), Ok(Kind::Sqlite));
        assert_eq!(kind("sqlite::memory:"), Ok(Kind::Sqlite));
        assert_eq!(kind("postgres://u@h/db"), Ok(Kind::Postgres));
        assert_eq!(kind("PostgreSQL://u@h/db"), Ok(Kind::Postgres));
        let setting = |url| match kind(url) {
            Err(Unusable::Setting(message)) => message,
            other => panic!("{url}: {other:?}"),
        };
        assert!(setting("profiles.db").contains("has no scheme"));
        assert!(setting("/var/lib/p/profiles.db").contains("has no scheme"));
        assert!(setting("mysql://u:secret@h/db").contains("scheme `mysql` is not one"));
        assert!(!setting("u:secret@h/db").contains("secret"), "no password in messages");
    }

    #[test]
    fn waits_read_as_people_write_them() {
        assert_eq!(wait(Duration::from_millis(500)), "500ms");
        assert_eq!(wait(Duration::from_secs(2)), "2s");
    }
}
