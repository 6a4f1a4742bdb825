//! The debrief scorer: grades how a candidate handled a disagreement, deterministically, from
//! the transcript alone. Phrases, weights and feedback prose are data under `prompts/scoring/`;
//! this module holds the mechanism that turns them into flags, dimensions and a scorecard.

mod analysis;
pub mod eval;
mod feedback;
pub mod fit;
mod labels;
mod lexicon;
pub mod receptiveness;
pub mod render;

#[cfg(test)]
mod debrief_tests;
#[cfg(test)]
mod tests;

use crate::scenario::ScenarioLibrary;
use crate::transcript::{Role, Transcript, Turn, clock};
use analysis::{Analysis, analyze, analyze_into, sig};
use feedback::{Feedback, fill};
pub use lexicon::{
    FEEDBACK_FILE, LEXICON_FILE, LexiconError, RECEPTIVENESS_FILE, RECEPTIVENESS_MODEL_FILE,
};
use lexicon::{Lexicon, NamedPerson};
use receptiveness::{ReceptivenessModel, ReplyFeatures};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a flag points at: a harmful move at a moment, or a helpful move never made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    PrematureEscalation,
    Defensiveness,
    Dismissiveness,
    Personalizing,
    Capitulation,
    NoSharedGoal,
    NoOtherEvidence,
    NoOwnEvidence,
    NoProcess,
}

impl FlagKind {
    pub const ALL: [FlagKind; 9] = [
        FlagKind::PrematureEscalation,
        FlagKind::Defensiveness,
        FlagKind::Dismissiveness,
        FlagKind::Personalizing,
        FlagKind::Capitulation,
        FlagKind::NoSharedGoal,
        FlagKind::NoOtherEvidence,
        FlagKind::NoOwnEvidence,
        FlagKind::NoProcess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::PrematureEscalation => "premature_escalation",
            FlagKind::Defensiveness => "defensiveness",
            FlagKind::Dismissiveness => "dismissiveness",
            FlagKind::Personalizing => "personalizing",
            FlagKind::Capitulation => "capitulation",
            FlagKind::NoSharedGoal => "no_shared_goal",
            FlagKind::NoOtherEvidence => "no_other_evidence",
            FlagKind::NoOwnEvidence => "no_own_evidence",
            FlagKind::NoProcess => "no_process",
        }
    }

    /// What a person reads for this flag ("giving in", "missed: shared goal"), on every surface.
    pub fn label(self) -> &'static str {
        labels::flag(self)
    }

    /// The good move a missed-move flag says was never made.
    pub fn missed_move(self) -> Option<Move> {
        match self {
            FlagKind::NoSharedGoal => Some(Move::SharedGoal),
            FlagKind::NoOtherEvidence => Some(Move::AsksOtherEvidence),
            FlagKind::NoOwnEvidence => Some(Move::OwnEvidence),
            FlagKind::NoProcess => Some(Move::Process),
            _ => None,
        }
    }

    /// Missed moves are reported once per drill and point at no turn.
    pub fn is_missed_move(self) -> bool {
        matches!(
            self,
            FlagKind::NoSharedGoal
                | FlagKind::NoOtherEvidence
                | FlagKind::NoOwnEvidence
                | FlagKind::NoProcess
        )
    }
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given is not one of the nine flag kinds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown flag kind {0:?}")]
pub struct UnknownFlagKind(pub String);

impl FromStr for FlagKind {
    type Err = UnknownFlagKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FlagKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownFlagKind(s.to_string()))
    }
}

/// The seven things a debrief grades from 0 to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimensionName {
    Curiosity,
    Acknowledgement,
    Composure,
    CommonGround,
    EvidenceBothWays,
    Process,
    EscalationDiscipline,
}

impl DimensionName {
    pub const ALL: [DimensionName; 7] = [
        DimensionName::Curiosity,
        DimensionName::Acknowledgement,
        DimensionName::Composure,
        DimensionName::CommonGround,
        DimensionName::EvidenceBothWays,
        DimensionName::Process,
        DimensionName::EscalationDiscipline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DimensionName::Curiosity => "curiosity",
            DimensionName::Acknowledgement => "acknowledgement",
            DimensionName::Composure => "composure",
            DimensionName::CommonGround => "common_ground",
            DimensionName::EvidenceBothWays => "evidence_both_ways",
            DimensionName::Process => "process",
            DimensionName::EscalationDiscipline => "escalation_discipline",
        }
    }

    /// What a person reads for this dimension ("evidence both ways"), on every surface.
    pub fn label(self) -> &'static str {
        labels::dimension(self)
    }
}

/// The name given is not one of the seven dimensions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown dimension {0:?}")]
pub struct UnknownDimension(pub String);

impl FromStr for DimensionName {
    type Err = UnknownDimension;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DimensionName::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| UnknownDimension(s.to_string()))
    }
}

/// A good move a drill can show: each is credited once as a strength, quoted where it was
/// made, and builds one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Move {
    Question,
    Acknowledgement,
    SharedGoal,
    AsksOtherEvidence,
    OwnEvidence,
    Process,
    ConditionalJointEscalation,
}

impl Move {
    pub const ALL: [Move; 7] = [
        Move::Question,
        Move::Acknowledgement,
        Move::SharedGoal,
        Move::AsksOtherEvidence,
        Move::OwnEvidence,
        Move::Process,
        Move::ConditionalJointEscalation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Move::Question => "question",
            Move::Acknowledgement => "acknowledgement",
            Move::SharedGoal => "shared_goal",
            Move::AsksOtherEvidence => "asks_other_evidence",
            Move::OwnEvidence => "own_evidence",
            Move::Process => "process",
            Move::ConditionalJointEscalation => "conditional_joint_escalation",
        }
    }

    /// What a person reads for this move as a strength ("Named a shared goal").
    pub fn label(self) -> &'static str {
        labels::good_move(self)
    }

    /// The dimensions this move builds: asking what would change their mind is evidence
    /// both ways and a question about their reasoning too.
    pub fn dimensions(self) -> &'static [DimensionName] {
        match self {
            Move::Question => &[DimensionName::Curiosity],
            Move::Acknowledgement => &[DimensionName::Acknowledgement],
            Move::SharedGoal => &[DimensionName::CommonGround],
            Move::AsksOtherEvidence => &[DimensionName::EvidenceBothWays, DimensionName::Curiosity],
            Move::OwnEvidence => &[DimensionName::EvidenceBothWays],
            Move::Process => &[DimensionName::Process],
            Move::ConditionalJointEscalation => &[DimensionName::EscalationDiscipline],
        }
    }
}

/// A good move the drill showed, with the sentence that earned it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(from = "StrengthRecord")]
pub struct Strength {
    /// `None` only in scorecards kept from before strengths said which move they were.
    pub kind: Option<Move>,
    pub label: String,
    /// The turn (1-based, counting every turn) and time of the quoted sentence; `None` only
    /// in scorecards kept from before strengths were timed.
    pub turn: Option<usize>,
    pub at_s: Option<f64>,
    pub quote: String,
}

/// A strength as stored: today's object, or the `Label: "quote"` line older scorecards kept.
#[derive(Deserialize)]
#[serde(untagged)]
enum StrengthRecord {
    Full {
        #[serde(default)]
        kind: Option<Move>,
        label: String,
        #[serde(default)]
        turn: Option<usize>,
        #[serde(default)]
        at_s: Option<f64>,
        #[serde(default)]
        quote: String,
    },
    Line(String),
}

impl From<StrengthRecord> for Strength {
    fn from(record: StrengthRecord) -> Strength {
        match record {
            StrengthRecord::Full {
                kind,
                label,
                turn,
                at_s,
                quote,
            } => Strength {
                kind,
                label,
                turn,
                at_s,
                quote,
            },
            StrengthRecord::Line(line) => {
                let (label, quote) = match line.split_once(": \"") {
                    Some((label, rest)) => (label, rest.strip_suffix('"').unwrap_or(rest)),
                    None => (line.as_str(), ""),
                };
                Strength {
                    kind: Move::ALL.into_iter().find(|m| m.label() == label),
                    label: label.to_string(),
                    turn: None,
                    at_s: None,
                    quote: quote.to_string(),
                }
            }
        }
    }
}

impl fmt::Display for DimensionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing the debrief calls out. Moment flags carry the turn (1-based, counting every
/// turn), its time and the exact sentence; missed moves carry none of those.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Flag {
    pub kind: FlagKind,
    pub turn: Option<usize>,
    pub at_s: Option<f64>,
    pub quote: Option<String>,
    pub why: String,
    pub try_instead: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Dimension {
    pub name: DimensionName,
    /// 0 (absent or harmful) to 4 (done well and repeatedly).
    pub score: u8,
    /// Quotes, with their drill time, that the score rests on.
    pub evidence: Vec<String>,
}

/// The debrief of one drill.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Scorecard {
    pub overall: u8,
    pub flags: Vec<Flag>,
    pub dimensions: Vec<Dimension>,
    /// Each good move made, once, in the order the drill showed them.
    pub strengths: Vec<Strength>,
    pub summary: String,
    /// Things the scorer noticed and set aside, such as lines addressed to the scorer.
    pub notes: Vec<String>,
}

/// What one utterance does, for the debrief and for a scripted antagonist reacting turn by turn.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Signals {
    /// A real appeal upwards, after negation, reported speech and joint conditions are ruled out.
    pub escalation: bool,
    /// "If we still disagree on Friday, let's take both sets of numbers to Dana together."
    pub conditional_joint_escalation: bool,
    /// A genuine question about the other side's reasoning (not a rhetorical one).
    pub question: bool,
    pub cites_number: bool,
    pub shared_goal: bool,
    /// Asks, or names, what would change the other side's mind.
    pub asks_other_evidence: bool,
    /// Says what would change the speaker's own mind.
    pub states_own_evidence: bool,
    /// Proposes a concrete, impersonal next step.
    pub proposes_process: bool,
    pub acknowledges: bool,
    pub defensive: bool,
    pub dismissive: bool,
    pub personal: bool,
    /// Gives up a position under pressure without new evidence.
    pub capitulates: bool,
    /// Tries to make the antagonist break character.
    pub hijack: bool,
    /// Speaks to the scorer or judge instead of the antagonist.
    pub addresses_scorer: bool,
}

impl Signals {
    fn from_bits(bits: u32) -> Signals {
        let on = |b: u32| bits & b != 0;
        Signals {
            escalation: on(sig::ESCALATION),
            conditional_joint_escalation: on(sig::CONDITIONAL_JOINT),
            question: on(sig::QUESTION),
            cites_number: on(sig::CITES_NUMBER),
            shared_goal: on(sig::SHARED_GOAL),
            asks_other_evidence: on(sig::ASKS_OTHER),
            states_own_evidence: on(sig::STATES_OWN),
            proposes_process: on(sig::PROCESS),
            acknowledges: on(sig::ACK),
            defensive: on(sig::DEFENSIVE),
            dismissive: on(sig::DISMISSIVE),
            personal: on(sig::PERSONAL),
            capitulates: on(sig::CAPITULATES),
            hijack: on(sig::HIJACK),
            addresses_scorer: on(sig::ADDRESSES_SCORER),
        }
    }
}

/// The debrief scorer, built once from the scoring data and then used for any number of drills.
#[derive(Debug, Clone)]
pub struct Scorer {
    lexicon: Lexicon,
    feedback: Feedback,
    /// The phrase data it was built from, so a fit can rebuild it with another model.
    sources: std::sync::Arc<Sources>,
    /// The scenarios it knows the people of, in the order [`NamedPerson::scenario`] counts.
    scenarios: std::sync::Arc<Vec<ScenarioRef>>,
}

#[derive(Debug)]
struct Sources {
    lexicon: String,
    receptiveness: String,
    model: ReceptivenessModel,
    people: Vec<NamedPerson>,
}

/// What the debrief needs of a scenario: its id, and who the antagonist is.
#[derive(Debug, Clone)]
struct ScenarioRef {
    id: String,
    /// The persona's first name, as advice addresses them ("Ask Priya: ...").
    persona: String,
}

/// Titles a name can start with, which nobody is called by alone.
const TITLES: [&str; 6] = ["dr", "dr.", "prof", "prof.", "mr", "ms"];

/// The phrases that name a person: the name, and each part of a personal name.
fn person_phrases(name: &str) -> Vec<String> {
    let mut phrases = vec![name.to_string()];
    let parts: Vec<&str> = name
        .split_whitespace()
        .filter(|p| !TITLES.contains(&p.to_ascii_lowercase().as_str()))
        .collect();
    // "Marcus Okafor" is also "Marcus"; "launch committee" is not also "launch".
    if parts.len() > 1
        && parts
            .iter()
            .all(|p| p.chars().next().is_some_and(char::is_uppercase))
    {
        phrases.extend(parts.iter().filter(|p| p.len() >= 3).map(|p| p.to_string()));
    }
    phrases
}

fn first_name(name: &str) -> String {
    name.split_whitespace()
        .find(|p| !TITLES.contains(&p.to_ascii_lowercase().as_str()))
        .unwrap_or(name)
        .to_string()
}

thread_local! {
    /// A move's analysis and text buffers, kept between drills scored on one thread.
    static BUFFERS: std::cell::Cell<(Analysis, String)> = std::cell::Cell::default();
}

/// Longest quote kept from one sentence, in bytes; a debrief quotes, it does not reprint.
const MAX_QUOTE_BYTES: usize = 280;
/// Evidence quotes kept per dimension.
const MAX_EVIDENCE: usize = 3;
/// Candidate messages with no antagonist turn between them and at most this many seconds apart
/// are one move: people in chat send a thought as a run of short messages.
const BURST_GAP_S: f64 = 60.0;
/// What joins the messages of one move: a blank line, which always ends a sentence.
const MESSAGE_BREAK: &str = "\n\n";

impl Scorer {
    /// The scorer built from the data compiled into the binary, knowing the people of the
    /// embedded scenarios.
    pub fn embedded() -> Result<Scorer, LexiconError> {
        let library = ScenarioLibrary::embedded().map_err(|e| LexiconError::Scenarios {
            message: e.to_string(),
        })?;
        Scorer::embedded_data()?.with_scenarios(&library)
    }

    /// The scorer built from the data compiled into the binary, knowing no scenario.
    fn embedded_data() -> Result<Scorer, LexiconError> {
        let mut sources = Vec::new();
        for file in [
            LEXICON_FILE,
            FEEDBACK_FILE,
            RECEPTIVENESS_FILE,
            RECEPTIVENESS_MODEL_FILE,
        ] {
            let text = crate::embedded::prompt(file).ok_or_else(|| LexiconError::MissingFile {
                file: file.to_string(),
            })?;
            sources.push((file, text));
        }
        Scorer::from_toml(&sources)
    }

    /// Builds a scorer from `(file name, TOML text)` pairs naming `scoring/lexicon.toml`,
    /// `scoring/feedback.toml`, `scoring/receptiveness.toml` and
    /// `scoring/receptiveness_model.toml`, as when overriding the embedded data at run time.
    pub fn from_toml(sources: &[(&str, &str)]) -> Result<Scorer, LexiconError> {
        let find = |file: &str| {
            sources
                .iter()
                .find(|(name, _)| *name == file || name.ends_with(&format!("/{file}")))
                .map(|(_, text)| *text)
                .ok_or_else(|| LexiconError::MissingFile {
                    file: file.to_string(),
                })
        };
        let (lexicon_text, recep_text) = (find(LEXICON_FILE)?, find(RECEPTIVENESS_FILE)?);
        let model = ReceptivenessModel::from_toml(find(RECEPTIVENESS_MODEL_FILE)?)?;
        let lexicon = Lexicon::load(lexicon_text, recep_text, &model, &[])?;
        let feedback = Feedback::load(find(FEEDBACK_FILE)?)?;
        Ok(Scorer {
            lexicon,
            feedback,
            sources: std::sync::Arc::new(Sources {
                lexicon: lexicon_text.to_string(),
                receptiveness: recep_text.to_string(),
                model,
                people: Vec::new(),
            }),
            scenarios: std::sync::Arc::new(Vec::new()),
        })
    }

    /// The same scorer with another receptiveness model, as a fit tries them.
    pub fn with_model(&self, model: &ReceptivenessModel) -> Result<Scorer, LexiconError> {
        let mut scorer = self.clone();
        let sources = &self.sources;
        scorer.lexicon = Lexicon::load(
            &sources.lexicon,
            &sources.receptiveness,
            model,
            &sources.people,
        )?;
        scorer.sources = std::sync::Arc::new(Sources {
            lexicon: sources.lexicon.clone(),
            receptiveness: sources.receptiveness.clone(),
            model: model.clone(),
            people: sources.people.clone(),
        });
        Ok(scorer)
    }

    /// The same scorer knowing the people of `library`'s scenarios, so that in a drill of one
    /// of them an appeal to someone it names as above the candidate reads as escalation, and
    /// its advice addresses the persona by name.
    pub fn with_scenarios(&self, library: &ScenarioLibrary) -> Result<Scorer, LexiconError> {
        let mut scenarios = Vec::new();
        let mut people = Vec::new();
        for (index, scenario) in library.iter().enumerate() {
            scenarios.push(ScenarioRef {
                id: scenario.id.clone(),
                persona: first_name(&scenario.persona.name),
            });
            for person in &scenario.people {
                people.push(NamedPerson {
                    scenario: index as u32,
                    phrases: person_phrases(&person.name),
                    above: person.above,
                });
            }
        }
        let mut scorer = self.clone();
        let sources = &self.sources;
        scorer.lexicon = Lexicon::load(
            &sources.lexicon,
            &sources.receptiveness,
            &sources.model,
            &people,
        )?;
        // A fit may have set another share of `overall` than the model file says.
        scorer.lexicon.overall_share = self.lexicon.overall_share;
        scorer.sources = std::sync::Arc::new(Sources {
            lexicon: sources.lexicon.clone(),
            receptiveness: sources.receptiveness.clone(),
            model: sources.model.clone(),
            people,
        });
        scorer.scenarios = std::sync::Arc::new(scenarios);
        Ok(scorer)
    }

    /// The same scorer with receptiveness taking another share of a one-reply `overall`.
    pub fn with_overall_share(&self, overall_share: f64) -> Scorer {
        let mut scorer = self.clone();
        scorer.lexicon.overall_share = overall_share.clamp(0.0, 1.0);
        scorer
    }

    /// What one utterance does, read on its own without the drill's timing.
    pub fn signals(&self, text: &str) -> Signals {
        Signals::from_bits(analyze(&self.lexicon, text, None).any())
    }

    /// What one utterance does in a drill of `scenario`, whose people it knows.
    pub fn signals_in(&self, text: &str, scenario: &str) -> Signals {
        Signals::from_bits(analyze(&self.lexicon, text, self.scenario_index(Some(scenario))).any())
    }

    /// Each sentence of one utterance as read, the lexicon families found in it, and what it
    /// signals: for tracing why a rule did or did not fire.
    pub fn explain(
        &self,
        text: &str,
        scenario: Option<&str>,
    ) -> Vec<(String, Vec<String>, Signals)> {
        analyze(&self.lexicon, text, self.scenario_index(scenario))
            .explain()
            .into_iter()
            .map(|(sentence, families, bits)| (sentence, families, Signals::from_bits(bits)))
            .collect()
    }

    fn scenario_index(&self, id: Option<&str>) -> Option<u32> {
        let id = id?;
        self.scenarios
            .iter()
            .position(|s| s.id == id)
            .map(|i| i as u32)
    }

    /// What the receptiveness model reads from one reply.
    pub fn reply_features(&self, text: &str) -> ReplyFeatures {
        analyze(&self.lexicon, text, None).features()
    }

    /// The receptiveness phrase features' names, built-ins first, in the order of
    /// [`ReplyFeatures::spans`].
    pub fn receptiveness_feature_names(&self) -> &[String] {
        &self.lexicon.feature_names
    }

    /// How receptive one reply sounds, from 0 to 1.
    pub fn receptiveness(&self, text: &str) -> f64 {
        self.receptiveness_of(&analyze(&self.lexicon, text, None))
    }

    fn receptiveness_of(&self, analysis: &Analysis) -> f64 {
        let raw = analysis.receptiveness_raw(&self.lexicon);
        1.0 / (1.0 + (-raw).exp())
    }

    /// Grades a drill. Pure and deterministic: the same transcript always gets the same card.
    pub fn score(&self, transcript: &Transcript) -> Scorecard {
        let scenario = self.scenario_index(transcript.scenario.as_deref());
        let mut draft = Draft {
            scenario: transcript.scenario.clone(),
            them: scenario
                .and_then(|i| self.scenarios.get(i as usize))
                .map_or_else(|| self.feedback.summary.them.clone(), |s| s.persona.clone()),
            ..Draft::default()
        };
        let mut attempted = false;
        let mut receptiveness_sum = 0.0;
        let mut candidate_turns = 0usize;
        // The buffers of the last drill this thread scored: reading a move then allocates
        // nothing once they have grown to a drill's size.
        let (mut analysis, mut text) = BUFFERS.with(|b| b.take());
        let mut yielded = false;
        let (mut stated_own, mut proposed, mut negotiated) = (false, false, false);
        for parts in moves(&transcript.turns) {
            text.clear();
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    text.push_str(MESSAGE_BREAK);
                }
                text.push_str(&part.turn.text);
            }
            analyze_into(&self.lexicon, &text, scenario, &mut analysis);
            // Lines spoken to the scorer or meant to take the antagonist out of the role are
            // noted and then read as if never said: they change no flag, dimension or tone.
            let set_aside: Vec<std::ops::Range<usize>> = analysis
                .sentences
                .iter()
                .filter(|s| s.sig & (sig::ADDRESSES_SCORER | sig::HIJACK) != 0)
                .map(|s| analysis.source(s.start, s.end))
                .collect();
            let mut noted = 0u32;
            for sentence in &analysis.sentences {
                let s = sentence.sig;
                if s & (sig::ADDRESSES_SCORER | sig::HIJACK) == 0 {
                    continue;
                }
                let (part, quote) = quote_in(&parts, analysis.source(sentence.start, sentence.end));
                let (bit, template) = if s & sig::ADDRESSES_SCORER != 0 {
                    (sig::ADDRESSES_SCORER, &self.feedback.notes.addresses_scorer)
                } else {
                    (sig::HIJACK, &self.feedback.notes.hijack)
                };
                if noted & bit == 0 {
                    noted |= bit;
                    let turn_text = part.number.to_string();
                    draft.notes.push(fill(
                        template,
                        &[("turn", turn_text.as_str()), ("quote", quote)],
                    ));
                }
            }
            if !set_aside.is_empty() {
                let mut kept = text.clone().into_bytes();
                for range in &set_aside {
                    kept[range.clone()].fill(b' ');
                }
                // Ranges of the text as typed fall on character boundaries, and spaces are
                // one byte each, so the text stays valid UTF-8 with every offset in place.
                text = String::from_utf8(kept).unwrap_or_default();
                analyze_into(&self.lexicon, &text, scenario, &mut analysis);
                if text.trim().is_empty() {
                    continue;
                }
            }
            // Deferring in one move and backing off in the next, with nothing learnt between,
            // is giving in over two turns.
            let whole = analysis.any();
            let settled = sig::CAPITULATES | sig::PROCESS | sig::STATES_OWN | sig::HOLDS;
            if yielded && whole & sig::RETREATS != 0 && whole & settled == 0 {
                if let Some(s) = analysis
                    .sentences
                    .iter_mut()
                    .find(|s| s.sig & sig::RETREATS != 0)
                {
                    s.sig |= sig::CAPITULATES;
                }
            }
            yielded = whole & sig::YIELDS != 0;
            // Settling on their number after proposing a test and saying what would move you
            // is how a negotiation ends, not giving in.
            if negotiated {
                for s in &mut analysis.sentences {
                    s.sig &= !sig::CAPITULATES;
                }
            }
            stated_own |= whole & sig::STATES_OWN != 0;
            proposed |= whole & sig::PROCESS != 0;
            negotiated = stated_own && proposed;
            candidate_turns += 1;
            receptiveness_sum += self.receptiveness_of(&analysis);
            let mut flagged = 0u32;
            let credited_before = draft.credits.len();
            for sentence in &analysis.sentences {
                let (part, quote) = quote_in(&parts, analysis.source(sentence.start, sentence.end));
                let moment = Moment {
                    turn: part.number,
                    at_s: part.turn.at_s,
                };
                let s = sentence.sig;
                if s & (sig::ESCALATION | sig::CONDITIONAL_JOINT) != 0 {
                    let premature = if s & sig::ESCALATION != 0 {
                        (moment.at_s < self.feedback.timing.early_escalation_s
                            && s & sig::JOINT == 0)
                            || !attempted
                    } else {
                        !attempted
                    };
                    if premature {
                        draft.premature = true;
                        self.flag(
                            &mut draft,
                            &mut flagged,
                            FlagKind::PrematureEscalation,
                            moment,
                            quote,
                        );
                    } else if s & sig::ESCALATION != 0 {
                        draft.late_escalation = true;
                    } else {
                        draft.joint_escalation += 1;
                        draft.credit(Move::ConditionalJointEscalation, moment, quote, s);
                    }
                    draft.evidence(DimensionName::EscalationDiscipline, moment, quote);
                }
                for (bit, kind) in [
                    (sig::DEFENSIVE, FlagKind::Defensiveness),
                    (sig::DISMISSIVE, FlagKind::Dismissiveness),
                    (sig::PERSONAL, FlagKind::Personalizing),
                    (sig::CAPITULATES, FlagKind::Capitulation),
                ] {
                    if s & bit != 0 {
                        self.flag(&mut draft, &mut flagged, kind, moment, quote);
                        draft.evidence(DimensionName::Composure, moment, quote);
                    }
                }
                if s & sig::QUESTION != 0 {
                    draft.questions += 1;
                    draft.evidence(DimensionName::Curiosity, moment, quote);
                    if s & sig::ASKS_OTHER == 0 {
                        draft.credit(Move::Question, moment, quote, s);
                    }
                }
                if s & sig::ASKS_OTHER != 0 {
                    draft.asks_other += 1;
                    draft.evidence(DimensionName::EvidenceBothWays, moment, quote);
                    draft.credit(Move::AsksOtherEvidence, moment, quote, s);
                }
                if s & sig::STATES_OWN != 0 {
                    draft.states_own += 1;
                    draft.evidence(DimensionName::EvidenceBothWays, moment, quote);
                    draft.credit(Move::OwnEvidence, moment, quote, s);
                }
                if s & sig::CITES_NUMBER != 0 {
                    draft.numbers += 1;
                }
                if s & sig::ACK != 0 {
                    draft.acks += 1;
                    draft.evidence(DimensionName::Acknowledgement, moment, quote);
                    draft.credit(Move::Acknowledgement, moment, quote, s);
                }
                if s & sig::SHARED_GOAL != 0 {
                    draft.shared_goals += 1;
                    draft.evidence(DimensionName::CommonGround, moment, quote);
                    draft.credit(Move::SharedGoal, moment, quote, s);
                }
                if s & sig::PROCESS != 0 {
                    draft.process += 1;
                    draft.evidence(DimensionName::Process, moment, quote);
                    draft.credit(Move::Process, moment, quote, s);
                }
                if s & sig::ATTEMPT != 0 {
                    attempted = true;
                }
            }
            draft.close_move(credited_before);
        }

        let missed = [
            (FlagKind::NoSharedGoal, draft.shared_goals == 0),
            (FlagKind::NoOtherEvidence, draft.asks_other == 0),
            (FlagKind::NoOwnEvidence, draft.states_own == 0),
            (
                FlagKind::NoProcess,
                draft.process == 0 && draft.joint_escalation == 0,
            ),
        ];
        let harmful = draft.flags.len();
        for (kind, is_missed) in missed {
            if is_missed {
                let text = &self.feedback.flags[kind as usize];
                draft.flags.push(Flag {
                    kind,
                    turn: None,
                    at_s: None,
                    quote: None,
                    why: text.why.clone(),
                    try_instead: self.feedback.try_instead(
                        kind,
                        draft.scenario.as_deref(),
                        &draft.them,
                    ),
                });
            }
        }

        let dimensions = self.dimensions(&mut draft, candidate_turns);
        let missed_moves = draft.flags.len() - harmful;
        let overall = if candidate_turns == 0 {
            0
        } else {
            let rule = &self.feedback.overall;
            let weighted: f64 = dimensions
                .iter()
                .zip(&rule.weights)
                .map(|(d, w)| f64::from(d.score) * w)
                .sum();
            let drill = weighted / (4.0 * rule.weights.iter().sum::<f64>()) * 100.0;
            let receptive = receptiveness_sum / candidate_turns as f64 * 100.0;
            // Tone is most of what a single reply shows. Over a drill of several moves, the
            // moves made and missed are what a coach would grade; a tone model fitted on
            // policy debates has no say there.
            let share = if candidate_turns == 1 {
                self.lexicon.overall_share
            } else {
                0.0
            };
            let mixed = (1.0 - share) * drill + share * receptive;
            (mixed
                - rule.harmful_penalty * harmful as f64
                - rule.missed_penalty * missed_moves as f64)
                .round()
                .clamp(0.0, 100.0) as u8
        };
        BUFFERS.with(|b| b.replace((analysis, text)));
        let strengths = strengths(&draft.credits);
        let summary = self.summary(
            overall,
            &dimensions,
            &draft.flags,
            &strengths,
            candidate_turns,
        );
        Scorecard {
            overall,
            flags: draft.flags,
            dimensions,
            strengths,
            summary,
            notes: draft.notes,
        }
    }

    fn flag(&self, draft: &mut Draft, flagged: &mut u32, kind: FlagKind, at: Moment, quote: &str) {
        // One flag of a kind per move: a move is one thought, however many sentences or
        // messages it has.
        let bit = 1u32 << (kind as u32);
        if *flagged & bit != 0 {
            return;
        }
        *flagged |= bit;
        let text = &self.feedback.flags[kind as usize];
        draft.flags.push(Flag {
            kind,
            turn: Some(at.turn),
            at_s: Some(at.at_s),
            quote: Some(quote.to_string()),
            why: text.why.clone(),
            try_instead: self
                .feedback
                .try_instead(kind, draft.scenario.as_deref(), &draft.them),
        });
    }

    fn dimensions(&self, draft: &mut Draft, candidate_turns: usize) -> Vec<Dimension> {
        let count = |k: FlagKind| draft.flags.iter().filter(|f| f.kind == k).count() as i32;
        let ladder = |n: u32| match n {
            0 => 0,
            1 => 2,
            2 => 3,
            _ => 4,
        };
        let defensive = count(FlagKind::Defensiveness);
        let dismissive = count(FlagKind::Dismissiveness);
        let personal = count(FlagKind::Personalizing);
        let capitulated = count(FlagKind::Capitulation);
        let both_ways = 2 * i32::from(draft.asks_other > 0) + 2 * i32::from(draft.states_own > 0);
        let scores: [i32; 7] = [
            ladder(draft.questions) + i32::from(draft.asks_other > 0),
            ladder(draft.acks) - dismissive,
            4 - defensive - 2 * personal - dismissive - capitulated,
            match draft.shared_goals {
                0 => i32::from(draft.acks > 0),
                1 => 3,
                _ => 4,
            },
            both_ways + i32::from(both_ways < 4 && draft.numbers > 0) - capitulated,
            match draft.process {
                0 => 0,
                1 => 3,
                _ => 4,
            } + 2 * i32::from(draft.joint_escalation > 0),
            if draft.premature {
                0
            } else if draft.late_escalation {
                2
            } else {
                4
            },
        ];
        DimensionName::ALL
            .iter()
            .zip(scores)
            .map(|(&name, score)| Dimension {
                name,
                score: if candidate_turns == 0 {
                    0
                } else {
                    score.clamp(0, 4) as u8
                },
                evidence: std::mem::take(&mut draft.evidence[name as usize]),
            })
            .collect()
    }

    /// Three sentences: how the drill went, the strongest dimension the drill showed a move
    /// for, and one thing to do next time that the strengths do not show was already done.
    fn summary(
        &self,
        overall: u8,
        dims: &[Dimension],
        flags: &[Flag],
        strengths: &[Strength],
        turns: usize,
    ) -> String {
        let text = &self.feedback.summary;
        let overall_text = overall.to_string();
        let first = if turns == 0 {
            text.no_candidate.clone()
        } else {
            text.bands
                .iter()
                .find(|b| overall >= b.min)
                .map(|b| fill(&b.text, &[("overall", overall_text.as_str())]))
                .unwrap_or_default()
        };
        let made = |m: Move| strengths.iter().any(|s| s.kind == Some(m));
        let shown = |d: DimensionName| {
            Move::ALL
                .into_iter()
                .any(|m| made(m) && m.dimensions().contains(&d))
        };
        // A dimension is only as strong as a move the drill shows for it: a full composure
        // bar on a drill of one quiet sentence is nothing to be strong at.
        let best = dims.iter().filter(|d| d.score > 0 && shown(d.name)).fold(
            None::<&Dimension>,
            |best, d| match best {
                Some(b) if b.score >= d.score => Some(b),
                _ => Some(d),
            },
        );
        let second = match best {
            Some(d) => {
                let score = d.score.to_string();
                fill(
                    &text.strongest,
                    &[("dimension", d.name.label()), ("score", &score)],
                )
            }
            None => text.no_strength.clone(),
        };
        // The first harmful moment matters most (its advice asks them to stop, not for a
        // move); failing that, the first missed move; failing that, the weakest dimension
        // whose own moves were not made. Advice never asks for what the strengths list shows.
        let harmful = flags
            .iter()
            .filter(|f| !f.kind.is_missed_move())
            .min_by(|a, b| {
                let at = |f: &Flag| f.at_s.unwrap_or(f64::INFINITY);
                at(a).total_cmp(&at(b))
            })
            .map(|f| &self.feedback.flags[f.kind as usize].focus);
        let missed = || {
            flags
                .iter()
                .find(|f| f.kind.missed_move().is_some_and(|m| !made(m)))
                .map(|f| &self.feedback.flags[f.kind as usize].focus)
        };
        let weakest = || {
            dims.iter()
                .filter(|d| d.score < 4 && !shown(d.name))
                .fold(None::<&Dimension>, |w, d| match w {
                    Some(w) if w.score <= d.score => Some(w),
                    _ => Some(d),
                })
                .map(|d| &self.feedback.dimensions[d.name as usize].focus)
        };
        let third = match harmful.or_else(missed).or_else(weakest) {
            Some(focus) => fill(&text.focus, &[("focus", focus.as_str())]),
            None => text.keep.clone(),
        };
        format!("{first} {second} {third}")
    }

    /// The label a dimension is shown with in a debrief.
    pub fn dimension_label(&self, name: DimensionName) -> &str {
        name.label()
    }
}

#[derive(Debug, Clone, Copy)]
struct Moment {
    turn: usize,
    at_s: f64,
}

/// What the scorer has seen so far in a drill.
#[derive(Default)]
struct Draft {
    /// The drill's scenario id, and how advice names the antagonist.
    scenario: Option<String>,
    them: String,
    flags: Vec<Flag>,
    notes: Vec<String>,
    /// Every sentence that made a good move, from which each strength's quote is chosen.
    credits: Vec<Credit>,
    evidence: [Vec<String>; 7],
    questions: u32,
    asks_other: u32,
    states_own: u32,
    acks: u32,
    shared_goals: u32,
    process: u32,
    numbers: u32,
    joint_escalation: u32,
    premature: bool,
    late_escalation: bool,
}

impl Draft {
    fn evidence(&mut self, name: DimensionName, at: Moment, quote: &str) {
        let list = &mut self.evidence[name as usize];
        if list.len() < MAX_EVIDENCE {
            list.push(format!("{} \"{quote}\"", clock(at.at_s)));
        }
    }

    fn credit(&mut self, kind: Move, at: Moment, quote: &str, sentence: u32) {
        let moves = [
            sig::QUESTION,
            sig::ACK,
            sig::SHARED_GOAL,
            sig::ASKS_OTHER,
            sig::STATES_OWN,
            sig::PROCESS,
            sig::CONDITIONAL_JOINT,
        ];
        let count = moves.iter().filter(|&&bit| sentence & bit != 0).count() as u32;
        self.credits.push(Credit {
            kind,
            at,
            quote: quote.to_string(),
            others: count.saturating_sub(1),
            move_others: 0,
        });
    }

    /// Notes, on each good move made in the move whose credits start at `first`, how many
    /// other kinds of good move that move made.
    fn close_move(&mut self, first: usize) {
        let mut kinds: Vec<Move> = Vec::new();
        for c in &self.credits[first..] {
            if !kinds.contains(&c.kind) {
                kinds.push(c.kind);
            }
        }
        let others = kinds.len().saturating_sub(1) as u32;
        for c in &mut self.credits[first..] {
            c.move_others = others;
        }
    }
}

/// A sentence that made a good move, and how many other good moves it and its move made.
struct Credit {
    kind: Move,
    at: Moment,
    quote: String,
    others: u32,
    move_others: u32,
}

/// One strength per move the drill made, each quoting the sentence that shows that move
/// best: one no other strength quotes when there is one, then the one that does least else
/// (a plan on its own rather than a goal that happens to mention a plan), then the one from
/// the turn that was most about it (the turn that proposes the plan rather than one that
/// also names the goal and asks a question), then the earliest. Listed in the order said.
fn strengths(credits: &[Credit]) -> Vec<Strength> {
    let mut kinds: Vec<Move> = Vec::new();
    for credit in credits {
        if !kinds.contains(&credit.kind) {
            kinds.push(credit.kind);
        }
    }
    let mut chosen: Vec<&Credit> = Vec::new();
    for kind in kinds {
        let taken = |c: &Credit| {
            chosen
                .iter()
                .any(|o| o.at.turn == c.at.turn && o.quote == c.quote)
        };
        // A plan firms up as a drill goes on: the next step to quote is the last one
        // proposed, not an early offer the candidate built on ("I can run it on your config"
        // before "a shared benchmark, then a 5% canary with a rollback rule").
        let latest = kind == Move::Process;
        let best = credits
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == kind)
            .min_by_key(|(i, c)| {
                if latest {
                    (taken(c), 0, 0, usize::MAX - *i)
                } else {
                    (taken(c), c.others, c.move_others, *i)
                }
            })
            .map(|(_, c)| c);
        if let Some(best) = best {
            chosen.push(best);
        }
    }
    chosen.sort_by_key(|c| c.at.turn);
    chosen
        .into_iter()
        .map(|c| Strength {
            kind: Some(c.kind),
            label: c.kind.label().to_string(),
            turn: Some(c.at.turn),
            at_s: Some(c.at.at_s),
            quote: c.quote.clone(),
        })
        .collect()
}

/// One candidate message of a move: the turn, and its number counting every turn from 1.
struct Part<'a> {
    number: usize,
    turn: &'a Turn,
}

/// The candidate's moves, in order: each a run of candidate messages with no antagonist turn
/// between them and no long pause. Observers' turns are kept in the transcript but neither
/// scored nor a reply, and so is a line the input cut off before it was sent.
fn moves(turns: &[Turn]) -> Vec<Vec<Part<'_>>> {
    let mut out: Vec<Vec<Part<'_>>> = Vec::new();
    let mut open = false;
    for (i, turn) in turns.iter().enumerate() {
        match turn.role {
            Role::Antagonist => open = false,
            Role::Observer => {}
            Role::Candidate if turn.cut_off => {}
            Role::Candidate => {
                let part = Part {
                    number: i + 1,
                    turn,
                };
                match out.last_mut() {
                    Some(current)
                        if open
                            && current
                                .last()
                                .is_some_and(|p| turn.at_s - p.turn.at_s <= BURST_GAP_S) =>
                    {
                        current.push(part)
                    }
                    _ => out.push(vec![part]),
                }
                open = true;
            }
        }
    }
    out
}

/// The message a range of a move's text lies in, and the range as written in it, cut at a
/// character boundary if very long, so a quote is always a substring of its turn.
fn quote_in<'a, 'p>(
    parts: &'p [Part<'a>],
    range: std::ops::Range<usize>,
) -> (&'p Part<'a>, &'a str) {
    let mut offset = 0;
    let mut found = 0;
    for (i, part) in parts.iter().enumerate() {
        if range.start >= offset {
            found = i;
        }
        offset += part.turn.text.len() + MESSAGE_BREAK.len();
    }
    let part = &parts[found];
    let base: usize = parts[..found]
        .iter()
        .map(|p| p.turn.text.len() + MESSAGE_BREAK.len())
        .sum();
    let own = &part.turn.text;
    let start = range.start.saturating_sub(base).min(own.len());
    let mut end = range.end.saturating_sub(base).clamp(start, own.len());
    end = end.min(start + MAX_QUOTE_BYTES);
    while end > start && !own.is_char_boundary(end) {
        end -= 1;
    }
    let quote = own.get(start..end).unwrap_or("");
    (part, quote)
}
