//! `SqliteStore`: the store in one SQLite file (WAL mode), the default for the terminal
//! and small deployments. One process at a time is the expected use, but two processes
//! on one file stay correct: every writing transaction takes SQLite's write lock first.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
}

/// SQLite serialises writers, so claiming needs no row locks: the single UPDATE runs
/// alone and no other writer can see the drill unclaimed in between.
const CLAIM_SQL: &str = "UPDATE drills SET lease_owner = $1, lease_until = $2 \
     WHERE id IN (SELECT id FROM drills \
         WHERE next_due_at IS NOT NULL AND next_due_at <= $3 \
         AND phase IN ('briefing', 'live', 'wrap_up') \
         AND (lease_until IS NULL OR lease_until <= $3) \
         AND workspace_id IN (SELECT id FROM workspaces WHERE platform IN ($5, $6, $7, $8)) \
         ORDER BY next_due_at LIMIT $4) \
     RETURNING id, next_due_at";

impl SqliteStore {
    /// Opens (creating if missing) the file named by a `sqlite://` URL and checks that it
    /// is a database, so a corrupt file is reported here rather than on first use.
    pub async fn open(url: &str) -> Result<SqliteStore, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::query("SELECT COUNT(*) FROM sqlite_master")
            .execute(&pool)
            .await?;
        Ok(SqliteStore { pool })
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        sqlx::migrate!("../migrations/sqlite").run(&self.pool).await
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front. A deferred transaction that read
    /// first could not upgrade once another writer committed, and would fail instead of
    /// waiting its turn.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

super::queries::impl_store! {
    store: SqliteStore,
    db: Sqlite,
    conn: SqliteConnection,
    row: sqlx::sqlite::SqliteRow,
    backend: "sqlite",
    claim_sql: CLAIM_SQL,
}

super::peer::impl_peer_store! {
    store: SqliteStore,
    row: sqlx::sqlite::SqliteRow,
}
