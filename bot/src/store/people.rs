//! People and workspaces: the upserts every drill's creation runs, a workspace's
//! settings, and forgetting a person. Expanded once per backend by `impl_store!`.

/// Defines `mod people` for a backend with `read` and `write` helpers, and with `person_id`
/// and `workspace_id` for the other query modules (peer drills' included).
macro_rules! people_queries {
    (store: $store:ty, conn: $conn:ty $(,)?) => {
        mod people {
            use super::*;
            use spar_core::store::*;
            use spar_core::Difficulty;
            use sqlx::AssertSqlSafe;
            use $crate::store::now_ms;
            use $crate::store::sql::*;

            pub(crate) async fn person_id(conn: &mut $conn, person: &PersonRef) -> R<i64> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO people (platform, platform_user_id, display_name, created_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (platform, platform_user_id) \
                     DO UPDATE SET display_name = excluded.display_name \
                     RETURNING id",
                )
                .bind(&person.platform)
                .bind(&person.platform_user_id)
                .bind(&person.display_name)
                .bind(now_ms())
                .fetch_one(&mut *conn)
                .await
                .named("upsert a person")?;
                Ok(id)
            }

            pub(crate) async fn workspace_id(
                conn: &mut $conn,
                workspace: &WorkspaceRef,
            ) -> R<i64> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO workspaces (platform, external_id, name, created_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (platform, external_id) DO UPDATE SET name = excluded.name \
                     RETURNING id",
                )
                .bind(&workspace.platform)
                .bind(&workspace.external_id)
                .bind(&workspace.name)
                .bind(now_ms())
                .fetch_one(&mut *conn)
                .await
                .named("upsert a workspace")?;
                Ok(id)
            }

            pub(super) async fn ensure_person(
                store: &$store,
                person: &PersonRef,
            ) -> Result<PersonId, StoreError> {
                store
                    .autocommit("ensure_person", async |conn| person_id(conn, person).await)
                    .await
            }

            pub(super) async fn ensure_workspace(
                store: &$store,
                workspace: &WorkspaceRef,
            ) -> Result<WorkspaceId, StoreError> {
                store
                    .autocommit("ensure_workspace", async |conn| {
                        workspace_id(conn, workspace).await
                    })
                    .await
            }

            pub(super) async fn workspace_config(
                store: &$store,
                workspace: &WorkspaceRef,
            ) -> Result<WorkspaceConfig, StoreError> {
                store
                    .read("workspace_config", async |conn| {
                        let row = sqlx::query(
                            "SELECT drill_channel, public_threads, default_difficulty, daily_limit, \
                             daily_token_budget FROM workspaces \
                             WHERE platform = $1 AND external_id = $2",
                        )
                        .bind(&workspace.platform)
                        .bind(&workspace.external_id)
                        .fetch_optional(&mut *conn)
                        .await
                        .named("a workspace's settings")?;
                        let Some(row) = row else {
                            return Ok(WorkspaceConfig::default());
                        };
                        Ok(WorkspaceConfig {
                            drill_channel: row.text_opt("drill_channel")?,
                            public_threads: row.flag("public_threads")?,
                            default_difficulty: row
                                .text_opt("default_difficulty")?
                                .map(|d| {
                                    d.parse::<Difficulty>().map_err(|e| corrupt(e.to_string()))
                                })
                                .transpose()?,
                            daily_limit: row
                                .int_opt("daily_limit")?
                                .map(|l| {
                                    u32::try_from(l)
                                        .map_err(|_| corrupt("daily limit out of range"))
                                })
                                .transpose()?,
                            token_budget: row
                                .int_opt("daily_token_budget")?
                                .map(|b| {
                                    u64::try_from(b)
                                        .map_err(|_| corrupt("daily token budget is negative"))
                                })
                                .transpose()?,
                        })
                    })
                    .await
            }

            pub(super) async fn set_workspace_config(
                store: &$store,
                workspace: &WorkspaceRef,
                config: &WorkspaceConfig,
            ) -> Result<(), StoreError> {
                store
                    .write("set_workspace_config", async |tx| {
                        let id = workspace_id(&mut *tx, workspace).await?;
                        // Every setting in one statement, the token budget among them:
                        // `/spar config` changes several at once, and half a change is
                        // one nobody asked for.
                        sqlx::query(
                            "UPDATE workspaces SET drill_channel = $1, public_threads = $2, \
                             default_difficulty = $3, daily_limit = $4, daily_token_budget = $5 \
                             WHERE id = $6",
                        )
                        .bind(config.drill_channel.as_deref())
                        .bind(config.public_threads)
                        .bind(config.default_difficulty.map(|d| d.as_str()))
                        .bind(config.daily_limit.map(i64::from))
                        .bind(
                            config
                                .token_budget
                                .map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
                        )
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .named("set a workspace's settings")?;
                        Ok(())
                    })
                    .await
            }

            pub(super) async fn forget_person(
                store: &$store,
                platform: &str,
                platform_user_id: &str,
            ) -> Result<Forgotten, StoreError> {
                store
                    .write("forget_person", async |tx| {
                        let person: Option<i64> = sqlx::query_scalar(
                            "SELECT id FROM people WHERE platform = $1 AND platform_user_id = $2",
                        )
                        .bind(platform)
                        .bind(platform_user_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .named("a person to forget")?;
                        let Some(person) = person else {
                            return Ok(Forgotten::default());
                        };
                        let drills: Vec<String> = sqlx::query_scalar(
                            "SELECT drill_id FROM participants \
                             WHERE person_id = $1 AND role = 'candidate'",
                        )
                        .bind(person)
                        .fetch_all(&mut *tx)
                        .await
                        .named("the drills of a person to forget")?;
                        // Children first, rather than trusting every connection to enforce
                        // foreign keys: nothing of theirs may survive.
                        for drill in &drills {
                            for table in [
                                "scorecard_flags",
                                "scorecard_dimensions",
                                "scorecards",
                                "turns",
                                "participants",
                                "peer_feedback",
                                "peer_ratings",
                                "peer_round_drills",
                                "llm_usage",
                            ] {
                                sqlx::query(AssertSqlSafe(format!(
                                    "DELETE FROM {table} WHERE drill_id = $1"
                                )))
                                .bind(drill)
                                .execute(&mut *tx)
                                .await
                                .named("delete a forgotten drill's rows")?;
                            }
                            sqlx::query("DELETE FROM drills WHERE id = $1")
                                .bind(drill)
                                .execute(&mut *tx)
                                .await
                                .named("delete a forgotten drill")?;
                        }
                        // What they said in other people's drills is blanked, not removed,
                        // so those transcripts keep their numbering.
                        let redacted = sqlx::query(
                            "UPDATE turns SET text = '', redacted = TRUE, author_id = NULL \
                             WHERE author_id = $1",
                        )
                        .bind(person)
                        .execute(&mut *tx)
                        .await
                        .named("blank a forgotten person's turns")?
                        .rows_affected();
                        for statement in [
                            "DELETE FROM peer_feedback WHERE from_person_id = $1 OR to_person_id = $1",
                            "DELETE FROM peer_queue WHERE person_id = $1",
                            "DELETE FROM peer_opt_ins WHERE person_id = $1",
                            "DELETE FROM peer_ratings WHERE rater_id = $1",
                            "DELETE FROM peer_pairing_groups WHERE candidate_id = $1 \
                             OR antagonist_id = $1 OR observer_id = $1",
                            "DELETE FROM participants WHERE person_id = $1",
                            "DELETE FROM people WHERE id = $1",
                        ] {
                            sqlx::query(statement)
                                .bind(person)
                                .execute(&mut *tx)
                                .await
                                .named("delete a forgotten person's rows")?;
                        }
                        Ok(Forgotten {
                            person_found: true,
                            drills: drills.len() as u64,
                            turns_redacted: redacted,
                        })
                    })
                    .await
            }
        }
    };
}

pub(crate) use people_queries;
