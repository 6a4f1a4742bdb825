//! The drill engine for chat adapters: applies events to drills kept in the store, so any
//! instance can handle any drill and a restart loses nothing. Each event is loaded,
//! applied by `spar_core::drill::Drill`, and its turns, phase, timer and event id are
//! committed in one transaction before the adapter is told what to do next. The drill
//! logic stays in the core; this only moves state between it and the store.

use spar_core::Role;
use spar_core::drill::{Drill, Effect, Event, Millis, Mode, Phase};
use spar_core::store::{
    Committed, DrillId, DrillRecord, DrillUpdate, EpochMillis, EventKey, LoadedDrill, NewDrill,
    PersonId, PersonRef, RecoveryClaim, Store, StoreError, StoredTurn, TimerChange,
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
    /// The platforms whose drills this instance fires timers for and recovers: the ones
    /// it can post to. A chat instance never takes over a terminal drill.
    platforms: Vec<String>,
    /// How long a drill this instance recovered stays its own: long enough to get the
    /// reply it asked for, retries included, before another instance may ask again.
    recovery_lease_ms: i64,
    /// Set once this instance has let go of its claims on stopping: from then on it
    /// commits nothing, so work still under way cannot race the instance taking over.
    closed: std::sync::atomic::AtomicBool,
}

/// Who an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender<'a> {
    /// This process: a timer, a recovery, the antagonist it asked, or a surface whose one
    /// user is the process's own (the terminal). Trusted with any event.
    System,
    /// A person on a chat platform, checked against the drill's participants.
    Person(&'a PersonRef),
}

/// Why an event was not applied.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sender takes no part in the drill: a stranger in a drill's thread.
    #[error("{person} takes no part in drill {drill}")]
    NotParticipant { drill: DrillId, person: String },
    /// The sender takes part, but not in the role the event needs (an observer cannot
    /// speak as the candidate; a person cannot speak for the engine's antagonist).
    #[error("{person} cannot {act} in drill {drill}")]
    NotAllowed {
        drill: DrillId,
        person: String,
        act: &'static str,
    },
}

/// The effects one drill needs performed, for the adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillEffects {
    pub drill: DrillId,
    pub effects: Vec<Effect>,
}

/// A drill a sweep could not handle, and why; the others' effects are kept.
#[derive(Debug)]
pub struct DrillFailure {
    pub drill: DrillId,
    pub error: EngineError,
}

/// What a sweep over many drills (due timers, recovery) leaves to perform: one drill's
/// failure never costs the others their committed effects.
#[derive(Debug, Default)]
pub struct Sweep {
    pub drills: Vec<DrillEffects>,
    pub failures: Vec<DrillFailure>,
}

/// What applying an event left to do, and the drill as it now stands in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub effects: Vec<Effect>,
    /// The drill as this event's commit left it, so the effects' work (asking the
    /// antagonist) starts from it without reading the drill again; `None` when the event
    /// had been applied before and nothing was written.
    pub drill: Option<LoadedDrill>,
}

/// What an event asks of the drill: a given event, or words whose event depends on who
/// says them (the candidate's turn, the antagonist player's line, an observer's note).
#[derive(Debug, Clone, PartialEq)]
enum Act {
    Event(Event),
    Say(String),
}

impl Engine {
    /// An engine for the drills of `platforms` (`terminal`, `discord`, `slack`).
    pub fn new(store: Arc<dyn Store>, owner_id: impl Into<String>, platforms: &[&str]) -> Engine {
        Engine {
            store,
            owner: owner_id.into(),
            platforms: platforms.iter().map(|p| (*p).to_string()).collect(),
            recovery_lease_ms: millis(RECOVERY_LEASE),
            closed: std::sync::atomic::AtomicBool::new(false),
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

    /// The name this instance claims timers and recoveries under.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Stores a new drill in its briefing; `Event::Start` starts its clock.
    pub async fn start_drill(&self, drill: &NewDrill) -> Result<DrillRecord, StoreError> {
        self.store.create_drill(drill).await
    }

    /// Applies one event to a drill and returns what the adapter must do: ask the
    /// antagonist, notify, debrief, or (re)arm a timer (already stored as the drill's next
    /// due time). An event whose id was applied before returns no effects. The event's
    /// turns are committed before this returns, so the antagonist is only ever asked
    /// about a turn that is safely stored. A person's event is checked against the
    /// drill's participants first.
    pub async fn handle(
        &self,
        drill: &DrillId,
        event_id: Option<&str>,
        sender: Sender<'_>,
        event: Event,
        now: EpochMillis,
    ) -> Result<Vec<Effect>, EngineError> {
        self.apply(drill, None, event_id, sender, Act::Event(event), now)
            .await
            .map(|applied| applied.effects)
    }

    /// `handle`, applied first to `loaded`, a copy of the drill the caller has read or
    /// been left by an earlier commit: it saves reading the drill again, and costs nothing
    /// when the drill changed since, because the commit then meets a newer version and the
    /// event is applied again to the drill as it is now. Returns the drill as committed.
    pub async fn handle_loaded(
        &self,
        loaded: LoadedDrill,
        event_id: Option<&str>,
        sender: Sender<'_>,
        event: Event,
        now: EpochMillis,
    ) -> Result<Applied, EngineError> {
        let drill = loaded.record.id.clone();
        self.apply(
            &drill,
            Some(loaded),
            event_id,
            sender,
            Act::Event(event),
            now,
        )
        .await
    }

    /// A person's message in a drill's thread: the candidate's turn, the antagonist
    /// player's line in a peer drill, or an observer's note, by the part they play.
    pub async fn say(
        &self,
        drill: &DrillId,
        event_id: Option<&str>,
        person: &PersonRef,
        text: String,
        now: EpochMillis,
    ) -> Result<Vec<Effect>, EngineError> {
        self.apply(
            drill,
            None,
            event_id,
            Sender::Person(person),
            Act::Say(text),
            now,
        )
        .await
        .map(|applied| applied.effects)
    }

    /// `say`, applied first to `loaded` (see `handle_loaded`): a message's drill is read
    /// once, by the lookup that found it from its thread. Returns the drill as committed.
    pub async fn say_loaded(
        &self,
        loaded: LoadedDrill,
        event_id: Option<&str>,
        person: &PersonRef,
        text: String,
        now: EpochMillis,
    ) -> Result<Applied, EngineError> {
        let drill = loaded.record.id.clone();
        self.apply(
            &drill,
            Some(loaded),
            event_id,
            Sender::Person(person),
            Act::Say(text),
            now,
        )
        .await
    }

    /// Loads the drill (or takes `first`), applies the event and commits it. A repeated
    /// event id is recognised by the commit itself, which records the id first and finds
    /// it there, so no separate look-up is needed: a redelivery changes nothing and
    /// returns no effects.
    async fn apply(
        &self,
        drill: &DrillId,
        mut first: Option<LoadedDrill>,
        event_id: Option<&str>,
        sender: Sender<'_>,
        act: Act,
        now: EpochMillis,
    ) -> Result<Applied, EngineError> {
        for _ in 0..MAX_ATTEMPTS {
            let loaded = match first.take() {
                Some(loaded) => loaded,
                None => self.store.load_drill(drill).await?,
            };
            let (event, author) = authorise(&loaded, sender, &act)?;
            let key = event_id.map(|id| EventKey {
                platform: loaded.record.platform.clone(),
                event_id: id.to_string(),
            });
            let mut state = rebuild(&loaded);
            let effects = state.handle(event, to_millis(now));
            let mut update = update_for(&loaded, &state, &effects, author, key, now);
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
            self.refuse_if_closed()?;
            match self.store.commit(&update).await {
                Ok(Committed::Applied { version }) => {
                    return Ok(Applied {
                        effects: for_adapter(effects),
                        drill: Some(loaded.committed(&update, version)),
                    });
                }
                Ok(Committed::Duplicate) => {
                    return Ok(Applied {
                        effects: Vec::new(),
                        drill: None,
                    });
                }
                // Another instance changed the drill since we loaded it: apply the event
                // again to what it is now.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!(
            "drill {drill} kept changing; the event was not applied after {MAX_ATTEMPTS} attempts"
        ))
        .into())
    }

    /// Stops committing and lets go of every timer and recovery claim this instance
    /// holds, so another instance takes those drills over at once (its next recovery
    /// sweep finds them unclaimed) instead of when the leases run out: the last thing a
    /// stopping instance does. A reply still under way here can no longer be stored, so
    /// it cannot race the one the other instance asks for. Returns how many drills were
    /// let go of.
    pub async fn close_and_release(&self) -> Result<u64, StoreError> {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.store.release_claims(&self.owner).await
    }

    fn refuse_if_closed(&self) -> Result<(), StoreError> {
        if self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Unavailable {
                message: "this instance is stopping and has handed its drills over".into(),
                cause: None,
            });
        }
        Ok(())
    }

    /// The platforms this engine serves.
    pub fn platforms(&self) -> &[String] {
        &self.platforms
    }

    /// Claims the drills whose timer is due (no other instance gets the same ones) and
    /// applies `Event::Tick` to each. A timer fires once even if claims race, because its
    /// tick carries an event id made of the drill and the due time. Only the claim itself
    /// failing is an error; a drill whose tick failed is reported in the sweep and the
    /// others' effects are kept.
    pub async fn fire_due_timers(&self, now: EpochMillis) -> Result<Sweep, StoreError> {
        let due = self
            .store
            .claim_due_timers(
                &self.owner,
                &self.platforms,
                now,
                TIMER_LEASE_MS,
                TIMER_BATCH,
            )
            .await?;
        let mut sweep = Sweep::default();
        for timer in due {
            let event_id = format!("tick:{}:{}", timer.drill, timer.due_at);
            let outcome = self
                .handle(
                    &timer.drill,
                    Some(&event_id),
                    Sender::System,
                    Event::Tick,
                    now,
                )
                .await;
            // The commit normally releases the claim with the new timer; this covers a
            // tick that changed nothing or failed, so the timer is not stuck until expiry.
            if let Err(e) = self.store.release_timer(&timer.drill, &self.owner).await {
                // The tick's effects are committed and must still be performed; the claim
                // lapses with its lease.
                tracing::warn!(drill = %timer.drill, error = %e, "could not release a timer claim");
            }
            match outcome {
                Ok(effects) => sweep.drills.push(DrillEffects {
                    drill: timer.drill,
                    effects,
                }),
                Err(error) => sweep.failures.push(DrillFailure {
                    drill: timer.drill,
                    error,
                }),
            }
        }
        Ok(sweep)
    }

    /// After a restart: rebuilds every unfinished drill of this instance's platforms with
    /// `Drill::resume`, stores its re-armed timer (or the end its deadline brought), and
    /// returns what each still needs — a reply owed to the candidate, a debrief owed
    /// after the end. Each drill is claimed first (`Store::claim_recovery`); one that an
    /// instance claimed less than a lease ago is left to it, so instances starting
    /// together ask for a reply once. Run it at start and then periodically, so a drill
    /// whose instance died is picked up by another. Only listing the drills failing is
    /// an error; a drill that could not be recovered is reported in the sweep.
    pub async fn recover(&self, now: EpochMillis) -> Result<Sweep, StoreError> {
        let mut sweep = Sweep::default();
        for listed in self.store.load_live_drills(&self.platforms).await? {
            if listed.record.phase == Phase::Briefing {
                // Nothing runs in a briefing; it waits for its candidate's start.
                continue;
            }
            let drill = listed.record.id;
            let outcome = async {
                let claimed = self
                    .store
                    .claim_recovery(&drill, &self.owner, now, self.recovery_lease_ms)
                    .await?;
                if claimed {
                    self.resume(&drill, now).await
                } else {
                    Ok(None)
                }
            }
            .await;
            match outcome {
                Ok(Some(effects)) => sweep.drills.push(effects),
                Ok(None) => {}
                Err(error) => sweep.failures.push(DrillFailure {
                    drill,
                    error: error.into(),
                }),
            }
        }
        Ok(sweep)
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
            let update = update_for(&loaded, &state, &effects, None, None, now);
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
/// `author` is who said the event's turn, when a person did; otherwise a turn is
/// credited to the drill's participant playing its role, if any.
fn update_for(
    loaded: &LoadedDrill,
    state: &Drill,
    effects: &[Effect],
    author: Option<PersonId>,
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
        |role| author.or_else(|| loaded.member(role).map(|m| m.id)),
        event,
        now,
    )
}

/// The event `act` becomes when `sender` does it, and the person to credit its turn to;
/// or why the sender may not. The process itself may do anything. A person must take
/// part in the drill, and says turns only in their own part: the candidate's turns, the
/// antagonist's lines when a person plays it (a peer drill), observers' notes. Ending and
/// asking the time are open to the candidate and the antagonist player; the clock, the
/// engine's replies and the drill's bookkeeping belong to the process.
fn authorise(
    loaded: &LoadedDrill,
    sender: Sender<'_>,
    act: &Act,
) -> Result<(Event, Option<PersonId>), EngineError> {
    let person = match sender {
        Sender::System => {
            return match act {
                Act::Event(event) => Ok((event.clone(), None)),
                // Words need a speaker; the process speaks only through explicit events.
                Act::Say(text) => Ok((Event::CandidateSaid(text.clone()), None)),
            };
        }
        Sender::Person(person) => person,
    };
    let drill = &loaded.record.id;
    let who = || format!("{}:{}", person.platform, person.platform_user_id);
    let member = loaded
        .participants
        .iter()
        .find(|m| {
            m.person.platform == person.platform
                && m.person.platform_user_id == person.platform_user_id
        })
        .ok_or_else(|| EngineError::NotParticipant {
            drill: drill.clone(),
            person: who(),
        })?;
    let peer = loaded.record.settings.mode == Mode::Peer;
    let refuse = |act: &'static str| EngineError::NotAllowed {
        drill: drill.clone(),
        person: who(),
        act,
    };
    let event = match act {
        Act::Say(text) => match member.role {
            Role::Candidate => Event::CandidateSaid(text.clone()),
            Role::Antagonist if peer => Event::AntagonistSaid(text.clone()),
            Role::Antagonist => return Err(refuse("speak for the antagonist")),
            Role::Observer => Event::ObserverSaid(text.clone()),
        },
        Act::Event(event) => {
            let allowed = match event {
                Event::CandidateSaid(_) => member.role == Role::Candidate,
                Event::AntagonistSaid(_) => peer && member.role == Role::Antagonist,
                // Only the process asks the engine's antagonist.
                Event::AntagonistAnswered { .. } => false,
                Event::ObserverSaid(_) => member.role == Role::Observer,
                Event::Start | Event::End | Event::AskTime | Event::Abandon => {
                    member.role != Role::Observer
                }
                Event::Tick | Event::Debriefed => false,
            };
            if !allowed {
                return Err(refuse(event_name(event)));
            }
            event.clone()
        }
    };
    Ok((event, Some(member.id)))
}

fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Start => "start the clock",
        Event::CandidateSaid(_) => "speak as the candidate",
        Event::AntagonistSaid(_) | Event::AntagonistAnswered { .. } => "speak for the antagonist",
        Event::ObserverSaid(_) => "speak as an observer",
        Event::Tick => "fire the clock",
        Event::End => "end the drill",
        Event::Abandon => "abandon the drill",
        Event::Debriefed => "close the debrief",
        Event::AskTime => "ask the time",
    }
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
