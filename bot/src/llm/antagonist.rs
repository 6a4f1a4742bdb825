//! `OpenAiAntagonist`: the persona played by a chat model, streamed so adapters can show
//! the reply as it arrives. Each reply is checked for stepping out of the role and
//! regenerated once if it did; a stream that is malformed or ends before the model
//! finished is an error, never a half message.

use super::{LlmConfig, LlmError, Usage, to_request};
use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{ChatCompletionStreamOptions, CreateChatCompletionRequest};
use futures::StreamExt as _;
use spar_core::Scenario;
use spar_core::prompt::{
    AntagonistPrompt, AntagonistTemplates, CharacterCheck, Message, Reminder, estimate_tokens,
    prompt_tokens,
};
use spar_core::scenario::Difficulty;
use spar_core::transcript::Turn;
use std::time::{Duration, Instant};

/// Where a streamed reply goes as it arrives.
pub trait ReplySink {
    /// More of the reply, always whole sentences that passed the character check.
    fn text(&mut self, chunk: &str);
    /// What was shown so far is withdrawn: the reply broke off or is being regenerated.
    fn retract(&mut self);
}

/// The outcome of asking for one line, with the tokens spent on it either way.
#[derive(Debug)]
pub struct Attempted {
    pub result: Result<String, LlmError>,
    pub usage: Usage,
}

pub struct OpenAiAntagonist {
    client: Client<OpenAIConfig>,
    model: String,
    timeout: Duration,
    budget: usize,
    templates: AntagonistTemplates,
    check: CharacterCheck,
    reminder: Reminder,
}

/// Fresh requests after an answer that broke off, came back malformed or was empty.
const FRESH_TRIES: u32 = 1;

/// The most requests one reply can take: the first, the fresh tries, and the one
/// regeneration after the model stepped out of character.
pub const MOST_REQUESTS_PER_REPLY: u32 = 1 + FRESH_TRIES + 1;

/// What one streamed answer turned out to be.
enum Streamed {
    InCharacter(String),
    Broke(&'static str),
}

impl OpenAiAntagonist {
    pub fn new(config: &LlmConfig) -> anyhow::Result<OpenAiAntagonist> {
        Ok(OpenAiAntagonist {
            client: config.client()?,
            model: config.model.clone(),
            timeout: config.timeout,
            budget: config.context_tokens,
            templates: AntagonistTemplates::embedded()?,
            check: CharacterCheck::embedded()?,
            reminder: config.reminder,
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The persona's next line given the turns so far, streamed into `sink`.
    pub async fn reply<S: ReplySink + ?Sized>(
        &self,
        scenario: &Scenario,
        difficulty: Difficulty,
        turns: &[Turn],
        sink: &mut S,
    ) -> Attempted {
        let mut usage = Usage::default();
        let mut regenerating = false;
        let mut fresh_tries = FRESH_TRIES;
        loop {
            let messages = AntagonistPrompt {
                templates: &self.templates,
                scenario,
                difficulty,
                budget: self.budget,
                reminder: self.reminder,
            }
            .messages(turns, regenerating);
            let started = Instant::now();
            let outcome = self.stream(&messages, scenario, sink, &mut usage).await;
            let latency_ms = started.elapsed().as_millis() as u64;
            match outcome {
                Ok(Streamed::InCharacter(text)) => {
                    tracing::info!(
                        model = %self.model,
                        prompt_tokens = usage.prompt_tokens,
                        completion_tokens = usage.completion_tokens,
                        latency_ms,
                        "antagonist replied"
                    );
                    return Attempted {
                        result: Ok(text),
                        usage,
                    };
                }
                Ok(Streamed::Broke(kind)) => {
                    sink.retract();
                    tracing::info!(model = %self.model, kind, regenerating, latency_ms, "antagonist reply broke character");
                    if regenerating {
                        return Attempted {
                            result: Err(LlmError::OutOfCharacter),
                            usage,
                        };
                    }
                    regenerating = true;
                }
                Err(e) => {
                    sink.retract();
                    tracing::warn!(model = %self.model, error = %e, latency_ms, "antagonist call failed");
                    if e.worth_another_try() && fresh_tries > 0 {
                        fresh_tries -= 1;
                        continue;
                    }
                    return Attempted {
                        result: Err(e),
                        usage,
                    };
                }
            }
        }
    }

    async fn stream<S: ReplySink + ?Sized>(
        &self,
        messages: &[Message],
        scenario: &Scenario,
        sink: &mut S,
        usage: &mut Usage,
    ) -> Result<Streamed, LlmError> {
        let request = CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: to_request(messages),
            stream: Some(true),
            stream_options: Some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: None,
            }),
            ..Default::default()
        };
        let timeout = self.timeout;
        let mut stream = self
            .client
            .chat()
            .create_stream(request)
            .await
            .map_err(|e| LlmError::from_openai(e, timeout))?;
        let mut text = String::new();
        let mut shown = 0;
        let mut finished = false;
        let mut reported = None;
        let read = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| LlmError::from_openai(e, timeout))?;
                if let Some(u) = chunk.usage {
                    reported = Some(Usage {
                        prompt_tokens: u.prompt_tokens,
                        completion_tokens: u.completion_tokens,
                    });
                }
                for choice in chunk.choices {
                    if let Some(delta) = choice.delta.content {
                        text.push_str(&delta);
                    }
                    finished |= choice.finish_reason.is_some();
                }
                // Only whole sentences are shown, each after the check, so a reply that
                // steps out of the role or breaks off never shows its bad half.
                if let Some(end) = sentence_end(&text[shown..]).map(|e| shown + e) {
                    if let Some(b) = self.check.check(&text[..end], scenario) {
                        return Ok(Some(b.kind()));
                    }
                    sink.text(&text[shown..end]);
                    shown = end;
                }
            }
            Ok(None)
        };
        // reqwest's timeout already bounds each attempt; this also bounds a server that
        // keeps the connection open without sending.
        let broke = tokio::time::timeout(timeout, read)
            .await
            .map_err(|_| LlmError::Timeout(timeout))??;
        // Servers that ignore `include_usage` still cost tokens: estimate them.
        *usage += reported.unwrap_or(Usage {
            prompt_tokens: prompt_tokens(messages) as u32,
            completion_tokens: estimate_tokens(&text) as u32,
        });
        if let Some(kind) = broke {
            return Ok(Streamed::Broke(kind));
        }
        if !finished {
            return Err(LlmError::CutOff);
        }
        if text.trim().is_empty() {
            return Err(LlmError::Empty);
        }
        if let Some(b) = self.check.check(&text, scenario) {
            return Ok(Streamed::Broke(b.kind()));
        }
        sink.text(&text[shown..]);
        Ok(Streamed::InCharacter(text.trim().to_string()))
    }
}

/// The byte offset just past the last sentence end (`.`, `?` or `!` and the whitespace
/// after it) in `text`, if there is one.
fn sentence_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut end = None;
    for i in 1..bytes.len() {
        if matches!(bytes[i - 1], b'.' | b'?' | b'!') && bytes[i].is_ascii_whitespace() {
            end = Some(i + 1);
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::sentence_end;

    #[test]
    fn sentences_end_at_punctuation_followed_by_space() {
        assert_eq!(sentence_end("No."), None);
        assert_eq!(sentence_end("No. Wait"), Some(4));
        assert_eq!(sentence_end("Really? Yes! And"), Some(13));
        assert_eq!(sentence_end("p99 is 1.5 s"), None);
    }
}
