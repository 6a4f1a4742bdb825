//! The storage adapters: `SqliteStore` and `PgStore` implement `spar_core::store::Store`
//! over sqlx (its `BudgetStore` part in `budget`). `open` picks one by URL, applies the
//! embedded migrations, and turns any failure to reach or read the database into one
//! sentence naming the URL. The SQL is shared (`sql`), and split by concern: `drills` (and
//! turns), `claims` (and timers), `history` (and stats), `people`, and `peer` for peer
//! drills; `port` joins them into the `Store` trait for each backend.

mod budget;
mod claims;
mod drills;
mod history;
mod observed;
mod peer;
mod people;
mod port;
mod postgres;
pub mod sql;
mod sqlite;

pub use observed::{Observed, Observer, OperationTime, Tally};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use spar_core::store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How many connections a store keeps, and how long a caller waits for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// At most this many connections; `None` for the backend's default (SQLite 4, which
    /// suits its one writer at a time; PostgreSQL 10).
    pub max_connections: Option<u32>,
    /// How long an operation waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> PoolOptions {
        PoolOptions {
            max_connections: None,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// A pooled connection idle this long is checked before it is used again: after a quiet
/// spell the database may have restarted or a proxy dropped it. A connection in steady use
/// is not, so a busy instance spends no round trip per operation on checking.
pub(crate) const CHECK_IDLE_AFTER: Duration = Duration::from_secs(5);

/// Opens the store at `url` (or the default SQLite file), creating and migrating it as
/// needed. Errors are one sentence: `cannot open database URL: what failed`.
pub async fn open(url: Option<&str>) -> anyhow::Result<Arc<dyn Store>> {
    open_with(url, PoolOptions::default()).await
}

/// `open` with a pool sized for the load, as `spar serve` and `spar bench load` need.
pub async fn open_with(url: Option<&str>, pool: PoolOptions) -> anyhow::Result<Arc<dyn Store>> {
    let url = match url {
        Some(url) => url.to_string(),
        None => default_url()?,
    };
    let shown = redact(&url);
    let fail = |what: String| anyhow::anyhow!("cannot open database {shown}: {what}");
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open(&url, pool)
            .await
            .map_err(|e| fail(describe(&e)))?;
        store
            .migrate()
            .await
            .map_err(|e| fail(describe_migrate(&e)))?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PgStore::open(&url, pool)
            .await
            .map_err(|e| fail(describe(&e)))?;
        store
            .migrate()
            .await
            .map_err(|e| fail(describe_migrate(&e)))?;
        Ok(Arc::new(store))
    } else {
        Err(crate::failure::input_error(format!(
            "cannot open database {shown}: the URL must start with sqlite:// or postgres://"
        )))
    }
}

/// `sqlite://<data dir>/spar/spar.db`, creating the directory so a first run needs no setup.
pub fn default_url() -> anyhow::Result<String> {
    let dir = dirs::data_dir().map(|d| d.join("spar")).ok_or_else(|| {
        anyhow::anyhow!("cannot find a data directory for the default database; set DATABASE_URL")
    })?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create the data directory {}: {e}", dir.display()))?;
    Ok(sqlite_url(&dir.join("spar.db")))
}

/// The URL of a SQLite file at `path`.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}", PathBuf::from(path).display())
}

/// The URL with any password replaced by `***`, safe for messages and logs.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &authority[..colon],
            &url[scheme_end + 3 + at..]
        ),
        _ => url.to_string(),
    }
}

/// What went wrong, in words a person can act on, without sqlx's framing.
pub(crate) fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(e) => e.message().to_string(),
        sqlx::Error::Io(e) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            _ => e.to_string(),
        },
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".into(),
        sqlx::Error::Configuration(e) => format!("bad URL: {e}"),
        other => other.to_string(),
    }
}

fn describe_migrate(error: &sqlx::migrate::MigrateError) -> String {
    match error {
        sqlx::migrate::MigrateError::Execute(e) => describe(e),
        other => format!("migrations failed: {other}"),
    }
}

/// Maps a driver error onto the cases callers branch on, naming the query it came from
/// and keeping the driver's error as the cause. Messages carry no URL.
pub(crate) fn store_error(query: &str, error: sqlx::Error) -> StoreError {
    let message = if query.is_empty() {
        describe(&error)
    } else {
        format!("{} (in {query})", describe(&error))
    };
    let kind = match &error {
        sqlx::Error::Database(e) => {
            let text = e.message();
            if text.contains("not a database") || text.contains("malformed") {
                Kind::Corrupt
            } else if e.is_unique_violation() {
                Kind::Conflict
            } else {
                Kind::Other
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Kind::Unavailable,
        sqlx::Error::RowNotFound => Kind::NotFound,
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::Protocol(_) => Kind::Corrupt,
        _ => Kind::Other,
    };
    let cause: Option<spar_core::store::Cause> = Some(Arc::new(error));
    match kind {
        Kind::Conflict => StoreError::Conflict(message),
        Kind::NotFound => StoreError::NotFound("row".into()),
        Kind::Unavailable => StoreError::Unavailable { message, cause },
        Kind::Corrupt => StoreError::Corrupt { message, cause },
        Kind::Other => StoreError::Other { message, cause },
    }
}

enum Kind {
    Conflict,
    NotFound,
    Unavailable,
    Corrupt,
    Other,
}

/// The current wall-clock time in the store's unit.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_password_in_a_database_url_is_never_shown() {
        assert_eq!(
            redact("postgres://spar:hunter2@db.example:5432/spar"),
            "postgres://spar:***@db.example:5432/spar"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:1/x"),
            "postgres://postgres@127.0.0.1:1/x"
        );
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
