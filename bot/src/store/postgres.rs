//! `PgStore`: the store in PostgreSQL, for deployments that run several bot processes.
//! Row versions keep two instances from interleaving changes to one drill, and
//! `FOR UPDATE SKIP LOCKED` hands each due timer to exactly one of them.

use super::sql::{Finish, R, in_transaction, on_connection};
use spar_core::store::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgConnection, PgPool, Postgres, Transaction};
use std::str::FromStr;

pub struct PgStore {
    pool: PgPool,
}

/// Rows another instance is claiming right now are skipped rather than waited for; rows
/// it claimed earlier are excluded by their unexpired lease.
const CLAIM_SQL: &str = "UPDATE drills SET lease_owner = $1, lease_until = $2 \
     WHERE id IN (SELECT id FROM drills \
         WHERE next_due_at IS NOT NULL AND next_due_at <= $3 \
         AND phase IN ('briefing', 'live', 'wrap_up') \
         AND (lease_until IS NULL OR lease_until <= $3) \
         AND workspace_id IN (SELECT id FROM workspaces WHERE platform IN ($5, $6, $7, $8)) \
         ORDER BY next_due_at LIMIT $4 \
         FOR UPDATE SKIP LOCKED) \
     RETURNING id, next_due_at";

impl PgStore {
    pub async fn open(url: &str, pool: super::PoolOptions) -> Result<PgStore, sqlx::Error> {
        let options = PgConnectOptions::from_str(url)?;
        // One direct connection first: a pool retries until its timeout and then reports
        // only that it timed out, hiding the reason (refused, unknown host, bad password).
        PgConnection::connect_with(&options).await?.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(pool.max_connections.unwrap_or(10))
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
        Ok(PgStore { pool })
    }

    /// sqlx takes an advisory lock while migrating, so instances starting together
    /// apply each migration once.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        sqlx::migrate!("../migrations/postgres")
            .run(&self.pool)
            .await
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Runs `work` in one transaction (see `sql::in_transaction`).
    pub(super) async fn write<T>(
        &self,
        operation: &'static str,
        work: impl AsyncFnOnce(&mut PgConnection) -> R<T>,
    ) -> Result<T, StoreError> {
        in_transaction(operation, Box::pin(self.write_tx()), work).await
    }

    /// Runs `work`, one statement and so its own transaction, without a BEGIN and a
    /// COMMIT around it: a third of the round trips.
    pub(super) async fn autocommit<T>(
        &self,
        operation: &'static str,
        work: impl AsyncFnOnce(&mut PgConnection) -> R<T>,
    ) -> Result<T, StoreError> {
        on_connection(operation, Box::pin(self.pool.acquire()), work).await
    }

    /// Runs `work` on one pooled connection.
    pub(super) async fn read<T>(
        &self,
        operation: &'static str,
        work: impl AsyncFnOnce(&mut PgConnection) -> R<T>,
    ) -> Result<T, StoreError> {
        on_connection(operation, Box::pin(self.pool.acquire()), work).await
    }
}

impl Finish for Transaction<'_, Postgres> {
    async fn commit(self) -> Result<(), sqlx::Error> {
        Transaction::commit(self).await
    }

    async fn rollback(self) -> Result<(), sqlx::Error> {
        Transaction::rollback(self).await
    }
}

super::port::impl_store! {
    store: PgStore,
    conn: PgConnection,
    backend: "postgres",
    claim_sql: CLAIM_SQL,
}

super::peer::impl_peer_store! {
    store: PgStore,
    row: sqlx::postgres::PgRow,
}

super::budget::impl_budget_store! {
    store: PgStore,
}
