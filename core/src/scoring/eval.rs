//! Measures the scorer against labelled drills and against human receptiveness ratings, and
//! fits the receptiveness weights. Pure: callers read the files and print the reports.

use super::{FlagKind, Scorer};
use crate::transcript::{Role, Transcript, Turn};
use std::collections::BTreeMap;
use std::fmt;

/// Why an eval file could not be read; each message names the line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("no rows to evaluate")]
    Empty,
    #[error("building the scorer: {0}")]
    Scorer(String),
}

/// A drill with the flags a person says it should and should not raise.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledCase {
    pub id: String,
    pub transcript: Transcript,
    /// Only the kinds named here are judged: `true` must be raised, `false` must not.
    pub expect: BTreeMap<FlagKind, bool>,
}

fn line_error(line: usize, problem: impl Into<String>) -> EvalError {
    EvalError::Line {
        line,
        problem: problem.into(),
    }
}

/// Each non-blank line of a JSON-lines file, parsed, with its 1-based line number.
fn json_lines(
    jsonl: &str,
) -> impl Iterator<Item = Result<(usize, serde_json::Value), EvalError>> + '_ {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, raw)| !raw.trim().is_empty())
        .map(|(i, raw)| {
            serde_json::from_str(raw)
                .map(|value| (i + 1, value))
                .map_err(|e| line_error(i + 1, format!("not JSON: {e}")))
        })
}

/// Reads labelled cases, one JSON object a line; blank lines are skipped.
pub fn parse_cases(jsonl: &str) -> Result<Vec<LabelledCase>, EvalError> {
    let mut cases = Vec::new();
    for row in json_lines(jsonl) {
        let (line, value) = row?;
        let id = value
            .get("id")
            .and_then(|v| v.as_str())
            .ok_or_else(|| line_error(line, "\"id\" must be a string"))?
            .to_string();
        let transcript =
            Transcript::from_value(&value).map_err(|e| line_error(line, format!("{id}: {e}")))?;
        let raw_expect = value
            .get("expect")
            .and_then(|v| v.as_object())
            .ok_or_else(|| line_error(line, format!("{id}: \"expect\" must be an object")))?;
        let mut expect = BTreeMap::new();
        for (name, want) in raw_expect {
            let kind: FlagKind = name
                .parse()
                .map_err(|e| line_error(line, format!("{id}: expect: {e}")))?;
            let want = want.as_bool().ok_or_else(|| {
                line_error(line, format!("{id}: expect.{name} must be true or false"))
            })?;
            expect.insert(kind, want);
        }
        cases.push(LabelledCase {
            id,
            transcript,
            expect,
        });
    }
    Ok(cases)
}

/// Confusion counts for one flag kind over the cases that judge it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
}

impl KindCounts {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// Cases that expect this kind raised.
    pub fn support(&self) -> usize {
        self.tp + self.fn_
    }
}

/// Precision and recall are 1 when there was nothing to get wrong.
fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 { 1.0 } else { n as f64 / d as f64 }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    pub per_kind: BTreeMap<FlagKind, KindCounts>,
    pub micro_f1: f64,
    /// "case-id: expected X raised, got not raised", one per wrong judgement.
    pub misses: Vec<String>,
}

pub fn evaluate(scorer: &Scorer, cases: &[LabelledCase]) -> EvalReport {
    let mut per_kind: BTreeMap<FlagKind, KindCounts> = BTreeMap::new();
    let mut misses = Vec::new();
    for case in cases {
        let card = scorer.score(&case.transcript);
        for (&kind, &want) in &case.expect {
            let got = card.flags.iter().any(|f| f.kind == kind);
            let counts = per_kind.entry(kind).or_default();
            match (want, got) {
                (true, true) => counts.tp += 1,
                (false, true) => counts.fp += 1,
                (true, false) => counts.fn_ += 1,
                (false, false) => counts.tn += 1,
            }
            if want != got {
                let said = |b: bool| if b { "raised" } else { "not raised" };
                misses.push(format!(
                    "{}: expected {kind} {}, got {}",
                    case.id,
                    said(want),
                    said(got)
                ));
            }
        }
    }
    let (tp, fp, fn_) = per_kind
        .values()
        .fold((0, 0, 0), |(a, b, c), k| (a + k.tp, b + k.fp, c + k.fn_));
    // With only true negatives judged, nothing was missed or invented: a perfect score.
    let micro_f1 = if 2 * tp + fp + fn_ == 0 {
        1.0
    } else {
        2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
    };
    EvalReport {
        per_kind,
        micro_f1,
        misses,
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<22} {:>9} {:>7} {:>8} {:>4} {:>4} {:>4}",
            "kind", "precision", "recall", "support", "tp", "fp", "fn"
        )?;
        for (kind, k) in &self.per_kind {
            writeln!(
                f,
                "{:<22} {:>9.3} {:>7.3} {:>8} {:>4} {:>4} {:>4}",
                kind.as_str(),
                k.precision(),
                k.recall(),
                k.support(),
                k.tp,
                k.fp,
                k.fn_
            )?;
        }
        writeln!(f, "micro-F1 {:.3}", self.micro_f1)?;
        for miss in &self.misses {
            writeln!(f, "  miss: {miss}")?;
        }
        Ok(())
    }
}

/// Rank correlation of the scorer's `overall` with human receptiveness ratings, reported
/// separately for even ids (used to fit weights) and odd ids (held out).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceptivenessReport {
    pub even_rho: f64,
    pub odd_rho: f64,
    pub even_n: usize,
    pub odd_n: usize,
}

impl fmt::Display for ReceptivenessReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "receptiveness Spearman rho: even ids (fitted) {:.3} over {}, odd ids (held out) {:.3} over {}",
            self.even_rho, self.even_n, self.odd_rho, self.odd_n
        )
    }
}

pub(crate) struct Rated {
    pub id: u64,
    pub text: String,
    pub receptive: f64,
}

pub(crate) fn parse_rated(jsonl: &str) -> Result<Vec<Rated>, EvalError> {
    let mut rows = Vec::new();
    for row in json_lines(jsonl) {
        let (line, value) = row?;
        let id = value
            .get("id")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| line_error(line, "\"id\" must be a whole number"))?;
        let text = value
            .get("text")
            .and_then(|v| v.as_str())
            .ok_or_else(|| line_error(line, "\"text\" must be a string"))?
            .to_string();
        let receptive = value
            .get("receptive")
            .and_then(|v| v.as_f64())
            .ok_or_else(|| line_error(line, "\"receptive\" must be a number"))?;
        rows.push(Rated {
            id,
            text,
            receptive,
        });
    }
    if rows.is_empty() {
        return Err(EvalError::Empty);
    }
    Ok(rows)
}

/// The two-turn drill a receptiveness row is scored as: a stated disagreement, then the reply
/// two minutes in (late enough that timing rules do not dominate).
pub(crate) fn reply_drill(text: &str) -> Transcript {
    Transcript {
        scenario: None,
        turns: vec![
            Turn {
                role: Role::Antagonist,
                at_s: 0.0,
                text: "I disagree with you on this policy, and here is why.".to_string(),
                cut_off: false,
            },
            Turn {
                role: Role::Candidate,
                at_s: 120.0,
                text: text.to_string(),
                cut_off: false,
            },
        ],
    }
}

pub fn receptiveness(scorer: &Scorer, jsonl: &str) -> Result<ReceptivenessReport, EvalError> {
    let rows = parse_rated(jsonl)?;
    let mut sides: [(Vec<f64>, Vec<f64>); 2] = Default::default();
    for row in &rows {
        let card = scorer.score(&reply_drill(&row.text));
        let side = &mut sides[(row.id % 2) as usize];
        side.0.push(f64::from(card.overall));
        side.1.push(row.receptive);
    }
    Ok(ReceptivenessReport {
        even_rho: spearman(&sides[0].0, &sides[0].1),
        odd_rho: spearman(&sides[1].0, &sides[1].1),
        even_n: sides[0].0.len(),
        odd_n: sides[1].0.len(),
    })
}

/// Ranks from 1, ties sharing the average of the ranks they span.
pub(crate) fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut out = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

fn pearson(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Spearman's rank correlation with average ranks for ties: the Pearson correlation of the
/// ranks. Returns 0 when either side is constant or the lengths differ or are below 2.
pub fn spearman(xs: &[f64], ys: &[f64]) -> f64 {
    if xs.len() != ys.len() || xs.len() < 2 {
        return 0.0;
    }
    pearson(&ranks(xs), &ranks(ys))
}

/// How good a whole drill is, as the person who wrote it meant it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    Weak,
    Mixed,
    Strong,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Strong, Tier::Mixed, Tier::Weak];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Strong => "strong",
            Tier::Mixed => "mixed",
            Tier::Weak => "weak",
        }
    }
}

/// A whole drill with the tier it was written to be.
#[derive(Debug, Clone, PartialEq)]
pub struct TierCase {
    pub id: String,
    pub tier: Tier,
    pub transcript: Transcript,
}

/// A strong drill should score at least this, and a weak one at most [`WEAK_AT_MOST`]: what a
/// coach would say, as `overall` means it.
pub const STRONG_AT_LEAST: u8 = 75;
pub const WEAK_AT_MOST: u8 = 35;

/// Reads whole drills with a `"tier": "strong" | "mixed" | "weak"`, one JSON object a line.
pub fn parse_tiers(jsonl: &str) -> Result<Vec<TierCase>, EvalError> {
    let mut cases = Vec::new();
    for row in json_lines(jsonl) {
        let (line, value) = row?;
        let id = value
            .get("id")
            .and_then(|v| v.as_str())
            .ok_or_else(|| line_error(line, "\"id\" must be a string"))?
            .to_string();
        let tier_text = value
            .get("tier")
            .and_then(|v| v.as_str())
            .ok_or_else(|| line_error(line, format!("{id}: \"tier\" must be a string")))?;
        let tier = Tier::ALL
            .into_iter()
            .find(|t| t.as_str() == tier_text)
            .ok_or_else(|| {
                line_error(
                    line,
                    format!("{id}: tier {tier_text:?} is not strong, mixed or weak"),
                )
            })?;
        let transcript =
            Transcript::from_value(&value).map_err(|e| line_error(line, format!("{id}: {e}")))?;
        cases.push(TierCase {
            id,
            tier,
            transcript,
        });
    }
    if cases.is_empty() {
        return Err(EvalError::Empty);
    }
    Ok(cases)
}

/// How `overall` orders whole drills of known tiers.
#[derive(Debug, Clone, PartialEq)]
pub struct TiersReport {
    /// Each drill's id, tier and overall, in file order.
    pub scored: Vec<(String, Tier, u8)>,
}

impl TiersReport {
    fn of(&self, tier: Tier) -> Vec<u8> {
        self.scored
            .iter()
            .filter(|(_, t, _)| *t == tier)
            .map(|(_, _, o)| *o)
            .collect()
    }

    /// The share of strong drills at or above [`STRONG_AT_LEAST`].
    pub fn strong_high(&self) -> f64 {
        let strong = self.of(Tier::Strong);
        share(
            strong.iter().filter(|&&o| o >= STRONG_AT_LEAST).count(),
            strong.len(),
        )
    }

    /// The share of weak drills at or below [`WEAK_AT_MOST`].
    pub fn weak_low(&self) -> f64 {
        let weak = self.of(Tier::Weak);
        share(
            weak.iter().filter(|&&o| o <= WEAK_AT_MOST).count(),
            weak.len(),
        )
    }

    /// The share of (higher, lower) pairs across two tiers where the higher tier's drill
    /// scores strictly more; a tie is not an order.
    pub fn ordered(&self, higher: Tier, lower: Tier) -> f64 {
        let (high, low) = (self.of(higher), self.of(lower));
        let right = high
            .iter()
            .map(|h| low.iter().filter(|l| h > l).count())
            .sum::<usize>();
        share(right, high.len() * low.len())
    }

    /// The median overall of a tier, or `None` when it has no drills.
    pub fn median(&self, tier: Tier) -> Option<f64> {
        let mut v = self.of(tier);
        v.sort_unstable();
        match v.len() {
            0 => None,
            n if n % 2 == 1 => Some(f64::from(v[n / 2])),
            n => Some((f64::from(v[n / 2 - 1]) + f64::from(v[n / 2])) / 2.0),
        }
    }
}

fn share(n: usize, d: usize) -> f64 {
    if d == 0 { 1.0 } else { n as f64 / d as f64 }
}

pub fn tiers(scorer: &Scorer, cases: &[TierCase]) -> TiersReport {
    TiersReport {
        scored: cases
            .iter()
            .map(|c| (c.id.clone(), c.tier, scorer.score(&c.transcript).overall))
            .collect(),
    }
}

impl fmt::Display for TiersReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for tier in Tier::ALL {
            let n = self.of(tier).len();
            match self.median(tier) {
                Some(m) => writeln!(
                    f,
                    "{:<7} {n:>3} drills, median overall {m:.1}",
                    tier.as_str()
                )?,
                None => writeln!(f, "{:<7} {n:>3} drills", tier.as_str())?,
            }
        }
        writeln!(
            f,
            "strong drills at {STRONG_AT_LEAST} or above: {:.3}",
            self.strong_high()
        )?;
        writeln!(
            f,
            "weak drills at {WEAK_AT_MOST} or below: {:.3}",
            self.weak_low()
        )?;
        writeln!(
            f,
            "strong/mixed pairs ordered: {:.3}",
            self.ordered(Tier::Strong, Tier::Mixed)
        )?;
        writeln!(
            f,
            "mixed/weak pairs ordered: {:.3}",
            self.ordered(Tier::Mixed, Tier::Weak)
        )?;
        for (id, tier, overall) in &self.scored {
            let off = match tier {
                Tier::Strong => *overall < STRONG_AT_LEAST,
                Tier::Weak => *overall > WEAK_AT_MOST,
                Tier::Mixed => false,
            };
            if off {
                writeln!(
                    f,
                    "  off target: {id}: {} drill scored {overall}",
                    tier.as_str()
                )?;
            }
        }
        Ok(())
    }
}
