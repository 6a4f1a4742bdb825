//! Who plays the antagonist in a solo drill: the scripted engine from `spar-core`, or
//! (when configured) a model that hands over to the scripted engine if it stops answering.
//! One `Cast` serves every drill of a process, the terminal's and every chat thread's;
//! what it must remember of one drill lives in that drill's `Play`.

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

/// The offline antagonist: its lines are a function of the scenario, the difficulty, the
/// drill's seed and the transcript, so a resumed drill continues exactly.
pub struct Scripted {
    shared: SharedLines,
    scorer: Scorer,
    /// What the candidate types to end a drill on this surface: `/end` in the terminal,
    /// `/spar end` in chat.
    end_command: String,
}

impl Scripted {
    pub fn new(shared: SharedLines, scorer: Scorer, end_command: &str) -> Scripted {
        Scripted {
            shared,
            scorer,
            end_command: end_command.to_string(),
        }
    }

    pub fn next_line(
        &self,
        scenario: &Scenario,
        difficulty: Difficulty,
        seed: u64,
        turns: &[Turn],
    ) -> String {
        ScriptedAntagonist::new(scenario, &self.shared, difficulty, seed, &self.end_command)
            .next_line(turns, |text| reading(&self.scorer.signals(text)))
            .text
    }
}

/// The antagonist players of a process: the scripted engine, and a model if configured.
pub struct Cast {
    scripted: Scripted,
    model: Option<OpenAiAntagonist>,
    /// The scripted engine waits this long before each line, as a model would take to
    /// answer, and no model plays: for measuring everything else under a model's latency
    /// (`spar bench load`).
    pace: Option<std::time::Duration>,
}

/// What the cast remembers of one drill.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Play {
    /// Set once the model has failed a turn of this drill; the scripted engine plays on.
    pub model_gave_up: bool,
    /// Set once the drill's workspace has spent its daily token budget; the scripted
    /// engine plays the rest of the drill, even past midnight.
    pub over_budget: bool,
}

impl Play {
    /// Whether the model may still be asked for this drill's lines.
    pub fn may_ask_model(&self) -> bool {
        !self.model_gave_up && !self.over_budget
    }
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

impl Cast {
    pub fn scripted(scripted: Scripted) -> Cast {
        Cast {
            scripted,
            model: None,
            pace: None,
        }
    }

    pub fn with_model(scripted: Scripted, model: OpenAiAntagonist) -> Cast {
        Cast {
            scripted,
            model: Some(model),
            pace: None,
        }
    }

    /// The scripted antagonist answering every line after `latency`, as a model would.
    pub fn paced(scripted: Scripted, latency: std::time::Duration) -> Cast {
        Cast {
            scripted,
            model: None,
            pace: Some(latency),
        }
    }

    /// The model's name, when one plays.
    pub fn model(&self) -> Option<&str> {
        self.model.as_ref().map(OpenAiAntagonist::model)
    }

    /// The next line of one drill. With a model, the text streams into `sink`; if the
    /// model fails, the scripted engine answers this turn and every later one of the
    /// drill, and `notice` says so once. A drill over its budget is answered by the
    /// scripted engine without asking the model.
    pub async fn next_line<S: ReplySink + ?Sized>(
        &self,
        play: &mut Play,
        scenario: &Scenario,
        difficulty: Difficulty,
        seed: u64,
        turns: &[Turn],
        sink: &mut S,
    ) -> Line {
        let scripted = |notice| Line {
            text: self.scripted.next_line(scenario, difficulty, seed, turns),
            streamed: false,
            usage: None,
            notice,
        };
        if let Some(latency) = self.pace {
            // Timed here, where a model would be called: what comes before the ask and
            // after the answer is Spar's own work.
            crate::stopwatch::asked();
            tokio::time::sleep(latency).await;
            let line = scripted(None);
            crate::stopwatch::answered();
            return line;
        }
        let model = match &self.model {
            Some(model) if play.may_ask_model() => model,
            _ => return scripted(None),
        };
        let attempted = model.reply(scenario, difficulty, turns, sink).await;
        let usage = Some((model.model().to_string(), attempted.usage));
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
                ..scripted(None)
            },
            Err(e) => {
                play.model_gave_up = true;
                let notice = format!(
                    "The model is not answering ({e}); the scripted antagonist takes over."
                );
                Line {
                    usage,
                    ..scripted(Some(notice))
                }
            }
        }
    }
}
