//! The terminal adapter: runs one drill between a person at a keyboard (or a script
//! piping lines in) and the antagonist, performing the drill's effects as they come.

pub mod hold;
pub mod input;
pub mod interrupt;
pub mod record;
pub mod recover;
pub mod style;

use crate::antagonist::{Cast, Line, Play};
use crate::debrief::Debriefer;
use crate::llm::{ReplySink, Usage};
use crate::notice::describe;
use input::Input;
use interrupt::Interrupt;
use spar_core::drill::{Drill, Effect, EndReason, Event, Millis, Mode, Notice, Phase};
use spar_core::judge::{self, JudgedScorecard};
use spar_core::scenario::Scenario;
use spar_core::scoring::Scorecard;
use spar_core::transcript::{Role, Turn, clock};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use style::{StreamWrap, Style};
use textwrap::core::display_width;
use tokio::sync::mpsc::UnboundedReceiver;

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
    /// One event and everything `Drill::handle` answered it with, before any of it is
    /// performed.
    async fn event(
        &mut self,
        drill: &Drill,
        event: &Event,
        effects: &[Effect],
        now: Millis,
    ) -> anyhow::Result<()>;
    /// A line cut off by the end of input, kept as the drill's turn `index`
    /// (`Drill::cut_off`).
    async fn cut_off(&mut self, drill: &Drill, index: usize, turn: &Turn) -> anyhow::Result<()>;
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
    async fn event(&mut self, _: &Drill, _: &Event, _: &[Effect], _: Millis) -> anyhow::Result<()> {
        Ok(())
    }
    async fn cut_off(&mut self, _: &Drill, _: usize, _: &Turn) -> anyhow::Result<()> {
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

/// Standard output while something is awaited: a spinner may be turning on it, and a
/// streamed reply may be half printed.
struct Screen<'o, W: Write> {
    out: &'o mut W,
    /// A spinner line is showing and must be cleared before anything else is printed.
    spinning: bool,
    /// The first write error; printing stops there and the session reports it after.
    error: Option<std::io::Error>,
}

impl<W: Write> Screen<'_, W> {
    fn write(&mut self, text: &str) {
        if self.error.is_some() {
            return;
        }
        if self.spinning {
            self.spinning = false;
            self.write("\r\x1b[2K");
        }
        let result = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush());
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    fn spin(&mut self, frame: &str, text: &str) {
        self.write(&format!("\r{frame} {text}"));
        self.spinning = true;
    }

    fn done(&mut self) -> std::io::Result<()> {
        self.write("");
        self.error.take().map_or(Ok(()), Err)
    }
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Awaits `work`, turning a spinner with `text` beside it on `screen` until `work` is done
/// or prints something (when `text` is given), and giving up when Ctrl-C is pressed to
/// end the conversation (when `interrupt` is given).
async fn awaiting<W: Write, F: Future>(
    screen: &RefCell<Screen<'_, W>>,
    text: Option<&str>,
    interrupt: Option<&Interrupt>,
    work: F,
) -> Option<F::Output> {
    tokio::pin!(work);
    let mut ticks = tokio::time::interval(Duration::from_millis(100));
    let mut frame = 0usize;
    let mut shown = false;
    loop {
        tokio::select! {
            output = &mut work => return Some(output),
            () = async { match interrupt {
                Some(interrupt) => interrupt.wait().await,
                None => std::future::pending().await,
            } } => return None,
            _ = ticks.tick(), if text.is_some() => {
                let mut screen = screen.borrow_mut();
                // Once the reply has started, its text is the progress.
                if shown && !screen.spinning {
                    continue;
                }
                screen.spin(SPINNER[frame % SPINNER.len()], text.unwrap_or_default());
                frame += 1;
                shown = true;
            }
        }
    }
}

/// Prints a streamed reply under the persona's label as it arrives, wrapped like a
/// scripted one, and notes when the label went up: the moment the reply is recorded at.
struct StreamOut<'s, 'o, W: Write> {
    screen: &'s RefCell<Screen<'o, W>>,
    style: Style,
    wrap: StreamWrap,
    drill: &'s Drill,
    clock: &'s Clock,
    name: &'s str,
    /// When the label went up, once the reply has started.
    shown_at: Option<Millis>,
}

impl<W: Write> StreamOut<'_, '_, W> {
    /// Ends the open reply, if any.
    fn finish(&mut self) {
        if self.shown_at.is_some() {
            let tail = self.wrap.finish();
            self.screen.borrow_mut().write(&tail);
        }
    }
}

impl<W: Write> ReplySink for StreamOut<'_, '_, W> {
    fn text(&mut self, chunk: &str) {
        let mut screen = self.screen.borrow_mut();
        if self.shown_at.is_none() {
            let now = self.clock.now();
            self.shown_at = Some(now);
            screen.write(&self.style.label(self.drill.elapsed_s(now), self.name, true));
        }
        let text = self.wrap.push(chunk);
        screen.write(&text);
    }

    fn retract(&mut self) {
        if self.shown_at.take().is_some() {
            let tail = self.wrap.finish();
            let note = self.style.dim("    (withdrawn)");
            self.screen.borrow_mut().write(&format!("{tail}{note}\n"));
        }
    }
}

/// How a run begins.
pub enum Begin {
    /// A drill still in its briefing: the antagonist's opening is fetched first, and the
    /// clock starts once it has been spoken.
    New,
    /// A drill taken up again after its process ended, with what `Drill::resume` asked.
    Resumed(Vec<Effect>),
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
    /// Whether a person is typing (standard input is a terminal).
    pub interactive: bool,
    /// Whether standard output is a terminal: progress is shown only there.
    pub terminal: bool,
    pub interrupt: Interrupt,
    pub out: W,
}

const HELP: &str = "/end   finish now and see your debrief\n/time  how long is left\n/brief show the setting and your goal again\n/help  this list";

/// What was last typed at the prompt, so its line can be relabelled with the time the
/// turn was recorded at.
struct Typed {
    /// The label the prompt showed (`[0:05] You`).
    label: String,
    /// The prompt's width on screen, ` › ` included.
    width: usize,
}

/// The state of one run of the loop that `Session::run` does not keep in the drill.
#[derive(Default)]
struct Run {
    timer: Option<Millis>,
    scorecard: Option<Scorecard>,
    used: Usage,
    /// The opening, fetched before the clock started, and when it was shown.
    opening: Option<(Line, Millis)>,
    typed: Option<Typed>,
    queue: VecDeque<(Event, Option<Millis>)>,
    /// Ctrl-C ended the conversation; it is not awaited again.
    interrupted: bool,
}

impl<W: Write> Session<'_, W> {
    /// Whether the candidate types at a prompt on a terminal (rather than lines being
    /// piped in, or the screen going to a file): then the prompt shows the clock and what
    /// they typed is not printed again.
    fn prompting(&self) -> bool {
        self.interactive && self.terminal
    }

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

    /// Prints the turns a resumed drill already has, as they were shown.
    pub fn replay(&mut self, drill: &Drill) -> std::io::Result<()> {
        let name = &self.scenario.persona.name;
        let mut text = String::new();
        for turn in drill.turns() {
            text.push_str(&match turn.role {
                Role::Antagonist => self.style.turn(turn.at_s, name, true, &turn.text),
                Role::Candidate => self.style.turn(turn.at_s, "You", false, &turn.text),
                Role::Observer => self.style.turn(turn.at_s, "Observer", false, &turn.text),
            });
        }
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    /// Runs the drill to its end, reading the candidate's lines from `input`.
    pub async fn run(
        &mut self,
        drill: &mut Drill,
        recorder: &mut impl Recorder,
        input: &mut UnboundedReceiver<Input>,
        begin: Begin,
    ) -> anyhow::Result<Option<Scorecard>> {
        let mut run = Run::default();
        self.interrupt.graceful(true);
        match begin {
            Begin::New if drill.phase() == Phase::Briefing => {
                // The clock waits for the opening: a slow model costs the candidate nothing.
                if drill.settings().mode == Mode::Solo {
                    match self.ask(drill).await? {
                        Some(opening) => run.opening = Some(opening),
                        None => run.interrupted = true,
                    }
                }
                let event = if run.interrupted {
                    Event::End
                } else {
                    Event::Start
                };
                run.queue.push_back((event, None));
            }
            Begin::New => {}
            Begin::Resumed(effects) => {
                // The store's copy catches up the same way: the clock is checked now.
                let now = self.clock.now();
                recorder.event(drill, &Event::Tick, &effects, now).await?;
                self.perform(drill, recorder, effects, &mut run).await?;
            }
        }
        loop {
            while let Some((event, at)) = run.queue.pop_front() {
                let now = at.unwrap_or_else(|| self.clock.now());
                let effects = drill.handle(event.clone(), now);
                recorder.event(drill, &event, &effects, now).await?;
                self.perform(drill, recorder, effects, &mut run).await?;
            }
            if drill.phase().is_over() {
                self.interrupt.graceful(false);
                return Ok(run.scorecard);
            }
            if self.prompting() {
                let label = format!("[{}] You", clock(drill.elapsed_s(self.clock.now())));
                let prompt = format!("{} › ", self.style.candidate(&label));
                run.typed = Some(Typed {
                    width: display_width(&label) + 3,
                    label,
                });
                self.out.write_all(prompt.as_bytes())?;
                self.out.flush()?;
            }
            // Only a wall clock fires on its own; a paced clock ticks when a line arrives.
            let wait = match (&self.clock, run.timer) {
                (Clock::Wall, Some(at)) => {
                    Some(Duration::from_millis(at.saturating_sub(self.clock.now())))
                }
                _ => None,
            };
            let got = tokio::select! {
                got = input.recv() => got.unwrap_or(Input::End),
                () = sleep_or_never(wait) => {
                    if self.prompting() {
                        self.out.write_all(b"\n")?;
                    }
                    run.queue.push_back((Event::Tick, None));
                    continue;
                }
                () = self.interrupt.wait(), if !run.interrupted => {
                    run.interrupted = true;
                    self.out.write_all(b"\n")?;
                    run.queue.push_back((Event::End, None));
                    continue;
                }
            };
            let line = match got {
                Input::Line(line) => line,
                Input::Fragment(text) => {
                    self.fragment(drill, recorder, &text, &mut run).await?;
                    continue;
                }
                Input::End => {
                    // Ctrl-D leaves the cursor after the prompt.
                    if self.prompting() {
                        self.out.write_all(b"\n")?;
                    }
                    run.queue.push_back((Event::End, None));
                    continue;
                }
            };
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(command) = line.strip_prefix('/') {
                match command.split_whitespace().next().unwrap_or("") {
                    "end" | "quit" | "exit" => run.queue.push_back((Event::End, None)),
                    "time" => run.queue.push_back((Event::AskTime, None)),
                    "help" => self
                        .out
                        .write_all(self.style.lines(HELP, "  ").as_bytes())?,
                    "brief" => self.brief(drill)?,
                    other => {
                        let text = self.style.note(&format!(
                            "unknown command /{other}; /help lists what you can use"
                        ));
                        self.out.write_all(text.as_bytes())?;
                    }
                }
                continue;
            }
            self.clock.advance();
            if run.timer.is_some_and(|at| self.clock.now() >= at) {
                run.queue.push_back((Event::Tick, None));
            }
            run.queue
                .push_back((Event::CandidateSaid(line.to_string()), None));
        }
    }

    /// The input ended in the middle of a line: what was typed is kept, marked as cut
    /// off, and the drill ends.
    async fn fragment(
        &mut self,
        drill: &mut Drill,
        recorder: &mut impl Recorder,
        text: &str,
        run: &mut Run,
    ) -> anyhow::Result<()> {
        // Ctrl-D after some words leaves the cursor after them.
        if self.prompting() {
            self.out.write_all(b"\n")?;
        }
        let text = text.trim();
        if !text.is_empty() && !text.starts_with('/') {
            self.clock.advance();
            let now = self.clock.now();
            let effects = drill.cut_off(text, now);
            for effect in &effects {
                if let Effect::PersistTurn { index, turn } = effect {
                    recorder.cut_off(drill, *index, turn).await?;
                }
            }
            self.perform(drill, recorder, effects, run).await?;
        }
        run.queue.push_back((Event::End, None));
        Ok(())
    }

    /// Performs one event's effects, in order.
    async fn perform(
        &mut self,
        drill: &Drill,
        recorder: &mut impl Recorder,
        effects: Vec<Effect>,
        run: &mut Run,
    ) -> anyhow::Result<()> {
        for effect in effects {
            match effect {
                Effect::PersistTurn { turn, .. } => {
                    if turn.role == Role::Candidate {
                        self.show_candidate(&turn, run)?;
                    }
                }
                Effect::PersistPhase(_) => {}
                Effect::AskAntagonist => {
                    let asked = match run.opening.take() {
                        Some(opening) => Some(opening),
                        None => self.ask(drill).await?,
                    };
                    let Some((line, shown_at)) = asked else {
                        // Ctrl-C while the antagonist was being asked ends the drill.
                        run.interrupted = true;
                        run.queue.push_back((Event::End, None));
                        continue;
                    };
                    if let Some((model, usage)) = &line.usage {
                        run.used += *usage;
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
                    // The turn is recorded at the moment its label went up (an opening
                    // shown before the clock started, when the clock started).
                    let at = if line.streamed {
                        shown_at.max(drill.started_at().unwrap_or(0))
                    } else {
                        if let Some(notice) = &line.notice {
                            self.out.write_all(self.style.note(notice).as_bytes())?;
                        }
                        let now = self.clock.now().max(shown_at);
                        let name = &self.scenario.persona.name;
                        let text = self
                            .style
                            .turn(drill.elapsed_s(now), name, true, &line.text);
                        self.out.write_all(text.as_bytes())?;
                        now
                    };
                    run.queue
                        .push_back((Event::AntagonistSaid(line.text), Some(at)));
                }
                Effect::ArmTimer { at } => run.timer = Some(at),
                Effect::Notify(notice) => {
                    let text = describe(&notice);
                    let text = if about_the_clock(&notice) {
                        self.style.clock_notice(&text)
                    } else {
                        self.style.note(&text)
                    };
                    self.out.write_all(text.as_bytes())?;
                }
                Effect::Debrief => {
                    // The conversation is over: Ctrl-C from here on leaves at once.
                    self.interrupt.graceful(false);
                    let card = self.debrief_drill(drill, recorder, run).await?;
                    run.scorecard = Some(card);
                    run.queue.push_back((Event::Debriefed, None));
                }
            }
        }
        if let Some(path) = crate::config::log_notice() {
            let text = format!(
                "Something went wrong behind the scenes; the drill goes on. The details are in {}.",
                path.display()
            );
            self.out.write_all(self.style.note(&text).as_bytes())?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// Shows a turn the candidate said: printed when it was piped in, and on a terminal
    /// the prompt's line relabelled when the turn was recorded at another time than the
    /// prompt showed.
    fn show_candidate(&mut self, turn: &Turn, run: &mut Run) -> std::io::Result<()> {
        let label = format!("[{}] You", clock(turn.at_s));
        match run.typed.take() {
            Some(typed) if self.prompting() => {
                if typed.label != label {
                    let rows = Style::rows(typed.width, &turn.text, textwrap::termwidth());
                    let line = format!(
                        "\x1b[{rows}A\r\x1b[J{} › {}\n",
                        self.style.candidate(&label),
                        turn.text
                    );
                    self.out.write_all(line.as_bytes())?;
                }
            }
            _ => {
                let text = self.style.turn(turn.at_s, "You", false, &turn.text);
                self.out.write_all(text.as_bytes())?;
            }
        }
        if turn.cut_off {
            let note = self.style.note(
                "That line was cut off by the end of input: it stays in the transcript, but nothing in it counts.",
            );
            self.out.write_all(note.as_bytes())?;
        }
        Ok(())
    }

    /// Asks the cast for the antagonist's next line, streaming it to the screen as it
    /// comes (behind a spinner on a terminal until it starts). Gives the line and the
    /// moment it was shown, or `None` when Ctrl-C ended the wait.
    async fn ask(&mut self, drill: &Drill) -> anyhow::Result<Option<(Line, Millis)>> {
        let name = self.scenario.persona.name.as_str();
        let thinking = format!("{name} is thinking…");
        let spin = self.terminal && self.cast.model().is_some() && !self.play.model_gave_up;
        let screen = RefCell::new(Screen {
            out: &mut self.out,
            spinning: false,
            error: None,
        });
        let mut sink = StreamOut {
            screen: &screen,
            style: self.style,
            wrap: StreamWrap::new(&self.style),
            drill,
            clock: &self.clock,
            name,
            shown_at: None,
        };
        let line = awaiting(
            &screen,
            spin.then_some(thinking.as_str()),
            Some(&self.interrupt),
            self.cast.next_line(
                &mut self.play,
                self.scenario,
                drill.settings().difficulty,
                self.seed,
                drill.turns(),
                &mut sink,
            ),
        )
        .await;
        sink.finish();
        let shown_at = sink.shown_at.unwrap_or_else(|| self.clock.now());
        screen.borrow_mut().done()?;
        Ok(line.map(|line| (line, shown_at)))
    }

    /// Scores the drill (with the judge's commentary when a model is configured), shows
    /// the debrief and keeps the scorecard.
    async fn debrief_drill(
        &mut self,
        drill: &Drill,
        recorder: &mut impl Recorder,
        run: &mut Run,
    ) -> anyhow::Result<Scorecard> {
        let model_failed = self.play.model_gave_up;
        let spin = self.terminal && self.debriefer.judges(model_failed);
        let screen = RefCell::new(Screen {
            out: &mut self.out,
            spinning: false,
            error: None,
        });
        let transcript = drill.transcript();
        let debrief = awaiting(
            &screen,
            spin.then_some("The judge is reading the drill…"),
            None,
            self.debriefer
                .debrief(self.scenario, &transcript, model_failed),
        )
        .await;
        screen.borrow_mut().done()?;
        let Some(debrief) = debrief else {
            anyhow::bail!("the debrief was not finished");
        };
        if let Some((model, usage)) = &debrief.usage {
            run.used += *usage;
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
        self.debrief(&judged, run.used)?;
        Ok(judged.card)
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

/// Whether a notice is about the drill's clock, and shown with the clock's sign.
fn about_the_clock(notice: &Notice) -> bool {
    matches!(
        notice,
        Notice::Started { .. }
            | Notice::TimeWarning { .. }
            | Notice::TimeLeft { .. }
            | Notice::Ended(EndReason::TimeUp)
    )
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
