//! History and stats: past drills with their flags, the score series with its dimensions,
//! how many drills a person started lately, and how many drills are in each phase. Each
//! takes a fixed number of queries however many drills there are: the rows, then the
//! rows' details in one query, joined up here. Expanded once per backend by `impl_store!`.

/// Whether `person` (if any) was the candidate in a drill `d`; `$1` and `$2` are the
/// person's platform and id, both NULL for everyone.
macro_rules! candidate_filter {
    () => {
        "(CAST($1 AS TEXT) IS NULL OR EXISTS (\
         SELECT 1 FROM participants pa JOIN people p ON p.id = pa.person_id \
         WHERE pa.drill_id = d.id AND pa.role = 'candidate' \
         AND p.platform = $1 AND p.platform_user_id = $2))"
    };
}

/// Past drills, newest first.
pub(crate) const HISTORY: &str = concat!(
    "SELECT d.id, d.scenario_id, d.difficulty, d.mode, d.phase, d.created_at, d.started_at, \
     (SELECT MAX(t.at_s) FROM turns t WHERE t.drill_id = d.id) AS duration_s, s.overall, \
     (SELECT CAST(SUM(u.prompt_tokens + u.completion_tokens) AS BIGINT) \
      FROM llm_usage u WHERE u.drill_id = d.id) AS tokens \
     FROM drills d LEFT JOIN scorecards s ON s.drill_id = d.id WHERE ",
    candidate_filter!(),
    " ORDER BY COALESCE(d.started_at, d.created_at) DESC, d.created_at DESC, d.id"
);

/// The flags of every drill `HISTORY` lists.
pub(crate) const HISTORY_FLAGS: &str = concat!(
    "SELECT f.drill_id, f.kind FROM scorecard_flags f JOIN drills d ON d.id = f.drill_id WHERE ",
    candidate_filter!(),
    " ORDER BY f.drill_id, f.ordinal"
);

/// Scored drills, oldest first.
pub(crate) const SCORES: &str = concat!(
    "SELECT d.id, COALESCE(d.started_at, d.created_at) AS at, s.overall \
     FROM scorecards s JOIN drills d ON d.id = s.drill_id WHERE ",
    candidate_filter!(),
    " ORDER BY COALESCE(d.started_at, d.created_at), d.id"
);

/// The dimension scores of every drill `SCORES` lists.
pub(crate) const SCORE_DIMENSIONS: &str = concat!(
    "SELECT sd.drill_id, sd.name, sd.score FROM scorecard_dimensions sd \
     JOIN drills d ON d.id = sd.drill_id WHERE ",
    candidate_filter!(),
    " ORDER BY sd.drill_id, sd.ordinal"
);

/// Defines `mod history` for a backend with a `read` helper.
macro_rules! history_queries {
    (store: $store:ty $(,)?) => {
        mod history {
            use super::*;
            use spar_core::drill::Phase;
            use spar_core::store::*;
            use $crate::store::history::{HISTORY, HISTORY_FLAGS, SCORES, SCORE_DIMENSIONS};
            use $crate::store::sql::*;

            pub(super) async fn history(
                store: &$store,
                person: Option<&PersonRef>,
            ) -> Result<Vec<HistoryRow>, StoreError> {
                let platform = person.map(|p| p.platform.as_str());
                let user = person.map(|p| p.platform_user_id.as_str());
                store
                    .read("history", async |conn| {
                        let rows = sqlx::query(HISTORY)
                            .bind(platform)
                            .bind(user)
                            .fetch_all(&mut *conn)
                            .await
                            .named("history")?;
                        let flags = sqlx::query(HISTORY_FLAGS)
                            .bind(platform)
                            .bind(user)
                            .fetch_all(&mut *conn)
                            .await
                            .named("history's flags")?;
                        let mut flags = by_drill(&flags, |row| row.text("kind"))?;
                        rows.iter()
                            .map(|row| {
                                let id = row.text("id")?;
                                Ok(HistoryRow {
                                    flags: flags.remove(&id).unwrap_or_default(),
                                    id: DrillId(id),
                                    scenario_id: row.text("scenario_id")?,
                                    difficulty: row.text("difficulty")?,
                                    mode: row.text("mode")?,
                                    phase: parse_phase(&row.text("phase")?)?,
                                    created_at: row.int("created_at")?,
                                    started_at: row.int_opt("started_at")?,
                                    duration_s: row.real_opt("duration_s")?,
                                    overall: row
                                        .int_opt("overall")?
                                        .and_then(|o| u8::try_from(o).ok()),
                                    tokens: row.int_opt("tokens")?,
                                })
                            })
                            .collect()
                    })
                    .await
            }

            pub(super) async fn score_series(
                store: &$store,
                person: Option<&PersonRef>,
            ) -> Result<Vec<ScorePoint>, StoreError> {
                let platform = person.map(|p| p.platform.as_str());
                let user = person.map(|p| p.platform_user_id.as_str());
                store
                    .read("score_series", async |conn| {
                        let rows = sqlx::query(SCORES)
                            .bind(platform)
                            .bind(user)
                            .fetch_all(&mut *conn)
                            .await
                            .named("scores")?;
                        let dimensions = sqlx::query(SCORE_DIMENSIONS)
                            .bind(platform)
                            .bind(user)
                            .fetch_all(&mut *conn)
                            .await
                            .named("scores' dimensions")?;
                        let mut dimensions = by_drill(&dimensions, |row| {
                            Ok((
                                row.text("name")?,
                                u8::try_from(row.int("score")?)
                                    .map_err(|_| corrupt("dimension score"))?,
                            ))
                        })?;
                        rows.iter()
                            .map(|row| {
                                let id = row.text("id")?;
                                Ok(ScorePoint {
                                    dimensions: dimensions.remove(&id).unwrap_or_default(),
                                    drill: DrillId(id),
                                    at: row.int("at")?,
                                    overall: u8::try_from(row.int("overall")?)
                                        .map_err(|_| corrupt("overall score"))?,
                                })
                            })
                            .collect()
                    })
                    .await
            }

            pub(super) async fn drills_since(
                store: &$store,
                workspace: &WorkspaceRef,
                person: &PersonRef,
                since: EpochMillis,
            ) -> Result<u32, StoreError> {
                store
                    .read("drills_since", async |conn| {
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
                        .fetch_one(&mut *conn)
                        .await
                        .named("drills since")?;
                        Ok(u32::try_from(count).unwrap_or(u32::MAX))
                    })
                    .await
            }

            pub(super) async fn drills_by_phase(
                store: &$store,
                platforms: &[String],
            ) -> Result<Vec<(Phase, u64)>, StoreError> {
                store
                    .read("drills_by_phase", async |conn| {
                        let [p1, p2, p3, p4] = platform_slots(platforms)?;
                        let rows = sqlx::query(DRILLS_BY_PHASE)
                            .bind(p1)
                            .bind(p2)
                            .bind(p3)
                            .bind(p4)
                            .fetch_all(&mut *conn)
                            .await
                            .named("drills by phase")?;
                        rows.iter()
                            .map(|row| {
                                Ok((
                                    parse_phase(&row.text("phase")?)?,
                                    u64::try_from(row.int("drills")?).unwrap_or(0),
                                ))
                            })
                            .collect()
                    })
                    .await
            }
        }
    };
}

pub(crate) use history_queries;
