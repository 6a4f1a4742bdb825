//! The SQL of model budgets, shared by both backends like the other store modules: a workspace's own
//! daily token budget, what its drills spent per day (the `workspace_token_days` row a
//! trigger keeps from every usage row, see migration 0006_token_budget), and its drills of a day.

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
            use $crate::store::{now_ms, store_error};
            use spar_core::store::*;
            use sqlx::Row;

            impl BudgetStore for $store {
                fn token_budget<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                ) -> StoreFuture<'a, Option<u64>> {
                    Box::pin(async move {
                        let budget: Option<Option<i64>> = sqlx::query_scalar(
                            "SELECT daily_token_budget FROM workspaces \
                             WHERE platform = $1 AND external_id = $2",
                        )
                        .bind(&workspace.platform)
                        .bind(&workspace.external_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|e| store_error("read a workspace's token budget", e))?;
                        budget
                            .flatten()
                            .map(|b| unsigned(b, "a daily token budget"))
                            .transpose()
                    })
                }

                fn set_token_budget<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    budget: Option<u64>,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(async move {
                        // One statement, so it needs no transaction: the workspace is
                        // created with its budget or has it set.
                        sqlx::query(
                            "INSERT INTO workspaces \
                             (platform, external_id, name, created_at, daily_token_budget) \
                             VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (platform, external_id) DO UPDATE \
                             SET name = excluded.name, \
                             daily_token_budget = excluded.daily_token_budget",
                        )
                        .bind(&workspace.platform)
                        .bind(&workspace.external_id)
                        .bind(&workspace.name)
                        .bind(now_ms())
                        .bind(budget.map(|b| i64::try_from(b).unwrap_or(i64::MAX)))
                        .execute(&self.pool)
                        .await
                        .map_err(|e| store_error("set a workspace's token budget", e))?;
                        Ok(())
                    })
                }

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
            }
        }
    };
}

pub(crate) use impl_budget_store;
