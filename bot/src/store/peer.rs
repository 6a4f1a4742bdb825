//! The SQL of peer drills, shared by both backends like the rest of `store`: channel queues, the
//! pairing history, schedules with their opt-ins and rounds, and ratings. States the core
//! owns (a schedule, a round's state machine, a rating's scores) are kept as JSON text, so
//! the schema does not follow every change of their shape.

use super::sql::{Failure, corrupt};
use spar_core::Difficulty;
use spar_core::peer::Preference;

pub(crate) fn preference_str(preference: Preference) -> &'static str {
    match preference {
        Preference::PeerOnly => "peer_only",
        Preference::SoloIfNoPartner => "solo_if_no_partner",
    }
}

pub(crate) fn parse_preference(s: &str) -> Result<Preference, Failure> {
    match s {
        "peer_only" => Ok(Preference::PeerOnly),
        "solo_if_no_partner" => Ok(Preference::SoloIfNoPartner),
        _ => Err(corrupt(format!("unknown preference {s:?}"))),
    }
}

pub(crate) fn parse_difficulty(s: Option<String>) -> Result<Option<Difficulty>, Failure> {
    s.map(|d| d.parse::<Difficulty>().map_err(|e| corrupt(e.to_string())))
        .transpose()
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| corrupt(format!("encoding: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, Failure> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("{what}: {e}")))
}

/// The columns `waiting_from_row` reads: a person and what they asked for.
pub(crate) const WAITING_COLUMNS: &str =
    "p.platform, p.platform_user_id, p.display_name, q.scenario_id, q.difficulty, q.preference";

/// The columns `schedule_from_row` reads, joined with the schedule's workspace.
pub(crate) const SCHEDULE_SELECT: &str = "SELECT s.id, s.channel_id, s.schedule, s.paused, \
     s.created_at, w.platform, w.external_id, w.name \
     FROM peer_schedules s JOIN workspaces w ON w.id = s.workspace_id";

pub(crate) const ROUND_COLUMNS: &str = "r.id, r.schedule_id, r.state, r.next_due_at, r.version";

/// Implements `PeerStore` for a backend that `impl_store!` was applied to (its `shared`
/// module holds the person and workspace upserts). Every operation runs through the
/// backend's `read`, `write` or `autocommit`, as the rest of the store does, so a failure
/// names the operation and the query and keeps the driver's error as its cause.
macro_rules! impl_peer_store {
    (store: $store:ty, row: $row:ty $(,)?) => {
        mod peer_shared {
            use super::*;
            use super::shared::{person_id, workspace_id, R};
            use $crate::store::peer::{
                from_json, parse_difficulty, parse_preference, preference_str, to_json,
                ROUND_COLUMNS, SCHEDULE_SELECT, WAITING_COLUMNS,
            };
            use $crate::store::sql::{parse_role, platform_slots, Named};
            use spar_core::peer::{Entry, Group, Schedule, ScheduledRound};
            use spar_core::store::*;
            use sqlx::{AssertSqlSafe, Row};

            fn waiting_from_row(row: &$row, since: &str) -> R<Waiting> {
                let person = PersonRef {
                    platform: row.try_get("platform")?,
                    platform_user_id: row.try_get("platform_user_id")?,
                    display_name: row.try_get("display_name")?,
                };
                let preference: String = row.try_get("preference")?;
                Ok(Waiting {
                    entry: Entry {
                        member: person.platform_user_id.clone(),
                        scenario: row.try_get("scenario_id")?,
                        difficulty: parse_difficulty(row.try_get("difficulty")?)?,
                        preference: parse_preference(&preference)?,
                    },
                    person,
                    since: row.try_get(since)?,
                })
            }

            fn schedule_from_row(row: &$row) -> R<ScheduleRecord> {
                let schedule: String = row.try_get("schedule")?;
                Ok(ScheduleRecord {
                    id: row.try_get("id")?,
                    workspace: WorkspaceRef {
                        platform: row.try_get("platform")?,
                        external_id: row.try_get("external_id")?,
                        name: row.try_get("name")?,
                    },
                    channel: row.try_get("channel_id")?,
                    schedule: from_json::<Schedule>("a stored schedule", &schedule)?,
                    paused: row.try_get("paused")?,
                    created_at: row.try_get("created_at")?,
                })
            }

            fn round_from_row(row: &$row) -> R<RoundRecord> {
                let state: String = row.try_get("state")?;
                Ok(RoundRecord {
                    id: row.try_get("id")?,
                    schedule_id: row.try_get("schedule_id")?,
                    round: from_json::<ScheduledRound>("a stored round", &state)?,
                    next_due_at: row.try_get("next_due_at")?,
                    version: row.try_get("version")?,
                })
            }

            impl PeerStore for $store {
                fn join_queue<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    channel: &'a str,
                    person: &'a PersonRef,
                    entry: &'a Entry,
                    at: EpochMillis,
                ) -> StoreFuture<'a, bool> {
                    Box::pin(self.write("join_queue", async move |tx| {
                        let workspace = workspace_id(&mut *tx, workspace).await?;
                        let person = person_id(&mut *tx, person).await?;
                        let updated = sqlx::query(
                            "UPDATE peer_queue SET scenario_id = $1, difficulty = $2, preference = $3 \
                             WHERE workspace_id = $4 AND channel_id = $5 AND person_id = $6",
                        )
                        .bind(entry.scenario.as_deref())
                        .bind(entry.difficulty.map(|d| d.as_str()))
                        .bind(preference_str(entry.preference))
                        .bind(workspace)
                        .bind(channel)
                        .bind(person)
                        .execute(&mut *tx)
                        .await
                        .named("update a queue entry")?
                        .rows_affected();
                        if updated == 0 {
                            sqlx::query(
                                "INSERT INTO peer_queue (workspace_id, channel_id, person_id, \
                                 scenario_id, difficulty, preference, joined_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            )
                            .bind(workspace)
                            .bind(channel)
                            .bind(person)
                            .bind(entry.scenario.as_deref())
                            .bind(entry.difficulty.map(|d| d.as_str()))
                            .bind(preference_str(entry.preference))
                            .bind(at)
                            .execute(&mut *tx)
                            .await
                            .named("insert a queue entry")?;
                        }
                        Ok(updated == 0)
                    }))
                }

                fn leave_queue<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    channel: &'a str,
                    person: &'a PersonRef,
                ) -> StoreFuture<'a, bool> {
                    Box::pin(self.autocommit("leave_queue", async move |conn| {
                        let done = sqlx::query(
                            "DELETE FROM peer_queue WHERE channel_id = $1 \
                             AND workspace_id = (SELECT id FROM workspaces WHERE platform = $2 AND external_id = $3) \
                             AND person_id = (SELECT id FROM people WHERE platform = $4 AND platform_user_id = $5)",
                        )
                        .bind(channel)
                        .bind(&workspace.platform)
                        .bind(&workspace.external_id)
                        .bind(&person.platform)
                        .bind(&person.platform_user_id)
                        .execute(&mut *conn)
                        .await
                        .named("delete a queue entry")?;
                        Ok(done.rows_affected() > 0)
                    }))
                }

                fn queue<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    channel: &'a str,
                ) -> StoreFuture<'a, Vec<Waiting>> {
                    Box::pin(self.read("queue", async move |conn| {
                        let rows = sqlx::query(AssertSqlSafe(format!(
                            "SELECT {WAITING_COLUMNS}, q.joined_at FROM peer_queue q \
                             JOIN people p ON p.id = q.person_id \
                             JOIN workspaces w ON w.id = q.workspace_id \
                             WHERE w.platform = $1 AND w.external_id = $2 AND q.channel_id = $3 \
                             ORDER BY q.joined_at, q.id"
                        )))
                        .bind(&workspace.platform)
                        .bind(&workspace.external_id)
                        .bind(channel)
                        .fetch_all(&mut *conn)
                        .await
                        .named("a channel's queue")?;
                        rows.iter().map(|r| waiting_from_row(r, "joined_at")).collect()
                    }))
                }

                fn record_pairing<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    channel: &'a str,
                    groups: &'a [Group],
                    from_queue: bool,
                    at: EpochMillis,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(self.write("record_pairing", async move |tx| {
                        let ws = workspace_id(&mut *tx, workspace).await?;
                        let pairing: i64 = sqlx::query_scalar(
                            "INSERT INTO peer_pairings (workspace_id, channel_id, recorded_at) \
                             VALUES ($1, $2, $3) RETURNING id",
                        )
                        .bind(ws)
                        .bind(channel)
                        .bind(at)
                        .fetch_one(&mut *tx)
                        .await
                        .named("insert a pairing")?;
                        for (ordinal, group) in (0_i64..).zip(groups) {
                            let mut ids = Vec::with_capacity(3);
                            for member in [
                                Some(group.candidate.as_str()),
                                group.antagonist.as_deref(),
                                group.observer.as_deref(),
                            ] {
                                let Some(member) = member else {
                                    ids.push(None);
                                    continue;
                                };
                                let known: Option<i64> = sqlx::query_scalar(
                                    "SELECT id FROM people WHERE platform = $1 AND platform_user_id = $2",
                                )
                                .bind(&workspace.platform)
                                .bind(member)
                                .fetch_optional(&mut *tx)
                                .await
                                .named("a paired member")?;
                                let id = match known {
                                    Some(id) => id,
                                    None => {
                                        let person = PersonRef {
                                            platform: workspace.platform.clone(),
                                            platform_user_id: member.to_string(),
                                            display_name: member.to_string(),
                                        };
                                        person_id(&mut *tx, &person).await?
                                    }
                                };
                                if from_queue {
                                    let left = sqlx::query(
                                        "DELETE FROM peer_queue WHERE workspace_id = $1 \
                                         AND channel_id = $2 AND person_id = $3",
                                    )
                                    .bind(ws)
                                    .bind(channel)
                                    .bind(id)
                                    .execute(&mut *tx)
                                    .await
                                    .named("take a paired member from the queue")?
                                    .rows_affected();
                                    if left == 0 {
                                        // The whole pairing is rolled back: a group
                                        // with someone who left cannot open.
                                        return Err(StoreError::Conflict(format!(
                                            "{member} is no longer in the queue of {channel}"
                                        ))
                                        .into());
                                    }
                                }
                                ids.push(Some(id));
                            }
                            sqlx::query(
                                "INSERT INTO peer_pairing_groups (pairing_id, ordinal, \
                                 candidate_id, antagonist_id, observer_id) VALUES ($1, $2, $3, $4, $5)",
                            )
                            .bind(pairing)
                            .bind(ordinal)
                            .bind(ids[0])
                            .bind(ids[1])
                            .bind(ids[2])
                            .execute(&mut *tx)
                            .await
                            .named("insert a paired group")?;
                        }
                        Ok(())
                    }))
                }

                fn pairing_history<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    channel: &'a str,
                ) -> StoreFuture<'a, Vec<Vec<Group>>> {
                    Box::pin(self.read("pairing_history", async move |conn| {
                        // One query for the whole history: pairing history is read
                        // at every pairing, and a channel's grows by a few rows a week.
                        let rows = sqlx::query(
                            "SELECT g.pairing_id, c.platform_user_id AS candidate, \
                             a.platform_user_id AS antagonist, o.platform_user_id AS observer \
                             FROM peer_pairing_groups g \
                             JOIN peer_pairings pr ON pr.id = g.pairing_id \
                             JOIN workspaces w ON w.id = pr.workspace_id \
                             JOIN people c ON c.id = g.candidate_id \
                             LEFT JOIN people a ON a.id = g.antagonist_id \
                             LEFT JOIN people o ON o.id = g.observer_id \
                             WHERE w.platform = $1 AND w.external_id = $2 AND pr.channel_id = $3 \
                             ORDER BY pr.recorded_at, pr.id, g.ordinal",
                        )
                        .bind(&workspace.platform)
                        .bind(&workspace.external_id)
                        .bind(channel)
                        .fetch_all(&mut *conn)
                        .await
                        .named("a channel's pairings")?;
                        let mut rounds: Vec<Vec<Group>> = Vec::new();
                        let mut last: Option<i64> = None;
                        for row in &rows {
                            let pairing: i64 = row.try_get("pairing_id")?;
                            if last != Some(pairing) {
                                rounds.push(Vec::new());
                                last = Some(pairing);
                            }
                            let group = Group::new(
                                row.try_get("candidate")?,
                                row.try_get("antagonist")?,
                                row.try_get("observer")?,
                            );
                            if let Some(round) = rounds.last_mut() {
                                round.push(group);
                            }
                        }
                        Ok(rounds)
                    }))
                }

                fn create_schedule<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    channel: &'a str,
                    schedule: &'a Schedule,
                    at: EpochMillis,
                ) -> StoreFuture<'a, ScheduleRecord> {
                    Box::pin(self.write("create_schedule", async move |tx| {
                        let ws = workspace_id(&mut *tx, workspace).await?;
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO peer_schedules (workspace_id, channel_id, schedule, created_at) \
                             VALUES ($1, $2, $3, $4) RETURNING id",
                        )
                        .bind(ws)
                        .bind(channel)
                        .bind(to_json(schedule)?)
                        .bind(at)
                        .fetch_one(&mut *tx)
                        .await
                        .named("insert a schedule")?;
                        let row = sqlx::query(AssertSqlSafe(format!("{SCHEDULE_SELECT} WHERE s.id = $1")))
                            .bind(id)
                            .fetch_one(&mut *tx)
                            .await
                            .named("the schedule inserted")?;
                        schedule_from_row(&row)
                    }))
                }

                fn schedules<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                ) -> StoreFuture<'a, Vec<ScheduleRecord>> {
                    Box::pin(self.read("schedules", async move |conn| {
                        let rows = sqlx::query(AssertSqlSafe(format!(
                            "{SCHEDULE_SELECT} WHERE w.platform = $1 AND w.external_id = $2 ORDER BY s.id"
                        )))
                        .bind(&workspace.platform)
                        .bind(&workspace.external_id)
                        .fetch_all(&mut *conn)
                        .await
                        .named("a workspace's schedules")?;
                        rows.iter().map(schedule_from_row).collect()
                    }))
                }

                fn active_schedules<'a>(
                    &'a self,
                    platforms: &'a [String],
                ) -> StoreFuture<'a, Vec<ScheduleRecord>> {
                    Box::pin(self.read("active_schedules", async move |conn| {
                        let [p1, p2, p3, p4] = platform_slots(platforms)?;
                        let rows = sqlx::query(AssertSqlSafe(format!(
                            "{SCHEDULE_SELECT} WHERE s.paused = FALSE \
                             AND w.platform IN ($1, $2, $3, $4) ORDER BY s.id"
                        )))
                        .bind(p1)
                        .bind(p2)
                        .bind(p3)
                        .bind(p4)
                        .fetch_all(&mut *conn)
                        .await
                        .named("the active schedules")?;
                        rows.iter().map(schedule_from_row).collect()
                    }))
                }

                fn schedule<'a>(&'a self, id: i64) -> StoreFuture<'a, ScheduleRecord> {
                    Box::pin(self.read("schedule", async move |conn| {
                        let row = sqlx::query(AssertSqlSafe(format!("{SCHEDULE_SELECT} WHERE s.id = $1")))
                            .bind(id)
                            .fetch_optional(&mut *conn)
                            .await
                            .named("a schedule")?
                            .ok_or_else(|| StoreError::NotFound(format!("schedule {id}")))?;
                        schedule_from_row(&row)
                    }))
                }

                fn set_schedule_paused<'a>(&'a self, id: i64, paused: bool) -> StoreFuture<'a, bool> {
                    Box::pin(self.autocommit("set_schedule_paused", async move |conn| {
                        let done = sqlx::query("UPDATE peer_schedules SET paused = $1 WHERE id = $2")
                            .bind(paused)
                            .bind(id)
                            .execute(&mut *conn)
                            .await
                            .named("pause or resume a schedule")?;
                        Ok(done.rows_affected() > 0)
                    }))
                }

                fn delete_schedule<'a>(&'a self, id: i64) -> StoreFuture<'a, bool> {
                    Box::pin(self.write("delete_schedule", async move |tx| {
                        // Children first, as `forget_person` does, whatever the
                        // connection's foreign-key setting.
                        for statement in [
                            "DELETE FROM peer_round_drills WHERE round_id IN \
                             (SELECT id FROM peer_rounds WHERE schedule_id = $1)",
                            "DELETE FROM peer_rounds WHERE schedule_id = $1",
                            "DELETE FROM peer_opt_ins WHERE schedule_id = $1",
                        ] {
                            sqlx::query(statement)
                                .bind(id)
                                .execute(&mut *tx)
                                .await
                                .named("delete a schedule's rounds and opt-ins")?;
                        }
                        let done = sqlx::query("DELETE FROM peer_schedules WHERE id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .named("delete a schedule")?;
                        Ok(done.rows_affected() > 0)
                    }))
                }

                fn opt_in<'a>(
                    &'a self,
                    schedule: i64,
                    person: &'a PersonRef,
                    entry: &'a Entry,
                    at: EpochMillis,
                ) -> StoreFuture<'a, bool> {
                    Box::pin(self.write("opt_in", async move |tx| {
                        let person = person_id(&mut *tx, person).await?;
                        let updated = sqlx::query(
                            "UPDATE peer_opt_ins SET scenario_id = $1, difficulty = $2, preference = $3 \
                             WHERE schedule_id = $4 AND person_id = $5",
                        )
                        .bind(entry.scenario.as_deref())
                        .bind(entry.difficulty.map(|d| d.as_str()))
                        .bind(preference_str(entry.preference))
                        .bind(schedule)
                        .bind(person)
                        .execute(&mut *tx)
                        .await
                        .named("update an opt-in")?
                        .rows_affected();
                        if updated == 0 {
                            sqlx::query(
                                "INSERT INTO peer_opt_ins (schedule_id, person_id, scenario_id, \
                                 difficulty, preference, opted_at) VALUES ($1, $2, $3, $4, $5, $6)",
                            )
                            .bind(schedule)
                            .bind(person)
                            .bind(entry.scenario.as_deref())
                            .bind(entry.difficulty.map(|d| d.as_str()))
                            .bind(preference_str(entry.preference))
                            .bind(at)
                            .execute(&mut *tx)
                            .await
                            .named("insert an opt-in")?;
                        }
                        Ok(updated == 0)
                    }))
                }

                fn opt_out<'a>(&'a self, schedule: i64, person: &'a PersonRef) -> StoreFuture<'a, bool> {
                    Box::pin(self.autocommit("opt_out", async move |conn| {
                        let done = sqlx::query(
                            "DELETE FROM peer_opt_ins WHERE schedule_id = $1 AND person_id = \
                             (SELECT id FROM people WHERE platform = $2 AND platform_user_id = $3)",
                        )
                        .bind(schedule)
                        .bind(&person.platform)
                        .bind(&person.platform_user_id)
                        .execute(&mut *conn)
                        .await
                        .named("delete an opt-in")?;
                        Ok(done.rows_affected() > 0)
                    }))
                }

                fn opted_in<'a>(&'a self, schedule: i64) -> StoreFuture<'a, Vec<Waiting>> {
                    Box::pin(self.read("opted_in", async move |conn| {
                        let rows = sqlx::query(AssertSqlSafe(format!(
                            "SELECT {WAITING_COLUMNS}, q.opted_at FROM peer_opt_ins q \
                             JOIN people p ON p.id = q.person_id \
                             WHERE q.schedule_id = $1 ORDER BY q.opted_at, p.id"
                        )))
                        .bind(schedule)
                        .fetch_all(&mut *conn)
                        .await
                        .named("a schedule's opt-ins")?;
                        rows.iter().map(|r| waiting_from_row(r, "opted_at")).collect()
                    }))
                }

                fn add_round<'a>(
                    &'a self,
                    schedule: i64,
                    round: &'a ScheduledRound,
                    next_due_at: Option<EpochMillis>,
                ) -> StoreFuture<'a, RoundRecord> {
                    Box::pin(self.write("add_round", async move |tx| {
                        let starts_at = round.start().timestamp_millis();
                        sqlx::query(
                            "INSERT INTO peer_rounds (schedule_id, starts_at, phase, state, next_due_at) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (schedule_id, starts_at) DO NOTHING",
                        )
                        .bind(schedule)
                        .bind(starts_at)
                        .bind(round.phase().as_str())
                        .bind(to_json(round)?)
                        .bind(next_due_at)
                        .execute(&mut *tx)
                        .await
                        .named("insert a round")?;
                        let row = sqlx::query(AssertSqlSafe(format!(
                            "SELECT {ROUND_COLUMNS} FROM peer_rounds r \
                             WHERE r.schedule_id = $1 AND r.starts_at = $2"
                        )))
                        .bind(schedule)
                        .bind(starts_at)
                        .fetch_one(&mut *tx)
                        .await
                        .named("the round at a start")?;
                        round_from_row(&row)
                    }))
                }

                fn update_round<'a>(
                    &'a self,
                    id: i64,
                    expected_version: i64,
                    round: &'a ScheduledRound,
                    next_due_at: Option<EpochMillis>,
                ) -> StoreFuture<'a, i64> {
                    Box::pin(self.autocommit("update_round", async move |conn| {
                        let version: Option<i64> = sqlx::query_scalar(
                            "UPDATE peer_rounds SET phase = $1, state = $2, next_due_at = $3, \
                             lease_owner = NULL, lease_until = NULL, version = version + 1 \
                             WHERE id = $4 AND version = $5 RETURNING version",
                        )
                        .bind(round.phase().as_str())
                        .bind(to_json(round)?)
                        .bind(next_due_at)
                        .bind(id)
                        .bind(expected_version)
                        .fetch_optional(&mut *conn)
                        .await
                        .named("update a round")?;
                        match version {
                            Some(v) => Ok(v),
                            None => Err(StoreError::Conflict(format!(
                                "round {id} is no longer at version {expected_version}"
                            ))
                            .into()),
                        }
                    }))
                }

                fn claim_due_rounds<'a>(
                    &'a self,
                    owner: &'a str,
                    platforms: &'a [String],
                    now: EpochMillis,
                    lease_ms: i64,
                    limit: u32,
                ) -> StoreFuture<'a, Vec<RoundRecord>> {
                    // Each claim is its own statement, committed as it is made: one
                    // transaction holding every row it claimed until the last could
                    // deadlock against another instance claiming the same rounds in
                    // another order.
                    Box::pin(self.autocommit("claim_due_rounds", async move |conn| {
                        let [p1, p2, p3, p4] = platform_slots(platforms)?;
                        let due: Vec<i64> = sqlx::query_scalar(
                            "SELECT r.id FROM peer_rounds r \
                             JOIN peer_schedules s ON s.id = r.schedule_id \
                             JOIN workspaces w ON w.id = s.workspace_id \
                             WHERE r.next_due_at IS NOT NULL AND r.next_due_at <= $1 \
                             AND (r.lease_until IS NULL OR r.lease_until <= $1) \
                             AND s.paused = FALSE \
                             AND w.platform IN ($2, $3, $4, $5) \
                             ORDER BY r.next_due_at LIMIT $6",
                        )
                        .bind(now)
                        .bind(p1)
                        .bind(p2)
                        .bind(p3)
                        .bind(p4)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *conn)
                        .await
                        .named("due rounds")?;
                        let mut claimed = Vec::new();
                        for id in due {
                            // One conditional update per round: the database lets one
                            // instance through (SQLite runs writers one at a time,
                            // PostgreSQL re-checks the condition on the locked row).
                            let row = sqlx::query(AssertSqlSafe(format!(
                                "UPDATE peer_rounds SET lease_owner = $1, lease_until = $2 \
                                 WHERE id = $3 AND next_due_at IS NOT NULL AND next_due_at <= $4 \
                                 AND (lease_until IS NULL OR lease_until <= $4) \
                                 RETURNING {}",
                                ROUND_COLUMNS.replace("r.", "")
                            )))
                            .bind(owner)
                            .bind(now.saturating_add(lease_ms))
                            .bind(id)
                            .bind(now)
                            .fetch_optional(&mut *conn)
                            .await
                            .named("claim a due round")?;
                            if let Some(row) = row {
                                claimed.push(round_from_row(&row)?);
                            }
                        }
                        Ok(claimed)
                    }))
                }

                fn release_round<'a>(&'a self, id: i64, owner: &'a str) -> StoreFuture<'a, ()> {
                    Box::pin(self.autocommit("release_round", async move |conn| {
                        sqlx::query(
                            "UPDATE peer_rounds SET lease_owner = NULL, lease_until = NULL \
                             WHERE id = $1 AND lease_owner = $2",
                        )
                        .bind(id)
                        .bind(owner)
                        .execute(&mut *conn)
                        .await
                        .named("release a round")?;
                        Ok(())
                    }))
                }

                fn round<'a>(&'a self, id: i64) -> StoreFuture<'a, RoundRecord> {
                    Box::pin(self.read("round", async move |conn| {
                        let row = sqlx::query(AssertSqlSafe(format!(
                            "SELECT {ROUND_COLUMNS} FROM peer_rounds r WHERE r.id = $1"
                        )))
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await
                        .named("a round")?
                        .ok_or_else(|| StoreError::NotFound(format!("round {id}")))?;
                        round_from_row(&row)
                    }))
                }

                fn rounds_of<'a>(&'a self, schedule: i64) -> StoreFuture<'a, Vec<RoundRecord>> {
                    Box::pin(self.read("rounds_of", async move |conn| {
                        let rows = sqlx::query(AssertSqlSafe(format!(
                            "SELECT {ROUND_COLUMNS} FROM peer_rounds r WHERE r.schedule_id = $1 \
                             ORDER BY r.starts_at DESC"
                        )))
                        .bind(schedule)
                        .fetch_all(&mut *conn)
                        .await
                        .named("a schedule's rounds")?;
                        rows.iter().map(round_from_row).collect()
                    }))
                }

                fn link_round_drill<'a>(&'a self, round: i64, drill: &'a DrillId) -> StoreFuture<'a, ()> {
                    Box::pin(self.autocommit("link_round_drill", async move |conn| {
                        sqlx::query(
                            "INSERT INTO peer_round_drills (drill_id, round_id) VALUES ($1, $2) \
                             ON CONFLICT (drill_id) DO NOTHING",
                        )
                        .bind(drill.as_str())
                        .bind(round)
                        .execute(&mut *conn)
                        .await
                        .named("link a drill to its round")?;
                        Ok(())
                    }))
                }

                fn round_of_drill<'a>(
                    &'a self,
                    drill: &'a DrillId,
                ) -> StoreFuture<'a, Option<RoundRecord>> {
                    Box::pin(self.read("round_of_drill", async move |conn| {
                        let row = sqlx::query(AssertSqlSafe(format!(
                            "SELECT {ROUND_COLUMNS} FROM peer_rounds r \
                             JOIN peer_round_drills d ON d.round_id = r.id WHERE d.drill_id = $1"
                        )))
                        .bind(drill.as_str())
                        .fetch_optional(&mut *conn)
                        .await
                        .named("a drill's round")?;
                        row.as_ref().map(round_from_row).transpose()
                    }))
                }

                fn round_drills<'a>(&'a self, round: i64) -> StoreFuture<'a, Vec<DrillId>> {
                    Box::pin(self.read("round_drills", async move |conn| {
                        let ids: Vec<String> = sqlx::query_scalar(
                            "SELECT d.drill_id FROM peer_round_drills d \
                             JOIN drills x ON x.id = d.drill_id \
                             WHERE d.round_id = $1 ORDER BY x.created_at, x.id",
                        )
                        .bind(round)
                        .fetch_all(&mut *conn)
                        .await
                        .named("a round's drills")?;
                        Ok(ids.into_iter().map(DrillId).collect())
                    }))
                }

                fn save_rating<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    rating: &'a StoredRating,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(self.write("save_rating", async move |tx| {
                        let rater = person_id(&mut *tx, &rating.rater).await?;
                        sqlx::query(
                            "INSERT INTO peer_ratings (drill_id, rater_id, role, scores, sentence, rated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6) \
                             ON CONFLICT (drill_id, rater_id) DO UPDATE SET role = excluded.role, \
                             scores = excluded.scores, sentence = excluded.sentence",
                        )
                        .bind(drill.as_str())
                        .bind(rater)
                        .bind(rating.role.as_str())
                        .bind(to_json(&rating.scores)?)
                        .bind(rating.sentence.as_deref())
                        .bind(rating.at)
                        .execute(&mut *tx)
                        .await
                        .named("upsert a rating")?;
                        Ok(())
                    }))
                }

                fn ratings<'a>(&'a self, drill: &'a DrillId) -> StoreFuture<'a, Vec<StoredRating>> {
                    Box::pin(self.read("ratings", async move |conn| {
                        let rows = sqlx::query(
                            "SELECT p.platform, p.platform_user_id, p.display_name, r.role, \
                             r.scores, r.sentence, r.rated_at FROM peer_ratings r \
                             JOIN people p ON p.id = r.rater_id \
                             WHERE r.drill_id = $1 ORDER BY r.rated_at, p.id",
                        )
                        .bind(drill.as_str())
                        .fetch_all(&mut *conn)
                        .await
                        .named("a drill's ratings")?;
                        rows.iter()
                            .map(|row| -> R<StoredRating> {
                                let role: String = row.try_get("role")?;
                                let scores: String = row.try_get("scores")?;
                                Ok(StoredRating {
                                    rater: PersonRef {
                                        platform: row.try_get("platform")?,
                                        platform_user_id: row.try_get("platform_user_id")?,
                                        display_name: row.try_get("display_name")?,
                                    },
                                    role: parse_role(&role)?,
                                    scores: from_json("a stored rating", &scores)?,
                                    sentence: row.try_get("sentence")?,
                                    at: row.try_get("rated_at")?,
                                })
                            })
                            .collect()
                    }))
                }
            }
        }
    };
}

pub(crate) use impl_peer_store;
