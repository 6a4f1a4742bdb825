//! The receptiveness model: how open one reply sounds to the opposing view. Phrase features
//! (defined in `receptiveness.toml`) are counted three times, over the whole reply, over its
//! opening sentence and over its closing sentence, because readers judge a reply most by how
//! it starts and ends. Fitted word n-grams ("terms") add what the phrase lists miss, weighted
//! the tf-idf way so a long reply does not score by length alone. Every number here is fitted
//! and lives in the generated `receptiveness_model.toml`.

use super::lexicon::{LexiconError, RECEPTIVENESS_MODEL_FILE};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The parts of a reply phrase features are counted over, in the order weights are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Whole,
    /// The first sentence.
    Opening,
    /// The last sentence, when there is more than one.
    Closing,
}

impl Span {
    pub const ALL: [Span; 3] = [Span::Whole, Span::Opening, Span::Closing];

    pub fn name(self) -> &'static str {
        match self {
            Span::Whole => "whole",
            Span::Opening => "opening",
            Span::Closing => "closing",
        }
    }
}

/// A fitted word n-gram: its inverse document frequency in the fitting replies and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub phrase: String,
    pub idf: f64,
    pub weight: f64,
}

/// Everything fitted: the file `receptiveness_model.toml`, parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReceptivenessModel {
    pub intercept: f64,
    /// The share of a one-reply `overall` that comes from receptiveness.
    pub overall_share: f64,
    /// Weight of ln(1 + count) of each phrase feature, by feature name, for each span in
    /// [`Span::ALL`] order.
    pub weights: [BTreeMap<String, f64>; 3],
    /// Terms counted over the whole reply.
    pub terms: Vec<Term>,
    /// Terms counted in the opening sentence only.
    pub opening_terms: Vec<Term>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelDef {
    intercept: f64,
    overall_share: f64,
    weights: WeightsDef,
    #[serde(default)]
    terms: TermsDef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightsDef {
    whole: BTreeMap<String, f64>,
    opening: BTreeMap<String, f64>,
    closing: BTreeMap<String, f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TermsDef {
    #[serde(default)]
    whole: BTreeMap<String, (f64, f64)>,
    #[serde(default)]
    opening: BTreeMap<String, (f64, f64)>,
}

fn field(name: String, problem: &str) -> LexiconError {
    LexiconError::Field {
        file: RECEPTIVENESS_MODEL_FILE.to_string(),
        field: name,
        problem: problem.to_string(),
    }
}

impl ReceptivenessModel {
    /// Parses the model file. Names are checked against the features when the lexicon is built.
    pub fn from_toml(text: &str) -> Result<ReceptivenessModel, LexiconError> {
        let def: ModelDef = toml::from_str(text).map_err(|e| LexiconError::Toml {
            file: RECEPTIVENESS_MODEL_FILE.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        if !def.intercept.is_finite() {
            return Err(field("intercept".into(), "must be a finite number"));
        }
        if !(0.0..=1.0).contains(&def.overall_share) {
            return Err(field("overall_share".into(), "must be between 0 and 1"));
        }
        let weights = [def.weights.whole, def.weights.opening, def.weights.closing];
        for (span, table) in Span::ALL.iter().zip(&weights) {
            for (name, w) in table {
                if !w.is_finite() {
                    return Err(field(
                        format!("weights.{}.{name}", span.name()),
                        "must be a finite number",
                    ));
                }
            }
        }
        let terms = |table: BTreeMap<String, (f64, f64)>, span: &str| {
            table
                .into_iter()
                .map(|(phrase, (idf, weight))| {
                    if !(idf.is_finite() && idf > 0.0 && weight.is_finite()) {
                        return Err(field(
                            format!("terms.{span}.{phrase:?}"),
                            "must be [idf, weight] with a positive idf and a finite weight",
                        ));
                    }
                    Ok(Term {
                        phrase,
                        idf,
                        weight,
                    })
                })
                .collect::<Result<Vec<Term>, LexiconError>>()
        };
        Ok(ReceptivenessModel {
            intercept: def.intercept,
            overall_share: def.overall_share,
            weights,
            terms: terms(def.terms.whole, "whole")?,
            opening_terms: terms(def.terms.opening, "opening")?,
        })
    }

    /// The model file's text, with `header` (comment lines) first; [`Self::from_toml`] reads it
    /// back to the same model up to the printed precision.
    pub fn to_toml(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            let _ = writeln!(out, "{}", format!("# {line}").trim_end());
        }
        let _ = writeln!(
            out,
            "\nintercept = {:.6}\noverall_share = {:.2}",
            self.intercept, self.overall_share
        );
        for (span, table) in Span::ALL.iter().zip(&self.weights) {
            let _ = writeln!(out, "\n[weights.{}]", span.name());
            for (name, w) in table {
                let _ = writeln!(out, "{name} = {w:.6}");
            }
        }
        for (span, terms) in [("whole", &self.terms), ("opening", &self.opening_terms)] {
            let _ = writeln!(out, "\n[terms.{span}]");
            for t in terms {
                let _ = writeln!(out, "{:?} = [{:.4}, {:.6}]", t.phrase, t.idf, t.weight);
            }
        }
        out
    }
}

/// A term's tf-idf value before normalising: sublinear in how often it occurs.
pub fn term_value(count: u32, idf: f64) -> f64 {
    (1.0 + f64::from(count.max(1)).ln()) * idf
}

/// The reply's terms as a unit-length tf-idf vector, by term index.
pub fn tfidf(counts: &[(usize, u32)], idf: impl Fn(usize) -> f64) -> Vec<(usize, f64)> {
    let values: Vec<(usize, f64)> = counts
        .iter()
        .map(|&(t, c)| (t, term_value(c, idf(t))))
        .collect();
    let norm = values.iter().map(|(_, v)| v * v).sum::<f64>().sqrt();
    if norm == 0.0 {
        return values;
    }
    values.into_iter().map(|(t, v)| (t, v / norm)).collect()
}

/// `weight · tfidf` without building the vector: what scoring a reply needs.
pub(crate) fn tfidf_dot(counts: impl Iterator<Item = (usize, u32)>, terms: &[(f64, f64)]) -> f64 {
    let (mut dot, mut norm) = (0.0, 0.0);
    for (t, c) in counts {
        let (idf, weight) = terms[t];
        let v = term_value(c, idf);
        dot += weight * v;
        norm += v * v;
    }
    if norm == 0.0 { 0.0 } else { dot / norm.sqrt() }
}

/// What the model reads from one reply; the fit takes these, scoring folds them in directly.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReplyFeatures {
    /// ln(1 + count) of each phrase feature, in feature-name order, for each span.
    pub spans: [Vec<f64>; 3],
    /// Counts of the whole-reply terms present, by index in the model's `terms`.
    pub terms: Vec<(usize, u32)>,
    /// Counts of the opening terms present in the opening sentence.
    pub opening_terms: Vec<(usize, u32)>,
    /// Byte range of the opening sentence.
    pub opening: std::ops::Range<usize>,
}
