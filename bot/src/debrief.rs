//! The debrief every surface shows: the deterministic scorecard, with the judge's
//! commentary merged in when a model is configured. The terminal and the chat runtime
//! both debrief through `Debriefer`, so a drill is judged the same wherever it ran.

use crate::llm::{OpenAiJudge, Usage};
use spar_core::Scenario;
use spar_core::judge::JudgedScorecard;
use spar_core::scoring::Scorer;
use spar_core::transcript::Transcript;

pub struct Debriefer {
    scorer: Scorer,
    judge: Option<OpenAiJudge>,
}

/// A scored drill, and the tokens the judge spent on it.
#[derive(Debug)]
pub struct Debrief {
    pub judged: JudgedScorecard,
    /// The judge's model and its usage, when it was asked.
    pub usage: Option<(String, Usage)>,
}

impl Debriefer {
    pub fn new(scorer: Scorer, judge: Option<OpenAiJudge>) -> Debriefer {
        Debriefer { scorer, judge }
    }

    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// Whether `debrief` will ask the judge, and so may take a while.
    pub fn judges(&self, model_failed: bool) -> bool {
        self.judge.is_some() && !model_failed
    }

    /// Scores the transcript and, unless `model_failed` says the model already stopped
    /// answering in this drill, asks the judge for its commentary. Asking a dead endpoint
    /// again would only keep the candidate waiting for a note saying it failed.
    pub async fn debrief(
        &self,
        scenario: &Scenario,
        transcript: &Transcript,
        model_failed: bool,
    ) -> Debrief {
        let card = self.scorer.score(transcript);
        match &self.judge {
            Some(judge) if !model_failed => {
                let (judged, usage) = judge.judge(scenario, transcript, &card).await;
                Debrief {
                    judged,
                    usage: Some((judge.model().to_string(), usage)),
                }
            }
            Some(_) => Debrief {
                judged: JudgedScorecard::unjudged(
                    card,
                    Some("The model stopped answering during the drill, so nobody judged it; this is the deterministic scorecard alone.".into()),
                ),
                usage: None,
            },
            None => Debrief {
                judged: JudgedScorecard::unjudged(card, None),
                usage: None,
            },
        }
    }
}
