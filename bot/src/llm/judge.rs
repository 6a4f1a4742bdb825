//! `OpenAiJudge`: the optional debrief pass. One non-streaming call asking for a JSON
//! object (`json_object`, which local servers support more widely than `json_schema`);
//! the answer is validated and merged by `spar_core::judge`, never trusted as given.

use super::{LlmConfig, LlmError, Usage, to_request};
use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{CreateChatCompletionRequest, ResponseFormat};
use spar_core::Scenario;
use spar_core::judge::{
    JudgeError, JudgeTemplates, JudgedScorecard, judge_messages, merge, parse_verdict,
};
use spar_core::scoring::Scorecard;
use spar_core::transcript::Transcript;
use std::time::{Duration, Instant};

pub struct OpenAiJudge {
    client: Client<OpenAIConfig>,
    model: String,
    timeout: Duration,
    templates: JudgeTemplates,
}

/// Why the judge added nothing.
#[derive(Debug, thiserror::Error)]
pub enum JudgeFailure {
    #[error("{0}")]
    Call(#[from] LlmError),
    #[error("{0}")]
    Answer(#[from] JudgeError),
}

impl OpenAiJudge {
    pub fn new(config: &LlmConfig) -> anyhow::Result<OpenAiJudge> {
        Ok(OpenAiJudge {
            client: config.client()?,
            model: config.judge_model.clone(),
            timeout: config.timeout,
            templates: JudgeTemplates::embedded()?,
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The deterministic card with the judge's opinion merged in; on any failure, the card
    /// alone with a note saying so.
    pub async fn judge(
        &self,
        scenario: &Scenario,
        transcript: &Transcript,
        card: &Scorecard,
    ) -> (JudgedScorecard, Usage) {
        let started = Instant::now();
        match self.call(scenario, transcript, card).await {
            Ok((judged, usage)) => {
                tracing::info!(
                    model = %self.model,
                    prompt_tokens = usage.prompt_tokens,
                    completion_tokens = usage.completion_tokens,
                    latency_ms = started.elapsed().as_millis() as u64,
                    findings = judged.findings.len(),
                    "judge answered"
                );
                (judged, usage)
            }
            Err((e, usage)) => {
                tracing::warn!(model = %self.model, error = %e, "judge failed");
                let note = format!(
                    "The judge gave no usable answer ({e}); this is the deterministic scorecard alone."
                );
                (JudgedScorecard::unjudged(card.clone(), Some(note)), usage)
            }
        }
    }

    async fn call(
        &self,
        scenario: &Scenario,
        transcript: &Transcript,
        card: &Scorecard,
    ) -> Result<(JudgedScorecard, Usage), (JudgeFailure, Usage)> {
        let none = Usage::default();
        // A fresh delimiter per call: a candidate cannot type the fence that closes it.
        let delimiter = format!("TRANSCRIPT-{}", uuid::Uuid::new_v4().simple());
        let messages = judge_messages(&self.templates, scenario, transcript, card, &delimiter)
            .map_err(|e| (e.into(), none))?;
        let request = CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: to_request(&messages),
            response_format: Some(ResponseFormat::JsonObject),
            ..Default::default()
        };
        let response = self
            .client
            .chat()
            .create(request)
            .await
            .map_err(|e| (LlmError::from_openai(e, self.timeout).into(), none))?;
        let usage = response.usage.as_ref().map_or(none, |u| Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        });
        let answer = response
            .choices
            .first()
            .and_then(|c| c.message.content.clone())
            .ok_or((LlmError::Empty.into(), usage))?;
        let verdict = parse_verdict(&answer).map_err(|e| (e.into(), usage))?;
        Ok((merge(card, transcript, verdict), usage))
    }
}
