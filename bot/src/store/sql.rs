//! What both backends share, written once: the statements (the same SQL runs on SQLite and
//! PostgreSQL), reading rows into records (generic over sqlx's row types), how a failure
//! names the query it came from, and the helper that runs one operation in a transaction.
//! What sqlx cannot express generically without a wall of bounds (binding and running a
//! statement on a backend's connection) is in the per-concern macros beside this file.

use spar_core::Role;
use spar_core::drill::{DrillSettings, Mode, Phase};
use spar_core::store::{
    ChatPlace, DrillId, DrillRecord, Member, PersonRef, StoreError, StoredScorecard, StoredTurn,
};
use spar_core::{Difficulty, Turn};
use sqlx::types::Json;
use std::collections::HashMap;
use std::future::Future;
use std::ops::DerefMut;

/// A failure inside a store operation: the driver's (with the query it failed in), or one
/// the store decided on.
pub(crate) enum Failure {
    Db {
        query: &'static str,
        error: sqlx::Error,
    },
    Store(StoreError),
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Failure {
        Failure::Db { query: "", error }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

impl From<Failure> for StoreError {
    fn from(f: Failure) -> StoreError {
        f.into_store_error("")
    }
}

impl Failure {
    /// The error callers see. A database failure is logged here, naming the operation and
    /// the query, unless it is one of the outcomes callers expect (a conflict, a missing
    /// row): those are decisions, not faults.
    pub(crate) fn into_store_error(self, operation: &'static str) -> StoreError {
        match self {
            Failure::Store(e) => e,
            Failure::Db { query, error } => {
                let query = if query.is_empty() { operation } else { query };
                let error = super::store_error(query, error);
                if !matches!(error, StoreError::Conflict(_) | StoreError::NotFound(_)) {
                    tracing::warn!(operation, query, error = %error, "a store query failed");
                }
                error
            }
        }
    }
}

/// Names the query a driver error came from, so logs and messages say which one failed.
pub(crate) trait Named<T> {
    fn named(self, query: &'static str) -> Result<T, Failure>;
}

impl<T> Named<T> for Result<T, sqlx::Error> {
    fn named(self, query: &'static str) -> Result<T, Failure> {
        self.map_err(|error| Failure::Db { query, error })
    }
}

pub(crate) type R<T> = Result<T, Failure>;

pub(crate) fn corrupt(what: impl Into<String>) -> Failure {
    Failure::Store(StoreError::corrupt(what))
}

/// A transaction that can be finished either way: SQLite's (which also holds the
/// process's writer turn) and PostgreSQL's.
pub(crate) trait Finish: Send {
    fn commit(self) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
    fn rollback(self) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

/// Runs `work` in the transaction `begin` opens: committed when it succeeds, rolled back
/// (at once, so SQLite's write lock is free for the next writer) when it fails. Errors
/// leave as `StoreError`s naming `operation` and the query that failed. Callers pass
/// `begin` boxed: beginning (waiting for a connection and, on SQLite, the writer's turn)
/// is a large future, and inline it would make every operation's future that large for
/// as long as the operation runs, a cost paid for every drill waiting on the store.
pub(crate) async fn in_transaction<Tx, C, T>(
    operation: &'static str,
    begin: impl Future<Output = Result<Tx, sqlx::Error>>,
    work: impl AsyncFnOnce(&mut C) -> R<T>,
) -> Result<T, StoreError>
where
    Tx: Finish + DerefMut<Target = C>,
    C: ?Sized,
{
    let outcome = async {
        // On the heap too: a transaction holds its connection, a large value, and the
        // operation's future would otherwise reserve room for it from the start.
        let mut tx = Box::new(begin.await.named("begin")?);
        match work(&mut **tx).await {
            Ok(value) => {
                Box::pin((*tx).commit()).await.named("commit")?;
                Ok(value)
            }
            Err(failure) => {
                // A rollback that fails leaves a broken connection, which the pool drops;
                // the failure that matters is the one that made us roll back.
                let _ = Box::pin((*tx).rollback()).await;
                Err(failure)
            }
        }
    };
    outcome.await.map_err(|f| f.into_store_error(operation))
}

/// Runs `work` on one pooled connection, outside any explicit transaction; `acquire` is
/// passed boxed, as `in_transaction`'s `begin` is.
pub(crate) async fn on_connection<P, C, T>(
    operation: &'static str,
    acquire: impl Future<Output = Result<P, sqlx::Error>>,
    work: impl AsyncFnOnce(&mut C) -> R<T>,
) -> Result<T, StoreError>
where
    P: DerefMut<Target = C>,
    C: ?Sized,
{
    let outcome = async {
        let mut conn = Box::new(acquire.await.named("acquire a connection")?);
        work(&mut **conn).await
    };
    outcome.await.map_err(|f| f.into_store_error(operation))
}

/// Reading a column of a row on either backend: one set of bounds, stated once, so the
/// row readers below are plain generic functions rather than macro text.
pub(crate) trait Columns {
    fn text(&self, column: &str) -> R<String>;
    fn text_opt(&self, column: &str) -> R<Option<String>>;
    fn int(&self, column: &str) -> R<i64>;
    fn int_opt(&self, column: &str) -> R<Option<i64>>;
    fn real(&self, column: &str) -> R<f64>;
    fn real_opt(&self, column: &str) -> R<Option<f64>>;
    fn flag(&self, column: &str) -> R<bool>;
    fn json_opt(&self, column: &str) -> R<Option<serde_json::Value>>;
}

impl<Row> Columns for Row
where
    Row: sqlx::Row,
    for<'c> &'c str: sqlx::ColumnIndex<Row>,
    for<'r> String: sqlx::Decode<'r, Row::Database> + sqlx::Type<Row::Database>,
    for<'r> i64: sqlx::Decode<'r, Row::Database> + sqlx::Type<Row::Database>,
    for<'r> f64: sqlx::Decode<'r, Row::Database> + sqlx::Type<Row::Database>,
    for<'r> bool: sqlx::Decode<'r, Row::Database> + sqlx::Type<Row::Database>,
    for<'r> Json<serde_json::Value>: sqlx::Decode<'r, Row::Database> + sqlx::Type<Row::Database>,
{
    fn text(&self, column: &str) -> R<String> {
        Ok(self.try_get(column)?)
    }
    fn text_opt(&self, column: &str) -> R<Option<String>> {
        Ok(self.try_get(column)?)
    }
    fn int(&self, column: &str) -> R<i64> {
        Ok(self.try_get(column)?)
    }
    fn int_opt(&self, column: &str) -> R<Option<i64>> {
        Ok(self.try_get(column)?)
    }
    fn real(&self, column: &str) -> R<f64> {
        Ok(self.try_get(column)?)
    }
    fn real_opt(&self, column: &str) -> R<Option<f64>> {
        Ok(self.try_get(column)?)
    }
    fn flag(&self, column: &str) -> R<bool> {
        Ok(self.try_get(column)?)
    }
    fn json_opt(&self, column: &str) -> R<Option<serde_json::Value>> {
        let json: Option<Json<serde_json::Value>> = self.try_get(column)?;
        Ok(json.map(|Json(value)| value))
    }
}

pub(crate) fn parse_phase(s: &str) -> R<Phase> {
    Phase::parse(s).ok_or_else(|| corrupt(format!("unknown phase {s:?}")))
}

pub(crate) fn parse_mode(s: &str) -> R<Mode> {
    match s {
        "solo" => Ok(Mode::Solo),
        "peer" => Ok(Mode::Peer),
        _ => Err(corrupt(format!("unknown mode {s:?}"))),
    }
}

pub(crate) fn parse_role(s: &str) -> R<Role> {
    match s {
        "candidate" => Ok(Role::Candidate),
        "antagonist" => Ok(Role::Antagonist),
        "observer" => Ok(Role::Observer),
        _ => Err(corrupt(format!("unknown role {s:?}"))),
    }
}

/// A drill row as `DRILL_SELECT` (or `LOADED_SELECT`) reads it.
pub(crate) fn drill_from_row(row: &impl Columns) -> R<DrillRecord> {
    let channel = row.text_opt("channel_id")?;
    let thread = row.text_opt("thread_id")?;
    Ok(DrillRecord {
        id: DrillId(row.text("id")?),
        workspace_id: row.int("workspace_id")?,
        platform: row.text("platform")?,
        workspace_external_id: row.text("workspace_external_id")?,
        place: match (channel, thread) {
            (Some(channel), Some(thread)) => Some(ChatPlace { channel, thread }),
            _ => None,
        },
        settings: DrillSettings {
            scenario_id: row.text("scenario_id")?,
            difficulty: row
                .text("difficulty")?
                .parse::<Difficulty>()
                .map_err(|e| corrupt(e.to_string()))?,
            mode: parse_mode(&row.text("mode")?)?,
            time_limit_s: u32::try_from(row.int("time_limit_s")?)
                .map_err(|_| corrupt("time limit out of range"))?,
            max_turns: u32::try_from(row.int("max_turns")?)
                .map_err(|_| corrupt("turn cap out of range"))?,
        },
        phase: parse_phase(&row.text("phase")?)?,
        seed: row.int_opt("seed")?,
        created_at: row.int("created_at")?,
        started_at: row.int_opt("started_at")?,
        ends_at: row.int_opt("ends_at")?,
        clock_at: row.int("clock_at")?,
        next_due_at: row.int_opt("next_due_at")?,
        version: row.int("version")?,
        over_budget_at: row.int_opt("over_budget_at")?,
    })
}

/// A participant row as `PARTICIPANTS_OF` reads it.
pub(crate) fn member_from_row(row: &impl Columns) -> R<Member> {
    Ok(Member {
        id: row.int("id")?,
        person: PersonRef {
            platform: row.text("platform")?,
            platform_user_id: row.text("platform_user_id")?,
            display_name: row.text("display_name")?,
        },
        role: parse_role(&row.text("role")?)?,
    })
}

/// A turn row as `TURNS_OF` reads it.
pub(crate) fn turn_from_row(row: &impl Columns) -> R<StoredTurn> {
    Ok(StoredTurn {
        index: usize::try_from(row.int("idx")?).map_err(|_| corrupt("turn index"))?,
        turn: Turn {
            role: parse_role(&row.text("role")?)?,
            at_s: row.real("at_s")?,
            text: row.text("text")?,
            cut_off: row.flag("cut_off")?,
        },
        author: row.int_opt("author_id")?,
    })
}

/// The drill columns `drill_from_row` reads, joined with the drill's workspace.
macro_rules! drill_columns {
    () => {
        "SELECT d.id, d.workspace_id, w.platform, \
         w.external_id AS workspace_external_id, d.channel_id, d.thread_id, d.scenario_id, \
         d.mode, d.difficulty, d.phase, d.time_limit_s, d.max_turns, d.seed, d.created_at, \
         d.started_at, d.ends_at, d.clock_at, d.next_due_at, d.version, d.over_budget_at"
    };
}

/// The phases of a drill that is not over, as SQL.
macro_rules! unfinished {
    () => {
        "('briefing', 'live', 'wrap_up')"
    };
}

/// A drill and its workspace.
pub(crate) const DRILL_SELECT: &str = concat!(
    drill_columns!(),
    " FROM drills d JOIN workspaces w ON w.id = d.workspace_id"
);

/// A drill, its workspace and its scorecard, if any: the first of a load's three queries.
macro_rules! loaded_select {
    () => {
        concat!(
            drill_columns!(),
            ", s.card FROM drills d JOIN workspaces w ON w.id = d.workspace_id \
             LEFT JOIN scorecards s ON s.drill_id = d.id"
        )
    };
}

/// One drill by id, with its scorecard.
pub const DRILL_BY_ID: &str = concat!(loaded_select!(), " WHERE d.id = $1");

/// The unfinished drill in a thread (newest first, should two ever share one), with its
/// scorecard: how a message finds its drill.
pub const DRILL_IN_THREAD: &str = concat!(
    loaded_select!(),
    " WHERE d.thread_id = $1 AND w.platform = $2 \
     AND (CAST($3 AS TEXT) IS NULL OR d.channel_id = $3) \
     AND d.phase IN ",
    unfinished!(),
    " ORDER BY d.created_at DESC LIMIT 1"
);

/// A drill's participants.
pub const PARTICIPANTS_OF: &str = "SELECT pa.drill_id, p.id, p.platform, \
     p.platform_user_id, p.display_name, pa.role \
     FROM participants pa JOIN people p ON p.id = pa.person_id \
     WHERE pa.drill_id = $1 ORDER BY p.id";

/// A drill's turns, in order.
pub const TURNS_OF: &str = "SELECT drill_id, idx, role, at_s, text, cut_off, author_id \
     FROM turns WHERE drill_id = $1 ORDER BY idx";

/// Which unfinished drills on the served platforms (`$1`..`$4`, see `platform_slots`).
macro_rules! live_on_platforms {
    () => {
        concat!(
            " d.phase IN ",
            unfinished!(),
            " AND d.workspace_id IN (SELECT id FROM workspaces WHERE platform IN ($1, $2, $3, $4))"
        )
    };
}

/// Every unfinished drill on the served platforms, with its scorecard.
pub(crate) const LIVE_DRILLS: &str = concat!(
    loaded_select!(),
    " WHERE",
    live_on_platforms!(),
    " ORDER BY d.created_at, d.id"
);

/// The participants of every drill `LIVE_DRILLS` lists, in one query.
pub(crate) const LIVE_PARTICIPANTS: &str = concat!(
    "SELECT pa.drill_id, p.id, p.platform, p.platform_user_id, p.display_name, pa.role \
     FROM participants pa JOIN people p ON p.id = pa.person_id \
     JOIN drills d ON d.id = pa.drill_id WHERE",
    live_on_platforms!(),
    " ORDER BY pa.drill_id, p.id"
);

/// The turns of every drill `LIVE_DRILLS` lists, in one query.
pub(crate) const LIVE_TURNS: &str = concat!(
    "SELECT t.drill_id, t.idx, t.role, t.at_s, t.text, t.cut_off, t.author_id \
     FROM turns t JOIN drills d ON d.id = t.drill_id WHERE",
    live_on_platforms!(),
    " ORDER BY t.drill_id, t.idx"
);

/// How many unfinished drills are in each phase on the served platforms.
pub(crate) const DRILLS_BY_PHASE: &str = concat!(
    "SELECT d.phase, COUNT(*) AS drills FROM drills d WHERE",
    live_on_platforms!(),
    " GROUP BY d.phase"
);

/// Records an event as processed; no row is inserted when it was seen before. The
/// conflict target is named, so the primary key is the one index that decides.
pub const INSERT_EVENT: &str = "INSERT INTO processed_events (platform, event_id, processed_at) \
     VALUES ($1, $2, $3) ON CONFLICT (platform, event_id) DO NOTHING";

/// One event's changes to the drill row, if it is still at the version they were
/// computed from.
pub const UPDATE_DRILL: &str = "UPDATE drills SET version = version + 1, clock_at = $1, \
     phase = COALESCE(CAST($2 AS TEXT), phase), \
     started_at = COALESCE(CAST($3 AS BIGINT), started_at), \
     ends_at = COALESCE(CAST($4 AS BIGINT), ends_at), \
     next_due_at = CASE CAST($5 AS TEXT) WHEN 'keep' THEN next_due_at \
         ELSE CAST($6 AS BIGINT) END, \
     lease_owner = CASE CAST($5 AS TEXT) WHEN 'keep' THEN lease_owner ELSE NULL END, \
     lease_until = CASE CAST($5 AS TEXT) WHEN 'keep' THEN lease_until ELSE NULL END, \
     recovery_owner = COALESCE(CAST($9 AS TEXT), recovery_owner), \
     recovery_until = COALESCE(CAST($10 AS BIGINT), recovery_until) \
     WHERE id = $7 AND version = $8 RETURNING version";

/// Appends a turn in one statement: inserted only at the next free index (turns are
/// append-only and gap-free; the largest index is read from the primary key, not counted)
/// and never over a stored one. No row inserted means the turn was there already, or
/// would leave a gap; the rare caller that needs to know which looks.
pub const INSERT_TURN: &str = "INSERT INTO turns \
     (drill_id, idx, role, at_s, text, cut_off, author_id) \
     SELECT $1, $2, $3, $4, $5, $6, $7 \
     WHERE $2 = (SELECT COALESCE(MAX(idx) + 1, 0) FROM turns WHERE drill_id = $1) \
     ON CONFLICT (drill_id, idx) DO NOTHING";

/// The stored turn at an index, to tell a repeat from a different turn.
pub(crate) const TURN_AT: &str =
    "SELECT role, at_s, text, cut_off, redacted FROM turns WHERE drill_id = $1 AND idx = $2";

/// Takes a drill's recovery claim unless someone holds it.
pub const CLAIM_RECOVERY: &str = "UPDATE drills SET recovery_owner = $1, recovery_until = $2 \
     WHERE id = $3 AND (recovery_until IS NULL OR recovery_until <= $4)";

/// Lets go of every timer and recovery claim an owner holds on unfinished drills (ended
/// drills' claims no longer matter), in one statement: every right-hand side sees the row
/// as it was.
pub(crate) const RELEASE_DRILL_CLAIMS: &str = concat!(
    "UPDATE drills SET \
     lease_owner = CASE WHEN lease_owner = $1 THEN NULL ELSE lease_owner END, \
     lease_until = CASE WHEN lease_owner = $1 THEN NULL ELSE lease_until END, \
     recovery_owner = CASE WHEN recovery_owner = $1 THEN NULL ELSE recovery_owner END, \
     recovery_until = CASE WHEN recovery_owner = $1 THEN NULL ELSE recovery_until END \
     WHERE phase IN ",
    unfinished!(),
    " AND (lease_owner = $1 OR recovery_owner = $1)"
);

/// Lets go of the peer rounds an owner has claimed.
pub(crate) const RELEASE_ROUND_CLAIMS: &str =
    "UPDATE peer_rounds SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1";

/// Forgets processed event ids older than a moment (`processed_events_at` indexes it).
pub const PRUNE_EVENTS: &str = "DELETE FROM processed_events WHERE processed_at < $1";

/// The statements a chat turn runs, by name: the ones `EXPLAIN` must show using an index.
pub const PER_TURN: [(&str, &str); 8] = [
    ("drill in thread", DRILL_IN_THREAD),
    ("drill by id", DRILL_BY_ID),
    ("participants", PARTICIPANTS_OF),
    ("turns", TURNS_OF),
    ("insert event", INSERT_EVENT),
    ("update drill", UPDATE_DRILL),
    ("insert turn", INSERT_TURN),
    ("claim recovery", CLAIM_RECOVERY),
];

/// How many platforms one query can be narrowed to (`platform IN ($a, $b, ...)`); Spar
/// knows three, so one instance never serves more.
pub(crate) const PLATFORM_SLOTS: usize = 4;

/// The platforms as that many bind values, unused slots NULL (which `IN` never matches).
pub(crate) fn platform_slots(platforms: &[String]) -> R<[Option<&str>; PLATFORM_SLOTS]> {
    if platforms.len() > PLATFORM_SLOTS {
        return Err(Failure::Store(StoreError::other(format!(
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

/// A stored scorecard's JSON read back, if the drill has one.
pub(crate) fn scorecard_of(
    drill: &DrillId,
    card: Option<serde_json::Value>,
) -> R<Option<StoredScorecard>> {
    card.map(|json| {
        StoredScorecard::from_json(json)
            .map_err(|e| corrupt(format!("scorecard of drill {drill}: {e}")))
    })
    .transpose()
}

/// Rows that carry a drill id, gathered by drill: what the one-query-per-kind loads
/// (participants, turns, flags, dimensions) split back into drills.
pub(crate) fn by_drill<Row: Columns, T>(
    rows: &[Row],
    read: impl Fn(&Row) -> R<T>,
) -> R<HashMap<String, Vec<T>>> {
    let mut gathered: HashMap<String, Vec<T>> = HashMap::new();
    for row in rows {
        gathered
            .entry(row.text("drill_id")?)
            .or_default()
            .push(read(row)?);
    }
    Ok(gathered)
}
