//! The LLM adapter: an OpenAI-compatible chat-completions client (OpenAI, Azure-style
//! gateways, Ollama, vLLM, LM Studio, llama.cpp server) with a timeout and a retry policy,
//! shared by the antagonist and the debrief judge. Prompts and checks come from
//! `spar_core::prompt` and `spar_core::judge`; this module only talks HTTP.

pub mod antagonist;
pub mod judge;

use crate::config::LlmSettings;
use crate::failure::input_error;
use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::{HttpRequestFactory, ReqwestService};
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
};
use spar_core::prompt::{Message, Reminder, Speaker};
use std::future::Future;
use std::hash::BuildHasher as _;
use std::pin::Pin;
use std::time::Duration;
use tower::{Service, ServiceExt as _};

pub use antagonist::{OpenAiAntagonist, ReplySink};
pub use judge::OpenAiJudge;

/// Where requests go when no base URL is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Everything needed to call a model, validated from the settings.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub base_url: String,
    api_key: crate::config::Secret,
    pub model: String,
    pub judge_model: String,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub context_tokens: usize,
    /// Where the antagonist's role reminder goes in each prompt.
    pub reminder: Reminder,
}

impl LlmConfig {
    /// `None` when no model is configured: the scripted antagonist plays and nothing judges.
    pub fn from_settings(llm: &LlmSettings) -> anyhow::Result<Option<LlmConfig>> {
        let Some(model) = llm
            .model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        else {
            return Ok(None);
        };
        let timeout_s = llm.timeout_s.unwrap_or(30.0);
        if !timeout_s.is_finite() || timeout_s <= 0.0 || timeout_s > 3600.0 {
            return Err(input_error(
                "llm.timeout_s (SPAR_LLM_TIMEOUT_S) must be a number of seconds above 0",
            ));
        }
        let max_attempts = llm.max_attempts.unwrap_or(3);
        if !(1..=10).contains(&max_attempts) {
            return Err(input_error(
                "llm.max_attempts (SPAR_LLM_MAX_ATTEMPTS) must be between 1 and 10",
            ));
        }
        let context_tokens = llm.context_tokens.unwrap_or(3000);
        if context_tokens < spar_core::prompt::MIN_BUDGET {
            return Err(input_error(format!(
                "llm.context_tokens (SPAR_LLM_CONTEXT_TOKENS) must be at least {}",
                spar_core::prompt::MIN_BUDGET
            )));
        }
        let base_url = llm
            .base_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty())
            .unwrap_or(DEFAULT_BASE_URL)
            .to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(input_error(format!(
                "llm.base_url (SPAR_LLM_BASE_URL) {base_url:?} must start with http:// or https://"
            )));
        }
        Ok(Some(LlmConfig {
            base_url,
            api_key: llm.api_key.clone(),
            model: model.to_string(),
            judge_model: llm
                .judge_model
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .unwrap_or(model)
                .to_string(),
            timeout: Duration::from_secs_f64(timeout_s),
            retry: RetryPolicy {
                max_attempts,
                base: Duration::from_millis(llm.retry_base_ms.unwrap_or(500)),
                max_delay: Duration::from_secs(20),
            },
            context_tokens,
            reminder: llm.reminder.unwrap_or_default(),
        }))
    }

    /// The longest one antagonist reply can take, every retry included: each of its
    /// requests (`antagonist::MOST_REQUESTS_PER_REPLY`) makes up to `max_attempts`
    /// attempts, each bounded by the timeout, with at most `max_delay` of backoff between
    /// them. Whoever asks for a reply after a restart holds the drill for this long.
    pub fn longest_reply(&self) -> Duration {
        let attempts = self.retry.max_attempts;
        let one_request = self.timeout.saturating_mul(attempts).saturating_add(
            self.retry
                .max_delay
                .saturating_mul(attempts.saturating_sub(1)),
        );
        one_request.saturating_mul(antagonist::MOST_REQUESTS_PER_REPLY)
    }

    /// A client with the timeout and retry policy. async-openai's own retry layer has a
    /// fixed schedule without jitter, so it is replaced by `HttpRetry`.
    pub fn client(&self) -> anyhow::Result<Client<OpenAIConfig>> {
        let http = reqwest::Client::builder()
            .connect_timeout(self.timeout)
            // Covers the whole response, streamed body included, per attempt.
            .timeout(self.timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("building the HTTP client for the model: {e}"))?;
        let config = OpenAIConfig::new()
            .with_api_base(&self.base_url)
            // Local servers take any key, or none.
            .with_api_key(self.api_key.expose());
        Ok(
            Client::build(http.clone(), config).with_http_service(HttpRetry {
                inner: ReqwestService::new(http),
                policy: self.retry,
            }),
        )
    }
}

/// Tokens one call (or one drill) used, as the server reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.prompt_tokens = self.prompt_tokens.saturating_add(other.prompt_tokens);
        self.completion_tokens = self
            .completion_tokens
            .saturating_add(other.completion_tokens);
    }
}

/// Why a model call gave no usable answer. The message is shown to the user in one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("no answer within {0:.0?}")]
    Timeout(Duration),
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("could not reach the server")]
    Unreachable,
    #[error("the reply stream broke off before it finished")]
    CutOff,
    #[error("the reply was malformed")]
    Malformed,
    #[error("the reply was empty")]
    Empty,
    #[error("the model would not stay in character")]
    OutOfCharacter,
}

impl LlmError {
    fn from_openai(error: OpenAIError, timeout: Duration) -> LlmError {
        match error {
            OpenAIError::ApiError(e) => LlmError::Status(e.status_code.as_u16()),
            OpenAIError::Reqwest(e) if e.is_timeout() => LlmError::Timeout(timeout),
            OpenAIError::Reqwest(e) if e.is_decode() || e.is_body() => LlmError::CutOff,
            OpenAIError::Reqwest(_) | OpenAIError::Boxed(_) => LlmError::Unreachable,
            OpenAIError::JSONDeserialize(..) => LlmError::Malformed,
            // The body stream failing mid-way: a connection drop or the per-attempt timeout.
            OpenAIError::StreamError(e) if e.to_string().contains("timed out") => {
                LlmError::Timeout(timeout)
            }
            OpenAIError::StreamError(_) => LlmError::CutOff,
            _ => LlmError::Malformed,
        }
    }

    /// Faults of one answer that a fresh attempt may not repeat. HTTP statuses and
    /// timeouts were already retried by `HttpRetry`.
    fn worth_another_try(&self) -> bool {
        matches!(
            self,
            LlmError::CutOff | LlmError::Malformed | LlmError::Empty
        )
    }
}

/// When to try a call again and how long to wait first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled for each one after.
    pub base: Duration,
    /// The longest wait; a server asking for longer (`Retry-After`) is given up on.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`. A server's `Retry-After` is honoured as given
    /// (callers give up when it exceeds `max_delay`); otherwise exponential backoff with
    /// full jitter in [½, 1½) of the step, so many clients don't retry in lockstep.
    /// `jitter` is a number in [0, 1).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(wait) = retry_after {
            return wait;
        }
        let step = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        step.mul_f64(0.5 + jitter.clamp(0.0, 1.0))
            .min(self.max_delay)
    }
}

/// A number in [0, 1) that differs per call, without a random-number crate: each
/// `RandomState` is freshly keyed by the standard library.
fn jitter() -> f64 {
    let bits = std::collections::hash_map::RandomState::new().hash_one(0u8);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After` in seconds; the HTTP-date form is rare from these APIs and treated as absent.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Retries 429, 5xx, connection failures and timeouts below async-openai, where the
/// response headers (and so `Retry-After`) are still visible.
#[derive(Clone)]
struct HttpRetry {
    inner: ReqwestService,
    policy: RetryPolicy,
}

type HttpFuture =
    Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send + 'static>>;

impl Service<HttpRequestFactory> for HttpRetry {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = HttpFuture;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: HttpRequestFactory) -> Self::Future {
        let inner = self.inner.clone();
        let policy = self.policy;
        Box::pin(async move {
            let mut attempt = 1;
            loop {
                let result = inner.clone().oneshot(request.clone()).await;
                let status = result.as_ref().ok().map(|r| r.status().as_u16());
                let retryable = match &result {
                    Ok(r) => r.status().as_u16() == 429 || r.status().is_server_error(),
                    Err(OpenAIError::Reqwest(e)) => e.is_connect() || e.is_timeout(),
                    Err(_) => false,
                };
                if !retryable || attempt >= policy.max_attempts {
                    return result;
                }
                let asked = result.as_ref().ok().and_then(|r| retry_after(r.headers()));
                if asked.is_some_and(|wait| wait > policy.max_delay) {
                    tracing::info!(
                        ?status,
                        ?asked,
                        "model server asks for a longer wait than we allow"
                    );
                    return result;
                }
                let delay = policy.delay(attempt, asked, jitter());
                tracing::debug!(
                    attempt,
                    ?status,
                    delay_ms = delay.as_millis() as u64,
                    "retrying the model call"
                );
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
        })
    }
}

/// A core prompt as async-openai request messages.
fn to_request(messages: &[Message]) -> Vec<ChatCompletionRequestMessage> {
    messages
        .iter()
        .map(|m| match m.speaker {
            Speaker::System => ChatCompletionRequestSystemMessage::from(m.content.as_str()).into(),
            Speaker::User => ChatCompletionRequestUserMessage::from(m.content.as_str()).into(),
            Speaker::Assistant => {
                ChatCompletionRequestAssistantMessage::from(m.content.as_str()).into()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = policy();
        assert_eq!(p.delay(1, None, 0.0), Duration::from_millis(50));
        assert_eq!(p.delay(1, None, 0.5), Duration::from_millis(100));
        assert_eq!(p.delay(3, None, 0.5), Duration::from_millis(400));
        assert_eq!(p.delay(20, None, 0.9), Duration::from_secs(2));
    }

    #[test]
    fn retry_after_wins_over_backoff() {
        assert_eq!(
            policy().delay(1, Some(Duration::from_secs(1)), 0.0),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn jitter_stays_in_range_and_varies() {
        let draws: Vec<f64> = (0..32).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)));
        assert!(draws.iter().any(|j| *j != draws[0]));
    }

    #[test]
    fn no_model_means_no_llm_and_a_bad_timeout_is_refused() {
        assert!(
            LlmConfig::from_settings(&LlmSettings::default())
                .unwrap()
                .is_none()
        );
        let settings = LlmSettings {
            model: Some("m".into()),
            timeout_s: Some(0.0),
            ..LlmSettings::default()
        };
        assert!(LlmConfig::from_settings(&settings).is_err());
        let settings = LlmSettings {
            model: Some("m".into()),
            ..LlmSettings::default()
        };
        let config = LlmConfig::from_settings(&settings).unwrap().unwrap();
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.judge_model, "m");
        assert_eq!(config.timeout, Duration::from_secs(30));
    }

    #[test]
    fn the_longest_reply_counts_every_attempt_backoff_and_regeneration() {
        let settings = LlmSettings {
            model: Some("m".into()),
            timeout_s: Some(10.0),
            max_attempts: Some(2),
            ..LlmSettings::default()
        };
        let config = LlmConfig::from_settings(&settings).unwrap().unwrap();
        // Three requests, each two 10-second attempts with up to 20 seconds between them.
        assert_eq!(
            config.longest_reply(),
            Duration::from_secs(3 * (2 * 10 + 20))
        );
    }

    #[test]
    fn the_engines_default_recovery_lease_covers_a_reply_under_default_settings() {
        let settings = LlmSettings {
            model: Some("m".into()),
            ..LlmSettings::default()
        };
        let config = LlmConfig::from_settings(&settings).unwrap().unwrap();
        assert_eq!(crate::engine::RECOVERY_LEASE, config.longest_reply());
    }
}
