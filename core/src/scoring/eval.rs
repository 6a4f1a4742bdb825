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

struct Rated {
    id: u64,
    text: String,
    receptive: f64,
}

fn parse_rated(jsonl: &str) -> Result<Vec<Rated>, EvalError> {
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

/// Fitted receptiveness weights, printed as the TOML lines to paste into `receptiveness.toml`;
/// the fitted word weights are written whole by [`ReceptivenessFit::words_toml`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReceptivenessFit {
    pub names: Vec<String>,
    pub weights: Vec<f64>,
    pub intercept: f64,
    /// Ridge penalties on the standardised phrase features and word features.
    pub ridge_lambda: (f64, f64),
    /// How many of the most frequent words and word pairs the model uses.
    pub words_kept: usize,
    /// Whether the model was fitted to the ratings' ranks rather than their values.
    pub fit_to_ranks: bool,
    /// The fitted weight of each word or word pair kept.
    pub words: Vec<(String, f64)>,
    /// Out-of-fold Spearman rho of the chosen model on even ids.
    pub cv_rho: f64,
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
            "# ridge lambda {} (words {}), {} words kept, fitted to {}; out-of-fold even rho {:.3}",
            self.ridge_lambda.0,
            self.ridge_lambda.1,
            self.words_kept,
            if self.fit_to_ranks {
                "ranks"
            } else {
                "ratings"
            },
            self.cv_rho
        )?;
        writeln!(
            f,
            "# even-id Spearman rho of overall {:.3} (receptiveness alone {:.3}) over {} rows",
            self.even_rho, self.receptiveness_rho, self.even_n
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

impl ReceptivenessFit {
    /// The whole of `prompts/scoring/receptiveness_words.toml`.
    pub fn words_toml(&self) -> String {
        let mut out = String::from(
            "# Word and word-pair weights of the receptiveness model, generated; do not edit.\n\
             # Fitted with the features of receptiveness.toml on EVEN ids of\n\
             # shared/eval/receptiveness.jsonl only, every choice by cross-validation on even ids:\n#\n\
             #   cargo run --release -- eval --fit-receptiveness \\\n\
             #     ../shared/eval/receptiveness.jsonl --write-words prompts/scoring/receptiveness_words.toml\n#\n\
             # Each phrase matches like a lexicon phrase and adds weight * ln(1 + count).\n\n[words]\n",
        );
        for (word, w) in &self.words {
            let _ = writeln!(out, "{word:?} = {w:.4}");
        }
        out
    }
}

use std::fmt::Write as _;

/// The largest share of a one-reply `overall` receptiveness may take; the share is divided by
/// the number of candidate turns, and harmful flags are subtracted after mixing, so in a real
/// drill the flags and dimensions still decide most of the score.
const MAX_OVERALL_SHARE: f64 = 0.9;
/// Words and word pairs must appear in this many even-id replies to be considered at all.
const MIN_REPLIES: usize = 8;
/// Vocabulary sizes and ridge penalties tried by cross-validation.
const WORDS_KEPT: [usize; 4] = [0, 200, 800, 1600];
const LAMBDAS: [f64; 3] = [300.0, 1000.0, 3000.0];
const WORD_LAMBDAS: [f64; 4] = [3000.0, 10000.0, 30000.0, 100000.0];
/// The fitted score is rescaled to this many logistic units per standard deviation, so the
/// 0-100 `overall` spreads over most of its range instead of bunching (and tying) mid-scale.
const SPREAD: f64 = 1.5;

/// Words (letters, digits and apostrophes) and pairs of words separated only by spaces, each
/// counted once per reply, that appear in at least [`MIN_REPLIES`] replies; most frequent first.
fn word_candidates(texts: &[&str]) -> Vec<String> {
    let mut replies: BTreeMap<String, usize> = BTreeMap::new();
    for text in texts {
        let lowered = text.to_ascii_lowercase().replace('\u{2019}', "'");
        let mut seen = std::collections::BTreeSet::new();
        let mut previous: Option<String> = None;
        let mut word = String::new();
        let mut joined = true;
        for c in lowered.chars().chain(std::iter::once('\n')) {
            if c.is_ascii_alphanumeric() || c == '_' || c == '\'' {
                word.push(c);
                continue;
            }
            let w = word.trim_matches('\'').to_string();
            word.clear();
            if !w.is_empty() {
                if let Some(p) = previous.take().filter(|_| joined) {
                    seen.insert(format!("{p} {w}"));
                }
                seen.insert(w.clone());
                previous = Some(w);
                joined = true;
            }
            if c != ' ' {
                joined = false;
            }
        }
        for w in seen {
            *replies.entry(w).or_default() += 1;
        }
    }
    let mut out: Vec<(usize, String)> = replies
        .into_iter()
        .filter(|(_, n)| *n >= MIN_REPLIES)
        .map(|(w, n)| (n, w))
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    out.into_iter()
        .take(WORDS_KEPT[WORDS_KEPT.len() - 1])
        .map(|(_, w)| w)
        .collect()
}

/// Sums over a set of rows that ridge regression needs, kept so one pass over sparse rows
/// serves every vocabulary size and penalty.
struct Moments {
    n: f64,
    sx: Vec<f64>,
    sxx: Vec<Vec<f64>>,
    sy: [f64; 2],
    sxy: [Vec<f64>; 2],
}

// Index loops read as the sums they accumulate, over both targets at once.
#[allow(clippy::needless_range_loop)]
fn moments(xs: &[Vec<(usize, f64)>], ys: &[[f64; 2]], rows: &[usize], p: usize) -> Moments {
    let mut m = Moments {
        n: rows.len() as f64,
        sx: vec![0.0; p],
        sxx: vec![vec![0.0; p]; p],
        sy: [0.0; 2],
        sxy: [vec![0.0; p], vec![0.0; p]],
    };
    for &i in rows {
        for t in 0..2 {
            m.sy[t] += ys[i][t];
        }
        for &(j, x) in &xs[i] {
            m.sx[j] += x;
            for t in 0..2 {
                m.sxy[t][j] += x * ys[i][t];
            }
            for &(k, z) in &xs[i] {
                m.sxx[j][k] += x * z;
            }
        }
    }
    m
}

/// Ridge regression on standardised features `0..p`, from [`Moments`]; returns weights and
/// intercept on the original scale for both targets.
#[allow(clippy::needless_range_loop)]
fn ridge_from(m: &Moments, p: usize, p_base: usize, lambda: (f64, f64)) -> [(Vec<f64>, f64); 2] {
    let n = m.n.max(1.0);
    let mean: Vec<f64> = (0..p).map(|j| m.sx[j] / n).collect();
    // A feature that never varies gets weight 0 rather than a division by zero.
    let sd: Vec<f64> = (0..p)
        .map(|j| {
            let v = m.sxx[j][j] / n - mean[j] * mean[j];
            if v > 1e-12 { v.sqrt() } else { f64::INFINITY }
        })
        .collect();
    let mut a = vec![vec![0.0; p]; p];
    for j in 0..p {
        for k in 0..p {
            a[j][k] = (m.sxx[j][k] - n * mean[j] * mean[k]) / (sd[j] * sd[k]);
        }
        // Hundreds of word features need far more shrinkage than a few dozen phrase features.
        a[j][j] += if j < p_base { lambda.0 } else { lambda.1 };
    }
    let chol = cholesky(a);
    std::array::from_fn(|t| {
        let my = m.sy[t] / n;
        let rhs: Vec<f64> = (0..p)
            .map(|j| (m.sxy[t][j] - n * mean[j] * my) / sd[j])
            .collect();
        let beta = chol_solve(&chol, rhs);
        let weights: Vec<f64> = (0..p).map(|j| beta[j] / sd[j]).collect();
        let intercept = my - (0..p).map(|j| weights[j] * mean[j]).sum::<f64>();
        (weights, intercept)
    })
}

/// Fits the receptiveness weights on EVEN ids only. Candidate words and word pairs come from
/// the even replies; 5-fold cross-validation on even ids chooses how many to keep, the ridge
/// penalty, and whether to fit ratings or their ranks, by out-of-fold Spearman rho. The chosen
/// model is refitted on all even ids and rescaled (monotonically) so `overall` spreads, then
/// `overall_share` is chosen by grid search for the best even-id Spearman rho of `overall`.
pub fn fit_receptiveness(scorer: &Scorer, jsonl: &str) -> Result<ReceptivenessFit, EvalError> {
    let rows: Vec<Rated> = parse_rated(jsonl)?
        .into_iter()
        .filter(|r| r.id % 2 == 0)
        .collect();
    if rows.is_empty() {
        return Err(EvalError::Empty);
    }
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let candidates = word_candidates(&texts);
    let zero: Vec<(String, f64)> = candidates.iter().map(|w| (w.clone(), 0.0)).collect();
    let full = scorer
        .with_words(&zero)
        .map_err(|e| EvalError::Scorer(e.to_string()))?;
    let p_all = full.receptiveness_feature_names().len();
    let p_base = p_all - candidates.len();
    let xs: Vec<Vec<(usize, f64)>> = texts
        .iter()
        .map(|t| {
            full.receptiveness_features(t)
                .into_iter()
                .enumerate()
                .filter(|(_, x)| *x != 0.0)
                .collect()
        })
        .collect();
    let ratings: Vec<f64> = rows.iter().map(|r| r.receptive).collect();
    let rank = ranks(&ratings);
    let ys: Vec<[f64; 2]> = ratings.iter().zip(&rank).map(|(&y, &r)| [y, r]).collect();

    let folds = 5;
    let configs: Vec<(usize, (f64, f64))> = WORDS_KEPT
        .iter()
        .filter(|&&k| k <= candidates.len())
        .flat_map(|&k| {
            LAMBDAS
                .iter()
                .flat_map(move |&l| WORD_LAMBDAS.iter().map(move |&w| (k, (l, w))))
        })
        .collect();
    // Out-of-fold predictions for each config and target.
    let mut predicted = vec![[vec![0.0; rows.len()], vec![0.0; rows.len()]]; configs.len()];
    for fold in 0..folds {
        let train: Vec<usize> = (0..rows.len()).filter(|i| i % folds != fold).collect();
        let m = moments(&xs, &ys, &train, p_all);
        for (c, &(kept, lambda)) in configs.iter().enumerate() {
            let p = p_base + kept;
            let fits = ridge_from(&m, p, p_base, lambda);
            for i in (0..rows.len()).filter(|i| i % folds == fold) {
                for (t, (w, b)) in fits.iter().enumerate() {
                    predicted[c][t][i] = b + xs[i]
                        .iter()
                        .filter(|(j, _)| *j < p)
                        .map(|&(j, x)| w[j] * x)
                        .sum::<f64>();
                }
            }
        }
    }
    let mut best = (f64::NEG_INFINITY, 0, 0);
    for (c, targets) in predicted.iter().enumerate() {
        for (t, pred) in targets.iter().enumerate() {
            let rho = spearman(pred, &ratings);
            if rho > best.0 {
                best = (rho, c, t);
            }
        }
    }
    let (cv_rho, chosen, target) = best;
    let (kept, lambda) = configs[chosen];
    let p = p_base + kept;
    let all: Vec<usize> = (0..rows.len()).collect();
    let m = moments(&xs, &ys, &all, p_all);
    let (mut weights, mut intercept) = ridge_from(&m, p, p_base, lambda)[target].clone();

    // Rescale so the fitted score has mean 0 and SPREAD logistic units per standard deviation.
    let fitted: Vec<f64> = xs
        .iter()
        .map(|x| {
            intercept
                + x.iter()
                    .filter(|(j, _)| *j < p)
                    .map(|&(j, v)| weights[j] * v)
                    .sum::<f64>()
        })
        .collect();
    let mean = fitted.iter().sum::<f64>() / fitted.len() as f64;
    let sd = (fitted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / fitted.len() as f64).sqrt();
    let scale = if sd > 1e-12 { SPREAD / sd } else { 1.0 };
    for w in &mut weights {
        *w *= scale;
    }
    intercept = (intercept - mean) * scale;

    let words: Vec<(String, f64)> = candidates
        .iter()
        .take(kept)
        .cloned()
        .zip(weights[p_base..].iter().copied())
        .collect();
    let with_words = scorer
        .with_words(&words)
        .map_err(|e| EvalError::Scorer(e.to_string()))?;
    let fitted_scorer = with_words.with_receptiveness(&weights, intercept, 1.0);
    let alone: Vec<f64> = texts
        .iter()
        .map(|t| fitted_scorer.receptiveness(t))
        .collect();
    let receptiveness_rho = spearman(&alone, &ratings);

    let mut share_best = (f64::NEG_INFINITY, 0.0);
    let mut grid = Vec::new();
    let steps = (MAX_OVERALL_SHARE / 0.05).round() as usize;
    for step in 0..=steps {
        let share = step as f64 * 0.05;
        let candidate = with_words.with_receptiveness(&weights, intercept, share);
        let overall: Vec<f64> = texts
            .iter()
            .map(|t| f64::from(candidate.score(&reply_drill(t)).overall))
            .collect();
        let rho = spearman(&overall, &ratings);
        grid.push((share, rho));
        if rho > share_best.0 {
            share_best = (rho, share);
        }
    }
    Ok(ReceptivenessFit {
        names: full.receptiveness_feature_names()[..p_base].to_vec(),
        weights: weights[..p_base].to_vec(),
        intercept,
        ridge_lambda: lambda,
        words_kept: kept,
        fit_to_ranks: target == 1,
        words,
        cv_rho,
        overall_share: share_best.1,
        even_rho: share_best.0,
        even_n: rows.len(),
        receptiveness_rho,
        grid,
    })
}

/// Cholesky factor of a symmetric positive definite matrix (the ridge penalty makes it so).
#[allow(clippy::needless_range_loop)]
fn cholesky(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    for j in 0..n {
        let mut d = a[j][j];
        for k in 0..j {
            d -= a[j][k] * a[j][k];
        }
        let d = d.max(1e-12).sqrt();
        a[j][j] = d;
        for i in j + 1..n {
            let (upper, lower) = a.split_at_mut(i);
            let (rj, ri) = (&upper[j], &mut lower[0]);
            let s: f64 = (0..j).map(|k| ri[k] * rj[k]).sum();
            ri[j] = (ri[j] - s) / d;
        }
    }
    a
}

/// Solves `L L^T x = b` given the Cholesky factor `L`.
#[allow(clippy::needless_range_loop)]
fn chol_solve(l: &[Vec<f64>], mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i][k] * b[k]).sum();
        b[i] = (b[i] - s) / l[i][i];
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k][i] * b[k]).sum();
        b[i] = (b[i] - s) / l[i][i];
    }
    b
}
