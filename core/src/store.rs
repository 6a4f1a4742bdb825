//! The store port: what Spar keeps about people, drills, turns and scorecards, and the
//! operations adapters (`SqliteStore`, `PgStore`) must provide. Only records and a trait
//! live here, so the core stays free of any database or async runtime crate.

use crate::drill::{DrillSettings, Phase};
use crate::peer::{Entry, Group, Schedule, ScheduledRound};
use crate::transcript::{Role, Turn};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// Milliseconds since the Unix epoch, as the store keeps every moment.
pub type EpochMillis = i64;

/// What every store operation returns: a boxed future, so the trait stays usable as
/// `dyn Store` without an async-trait crate.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The row id of a person in the store.
pub type PersonId = i64;
/// The row id of a workspace in the store.
pub type WorkspaceId = i64;

/// A drill's id: a UUID in text form, the same in every backend and on every platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DrillId(pub String);

impl DrillId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DrillId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The driver's own error behind a store error, kept so a log can show the whole chain.
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Why a store operation failed. The variants are the cases callers branch on; messages
/// never contain a database URL, so they are safe to show and log. A failure the database
/// reported names the query that failed and keeps the driver's error as its `source`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    /// Someone else changed the record first (a version mismatch or different content
    /// under the same key); reload and try again, or give up.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or refused the connection.
    #[error("database unavailable: {message}")]
    Unavailable {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// The database answered with something that is not what Spar wrote.
    #[error("database corrupt: {message}")]
    Corrupt {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    #[error("{message}")]
    Other {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
}

impl StoreError {
    /// A failure with no driver error behind it.
    pub fn other(message: impl Into<String>) -> StoreError {
        StoreError::Other {
            message: message.into(),
            cause: None,
        }
    }

    /// Stored data that is not what Spar wrote, found by Spar rather than the driver.
    pub fn corrupt(message: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            message: message.into(),
            cause: None,
        }
    }
}

/// Errors compare by what they say: a cause is the driver's, and drivers' errors do not
/// compare.
impl PartialEq for StoreError {
    fn eq(&self, other: &StoreError) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && self.to_string() == other.to_string()
    }
}

/// Who a person is on one platform. The pair (platform, platform_user_id) is their key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonRef {
    /// `terminal`, `discord` or `slack`.
    pub platform: String,
    /// The OS user name, Discord user id or Slack user id.
    pub platform_user_id: String,
    /// Kept up to date on every `ensure_person`, for history and exports.
    pub display_name: String,
}

impl PersonRef {
    /// The person at the terminal, known by their OS user name.
    pub fn terminal(user: &str) -> PersonRef {
        PersonRef {
            platform: "terminal".into(),
            platform_user_id: user.into(),
            display_name: user.into(),
        }
    }
}

/// Where drills happen: a Discord guild, a Slack team, or the terminal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceRef {
    pub platform: String,
    /// The guild or team id; `local` for the terminal.
    pub external_id: String,
    pub name: String,
}

impl WorkspaceRef {
    /// The one workspace of the terminal.
    pub fn terminal() -> WorkspaceRef {
        WorkspaceRef {
            platform: "terminal".into(),
            external_id: "local".into(),
            name: "terminal".into(),
        }
    }
}

/// Where a chat drill lives: the channel its thread hangs from, and the thread (a Discord
/// thread's channel id, a Slack message's `thread_ts`). The platform and the guild or
/// team are the drill's workspace; a terminal drill has no place.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChatPlace {
    pub channel: String,
    pub thread: String,
}

/// What a workspace's admins chose for drills there; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkspaceConfig {
    /// The only channel drills may start in, when set.
    pub drill_channel: Option<String>,
    /// Open drill threads as public threads even where private ones are possible.
    pub public_threads: bool,
    /// The difficulty of a drill started without one.
    pub default_difficulty: Option<crate::scenario::Difficulty>,
    /// How many drills one member may start per day (UTC); `None` means no limit.
    pub daily_limit: Option<u32>,
    /// The workspace's own daily token budget; `None` keeps the instance's default.
    pub token_budget: Option<u64>,
}

/// A calendar day in UTC, counted from 1970-01-01: the span a daily drill limit and a daily
/// token budget count within. Days start at midnight UTC wherever the workspace is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDay(pub i64);

impl UtcDay {
    /// Milliseconds in a day.
    pub const MILLIS: i64 = 24 * 3600 * 1000;

    /// The day `at` falls on.
    pub fn of(at: EpochMillis) -> UtcDay {
        UtcDay(at.div_euclid(UtcDay::MILLIS))
    }

    /// The day's first millisecond.
    pub fn start(self) -> EpochMillis {
        self.0 * UtcDay::MILLIS
    }
}

/// What models spent on one workspace's drills on one day, and the budget the workspace
/// set for itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenDay {
    /// Prompt and completion tokens of the antagonist and the judge, together.
    pub used: u64,
    /// The workspace's own daily budget; `None` keeps the instance's default.
    pub budget: Option<u64>,
}

/// A person taking part in a drill, and the part they play.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub person: PersonRef,
    pub role: Role,
}

/// A drill about to be stored; it starts in `Phase::Briefing` at version 0.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDrill {
    pub id: DrillId,
    pub workspace: WorkspaceRef,
    pub settings: DrillSettings,
    /// The scripted antagonist's seed, so a drill can be replayed.
    pub seed: Option<i64>,
    pub created_at: EpochMillis,
    pub participants: Vec<Participant>,
    /// The chat thread the drill runs in; `None` for the terminal.
    pub place: Option<ChatPlace>,
}

/// A drill as the store keeps it, without its turns.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillRecord {
    pub id: DrillId,
    pub workspace_id: WorkspaceId,
    /// The workspace's platform; processed event ids are unique per platform.
    pub platform: String,
    /// The guild or team id on that platform (`local` for the terminal).
    pub workspace_external_id: String,
    /// Where the drill's messages go, for a chat drill.
    pub place: Option<ChatPlace>,
    pub settings: DrillSettings,
    pub phase: Phase,
    pub seed: Option<i64>,
    pub created_at: EpochMillis,
    pub started_at: Option<EpochMillis>,
    pub ends_at: Option<EpochMillis>,
    /// The moment of the last event applied. Resuming the drill at this moment rebuilds
    /// exactly the warnings already given, so none is repeated or skipped.
    pub clock_at: EpochMillis,
    /// When the drill's timer should fire next, if it is armed.
    pub next_due_at: Option<EpochMillis>,
    /// Bumped on every change; the base of optimistic concurrency between instances.
    pub version: i64,
    /// When the drill went over its workspace's token budget and its thread was told so;
    /// from then on the scripted antagonist plays it, whichever instance runs it.
    pub over_budget_at: Option<EpochMillis>,
}

/// A stored participant: the person's row id with who they are and their part.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: PersonId,
    pub person: PersonRef,
    pub role: Role,
}

/// A drill with everything needed to resume it or show it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedDrill {
    pub record: DrillRecord,
    pub participants: Vec<Member>,
    /// In order, index 0 first.
    pub turns: Vec<StoredTurn>,
    pub scorecard: Option<StoredScorecard>,
}

impl LoadedDrill {
    /// The drill as committing `update` to it left it in the store, now at `version`:
    /// what the next event applies to, without reading the drill again.
    pub fn committed(mut self, update: &DrillUpdate, version: i64) -> LoadedDrill {
        let record = &mut self.record;
        record.version = version;
        record.clock_at = update.at;
        record.phase = update.phase.unwrap_or(record.phase);
        record.started_at = update.started_at.or(record.started_at);
        record.ends_at = update.ends_at.or(record.ends_at);
        record.next_due_at = match update.timer {
            TimerChange::Keep => record.next_due_at,
            TimerChange::Set(at) => Some(at),
            TimerChange::Clear => None,
        };
        self.turns.extend(update.turns.iter().cloned());
        self
    }

    pub fn plain_turns(&self) -> Vec<Turn> {
        self.turns.iter().map(|t| t.turn.clone()).collect()
    }

    /// The person practising, when the drill has one.
    pub fn candidate(&self) -> Option<&PersonRef> {
        self.member(Role::Candidate).map(|m| &m.person)
    }

    /// The first participant playing `role`; whoever says a turn in that role.
    pub fn member(&self, role: Role) -> Option<&Member> {
        self.participants.iter().find(|p| p.role == role)
    }
}

/// A turn with its place in the drill and who said it, when a person did.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTurn {
    pub index: usize,
    pub turn: Turn,
    pub author: Option<PersonId>,
}

/// One flag from a scorecard, kept as a row so stats can count flags without JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagRow {
    pub kind: String,
    pub turn: Option<i64>,
    pub at_s: Option<f64>,
}

/// A scorecard as stored: the scorer's whole JSON, plus the fields stats query as rows.
/// The store does not depend on the scorer's type; it reads the JSON's documented shape.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredScorecard {
    pub overall: u8,
    pub json: serde_json::Value,
    pub flags: Vec<FlagRow>,
    /// (dimension name, score 0-4), in the scorecard's order.
    pub dimensions: Vec<(String, u8)>,
}

impl StoredScorecard {
    /// Extracts `overall`, `flags[].{kind,turn,at_s}` and `dimensions[].{name,score}` from
    /// a scorecard's JSON. Fails when `overall` is missing or out of range.
    pub fn from_json(json: serde_json::Value) -> Result<StoredScorecard, StoreError> {
        let overall = json
            .get("overall")
            .and_then(serde_json::Value::as_u64)
            .and_then(|o| u8::try_from(o).ok())
            .ok_or_else(|| {
                StoreError::other("the scorecard has no \"overall\" score from 0 to 255")
            })?;
        let flags = json
            .get("flags")
            .and_then(serde_json::Value::as_array)
            .map(|flags| {
                flags
                    .iter()
                    .filter_map(|f| {
                        Some(FlagRow {
                            kind: f.get("kind")?.as_str()?.to_string(),
                            turn: f.get("turn").and_then(serde_json::Value::as_i64),
                            at_s: f.get("at_s").and_then(serde_json::Value::as_f64),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let dimensions = json
            .get("dimensions")
            .and_then(serde_json::Value::as_array)
            .map(|dims| {
                dims.iter()
                    .filter_map(|d| {
                        let name = d.get("name")?.as_str()?.to_string();
                        let score = u8::try_from(d.get("score")?.as_u64()?).ok()?;
                        Some((name, score))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(StoredScorecard {
            overall,
            json,
            flags,
            dimensions,
        })
    }
}

/// How a commit changes the drill's timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimerChange {
    #[default]
    Keep,
    Set(EpochMillis),
    Clear,
}

/// A platform event's identity: redelivered events carry the same pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey {
    pub platform: String,
    pub event_id: String,
}

/// Everything one applied event changes, written in one transaction: either all of it is
/// kept or none of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DrillUpdate {
    pub drill: DrillId,
    /// The version the change was computed from; a different stored version is a conflict.
    pub expected_version: i64,
    /// New turns, appended in order.
    pub turns: Vec<StoredTurn>,
    pub phase: Option<Phase>,
    /// Set when the clock starts.
    pub started_at: Option<EpochMillis>,
    pub ends_at: Option<EpochMillis>,
    pub timer: TimerChange,
    /// The moment the event was applied (becomes `clock_at`).
    pub at: EpochMillis,
    /// Recorded as processed in the same transaction, so a redelivery is recognised.
    pub event: Option<EventKey>,
    /// Takes the drill's recovery claim in the same write, when the change asks this
    /// instance for a reply or a debrief: another instance starting meanwhile must leave
    /// that request to it (see [`Store::claim_recovery`]).
    pub claim: Option<RecoveryClaim>,
}

/// An instance's hold on a drill until a moment, so others recovering leave it alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryClaim {
    pub owner: String,
    pub until: EpochMillis,
}

/// What became of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// Written; the drill is now at this version.
    Applied { version: i64 },
    /// The event had been processed before; nothing was written.
    Duplicate,
}

/// A drill whose timer this owner has claimed and must now fire.
#[derive(Debug, Clone, PartialEq)]
pub struct DueTimer {
    pub drill: DrillId,
    pub due_at: EpochMillis,
}

/// One line of `spar history`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub id: DrillId,
    pub scenario_id: String,
    pub difficulty: String,
    pub mode: String,
    pub phase: Phase,
    pub created_at: EpochMillis,
    pub started_at: Option<EpochMillis>,
    /// Seconds from the start to the last turn.
    pub duration_s: Option<f64>,
    pub overall: Option<u8>,
    /// Flag kinds, in the scorecard's order.
    pub flags: Vec<String>,
    /// Prompt plus completion tokens spent on the drill, when any were recorded.
    pub tokens: Option<i64>,
}

/// One scored drill, as a point on the stats chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorePoint {
    pub drill: DrillId,
    pub at: EpochMillis,
    pub overall: u8,
    pub dimensions: Vec<(String, u8)>,
}

/// What `forget_person` removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Forgotten {
    pub person_found: bool,
    /// Drills they were the candidate in, deleted with their turns and scorecards.
    pub drills: u64,
    /// Their turns in other people's drills, blanked so those transcripts keep their order.
    pub turns_redacted: u64,
}

/// A member waiting in a channel's queue, or opted in to a schedule's rounds. The entry's
/// `member` is the person's platform user id, which pairing works with.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub person: PersonRef,
    pub entry: Entry,
    pub since: EpochMillis,
}

/// A schedule of weekly peer rounds in one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRecord {
    pub id: i64,
    pub workspace: WorkspaceRef,
    pub channel: String,
    pub schedule: Schedule,
    /// A paused schedule opens no rounds until it is resumed.
    pub paused: bool,
    pub created_at: EpochMillis,
}

/// One stored occurrence of a schedule, with its state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundRecord {
    pub id: i64,
    pub schedule_id: i64,
    pub round: ScheduledRound,
    pub next_due_at: Option<EpochMillis>,
    /// Bumped on every change, like a drill's.
    pub version: i64,
}

/// A participant's rating of a peer drill's candidate, as stored. Scores are by dimension
/// name; the core's `Rating` checks them when the debrief is put together.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRating {
    pub rater: PersonRef,
    pub role: Role,
    pub scores: Vec<(String, u8)>,
    pub sentence: Option<String>,
    pub at: EpochMillis,
}

/// What peer drills keep: a queue per channel, the pairing history, weekly schedules with
/// their opt-ins and rounds, and ratings. Every method is one transaction.
pub trait PeerStore: Send + Sync {
    /// Puts a person in a channel's queue, or updates their wishes and keeps their place;
    /// true when they were added.
    fn join_queue<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        channel: &'a str,
        person: &'a PersonRef,
        entry: &'a Entry,
        at: EpochMillis,
    ) -> StoreFuture<'a, bool>;

    /// Takes a person out of a channel's queue; true when they were in it.
    fn leave_queue<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        channel: &'a str,
        person: &'a PersonRef,
    ) -> StoreFuture<'a, bool>;

    /// A channel's queue, in the order members joined.
    fn queue<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        channel: &'a str,
    ) -> StoreFuture<'a, Vec<Waiting>>;

    /// Records one pairing's groups (members by platform user id) in the channel's
    /// history. With `from_queue`, every grouped member also leaves the queue in the same
    /// transaction, and one who is no longer queued (paired meanwhile by someone else) is
    /// a `Conflict` that records nothing.
    fn record_pairing<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        channel: &'a str,
        groups: &'a [Group],
        from_queue: bool,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()>;

    /// Every pairing recorded in a channel, oldest first: replayed through
    /// `History::record`, they rebuild the channel's history.
    fn pairing_history<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        channel: &'a str,
    ) -> StoreFuture<'a, Vec<Vec<Group>>>;

    fn create_schedule<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        channel: &'a str,
        schedule: &'a Schedule,
        at: EpochMillis,
    ) -> StoreFuture<'a, ScheduleRecord>;

    /// The workspace's schedules, oldest first.
    fn schedules<'a>(&'a self, workspace: &'a WorkspaceRef)
    -> StoreFuture<'a, Vec<ScheduleRecord>>;

    /// Every unpaused schedule on one of `platforms`, for the round scheduler.
    fn active_schedules<'a>(
        &'a self,
        platforms: &'a [String],
    ) -> StoreFuture<'a, Vec<ScheduleRecord>>;

    fn schedule<'a>(&'a self, id: i64) -> StoreFuture<'a, ScheduleRecord>;

    /// Pauses or resumes a schedule; false when there is none with this id.
    fn set_schedule_paused<'a>(&'a self, id: i64, paused: bool) -> StoreFuture<'a, bool>;

    /// Deletes a schedule with its opt-ins and rounds; drills its rounds opened are kept.
    fn delete_schedule<'a>(&'a self, id: i64) -> StoreFuture<'a, bool>;

    /// Opts a person in to a schedule's rounds, or updates their wishes; true when new.
    fn opt_in<'a>(
        &'a self,
        schedule: i64,
        person: &'a PersonRef,
        entry: &'a Entry,
        at: EpochMillis,
    ) -> StoreFuture<'a, bool>;

    fn opt_out<'a>(&'a self, schedule: i64, person: &'a PersonRef) -> StoreFuture<'a, bool>;

    /// Who is opted in, in the order they opted in.
    fn opted_in<'a>(&'a self, schedule: i64) -> StoreFuture<'a, Vec<Waiting>>;

    /// Stores a round unless the schedule already has one at the same start, and returns
    /// the stored one: instances setting up the next round together make one.
    fn add_round<'a>(
        &'a self,
        schedule: i64,
        round: &'a ScheduledRound,
        next_due_at: Option<EpochMillis>,
    ) -> StoreFuture<'a, RoundRecord>;

    /// Saves a round's new state if it is still at `expected_version`, releasing any claim
    /// on its timer; returns the new version. `Conflict` when it moved.
    fn update_round<'a>(
        &'a self,
        id: i64,
        expected_version: i64,
        round: &'a ScheduledRound,
        next_due_at: Option<EpochMillis>,
    ) -> StoreFuture<'a, i64>;

    /// Claims up to `limit` rounds of unpaused schedules on `platforms` whose timer is
    /// due and not claimed by a live owner, until `now + lease_ms`.
    fn claim_due_rounds<'a>(
        &'a self,
        owner: &'a str,
        platforms: &'a [String],
        now: EpochMillis,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<RoundRecord>>;

    /// Gives up this owner's claim on a round's timer.
    fn release_round<'a>(&'a self, id: i64, owner: &'a str) -> StoreFuture<'a, ()>;

    fn round<'a>(&'a self, id: i64) -> StoreFuture<'a, RoundRecord>;

    /// A schedule's rounds, latest start first.
    fn rounds_of<'a>(&'a self, schedule: i64) -> StoreFuture<'a, Vec<RoundRecord>>;

    /// Notes that a round opened this drill.
    fn link_round_drill<'a>(&'a self, round: i64, drill: &'a DrillId) -> StoreFuture<'a, ()>;

    /// The round that opened a drill, if one did.
    fn round_of_drill<'a>(&'a self, drill: &'a DrillId) -> StoreFuture<'a, Option<RoundRecord>>;

    /// The drills a round opened, oldest first.
    fn round_drills<'a>(&'a self, round: i64) -> StoreFuture<'a, Vec<DrillId>>;

    /// Stores a rating, replacing the rater's earlier one for the same drill.
    fn save_rating<'a>(
        &'a self,
        drill: &'a DrillId,
        rating: &'a StoredRating,
    ) -> StoreFuture<'a, ()>;

    /// A drill's ratings, in the order they were first given.
    fn ratings<'a>(&'a self, drill: &'a DrillId) -> StoreFuture<'a, Vec<StoredRating>>;
}

/// What a workspace spent on models per day. Every store records each model call's tokens
/// with `Store::record_llm_usage`; this part sums them per workspace and day. The budget a
/// workspace's admins chose is one of its settings (`WorkspaceConfig::token_budget`),
/// written with the others in one transaction.
pub trait BudgetStore: Send + Sync {
    /// The tokens spent on the workspace's drills on `day`, with its own budget: what is
    /// checked before each model call, so it reads one row.
    fn tokens_on<'a>(&'a self, workspace: WorkspaceId, day: UtcDay) -> StoreFuture<'a, TokenDay>;

    /// How many drills were started in the workspace on `day`, by anyone.
    fn drills_on<'a>(&'a self, workspace: WorkspaceId, day: UtcDay) -> StoreFuture<'a, u32>;

    /// Records that the drill went over its workspace's budget at `at`. True when this call
    /// recorded it; false when it was recorded before, by this instance or another, so of
    /// everyone who finds the budget spent during one drill exactly one tells its thread.
    fn mark_over_budget<'a>(&'a self, drill: &'a DrillId, at: EpochMillis)
    -> StoreFuture<'a, bool>;
}

/// Durable storage for drills. Every method is one transaction. Implementations must be
/// safe to share between tasks and between processes on one database.
pub trait Store: BudgetStore + Send + Sync {
    /// `sqlite` or `postgres`, for messages.
    fn backend(&self) -> &'static str;

    /// Inserts the person or updates their display name; returns their id.
    fn ensure_person<'a>(&'a self, person: &'a PersonRef) -> StoreFuture<'a, PersonId>;

    fn ensure_workspace<'a>(&'a self, workspace: &'a WorkspaceRef) -> StoreFuture<'a, WorkspaceId>;

    /// Stores a new drill in `Phase::Briefing` with its participants (ensured as people).
    fn create_drill<'a>(&'a self, drill: &'a NewDrill) -> StoreFuture<'a, DrillRecord>;

    /// Appends one turn outside any event. Idempotent on (drill, index): the same turn
    /// again is a no-op; a different turn at a stored index is `Conflict`.
    fn append_turn<'a>(&'a self, drill: &'a DrillId, turn: &'a StoredTurn) -> StoreFuture<'a, ()>;

    /// Changes the phase if the drill is still at `expected_version`; returns the new
    /// version. `started_at` is recorded (with the deadline) when the clock starts.
    fn set_phase<'a>(
        &'a self,
        drill: &'a DrillId,
        phase: Phase,
        started_at: Option<EpochMillis>,
        expected_version: i64,
    ) -> StoreFuture<'a, i64>;

    /// Arms (`Some`) or clears (`None`) the drill's timer, releasing any claim on it.
    fn set_next_due<'a>(
        &'a self,
        drill: &'a DrillId,
        due: Option<EpochMillis>,
    ) -> StoreFuture<'a, ()>;

    /// Applies one event's changes atomically: version check, turns, phase, timer and the
    /// processed event id. `Conflict` when the version moved; `Duplicate` when the event
    /// was seen before.
    fn commit<'a>(&'a self, update: &'a DrillUpdate) -> StoreFuture<'a, Committed>;

    /// Claims up to `limit` drills whose timer is due and not claimed by a live owner.
    /// A claim lasts until `now + lease_ms`, so a crashed owner's claims expire.
    /// Only drills on `platforms` are claimed: an instance fires the timers of drills it
    /// can post to.
    fn claim_due_timers<'a>(
        &'a self,
        owner: &'a str,
        platforms: &'a [String],
        now: EpochMillis,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<DueTimer>>;

    /// Gives up this owner's claim on a drill's timer.
    fn release_timer<'a>(&'a self, drill: &'a DrillId, owner: &'a str) -> StoreFuture<'a, ()>;

    /// Claims the recovery of a drill after a restart, so that of several instances
    /// starting together only one asks for the reply (or the debrief) the drill is owed.
    /// The claim is taken when nobody holds it or the holder's lease has run out, and then
    /// lasts until `now + lease_ms`, so a crashed owner strands no drill for longer. True
    /// when this call took it; false while any lease is live, this owner's own included,
    /// so recovering twice within a lease asks once. A missing drill is never claimed.
    fn claim_recovery<'a>(
        &'a self,
        drill: &'a DrillId,
        owner: &'a str,
        now: EpochMillis,
        lease_ms: i64,
    ) -> StoreFuture<'a, bool>;

    /// Stores the scorecard (replacing any earlier one) with its flags and dimensions.
    fn save_scorecard<'a>(
        &'a self,
        drill: &'a DrillId,
        scorecard: &'a StoredScorecard,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()>;

    /// Records an event id; true when it was new, false when it had been seen.
    fn mark_event_processed<'a>(
        &'a self,
        event: &'a EventKey,
        at: EpochMillis,
    ) -> StoreFuture<'a, bool>;

    fn event_processed<'a>(&'a self, event: &'a EventKey) -> StoreFuture<'a, bool>;

    /// Every drill in briefing, live or wrap-up on one of `platforms`, with its turns. An
    /// instance serves some platforms; it never picks up a drill it could not talk to.
    fn load_live_drills<'a>(&'a self, platforms: &'a [String])
    -> StoreFuture<'a, Vec<LoadedDrill>>;

    /// The unfinished drill in a chat thread with its participants and turns, as
    /// `load_drill` gives it, in one operation: what a message in a thread needs first.
    fn load_live_drill_in<'a>(
        &'a self,
        platform: &'a str,
        thread: &'a str,
        channel: Option<&'a str>,
    ) -> StoreFuture<'a, Option<LoadedDrill>>;

    /// How many drills on `platforms` are in each unfinished phase (briefing, live,
    /// wrap-up); phases with none are left out.
    fn drills_by_phase<'a>(&'a self, platforms: &'a [String])
    -> StoreFuture<'a, Vec<(Phase, u64)>>;

    /// Gives up every timer and recovery claim `owner` holds, so another instance takes
    /// those drills over at once rather than when the leases run out: what a stopping
    /// instance does last. Returns how many drills it let go of.
    fn release_claims<'a>(&'a self, owner: &'a str) -> StoreFuture<'a, u64>;

    /// Forgets the ids of events processed before `before`: a platform redelivers an
    /// event within minutes, so older ids only take space. Returns how many went.
    fn prune_events<'a>(&'a self, before: EpochMillis) -> StoreFuture<'a, u64>;

    /// The unfinished drill in a chat thread, if any. `channel` narrows the search where
    /// thread ids are unique only within a channel (Slack).
    fn live_drill_in<'a>(
        &'a self,
        platform: &'a str,
        thread: &'a str,
        channel: Option<&'a str>,
    ) -> StoreFuture<'a, Option<DrillRecord>>;

    /// The unfinished drill `person` is the candidate in, in this workspace, if any.
    fn live_drill_of<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        person: &'a PersonRef,
    ) -> StoreFuture<'a, Option<DrillRecord>>;

    /// How many drills `person` has been the candidate in, in this workspace, created at
    /// or after `since`: the count a daily limit is checked against.
    fn drills_since<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        person: &'a PersonRef,
        since: EpochMillis,
    ) -> StoreFuture<'a, u32>;

    /// The workspace's settings (defaults where none were chosen).
    fn workspace_config<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
    ) -> StoreFuture<'a, WorkspaceConfig>;

    /// Replaces the workspace's settings, its token budget among them, all at once: a
    /// change that fails leaves every setting as it was.
    fn set_workspace_config<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        config: &'a WorkspaceConfig,
    ) -> StoreFuture<'a, ()>;

    fn load_drill<'a>(&'a self, drill: &'a DrillId) -> StoreFuture<'a, LoadedDrill>;

    /// Past drills, newest first; only those `person` was the candidate in, if given.
    fn history<'a>(&'a self, person: Option<&'a PersonRef>) -> StoreFuture<'a, Vec<HistoryRow>>;

    /// Scored drills, oldest first, for trends and charts.
    fn score_series<'a>(
        &'a self,
        person: Option<&'a PersonRef>,
    ) -> StoreFuture<'a, Vec<ScorePoint>>;

    /// Deletes the person, every drill they were the candidate in (turns, scorecards,
    /// feedback, usage), their queue entries and feedback, and blanks what they said in
    /// other people's drills.
    fn forget_person<'a>(
        &'a self,
        platform: &'a str,
        platform_user_id: &'a str,
    ) -> StoreFuture<'a, Forgotten>;

    fn record_llm_usage<'a>(
        &'a self,
        drill: &'a DrillId,
        model: &'a str,
        prompt_tokens: i64,
        completion_tokens: i64,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()>;

    fn add_peer_feedback<'a>(
        &'a self,
        drill: &'a DrillId,
        from: &'a PersonRef,
        to: Option<&'a PersonRef>,
        text: &'a str,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()>;

    /// Peer drills' storage: queues, pairing history, schedules, rounds and ratings.
    fn peer(&self) -> &dyn PeerStore;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_utc_day_runs_from_midnight_to_the_last_millisecond_before_the_next() {
        let day = UtcDay::of(1_800_000_000_000);
        assert_eq!(day, UtcDay(20_833));
        assert_eq!(UtcDay::of(day.start()), day);
        assert_eq!(UtcDay::of(day.start() + UtcDay::MILLIS - 1), day);
        assert_eq!(UtcDay::of(day.start() - 1), UtcDay(20_832));
        // Before 1970 the day still starts at its own midnight.
        assert_eq!(UtcDay::of(-1), UtcDay(-1));
        assert_eq!(UtcDay(-1).start(), -UtcDay::MILLIS);
    }

    #[test]
    fn a_scorecard_json_gives_its_overall_flags_and_dimensions_as_rows() {
        let card = StoredScorecard::from_json(serde_json::json!({
            "overall": 3,
            "flags": [
                {"kind": "defensive", "turn": 4, "at_s": 61.5, "quote": "q", "why": "w", "try_instead": "t"},
                {"kind": "folded", "turn": null, "at_s": null}
            ],
            "dimensions": [{"name": "curiosity", "score": 2, "evidence": "e"}],
            "summary": "s"
        }))
        .unwrap();
        assert_eq!(card.overall, 3);
        assert_eq!(
            card.flags,
            vec![
                FlagRow {
                    kind: "defensive".into(),
                    turn: Some(4),
                    at_s: Some(61.5)
                },
                FlagRow {
                    kind: "folded".into(),
                    turn: None,
                    at_s: None
                }
            ]
        );
        assert_eq!(card.dimensions, vec![("curiosity".to_string(), 2)]);
    }

    #[test]
    fn a_scorecard_without_an_overall_score_is_refused() {
        assert!(StoredScorecard::from_json(serde_json::json!({"flags": []})).is_err());
    }
}
