//! The terminal adapter: runs one drill between a person at a keyboard (or a script
//! piping lines in) and the antagonist, performing the drill's effects as they come.

pub mod record;
pub mod style;

use crate::antagonist::{Cast, Play};
use crate::debrief::Debriefer;
use crate::llm::{ReplySink, Usage};
use crate::notice::describe;
use spar_core::drill::{Drill, Effect, Event, Millis};
use spar_core::judge::{self, JudgedScorecard};
use spar_core::scenario::Scenario;
use spar_core::scoring::Scorecard;
use spar_core::transcript::{Role, clock};
use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use style::Style;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Where drill time comes from.
#[derive(Debug, Clone)]
pub enum Clock {
    /// Real time, for a person typing.
    Wall,
    /// A fixed step per candidate turn, so piped runs are reproducible.
    Paced { now: Millis, step: Millis },
}

impl Clock {
    pub fn paced(seconds_per_turn: f64) -> Clock {
        Clock::Paced {
            now: wall_now(),
            step: (seconds_per_turn.max(0.0) * 1000.0).round() as Millis,
        }
    }

    pub fn now(&self) -> Millis {
        match self {
            Clock::Wall => wall_now(),
            Clock::Paced { now, .. } => *now,
        }
    }

    fn advance(&mut self) {
        if let Clock::Paced { now, step } = self {
            *now += *step;
        }
    }
}

fn wall_now() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// Receives what happens in a drill that must outlive the process (the store, in
/// production). Each call completes before the drill moves on, so a turn is stored
/// before the antagonist is asked to answer it.
#[allow(async_fn_in_trait)] // Used only on the terminal's own thread; no Send bound needed.
pub trait Recorder {
    /// Everything one `Drill::handle` call asks to keep, before any of it is performed.
    async fn effects(
        &mut self,
        drill: &Drill,
        effects: &[Effect],
        now: Millis,
    ) -> anyhow::Result<()>;
    async fn scorecard(
        &mut self,
        drill: &Drill,
        card: &Scorecard,
        now: Millis,
    ) -> anyhow::Result<()>;
    /// Tokens a model call spent for this drill (antagonist or judge), kept for history.
    async fn llm_usage(
        &mut self,
        drill: &Drill,
        model: &str,
        prompt_tokens: u32,
        completion_tokens: u32,
        now: Millis,
    ) -> anyhow::Result<()>;
}

/// Records nothing: `--no-save`.
pub struct NoRecorder;

impl Recorder for NoRecorder {
    async fn effects(&mut self, _: &Drill, _: &[Effect], _: Millis) -> anyhow::Result<()> {
        Ok(())
    }
    async fn scorecard(&mut self, _: &Drill, _: &Scorecard, _: Millis) -> anyhow::Result<()> {
        Ok(())
    }
    async fn llm_usage(
        &mut self,
        _: &Drill,
        _: &str,
        _: u32,
        _: u32,
        _: Millis,
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Prints a streamed reply under the persona's label as it arrives.
struct StreamOut<'o, W: Write> {
    out: &'o mut W,
    style: Style,
    label: String,
    open: bool,
    /// The first write error; printing stops there and the session reports it after.
    error: Option<std::io::Error>,
}

impl<W: Write> StreamOut<'_, W> {
    fn write(&mut self, text: &str) {
        if self.error.is_some() {
            return;
        }
        let result = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush());
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    /// Ends the open line, if any.
    fn finish(&mut self) {
        if self.open {
            self.open = false;
            self.write("\n");
        }
    }
}

impl<W: Write> ReplySink for StreamOut<'_, W> {
    fn text(&mut self, chunk: &str) {
        if !self.open {
            self.open = true;
            let label = format!("{}    ", self.label);
            self.write(&label);
        }
        self.write(&chunk.replace('\n', "\n    "));
    }

    fn retract(&mut self) {
        if self.open {
            self.finish();
            let note = self.style.dim("    (withdrawn)");
            self.write(&format!("{note}\n"));
        }
    }
}

pub struct Session<'a, W: Write> {
    pub scenario: &'a Scenario,
    pub cast: &'a Cast,
    /// What the cast remembers of this drill.
    pub play: Play,
    /// The scripted antagonist's seed for this drill.
    pub seed: u64,
    /// Scores the drill and, when a model is configured, has it judged.
    pub debriefer: &'a Debriefer,
    pub style: Style,
    pub clock: Clock,
    /// Whether a person is typing: then we prompt, and don't echo their lines back.
    pub interactive: bool,
    pub out: W,
}

const HELP: &str = "/end   finish now and see your debrief\n/time  how long is left\n/brief show the setting and your goal again\n/help  this list";

impl<W: Write> Session<'_, W> {
    /// Prints the setting, goal and persona the candidate is given.
    pub fn brief(&mut self, drill: &Drill) -> std::io::Result<()> {
        let s = self.scenario;
        let st = self.style;
        let mut text = String::new();
        text.push_str(&format!(
            "\n{}\n",
            st.bold(&format!("{} — {} round", s.title, s.round.label()))
        ));
        text.push_str(&format!(
            "{}\n\n",
            st.dim(&format!(
                "{} · {} · {} min",
                s.id,
                drill.settings().difficulty,
                s.time_limit_s / 60
            ))
        ));
        text.push_str(&format!(
            "{}\n{}\n",
            st.bold("Setting"),
            st.wrap(&s.setting, "  ")
        ));
        text.push_str(&format!(
            "{}\n{}\n",
            st.bold("Your goal"),
            st.wrap(&s.goal, "  ")
        ));
        text.push_str(&format!(
            "{}\n{}\n",
            st.bold("You are talking to"),
            st.wrap(
                &format!(
                    "{}, {}. {}",
                    s.persona.name, s.persona.role, s.persona.style
                ),
                "  "
            )
        ));
        text.push_str(&format!(
            "{}\n{}\n",
            st.bold("During the drill"),
            st.lines(HELP, "  ")
        ));
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    /// Runs the drill to its end, reading the candidate's lines from `input`.
    pub async fn run<R: AsyncBufRead + Unpin>(
        &mut self,
        drill: &mut Drill,
        recorder: &mut impl Recorder,
        input: R,
    ) -> anyhow::Result<Option<Scorecard>> {
        let mut lines = input.lines();
        let mut timer: Option<Millis> = None;
        let mut scorecard = None;
        let mut used = Usage::default();
        let mut queue: VecDeque<Event> = VecDeque::from([Event::Start]);
        let mut interrupted = false;
        loop {
            while let Some(event) = queue.pop_front() {
                let now = self.clock.now();
                let effects = drill.handle(event, now);
                recorder.effects(drill, &effects, now).await?;
                for effect in effects {
                    match effect {
                        Effect::PersistTurn { turn, .. } => {
                            if turn.role == Role::Candidate && !self.interactive {
                                let text = self.style.turn(turn.at_s, "You", false, &turn.text);
                                self.out.write_all(text.as_bytes())?;
                            }
                        }
                        Effect::PersistPhase(_) => {}
                        Effect::AskAntagonist => {
                            let at = drill.elapsed_s(self.clock.now());
                            let name = &self.scenario.persona.name;
                            let mut sink = StreamOut {
                                out: &mut self.out,
                                style: self.style,
                                label: self.style.label(at, name, true),
                                open: false,
                                error: None,
                            };
                            let line = self
                                .cast
                                .next_line(
                                    &mut self.play,
                                    self.scenario,
                                    drill.settings().difficulty,
                                    self.seed,
                                    drill.turns(),
                                    &mut sink,
                                )
                                .await;
                            sink.finish();
                            if let Some(e) = sink.error {
                                return Err(e.into());
                            }
                            if let Some((model, usage)) = &line.usage {
                                used += *usage;
                                recorder
                                    .llm_usage(
                                        drill,
                                        model,
                                        usage.prompt_tokens,
                                        usage.completion_tokens,
                                        self.clock.now(),
                                    )
                                    .await?;
                            }
                            if let Some(notice) = &line.notice {
                                self.out.write_all(self.style.notice(notice).as_bytes())?;
                            }
                            if !line.streamed {
                                let text = self.style.turn(at, name, true, &line.text);
                                self.out.write_all(text.as_bytes())?;
                            }
                            queue.push_back(Event::AntagonistSaid(line.text));
                        }
                        Effect::ArmTimer { at } => timer = Some(at),
                        Effect::Notify(notice) => {
                            let text = self.style.notice(&describe(&notice));
                            self.out.write_all(text.as_bytes())?;
                        }
                        Effect::Debrief => {
                            let debrief = self
                                .debriefer
                                .debrief(
                                    self.scenario,
                                    &drill.transcript(),
                                    self.play.model_gave_up,
                                )
                                .await;
                            if let Some((model, usage)) = &debrief.usage {
                                used += *usage;
                                recorder
                                    .llm_usage(
                                        drill,
                                        model,
                                        usage.prompt_tokens,
                                        usage.completion_tokens,
                                        self.clock.now(),
                                    )
                                    .await?;
                            }
                            let judged = debrief.judged;
                            recorder
                                .scorecard(drill, &judged.card, self.clock.now())
                                .await?;
                            self.debrief(&judged, used)?;
                            scorecard = Some(judged.card);
                            queue.push_back(Event::Debriefed);
                        }
                    }
                }
                self.out.flush()?;
            }
            if drill.phase().is_over() {
                return Ok(scorecard);
            }
            if self.interactive {
                let prompt = format!(
                    "{} › ",
                    self.style.candidate(&format!(
                        "[{}] You",
                        clock(drill.elapsed_s(self.clock.now()))
                    ))
                );
                self.out.write_all(prompt.as_bytes())?;
                self.out.flush()?;
            }
            // Only a wall clock fires on its own; a paced clock ticks when a line arrives.
            let wait = match (&self.clock, timer) {
                (Clock::Wall, Some(at)) => {
                    Some(Duration::from_millis(at.saturating_sub(self.clock.now())))
                }
                _ => None,
            };
            let line = tokio::select! {
                line = lines.next_line() => line?,
                () = sleep_or_never(wait) => {
                    if self.interactive {
                        self.out.write_all(b"\n")?;
                    }
                    queue.push_back(Event::Tick);
                    continue;
                }
                // Ctrl-C ends the drill with its debrief rather than losing what was said.
                Ok(()) = tokio::signal::ctrl_c(), if !interrupted => {
                    interrupted = true;
                    self.out.write_all(b"\n")?;
                    queue.push_back(Event::End);
                    continue;
                }
            };
            let Some(line) = line else {
                // End of input ends the drill as /end would.
                queue.push_back(Event::End);
                continue;
            };
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(command) = line.strip_prefix('/') {
                match command.split_whitespace().next().unwrap_or("") {
                    "end" | "quit" | "exit" => queue.push_back(Event::End),
                    "time" => queue.push_back(Event::AskTime),
                    "help" => self
                        .out
                        .write_all(self.style.lines(HELP, "  ").as_bytes())?,
                    "brief" => self.brief(drill)?,
                    other => {
                        let text = self.style.notice(&format!(
                            "unknown command /{other}; /help lists what you can use"
                        ));
                        self.out.write_all(text.as_bytes())?;
                    }
                }
                continue;
            }
            self.clock.advance();
            if timer.is_some_and(|at| self.clock.now() >= at) {
                queue.push_back(Event::Tick);
            }
            queue.push_back(Event::CandidateSaid(line.to_string()));
        }
    }

    fn debrief(&mut self, judged: &JudgedScorecard, used: Usage) -> std::io::Result<()> {
        let mut text = format!("\n{}\n\n", self.style.bold("Debrief"));
        text.push_str(&self.style.reflow(&judge::render_text(judged)));
        text.push_str(&format!(
            "\n{}\n",
            self.style.bold("What good looks like here")
        ));
        text.push_str(&self.style.wrap(&self.scenario.debrief, "  "));
        if used != Usage::default() {
            text.push_str(&format!(
                "\n{}\n",
                self.style.dim(&format!(
                    "Model tokens this drill: {} prompt + {} completion.",
                    used.prompt_tokens, used.completion_tokens
                ))
            ));
        }
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
