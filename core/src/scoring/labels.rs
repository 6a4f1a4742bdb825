//! What each flag, dimension and good move is called wherever a person reads it: the
//! terminal, `spar export`, `history`, `stats`, the chart, Discord and Slack. The words are
//! the `label`s of `prompts/scoring/feedback.toml`, read once, so every surface says the same
//! thing ("missed: shared goal", "evidence both ways") and none makes up its own from a
//! machine name.

use super::feedback::Feedback;
use super::lexicon::FEEDBACK_FILE;
use super::{DimensionName, FlagKind, Move};
use std::sync::LazyLock;

struct Labels {
    /// Indexed by `FlagKind as usize`.
    flags: Vec<String>,
    /// Indexed by `DimensionName as usize`.
    dimensions: Vec<String>,
    /// Indexed by `Move as usize`.
    moves: Vec<String>,
}

impl Labels {
    fn from_feedback(feedback: &Feedback) -> Labels {
        let s = &feedback.strengths;
        Labels {
            flags: feedback.flags.iter().map(|f| f.label.clone()).collect(),
            dimensions: feedback
                .dimensions
                .iter()
                .map(|d| d.label.clone())
                .collect(),
            moves: Move::ALL
                .iter()
                .map(|m| match m {
                    Move::Question => s.question.clone(),
                    Move::Acknowledgement => s.acknowledgement.clone(),
                    Move::SharedGoal => s.shared_goal.clone(),
                    Move::AsksOtherEvidence => s.asks_other_evidence.clone(),
                    Move::OwnEvidence => s.own_evidence.clone(),
                    Move::Process => s.process.clone(),
                    Move::ConditionalJointEscalation => s.conditional_joint_escalation.clone(),
                })
                .collect(),
        }
    }

    /// The machine names with spaces: only if the embedded feedback file did not load, which
    /// `the_embedded_scoring_data_loads` rules out for every build that passes its tests.
    fn plain() -> Labels {
        let spaced = |name: &str| name.replace('_', " ");
        Labels {
            flags: FlagKind::ALL.iter().map(|k| spaced(k.as_str())).collect(),
            dimensions: DimensionName::ALL
                .iter()
                .map(|d| spaced(d.as_str()))
                .collect(),
            moves: Move::ALL.iter().map(|m| spaced(m.as_str())).collect(),
        }
    }
}

static EMBEDDED: LazyLock<Labels> = LazyLock::new(|| {
    crate::embedded::prompt(FEEDBACK_FILE)
        .and_then(|text| Feedback::load(text).ok())
        .map_or_else(Labels::plain, |f| Labels::from_feedback(&f))
});

pub(super) fn flag(kind: FlagKind) -> &'static str {
    &EMBEDDED.flags[kind as usize]
}

pub(super) fn dimension(name: DimensionName) -> &'static str {
    &EMBEDDED.dimensions[name as usize]
}

pub(super) fn good_move(kind: Move) -> &'static str {
    &EMBEDDED.moves[kind as usize]
}
