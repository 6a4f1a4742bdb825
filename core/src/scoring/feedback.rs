//! The words a candidate reads in a debrief, loaded from `prompts/scoring/feedback.toml`: the
//! label, why and better phrasing of each flag, dimension labels, strength labels, and the
//! summary and note templates.

use super::lexicon::{FEEDBACK_FILE, LexiconError};
use super::{DimensionName, FlagKind};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlagText {
    pub label: String,
    pub why: String,
    pub try_instead: String,
    pub focus: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DimensionText {
    pub label: String,
    pub focus: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverall {
    harmful_penalty: f64,
    missed_penalty: f64,
    weights: BTreeMap<String, f64>,
}

/// How `overall` is made from the dimensions and the flags.
#[derive(Debug, Clone)]
pub(crate) struct Overall {
    pub harmful_penalty: f64,
    pub missed_penalty: f64,
    /// Indexed by `DimensionName as usize`.
    pub weights: Vec<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Timing {
    pub early_escalation_s: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Strengths {
    pub question: String,
    pub acknowledgement: String,
    pub shared_goal: String,
    pub asks_other_evidence: String,
    pub own_evidence: String,
    pub process: String,
    pub conditional_joint_escalation: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Band {
    pub min: u8,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Summary {
    /// How advice names the antagonist when the scenario is unknown.
    pub them: String,
    pub bands: Vec<Band>,
    pub strongest: String,
    pub no_strength: String,
    pub focus: String,
    /// "Next time" when every move the debrief could ask for was made.
    pub keep: String,
    pub no_candidate: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Notes {
    pub addresses_scorer: String,
    pub hijack: String,
}

/// What one scenario says differently.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    try_instead: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    overall: RawOverall,
    timing: Timing,
    flags: BTreeMap<String, FlagText>,
    dimensions: BTreeMap<String, DimensionText>,
    strengths: Strengths,
    summary: Summary,
    notes: Notes,
    #[serde(default)]
    scenarios: BTreeMap<String, RawScenario>,
}

#[derive(Debug, Clone)]
pub(crate) struct Feedback {
    pub overall: Overall,
    pub timing: Timing,
    /// Indexed by `FlagKind as usize`.
    pub flags: Vec<FlagText>,
    /// Indexed by `DimensionName as usize`.
    pub dimensions: Vec<DimensionText>,
    pub strengths: Strengths,
    pub summary: Summary,
    pub notes: Notes,
    /// Better phrasings for one scenario, by scenario id, then indexed by `FlagKind as usize`.
    pub scenario_try_instead: BTreeMap<String, Vec<Option<String>>>,
}

impl Feedback {
    /// The better phrasing shown for a flag in a drill of `scenario`: the scenario's own if
    /// it has one, else the one every scenario shares, addressed to `them`.
    pub(crate) fn try_instead(&self, kind: FlagKind, scenario: Option<&str>, them: &str) -> String {
        let own = scenario
            .and_then(|id| self.scenario_try_instead.get(id))
            .and_then(|lines| lines[kind as usize].as_ref());
        let line = own.unwrap_or(&self.flags[kind as usize].try_instead);
        fill(line, &[("them", them)])
    }

    pub(crate) fn load(text: &str) -> Result<Feedback, LexiconError> {
        let mut raw: Raw = toml::from_str(text).map_err(|e| LexiconError::Toml {
            file: FEEDBACK_FILE.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let field = |field: String, problem: &str| LexiconError::Field {
            file: FEEDBACK_FILE.to_string(),
            field,
            problem: problem.to_string(),
        };
        for name in raw.flags.keys() {
            if name.parse::<FlagKind>().is_err() {
                return Err(field(format!("flags.{name}"), "is not a flag kind"));
            }
        }
        for name in raw.dimensions.keys() {
            if !DimensionName::ALL.iter().any(|d| d.as_str() == name) {
                return Err(field(format!("dimensions.{name}"), "is not a dimension"));
            }
        }
        let mut flags = Vec::with_capacity(FlagKind::ALL.len());
        for kind in FlagKind::ALL {
            let text = raw
                .flags
                .remove(kind.as_str())
                .ok_or_else(|| field(format!("flags.{}", kind.as_str()), "missing"))?;
            flags.push(text);
        }
        let mut dimensions = Vec::with_capacity(DimensionName::ALL.len());
        for name in DimensionName::ALL {
            let text = raw
                .dimensions
                .remove(name.as_str())
                .ok_or_else(|| field(format!("dimensions.{}", name.as_str()), "missing"))?;
            dimensions.push(text);
        }
        if !raw.summary.bands.iter().any(|b| b.min == 0) {
            return Err(field(
                "summary.bands".to_string(),
                "needs a band with min = 0 so every score has a sentence",
            ));
        }
        raw.summary.bands.sort_by_key(|b| std::cmp::Reverse(b.min));
        if !raw.timing.early_escalation_s.is_finite() || raw.timing.early_escalation_s < 0.0 {
            return Err(field(
                "timing.early_escalation_s".to_string(),
                "must be a number of seconds at or after 0",
            ));
        }
        let mut weights = Vec::with_capacity(DimensionName::ALL.len());
        for name in DimensionName::ALL {
            let weight =
                raw.overall.weights.remove(name.as_str()).ok_or_else(|| {
                    field(format!("overall.weights.{}", name.as_str()), "missing")
                })?;
            if !weight.is_finite() || weight < 0.0 {
                return Err(field(
                    format!("overall.weights.{}", name.as_str()),
                    "must be a number at or above 0",
                ));
            }
            weights.push(weight);
        }
        if let Some(name) = raw.overall.weights.keys().next() {
            return Err(field(
                format!("overall.weights.{name}"),
                "is not a dimension",
            ));
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            return Err(field(
                "overall.weights".to_string(),
                "needs at least one weight above 0",
            ));
        }
        for (name, value) in [
            ("harmful_penalty", raw.overall.harmful_penalty),
            ("missed_penalty", raw.overall.missed_penalty),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(field(
                    format!("overall.{name}"),
                    "must be a number of points at or above 0",
                ));
            }
        }
        let mut scenario_try_instead = BTreeMap::new();
        for (id, scenario) in raw.scenarios {
            let mut lines = vec![None; FlagKind::ALL.len()];
            for (name, line) in scenario.try_instead {
                let kind: FlagKind = name.parse().map_err(|_| {
                    field(
                        format!("scenarios.{id}.try_instead.{name}"),
                        "is not a flag kind",
                    )
                })?;
                lines[kind as usize] = Some(line);
            }
            scenario_try_instead.insert(id, lines);
        }
        Ok(Feedback {
            overall: Overall {
                harmful_penalty: raw.overall.harmful_penalty,
                missed_penalty: raw.overall.missed_penalty,
                weights,
            },
            scenario_try_instead,
            timing: raw.timing,
            flags,
            dimensions,
            strengths: raw.strengths,
            summary: raw.summary,
            notes: raw.notes,
        })
    }
}

/// Fills `{name}` placeholders; unknown placeholders are left as written.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    // One pass: a value is inserted as it is, so a quote that happens to hold "{turn}" stays
    // what the person typed.
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let named = values
            .iter()
            .find(|(name, _)| after.starts_with(name) && after[name.len()..].starts_with('}'));
        match named {
            Some((name, value)) => {
                out.push_str(value);
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
