//! What `spar serve` counts for its operators, in the Prometheus text format: turns, the
//! antagonist's and the judge's latency, tokens, falls back to the scripted antagonist
//! (after a model failure, or over a workspace's token budget),
//! errors by kind, and store latency by operation. Drills by phase are counted from the
//! store when scraped, so every instance reports the same, whole picture.

use crate::store::Observer;
use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::time::Duration;

pub struct Metrics {
    registry: Registry,
    /// Candidate turns applied, by platform.
    pub turns: IntCounterVec,
    /// How long the antagonist took to answer, by who played it (a model's name, or
    /// `scripted`).
    pub antagonist_seconds: HistogramVec,
    /// How long the judge took over a debrief.
    pub judge_seconds: HistogramVec,
    /// Tokens spent, by model and by `prompt` or `completion`.
    pub tokens: IntCounterVec,
    /// Drills the scripted antagonist took over after the model stopped answering.
    pub fallbacks: IntCounter,
    /// Drills the scripted antagonist took over because their workspace had spent its
    /// daily token budget.
    pub over_budget: IntCounter,
    /// Errors, by kind: `store`, `surface`, `engine`, `other`.
    pub errors: IntCounterVec,
    /// Store operations' latency, by operation.
    pub store_seconds: HistogramVec,
    /// Drills by phase, as the store has them when scraped.
    pub drills: IntGaugeVec,
}

/// Latency buckets from a millisecond to a minute: store calls sit at the low end, model
/// calls at the high end.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

impl Metrics {
    pub fn new() -> Metrics {
        let registry =
            Registry::new_custom(Some("spar".into()), None).unwrap_or_else(|_| Registry::new());
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)
                .unwrap_or_else(|e| unreachable!("the metric {name} is defined wrongly: {e}"));
            let _ = registry.register(Box::new(c.clone()));
            c
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let h = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()),
                labels,
            )
            .unwrap_or_else(|e| unreachable!("the metric {name} is defined wrongly: {e}"));
            let _ = registry.register(Box::new(h.clone()));
            h
        };
        let fallbacks = IntCounter::new(
            "antagonist_fallbacks_total",
            "Drills the scripted antagonist took over after the model stopped answering.",
        )
        .unwrap_or_else(|e| unreachable!("the metric is defined wrongly: {e}"));
        let _ = registry.register(Box::new(fallbacks.clone()));
        let over_budget = IntCounter::new(
            "antagonist_over_budget_total",
            "Drills the scripted antagonist took over because their workspace's daily token budget was spent.",
        )
        .unwrap_or_else(|e| unreachable!("the metric is defined wrongly: {e}"));
        let _ = registry.register(Box::new(over_budget.clone()));
        let drills = IntGaugeVec::new(
            Opts::new("drills", "Drills by phase, as stored."),
            &["phase"],
        )
        .unwrap_or_else(|e| unreachable!("the metric is defined wrongly: {e}"));
        let _ = registry.register(Box::new(drills.clone()));
        Metrics {
            turns: counter("turns_total", "Candidate turns applied.", &["platform"]),
            antagonist_seconds: histogram(
                "antagonist_seconds",
                "How long the antagonist took to answer.",
                &["player"],
            ),
            judge_seconds: histogram(
                "judge_seconds",
                "How long the judge took over a debrief.",
                &["model"],
            ),
            tokens: counter("tokens_total", "Model tokens spent.", &["model", "kind"]),
            fallbacks,
            over_budget,
            errors: counter("errors_total", "Errors, by kind.", &["kind"]),
            store_seconds: histogram(
                "store_seconds",
                "Store operations' latency.",
                &["operation"],
            ),
            drills,
            registry,
        }
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding our own registry into memory fails only on a metric defined wrongly,
        // which `new` rules out.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    pub fn error(&self, kind: &str) {
        self.errors.with_label_values(&[kind]).inc();
    }

    pub fn tokens(&self, model: &str, prompt: u32, completion: u32) {
        self.tokens
            .with_label_values(&[model, "prompt"])
            .inc_by(u64::from(prompt));
        self.tokens
            .with_label_values(&[model, "completion"])
            .inc_by(u64::from(completion));
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// Store latency goes to the metrics, and store failures to the error count.
impl Observer for std::sync::Arc<Metrics> {
    fn after(&self, operation: &'static str, took: Duration, failed: bool) {
        self.store_seconds
            .with_label_values(&[operation])
            .observe(took.as_secs_f64());
        if failed {
            self.error("store");
            tracing::warn!(operation, "a store operation failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_counted_is_rendered_in_the_prometheus_text_format() {
        let metrics = Metrics::new();
        metrics.turns.with_label_values(&["discord"]).inc();
        metrics.tokens("llama", 120, 30);
        metrics
            .antagonist_seconds
            .with_label_values(&["scripted"])
            .observe(0.002);
        metrics.error("surface");
        let text = metrics.render();
        assert!(
            text.contains("spar_turns_total{platform=\"discord\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("spar_tokens_total{kind=\"prompt\",model=\"llama\"} 120"),
            "{text}"
        );
        assert!(
            text.contains("spar_antagonist_seconds_bucket{player=\"scripted\",le=\"0.0025\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("spar_errors_total{kind=\"surface\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE spar_antagonist_fallbacks_total counter"),
            "{text}"
        );
    }
}
