//! The SQL of model budgets, shared by both backends like the other store modules: what a
//! workspace's drills spent per day (the `workspace_token_days` row a trigger keeps from
//! every usage row, see migration 0006_token_budget) with its own daily budget, and its
//! drills of a day. The budget itself is written with the workspace's other settings.

use spar_core::store::StoreError;

/// A count or budget as the database keeps it (`BIGINT`), which is never negative when
/// Spar wrote it.
pub(crate) fn unsigned(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::corrupt(format!("{what} is negative: {value}")))
}

/// Implements `BudgetStore` for a backend struct with a `pool` field.
macro_rules! impl_budget_store {
    (store: $store:ty $(,)?) => {
        mod budget_shared {
            use super::*;
            use $crate::store::budget::unsigned;
            use $crate::store::store_error;
            use spar_core::store::*;
            use sqlx::Row;

            impl BudgetStore for $store {
                fn tokens_on<'a>(
                    &'a self,
                    workspace: WorkspaceId,
                    day: UtcDay,
                ) -> StoreFuture<'a, TokenDay> {
                    Box::pin(async move {
                        let row = sqlx::query(
                            "SELECT w.daily_token_budget, t.tokens FROM workspaces w \
                             LEFT JOIN workspace_token_days t \
                             ON t.workspace_id = w.id AND t.day = $2 \
                             WHERE w.id = $1",
                        )
                        .bind(workspace)
                        .bind(day.0)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|e| store_error("read a workspace's tokens of a day", e))?;
                        let Some(row) = row else {
                            return Ok(TokenDay::default());
                        };
                        let budget: Option<i64> =
                            row.try_get("daily_token_budget").map_err(|e| store_error("read a workspace's tokens of a day", e))?;
                        let used: Option<i64> = row.try_get("tokens").map_err(|e| store_error("read a workspace's tokens of a day", e))?;
                        Ok(TokenDay {
                            used: unsigned(used.unwrap_or(0), "a day's tokens")?,
                            budget: budget
                                .map(|b| unsigned(b, "a daily token budget"))
                                .transpose()?,
                        })
                    })
                }

                fn drills_on<'a>(
                    &'a self,
                    workspace: WorkspaceId,
                    day: UtcDay,
                ) -> StoreFuture<'a, u32> {
                    Box::pin(async move {
                        let count: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM drills \
                             WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3",
                        )
                        .bind(workspace)
                        .bind(day.start())
                        .bind(day.start() + UtcDay::MILLIS)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(|e| store_error("count a workspace's drills of a day", e))?;
                        Ok(u32::try_from(count).unwrap_or(u32::MAX))
                    })
                }

                fn mark_over_budget<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    at: EpochMillis,
                ) -> StoreFuture<'a, bool> {
                    Box::pin(async move {
                        // One conditional statement: of two instances marking the same
                        // drill, the database lets one change the row.
                        let done = sqlx::query(
                            "UPDATE drills SET over_budget_at = $1 \
                             WHERE id = $2 AND over_budget_at IS NULL",
                        )
                        .bind(at)
                        .bind(drill.as_str())
                        .execute(&self.pool)
                        .await
                        .map_err(|e| store_error("mark a drill over its budget", e))?;
                        Ok(done.rows_affected() > 0)
                    })
                }
            }
        }
    };
}

pub(crate) use impl_budget_store;
