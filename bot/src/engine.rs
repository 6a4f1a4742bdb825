//! The drill engine for chat adapters: applies events to drills kept in the store, so any
//! instance can handle any drill and a restart loses nothing. Each event is loaded,
//! applied by `spar_core::drill::Drill`, and its turns, phase, timer and event id are
//! committed in one transaction before the adapter is told what to do next. The drill
//! logic stays in the core; this only moves state between it and the store.

use spar_core::Role;
use spar_core::drill::{Drill, Effect, Event, Millis, Phase};
use spar_core::store::{
    Committed, DrillId, DrillRecord, DrillUpdate, EpochMillis, EventKey, LoadedDrill, NewDrill,
    PersonId, RecoveryClaim, Store, StoreError, StoredScorecard, StoredTurn, TimerChange,
};
use std::sync::Arc;
use std::time::Duration;

/// How often an event is retried when other instances keep changing its drill first.
const MAX_ATTEMPTS: usize = 16;

/// How long a claimed timer stays with its owner; after that another instance may fire it.
const TIMER_LEASE_MS: i64 = 60_000;

/// How many due timers one `fire_due_timers` call takes on.
const TIMER_BATCH: u32 = 64;

/// How long a drill stays with the instance that recovered it, unless the engine is
/// given another lease: the longest antagonist reply under the default model settings
/// (`LlmConfig::longest_reply`: three requests, each up to three 30-second attempts with
/// at most 20 seconds of backoff between them), which also covers a debrief's one judge
/// call. Any shorter, and an instance starting while a slow reply is still being retried
/// would ask for it again; any longer, and a drill whose recovering instance crashed
/// waits longer for the next one to take it over.
pub const RECOVERY_LEASE: Duration = Duration::from_secs(3 * (3 * 30 + 2 * 20));

pub struct Engine {
    store: Arc<dyn Store>,
    /// Names this instance in timer and recovery claims, so a claim can be told apart
    /// and released.
    owner: String,
    /// How long a drill this instance recovered stays its own: long enough to get the
    /// reply it asked for, retries included, before another instance may ask again.
    recovery_lease_ms: i64,
}

/// The effects one drill needs performed, for the adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillEffects {
    pub drill: DrillId,
    pub effects: Vec<Effect>,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, owner_id: impl Into<String>) -> Engine {
        Engine {
            store,
            owner: owner_id.into(),
            recovery_lease_ms: millis(RECOVERY_LEASE),
        }
    }

    /// Holds recovered drills for `lease` instead of `RECOVERY_LEASE`; pass the model's
    /// `LlmConfig::longest_reply()` when its settings differ from the defaults.
    pub fn with_recovery_lease(mut self, lease: Duration) -> Engine {
        self.recovery_lease_ms = millis(lease);
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Stores a new drill in its briefing; `Event::Start` starts its clock.
    pub async fn start_drill(&self, drill: &NewDrill) -> Result<DrillRecord, StoreError> {
        self.store.create_drill(drill).await
    }

    /// Applies one event to a drill and returns what the adapter must do: ask the
    /// antagonist, notify, debrief, or (re)arm a timer (already stored as the drill's next
    /// due time). An event whose id was applied before returns no effects. The event's
    /// turns are committed before this returns, so the antagonist is only ever asked
    /// about a turn that is safely stored.
    pub async fn handle(
        &self,
        drill: &DrillId,
        event_id: Option<&str>,
        event: Event,
        now: EpochMillis,
    ) -> Result<Vec<Effect>, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let loaded = self.store.load_drill(drill).await?;
            let key = event_id.map(|id| EventKey {
                platform: loaded.record.platform.clone(),
                event_id: id.to_string(),
            });
            if let Some(key) = &key {
                if self.store.event_processed(key).await? {
                    return Ok(Vec::new());
                }
            }
            let mut state = rebuild(&loaded);
            let effects = state.handle(event.clone(), to_millis(now));
            let mut update = update_for(&loaded, &state, &effects, key, now);
            // This instance now owes the model call; one starting meanwhile must not repeat it.
            if effects
                .iter()
                .any(|e| matches!(e, Effect::AskAntagonist | Effect::Debrief))
            {
                update.claim = Some(RecoveryClaim {
                    owner: self.owner.clone(),
                    until: now.saturating_add(self.recovery_lease_ms),
                });
            }
            match self.store.commit(&update).await {
                Ok(Committed::Applied { .. }) => return Ok(for_adapter(effects)),
                Ok(Committed::Duplicate) => return Ok(Vec::new()),
                // Another instance changed the drill since we loaded it: apply the event
                // again to what it is now.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict(format!(
            "drill {drill} kept changing; the event was not applied after {MAX_ATTEMPTS} attempts"
        )))
    }

    /// Claims the drills whose timer is due (no other instance gets the same ones) and
    /// applies `Event::Tick` to each. A timer fires once even if claims race, because its
    /// tick carries an event id made of the drill and the due time.
    pub async fn fire_due_timers(&self, now: EpochMillis) -> Result<Vec<DrillEffects>, StoreError> {
        let due = self
            .store
            .claim_due_timers(&self.owner, now, TIMER_LEASE_MS, TIMER_BATCH)
            .await?;
        let mut fired = Vec::with_capacity(due.len());
        for timer in due {
            let event_id = format!("tick:{}:{}", timer.drill, timer.due_at);
            let outcome = self
                .handle(&timer.drill, Some(&event_id), Event::Tick, now)
                .await;
            // The commit normally releases the claim with the new timer; this covers a
            // tick that changed nothing or failed, so the timer is not stuck until expiry.
            self.store.release_timer(&timer.drill, &self.owner).await?;
            fired.push(DrillEffects {
                drill: timer.drill,
                effects: outcome?,
            });
        }
        Ok(fired)
    }

    /// After a restart: rebuilds every unfinished drill with `Drill::resume`, stores its
    /// re-armed timer (or the end its deadline brought), and returns what each still
    /// needs — a reply owed to the candidate, a debrief owed after the end. Each drill is
    /// claimed first (`Store::claim_recovery`); one that an instance claimed less than a
    /// lease ago is left to it, so instances starting together ask for a reply once.
    pub async fn recover(&self, now: EpochMillis) -> Result<Vec<DrillEffects>, StoreError> {
        let mut recovered = Vec::new();
        for listed in self.store.load_live_drills().await? {
            if listed.record.phase == Phase::Briefing {
                // Nothing runs in a briefing; it waits for its candidate's start.
                continue;
            }
            let drill = listed.record.id;
            let claimed = self
                .store
                .claim_recovery(&drill, &self.owner, now, self.recovery_lease_ms)
                .await?;
            if !claimed {
                continue;
            }
            if let Some(effects) = self.resume(&drill, now).await? {
                recovered.push(effects);
            }
        }
        Ok(recovered)
    }

    /// Resumes a drill this instance has claimed. A conflict means another instance
    /// applied an event in between; the drill is reloaded and resumed again, but only the
    /// reply and debrief that were owed when it was claimed are asked for (see `ours`).
    async fn resume(
        &self,
        drill: &DrillId,
        now: EpochMillis,
    ) -> Result<Option<DrillEffects>, StoreError> {
        // Loaded again now the claim is held, so what it owes is what the claim covers.
        let claimed = match self.store.load_drill(drill).await {
            Ok(loaded) => loaded,
            // Forgotten since it was listed.
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        if claimed.record.phase.is_over() {
            return Ok(None);
        }
        let mut owed_reply = None;
        let mut loaded = claimed.clone();
        for _ in 0..MAX_ATTEMPTS {
            let record = &loaded.record;
            let (state, effects) = Drill::resume(
                record.settings.clone(),
                record.phase,
                record.started_at.map(to_millis),
                loaded.plain_turns(),
                to_millis(now),
            );
            let owed_reply =
                *owed_reply.get_or_insert_with(|| effects.contains(&Effect::AskAntagonist));
            let effects = ours(&claimed, owed_reply, &loaded, effects);
            let update = update_for(&loaded, &state, &effects, None, now);
            match self.store.commit(&update).await {
                Ok(_) => {
                    return Ok(Some(DrillEffects {
                        drill: drill.clone(),
                        effects: for_adapter(effects),
                    }));
                }
                Err(StoreError::Conflict(_)) => {
                    loaded = self.store.load_drill(drill).await?;
                    if loaded.record.phase.is_over() {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}

/// The effects of resuming `current` that are this instance's to perform, given the drill
/// as it was `claimed` and whether a reply was owed then. Whoever changed the drill in
/// between applied an event through `Engine::handle`, which already returned any reply
/// or debrief that event made owed: a candidate's turn that found no reply pending asked
/// for one, and an end asked for the debrief. So a reply is asked for here only if it was
/// owed when claimed and the antagonist has not spoken since (a candidate's further turns
/// ask for nothing while a reply is pending), and a debrief only unless another instance
/// ended the drill. On the first attempt `current` is `claimed` and nothing is dropped.
fn ours(
    claimed: &LoadedDrill,
    owed_reply: bool,
    current: &LoadedDrill,
    effects: Vec<Effect>,
) -> Vec<Effect> {
    let answered = current
        .turns
        .iter()
        .skip(claimed.turns.len())
        .any(|t| t.turn.role == Role::Antagonist);
    let ended_by_another =
        claimed.record.phase == Phase::Live && current.record.phase == Phase::WrapUp;
    effects
        .into_iter()
        .filter(|effect| match effect {
            Effect::AskAntagonist => owed_reply && !answered,
            Effect::Debrief => !ended_by_another,
            _ => true,
        })
        .collect()
}

/// The drill as it stood after its last event: resuming at that event's moment rebuilds
/// the warnings already given, so the next event neither repeats nor skips one.
fn rebuild(loaded: &LoadedDrill) -> Drill {
    let record = &loaded.record;
    let (drill, _) = Drill::resume(
        record.settings.clone(),
        record.phase,
        record.started_at.map(to_millis),
        loaded.plain_turns(),
        to_millis(record.clock_at),
    );
    drill
}

/// Everything the effects ask to store, as one update of the loaded version.
fn update_for(
    loaded: &LoadedDrill,
    state: &Drill,
    effects: &[Effect],
    event: Option<EventKey>,
    now: EpochMillis,
) -> DrillUpdate {
    let record = &loaded.record;
    changes(
        Base {
            drill: &record.id,
            version: record.version,
            started: record.started_at.is_some(),
        },
        state,
        effects,
        |role| loaded.member(role).map(|m| m.id),
        event,
        now,
    )
}

/// The stored drill an update applies to.
struct Base<'a> {
    drill: &'a DrillId,
    version: i64,
    /// Whether the store already has the start time (it is written once).
    started: bool,
}

fn changes(
    base: Base<'_>,
    state: &Drill,
    effects: &[Effect],
    author: impl Fn(Role) -> Option<PersonId>,
    event: Option<EventKey>,
    now: EpochMillis,
) -> DrillUpdate {
    let mut update = DrillUpdate {
        drill: base.drill.clone(),
        expected_version: base.version,
        at: now,
        event,
        ..DrillUpdate::default()
    };
    for effect in effects {
        match effect {
            Effect::PersistTurn { index, turn } => update.turns.push(StoredTurn {
                index: *index,
                turn: turn.clone(),
                author: author(turn.role),
            }),
            Effect::PersistPhase(phase) => update.phase = Some(*phase),
            Effect::ArmTimer { at } => update.timer = TimerChange::Set(to_epoch(*at)),
            _ => {}
        }
    }
    if !base.started {
        update.started_at = state.started_at().map(to_epoch);
        update.ends_at = state.deadline().map(to_epoch);
    }
    if state.phase() != Phase::Live {
        // Only a live drill has a clock to watch.
        update.timer = TimerChange::Clear;
    }
    update
}

/// Saves a drill that runs in this process, such as `spar practice` in the terminal:
/// the caller keeps the `Drill` and, after each `Drill::handle`, passes its effects here
/// before performing them, so every turn is stored before the antagonist is asked.
pub struct Journal {
    store: Arc<dyn Store>,
    drill: DrillId,
    version: i64,
    started: bool,
    /// Who said each role's turns, from the drill's participants.
    authors: Vec<(Role, PersonId)>,
}

impl Journal {
    /// Stores the new drill (in its briefing) with its participants.
    pub async fn begin(store: Arc<dyn Store>, drill: &NewDrill) -> Result<Journal, StoreError> {
        let record = store.create_drill(drill).await?;
        let mut authors = Vec::new();
        for participant in &drill.participants {
            authors.push((
                participant.role,
                store.ensure_person(&participant.person).await?,
            ));
        }
        Ok(Journal {
            store,
            drill: record.id,
            version: record.version,
            started: false,
            authors,
        })
    }

    pub fn drill_id(&self) -> &DrillId {
        &self.drill
    }

    /// Commits what `effects` ask to store (turns, phase, timer) in one transaction.
    /// `state` is the drill after the `handle` call that returned them.
    pub async fn record(
        &mut self,
        state: &Drill,
        effects: &[Effect],
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let update = changes(
            Base {
                drill: &self.drill,
                version: self.version,
                started: self.started,
            },
            state,
            effects,
            |role| {
                self.authors
                    .iter()
                    .find(|(r, _)| *r == role)
                    .map(|(_, id)| *id)
            },
            None,
            now,
        );
        if let Committed::Applied { version } = self.store.commit(&update).await? {
            self.version = version;
        }
        self.started |= update.started_at.is_some();
        Ok(())
    }

    /// Records the tokens a model call spent on this drill.
    pub async fn record_llm_usage(
        &self,
        model: &str,
        prompt_tokens: i64,
        completion_tokens: i64,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        self.store
            .record_llm_usage(&self.drill, model, prompt_tokens, completion_tokens, now)
            .await
    }

    /// Stores the debrief's scorecard JSON (with its flags and dimensions as rows).
    pub async fn save_scorecard(
        &self,
        scorecard: serde_json::Value,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let scorecard = StoredScorecard::from_json(scorecard)?;
        self.store
            .save_scorecard(&self.drill, &scorecard, now)
            .await
    }
}

/// The effects left for the adapter once storing is done.
fn for_adapter(effects: Vec<Effect>) -> Vec<Effect> {
    effects
        .into_iter()
        .filter(|e| !matches!(e, Effect::PersistTurn { .. } | Effect::PersistPhase(_)))
        .collect()
}

fn to_millis(at: EpochMillis) -> Millis {
    Millis::try_from(at).unwrap_or(0)
}

/// A lease in the store's unit.
fn millis(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

fn to_epoch(at: Millis) -> EpochMillis {
    EpochMillis::try_from(at).unwrap_or(EpochMillis::MAX)
}
