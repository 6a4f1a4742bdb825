//! `Interleaved`: a store that runs another instance's work just before the next commit
//! passes through it, so a test can place a competing write exactly between an engine's
//! load and its commit instead of hoping a race happens. Everything else goes straight
//! to the real store underneath.

use spar_core::store::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

type Hook = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

pub struct Interleaved {
    inner: Arc<dyn Store>,
    /// Run once, by the first commit, before that commit reaches the database.
    before_commit: Mutex<Option<Hook>>,
}

impl Interleaved {
    pub fn new<F>(inner: Arc<dyn Store>, before_commit: impl FnOnce() -> F + Send + 'static) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let hook: Hook = Box::new(move || Box::pin(before_commit()));
        Interleaved {
            inner,
            before_commit: Mutex::new(Some(hook)),
        }
    }
}

impl Store for Interleaved {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn ensure_person<'a>(&'a self, person: &'a PersonRef) -> StoreFuture<'a, PersonId> {
        self.inner.ensure_person(person)
    }

    fn ensure_workspace<'a>(&'a self, workspace: &'a WorkspaceRef) -> StoreFuture<'a, WorkspaceId> {
        self.inner.ensure_workspace(workspace)
    }

    fn create_drill<'a>(&'a self, drill: &'a NewDrill) -> StoreFuture<'a, DrillRecord> {
        self.inner.create_drill(drill)
    }

    fn append_turn<'a>(&'a self, drill: &'a DrillId, turn: &'a StoredTurn) -> StoreFuture<'a, ()> {
        self.inner.append_turn(drill, turn)
    }

    fn set_phase<'a>(
        &'a self,
        drill: &'a DrillId,
        phase: spar_core::drill::Phase,
        started_at: Option<EpochMillis>,
        expected_version: i64,
    ) -> StoreFuture<'a, i64> {
        self.inner
            .set_phase(drill, phase, started_at, expected_version)
    }

    fn set_next_due<'a>(
        &'a self,
        drill: &'a DrillId,
        due: Option<EpochMillis>,
    ) -> StoreFuture<'a, ()> {
        self.inner.set_next_due(drill, due)
    }

    fn commit<'a>(&'a self, update: &'a DrillUpdate) -> StoreFuture<'a, Committed> {
        let hook = self.before_commit.lock().expect("the hook's lock").take();
        Box::pin(async move {
            if let Some(hook) = hook {
                hook().await;
            }
            self.inner.commit(update).await
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
        self.inner
            .claim_due_timers(owner, platforms, now, lease_ms, limit)
    }

    fn release_timer<'a>(&'a self, drill: &'a DrillId, owner: &'a str) -> StoreFuture<'a, ()> {
        self.inner.release_timer(drill, owner)
    }

    fn claim_recovery<'a>(
        &'a self,
        drill: &'a DrillId,
        owner: &'a str,
        now: EpochMillis,
        lease_ms: i64,
    ) -> StoreFuture<'a, bool> {
        self.inner.claim_recovery(drill, owner, now, lease_ms)
    }

    fn save_scorecard<'a>(
        &'a self,
        drill: &'a DrillId,
        scorecard: &'a StoredScorecard,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()> {
        self.inner.save_scorecard(drill, scorecard, at)
    }

    fn mark_event_processed<'a>(
        &'a self,
        event: &'a EventKey,
        at: EpochMillis,
    ) -> StoreFuture<'a, bool> {
        self.inner.mark_event_processed(event, at)
    }

    fn event_processed<'a>(&'a self, event: &'a EventKey) -> StoreFuture<'a, bool> {
        self.inner.event_processed(event)
    }

    fn load_live_drills<'a>(
        &'a self,
        platforms: &'a [String],
    ) -> StoreFuture<'a, Vec<LoadedDrill>> {
        self.inner.load_live_drills(platforms)
    }

    fn load_live_drill_in<'a>(
        &'a self,
        platform: &'a str,
        thread: &'a str,
        channel: Option<&'a str>,
    ) -> StoreFuture<'a, Option<LoadedDrill>> {
        self.inner.load_live_drill_in(platform, thread, channel)
    }

    fn drills_by_phase<'a>(
        &'a self,
        platforms: &'a [String],
    ) -> StoreFuture<'a, Vec<(spar_core::drill::Phase, u64)>> {
        self.inner.drills_by_phase(platforms)
    }

    fn release_claims<'a>(&'a self, owner: &'a str) -> StoreFuture<'a, u64> {
        self.inner.release_claims(owner)
    }

    fn prune_events<'a>(&'a self, before: EpochMillis) -> StoreFuture<'a, u64> {
        self.inner.prune_events(before)
    }

    fn live_drill_in<'a>(
        &'a self,
        platform: &'a str,
        thread: &'a str,
        channel: Option<&'a str>,
    ) -> StoreFuture<'a, Option<DrillRecord>> {
        self.inner.live_drill_in(platform, thread, channel)
    }

    fn live_drill_of<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        person: &'a PersonRef,
    ) -> StoreFuture<'a, Option<DrillRecord>> {
        self.inner.live_drill_of(workspace, person)
    }

    fn drills_since<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        person: &'a PersonRef,
        since: EpochMillis,
    ) -> StoreFuture<'a, u32> {
        self.inner.drills_since(workspace, person, since)
    }

    fn workspace_config<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
    ) -> StoreFuture<'a, WorkspaceConfig> {
        self.inner.workspace_config(workspace)
    }

    fn set_workspace_config<'a>(
        &'a self,
        workspace: &'a WorkspaceRef,
        config: &'a WorkspaceConfig,
    ) -> StoreFuture<'a, ()> {
        self.inner.set_workspace_config(workspace, config)
    }

    fn load_drill<'a>(&'a self, drill: &'a DrillId) -> StoreFuture<'a, LoadedDrill> {
        self.inner.load_drill(drill)
    }

    fn history<'a>(&'a self, person: Option<&'a PersonRef>) -> StoreFuture<'a, Vec<HistoryRow>> {
        self.inner.history(person)
    }

    fn score_series<'a>(
        &'a self,
        person: Option<&'a PersonRef>,
    ) -> StoreFuture<'a, Vec<ScorePoint>> {
        self.inner.score_series(person)
    }

    fn forget_person<'a>(
        &'a self,
        platform: &'a str,
        platform_user_id: &'a str,
    ) -> StoreFuture<'a, Forgotten> {
        self.inner.forget_person(platform, platform_user_id)
    }

    fn record_llm_usage<'a>(
        &'a self,
        drill: &'a DrillId,
        model: &'a str,
        prompt_tokens: i64,
        completion_tokens: i64,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()> {
        self.inner
            .record_llm_usage(drill, model, prompt_tokens, completion_tokens, at)
    }

    fn add_peer_feedback<'a>(
        &'a self,
        drill: &'a DrillId,
        from: &'a PersonRef,
        to: Option<&'a PersonRef>,
        text: &'a str,
        at: EpochMillis,
    ) -> StoreFuture<'a, ()> {
        self.inner.add_peer_feedback(drill, from, to, text, at)
    }

    fn peer(&self) -> &dyn PeerStore {
        self.inner.peer()
    }
}

impl BudgetStore for Interleaved {
    fn tokens_on<'a>(&'a self, workspace: WorkspaceId, day: UtcDay) -> StoreFuture<'a, TokenDay> {
        self.inner.tokens_on(workspace, day)
    }

    fn drills_on<'a>(&'a self, workspace: WorkspaceId, day: UtcDay) -> StoreFuture<'a, u32> {
        self.inner.drills_on(workspace, day)
    }

    fn mark_over_budget<'a>(
        &'a self,
        drill: &'a DrillId,
        at: EpochMillis,
    ) -> StoreFuture<'a, bool> {
        self.inner.mark_over_budget(drill, at)
    }
}
