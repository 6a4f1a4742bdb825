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

/// Reads labelled cases, one JSON object a line; blank lines are skipped.
pub fn parse_cases(jsonl: &str) -> Result<Vec<LabelledCase>, EvalError> {
    let mut cases = Vec::new();
    for (i, raw) in jsonl.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| line_error(line, format!("not JSON: {e}")))?;
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

struct Rated {
    id: u64,
    text: String,
    receptive: f64,
}

fn parse_rated(jsonl: &str) -> Result<Vec<Rated>, EvalError> {
    let mut rows = Vec::new();
    for (i, raw) in jsonl.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| line_error(line, format!("not JSON: {e}")))?;
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
fn reply_drill(text: &str) -> Transcript {
    Transcript {
        scenario: None,
        turns: vec![
            Turn {
                role: Role::Antagonist,
                at_s: 0.0,
                text: "I disagree with you on this policy, and here is why.".to_string(),
            },
            Turn {
                role: Role::Candidate,
                at_s: 120.0,
                text: text.to_string(),
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
fn ranks(xs: &[f64]) -> Vec<f64> {
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

/// Fitted receptiveness weights, printed as the TOML lines to paste into `receptiveness.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceptivenessFit {
    pub names: Vec<String>,
    pub weights: Vec<f64>,
    pub intercept: f64,
    pub ridge_lambda: f64,
    pub overall_share: f64,
    /// Spearman rho of `overall` on even ids with these weights.
    pub even_rho: f64,
    pub even_n: usize,
    /// Spearman rho of the receptiveness component alone on even ids.
    pub receptiveness_rho: f64,
    /// Even-id rho of `overall` for each `overall_share` tried.
    pub grid: Vec<(f64, f64)>,
}

impl fmt::Display for ReceptivenessFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "# ridge lambda {}, even-id Spearman rho of overall {:.3} (receptiveness alone {:.3}) over {} rows",
            self.ridge_lambda, self.even_rho, self.receptiveness_rho, self.even_n
        )?;
        for (share, rho) in &self.grid {
            writeln!(f, "# overall_share {share:.2}: even rho {rho:.3}")?;
        }
        writeln!(f, "intercept = {:.4}", self.intercept)?;
        writeln!(f, "overall_share = {:.2}\n\n[weights]", self.overall_share)?;
        for (name, w) in self.names.iter().zip(&self.weights) {
            writeln!(f, "{name} = {w:.4}")?;
        }
        Ok(())
    }
}

/// The largest share of a one-reply `overall` receptiveness may take; the share is divided by
/// the number of candidate turns, and harmful flags are subtracted after mixing, so in a real
/// drill the flags and dimensions still decide most of the score.
const MAX_OVERALL_SHARE: f64 = 0.9;

/// Fits the receptiveness weights on EVEN ids only: ridge regression of the rating on the
/// standardised features (the penalty chosen by 5-fold cross-validation on even ids), then
/// `overall_share` by grid search for the best even-id Spearman rho of `overall`.
pub fn fit_receptiveness(scorer: &Scorer, jsonl: &str) -> Result<ReceptivenessFit, EvalError> {
    let rows: Vec<Rated> = parse_rated(jsonl)?
        .into_iter()
        .filter(|r| r.id % 2 == 0)
        .collect();
    if rows.is_empty() {
        return Err(EvalError::Empty);
    }
    let xs: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| scorer.receptiveness_features(&r.text))
        .collect();
    let ys: Vec<f64> = rows.iter().map(|r| r.receptive).collect();
    let folds = 5;
    let mut best = (f64::INFINITY, 1.0);
    for lambda in [1.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0] {
        let mut error = 0.0;
        for fold in 0..folds {
            let train: Vec<usize> = (0..rows.len()).filter(|i| i % folds != fold).collect();
            let (w, b) = ridge(&xs, &ys, &train, lambda);
            for i in (0..rows.len()).filter(|i| i % folds == fold) {
                let p = b + xs[i].iter().zip(&w).map(|(x, w)| x * w).sum::<f64>();
                error += (p - ys[i]).powi(2);
            }
        }
        if error < best.0 {
            best = (error, lambda);
        }
    }
    let lambda = best.1;
    let all: Vec<usize> = (0..rows.len()).collect();
    let (weights, intercept) = ridge(&xs, &ys, &all, lambda);

    let fitted = scorer.with_receptiveness(&weights, intercept, 1.0);
    let alone: Vec<f64> = rows.iter().map(|r| fitted.receptiveness(&r.text)).collect();
    let receptiveness_rho = spearman(&alone, &ys);

    let mut chosen = (f64::NEG_INFINITY, 0.0);
    let mut grid = Vec::new();
    let steps = (MAX_OVERALL_SHARE / 0.05).round() as usize;
    for step in 0..=steps {
        let share = step as f64 * 0.05;
        let candidate = scorer.with_receptiveness(&weights, intercept, share);
        let overall: Vec<f64> = rows
            .iter()
            .map(|r| f64::from(candidate.score(&reply_drill(&r.text)).overall))
            .collect();
        let rho = spearman(&overall, &ys);
        grid.push((share, rho));
        if rho > chosen.0 {
            chosen = (rho, share);
        }
    }
    Ok(ReceptivenessFit {
        names: scorer.receptiveness_feature_names().to_vec(),
        weights,
        intercept,
        ridge_lambda: lambda,
        overall_share: chosen.1,
        even_rho: chosen.0,
        even_n: rows.len(),
        receptiveness_rho,
        grid,
    })
}

/// Ridge regression on standardised features over the rows in `use_rows`; returns weights and
/// intercept on the original feature scale.
// Index loops read as the matrix algebra they implement.
#[allow(clippy::needless_range_loop)]
fn ridge(xs: &[Vec<f64>], ys: &[f64], use_rows: &[usize], lambda: f64) -> (Vec<f64>, f64) {
    let p = xs.first().map_or(0, Vec::len);
    let n = use_rows.len().max(1) as f64;
    let mut mean = vec![0.0; p];
    let mut my = 0.0;
    for &i in use_rows {
        for j in 0..p {
            mean[j] += xs[i][j] / n;
        }
        my += ys[i] / n;
    }
    let mut sd = vec![0.0; p];
    for &i in use_rows {
        for j in 0..p {
            sd[j] += (xs[i][j] - mean[j]).powi(2) / n;
        }
    }
    // A feature that never varies gets weight 0 rather than a division by zero.
    let sd: Vec<f64> = sd
        .iter()
        .map(|v| if *v > 1e-12 { v.sqrt() } else { f64::INFINITY })
        .collect();
    let mut a = vec![vec![0.0; p]; p];
    let mut rhs = vec![0.0; p];
    for &i in use_rows {
        let z: Vec<f64> = (0..p).map(|j| (xs[i][j] - mean[j]) / sd[j]).collect();
        for j in 0..p {
            rhs[j] += z[j] * (ys[i] - my);
            for k in 0..p {
                a[j][k] += z[j] * z[k];
            }
        }
    }
    for (j, row) in a.iter_mut().enumerate() {
        row[j] += lambda;
    }
    let beta = solve(a, rhs);
    let weights: Vec<f64> = (0..p).map(|j| beta[j] / sd[j]).collect();
    let intercept = my - (0..p).map(|j| weights[j] * mean[j]).sum::<f64>();
    (weights, intercept)
}

/// Gaussian elimination with partial pivoting; the ridge penalty keeps the system regular.
#[allow(clippy::needless_range_loop)]
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let d = a[col][col];
        if d.abs() < 1e-12 {
            continue;
        }
        for row in col + 1..n {
            let factor = a[row][col] / d;
            for k in col..n {
                a[row][k] -= factor * a[col][k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = if a[row][row].abs() < 1e-12 {
            0.0
        } else {
            (b[row] - s) / a[row][row]
        };
    }
    x
}
