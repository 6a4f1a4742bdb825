//! The SQL both backends share, written once as a macro over the sqlx database type. The
//! few places where the dialects differ (how a writing transaction begins, how due timers
//! are claimed) come from each backend's module.

use spar_core::Role;
use spar_core::drill::{Mode, Phase};
use spar_core::store::StoreError;

/// A failure inside a store operation: the driver's, or one the store decided on.
pub(crate) enum Failure {
    Db(sqlx::Error),
    Store(StoreError),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Failure {
        Failure::Db(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

impl From<Failure> for StoreError {
    fn from(f: Failure) -> StoreError {
        match f {
            Failure::Db(e) => super::store_error(e),
            Failure::Store(e) => e,
        }
    }
}

pub(crate) fn corrupt(what: impl Into<String>) -> Failure {
    Failure::Store(StoreError::Corrupt(what.into()))
}

pub(crate) fn parse_phase(s: &str) -> Result<Phase, Failure> {
    Phase::parse(s).ok_or_else(|| corrupt(format!("unknown phase {s:?}")))
}

pub(crate) fn parse_mode(s: &str) -> Result<Mode, Failure> {
    match s {
        "solo" => Ok(Mode::Solo),
        "peer" => Ok(Mode::Peer),
        _ => Err(corrupt(format!("unknown mode {s:?}"))),
    }
}

pub(crate) fn parse_role(s: &str) -> Result<Role, Failure> {
    match s {
        "candidate" => Ok(Role::Candidate),
        "antagonist" => Ok(Role::Antagonist),
        "observer" => Ok(Role::Observer),
        _ => Err(corrupt(format!("unknown role {s:?}"))),
    }
}

/// The columns `drill_from_row` reads, joined with the drill's workspace.
pub(crate) const DRILL_SELECT: &str = "SELECT d.id, d.workspace_id, w.platform, \
     w.external_id AS workspace_external_id, d.channel_id, d.thread_id, d.scenario_id, d.mode, \
     d.difficulty, d.phase, d.time_limit_s, d.max_turns, d.seed, d.created_at, d.started_at, \
     d.ends_at, d.clock_at, d.next_due_at, d.version \
     FROM drills d JOIN workspaces w ON w.id = d.workspace_id";

/// How many platforms one query can be narrowed to (`platform IN ($a, $b, ...)`); Spar
/// knows three, so one instance never serves more.
pub(crate) const PLATFORM_SLOTS: usize = 4;

/// The platforms as that many bind values, unused slots NULL (which `IN` never matches).
pub(crate) fn platform_slots(
    platforms: &[String],
) -> Result<[Option<&str>; PLATFORM_SLOTS], Failure> {
    if platforms.len() > PLATFORM_SLOTS {
        return Err(Failure::Store(StoreError::Other(format!(
            "at most {PLATFORM_SLOTS} platforms can be served at once, not {}",
            platforms.len()
        ))));
    }
    let mut slots = [None; PLATFORM_SLOTS];
    for (slot, platform) in slots.iter_mut().zip(platforms) {
        *slot = Some(platform.as_str());
    }
    Ok(slots)
}

/// Implements `Store` for a backend struct with a `pool` field and an inherent
/// `write_tx()` that begins a transaction which will write.
macro_rules! impl_store {
    (
        store: $store:ty,
        db: $db:ty,
        conn: $conn:ty,
        row: $row:ty,
        backend: $backend:literal,
        claim_sql: $claim_sql:expr $(,)?
    ) => {
        mod shared {
            use super::*;
            use $crate::store::now_ms;
            use $crate::store::queries::{
                corrupt, parse_mode, parse_phase, parse_role, platform_slots, Failure, DRILL_SELECT,
            };
            use spar_core::drill::{DrillSettings, Phase};
            use spar_core::store::*;
            use spar_core::{Difficulty, Turn};
            use sqlx::types::Json;
            use sqlx::{AssertSqlSafe, Row};

            pub(super) type R<T> = Result<T, Failure>;

            /// Fixes an operation's error type, so `?` inside it knows what to convert to.
            pub(super) fn typed<T>(run: impl std::future::Future<Output = R<T>>) -> impl std::future::Future<Output = R<T>> {
                run
            }

            fn drill_from_row(row: &$row) -> R<DrillRecord> {
                let difficulty: String = row.try_get("difficulty")?;
                let mode: String = row.try_get("mode")?;
                let phase: String = row.try_get("phase")?;
                let time_limit_s: i64 = row.try_get("time_limit_s")?;
                let max_turns: i64 = row.try_get("max_turns")?;
                let channel: Option<String> = row.try_get("channel_id")?;
                let thread: Option<String> = row.try_get("thread_id")?;
                Ok(DrillRecord {
                    id: DrillId(row.try_get("id")?),
                    workspace_id: row.try_get("workspace_id")?,
                    platform: row.try_get("platform")?,
                    workspace_external_id: row.try_get("workspace_external_id")?,
                    place: match (channel, thread) {
                        (Some(channel), Some(thread)) => Some(ChatPlace { channel, thread }),
                        _ => None,
                    },
                    settings: DrillSettings {
                        scenario_id: row.try_get("scenario_id")?,
                        difficulty: difficulty
                            .parse::<Difficulty>()
                            .map_err(|e| corrupt(e.to_string()))?,
                        mode: parse_mode(&mode)?,
                        time_limit_s: u32::try_from(time_limit_s)
                            .map_err(|_| corrupt("time limit out of range"))?,
                        max_turns: u32::try_from(max_turns)
                            .map_err(|_| corrupt("turn cap out of range"))?,
                    },
                    phase: parse_phase(&phase)?,
                    seed: row.try_get("seed")?,
                    created_at: row.try_get("created_at")?,
                    started_at: row.try_get("started_at")?,
                    ends_at: row.try_get("ends_at")?,
                    clock_at: row.try_get("clock_at")?,
                    next_due_at: row.try_get("next_due_at")?,
                    version: row.try_get("version")?,
                })
            }

            pub(super) async fn person_id(conn: &mut $conn, person: &PersonRef) -> R<i64> {
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
                .await?;
                Ok(id)
            }

            pub(super) async fn workspace_id(conn: &mut $conn, workspace: &WorkspaceRef) -> R<i64> {
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
                .await?;
                Ok(id)
            }

            async fn drill_record(conn: &mut $conn, drill: &DrillId) -> R<DrillRecord> {
                let row = sqlx::query(AssertSqlSafe(format!("{DRILL_SELECT} WHERE d.id = $1")))
                    .bind(drill.as_str())
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("drill {drill}")))?;
                drill_from_row(&row)
            }

            /// After an update matched no row: was the drill missing, or was it changed?
            async fn missing_or_conflict(
                conn: &mut $conn,
                drill: &DrillId,
                expected_version: i64,
            ) -> Failure {
                match drill_record(conn, drill).await {
                    Ok(record) => Failure::Store(StoreError::Conflict(format!(
                        "drill {drill} is at version {}, not {expected_version}",
                        record.version
                    ))),
                    Err(e) => e,
                }
            }

            /// Inserts a turn unless the same one is already stored; true when inserted.
            async fn insert_turn(conn: &mut $conn, drill: &DrillId, turn: &StoredTurn) -> R<bool> {
                let index = i64::try_from(turn.index).map_err(|_| corrupt("turn index"))?;
                let existing = sqlx::query(
                    "SELECT role, at_s, text, cut_off, redacted FROM turns WHERE drill_id = $1 AND idx = $2",
                )
                .bind(drill.as_str())
                .bind(index)
                .fetch_optional(&mut *conn)
                .await?;
                if let Some(row) = existing {
                    let role: String = row.try_get("role")?;
                    let at_s: f64 = row.try_get("at_s")?;
                    let text: String = row.try_get("text")?;
                    let cut_off: bool = row.try_get("cut_off")?;
                    let redacted: bool = row.try_get("redacted")?;
                    let same = redacted
                        || (parse_role(&role)? == turn.turn.role
                            && at_s == turn.turn.at_s
                            && text == turn.turn.text
                            && cut_off == turn.turn.cut_off);
                    return if same {
                        Ok(false)
                    } else {
                        Err(StoreError::Conflict(format!(
                            "drill {drill} already has a different turn {}",
                            turn.index
                        ))
                        .into())
                    };
                }
                let count: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM turns WHERE drill_id = $1")
                        .bind(drill.as_str())
                        .fetch_one(&mut *conn)
                        .await?;
                if count != index {
                    // Turns are append-only and gap-free, so the index is always the count.
                    return Err(StoreError::Conflict(format!(
                        "drill {drill} has {count} turns; turn {} cannot be appended",
                        turn.index
                    ))
                    .into());
                }
                sqlx::query(
                    "INSERT INTO turns (drill_id, idx, role, at_s, text, cut_off, author_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(drill.as_str())
                .bind(index)
                .bind(turn.turn.role.as_str())
                .bind(turn.turn.at_s)
                .bind(&turn.turn.text)
                .bind(turn.turn.cut_off)
                .bind(turn.author)
                .execute(&mut *conn)
                .await?;
                Ok(true)
            }

            async fn load(conn: &mut $conn, drill: &DrillId) -> R<LoadedDrill> {
                let record = drill_record(conn, drill).await?;
                let participants = sqlx::query(
                    "SELECT p.id, p.platform, p.platform_user_id, p.display_name, pa.role \
                     FROM participants pa JOIN people p ON p.id = pa.person_id \
                     WHERE pa.drill_id = $1 ORDER BY p.id",
                )
                .bind(drill.as_str())
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| -> R<Member> {
                    let role: String = row.try_get("role")?;
                    Ok(Member {
                        id: row.try_get("id")?,
                        person: PersonRef {
                            platform: row.try_get("platform")?,
                            platform_user_id: row.try_get("platform_user_id")?,
                            display_name: row.try_get("display_name")?,
                        },
                        role: parse_role(&role)?,
                    })
                })
                .collect::<R<Vec<_>>>()?;
                let turns = sqlx::query(
                    "SELECT idx, role, at_s, text, cut_off, author_id FROM turns \
                     WHERE drill_id = $1 ORDER BY idx",
                )
                .bind(drill.as_str())
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| -> R<StoredTurn> {
                    let index: i64 = row.try_get("idx")?;
                    let role: String = row.try_get("role")?;
                    Ok(StoredTurn {
                        index: usize::try_from(index).map_err(|_| corrupt("turn index"))?,
                        turn: Turn {
                            role: parse_role(&role)?,
                            at_s: row.try_get("at_s")?,
                            text: row.try_get("text")?,
                            cut_off: row.try_get("cut_off")?,
                        },
                        author: row.try_get("author_id")?,
                    })
                })
                .collect::<R<Vec<_>>>()?;
                let card: Option<Json<serde_json::Value>> =
                    sqlx::query_scalar("SELECT card FROM scorecards WHERE drill_id = $1")
                        .bind(drill.as_str())
                        .fetch_optional(&mut *conn)
                        .await?;
                let scorecard = match card {
                    Some(Json(json)) => Some(
                        StoredScorecard::from_json(json)
                            .map_err(|e| corrupt(format!("scorecard of drill {drill}: {e}")))?,
                    ),
                    None => None,
                };
                Ok(LoadedDrill {
                    record,
                    participants,
                    turns,
                    scorecard,
                })
            }

            /// Whether `person` (if any) was the candidate in a drill; the filter of history and stats.
            const CANDIDATE_FILTER: &str = "(CAST($1 AS TEXT) IS NULL OR EXISTS (\
                 SELECT 1 FROM participants pa JOIN people p ON p.id = pa.person_id \
                 WHERE pa.drill_id = d.id AND pa.role = 'candidate' \
                 AND p.platform = $1 AND p.platform_user_id = $2))";

            impl Store for $store {
                fn backend(&self) -> &'static str {
                    $backend
                }

                fn ensure_person<'a>(&'a self, person: &'a PersonRef) -> StoreFuture<'a, PersonId> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut conn = self.pool.acquire().await?;
                            person_id(&mut conn, person).await
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn ensure_workspace<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                ) -> StoreFuture<'a, WorkspaceId> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut conn = self.pool.acquire().await?;
                            workspace_id(&mut conn, workspace).await
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn create_drill<'a>(&'a self, drill: &'a NewDrill) -> StoreFuture<'a, DrillRecord> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut tx = self.write_tx().await?;
                            let workspace = workspace_id(&mut tx, &drill.workspace).await?;
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
                            .await?;
                            for participant in &drill.participants {
                                let person = person_id(&mut tx, &participant.person).await?;
                                sqlx::query(
                                    "INSERT INTO participants (drill_id, person_id, role) \
                                     VALUES ($1, $2, $3)",
                                )
                                .bind(drill.id.as_str())
                                .bind(person)
                                .bind(participant.role.as_str())
                                .execute(&mut *tx)
                                .await?;
                            }
                            let record = drill_record(&mut tx, &drill.id).await?;
                            tx.commit().await?;
                            Ok(record)
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn append_turn<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    turn: &'a StoredTurn,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut tx = self.write_tx().await?;
                            drill_record(&mut tx, drill).await?;
                            if insert_turn(&mut tx, drill, turn).await? {
                                sqlx::query("UPDATE drills SET version = version + 1 WHERE id = $1")
                                    .bind(drill.as_str())
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            tx.commit().await?;
                            Ok(())
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn set_phase<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    phase: Phase,
                    started_at: Option<EpochMillis>,
                    expected_version: i64,
                ) -> StoreFuture<'a, i64> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut tx = self.write_tx().await?;
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
                            .await?;
                            match version {
                                Some(v) => {
                                    tx.commit().await?;
                                    Ok(v)
                                }
                                None => Err(missing_or_conflict(&mut tx, drill, expected_version).await),
                            }
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn set_next_due<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    due: Option<EpochMillis>,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(async move {
                        let run = typed(async {
                            let done = sqlx::query(
                                "UPDATE drills SET next_due_at = $1, lease_owner = NULL, \
                                 lease_until = NULL WHERE id = $2",
                            )
                            .bind(due)
                            .bind(drill.as_str())
                            .execute(&self.pool)
                            .await?;
                            if done.rows_affected() == 0 {
                                return Err(StoreError::NotFound(format!("drill {drill}")).into());
                            }
                            Ok(())
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn commit<'a>(&'a self, update: &'a DrillUpdate) -> StoreFuture<'a, Committed> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut tx = self.write_tx().await?;
                            if let Some(event) = &update.event {
                                // Claimed first: a concurrent commit of the same event waits
                                // here for ours, then finds it and does nothing.
                                let inserted = sqlx::query(
                                    "INSERT INTO processed_events (platform, event_id, processed_at) \
                                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                                )
                                .bind(&event.platform)
                                .bind(&event.event_id)
                                .bind(update.at)
                                .execute(&mut *tx)
                                .await?;
                                if inserted.rows_affected() == 0 {
                                    tx.rollback().await?;
                                    return Ok(Committed::Duplicate);
                                }
                            }
                            let (timer_mode, due) = match update.timer {
                                TimerChange::Keep => ("keep", None),
                                TimerChange::Set(at) => ("set", Some(at)),
                                TimerChange::Clear => ("clear", None),
                            };
                            let version: Option<i64> = sqlx::query_scalar(
                                "UPDATE drills SET version = version + 1, clock_at = $1, \
                                 phase = COALESCE(CAST($2 AS TEXT), phase), \
                                 started_at = COALESCE(CAST($3 AS BIGINT), started_at), \
                                 ends_at = COALESCE(CAST($4 AS BIGINT), ends_at), \
                                 next_due_at = CASE CAST($5 AS TEXT) WHEN 'keep' THEN next_due_at \
                                     ELSE CAST($6 AS BIGINT) END, \
                                 lease_owner = CASE CAST($5 AS TEXT) WHEN 'keep' THEN lease_owner ELSE NULL END, \
                                 lease_until = CASE CAST($5 AS TEXT) WHEN 'keep' THEN lease_until ELSE NULL END, \
                                 recovery_owner = COALESCE(CAST($9 AS TEXT), recovery_owner), \
                                 recovery_until = COALESCE(CAST($10 AS BIGINT), recovery_until) \
                                 WHERE id = $7 AND version = $8 RETURNING version",
                            )
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
                            .await?;
                            let Some(version) = version else {
                                let failure =
                                    missing_or_conflict(&mut tx, &update.drill, update.expected_version)
                                        .await;
                                tx.rollback().await?;
                                return Err(failure);
                            };
                            for turn in &update.turns {
                                insert_turn(&mut tx, &update.drill, turn).await?;
                            }
                            tx.commit().await?;
                            Ok(Committed::Applied { version })
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn claim_due_timers<'a>(
                    &'a self,
                    owner: &'a str,
                    platforms: &'a [String],
                    now: EpochMillis,
                    lease_ms: i64,
                    limit: u32,
                ) -> StoreFuture<'a, Vec<DueTimer>> {
                    Box::pin(async move {
                        let run = typed(async {
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
                                .fetch_all(&self.pool)
                                .await?;
                            let mut due = rows
                                .iter()
                                .map(|row| -> R<DueTimer> {
                                    Ok(DueTimer {
                                        drill: DrillId(row.try_get("id")?),
                                        due_at: row.try_get("next_due_at")?,
                                    })
                                })
                                .collect::<R<Vec<_>>>()?;
                            due.sort_by_key(|d| d.due_at);
                            Ok(due)
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn release_timer<'a>(&'a self, drill: &'a DrillId, owner: &'a str) -> StoreFuture<'a, ()> {
                    Box::pin(async move {
                        let run = typed(async {
                            sqlx::query(
                                "UPDATE drills SET lease_owner = NULL, lease_until = NULL \
                                 WHERE id = $1 AND lease_owner = $2",
                            )
                            .bind(drill.as_str())
                            .bind(owner)
                            .execute(&self.pool)
                            .await?;
                            Ok(())
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn claim_recovery<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    owner: &'a str,
                    now: EpochMillis,
                    lease_ms: i64,
                ) -> StoreFuture<'a, bool> {
                    Box::pin(async move {
                        let run = typed(async {
                            // One conditional UPDATE: the database decides between
                            // instances racing for the same drill (SQLite by running
                            // writers one at a time, PostgreSQL by re-checking the WHERE
                            // on the row it locked), so at most one sees a row changed.
                            let done = sqlx::query(
                                "UPDATE drills SET recovery_owner = $1, recovery_until = $2 \
                                 WHERE id = $3 AND (recovery_until IS NULL OR recovery_until <= $4)",
                            )
                            .bind(owner)
                            .bind(now.saturating_add(lease_ms))
                            .bind(drill.as_str())
                            .bind(now)
                            .execute(&self.pool)
                            .await?;
                            Ok(done.rows_affected() == 1)
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn save_scorecard<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    scorecard: &'a StoredScorecard,
                    at: EpochMillis,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut tx = self.write_tx().await?;
                            drill_record(&mut tx, drill).await?;
                            for table in ["scorecard_flags", "scorecard_dimensions", "scorecards"] {
                                sqlx::query(AssertSqlSafe(format!(
                                    "DELETE FROM {table} WHERE drill_id = $1"
                                )))
                                .bind(drill.as_str())
                                .execute(&mut *tx)
                                .await?;
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
                            .await?;
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
                                .await?;
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
                                .await?;
                            }
                            tx.commit().await?;
                            Ok(())
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn mark_event_processed<'a>(
                    &'a self,
                    event: &'a EventKey,
                    at: EpochMillis,
                ) -> StoreFuture<'a, bool> {
                    Box::pin(async move {
                        let run = typed(async {
                            let done = sqlx::query(
                                "INSERT INTO processed_events (platform, event_id, processed_at) \
                                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                            )
                            .bind(&event.platform)
                            .bind(&event.event_id)
                            .bind(at)
                            .execute(&self.pool)
                            .await?;
                            Ok(done.rows_affected() == 1)
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn event_processed<'a>(&'a self, event: &'a EventKey) -> StoreFuture<'a, bool> {
                    Box::pin(async move {
                        let run = typed(async {
                            let found: Option<i64> = sqlx::query_scalar(
                                "SELECT CAST(1 AS BIGINT) FROM processed_events \
                                 WHERE platform = $1 AND event_id = $2",
                            )
                            .bind(&event.platform)
                            .bind(&event.event_id)
                            .fetch_optional(&self.pool)
                            .await?;
                            Ok(found.is_some())
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn load_live_drills<'a>(
                    &'a self,
                    platforms: &'a [String],
                ) -> StoreFuture<'a, Vec<LoadedDrill>> {
                    Box::pin(async move {
                        let run = typed(async {
                            let [p1, p2, p3, p4] = platform_slots(platforms)?;
                            let mut conn = self.pool.acquire().await?;
                            let ids: Vec<String> = sqlx::query_scalar(
                                "SELECT d.id FROM drills d JOIN workspaces w ON w.id = d.workspace_id \
                                 WHERE d.phase IN ('briefing', 'live', 'wrap_up') \
                                 AND w.platform IN ($1, $2, $3, $4) \
                                 ORDER BY d.created_at, d.id",
                            )
                            .bind(p1)
                            .bind(p2)
                            .bind(p3)
                            .bind(p4)
                            .fetch_all(&mut *conn)
                            .await?;
                            let mut drills = Vec::with_capacity(ids.len());
                            for id in ids {
                                drills.push(load(&mut conn, &DrillId(id)).await?);
                            }
                            Ok(drills)
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn load_drill<'a>(&'a self, drill: &'a DrillId) -> StoreFuture<'a, LoadedDrill> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut conn = self.pool.acquire().await?;
                            load(&mut conn, drill).await
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn history<'a>(
                    &'a self,
                    person: Option<&'a PersonRef>,
                ) -> StoreFuture<'a, Vec<HistoryRow>> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut conn = self.pool.acquire().await?;
                            let rows = sqlx::query(AssertSqlSafe(format!(
                                "SELECT d.id, d.scenario_id, d.difficulty, d.mode, d.phase, \
                                 d.created_at, d.started_at, \
                                 (SELECT MAX(t.at_s) FROM turns t WHERE t.drill_id = d.id) AS duration_s, \
                                 s.overall, \
                                 (SELECT CAST(SUM(u.prompt_tokens + u.completion_tokens) AS BIGINT) \
                                  FROM llm_usage u WHERE u.drill_id = d.id) AS tokens \
                                 FROM drills d LEFT JOIN scorecards s ON s.drill_id = d.id \
                                 WHERE {CANDIDATE_FILTER} \
                                 ORDER BY COALESCE(d.started_at, d.created_at) DESC, d.created_at DESC, d.id"
                            )))
                            .bind(person.map(|p| p.platform.as_str()))
                            .bind(person.map(|p| p.platform_user_id.as_str()))
                            .fetch_all(&mut *conn)
                            .await?;
                            let mut history = Vec::with_capacity(rows.len());
                            for row in &rows {
                                let id: String = row.try_get("id")?;
                                let phase: String = row.try_get("phase")?;
                                let overall: Option<i64> = row.try_get("overall")?;
                                let flags: Vec<String> = sqlx::query_scalar(
                                    "SELECT kind FROM scorecard_flags WHERE drill_id = $1 ORDER BY ordinal",
                                )
                                .bind(&id)
                                .fetch_all(&mut *conn)
                                .await?;
                                history.push(HistoryRow {
                                    id: DrillId(id),
                                    scenario_id: row.try_get("scenario_id")?,
                                    difficulty: row.try_get("difficulty")?,
                                    mode: row.try_get("mode")?,
                                    phase: parse_phase(&phase)?,
                                    created_at: row.try_get("created_at")?,
                                    started_at: row.try_get("started_at")?,
                                    duration_s: row.try_get("duration_s")?,
                                    overall: overall.and_then(|o| u8::try_from(o).ok()),
                                    flags,
                                    tokens: row.try_get("tokens")?,
                                });
                            }
                            Ok(history)
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn score_series<'a>(
                    &'a self,
                    person: Option<&'a PersonRef>,
                ) -> StoreFuture<'a, Vec<ScorePoint>> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut conn = self.pool.acquire().await?;
                            let rows = sqlx::query(AssertSqlSafe(format!(
                                "SELECT d.id, COALESCE(d.started_at, d.created_at) AS at, s.overall \
                                 FROM scorecards s JOIN drills d ON d.id = s.drill_id \
                                 WHERE {CANDIDATE_FILTER} \
                                 ORDER BY COALESCE(d.started_at, d.created_at), d.id"
                            )))
                            .bind(person.map(|p| p.platform.as_str()))
                            .bind(person.map(|p| p.platform_user_id.as_str()))
                            .fetch_all(&mut *conn)
                            .await?;
                            let mut points = Vec::with_capacity(rows.len());
                            for row in &rows {
                                let id: String = row.try_get("id")?;
                                let overall: i64 = row.try_get("overall")?;
                                let dimensions = sqlx::query(
                                    "SELECT name, score FROM scorecard_dimensions \
                                     WHERE drill_id = $1 ORDER BY ordinal",
                                )
                                .bind(&id)
                                .fetch_all(&mut *conn)
                                .await?
                                .iter()
                                .map(|d| -> R<(String, u8)> {
                                    let score: i64 = d.try_get("score")?;
                                    Ok((
                                        d.try_get("name")?,
                                        u8::try_from(score).map_err(|_| corrupt("dimension score"))?,
                                    ))
                                })
                                .collect::<R<Vec<_>>>()?;
                                points.push(ScorePoint {
                                    drill: DrillId(id),
                                    at: row.try_get("at")?,
                                    overall: u8::try_from(overall)
                                        .map_err(|_| corrupt("overall score"))?,
                                    dimensions,
                                });
                            }
                            Ok(points)
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn forget_person<'a>(
                    &'a self,
                    platform: &'a str,
                    platform_user_id: &'a str,
                ) -> StoreFuture<'a, Forgotten> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut tx = self.write_tx().await?;
                            let person: Option<i64> = sqlx::query_scalar(
                                "SELECT id FROM people WHERE platform = $1 AND platform_user_id = $2",
                            )
                            .bind(platform)
                            .bind(platform_user_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                            let Some(person) = person else {
                                tx.rollback().await?;
                                return Ok(Forgotten::default());
                            };
                            let drills: Vec<String> = sqlx::query_scalar(
                                "SELECT drill_id FROM participants WHERE person_id = $1 AND role = 'candidate'",
                            )
                            .bind(person)
                            .fetch_all(&mut *tx)
                            .await?;
                            // Children first, rather than trusting every connection to
                            // enforce foreign keys: nothing of theirs may survive.
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
                                    .await?;
                                }
                                sqlx::query("DELETE FROM drills WHERE id = $1")
                                    .bind(drill)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            // What they said in other people's drills is blanked, not
                            // removed, so those transcripts keep their numbering.
                            let redacted = sqlx::query(
                                "UPDATE turns SET text = '', redacted = TRUE, author_id = NULL \
                                 WHERE author_id = $1",
                            )
                            .bind(person)
                            .execute(&mut *tx)
                            .await?
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
                                    .await?;
                            }
                            tx.commit().await?;
                            Ok(Forgotten {
                                person_found: true,
                                drills: drills.len() as u64,
                                turns_redacted: redacted,
                            })
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn record_llm_usage<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    model: &'a str,
                    prompt_tokens: i64,
                    completion_tokens: i64,
                    at: EpochMillis,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(async move {
                        let run = typed(async {
                            sqlx::query(
                                "INSERT INTO llm_usage (drill_id, model, prompt_tokens, \
                                 completion_tokens, recorded_at) VALUES ($1, $2, $3, $4, $5)",
                            )
                            .bind(drill.as_str())
                            .bind(model)
                            .bind(prompt_tokens)
                            .bind(completion_tokens)
                            .bind(at)
                            .execute(&self.pool)
                            .await?;
                            Ok(())
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn add_peer_feedback<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    from: &'a PersonRef,
                    to: Option<&'a PersonRef>,
                    text: &'a str,
                    at: EpochMillis,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut tx = self.write_tx().await?;
                            let from = person_id(&mut tx, from).await?;
                            let to = match to {
                                Some(to) => Some(person_id(&mut tx, to).await?),
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
                            .await?;
                            tx.commit().await?;
                            Ok(())
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn live_drill_in<'a>(
                    &'a self,
                    platform: &'a str,
                    thread: &'a str,
                    channel: Option<&'a str>,
                ) -> StoreFuture<'a, Option<DrillRecord>> {
                    Box::pin(async move {
                        let run = typed(async {
                            let row = sqlx::query(AssertSqlSafe(format!(
                                "{DRILL_SELECT} WHERE d.thread_id = $1 AND w.platform = $2 \
                                 AND (CAST($3 AS TEXT) IS NULL OR d.channel_id = $3) \
                                 AND d.phase IN ('briefing', 'live', 'wrap_up') \
                                 ORDER BY d.created_at DESC LIMIT 1"
                            )))
                            .bind(thread)
                            .bind(platform)
                            .bind(channel)
                            .fetch_optional(&self.pool)
                            .await?;
                            row.as_ref().map(drill_from_row).transpose()
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn live_drill_of<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    person: &'a PersonRef,
                ) -> StoreFuture<'a, Option<DrillRecord>> {
                    Box::pin(async move {
                        let run = typed(async {
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
                            .fetch_optional(&self.pool)
                            .await?;
                            row.as_ref().map(drill_from_row).transpose()
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn drills_since<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    person: &'a PersonRef,
                    since: EpochMillis,
                ) -> StoreFuture<'a, u32> {
                    Box::pin(async move {
                        let run = typed(async {
                            let count: i64 = sqlx::query_scalar(
                                "SELECT COUNT(*) FROM drills d \
                                 JOIN workspaces w ON w.id = d.workspace_id \
                                 JOIN participants pa ON pa.drill_id = d.id AND pa.role = 'candidate' \
                                 JOIN people p ON p.id = pa.person_id \
                                 WHERE w.platform = $1 AND w.external_id = $2 \
                                 AND p.platform = $3 AND p.platform_user_id = $4 \
                                 AND d.created_at >= $5",
                            )
                            .bind(&workspace.platform)
                            .bind(&workspace.external_id)
                            .bind(&person.platform)
                            .bind(&person.platform_user_id)
                            .bind(since)
                            .fetch_one(&self.pool)
                            .await?;
                            Ok(u32::try_from(count).unwrap_or(u32::MAX))
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn workspace_config<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                ) -> StoreFuture<'a, WorkspaceConfig> {
                    Box::pin(async move {
                        let run = typed(async {
                            let row = sqlx::query(
                                "SELECT drill_channel, public_threads, default_difficulty, daily_limit \
                                 FROM workspaces WHERE platform = $1 AND external_id = $2",
                            )
                            .bind(&workspace.platform)
                            .bind(&workspace.external_id)
                            .fetch_optional(&self.pool)
                            .await?;
                            let Some(row) = row else {
                                return Ok(WorkspaceConfig::default());
                            };
                            let difficulty: Option<String> = row.try_get("default_difficulty")?;
                            let limit: Option<i64> = row.try_get("daily_limit")?;
                            Ok(WorkspaceConfig {
                                drill_channel: row.try_get("drill_channel")?,
                                public_threads: row.try_get("public_threads")?,
                                default_difficulty: difficulty
                                    .map(|d| d.parse::<Difficulty>().map_err(|e| corrupt(e.to_string())))
                                    .transpose()?,
                                daily_limit: limit
                                    .map(|l| u32::try_from(l).map_err(|_| corrupt("daily limit out of range")))
                                    .transpose()?,
                            })
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn set_workspace_config<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    config: &'a WorkspaceConfig,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(async move {
                        let run = typed(async {
                            let mut tx = self.write_tx().await?;
                            let id = workspace_id(&mut tx, workspace).await?;
                            sqlx::query(
                                "UPDATE workspaces SET drill_channel = $1, public_threads = $2, \
                                 default_difficulty = $3, daily_limit = $4 WHERE id = $5",
                            )
                            .bind(config.drill_channel.as_deref())
                            .bind(config.public_threads)
                            .bind(config.default_difficulty.map(|d| d.as_str()))
                            .bind(config.daily_limit.map(i64::from))
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                            tx.commit().await?;
                            Ok(())
                        });
                        run.await.map_err(StoreError::from)
                    })
                }

                fn peer(&self) -> &dyn PeerStore {
                    self
                }
            }
        }
    };
}

pub(crate) use impl_store;
