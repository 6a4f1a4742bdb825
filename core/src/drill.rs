//! The drill state machine. A drill moves briefing → live → wrap-up → debriefed (or
//! abandoned); `Drill::handle(event, now)` returns the effects the shell must perform.
//! Time is passed in as milliseconds on the shell's clock; the core never reads one.

use crate::scenario::Difficulty;
use crate::transcript::{MAX_TURN_BYTES, Role, Transcript, Turn};
use serde::{Deserialize, Serialize};

/// Milliseconds on the shell's clock (wall time in production, a fixed pace in tests).
pub type Millis = u64;

/// Seconds-left marks at which the candidate is warned, largest first.
pub const WARNINGS_S: [u32; 2] = [120, 30];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The candidate is reading the setting; the clock has not started.
    Briefing,
    /// The conversation is running against the clock.
    Live,
    /// The conversation is over and the scorecard is being prepared.
    WrapUp,
    /// The scorecard has been delivered.
    Debriefed,
    /// Ended without a debrief.
    Abandoned,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Briefing => "briefing",
            Phase::Live => "live",
            Phase::WrapUp => "wrap_up",
            Phase::Debriefed => "debriefed",
            Phase::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        [
            Phase::Briefing,
            Phase::Live,
            Phase::WrapUp,
            Phase::Debriefed,
            Phase::Abandoned,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    pub fn is_over(self) -> bool {
        matches!(self, Phase::Debriefed | Phase::Abandoned)
    }
}

/// Who plays the antagonist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The engine (scripted or LLM) plays the antagonist.
    Solo,
    /// A person plays the antagonist from the secret brief.
    Peer,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Solo => "solo",
            Mode::Peer => "peer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Someone asked to end (`/end`, end of input, a button).
    Command,
    /// The time limit ran out.
    TimeUp,
    /// The candidate used the last turn allowed.
    TurnCap,
}

/// What a drill is set up with; fixed for its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillSettings {
    pub scenario_id: String,
    pub difficulty: Difficulty,
    pub mode: Mode,
    pub time_limit_s: u32,
    /// How many candidate turns the drill allows before it ends by itself.
    pub max_turns: u32,
}

/// Inputs to a drill, from a person, the antagonist or the clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The candidate has read the brief: start the clock.
    Start,
    CandidateSaid(String),
    /// The antagonist's reply (from the engine or the peer playing it).
    AntagonistSaid(String),
    /// The engine's reply to a request, written from the first `seen` turns. Where the
    /// candidate spoke again while it was being written (chat does not wait its turn),
    /// the antagonist is asked again, so no turn goes unanswered.
    AntagonistAnswered {
        text: String,
        seen: usize,
    },
    ObserverSaid(String),
    /// A timer armed by `Effect::ArmTimer` fired (or any moment the shell wants checked).
    Tick,
    /// Someone asked to end the conversation and get the debrief.
    End,
    /// The drill is dropped with no debrief.
    Abandon,
    /// The shell has delivered the scorecard.
    Debriefed,
    /// `/time`: how long is left.
    AskTime,
}

/// What the shell must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Store this turn durably before performing any later effect.
    PersistTurn { index: usize, turn: Turn },
    /// The drill's phase changed; store it.
    PersistPhase(Phase),
    /// Produce the antagonist's next line and feed it back as `Event::AntagonistSaid`.
    AskAntagonist,
    /// Call back with `Event::Tick` at this moment; replaces any earlier timer.
    ArmTimer { at: Millis },
    /// Tell the participants something.
    Notify(Notice),
    /// Score the transcript and feed back `Event::Debriefed` once it is shown.
    Debrief,
}

/// Who a notice is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// Everyone in the drill: in chat, the whole thread.
    Everyone,
    /// Only the person whose event caused it; in chat, a private reply.
    Sender,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The clock started; the drill ends at the latest after this many seconds.
    Started {
        time_limit_s: u32,
    },
    TimeWarning {
        seconds_left: u32,
    },
    TimeLeft {
        seconds_left: u32,
        candidate_turns_left: u32,
    },
    Ended(EndReason),
    /// An input that the drill refused, with why, in one sentence.
    Rejected(String),
}

impl Notice {
    /// A refusal or an answer to `/time` concerns only who asked; the clock concerns all.
    pub fn recipient(&self) -> Recipient {
        match self {
            Notice::Rejected(_) | Notice::TimeLeft { .. } => Recipient::Sender,
            Notice::Started { .. } | Notice::TimeWarning { .. } | Notice::Ended(_) => {
                Recipient::Everyone
            }
        }
    }
}

/// One drill's state. Build with `Drill::new`, or `Drill::resume` after a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct Drill {
    settings: DrillSettings,
    phase: Phase,
    started_at: Option<Millis>,
    turns: Vec<Turn>,
    warned: usize,
    awaiting_antagonist: bool,
    end_reason: Option<EndReason>,
}

impl Drill {
    pub fn new(settings: DrillSettings) -> Drill {
        Drill {
            settings,
            phase: Phase::Briefing,
            started_at: None,
            turns: Vec::new(),
            warned: 0,
            awaiting_antagonist: false,
            end_reason: None,
        }
    }

    /// Rebuilds a drill from what the store kept. Warnings already past are not repeated,
    /// and a live drill whose last turn is the candidate's is still owed a reply.
    pub fn resume(
        settings: DrillSettings,
        phase: Phase,
        started_at: Option<Millis>,
        turns: Vec<Turn>,
        now: Millis,
    ) -> (Drill, Vec<Effect>) {
        let mut drill = Drill {
            settings,
            phase,
            started_at,
            turns,
            warned: 0,
            awaiting_antagonist: false,
            end_reason: None,
        };
        let mut effects = Vec::new();
        match phase {
            Phase::Live => {
                let elapsed = drill.elapsed_s(now);
                drill.warned = WARNINGS_S
                    .iter()
                    .filter(|&&w| f64::from(drill.settings.time_limit_s) - elapsed <= f64::from(w))
                    .count();
                // An observer's aside does not answer the candidate: look past it.
                let owed = match drill.settings.mode {
                    Mode::Solo => drill
                        .turns
                        .iter()
                        .rev()
                        .find(|t| t.role != Role::Observer)
                        .is_none_or(|t| t.role == Role::Candidate),
                    Mode::Peer => false,
                };
                effects.extend(drill.check_clock(now));
                if drill.phase == Phase::Live && owed {
                    drill.awaiting_antagonist = true;
                    effects.push(Effect::AskAntagonist);
                }
                if drill.phase == Phase::Live {
                    effects.extend(drill.arm(now));
                }
            }
            // A drill that ended but was never debriefed still owes its scorecard.
            Phase::WrapUp => effects.push(Effect::Debrief),
            Phase::Briefing | Phase::Debriefed | Phase::Abandoned => {}
        }
        (drill, effects)
    }

    pub fn settings(&self) -> &DrillSettings {
        &self.settings
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn turns(&self) -> &[Turn] {
        &self.turns
    }

    pub fn started_at(&self) -> Option<Millis> {
        self.started_at
    }

    pub fn end_reason(&self) -> Option<EndReason> {
        self.end_reason
    }

    /// Whether the antagonist has been asked for a line that has not arrived yet.
    pub fn awaiting_antagonist(&self) -> bool {
        self.awaiting_antagonist
    }

    pub fn transcript(&self) -> Transcript {
        Transcript {
            scenario: Some(self.settings.scenario_id.clone()),
            turns: self.turns.clone(),
        }
    }

    /// Seconds since the clock started (0 before it did).
    pub fn elapsed_s(&self, now: Millis) -> f64 {
        self.started_at
            .map_or(0.0, |s| now.saturating_sub(s) as f64 / 1000.0)
    }

    pub fn deadline(&self) -> Option<Millis> {
        self.started_at
            .map(|s| s + u64::from(self.settings.time_limit_s) * 1000)
    }

    pub fn seconds_left(&self, now: Millis) -> u32 {
        let left = f64::from(self.settings.time_limit_s) - self.elapsed_s(now);
        left.max(0.0).ceil() as u32
    }

    fn candidate_turns(&self) -> u32 {
        self.turns
            .iter()
            .filter(|t| t.role == Role::Candidate)
            .count() as u32
    }

    /// Applies one event and returns what the shell must do, in order.
    pub fn handle(&mut self, event: Event, now: Millis) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.phase == Phase::Live {
            // Anything that happens after the deadline happens to an ended drill.
            effects.extend(self.check_clock(now));
        }
        match (self.phase, event) {
            (Phase::Briefing, Event::Start) => {
                self.phase = Phase::Live;
                self.started_at = Some(now);
                effects.push(Effect::PersistPhase(Phase::Live));
                effects.push(Effect::Notify(Notice::Started {
                    time_limit_s: self.settings.time_limit_s,
                }));
                if self.settings.mode == Mode::Solo {
                    self.awaiting_antagonist = true;
                    effects.push(Effect::AskAntagonist);
                }
                effects.extend(self.arm(now));
            }
            (Phase::Live, Event::CandidateSaid(text)) => {
                let Some(text) = self.accept_text(&text, &mut effects) else {
                    return effects;
                };
                self.record(Role::Candidate, text, now, &mut effects);
                if self.candidate_turns() >= self.settings.max_turns {
                    self.end(EndReason::TurnCap, &mut effects);
                } else if self.settings.mode == Mode::Solo && !self.awaiting_antagonist {
                    self.awaiting_antagonist = true;
                    effects.push(Effect::AskAntagonist);
                }
            }
            // In a solo drill the engine speaks only when asked: a second reply to the same
            // turn (two instances racing, a redelivered answer) is dropped, not appended.
            (Phase::Live, Event::AntagonistSaid(_) | Event::AntagonistAnswered { .. })
                if self.settings.mode == Mode::Solo && !self.awaiting_antagonist => {}
            (Phase::Live, Event::AntagonistAnswered { text, seen }) => {
                self.awaiting_antagonist = false;
                let Some(text) = self.accept_text(&text, &mut effects) else {
                    return effects;
                };
                let missed = self
                    .turns
                    .iter()
                    .skip(seen)
                    .any(|t| t.role == Role::Candidate);
                self.record(Role::Antagonist, text, now, &mut effects);
                if missed && self.settings.mode == Mode::Solo {
                    self.awaiting_antagonist = true;
                    effects.push(Effect::AskAntagonist);
                }
            }
            (Phase::Live, Event::AntagonistSaid(text)) => {
                self.awaiting_antagonist = false;
                let Some(text) = self.accept_text(&text, &mut effects) else {
                    return effects;
                };
                self.record(Role::Antagonist, text, now, &mut effects);
            }
            (Phase::Live, Event::ObserverSaid(text)) => {
                let Some(text) = self.accept_text(&text, &mut effects) else {
                    return effects;
                };
                self.record(Role::Observer, text, now, &mut effects);
            }
            (Phase::Live, Event::Tick) => effects.extend(self.arm(now)),
            (Phase::Live, Event::AskTime) => effects.push(Effect::Notify(Notice::TimeLeft {
                seconds_left: self.seconds_left(now),
                candidate_turns_left: self
                    .settings
                    .max_turns
                    .saturating_sub(self.candidate_turns()),
            })),
            (Phase::Briefing | Phase::Live, Event::End) => {
                if self.phase == Phase::Briefing
                    || !self.turns.iter().any(|t| t.role == Role::Candidate)
                {
                    // Nothing the candidate said means nothing to score.
                    self.phase = Phase::Abandoned;
                    effects.push(Effect::PersistPhase(Phase::Abandoned));
                    effects.push(Effect::Notify(Notice::Ended(EndReason::Command)));
                } else {
                    self.end(EndReason::Command, &mut effects);
                }
            }
            (Phase::Briefing | Phase::Live | Phase::WrapUp, Event::Abandon) => {
                self.phase = Phase::Abandoned;
                effects.push(Effect::PersistPhase(Phase::Abandoned));
            }
            (Phase::WrapUp, Event::Debriefed) => {
                self.phase = Phase::Debriefed;
                effects.push(Effect::PersistPhase(Phase::Debriefed));
            }
            // A reply that arrives after the drill ended is dropped: the transcript that
            // was scored is the one the candidate saw.
            (_, Event::AntagonistSaid(_) | Event::AntagonistAnswered { .. }) => {
                self.awaiting_antagonist = false;
            }
            (phase, Event::CandidateSaid(_) | Event::ObserverSaid(_))
                if phase != Phase::Briefing =>
            {
                effects.push(Effect::Notify(Notice::Rejected(
                    "this drill has ended; start a new one to keep practising".into(),
                )));
            }
            (Phase::Briefing, Event::CandidateSaid(_) | Event::ObserverSaid(_)) => {
                effects.push(Effect::Notify(Notice::Rejected(
                    "the drill has not started yet".into(),
                )));
            }
            // Everything else (a late tick, a repeated end) changes nothing.
            _ => {}
        }
        effects
    }

    /// The candidate's input ended in the middle of a line (Ctrl-D, or a pipe whose last
    /// line has no newline). A live drill keeps the words as a candidate turn marked
    /// `cut_off`: the transcript shows what was typed, but nothing was sent, so it asks no
    /// reply and earns no move. The shell then ends the drill with `Event::End`. There is
    /// no event for this, since only a shell reading a stream meets a half-typed line.
    pub fn cut_off(&mut self, text: &str, now: Millis) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.phase != Phase::Live {
            return effects;
        }
        if let Some(text) = self.accept_text(text, &mut effects) {
            self.record(Role::Candidate, text, now, &mut effects);
            if let Some(Effect::PersistTurn { turn, .. }) = effects.last_mut() {
                turn.cut_off = true;
            }
            if let Some(turn) = self.turns.last_mut() {
                turn.cut_off = true;
            }
        }
        effects
    }

    fn accept_text<'t>(&self, text: &'t str, effects: &mut Vec<Effect>) -> Option<&'t str> {
        let text = text.trim();
        if text.is_empty() {
            effects.push(Effect::Notify(Notice::Rejected(
                "that message was empty".into(),
            )));
            None
        } else if text.len() > MAX_TURN_BYTES {
            effects.push(Effect::Notify(Notice::Rejected(format!(
                "that message is {} KiB; a turn can be at most {} KiB, so say it in fewer words",
                text.len() / 1024,
                MAX_TURN_BYTES / 1024
            ))));
            None
        } else {
            Some(text)
        }
    }

    fn record(&mut self, role: Role, text: &str, now: Millis, effects: &mut Vec<Effect>) {
        let limit = f64::from(self.settings.time_limit_s);
        let turn = Turn {
            role,
            at_s: self.elapsed_s(now).min(limit),
            text: text.to_string(),
            cut_off: false,
        };
        effects.push(Effect::PersistTurn {
            index: self.turns.len(),
            turn: turn.clone(),
        });
        self.turns.push(turn);
    }

    fn end(&mut self, reason: EndReason, effects: &mut Vec<Effect>) {
        self.phase = Phase::WrapUp;
        self.end_reason = Some(reason);
        self.awaiting_antagonist = false;
        effects.push(Effect::PersistPhase(Phase::WrapUp));
        effects.push(Effect::Notify(Notice::Ended(reason)));
        effects.push(Effect::Debrief);
    }

    /// Ends the drill if its time is up and gives any warning now due.
    fn check_clock(&mut self, now: Millis) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.deadline().is_some_and(|d| now >= d) {
            if self.candidate_turns() == 0 {
                self.phase = Phase::Abandoned;
                effects.push(Effect::PersistPhase(Phase::Abandoned));
                effects.push(Effect::Notify(Notice::Ended(EndReason::TimeUp)));
            } else {
                self.end(EndReason::TimeUp, &mut effects);
            }
            return effects;
        }
        let left = f64::from(self.settings.time_limit_s) - self.elapsed_s(now);
        let mut due = None;
        while self.warned < WARNINGS_S.len() && left <= f64::from(WARNINGS_S[self.warned]) {
            // A warning is only worth giving if the drill is longer than its mark.
            if self.settings.time_limit_s > WARNINGS_S[self.warned] {
                due = Some(WARNINGS_S[self.warned]);
            }
            self.warned += 1;
        }
        if due.is_some() {
            effects.push(Effect::Notify(Notice::TimeWarning {
                seconds_left: self.seconds_left(now),
            }));
        }
        effects
    }

    /// Arms the timer for the next warning or the deadline, after giving what is due.
    fn arm(&mut self, now: Millis) -> Vec<Effect> {
        let mut effects = self.check_clock(now);
        if self.phase != Phase::Live {
            return effects;
        }
        let Some(deadline) = self.deadline() else {
            return effects;
        };
        let next = WARNINGS_S[self.warned.min(WARNINGS_S.len())..]
            .iter()
            .map(|&w| deadline.saturating_sub(u64::from(w) * 1000))
            .find(|&at| at > now)
            .unwrap_or(deadline);
        effects.push(Effect::ArmTimer { at: next });
        effects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Millis = 1000;
    const T0: Millis = 1_700_000_000_000;

    fn settings(time_limit_s: u32, max_turns: u32, mode: Mode) -> DrillSettings {
        DrillSettings {
            scenario_id: "latency-regression".into(),
            difficulty: Difficulty::Standard,
            mode,
            time_limit_s,
            max_turns,
        }
    }

    fn live(time_limit_s: u32, max_turns: u32) -> Drill {
        let mut d = Drill::new(settings(time_limit_s, max_turns, Mode::Solo));
        d.handle(Event::Start, T0);
        d.handle(Event::AntagonistSaid("It ships.".into()), T0 + 2 * S);
        d
    }

    fn notices(effects: &[Effect]) -> Vec<Notice> {
        effects
            .iter()
            .filter_map(|e| {
                if let Effect::Notify(n) = e {
                    Some(n.clone())
                } else {
                    None
                }
            })
            .collect()
    }

    fn timer(effects: &[Effect]) -> Option<Millis> {
        effects.iter().find_map(|e| {
            if let Effect::ArmTimer { at } = e {
                Some(*at)
            } else {
                None
            }
        })
    }

    #[test]
    fn starting_a_solo_drill_asks_the_antagonist_to_open_and_arms_the_first_warning() {
        let mut d = Drill::new(settings(480, 20, Mode::Solo));
        let effects = d.handle(Event::Start, T0);
        assert_eq!(d.phase(), Phase::Live);
        assert!(effects.contains(&Effect::AskAntagonist));
        assert_eq!(
            timer(&effects),
            Some(T0 + 360 * S),
            "first timer is the two-minute warning"
        );
    }

    #[test]
    fn a_peer_drill_waits_for_the_person_playing_the_antagonist() {
        let mut d = Drill::new(settings(480, 20, Mode::Peer));
        let effects = d.handle(Event::Start, T0);
        assert!(!effects.contains(&Effect::AskAntagonist));
        let effects = d.handle(Event::CandidateSaid("Hi".into()), T0 + 5 * S);
        assert!(!effects.contains(&Effect::AskAntagonist));
    }

    #[test]
    fn a_candidate_turn_is_persisted_before_the_antagonist_is_asked() {
        let mut d = live(480, 20);
        let effects = d.handle(
            Event::CandidateSaid("  What drives the date?  ".into()),
            T0 + 42_500,
        );
        let persist = effects
            .iter()
            .position(|e| matches!(e, Effect::PersistTurn { .. }))
            .unwrap();
        let ask = effects
            .iter()
            .position(|e| e == &Effect::AskAntagonist)
            .unwrap();
        assert!(persist < ask);
        assert_eq!(
            d.turns()[1],
            Turn {
                role: Role::Candidate,
                at_s: 42.5,
                text: "What drives the date?".into(),
                cut_off: false,
            }
        );
    }

    #[test]
    fn a_line_cut_off_is_kept_marked_and_asks_no_reply() {
        let mut d = live(480, 20);
        let effects = d.cut_off("  What would change yo ", T0 + 20 * S);
        assert_eq!(
            effects,
            vec![Effect::PersistTurn {
                index: 1,
                turn: Turn {
                    role: Role::Candidate,
                    at_s: 20.0,
                    text: "What would change yo".into(),
                    cut_off: true,
                },
            }]
        );
        assert_eq!(d.turns()[1], effects_turn(&effects));
        assert!(d.transcript().candidate_turns().next().is_none());
        let end = d.handle(Event::End, T0 + 21 * S);
        assert!(
            end.contains(&Effect::Debrief),
            "what was typed is still debriefed"
        );
        assert!(
            d.cut_off("more", T0 + 22 * S).is_empty(),
            "only a live drill keeps one"
        );
    }

    fn effects_turn(effects: &[Effect]) -> Turn {
        match &effects[0] {
            Effect::PersistTurn { turn, .. } => turn.clone(),
            other => panic!("not a turn: {other:?}"),
        }
    }

    #[test]
    fn the_antagonist_is_asked_once_while_a_reply_is_outstanding() {
        let mut d = live(480, 20);
        assert!(
            d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S)
                .contains(&Effect::AskAntagonist)
        );
        assert!(
            !d.handle(Event::CandidateSaid("two".into()), T0 + 11 * S)
                .contains(&Effect::AskAntagonist)
        );
        d.handle(Event::AntagonistSaid("reply".into()), T0 + 12 * S);
        assert!(
            d.handle(Event::CandidateSaid("three".into()), T0 + 13 * S)
                .contains(&Effect::AskAntagonist)
        );
    }

    #[test]
    fn warnings_come_at_two_minutes_and_thirty_seconds_left_then_time_ends_the_drill() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("hello".into()), T0 + 10 * S);
        let at_warning = d.handle(Event::Tick, T0 + 360 * S);
        assert_eq!(
            notices(&at_warning),
            vec![Notice::TimeWarning { seconds_left: 120 }]
        );
        assert_eq!(timer(&at_warning), Some(T0 + 450 * S));
        let at_last = d.handle(Event::Tick, T0 + 450 * S);
        assert_eq!(
            notices(&at_last),
            vec![Notice::TimeWarning { seconds_left: 30 }]
        );
        assert_eq!(timer(&at_last), Some(T0 + 480 * S));
        let at_end = d.handle(Event::Tick, T0 + 480 * S);
        assert_eq!(notices(&at_end), vec![Notice::Ended(EndReason::TimeUp)]);
        assert!(at_end.contains(&Effect::Debrief));
        assert_eq!(d.phase(), Phase::WrapUp);
        assert_eq!(d.end_reason(), Some(EndReason::TimeUp));
    }

    #[test]
    fn a_late_tick_gives_only_the_latest_warning() {
        let mut d = live(480, 20);
        let effects = d.handle(Event::Tick, T0 + 455 * S);
        assert_eq!(
            notices(&effects),
            vec![Notice::TimeWarning { seconds_left: 25 }]
        );
        assert!(
            notices(&d.handle(Event::Tick, T0 + 456 * S)).is_empty(),
            "no warning twice"
        );
    }

    #[test]
    fn a_drill_shorter_than_two_minutes_skips_the_two_minute_warning() {
        let mut d = live(90, 20);
        let effects = d.handle(Event::Tick, T0 + 61 * S);
        assert_eq!(
            notices(&effects),
            vec![Notice::TimeWarning { seconds_left: 29 }]
        );
    }

    #[test]
    fn a_message_after_the_deadline_ends_the_drill_and_is_refused() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("hello".into()), T0 + 10 * S);
        let effects = d.handle(Event::CandidateSaid("too late".into()), T0 + 500 * S);
        assert_eq!(d.phase(), Phase::WrapUp);
        assert!(matches!(
            notices(&effects)[..],
            [Notice::Ended(EndReason::TimeUp), Notice::Rejected(_)]
        ));
        assert_eq!(d.turns().len(), 2);
    }

    #[test]
    fn the_turn_cap_ends_the_drill_after_the_last_candidate_turn() {
        let mut d = live(480, 2);
        d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S);
        d.handle(Event::AntagonistSaid("r".into()), T0 + 11 * S);
        let effects = d.handle(Event::CandidateSaid("two".into()), T0 + 20 * S);
        assert!(!effects.contains(&Effect::AskAntagonist));
        assert_eq!(notices(&effects), vec![Notice::Ended(EndReason::TurnCap)]);
        assert_eq!(d.phase(), Phase::WrapUp);
    }

    #[test]
    fn end_by_command_debriefs_and_debriefed_closes_the_drill() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S);
        let effects = d.handle(Event::End, T0 + 20 * S);
        assert!(effects.contains(&Effect::Debrief));
        assert_eq!(
            d.handle(Event::Debriefed, T0 + 21 * S),
            vec![Effect::PersistPhase(Phase::Debriefed)]
        );
        assert!(d.phase().is_over());
    }

    #[test]
    fn ending_before_the_candidate_spoke_abandons_without_a_debrief() {
        let mut d = live(480, 20);
        let effects = d.handle(Event::End, T0 + 20 * S);
        assert_eq!(d.phase(), Phase::Abandoned);
        assert!(!effects.contains(&Effect::Debrief));
    }

    #[test]
    fn empty_and_oversized_messages_are_refused_with_a_reason() {
        let mut d = live(480, 20);
        let empty = d.handle(Event::CandidateSaid("   ".into()), T0 + 10 * S);
        assert_eq!(
            notices(&empty),
            vec![Notice::Rejected("that message was empty".into())]
        );
        let huge = d.handle(
            Event::CandidateSaid("x".repeat(MAX_TURN_BYTES + 1)),
            T0 + 11 * S,
        );
        assert!(
            matches!(&notices(&huge)[..], [Notice::Rejected(why)] if why.contains("at most 64 KiB"))
        );
        assert_eq!(d.turns().len(), 1);
    }

    #[test]
    fn a_reply_after_the_end_is_dropped() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S);
        d.handle(Event::End, T0 + 11 * S);
        assert!(
            d.handle(Event::AntagonistSaid("late".into()), T0 + 12 * S)
                .is_empty()
        );
        assert_eq!(d.turns().len(), 2);
    }

    #[test]
    fn a_second_engine_reply_to_the_same_turn_is_dropped() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S);
        d.handle(Event::AntagonistSaid("first".into()), T0 + 11 * S);
        assert!(
            d.handle(Event::AntagonistSaid("second".into()), T0 + 12 * S)
                .is_empty()
        );
        assert_eq!(d.turns().len(), 3);
    }

    #[test]
    fn a_resumed_drill_still_owes_a_reply_when_an_observer_spoke_after_the_candidate() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S);
        d.handle(Event::ObserverSaid("nice question".into()), T0 + 11 * S);
        let (resumed, effects) = Drill::resume(
            d.settings().clone(),
            Phase::Live,
            d.started_at(),
            d.turns().to_vec(),
            T0 + 20 * S,
        );
        assert!(resumed.awaiting_antagonist());
        assert!(effects.contains(&Effect::AskAntagonist));
        let (replied, _) = Drill::resume(
            d.settings().clone(),
            Phase::Live,
            d.started_at(),
            [
                d.turns(),
                &[Turn {
                    role: Role::Antagonist,
                    at_s: 12.0,
                    text: "r".into(),
                    cut_off: false,
                }],
            ]
            .concat(),
            T0 + 20 * S,
        );
        assert!(
            !replied.awaiting_antagonist(),
            "a drill whose last word is the engine's owes nothing"
        );
    }

    #[test]
    fn a_turn_the_candidate_added_while_the_reply_was_written_is_answered_next() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S);
        // The reply is being written from the first two turns when another arrives.
        d.handle(Event::CandidateSaid("and two".into()), T0 + 11 * S);
        let effects = d.handle(
            Event::AntagonistAnswered {
                text: "About one.".into(),
                seen: 2,
            },
            T0 + 12 * S,
        );
        assert!(effects.contains(&Effect::AskAntagonist));
        assert!(d.awaiting_antagonist());
        // A reply written from everything asks for nothing more.
        let effects = d.handle(
            Event::AntagonistAnswered {
                text: "About two.".into(),
                seen: 4,
            },
            T0 + 13 * S,
        );
        assert!(!effects.contains(&Effect::AskAntagonist));
        assert_eq!(d.turns().len(), 5);
    }

    #[test]
    fn a_peer_antagonist_may_speak_at_any_time() {
        let mut d = Drill::new(settings(480, 20, Mode::Peer));
        d.handle(Event::Start, T0);
        d.handle(Event::AntagonistSaid("first".into()), T0 + S);
        d.handle(
            Event::AntagonistSaid("and another thing".into()),
            T0 + 2 * S,
        );
        assert_eq!(d.turns().len(), 2);
    }

    #[test]
    fn a_refusal_and_the_time_left_go_to_who_asked_and_the_clock_to_everyone() {
        let mut d = live(480, 20);
        let refused = d.handle(Event::CandidateSaid(" ".into()), T0 + 5 * S);
        let asked = d.handle(Event::AskTime, T0 + 6 * S);
        let warned = d.handle(Event::Tick, T0 + 360 * S);
        let to = |effects: &[Effect]| -> Vec<Recipient> {
            notices(effects).iter().map(Notice::recipient).collect()
        };
        assert_eq!(to(&refused), vec![Recipient::Sender]);
        assert_eq!(to(&asked), vec![Recipient::Sender]);
        assert_eq!(to(&warned), vec![Recipient::Everyone]);
    }

    #[test]
    fn time_left_reports_seconds_and_turns() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S);
        let effects = d.handle(Event::AskTime, T0 + 100 * S);
        assert_eq!(
            notices(&effects),
            vec![Notice::TimeLeft {
                seconds_left: 380,
                candidate_turns_left: 19
            }]
        );
    }

    #[test]
    fn a_resumed_drill_owes_a_reply_to_the_candidates_last_turn_and_rearms_its_timer() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S);
        let (resumed, effects) = Drill::resume(
            d.settings().clone(),
            Phase::Live,
            d.started_at(),
            d.turns().to_vec(),
            T0 + 400 * S,
        );
        assert!(resumed.awaiting_antagonist());
        assert!(effects.contains(&Effect::AskAntagonist));
        assert_eq!(
            timer(&effects),
            Some(T0 + 450 * S),
            "the passed two-minute mark is not repeated"
        );
        assert!(
            notices(&effects).is_empty(),
            "a warning given before the restart is not given again"
        );
    }

    #[test]
    fn a_drill_resumed_after_its_deadline_goes_straight_to_its_debrief() {
        let mut d = live(480, 20);
        d.handle(Event::CandidateSaid("one".into()), T0 + 10 * S);
        let (resumed, effects) = Drill::resume(
            d.settings().clone(),
            Phase::Live,
            d.started_at(),
            d.turns().to_vec(),
            T0 + 900 * S,
        );
        assert_eq!(resumed.phase(), Phase::WrapUp);
        assert!(effects.contains(&Effect::Debrief));
        assert!(!effects.contains(&Effect::AskAntagonist));
    }
}
