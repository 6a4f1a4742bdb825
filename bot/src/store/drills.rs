//! Drills and their turns: creating a drill, loading it (three queries however many turns
//! it has, and three for every live drill at once), committing an event's changes, and the
//! drill's scorecard, usage and feedback rows. Expanded once per backend by `impl_store!`.

/// Defines `mod drills` for a backend with `read`, `write` and `autocommit` helpers.
macro_rules! drill_queries {
    (store: $store:ty, conn: $conn:ty $(,)?) => {
        mod drills {
            use super::*;
            use super::people::person_id;
            use spar_core::drill::Phase;
            use spar_core::store::*;
            use sqlx::types::Json;
            use sqlx::AssertSqlSafe;
            use $crate::store::sql::*;

            /// Loads the rest of a drill whose row (`drill`, `card`) was just read.
            async fn complete(
                conn: &mut $conn,
                record: DrillRecord,
                card: Option<serde_json::Value>,
            ) -> R<LoadedDrill> {
                let scorecard = scorecard_of(&record.id, card)?;
                let participants = sqlx::query(PARTICIPANTS_OF)
                    .bind(record.id.as_str())
                    .fetch_all(&mut *conn)
                    .await
                    .named("participants of a drill")?
                    .iter()
                    .map(member_from_row)
                    .collect::<R<Vec<_>>>()?;
                let turns = sqlx::query(TURNS_OF)
                    .bind(record.id.as_str())
                    .fetch_all(&mut *conn)
                    .await
                    .named("turns of a drill")?
                    .iter()
                    .map(turn_from_row)
                    .collect::<R<Vec<_>>>()?;
                Ok(LoadedDrill {
                    record,
                    participants,
                    turns,
                    scorecard,
                })
            }

            pub(super) async fn load(conn: &mut $conn, drill: &DrillId) -> R<LoadedDrill> {
                let row = sqlx::query(DRILL_BY_ID)
                    .bind(drill.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                    .named("drill by id")?
                    .ok_or_else(|| StoreError::NotFound(format!("drill {drill}")))?;
                let (record, card) = (drill_from_row(&row)?, row.json_opt("card")?);
                complete(conn, record, card).await
            }

            async fn record(conn: &mut $conn, drill: &DrillId) -> R<DrillRecord> {
                let row = sqlx::query(DRILL_BY_ID)
                    .bind(drill.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                    .named("drill by id")?
                    .ok_or_else(|| StoreError::NotFound(format!("drill {drill}")))?;
                drill_from_row(&row)
            }

            /// After an update matched no row: was the drill missing, or was it changed?
            async fn missing_or_conflict(
                conn: &mut $conn,
                drill: &DrillId,
                expected_version: i64,
            ) -> Failure {
                let found: Result<Option<i64>, _> =
                    sqlx::query_scalar("SELECT version FROM drills WHERE id = $1")
                        .bind(drill.as_str())
                        .fetch_optional(&mut *conn)
                        .await
                        .named("version of a drill");
                match found {
                    Ok(Some(version)) => Failure::Store(StoreError::Conflict(format!(
                        "drill {drill} is at version {version}, not {expected_version}"
                    ))),
                    Ok(None) => Failure::Store(StoreError::NotFound(format!("drill {drill}"))),
                    Err(e) => e,
                }
            }

            /// Appends a turn unless the same one is already stored; true when inserted.
            /// One statement in the usual case (see `INSERT_TURN`).
            async fn insert_turn(conn: &mut $conn, drill: &DrillId, turn: &StoredTurn) -> R<bool> {
                let index = i64::try_from(turn.index).map_err(|_| corrupt("turn index"))?;
                let inserted = sqlx::query(INSERT_TURN)
                    .bind(drill.as_str())
                    .bind(index)
                    .bind(turn.turn.role.as_str())
                    .bind(turn.turn.at_s)
                    .bind(&turn.turn.text)
                    .bind(turn.turn.cut_off)
                    .bind(turn.author)
                    .execute(&mut *conn)
                    .await
                    .named("insert a turn")?;
                if inserted.rows_affected() == 1 {
                    return Ok(true);
                }
                let existing = sqlx::query(TURN_AT)
                    .bind(drill.as_str())
                    .bind(index)
                    .fetch_optional(&mut *conn)
                    .await
                    .named("a stored turn")?;
                let Some(row) = existing else {
                    // Turns are append-only and gap-free.
                    return Err(StoreError::Conflict(format!(
                        "drill {drill} has no turn before {}; it cannot be appended",
                        turn.index
                    ))
                    .into());
                };
                let same = row.flag("redacted")?
                    || (parse_role(&row.text("role")?)? == turn.turn.role
                        && row.real("at_s")? == turn.turn.at_s
                        && row.text("text")? == turn.turn.text
                        && row.flag("cut_off")? == turn.turn.cut_off);
                if same {
                    Ok(false)
                } else {
                    Err(StoreError::Conflict(format!(
                        "drill {drill} already has a different turn {}",
                        turn.index
                    ))
                    .into())
                }
            }

            pub(super) async fn create_drill(
                store: &$store,
                drill: &NewDrill,
            ) -> Result<DrillRecord, StoreError> {
                store
                    .write("create_drill", async |tx| {
                        let workspace =
                            super::people::workspace_id(&mut *tx, &drill.workspace).await?;
                        sqlx::query(
                            "INSERT INTO drills (id, workspace_id, scenario_id, mode, difficulty, \
                             phase, time_limit_s, max_turns, seed, created_at, clock_at, version, \
                             channel_id, thread_id) \
                             VALUES ($1, $2, $3, $4, $5, 'briefing', $6, $7, $8, $9, $9, 0, $10, $11)",
                        )
                        .bind(drill.id.as_str())
                        .bind(workspace)
                        .bind(&drill.settings.scenario_id)
                        .bind(drill.settings.mode.as_str())
                        .bind(drill.settings.difficulty.as_str())
                        .bind(i64::from(drill.settings.time_limit_s))
                        .bind(i64::from(drill.settings.max_turns))
                        .bind(drill.seed)
                        .bind(drill.created_at)
                        .bind(drill.place.as_ref().map(|p| p.channel.as_str()))
                        .bind(drill.place.as_ref().map(|p| p.thread.as_str()))
                        .execute(&mut *tx)
                        .await
                        .named("insert a drill")?;
                        for participant in &drill.participants {
                            let person = person_id(&mut *tx, &participant.person).await?;
                            sqlx::query(
                                "INSERT INTO participants (drill_id, person_id, role) \
                                 VALUES ($1, $2, $3)",
                            )
                            .bind(drill.id.as_str())
                            .bind(person)
                            .bind(participant.role.as_str())
                            .execute(&mut *tx)
                            .await
                            .named("insert a participant")?;
                        }
                        record(tx, &drill.id).await
                    })
                    .await
            }

            pub(super) async fn append_turn(
                store: &$store,
                drill: &DrillId,
                turn: &StoredTurn,
            ) -> Result<(), StoreError> {
                store
                    .write("append_turn", async |tx| {
                        // A turn of a missing drill is `NotFound`, not a key violation.
                        record(&mut *tx, drill).await?;
                        if insert_turn(&mut *tx, drill, turn).await? {
                            sqlx::query("UPDATE drills SET version = version + 1 WHERE id = $1")
                                .bind(drill.as_str())
                                .execute(&mut *tx)
                                .await
                                .named("bump a drill's version")?;
                        }
                        Ok(())
                    })
                    .await
            }

            pub(super) async fn set_phase(
                store: &$store,
                drill: &DrillId,
                phase: Phase,
                started_at: Option<EpochMillis>,
                expected_version: i64,
            ) -> Result<i64, StoreError> {
                store
                    .write("set_phase", async |tx| {
                        // An ended drill has no timer left to fire.
                        let over = phase.is_over() || phase == Phase::WrapUp;
                        let version: Option<i64> = sqlx::query_scalar(
                            "UPDATE drills SET phase = $1, \
                             started_at = COALESCE(CAST($2 AS BIGINT), started_at), \
                             ends_at = COALESCE(CAST($2 AS BIGINT) + time_limit_s * 1000, ends_at), \
                             clock_at = COALESCE(CAST($2 AS BIGINT), clock_at), \
                             next_due_at = CASE WHEN $3 THEN NULL ELSE next_due_at END, \
                             version = version + 1 \
                             WHERE id = $4 AND version = $5 RETURNING version",
                        )
                        .bind(phase.as_str())
                        .bind(started_at)
                        .bind(over)
                        .bind(drill.as_str())
                        .bind(expected_version)
                        .fetch_optional(&mut *tx)
                        .await
                        .named("set a drill's phase")?;
                        match version {
                            Some(v) => Ok(v),
                            None => Err(missing_or_conflict(tx, drill, expected_version).await),
                        }
                    })
                    .await
            }

            /// One event's changes in one transaction: the event id first (a concurrent
            /// commit of the same event waits for ours, then finds it and does nothing),
            /// then the drill row under its version, then the turns.
            pub(super) async fn commit(
                store: &$store,
                update: &DrillUpdate,
            ) -> Result<Committed, StoreError> {
                store
                    .write("commit", async |tx| {
                        if let Some(event) = &update.event {
                            let inserted = sqlx::query(INSERT_EVENT)
                                .bind(&event.platform)
                                .bind(&event.event_id)
                                .bind(update.at)
                                .execute(&mut *tx)
                                .await
                                .named("record a processed event")?;
                            if inserted.rows_affected() == 0 {
                                // Nothing was written; committing that is the same as
                                // rolling it back.
                                return Ok(Committed::Duplicate);
                            }
                        }
                        let (timer_mode, due) = match update.timer {
                            TimerChange::Keep => ("keep", None),
                            TimerChange::Set(at) => ("set", Some(at)),
                            TimerChange::Clear => ("clear", None),
                        };
                        let version: Option<i64> = sqlx::query_scalar(UPDATE_DRILL)
                            .bind(update.at)
                            .bind(update.phase.map(Phase::as_str))
                            .bind(update.started_at)
                            .bind(update.ends_at)
                            .bind(timer_mode)
                            .bind(due)
                            .bind(update.drill.as_str())
                            .bind(update.expected_version)
                            .bind(update.claim.as_ref().map(|c| c.owner.as_str()))
                            .bind(update.claim.as_ref().map(|c| c.until))
                            .fetch_optional(&mut *tx)
                            .await
                            .named("update a drill")?;
                        let Some(version) = version else {
                            return Err(missing_or_conflict(
                                tx,
                                &update.drill,
                                update.expected_version,
                            )
                            .await);
                        };
                        for turn in &update.turns {
                            insert_turn(&mut *tx, &update.drill, turn).await?;
                        }
                        Ok(Committed::Applied { version })
                    })
                    .await
            }

            pub(super) async fn load_drill(
                store: &$store,
                drill: &DrillId,
            ) -> Result<LoadedDrill, StoreError> {
                store
                    .read("load_drill", async |conn| load(conn, drill).await)
                    .await
            }

            pub(super) async fn load_live_drill_in(
                store: &$store,
                platform: &str,
                thread: &str,
                channel: Option<&str>,
            ) -> Result<Option<LoadedDrill>, StoreError> {
                store
                    .read("load_live_drill_in", async |conn| {
                        let row = sqlx::query(DRILL_IN_THREAD)
                            .bind(thread)
                            .bind(platform)
                            .bind(channel)
                            .fetch_optional(&mut *conn)
                            .await
                            .named("drill in a thread")?;
                        let Some(row) = row else {
                            return Ok(None);
                        };
                        let (record, card) = (drill_from_row(&row)?, row.json_opt("card")?);
                        complete(conn, record, card).await.map(Some)
                    })
                    .await
            }

            pub(super) async fn live_drill_in(
                store: &$store,
                platform: &str,
                thread: &str,
                channel: Option<&str>,
            ) -> Result<Option<DrillRecord>, StoreError> {
                store
                    .read("live_drill_in", async |conn| {
                        let row = sqlx::query(DRILL_IN_THREAD)
                            .bind(thread)
                            .bind(platform)
                            .bind(channel)
                            .fetch_optional(&mut *conn)
                            .await
                            .named("drill in a thread")?;
                        row.as_ref().map(drill_from_row).transpose()
                    })
                    .await
            }

            pub(super) async fn live_drill_of(
                store: &$store,
                workspace: &WorkspaceRef,
                person: &PersonRef,
            ) -> Result<Option<DrillRecord>, StoreError> {
                store
                    .read("live_drill_of", async |conn| {
                        let row = sqlx::query(AssertSqlSafe(format!(
                            "{DRILL_SELECT} \
                             JOIN participants pa ON pa.drill_id = d.id AND pa.role = 'candidate' \
                             JOIN people p ON p.id = pa.person_id \
                             WHERE w.platform = $1 AND w.external_id = $2 \
                             AND p.platform = $3 AND p.platform_user_id = $4 \
                             AND d.phase IN ('briefing', 'live', 'wrap_up') \
                             ORDER BY d.created_at DESC LIMIT 1"
                        )))
                        .bind(&workspace.platform)
                        .bind(&workspace.external_id)
                        .bind(&person.platform)
                        .bind(&person.platform_user_id)
                        .fetch_optional(&mut *conn)
                        .await
                        .named("a person's live drill")?;
                        row.as_ref().map(drill_from_row).transpose()
                    })
                    .await
            }

            /// Three queries for every live drill however many there are: the drills,
            /// then all their participants, then all their turns, joined up here.
            pub(super) async fn load_live_drills(
                store: &$store,
                platforms: &[String],
            ) -> Result<Vec<LoadedDrill>, StoreError> {
                store
                    .read("load_live_drills", async |conn| {
                        let [p1, p2, p3, p4] = platform_slots(platforms)?;
                        let drills = sqlx::query(LIVE_DRILLS)
                            .bind(p1)
                            .bind(p2)
                            .bind(p3)
                            .bind(p4)
                            .fetch_all(&mut *conn)
                            .await
                            .named("live drills")?;
                        let participants = sqlx::query(LIVE_PARTICIPANTS)
                            .bind(p1)
                            .bind(p2)
                            .bind(p3)
                            .bind(p4)
                            .fetch_all(&mut *conn)
                            .await
                            .named("participants of live drills")?;
                        let mut participants = by_drill(&participants, member_from_row)?;
                        let turns = sqlx::query(LIVE_TURNS)
                            .bind(p1)
                            .bind(p2)
                            .bind(p3)
                            .bind(p4)
                            .fetch_all(&mut *conn)
                            .await
                            .named("turns of live drills")?;
                        let mut turns = by_drill(&turns, turn_from_row)?;
                        drills
                            .iter()
                            .map(|row| {
                                let record = drill_from_row(row)?;
                                let scorecard = scorecard_of(&record.id, row.json_opt("card")?)?;
                                Ok(LoadedDrill {
                                    participants: participants
                                        .remove(record.id.as_str())
                                        .unwrap_or_default(),
                                    // A turn appended after the drills were listed is
                                    // kept: it is the drill's, and only ever later.
                                    turns: turns.remove(record.id.as_str()).unwrap_or_default(),
                                    record,
                                    scorecard,
                                })
                            })
                            .collect()
                    })
                    .await
            }

            pub(super) async fn save_scorecard(
                store: &$store,
                drill: &DrillId,
                scorecard: &StoredScorecard,
                at: EpochMillis,
            ) -> Result<(), StoreError> {
                store
                    .write("save_scorecard", async |tx| {
                        record(&mut *tx, drill).await?;
                        for table in ["scorecard_flags", "scorecard_dimensions", "scorecards"] {
                            sqlx::query(AssertSqlSafe(format!(
                                "DELETE FROM {table} WHERE drill_id = $1"
                            )))
                            .bind(drill.as_str())
                            .execute(&mut *tx)
                            .await
                            .named("remove an earlier scorecard")?;
                        }
                        sqlx::query(
                            "INSERT INTO scorecards (drill_id, overall, card, created_at) \
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(drill.as_str())
                        .bind(i64::from(scorecard.overall))
                        .bind(Json(&scorecard.json))
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .named("insert a scorecard")?;
                        for (ordinal, flag) in (0_i64..).zip(&scorecard.flags) {
                            sqlx::query(
                                "INSERT INTO scorecard_flags (drill_id, ordinal, kind, turn, at_s) \
                                 VALUES ($1, $2, $3, $4, $5)",
                            )
                            .bind(drill.as_str())
                            .bind(ordinal)
                            .bind(&flag.kind)
                            .bind(flag.turn)
                            .bind(flag.at_s)
                            .execute(&mut *tx)
                            .await
                            .named("insert a scorecard flag")?;
                        }
                        for (ordinal, (name, score)) in (0_i64..).zip(&scorecard.dimensions) {
                            sqlx::query(
                                "INSERT INTO scorecard_dimensions (drill_id, ordinal, name, score) \
                                 VALUES ($1, $2, $3, $4)",
                            )
                            .bind(drill.as_str())
                            .bind(ordinal)
                            .bind(name)
                            .bind(i64::from(*score))
                            .execute(&mut *tx)
                            .await
                            .named("insert a scorecard dimension")?;
                        }
                        Ok(())
                    })
                    .await
            }

            pub(super) async fn record_llm_usage(
                store: &$store,
                drill: &DrillId,
                model: &str,
                prompt_tokens: i64,
                completion_tokens: i64,
                at: EpochMillis,
            ) -> Result<(), StoreError> {
                store
                    .autocommit("record_llm_usage", async |conn| {
                        sqlx::query(
                            "INSERT INTO llm_usage (drill_id, model, prompt_tokens, \
                             completion_tokens, recorded_at) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(drill.as_str())
                        .bind(model)
                        .bind(prompt_tokens)
                        .bind(completion_tokens)
                        .bind(at)
                        .execute(&mut *conn)
                        .await
                        .named("insert model usage")?;
                        Ok(())
                    })
                    .await
            }

            pub(super) async fn add_peer_feedback(
                store: &$store,
                drill: &DrillId,
                from: &PersonRef,
                to: Option<&PersonRef>,
                text: &str,
                at: EpochMillis,
            ) -> Result<(), StoreError> {
                store
                    .write("add_peer_feedback", async |tx| {
                        let from = person_id(&mut *tx, from).await?;
                        let to = match to {
                            Some(to) => Some(person_id(&mut *tx, to).await?),
                            None => None,
                        };
                        sqlx::query(
                            "INSERT INTO peer_feedback (drill_id, from_person_id, to_person_id, \
                             text, created_at) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(drill.as_str())
                        .bind(from)
                        .bind(to)
                        .bind(text)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .named("insert peer feedback")?;
                        Ok(())
                    })
                    .await
            }
        }
    };
}

pub(crate) use drill_queries;
