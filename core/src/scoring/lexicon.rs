//! Loads the scoring data under `prompts/scoring/` and compiles every phrase of every family and
//! receptiveness feature into one phrase index, so a turn is read once however many phrases
//! there are.

use super::phrases::{PhraseIndex, PhraseIndexBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The data files the scorer is built from, as named to `Scorer::from_toml`.
pub const LEXICON_FILE: &str = "scoring/lexicon.toml";
pub const FEEDBACK_FILE: &str = "scoring/feedback.toml";
pub const RECEPTIVENESS_FILE: &str = "scoring/receptiveness.toml";
/// Fitted word and word-pair weights; optional, and written by the `fit_receptiveness` example.
pub const RECEPTIVENESS_WORDS_FILE: &str = "scoring/receptiveness_words.toml";

/// Why the scoring data could not be loaded. Every message names the file, and the field
/// when there is one, so whoever edits the data knows where to look.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LexiconError {
    #[error("{file}: the scorer needs this file but it was not given")]
    MissingFile { file: String },
    #[error("{file}: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: field `{field}`: {problem}")]
    Field {
        file: String,
        field: String,
        problem: String,
    },
}

/// The phrase families the scoring rules are written in terms of. The rules live in
/// `analysis.rs`; the phrases for each family live in `lexicon.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    EscalationDirect,
    EscalationAct,
    EscalationTarget,
    ReportedSpeech,
    Negation,
    Conditional,
    Joint,
    QuestionOpener,
    Curiosity,
    Rhetorical,
    SharedGoal,
    AsksOtherEvidence,
    OwnEvidence,
    OwnConcession,
    Proposal,
    ProcessStep,
    Acknowledgement,
    Defensive,
    Dismissive,
    Personal,
    Capitulation,
    ChangedByEvidence,
    Hijack,
    AddressesScorer,
}

impl Family {
    pub(crate) const ALL: [Family; 24] = [
        Family::EscalationDirect,
        Family::EscalationAct,
        Family::EscalationTarget,
        Family::ReportedSpeech,
        Family::Negation,
        Family::Conditional,
        Family::Joint,
        Family::QuestionOpener,
        Family::Curiosity,
        Family::Rhetorical,
        Family::SharedGoal,
        Family::AsksOtherEvidence,
        Family::OwnEvidence,
        Family::OwnConcession,
        Family::Proposal,
        Family::ProcessStep,
        Family::Acknowledgement,
        Family::Defensive,
        Family::Dismissive,
        Family::Personal,
        Family::Capitulation,
        Family::ChangedByEvidence,
        Family::Hijack,
        Family::AddressesScorer,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Family::EscalationDirect => "escalation_direct",
            Family::EscalationAct => "escalation_act",
            Family::EscalationTarget => "escalation_target",
            Family::ReportedSpeech => "reported_speech",
            Family::Negation => "negation",
            Family::Conditional => "conditional",
            Family::Joint => "joint",
            Family::QuestionOpener => "question_opener",
            Family::Curiosity => "curiosity",
            Family::Rhetorical => "rhetorical",
            Family::SharedGoal => "shared_goal",
            Family::AsksOtherEvidence => "asks_other_evidence",
            Family::OwnEvidence => "own_evidence",
            Family::OwnConcession => "own_concession",
            Family::Proposal => "proposal",
            Family::ProcessStep => "process_step",
            Family::Acknowledgement => "acknowledgement",
            Family::Defensive => "defensive",
            Family::Dismissive => "dismissive",
            Family::Personal => "personal",
            Family::Capitulation => "capitulation",
            Family::ChangedByEvidence => "changed_by_evidence",
            Family::Hijack => "hijack",
            Family::AddressesScorer => "addresses_scorer",
        }
    }

    pub(crate) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// The receptiveness features computed in code rather than from phrases.
pub(crate) const BUILTIN_FEATURES: [&str; 4] =
    ["log_words", "question_marks", "exclamations", "caps_words"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyDef {
    negatable: bool,
    phrases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeatureDef {
    phrases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceptivenessDef {
    intercept: f64,
    overall_share: f64,
    weights: BTreeMap<String, f64>,
    features: BTreeMap<String, FeatureDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WordsDef {
    words: BTreeMap<String, f64>,
}

/// Reads the fitted word weights file, as `(phrase, weight)` pairs.
pub(crate) fn parse_words(text: &str) -> Result<Vec<(String, f64)>, LexiconError> {
    let def: WordsDef = parse(RECEPTIVENESS_WORDS_FILE, text)?;
    for (word, weight) in &def.words {
        if !weight.is_finite() {
            return Err(LexiconError::Field {
                file: RECEPTIVENESS_WORDS_FILE.to_string(),
                field: format!("words.{word:?}"),
                problem: "must be a finite number".to_string(),
            });
        }
    }
    Ok(def.words.into_iter().collect())
}

/// One owner of a compiled phrase: a lexicon family or a receptiveness feature (by index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Owner {
    Family(Family),
    Feature(usize),
}

/// The compiled phrase data: one index, and what each of its phrases means.
#[derive(Debug, Clone)]
pub(crate) struct Lexicon {
    pub(crate) phrases: PhraseIndex<Owner>,
    /// Bit set of the families whose cues a preceding negation cancels.
    pub(crate) negatable: u32,
    /// Names of all receptiveness features, built-ins first, in weight order.
    pub(crate) feature_names: Vec<String>,
    pub(crate) weights: Vec<f64>,
    pub(crate) intercept: f64,
    pub(crate) overall_share: f64,
}

fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, LexiconError> {
    toml::from_str(text).map_err(|e| LexiconError::Toml {
        file: file.to_string(),
        message: e.to_string().trim_end().to_string(),
    })
}

impl Lexicon {
    /// Compiles the families, the receptiveness features and the fitted word weights; each
    /// word (or word pair) is a receptiveness feature of its own, named `words.PHRASE`.
    pub(crate) fn load(
        lexicon: &str,
        receptiveness: &str,
        words: &[(String, f64)],
    ) -> Result<Lexicon, LexiconError> {
        let families: BTreeMap<String, FamilyDef> = parse(LEXICON_FILE, lexicon)?;
        let recep: ReceptivenessDef = parse(RECEPTIVENESS_FILE, receptiveness)?;
        let field_error = |file: &str, field: String, problem: String| LexiconError::Field {
            file: file.to_string(),
            field,
            problem,
        };

        for name in families.keys() {
            if !Family::ALL.iter().any(|f| f.name() == name) {
                let known: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
                return Err(field_error(
                    LEXICON_FILE,
                    name.clone(),
                    format!("unknown family; the scorer knows {}", known.join(", ")),
                ));
            }
        }
        let mut set = PhraseIndexBuilder::new();
        let mut negatable = 0u32;
        for family in Family::ALL {
            let def = families.get(family.name()).ok_or_else(|| {
                field_error(
                    LEXICON_FILE,
                    family.name().to_string(),
                    "missing; every family the scorer uses needs a table".to_string(),
                )
            })?;
            if def.phrases.is_empty() {
                return Err(field_error(
                    LEXICON_FILE,
                    format!("{}.phrases", family.name()),
                    "has no phrases".to_string(),
                ));
            }
            if def.negatable {
                negatable |= family.bit();
            }
            let field = format!("{}.phrases", family.name());
            for phrase in &def.phrases {
                set.add(phrase, Owner::Family(family))
                    .map_err(|problem| field_error(LEXICON_FILE, field.clone(), problem))?;
            }
        }

        let mut feature_names: Vec<String> =
            BUILTIN_FEATURES.iter().map(|s| s.to_string()).collect();
        for (index, (name, def)) in recep.features.iter().enumerate() {
            if BUILTIN_FEATURES.contains(&name.as_str()) {
                return Err(field_error(
                    RECEPTIVENESS_FILE,
                    format!("features.{name}"),
                    "is a built-in feature and takes no phrases".to_string(),
                ));
            }
            let field = format!("features.{name}.phrases");
            if def.phrases.is_empty() {
                return Err(field_error(
                    RECEPTIVENESS_FILE,
                    field,
                    "has no phrases".to_string(),
                ));
            }
            for phrase in &def.phrases {
                set.add(phrase, Owner::Feature(BUILTIN_FEATURES.len() + index))
                    .map_err(|problem| field_error(RECEPTIVENESS_FILE, field.clone(), problem))?;
            }
            feature_names.push(name.clone());
        }
        let mut weights = Vec::with_capacity(feature_names.len());
        for name in &feature_names {
            let weight = recep.weights.get(name).copied().ok_or_else(|| {
                field_error(
                    RECEPTIVENESS_FILE,
                    format!("weights.{name}"),
                    "missing; every feature needs a weight".to_string(),
                )
            })?;
            if !weight.is_finite() {
                return Err(field_error(
                    RECEPTIVENESS_FILE,
                    format!("weights.{name}"),
                    "must be a finite number".to_string(),
                ));
            }
            weights.push(weight);
        }
        for name in recep.weights.keys() {
            if !feature_names.contains(name) {
                return Err(field_error(
                    RECEPTIVENESS_FILE,
                    format!("weights.{name}"),
                    "names no feature; add [features.NAME] or remove the weight".to_string(),
                ));
            }
        }
        for (word, weight) in words {
            let index = feature_names.len();
            set.add(word, Owner::Feature(index)).map_err(|problem| {
                field_error(RECEPTIVENESS_WORDS_FILE, format!("words.{word:?}"), problem)
            })?;
            feature_names.push(format!("words.{word}"));
            weights.push(*weight);
        }
        if !(0.0..=1.0).contains(&recep.overall_share) {
            return Err(field_error(
                RECEPTIVENESS_FILE,
                "overall_share".to_string(),
                format!("must be between 0 and 1, not {}", recep.overall_share),
            ));
        }
        if !recep.intercept.is_finite() {
            return Err(field_error(
                RECEPTIVENESS_FILE,
                "intercept".to_string(),
                "must be a finite number".to_string(),
            ));
        }

        Ok(Lexicon {
            phrases: set.build(),
            negatable,
            feature_names,
            weights,
            intercept: recep.intercept,
            overall_share: recep.overall_share,
        })
    }
}
