//! `Runtime`: runs drills in chat. Every message and command becomes an `Engine` event
//! keyed by the platform's own id, so a redelivery changes nothing and any instance can
//! take any event; the effects are performed here, the same for every surface. One clock
//! loop per instance fires due timers about once a second and recovers, now and then,
//! drills whose instance died.

use super::commands::same_person;
use super::{
    Action, Attachment, BriefView, Button, ChatSurface, Command, ConfigChange, Invocation, Reply,
    ScorecardView, SurfaceError, stream,
};
use crate::antagonist::{Cast, Play};
use crate::debrief::Debriefer;
use crate::engine::{Applied, Engine, EngineError, Sender, Sweep};
use crate::notice::{budget_spent, describe};
use spar_core::drill::{DrillSettings, Effect, Event, Mode, Notice, Phase, Recipient};
use spar_core::scenario::{Difficulty, Scenario, ScenarioLibrary};
use spar_core::scoring::render;
use spar_core::store::{
    ChatPlace, DrillId, DrillRecord, EpochMillis, EventKey, LoadedDrill, NewDrill, Participant,
    PersonRef, StoreError, StoredScorecard, UtcDay, WorkspaceConfig,
};
use spar_core::transcript::{Role, Transcript};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::Instrument as _;

/// Where the runtime reads the time; tests pass one they move by hand.
pub trait Clock: Send + Sync {
    fn now(&self) -> EpochMillis;
}

/// The system clock.
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> EpochMillis {
        crate::store::now_ms()
    }
}

/// How the runtime paces itself; the defaults suit production.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// The shortest time between two edits of a streamed reply (edits are rate limited).
    pub edit_interval: Duration,
    /// How often the typing indicator is renewed while the antagonist composes.
    pub typing_interval: Duration,
    /// How often due timers are looked for.
    pub tick_interval: Duration,
    /// How often drills whose instance died are looked for.
    pub recover_interval: Duration,
    /// The most candidate replies in one drill.
    pub max_turns: u32,
    /// Overrides every scenario's time limit, for short sessions.
    pub time_limit_s: Option<u32>,
    /// The model tokens one workspace may spend per UTC day, where its admins set none;
    /// `None`: no limit.
    pub daily_token_budget: Option<u64>,
    /// How often the store's counts (drills by phase) are sampled into the metrics: a
    /// scrape reads the last sample, so scrapes never query the store.
    pub sample_interval: Duration,
    /// How often processed event ids older than `event_retention` are pruned.
    pub prune_interval: Duration,
    /// How long a processed event id is kept: longer than any platform redelivers an
    /// event (Slack retries for about an hour, a Discord session resumes within minutes).
    pub event_retention: Duration,
}

impl Default for RuntimeOptions {
    fn default() -> RuntimeOptions {
        RuntimeOptions {
            edit_interval: Duration::from_secs(1),
            typing_interval: Duration::from_secs(8),
            tick_interval: Duration::from_secs(1),
            recover_interval: Duration::from_secs(30),
            max_turns: 40,
            time_limit_s: None,
            daily_token_budget: None,
            sample_interval: Duration::from_secs(15),
            prune_interval: Duration::from_secs(600),
            event_retention: Duration::from_secs(48 * 3600),
        }
    }
}

/// A message someone posted where a drill may be running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The platform's id for the message (Discord message id, Slack event id).
    pub event_id: String,
    pub author: PersonRef,
    /// Bots' messages, the bot's own included, are never turns.
    pub from_bot: bool,
    /// The thread it was posted in: a Discord thread's channel id, a Slack `thread_ts`.
    pub thread: String,
    /// The channel, where thread ids are unique only within one (Slack).
    pub channel: Option<String>,
    pub text: String,
}

/// Effects a command or sweep committed and that must now be performed, after the reply.
#[derive(Debug, Clone)]
pub struct Pending {
    pub drill: DrillRecord,
    pub effects: Vec<Effect>,
    /// Who caused them, for notices meant only for them.
    pub sender: Option<PersonRef>,
    /// The drill whole, as the commit that set these effects going left it, when the
    /// runtime has it: the antagonist is then asked without reading the drill again. A
    /// change made meanwhile (another instance, a second message) is met by the reply's
    /// commit, which then applies the reply to the drill as it is and asks again for any
    /// turn the reply did not see.
    pub current: Option<LoadedDrill>,
}

/// A command's answer, and the drill work it set going.
#[derive(Debug, Clone)]
pub struct Handled {
    pub reply: Reply,
    pub then: Option<Pending>,
}

impl Handled {
    pub(super) fn reply(reply: Reply) -> Handled {
        Handled { reply, then: None }
    }
}

/// Why an effect could not be performed.
#[derive(Debug, thiserror::Error)]
pub(super) enum Failure {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Surface(#[from] SurfaceError),
    #[error("{0}")]
    Other(String),
}

impl Failure {
    /// The kind of error, as the metrics count it.
    fn kind(&self) -> &'static str {
        match self {
            Failure::Engine(EngineError::Store(_)) | Failure::Store(_) => "store",
            Failure::Engine(_) => "engine",
            Failure::Surface(_) => "surface",
            Failure::Other(_) => "other",
        }
    }
}

pub struct Runtime {
    pub(super) engine: Engine,
    pub(super) surfaces: Vec<Arc<dyn ChatSurface>>,
    pub(super) library: ScenarioLibrary,
    cast: Cast,
    pub(super) debriefer: Debriefer,
    /// The same scorer without the judge: the debrief of a drill over its budget.
    unjudged: Debriefer,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) options: RuntimeOptions,
    /// What the cast remembers of each drill this instance answers.
    plays: Mutex<HashMap<DrillId, Play>>,
    /// The words of peer drills, loaded on first use.
    pub(super) peer_text: std::sync::OnceLock<spar_core::peer::PeerText>,
    /// What operators see of this instance.
    pub(super) metrics: Arc<crate::metrics::Metrics>,
    /// Work under way (messages being applied, effects being performed), so a stopping
    /// instance can let it finish.
    busy: Busy,
}

/// Counts work under way, and wakes whoever waits for none to be left.
#[derive(Default)]
struct Busy {
    count: std::sync::atomic::AtomicUsize,
    stopping: std::sync::atomic::AtomicBool,
    idle: tokio::sync::Notify,
}

/// Held while a piece of work runs.
struct Working<'a>(&'a Busy);

impl Drop for Working<'_> {
    fn drop(&mut self) {
        if self
            .0
            .count
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
            == 1
        {
            self.0.idle.notify_waiters();
        }
    }
}

impl Busy {
    /// `None` once the instance is stopping: no new work starts.
    fn start(&self) -> Option<Working<'_>> {
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(Working(self))
    }
}

impl Runtime {
    /// A runtime for `surfaces`; the engine must serve exactly their platforms.
    pub fn new(
        engine: Engine,
        surfaces: Vec<Arc<dyn ChatSurface>>,
        library: ScenarioLibrary,
        cast: Cast,
        debriefer: Debriefer,
        clock: Arc<dyn Clock>,
        options: RuntimeOptions,
    ) -> Runtime {
        Runtime {
            engine,
            surfaces,
            library,
            cast,
            unjudged: Debriefer::new(debriefer.scorer().clone(), None),
            debriefer,
            clock,
            options,
            plays: Mutex::new(HashMap::new()),
            peer_text: std::sync::OnceLock::new(),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            busy: Busy::default(),
        }
    }

    /// Stops taking new work and waits, at most `within`, for the work under way to
    /// finish; returns how much was still running then. What did not finish stays owed in
    /// the store, for another instance to pick up.
    pub async fn drain(&self, within: Duration) -> usize {
        use std::sync::atomic::Ordering;
        self.busy.stopping.store(true, Ordering::SeqCst);
        let idle = async {
            loop {
                let notified = self.busy.idle.notified();
                if self.busy.count.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(within, idle).await;
        self.busy.count.load(Ordering::SeqCst)
    }

    /// Counts into `metrics` (which `spar serve` also serves) instead of its own.
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Runtime {
        self.metrics = metrics;
        self
    }

    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.metrics
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn library(&self) -> &ScenarioLibrary {
        &self.library
    }

    pub(super) fn surface(&self, platform: &str) -> Option<&Arc<dyn ChatSurface>> {
        self.surfaces.iter().find(|s| s.platform() == platform)
    }

    // ----- what arrives from a surface -----

    /// A message on `platform`: a turn when its author takes part in the drill running in
    /// its thread; ignored otherwise (no drill there, a bot, a stranger in a solo drill).
    pub async fn message(&self, platform: &str, message: Message) {
        if let Some(pending) = self.accept(platform, message).await {
            self.perform(pending).await;
        }
    }

    /// Applies a message as `message` does, and returns the work it set going (the
    /// antagonist's reply) instead of performing it: for a surface that acknowledges a
    /// delivery once its turn is stored, and answers after.
    pub async fn accept(&self, platform: &str, message: Message) -> Option<Pending> {
        let _working = self.busy.start()?;
        let span = tracing::info_span!(
            "chat_event",
            platform,
            workspace = tracing::field::Empty,
            channel = %message.channel.as_deref().unwrap_or(&message.thread),
            drill = tracing::field::Empty,
        );
        async {
            if message.from_bot {
                return None;
            }
            let store = self.engine.store();
            // The drill is read once, whole, by the look-up; the engine applies the
            // message to that copy (and reads again only if the drill changed meanwhile).
            let loaded = match store
                .load_live_drill_in(platform, &message.thread, message.channel.as_deref())
                .await
            {
                Ok(Some(loaded)) => loaded,
                Ok(None) => return None,
                Err(e) => {
                    tracing::error!(error = %e, "could not look up the drill of a thread");
                    return None;
                }
            };
            let drill = loaded.record.clone();
            tracing::Span::current()
                .record("drill", drill.id.as_str())
                .record("workspace", drill.workspace_external_id.as_str());
            let now = self.clock.now();
            tracing::debug!(message = %message.event_id, "a message in a drill's thread");
            match self
                .engine
                .say_loaded(
                    loaded,
                    Some(&message.event_id),
                    &message.author,
                    message.text,
                    now,
                )
                .await
            {
                Ok(Applied {
                    effects,
                    drill: current,
                }) => {
                    tracing::debug!(effects = effects.len(), "the message was applied");
                    self.metrics.turns.with_label_values(&[platform]).inc();
                    if drill.settings.mode == Mode::Peer {
                        self.posted_in_round(&drill.id, &message.author).await;
                    }
                    Some(Pending {
                        drill,
                        effects,
                        sender: Some(message.author),
                        current,
                    })
                }
                Err(EngineError::NotParticipant { .. } | EngineError::NotAllowed { .. }) => {
                    tracing::debug!("a message from someone not playing in the drill was ignored");
                    None
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not apply a message");
                    None
                }
            }
        }
        .instrument(span)
        .await
    }

    /// The thread of a drill was deleted or archived: the drill is abandoned, and kept.
    pub async fn thread_gone(&self, platform: &str, thread: &str, channel: Option<&str>) {
        let store = self.engine.store();
        match store.live_drill_in(platform, thread, channel).await {
            Ok(Some(drill)) => self.abandon(&drill).await,
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "could not look up the drill of a closed thread"),
        }
    }

    /// A whole channel was archived or deleted (Slack: its drills' threads hang from
    /// messages in it): every drill still running there is abandoned, and kept.
    pub async fn channel_gone(&self, platform: &str, channel: &str) {
        let store = self.engine.store();
        let live = match store.load_live_drills(&[platform.to_string()]).await {
            Ok(live) => live,
            Err(e) => {
                tracing::error!(error = %e, channel, "could not look up the drills of a closed channel");
                return;
            }
        };
        for loaded in live {
            let drill = &loaded.record;
            if drill.place.as_ref().is_some_and(|p| p.channel == channel) {
                tracing::info!(drill = %drill.id, channel, "the drill's channel is gone; the drill is abandoned");
                self.abandon(drill).await;
            }
        }
    }

    /// A `/spar` command. The reply is for the surface to send at once; `then` is work to
    /// perform after it (the antagonist's opening, a debrief).
    pub async fn command(&self, invocation: &Invocation, command: Command) -> Handled {
        let span = tracing::info_span!(
            "chat_event",
            platform = %invocation.workspace.platform,
            workspace = %invocation.workspace.external_id,
            channel = %invocation.channel,
            drill = tracing::field::Empty,
        );
        async {
            let Some(_working) = self.busy.start() else {
                return Handled::reply(Reply::private(
                    "Spar is restarting; try again in a moment.",
                ));
            };
            let outcome = match command {
                Command::Solo {
                    scenario,
                    difficulty,
                } => {
                    let channel = invocation
                        .parent_channel
                        .as_deref()
                        .unwrap_or(&invocation.channel);
                    self.solo(
                        invocation,
                        scenario.as_deref(),
                        difficulty.as_deref(),
                        channel,
                    )
                    .await
                }
                Command::End => self.end(invocation).await,
                Command::Scenarios => Ok(Handled::reply(Reply::private(self.scenario_list()))),
                Command::History => self.history(invocation).await,
                Command::Stats => self.stats(invocation).await,
                Command::Forget => self.forget(invocation).await,
                Command::Help => Ok(Handled::reply(Reply::private(super::commands::help()))),
                Command::Config(change) => self.config(invocation, change).await,
                Command::Join {
                    scenario,
                    difficulty,
                    solo_if_alone,
                } => {
                    self.join(
                        invocation,
                        scenario.as_deref(),
                        difficulty.as_deref(),
                        solo_if_alone,
                    )
                    .await
                }
                Command::Leave => self.leave(invocation).await,
                Command::Pair => self.pair(invocation).await,
                Command::Rounds(rounds) => self.rounds(invocation, rounds).await,
            };
            self.answer_failure(outcome)
        }
        .instrument(span)
        .await
    }

    /// A button click.
    pub async fn action(&self, invocation: &Invocation, action: Action) -> Handled {
        let outcome = match action {
            Action::Transcript(drill) => self.transcript(invocation, &drill).await,
            Action::DrillAgain(drill) => self.drill_again(invocation, &drill).await,
            Action::ForgetConfirmed => self.forget_confirmed(invocation).await,
            Action::Rate(drill) => self.rating_help(invocation, &drill).await,
            Action::SwapRoles(drill) => self.swap_roles(invocation, &drill).await,
            Action::Brief(drill) => self.show_brief(invocation, &drill).await,
        };
        self.answer_failure(outcome)
    }

    pub(super) fn answer_failure(&self, outcome: Result<Handled, Failure>) -> Handled {
        outcome.unwrap_or_else(|e| {
            tracing::error!(error = %e, "a command failed");
            Handled::reply(Reply::private(
                "Something went wrong on Spar's side and nothing was changed; please try again in a moment.",
            ))
        })
    }

    // ----- commands -----

    async fn solo(
        &self,
        inv: &Invocation,
        scenario: Option<&str>,
        difficulty: Option<&str>,
        channel: &str,
    ) -> Result<Handled, Failure> {
        let platform = inv.workspace.platform.as_str();
        let Some(surface) = self.surface(platform) else {
            return Err(Failure::Other(format!("no {platform} surface is running")));
        };
        let store = self.engine.store();
        let config = store.workspace_config(&inv.workspace).await?;
        if let Some(drill_channel) = &config.drill_channel {
            if drill_channel != channel {
                return Ok(Handled::reply(Reply::private(format!(
                    "Drills on this server start in {}; run `/spar solo` there.",
                    surface.link(
                        &inv.workspace.external_id,
                        &ChatPlace {
                            channel: drill_channel.clone(),
                            thread: drill_channel.clone(),
                        }
                    )
                ))));
            }
        }
        let scenario = match scenario.map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) => match self.library.get(id) {
                Some(s) => s,
                None => {
                    return Ok(Handled::reply(Reply::private(unknown_scenario(
                        id,
                        &self.library,
                    ))));
                }
            },
            None => self.least_practised(inv).await?,
        };
        let difficulty = match difficulty.map(str::trim).filter(|s| !s.is_empty()) {
            Some(d) => match d.parse::<Difficulty>() {
                Ok(d) => d,
                Err(e) => return Ok(Handled::reply(Reply::private(format!("{e}.")))),
            },
            None => config.default_difficulty.unwrap_or_default(),
        };
        if let Some(live) = store.live_drill_of(&inv.workspace, &inv.person).await? {
            let link = live
                .place
                .as_ref()
                .map(|p| surface.link(&inv.workspace.external_id, p))
                .unwrap_or_default();
            return Ok(Handled::reply(Reply::private(format!(
                "You already have a drill running: {link}. Finish it there, or `/spar end` it first."
            ))));
        }
        let now = self.clock.now();
        if let Some(limit) = config.daily_limit {
            let started = store
                .drills_since(&inv.workspace, &inv.person, UtcDay::of(now).start())
                .await?;
            if started >= limit {
                return Ok(Handled::reply(Reply::private(format!(
                    "You have started {started} drills today, this server's daily limit of {limit}. The count starts again at midnight UTC."
                ))));
            }
        }
        if !self.first_time(inv).await? {
            return Ok(Handled::reply(Reply::private(
                "That command was already handled.",
            )));
        }
        let title = thread_title(&scenario.title, &inv.person.display_name);
        let opened = match surface
            .open_thread(
                channel,
                &title,
                config.public_threads,
                std::slice::from_ref(&inv.person),
            )
            .await
        {
            Ok(opened) => opened,
            Err(SurfaceError::MissingPermission(permission)) => {
                tracing::warn!(
                    permission,
                    "cannot open a drill thread: a permission is missing"
                );
                return Ok(Handled::reply(Reply::private(format!(
                    "I can't open a drill thread here: Spar lacks the {permission} permission in this channel. Ask a server admin to grant it, or try another channel."
                ))));
            }
            Err(SurfaceError::Refused(why)) => {
                tracing::warn!(why, "cannot open a drill thread: the platform refused");
                return Ok(Handled::reply(Reply::private(why)));
            }
            Err(e) => return Err(e.into()),
        };
        let time_limit_s = self.options.time_limit_s.unwrap_or(scenario.time_limit_s);
        let new = NewDrill {
            id: DrillId(uuid::Uuid::new_v4().to_string()),
            workspace: inv.workspace.clone(),
            settings: DrillSettings {
                scenario_id: scenario.id.clone(),
                difficulty,
                mode: Mode::Solo,
                time_limit_s,
                max_turns: self.options.max_turns,
            },
            // Kept so the scripted antagonist plays the same lines if another instance
            // takes the drill over.
            seed: Some(uuid::Uuid::new_v4().as_u64_pair().0 as i64),
            created_at: now,
            participants: vec![Participant {
                person: inv.person.clone(),
                role: Role::Candidate,
            }],
            place: Some(opened.place.clone()),
        };
        let record = self.engine.start_drill(&new).await?;
        tracing::Span::current().record("drill", record.id.as_str());
        tracing::info!(scenario = %scenario.id, %difficulty, private = opened.private, "drill opened");
        surface
            .post_brief(
                &opened.place,
                BriefView {
                    scenario,
                    difficulty,
                    time_limit_s,
                    candidate: &inv.person,
                },
            )
            .await?;
        let effects = self
            .engine
            .handle(
                &record.id,
                Some(&inv.event_id),
                Sender::Person(&inv.person),
                Event::Start,
                self.clock.now(),
            )
            .await?;
        let link = surface.link(&inv.workspace.external_id, &opened.place);
        Ok(Handled {
            reply: Reply::private(format!(
                "Your drill is ready in {link}: {} ({difficulty}).",
                scenario.title
            )),
            then: Some(Pending {
                drill: record,
                effects,
                sender: Some(inv.person.clone()),
                current: None,
            }),
        })
    }

    /// Records a command's id, so a platform retrying it does not open a second drill.
    pub(super) async fn first_time(&self, inv: &Invocation) -> Result<bool, StoreError> {
        self.engine
            .store()
            .mark_event_processed(
                &EventKey {
                    platform: inv.workspace.platform.clone(),
                    event_id: format!("command:{}", inv.event_id),
                },
                self.clock.now(),
            )
            .await
    }

    /// The scenario this person has drilled least; ties go to the library's order.
    async fn least_practised(&self, inv: &Invocation) -> Result<&Scenario, Failure> {
        let history = self.engine.store().history(Some(&inv.person)).await?;
        self.library
            .iter()
            .min_by_key(|s| history.iter().filter(|h| h.scenario_id == s.id).count())
            .ok_or_else(|| Failure::Other("no scenarios are loaded".into()))
    }

    async fn end(&self, inv: &Invocation) -> Result<Handled, Failure> {
        let Some(drill) = self.drill_here_or_mine(inv).await? else {
            return Ok(Handled::reply(Reply::private(
                "You have no drill running. `/spar solo` starts one.",
            )));
        };
        tracing::Span::current().record("drill", drill.id.as_str());
        let effects = match self
            .engine
            .handle(
                &drill.id,
                Some(&inv.event_id),
                Sender::Person(&inv.person),
                Event::End,
                self.clock.now(),
            )
            .await
        {
            Ok(effects) => effects,
            Err(EngineError::NotParticipant { .. } | EngineError::NotAllowed { .. }) => {
                return Ok(Handled::reply(Reply::private(
                    "Only the people drilling can end this drill.",
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let text = if effects.contains(&Effect::Debrief) {
            "Drill ended; the scorecard follows in the thread."
        } else {
            "Drill ended. Nothing you said was scored, so there is no scorecard."
        };
        Ok(Handled {
            reply: Reply::private(text),
            then: Some(Pending {
                drill,
                effects,
                sender: Some(inv.person.clone()),
                current: None,
            }),
        })
    }

    /// The drill of the thread the command was typed in, else the person's live drill.
    async fn drill_here_or_mine(
        &self,
        inv: &Invocation,
    ) -> Result<Option<DrillRecord>, StoreError> {
        let store = self.engine.store();
        let platform = inv.workspace.platform.as_str();
        let here = match &inv.thread {
            Some(thread) => {
                store
                    .live_drill_in(platform, thread, Some(&inv.channel))
                    .await?
            }
            None => store.live_drill_in(platform, &inv.channel, None).await?,
        };
        match here {
            Some(drill) => Ok(Some(drill)),
            None => store.live_drill_of(&inv.workspace, &inv.person).await,
        }
    }

    fn scenario_list(&self) -> String {
        let mut out = String::from("Scenarios (`/spar solo scenario:<id>`):\n");
        for s in self.library.iter() {
            out.push_str(&format!(
                "• `{}`: {} ({}, {} min)\n",
                s.id,
                s.title,
                s.round.label(),
                s.time_limit_s / 60
            ));
        }
        out
    }

    async fn history(&self, inv: &Invocation) -> Result<Handled, Failure> {
        let rows = self.engine.store().history(Some(&inv.person)).await?;
        if rows.is_empty() {
            return Ok(Handled::reply(Reply::private(
                "No drills yet. `/spar solo` starts one.",
            )));
        }
        let mut out = format!("Your last {} drills:\n", rows.len().min(10));
        for row in rows.iter().take(10) {
            let when = crate::report::rfc3339(row.started_at.unwrap_or(row.created_at));
            let score = row.overall.map_or_else(
                || format!("({})", row.phase.as_str().replace('_', " ")),
                |o| format!("**{o}**"),
            );
            let flags = if row.flags.is_empty() {
                "no flags".to_string()
            } else {
                row.flags
                    .iter()
                    .map(|f| render::flag_name_label(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push_str(&format!(
                "• {} · `{}` · {} · {} · {}\n",
                when.get(..10).unwrap_or(&when),
                row.scenario_id,
                row.difficulty,
                score,
                flags
            ));
        }
        Ok(Handled::reply(Reply::private(out)))
    }

    /// The member's own scores; an admin also sees the workspace's day so far.
    async fn stats(&self, inv: &Invocation) -> Result<Handled, Failure> {
        let points = self.engine.store().score_series(Some(&inv.person)).await?;
        let workspace = if inv.admin {
            format!("\n{}", self.workspace_today(inv).await?)
        } else {
            String::new()
        };
        if points.is_empty() {
            return Ok(Handled::reply(Reply::private(format!(
                "No scored drills yet. `/spar solo` starts one.{workspace}"
            ))));
        }
        let summaries = crate::report::summarise(&points);
        let text = format!(
            "```\n{}```{workspace}",
            crate::report::text(&summaries, points.len())
        );
        let chart = crate::chart::png(&points).map_err(|e| Failure::Other(format!("{e:#}")))?;
        Ok(Handled::reply(Reply {
            file: Some(Attachment {
                name: "spar-progress.png".into(),
                bytes: chart,
            }),
            ..Reply::private(text)
        }))
    }

    /// The workspace's model tokens spent today against its budget, and its drills today.
    async fn workspace_today(&self, inv: &Invocation) -> Result<String, StoreError> {
        let store = self.engine.store();
        let workspace = store.ensure_workspace(&inv.workspace).await?;
        let day = UtcDay::of(self.clock.now());
        let spent = store.tokens_on(workspace, day).await?;
        let drills = store.drills_on(workspace, day).await?;
        let tokens = match spent.budget.or(self.options.daily_token_budget) {
            Some(budget) if spent.used >= budget => format!(
                "{} of {} tokens: the budget is spent, so drills go on with the scripted antagonist; it renews at midnight UTC",
                spent.used, budget
            ),
            Some(budget) => format!(
                "{} of {} tokens ({}%)",
                spent.used,
                budget,
                spent.used.saturating_mul(100) / budget.max(1)
            ),
            None => format!("{} tokens (no budget)", spent.used),
        };
        Ok(format!(
            "**This server today** (since midnight UTC): {tokens}; {drills} drills started."
        ))
    }

    async fn forget(&self, inv: &Invocation) -> Result<Handled, Failure> {
        let drills = self.engine.store().history(Some(&inv.person)).await?.len();
        Ok(Handled::reply(Reply {
            buttons: vec![Button {
                label: "Delete my drills".into(),
                action: Action::ForgetConfirmed,
                danger: true,
            }],
            ..Reply::private(format!(
                "This deletes your {drills} drills with their transcripts and scores, and blanks what you said in other people's drills. It cannot be undone."
            ))
        }))
    }

    async fn forget_confirmed(&self, inv: &Invocation) -> Result<Handled, Failure> {
        let forgotten = self
            .engine
            .store()
            .forget_person(&inv.person.platform, &inv.person.platform_user_id)
            .await?;
        tracing::info!(
            drills = forgotten.drills,
            "a member's drills were forgotten"
        );
        Ok(Handled::reply(Reply::private(format!(
            "Deleted {} drills; {} of your lines in other people's drills were blanked.",
            forgotten.drills, forgotten.turns_redacted
        ))))
    }

    async fn config(&self, inv: &Invocation, change: ConfigChange) -> Result<Handled, Failure> {
        if !inv.admin {
            return Ok(Handled::reply(Reply::private(
                "Only members who can manage this server can change Spar's settings.",
            )));
        }
        let store = self.engine.store();
        let mut config = store.workspace_config(&inv.workspace).await?;
        if let Some(channel) = change.drill_channel {
            config.drill_channel = channel;
        }
        if let Some(public) = change.public_threads {
            config.public_threads = public;
        }
        if let Some(difficulty) = change.default_difficulty {
            match difficulty.parse::<Difficulty>() {
                Ok(d) => config.default_difficulty = Some(d),
                Err(e) => return Ok(Handled::reply(Reply::private(format!("{e}.")))),
            }
        }
        if let Some(limit) = change.daily_limit {
            config.daily_limit = (limit > 0).then_some(limit);
        }
        if let Some(budget) = change.token_budget {
            config.token_budget = (budget > 0).then_some(budget);
        }
        store.set_workspace_config(&inv.workspace, &config).await?;
        Ok(Handled::reply(Reply::private(
            self.describe_config(inv, &config),
        )))
    }

    fn describe_config(&self, inv: &Invocation, config: &WorkspaceConfig) -> String {
        let channel = match (&config.drill_channel, self.surface(&inv.workspace.platform)) {
            (Some(c), Some(surface)) => surface.link(
                &inv.workspace.external_id,
                &ChatPlace {
                    channel: c.clone(),
                    thread: c.clone(),
                },
            ),
            _ => "any channel".into(),
        };
        format!(
            "Spar's settings here:\n• drills start in: {channel}\n• threads: {}\n• default difficulty: {}\n• daily limit per member: {}\n• model tokens per day for the server: {}",
            if config.public_threads {
                "public"
            } else {
                "private where possible"
            },
            config.default_difficulty.unwrap_or_default(),
            config
                .daily_limit
                .map_or_else(|| "none".to_string(), |l| format!("{l} drills")),
            match (config.token_budget, self.options.daily_token_budget) {
                (Some(own), _) => format!("{own} tokens"),
                (None, Some(default)) => format!("{default} tokens (Spar's default)"),
                (None, None) => "none".to_string(),
            },
        )
    }

    async fn transcript(&self, inv: &Invocation, drill: &DrillId) -> Result<Handled, Failure> {
        let loaded = match self.engine.store().load_drill(drill).await {
            Ok(loaded) => loaded,
            Err(StoreError::NotFound(_)) => {
                return Ok(Handled::reply(Reply::private(
                    "That drill no longer exists.",
                )));
            }
            Err(e) => return Err(e.into()),
        };
        if !loaded
            .participants
            .iter()
            .any(|m| same_person(&m.person, &inv.person))
        {
            return Ok(Handled::reply(Reply::private(
                "Only the people in a drill can see its transcript.",
            )));
        }
        let scenario = self.library.get(&loaded.record.settings.scenario_id);
        let markdown = crate::report::markdown(&loaded, scenario);
        Ok(Handled::reply(Reply {
            file: Some(Attachment {
                name: format!("spar-drill-{}.md", short(drill)),
                bytes: markdown.into_bytes(),
            }),
            ..Reply::private("The whole drill, with its scorecard:")
        }))
    }

    async fn drill_again(&self, inv: &Invocation, drill: &DrillId) -> Result<Handled, Failure> {
        let record = match self.engine.store().load_drill(drill).await {
            Ok(loaded) => loaded.record,
            Err(StoreError::NotFound(_)) => {
                return Ok(Handled::reply(Reply::private(
                    "That drill no longer exists.",
                )));
            }
            Err(e) => return Err(e.into()),
        };
        // Clicked in the old drill's thread: the new one opens beside it, in its channel.
        let channel = record
            .place
            .as_ref()
            .map_or(inv.channel.clone(), |p| p.channel.clone());
        self.solo(
            inv,
            Some(&record.settings.scenario_id),
            Some(record.settings.difficulty.as_str()),
            &channel,
        )
        .await
    }

    // ----- performing effects -----

    /// Performs a drill's effects in order, feeding back what they produce (the
    /// antagonist's line, the end of a debrief) until nothing is left to do.
    pub async fn perform(&self, pending: Pending) {
        // A stopping instance still finishes what it started: the drill is owed it.
        self.busy
            .count
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _working = Working(&self.busy);
        let Pending {
            drill,
            effects,
            sender,
            mut current,
        } = pending;
        let span = tracing::info_span!(
            "drill",
            platform = %drill.platform,
            workspace = %drill.workspace_external_id,
            channel = %drill.place.as_ref().map_or("", |p| p.thread.as_str()),
            drill = %drill.id
        );
        async {
            let (Some(surface), Some(place)) = (self.surface(&drill.platform), drill.place.clone())
            else {
                tracing::warn!("a drill this instance cannot post to was handed to it");
                return;
            };
            let mut queue: VecDeque<Effect> = effects.into();
            while let Some(effect) = queue.pop_front() {
                let outcome = match effect {
                    Effect::Notify(notice) => self
                        .notify(surface.as_ref(), &place, &notice, sender.as_ref())
                        .await
                        .map(|()| Vec::new()),
                    Effect::AskAntagonist => self
                        .answer(surface.as_ref(), &drill, &place, current.take())
                        .await
                        .map(|applied| {
                            current = applied.drill;
                            applied.effects
                        }),
                    Effect::Debrief => {
                        current = None;
                        self.debrief(surface.as_ref(), &drill, &place).await
                    }
                    Effect::ArmTimer { .. }
                    | Effect::PersistTurn { .. }
                    | Effect::PersistPhase(_) => Ok(Vec::new()),
                };
                match outcome {
                    Ok(more) => queue.extend(more),
                    Err(Failure::Surface(SurfaceError::Gone(why))) => {
                        tracing::info!(why, "the drill's thread is gone; the drill is abandoned");
                        self.abandon(&drill).await;
                        return;
                    }
                    // The drill keeps what was committed; what it is still owed (a reply,
                    // a debrief) is picked up by recovery once this instance's claim ends.
                    Err(e) => {
                        self.metrics.error(e.kind());
                        tracing::error!(error = %e, "could not perform a drill's effect");
                    }
                }
            }
        }
        .instrument(span)
        .await;
    }

    async fn notify(
        &self,
        surface: &dyn ChatSurface,
        place: &ChatPlace,
        notice: &Notice,
        sender: Option<&PersonRef>,
    ) -> Result<(), Failure> {
        let text = match notice {
            Notice::Ended(_) | Notice::Started { .. } => format!("⏱ {}", describe(notice)),
            Notice::TimeWarning { .. } => {
                format!("⏱ {} `/spar end` finishes early.", describe(notice))
            }
            _ => describe(notice),
        };
        match (notice.recipient(), sender) {
            (Recipient::Sender, Some(person)) => surface.tell(person, place, &text).await?,
            _ => {
                surface.post(place, &text).await?;
            }
        }
        Ok(())
    }

    /// Asks the antagonist for its line, streaming it into the thread, and feeds it back;
    /// returns what that set going, with the drill as the reply's commit left it.
    /// `current` is the drill as the commit that asked left it, when the caller has it.
    async fn answer(
        &self,
        surface: &dyn ChatSurface,
        drill: &DrillRecord,
        place: &ChatPlace,
        current: Option<LoadedDrill>,
    ) -> Result<Applied, Failure> {
        let store = self.engine.store();
        // The drill as the ask's commit left it, or else read now. The reply is committed
        // against this copy, and the drill read again only if it changed while the
        // antagonist was answering; a turn added meanwhile is then answered next.
        let loaded = match current {
            Some(loaded) => loaded,
            None => store.load_drill(&drill.id).await?,
        };
        let nothing = Applied {
            effects: Vec::new(),
            drill: None,
        };
        if loaded.record.phase != Phase::Live {
            return Ok(nothing);
        }
        let scenario = self.scenario_of(&loaded.record)?;
        let mut play = self.play(&drill.id);
        // Found before a restart, or by another instance: the drill stays scripted.
        play.over_budget |= loaded.record.over_budget_at.is_some();
        // Checked before every model call, so a drill that started within the budget
        // hands over as soon as the workspace's spending reaches it, and says so once:
        // the mark is kept with the drill, and only the instance that sets it tells.
        let mut budget_notice = None;
        if self.cast.model().is_some()
            && play.may_ask_model()
            && self.budget_spent(&loaded.record).await?
        {
            play.over_budget = true;
            if store.mark_over_budget(&drill.id, self.clock.now()).await? {
                self.metrics.over_budget.inc();
                tracing::info!(
                    "the workspace's token budget is spent; the scripted antagonist plays on"
                );
                budget_notice = Some(budget_spent(self.debriefer.judges(play.model_gave_up)));
            }
        }
        let turns = loaded.plain_turns();
        let seed = loaded.record.seed.unwrap_or_default() as u64;
        let difficulty = loaded.record.settings.difficulty;
        let (sink, draft) = stream::channel();
        let started = std::time::Instant::now();
        let (line, screen) = tokio::join!(
            async {
                let mut sink = sink;
                self.cast
                    .next_line(&mut play, scenario, difficulty, seed, &turns, &mut sink)
                    .await
                // The sink is dropped here, which tells the editor the reply is complete.
            },
            stream::show(
                surface,
                place,
                draft,
                self.options.edit_interval,
                self.options.typing_interval
            )
        );
        {
            let mut plays = self
                .plays
                .lock()
                .map_err(|_| Failure::Other("the drills' play state is poisoned".into()))?;
            // Only what differs from a fresh drill's play is kept: a waiting drill whose
            // model never failed and whose budget holds costs the map nothing.
            if play == Play::default() {
                plays.remove(&drill.id);
            } else {
                plays.insert(drill.id.clone(), play);
            }
        }
        let player = match &line.usage {
            Some((model, _)) if line.streamed => model.as_str(),
            _ => "scripted",
        };
        tracing::info!(
            latency_ms = started.elapsed().as_millis() as u64,
            player,
            "antagonist answered"
        );
        self.metrics
            .antagonist_seconds
            .with_label_values(&[player])
            .observe(started.elapsed().as_secs_f64());
        if line.notice.is_some() {
            self.metrics.fallbacks.inc();
        }
        let notice = budget_notice.or(line.notice);
        if let Some((model, usage)) = &line.usage {
            self.metrics
                .tokens(model, usage.prompt_tokens, usage.completion_tokens);
            store
                .record_llm_usage(
                    &drill.id,
                    model,
                    i64::from(usage.prompt_tokens),
                    i64::from(usage.completion_tokens),
                    self.clock.now(),
                )
                .await?;
        }
        let seen = turns.len();
        let reply = Event::AntagonistAnswered {
            text: line.text.clone(),
            seen,
        };
        let applied = if line.streamed {
            // Already on screen as it arrived; kept once it is whole.
            stream::finish(surface, place, screen, &line.text).await?;
            self.engine
                .handle_loaded(loaded, None, Sender::System, reply, self.clock.now())
                .await?
        } else {
            // Nothing of it is shown yet: kept first, so that whatever the candidate
            // says to it is stored after it.
            let applied = self
                .engine
                .handle_loaded(loaded, None, Sender::System, reply, self.clock.now())
                .await?;
            if let Some(notice) = &notice {
                surface.post(place, notice).await?;
            }
            stream::finish(surface, place, screen, &line.text).await?;
            applied
        };
        Ok(applied)
    }

    async fn debrief(
        &self,
        surface: &dyn ChatSurface,
        drill: &DrillRecord,
        place: &ChatPlace,
    ) -> Result<Vec<Effect>, Failure> {
        let store = self.engine.store();
        let loaded = store.load_drill(&drill.id).await?;
        if loaded.record.phase != Phase::WrapUp {
            return Ok(Vec::new());
        }
        let scenario = self.scenario_of(&loaded.record)?;
        let play = self
            .plays
            .lock()
            .map_err(|_| Failure::Other("the drills' play state is poisoned".into()))?
            .remove(&drill.id)
            .unwrap_or_default();
        let transcript = Transcript {
            scenario: Some(loaded.record.settings.scenario_id.clone()),
            turns: loaded.plain_turns(),
        };
        // Judging spends tokens too: a workspace over its budget gets the scorecard alone.
        let over_budget = self.debriefer.judges(play.model_gave_up)
            && (play.over_budget
                || loaded.record.over_budget_at.is_some()
                || self.budget_spent(&loaded.record).await?);
        let debriefer = if over_budget {
            &self.unjudged
        } else {
            &self.debriefer
        };
        let judging = std::time::Instant::now();
        let debrief = debriefer
            .debrief(scenario, &transcript, play.model_gave_up)
            .await;
        if let Some((model, usage)) = &debrief.usage {
            self.metrics
                .judge_seconds
                .with_label_values(&[model])
                .observe(judging.elapsed().as_secs_f64());
            self.metrics
                .tokens(model, usage.prompt_tokens, usage.completion_tokens);
            store
                .record_llm_usage(
                    &drill.id,
                    model,
                    i64::from(usage.prompt_tokens),
                    i64::from(usage.completion_tokens),
                    self.clock.now(),
                )
                .await?;
        }
        let json = serde_json::to_value(&debrief.judged.card)
            .map_err(|e| Failure::Other(format!("encoding the scorecard: {e}")))?;
        store
            .save_scorecard(
                &drill.id,
                &StoredScorecard::from_json(json)?,
                self.clock.now(),
            )
            .await?;
        surface
            .post_scorecard(
                place,
                ScorecardView {
                    drill: &drill.id,
                    scenario,
                    judged: &debrief.judged,
                },
            )
            .await?;
        let effects = self
            .engine
            .handle(
                &drill.id,
                None,
                Sender::System,
                Event::Debriefed,
                self.clock.now(),
            )
            .await?;
        if loaded.record.settings.mode == Mode::Peer {
            self.request_ratings(surface, &loaded, place).await?;
        }
        Ok(effects)
    }

    pub(super) async fn abandon(&self, drill: &DrillRecord) {
        if let Err(e) = self
            .engine
            .handle(
                &drill.id,
                None,
                Sender::System,
                Event::Abandon,
                self.clock.now(),
            )
            .await
        {
            tracing::error!(drill = %drill.id, error = %e, "could not abandon a drill");
        }
        if let Ok(mut plays) = self.plays.lock() {
            plays.remove(&drill.id);
        }
    }

    /// Whether the drill's workspace has spent its token budget for today (its own, or
    /// the instance's default).
    async fn budget_spent(&self, drill: &DrillRecord) -> Result<bool, StoreError> {
        let day = UtcDay::of(self.clock.now());
        let spent = self
            .engine
            .store()
            .tokens_on(drill.workspace_id, day)
            .await?;
        Ok(spent
            .budget
            .or(self.options.daily_token_budget)
            .is_some_and(|budget| spent.used >= budget))
    }

    fn play(&self, drill: &DrillId) -> Play {
        self.plays
            .lock()
            .ok()
            .and_then(|plays| plays.get(drill).copied())
            .unwrap_or_default()
    }

    pub(super) fn scenario_of(&self, drill: &DrillRecord) -> Result<&Scenario, Failure> {
        self.library
            .get(&drill.settings.scenario_id)
            .ok_or_else(|| {
                Failure::Other(format!(
                    "scenario {} of drill {} is not in this instance's library",
                    drill.settings.scenario_id, drill.id
                ))
            })
    }

    // ----- the clock -----

    /// Fires the timers now due and returns what they set going.
    pub async fn fire_timers(&self) -> Vec<Pending> {
        match self.engine.fire_due_timers(self.clock.now()).await {
            Ok(sweep) => self.pending(sweep).await,
            Err(e) => {
                tracing::error!(error = %e, "could not claim due timers");
                Vec::new()
            }
        }
    }

    /// Picks up unfinished drills whose instance died, and returns what they are owed.
    pub async fn recover(&self) -> Vec<Pending> {
        match self.engine.recover(self.clock.now()).await {
            Ok(sweep) => self.pending(sweep).await,
            Err(e) => {
                tracing::error!(error = %e, "could not list the drills to recover");
                Vec::new()
            }
        }
    }

    async fn pending(&self, sweep: Sweep) -> Vec<Pending> {
        for failure in &sweep.failures {
            tracing::error!(drill = %failure.drill, error = %failure.error, "a drill could not be swept");
        }
        let mut pending = Vec::with_capacity(sweep.drills.len());
        for drill in sweep.drills {
            if drill.effects.is_empty() {
                continue;
            }
            match self.engine.store().load_drill(&drill.drill).await {
                Ok(loaded) => pending.push(Pending {
                    drill: loaded.record.clone(),
                    effects: drill.effects,
                    sender: None,
                    current: Some(loaded),
                }),
                Err(e) => {
                    tracing::error!(drill = %drill.drill, error = %e, "could not load a swept drill")
                }
            }
        }
        pending
    }

    /// Counts the drills of this instance's platforms by phase into the `drills` gauge.
    /// Every instance on one database reports the same counts.
    pub async fn sample_drills(&self) {
        match self
            .engine
            .store()
            .drills_by_phase(self.engine.platforms())
            .await
        {
            Ok(counts) => {
                for phase in [Phase::Briefing, Phase::Live, Phase::WrapUp] {
                    let count = counts
                        .iter()
                        .find(|(p, _)| *p == phase)
                        .map_or(0, |(_, n)| *n);
                    self.metrics
                        .drills
                        .with_label_values(&[phase.as_str()])
                        .set(i64::try_from(count).unwrap_or(i64::MAX));
                }
            }
            Err(e) => {
                self.metrics.error("store");
                tracing::warn!(error = %e, "could not count the drills by phase");
            }
        }
    }

    /// Forgets the processed event ids older than `event_retention`; returns how many.
    pub async fn prune_events(&self) -> u64 {
        let retention = i64::try_from(self.options.event_retention.as_millis()).unwrap_or(i64::MAX);
        let before = self.clock.now().saturating_sub(retention);
        match self.engine.store().prune_events(before).await {
            Ok(pruned) => {
                if pruned > 0 {
                    tracing::debug!(pruned, "forgot old processed event ids");
                }
                pruned
            }
            Err(e) => {
                self.metrics.error("store");
                tracing::warn!(error = %e, "could not prune processed event ids");
                0
            }
        }
    }

    /// Runs for the life of the process: recovers at once and then every
    /// `recover_interval`, and fires due timers every `tick_interval`. Each drill's
    /// effects run in their own task, so one slow model call holds up no other drill.
    pub async fn run_clock(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(self.options.tick_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut next_recovery = std::time::Instant::now();
        let mut next_sample = std::time::Instant::now();
        let mut next_prune = std::time::Instant::now();
        loop {
            ticks.tick().await;
            if self.busy.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            let mut work = Vec::new();
            if std::time::Instant::now() >= next_recovery {
                work.extend(self.recover().await);
                next_recovery = std::time::Instant::now() + self.options.recover_interval;
            }
            if std::time::Instant::now() >= next_sample {
                self.sample_drills().await;
                next_sample = std::time::Instant::now() + self.options.sample_interval;
            }
            if std::time::Instant::now() >= next_prune {
                self.prune_events().await;
                next_prune = std::time::Instant::now() + self.options.prune_interval;
            }
            work.extend(self.fire_timers().await);
            self.fire_rounds().await;
            for pending in work {
                let runtime = self.clone();
                tokio::spawn(async move { runtime.perform(pending).await });
            }
        }
    }
}

/// A thread's name: the scenario and whose drill it is, within Discord's 100 characters.
pub(super) fn thread_title(scenario: &str, person: &str) -> String {
    let title = format!("Spar · {scenario} · {person}");
    title.chars().take(100).collect()
}

/// The first block of a drill id, enough to tell files apart.
fn short(drill: &DrillId) -> &str {
    drill.as_str().split('-').next().unwrap_or(drill.as_str())
}

/// An unknown scenario id, with the known ids closest to it.
pub(super) fn unknown_scenario(id: &str, library: &ScenarioLibrary) -> String {
    let close = library.closest(id);
    if close.is_empty() {
        format!(
            "There is no scenario `{id}`. `/spar scenarios` lists them: {}.",
            library.ids().join(", ")
        )
    } else {
        format!(
            "There is no scenario `{id}`. Did you mean {}?",
            close
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_scenario_suggests_the_close_ones_or_lists_them_all() {
        let library = ScenarioLibrary::embedded().expect("library");
        assert!(unknown_scenario("latency-regresion", &library).contains("`latency-regression`?"));
        assert!(unknown_scenario("zzzz", &library).contains("talent-allocation"));
    }

    #[test]
    fn a_thread_title_fits_discords_limit() {
        let title = thread_title(&"x".repeat(200), "ana");
        assert_eq!(title.chars().count(), 100);
    }
}
