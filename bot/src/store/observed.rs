//! `Observed`: a store that lets an observer see every operation of the store beneath it,
//! by name, with how long it took and whether it failed: what the metrics count and
//! `spar bench load` measures, and where a test can wait before an operation to place a
//! competing write exactly there. Every operation is one transaction (see `Store`).

use spar_core::drill::Phase;
use spar_core::store::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What watches a store's operations.
pub trait Observer: Send + Sync {
    /// Runs before `operation` starts; a test may wait here.
    fn before<'a>(
        &'a self,
        operation: &'static str,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        let _ = operation;
        Box::pin(async {})
    }

    /// Runs when `operation` has finished.
    fn after(&self, operation: &'static str, took: Duration, failed: bool);
}

pub struct Observed<O> {
    inner: Arc<dyn Store>,
    observer: O,
}

impl<O: Observer> Observed<O> {
    pub fn new(inner: Arc<dyn Store>, observer: O) -> Observed<O> {
        Observed { inner, observer }
    }

    pub fn observer(&self) -> &O {
        &self.observer
    }

    fn observe<'a, T: Send + 'a>(
        &'a self,
        operation: &'static str,
        call: StoreFuture<'a, T>,
    ) -> StoreFuture<'a, T> {
        Box::pin(async move {
            self.observer.before(operation).await;
            let started = Instant::now();
            let outcome = call.await;
            self.observer
                .after(operation, started.elapsed(), outcome.is_err());
            outcome
        })
    }
}

/// Counts a store's operations and the time they took, for measurements.
#[derive(Debug, Default)]
pub struct Tally {
    pub operations: AtomicU64,
    pub failures: AtomicU64,
    pub micros: AtomicU64,
    /// The same by operation, so a slow turn can be traced to the query that made it slow.
    by_operation: std::sync::Mutex<std::collections::BTreeMap<&'static str, OperationTime>>,
}

/// One operation's calls and time.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OperationTime {
    pub calls: u64,
    pub micros: u64,
    pub max_micros: u64,
    /// Calls that took 100 ms or more: a wait on a lock, a connection or the CPU, not work.
    pub slow: u64,
}

impl Tally {
    pub fn operations(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }

    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    pub fn time(&self) -> Duration {
        Duration::from_micros(self.micros.load(Ordering::Relaxed))
    }

    /// Forgets what `by_operation` has seen, to measure from now on.
    pub fn restart_by_operation(&self) {
        self.by_operation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Every operation seen so far, by name.
    pub fn by_operation(&self) -> Vec<(&'static str, OperationTime)> {
        let seen = self.by_operation.lock().unwrap_or_else(|e| e.into_inner());
        seen.iter().map(|(name, time)| (*name, *time)).collect()
    }
}

impl Observer for Arc<Tally> {
    fn after(&self, operation: &'static str, took: Duration, failed: bool) {
        self.operations.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.micros.fetch_add(micros, Ordering::Relaxed);
        let mut seen = self.by_operation.lock().unwrap_or_else(|e| e.into_inner());
        let time = seen.entry(operation).or_default();
        time.calls += 1;
        time.micros = time.micros.saturating_add(micros);
        time.max_micros = time.max_micros.max(micros);
        time.slow += u64::from(took >= Duration::from_millis(100));
    }
}

impl<O: Observer> Store for Observed<O> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn ensure_person<'a>(&'a self, person: &'a PersonRef) -> StoreFuture<'a, PersonId> {
        self.observe("ensure_person", self.inner.ensure_person(person))
    }

    fn ensure_workspace<'a>(&'a self, workspace: &'a WorkspaceRef) -> StoreFuture<'a, WorkspaceId> {
        self.observe("ensure_workspace", self.inner.ensure_workspace(workspace))
    }

    fn create_drill<'a>(&'a self, drill: &'a NewDrill) -> StoreFuture<'a, DrillRecord> {
        self.observe("create_drill", self.inner.create_drill(drill))
    }

    fn append_turn<'a>(&'a self, drill: &'a DrillId, turn: &'a StoredTurn) -> StoreFuture<'a, ()> {
        self.observe("append_turn", self.inner.append_turn(drill, turn))
    }

    fn set_phase<'a>(
        &'a self,
        drill: &'a DrillId,
        phase: Phase,
        started_at: Option<EpochMillis>,
        expected_version: i64,
    ) -> StoreFuture<'a, i64> {
        self.observe(
            "set_phase",
            self.inner
                .set_phase(drill, phase, started_at, expected_version),
        )
    }

    fn set_next_due<'a>(
        &'a self,
        drill: &'a DrillId,
        due: Option<EpochMillis>,
    ) -> StoreFuture<'a, ()> {
        self.observe("set_next_due", self.inner.set_next_due(drill, due))
    }

    fn commit<'a>(&'a self, update: &'a DrillUpdate) -> StoreFuture<'a, Committed> {
        self.observe("commit", self.inner.commit(update))
    }

    fn claim_due_timers<'a>(
        &'a self,
        owner: &'a str,
        platforms: &'a [String],
        now: EpochMillis,
        lease_ms: i64,
        limit: u32,
    ) -> StoreFuture<'a, Vec<DueTimer>> {
        self.observe(
            "claim_due_timers",
            self.inner
                .claim_due_timers(owner, platforms, now, lease_ms, limit),
        )
    }

    fn release_timer<'a>(&'a self, drill: &'a DrillId, owner: &'a str) -> StoreFuture<'a, ()> {
        self.observe("release_timer", self.inner.release_timer(drill, owner))
    }

    fn claim_recovery<'a>(
        &'a self,
        drill: &'a DrillId,
        owner: &'a str,
        now: EpochMillis,
        lease_ms: i64,
    ) -> StoreFuture<'a, bool> {
        self.observe(
            "claim_recovery",
            self.inner.claim_recovery(drill, owner, now, lease_ms),
        )
    }

    fn save_scorecard<'a>(
        &'a self,
        drill: &'a DrillId,
        scorecard: &'a StoredScorecard,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()> {
        self.observe(
            "save_scorecard",
            self.inner.save_scorecard(drill, scorecard, at),
        )
    }

    fn mark_event_processed<'a>(
        &'a self,
        event: &'a EventKey,
        at: EpochMillis,
    ) -> StoreFuture<'a, bool> {
        self.observe(
            "mark_event_processed",
            self.inner.mark_event_processed(event, at),
        )
    }

    fn event_processed<'a>(&'a self, event: &'a EventKey) -> StoreFuture<'a, bool> {
        self.observe("event_processed", self.inner.event_processed(event))
    }

    fn load_live_drills<'a>(
        &'a self,
        platforms: &'a [String],
    ) -> StoreFuture<'a, Vec<LoadedDrill>> {
        self.observe("load_live_drills", self.inner.load_live_drills(platforms))
    }

    fn load_live_drill_in<'a>(
        &'a self,
        platform: &'a str,
        thread: &'a str,
        channel: Option<&'a str>,
    ) -> StoreFuture<'a, Option<LoadedDrill>> {
        self.observe(
            "load_live_drill_in",
            self.inner.load_live_drill_in(platform, thread, channel),
        )
    }

    fn drills_by_phase<'a>(
        &'a self,
        platforms: &'a [String],
    ) -> StoreFuture<'a, Vec<(spar_core::drill::Phase, u64)>> {
        self.observe("drills_by_phase", self.inner.drills_by_phase(platforms))
    }

    fn release_claims<'a>(&'a self, owner: &'a str) -> StoreFuture<'a, u64> {
        self.observe("release_claims", self.inner.release_claims(owner))
    }

    fn prune_events<'a>(&'a self, before: EpochMillis) -> StoreFuture<'a, u64> {
        self.observe("prune_events", self.inner.prune_events(before))
    }

    fn live_drill_in<'a>(
        &'a self,
        platform: &'a str,
        thread: &'a str,
        channel: Option<&'a str>,
    ) -> StoreFuture<'a, Option<DrillRecord>> {
        self.observe(
            "live_drill_in",
            self.inner.live_drill_in(platform, thread, channel),
        )
    }

    fn live_drill_of<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        person: &'a PersonRef,
    ) -> StoreFuture<'a, Option<DrillRecord>> {
        self.observe("live_drill_of", self.inner.live_drill_of(workspace, person))
    }

    fn drills_since<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        person: &'a PersonRef,
        since: EpochMillis,
    ) -> StoreFuture<'a, u32> {
        self.observe(
            "drills_since",
            self.inner.drills_since(workspace, person, since),
        )
    }

    fn workspace_config<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
    ) -> StoreFuture<'a, WorkspaceConfig> {
        self.observe("workspace_config", self.inner.workspace_config(workspace))
    }

    fn set_workspace_config<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        config: &'a WorkspaceConfig,
    ) -> StoreFuture<'a, ()> {
        self.observe(
            "set_workspace_config",
            self.inner.set_workspace_config(workspace, config),
        )
    }

    fn load_drill<'a>(&'a self, drill: &'a DrillId) -> StoreFuture<'a, LoadedDrill> {
        self.observe("load_drill", self.inner.load_drill(drill))
    }

    fn history<'a>(&'a self, person: Option<&'a PersonRef>) -> StoreFuture<'a, Vec<HistoryRow>> {
        self.observe("history", self.inner.history(person))
    }

    fn score_series<'a>(
        &'a self,
        person: Option<&'a PersonRef>,
    ) -> StoreFuture<'a, Vec<ScorePoint>> {
        self.observe("score_series", self.inner.score_series(person))
    }

    fn forget_person<'a>(
        &'a self,
        platform: &'a str,
        platform_user_id: &'a str,
    ) -> StoreFuture<'a, Forgotten> {
        self.observe(
            "forget_person",
            self.inner.forget_person(platform, platform_user_id),
        )
    }

    fn record_llm_usage<'a>(
        &'a self,
        drill: &'a DrillId,
        model: &'a str,
        prompt_tokens: i64,
        completion_tokens: i64,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()> {
        self.observe(
            "record_llm_usage",
            self.inner
                .record_llm_usage(drill, model, prompt_tokens, completion_tokens, at),
        )
    }

    fn add_peer_feedback<'a>(
        &'a self,
        drill: &'a DrillId,
        from: &'a PersonRef,
        to: Option<&'a PersonRef>,
        text: &'a str,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()> {
        self.observe(
            "add_peer_feedback",
            self.inner.add_peer_feedback(drill, from, to, text, at),
        )
    }

    /// Peer-drill storage is reached through the store beneath, unobserved: its
    /// operations are not on a drill's turn path.
    fn peer(&self) -> &dyn PeerStore {
        self.inner.peer()
    }
}

/// Observed like the rest: `tokens_on` runs before every model call of a drill.
impl<O: Observer> BudgetStore for Observed<O> {
    fn tokens_on<'a>(&'a self, workspace: WorkspaceId, day: UtcDay) -> StoreFuture<'a, TokenDay> {
        self.observe("tokens_on", self.inner.tokens_on(workspace, day))
    }

    fn drills_on<'a>(&'a self, workspace: WorkspaceId, day: UtcDay) -> StoreFuture<'a, u32> {
        self.observe("drills_on", self.inner.drills_on(workspace, day))
    }

    fn mark_over_budget<'a>(
        &'a self,
        drill: &'a DrillId,
        at: EpochMillis,
    ) -> StoreFuture<'a, bool> {
        self.observe("mark_over_budget", self.inner.mark_over_budget(drill, at))
    }
}
