//! Scorecards for the surfaces' rendering tests: the same card whatever the platform, so
//! Discord's and Slack's limits are tested on one shape.

use spar_core::Scenario;
use spar_core::judge::JudgedScorecard;
use spar_core::scenario::ScenarioLibrary;
use spar_core::scoring::{Dimension, DimensionName, Flag, FlagKind, Move, Scorecard, Strength};

/// A card with `flags` flags, alternating a timed defensiveness flag quoting `quote(i)` and an
/// untimed missed next step, every dimension at 2 and one strength.
pub(crate) fn scorecard_with(
    flags: usize,
    quote: impl Fn(usize) -> String,
) -> (JudgedScorecard, Scenario) {
    let scenario = ScenarioLibrary::embedded()
        .expect("library")
        .get("latency-regression")
        .expect("scenario")
        .clone();
    let card = Scorecard {
        overall: 42,
        flags: (0..flags)
            .map(|i| Flag {
                kind: if i % 2 == 0 {
                    FlagKind::Defensiveness
                } else {
                    FlagKind::NoProcess
                },
                turn: (i % 2 == 0).then_some(i + 1),
                at_s: (i % 2 == 0).then_some(i as f64 * 7.5),
                quote: (i % 2 == 0).then(|| quote(i)),
                why: "Because it reads as a defence.".into(),
                try_instead: "Ask what looks wrong.".into(),
            })
            .collect(),
        dimensions: DimensionName::ALL
            .iter()
            .map(|&name| Dimension {
                name,
                score: 2,
                evidence: vec![],
            })
            .collect(),
        strengths: vec![Strength {
            kind: Some(Move::Question),
            label: Move::Question.label().into(),
            turn: Some(2),
            at_s: Some(30.0),
            quote: "What is the deadline for?".into(),
        }],
        summary: "Mixed.".into(),
        notes: vec![],
    };
    (JudgedScorecard::unjudged(card, None), scenario)
}
