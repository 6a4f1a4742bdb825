//! Claims and timers: who fires a drill's timer, who recovers a drill after a restart,
//! letting go of both when an instance stops, and the processed-event ids that make a
//! redelivered event change nothing (pruned once no platform would redeliver them).
//! Expanded once per backend by `impl_store!`; claiming due timers is the one statement
//! whose SQL differs between the backends, so it is passed in.

/// Defines `mod claims` for a backend with `read` and `autocommit` helpers.
macro_rules! claim_queries {
    (store: $store:ty, claim_sql: $claim_sql:expr $(,)?) => {
        mod claims {
            use super::*;
            use spar_core::store::*;
            use $crate::store::sql::*;

            pub(super) async fn set_next_due(
                store: &$store,
                drill: &DrillId,
                due: Option<EpochMillis>,
            ) -> Result<(), StoreError> {
                store
                    .autocommit("set_next_due", async |conn| {
                        let done = sqlx::query(
                            "UPDATE drills SET next_due_at = $1, lease_owner = NULL, \
                             lease_until = NULL WHERE id = $2",
                        )
                        .bind(due)
                        .bind(drill.as_str())
                        .execute(&mut *conn)
                        .await
                        .named("set a drill's timer")?;
                        if done.rows_affected() == 0 {
                            return Err(StoreError::NotFound(format!("drill {drill}")).into());
                        }
                        Ok(())
                    })
                    .await
            }

            pub(super) async fn claim_due_timers(
                store: &$store,
                owner: &str,
                platforms: &[String],
                now: EpochMillis,
                lease_ms: i64,
                limit: u32,
            ) -> Result<Vec<DueTimer>, StoreError> {
                store
                    .autocommit("claim_due_timers", async |conn| {
                        let [p1, p2, p3, p4] = platform_slots(platforms)?;
                        let rows = sqlx::query($claim_sql)
                            .bind(owner)
                            .bind(now.saturating_add(lease_ms))
                            .bind(now)
                            .bind(i64::from(limit))
                            .bind(p1)
                            .bind(p2)
                            .bind(p3)
                            .bind(p4)
                            .fetch_all(&mut *conn)
                            .await
                            .named("claim due timers")?;
                        let mut due = rows
                            .iter()
                            .map(|row| -> R<DueTimer> {
                                Ok(DueTimer {
                                    drill: DrillId(row.text("id")?),
                                    due_at: row.int("next_due_at")?,
                                })
                            })
                            .collect::<R<Vec<_>>>()?;
                        due.sort_by_key(|d| d.due_at);
                        Ok(due)
                    })
                    .await
            }

            pub(super) async fn release_timer(
                store: &$store,
                drill: &DrillId,
                owner: &str,
            ) -> Result<(), StoreError> {
                store
                    .autocommit("release_timer", async |conn| {
                        sqlx::query(
                            "UPDATE drills SET lease_owner = NULL, lease_until = NULL \
                             WHERE id = $1 AND lease_owner = $2",
                        )
                        .bind(drill.as_str())
                        .bind(owner)
                        .execute(&mut *conn)
                        .await
                        .named("release a timer")?;
                        Ok(())
                    })
                    .await
            }

            /// One conditional UPDATE: the database decides between instances racing for
            /// the same drill (SQLite by running writers one at a time, PostgreSQL by
            /// re-checking the WHERE on the row it locked), so at most one sees a row
            /// changed.
            pub(super) async fn claim_recovery(
                store: &$store,
                drill: &DrillId,
                owner: &str,
                now: EpochMillis,
                lease_ms: i64,
            ) -> Result<bool, StoreError> {
                store
                    .autocommit("claim_recovery", async |conn| {
                        let done = sqlx::query(CLAIM_RECOVERY)
                            .bind(owner)
                            .bind(now.saturating_add(lease_ms))
                            .bind(drill.as_str())
                            .bind(now)
                            .execute(&mut *conn)
                            .await
                            .named("claim a drill's recovery")?;
                        Ok(done.rows_affected() == 1)
                    })
                    .await
            }

            pub(super) async fn release_claims(
                store: &$store,
                owner: &str,
            ) -> Result<u64, StoreError> {
                store
                    .write("release_claims", async |tx| {
                        let drills = sqlx::query(RELEASE_DRILL_CLAIMS)
                            .bind(owner)
                            .execute(&mut *tx)
                            .await
                            .named("release drill claims")?
                            .rows_affected();
                        sqlx::query(RELEASE_ROUND_CLAIMS)
                            .bind(owner)
                            .execute(&mut *tx)
                            .await
                            .named("release round claims")?;
                        Ok(drills)
                    })
                    .await
            }

            pub(super) async fn mark_event_processed(
                store: &$store,
                event: &EventKey,
                at: EpochMillis,
            ) -> Result<bool, StoreError> {
                store
                    .autocommit("mark_event_processed", async |conn| {
                        let done = sqlx::query(INSERT_EVENT)
                            .bind(&event.platform)
                            .bind(&event.event_id)
                            .bind(at)
                            .execute(&mut *conn)
                            .await
                            .named("record a processed event")?;
                        Ok(done.rows_affected() == 1)
                    })
                    .await
            }

            pub(super) async fn event_processed(
                store: &$store,
                event: &EventKey,
            ) -> Result<bool, StoreError> {
                store
                    .read("event_processed", async |conn| {
                        let found: Option<i64> = sqlx::query_scalar(
                            "SELECT CAST(1 AS BIGINT) FROM processed_events \
                             WHERE platform = $1 AND event_id = $2",
                        )
                        .bind(&event.platform)
                        .bind(&event.event_id)
                        .fetch_optional(&mut *conn)
                        .await
                        .named("a processed event")?;
                        Ok(found.is_some())
                    })
                    .await
            }

            pub(super) async fn prune_events(
                store: &$store,
                before: EpochMillis,
            ) -> Result<u64, StoreError> {
                store
                    .autocommit("prune_events", async |conn| {
                        let done = sqlx::query(PRUNE_EVENTS)
                            .bind(before)
                            .execute(&mut *conn)
                            .await
                            .named("prune processed events")?;
                        Ok(done.rows_affected())
                    })
                    .await
            }
        }
    };
}

pub(crate) use claim_queries;
