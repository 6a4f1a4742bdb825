//! `SqliteStore`: the store in one SQLite file (WAL mode), the default for the terminal
//! and small deployments. One process at a time is the expected use, but two processes
//! on one file stay correct: every writing transaction takes SQLite's write lock first.

use super::sql::{Finish, R, in_transaction, on_connection};
use spar_core::store::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub struct SqliteStore {
    pool: SqlitePool,
    /// Taken by every writing transaction for as long as it lasts. SQLite lets one writer
    /// at a time in; writers waiting here take their turn in order, where waiting inside
    /// SQLite means sleeping and polling, which adds milliseconds to every turn under load.
    writer: Arc<tokio::sync::Mutex<()>>,
}

/// A writing transaction holding this process's writer turn until it ends.
struct Writing {
    tx: Transaction<'static, Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl std::ops::Deref for Writing {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Writing {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl Finish for Writing {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

/// A pooled connection holding this process's writer turn, for a single statement.
struct Alone {
    conn: sqlx::pool::PoolConnection<Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl std::ops::Deref for Alone {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Alone {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
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
    pub async fn open(url: &str, pool: super::PoolOptions) -> Result<SqliteStore, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode a commit survives the process crashing either way; NORMAL only
            // gives up the last commits to a power cut, and saves an fsync per commit, which
            // is what bounds a chat instance's turns per second.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(pool.max_connections.unwrap_or(4))
            .acquire_timeout(pool.acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= super::CHECK_IDLE_AFTER {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        sqlx::query("SELECT COUNT(*) FROM sqlite_master")
            .execute(&pool)
            .await?;
        Ok(SqliteStore {
            pool,
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        sqlx::migrate!("../migrations/sqlite").run(&self.pool).await
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front. A deferred transaction that read
    /// first could not upgrade once another writer committed, and would fail instead of
    /// waiting its turn.
    async fn write_tx(&self) -> Result<Writing, sqlx::Error> {
        let turn = self.writer.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Writing { tx, _turn: turn })
    }

    /// Runs `work` in one writing transaction (see `sql::in_transaction`).
    pub(super) async fn write<T>(
        &self,
        operation: &'static str,
        work: impl AsyncFnOnce(&mut SqliteConnection) -> R<T>,
    ) -> Result<T, StoreError> {
        in_transaction(operation, Box::pin(self.write_tx()), work).await
    }

    /// Runs `work` (one writing statement, its own transaction) in the writer's turn,
    /// so it waits here in order rather than polling inside SQLite.
    pub(super) async fn autocommit<T>(
        &self,
        operation: &'static str,
        work: impl AsyncFnOnce(&mut SqliteConnection) -> R<T>,
    ) -> Result<T, StoreError> {
        let alone = async {
            let turn = self.writer.clone().lock_owned().await;
            let conn = self.pool.acquire().await?;
            Ok::<_, sqlx::Error>(Alone { conn, _turn: turn })
        };
        on_connection(operation, Box::pin(alone), work).await
    }

    /// Runs `work` on one pooled connection; WAL lets it read beside the writer.
    pub(super) async fn read<T>(
        &self,
        operation: &'static str,
        work: impl AsyncFnOnce(&mut SqliteConnection) -> R<T>,
    ) -> Result<T, StoreError> {
        on_connection(operation, Box::pin(self.pool.acquire()), work).await
    }
}

super::port::impl_store! {
    store: SqliteStore,
    conn: SqliteConnection,
    backend: "sqlite",
    claim_sql: CLAIM_SQL,
}

super::peer::impl_peer_store! {
    store: SqliteStore,
    row: sqlx::sqlite::SqliteRow,
}

super::budget::impl_budget_store! {
    store: SqliteStore,
}
