//! `impl_store!`: the `Store` trait for one backend, each method handed to the module
//! of its concern (drills and turns, claims and timers, history and stats, people). A
//! backend brings a connection type and three helpers — `read` (one pooled connection),
//! `write` (a transaction, SQLite's holding the process's writer turn) and `autocommit`
//! (one statement that is its own transaction) — plus the SQL that claims due timers.

macro_rules! impl_store {
    (
        store: $store:ty,
        conn: $conn:ty,
        backend: $backend:literal,
        claim_sql: $claim_sql:expr $(,)?
    ) => {
        $crate::store::people::people_queries!(store: $store, conn: $conn);
        $crate::store::drills::drill_queries!(store: $store, conn: $conn);
        $crate::store::claims::claim_queries!(store: $store, claim_sql: $claim_sql);
        $crate::store::history::history_queries!(store: $store);

        /// What the peer-drill queries share with the rest.
        mod shared {
            pub(super) use super::people::{person_id, workspace_id};
            pub(super) use $crate::store::sql::R;
        }

        mod port {
            use super::*;
            use spar_core::drill::Phase;
            use spar_core::store::*;

            impl Store for $store {
                fn backend(&self) -> &'static str {
                    $backend
                }

                fn ensure_person<'a>(&'a self, person: &'a PersonRef) -> StoreFuture<'a, PersonId> {
                    Box::pin(people::ensure_person(self, person))
                }

                fn ensure_workspace<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                ) -> StoreFuture<'a, WorkspaceId> {
                    Box::pin(people::ensure_workspace(self, workspace))
                }

                fn create_drill<'a>(&'a self, drill: &'a NewDrill) -> StoreFuture<'a, DrillRecord> {
                    Box::pin(drills::create_drill(self, drill))
                }

                fn append_turn<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    turn: &'a StoredTurn,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(drills::append_turn(self, drill, turn))
                }

                fn set_phase<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    phase: Phase,
                    started_at: Option<EpochMillis>,
                    expected_version: i64,
                ) -> StoreFuture<'a, i64> {
                    Box::pin(drills::set_phase(self, drill, phase, started_at, expected_version))
                }

                fn set_next_due<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    due: Option<EpochMillis>,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(claims::set_next_due(self, drill, due))
                }

                fn commit<'a>(&'a self, update: &'a DrillUpdate) -> StoreFuture<'a, Committed> {
                    Box::pin(drills::commit(self, update))
                }

                fn claim_due_timers<'a>(
                    &'a self,
                    owner: &'a str,
                    platforms: &'a [String],
                    now: EpochMillis,
                    lease_ms: i64,
                    limit: u32,
                ) -> StoreFuture<'a, Vec<DueTimer>> {
                    Box::pin(claims::claim_due_timers(
                        self, owner, platforms, now, lease_ms, limit,
                    ))
                }

                fn release_timer<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    owner: &'a str,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(claims::release_timer(self, drill, owner))
                }

                fn claim_recovery<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    owner: &'a str,
                    now: EpochMillis,
                    lease_ms: i64,
                ) -> StoreFuture<'a, bool> {
                    Box::pin(claims::claim_recovery(self, drill, owner, now, lease_ms))
                }

                fn save_scorecard<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    scorecard: &'a StoredScorecard,
                    at: EpochMillis,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(drills::save_scorecard(self, drill, scorecard, at))
                }

                fn mark_event_processed<'a>(
                    &'a self,
                    event: &'a EventKey,
                    at: EpochMillis,
                ) -> StoreFuture<'a, bool> {
                    Box::pin(claims::mark_event_processed(self, event, at))
                }

                fn event_processed<'a>(&'a self, event: &'a EventKey) -> StoreFuture<'a, bool> {
                    Box::pin(claims::event_processed(self, event))
                }

                fn load_live_drills<'a>(
                    &'a self,
                    platforms: &'a [String],
                ) -> StoreFuture<'a, Vec<LoadedDrill>> {
                    Box::pin(drills::load_live_drills(self, platforms))
                }

                fn load_live_drill_in<'a>(
                    &'a self,
                    platform: &'a str,
                    thread: &'a str,
                    channel: Option<&'a str>,
                ) -> StoreFuture<'a, Option<LoadedDrill>> {
                    Box::pin(drills::load_live_drill_in(self, platform, thread, channel))
                }

                fn drills_by_phase<'a>(
                    &'a self,
                    platforms: &'a [String],
                ) -> StoreFuture<'a, Vec<(Phase, u64)>> {
                    Box::pin(history::drills_by_phase(self, platforms))
                }

                fn release_claims<'a>(&'a self, owner: &'a str) -> StoreFuture<'a, u64> {
                    Box::pin(claims::release_claims(self, owner))
                }

                fn prune_events<'a>(&'a self, before: EpochMillis) -> StoreFuture<'a, u64> {
                    Box::pin(claims::prune_events(self, before))
                }

                fn live_drill_in<'a>(
                    &'a self,
                    platform: &'a str,
                    thread: &'a str,
                    channel: Option<&'a str>,
                ) -> StoreFuture<'a, Option<DrillRecord>> {
                    Box::pin(drills::live_drill_in(self, platform, thread, channel))
                }

                fn live_drill_of<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    person: &'a PersonRef,
                ) -> StoreFuture<'a, Option<DrillRecord>> {
                    Box::pin(drills::live_drill_of(self, workspace, person))
                }

                fn drills_since<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    person: &'a PersonRef,
                    since: EpochMillis,
                ) -> StoreFuture<'a, u32> {
                    Box::pin(history::drills_since(self, workspace, person, since))
                }

                fn workspace_config<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                ) -> StoreFuture<'a, WorkspaceConfig> {
                    Box::pin(people::workspace_config(self, workspace))
                }

                fn set_workspace_config<'a>(
                    &'a self,
                    workspace: &'a WorkspaceRef,
                    config: &'a WorkspaceConfig,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(people::set_workspace_config(self, workspace, config))
                }

                fn load_drill<'a>(&'a self, drill: &'a DrillId) -> StoreFuture<'a, LoadedDrill> {
                    Box::pin(drills::load_drill(self, drill))
                }

                fn history<'a>(
                    &'a self,
                    person: Option<&'a PersonRef>,
                ) -> StoreFuture<'a, Vec<HistoryRow>> {
                    Box::pin(history::history(self, person))
                }

                fn score_series<'a>(
                    &'a self,
                    person: Option<&'a PersonRef>,
                ) -> StoreFuture<'a, Vec<ScorePoint>> {
                    Box::pin(history::score_series(self, person))
                }

                fn forget_person<'a>(
                    &'a self,
                    platform: &'a str,
                    platform_user_id: &'a str,
                ) -> StoreFuture<'a, Forgotten> {
                    Box::pin(people::forget_person(self, platform, platform_user_id))
                }

                fn record_llm_usage<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    model: &'a str,
                    prompt_tokens: i64,
                    completion_tokens: i64,
                    at: EpochMillis,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(drills::record_llm_usage(
                        self,
                        drill,
                        model,
                        prompt_tokens,
                        completion_tokens,
                        at,
                    ))
                }

                fn add_peer_feedback<'a>(
                    &'a self,
                    drill: &'a DrillId,
                    from: &'a PersonRef,
                    to: Option<&'a PersonRef>,
                    text: &'a str,
                    at: EpochMillis,
                ) -> StoreFuture<'a, ()> {
                    Box::pin(drills::add_peer_feedback(self, drill, from, to, text, at))
                }

                fn peer(&self) -> &dyn PeerStore {
                    self
                }
            }
        }
    };
}

pub(crate) use impl_store;
