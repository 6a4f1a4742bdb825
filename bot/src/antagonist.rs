//! Who plays the antagonist in a solo drill: the scripted engine from `spar-core`, or
//! (when configured) an LLM that hands over to the scripted engine if it stops answering.
//! Adapters ask for the next line and get text back.

use crate::llm::{LlmError, OpenAiAntagonist, ReplySink, Usage};
use spar_core::Scenario;
use spar_core::antagonist::{Reading, ScriptedAntagonist, SharedLines};
use spar_core::scenario::Difficulty;
use spar_core::scoring::{Scorer, Signals};
use spar_core::transcript::Turn;

/// What the scripted antagonist reacts to, taken from the scorer's reading of a turn.
pub fn reading(signals: &Signals) -> Reading {
    Reading::from(signals)
}

/// The offline antagonist, deterministic for its seed.
pub struct Scripted {
    shared: SharedLines,
    scorer: Scorer,
    seed: u64,
    /// What the candidate types to end a drill on this surface (`/end` in the terminal).
    end_command: String,
}

impl Scripted {
    pub fn new(shared: SharedLines, scorer: Scorer, seed: u64, end_command: &str) -> Scripted {
        Scripted {
            shared,
            scorer,
            seed,
            end_command: end_command.to_string(),
        }
    }

    pub fn next_line(&self, scenario: &Scenario, difficulty: Difficulty, turns: &[Turn]) -> String {
        ScriptedAntagonist::new(
            scenario,
            &self.shared,
            difficulty,
            self.seed,
            &self.end_command,
        )
        .next_line(turns, |text| reading(&self.scorer.signals(text)))
        .text
    }
}

/// The antagonist of one drill.
pub enum Antagonist {
    Scripted(Box<Scripted>),
    Llm(Box<LlmPlayer>),
}

/// A model playing the persona, with the scripted engine standing by.
pub struct LlmPlayer {
    pub model: OpenAiAntagonist,
    pub scripted: Scripted,
    /// Set once the model has failed a turn; the scripted engine plays from then on.
    gave_up: bool,
}

/// One antagonist line, and what the adapter must know about how it came.
#[derive(Debug)]
pub struct Line {
    pub text: String,
    /// The text already went to the sink as it arrived.
    pub streamed: bool,
    /// Tokens the model spent on this line, with the model's name.
    pub usage: Option<(String, Usage)>,
    /// Something to tell the user before the line, once.
    pub notice: Option<String>,
}

impl Antagonist {
    pub fn llm(model: OpenAiAntagonist, scripted: Scripted) -> Antagonist {
        Antagonist::Llm(Box::new(LlmPlayer {
            model,
            scripted,
            gave_up: false,
        }))
    }

    /// The next line. With a model, the text streams into `sink`; if the model fails, the
    /// scripted engine answers this turn and every later one, and `notice` says so once.
    pub async fn next_line<S: ReplySink + ?Sized>(
        &mut self,
        scenario: &Scenario,
        difficulty: Difficulty,
        turns: &[Turn],
        sink: &mut S,
    ) -> Line {
        let player = match self {
            Antagonist::Scripted(s) => return scripted_line(s, scenario, difficulty, turns, None),
            Antagonist::Llm(player) => player,
        };
        if player.gave_up {
            return scripted_line(&player.scripted, scenario, difficulty, turns, None);
        }
        let attempted = player.model.reply(scenario, difficulty, turns, sink).await;
        let usage = Some((player.model.model().to_string(), attempted.usage));
        match attempted.result {
            Ok(text) => Line {
                text,
                streamed: true,
                usage,
                notice: None,
            },
            // The model answers, just not in character: the scripted line covers this turn
            // and the model gets the next one.
            Err(LlmError::OutOfCharacter) => Line {
                usage,
                ..scripted_line(&player.scripted, scenario, difficulty, turns, None)
            },
            Err(e) => {
                player.gave_up = true;
                let notice = format!(
                    "The model is not answering ({e}); the scripted antagonist takes over."
                );
                Line {
                    usage,
                    ..scripted_line(&player.scripted, scenario, difficulty, turns, Some(notice))
                }
            }
        }
    }
}

fn scripted_line(
    scripted: &Scripted,
    scenario: &Scenario,
    difficulty: Difficulty,
    turns: &[Turn],
    notice: Option<String>,
) -> Line {
    Line {
        text: scripted.next_line(scenario, difficulty, turns),
        streamed: false,
        usage: None,
        notice,
    }
}
