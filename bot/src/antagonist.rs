//! Who plays the antagonist in a solo drill: the scripted engine from `spar-core`, or
//! (when configured) an LLM. Adapters ask for the next line and get text back.

use spar_core::Scenario;
use spar_core::antagonist::{Reading, ScriptedAntagonist, SharedLines};
use spar_core::scenario::Difficulty;
use spar_core::scoring::{Scorer, Signals};
use spar_core::transcript::Turn;

/// What the scripted antagonist reacts to, taken from the scorer's reading of a turn.
pub fn reading(signals: &Signals) -> Reading {
    Reading {
        escalation: signals.escalation,
        question: signals.question,
        cites_number: signals.cites_number,
        defensive: signals.defensive,
        dismissive: signals.dismissive,
        personal: signals.personal,
        capitulates: signals.capitulates,
        // Talking to the scorer is as much a step out of the role-play as talking to the
        // antagonist's instructions; both get an in-character brush-off.
        hijack: signals.hijack || signals.addresses_scorer,
    }
}

/// The offline antagonist, deterministic for its seed.
pub struct Scripted {
    shared: SharedLines,
    scorer: Scorer,
    seed: u64,
}

impl Scripted {
    pub fn new(shared: SharedLines, scorer: Scorer, seed: u64) -> Scripted {
        Scripted {
            shared,
            scorer,
            seed,
        }
    }

    pub fn next_line(&self, scenario: &Scenario, difficulty: Difficulty, turns: &[Turn]) -> String {
        ScriptedAntagonist::new(scenario, &self.shared, difficulty, self.seed)
            .next_line(turns, |text| reading(&self.scorer.signals(text)))
            .text
    }
}
