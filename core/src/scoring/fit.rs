//! Fits the receptiveness model to human ratings, on EVEN ids only (odd ids are held out for
//! measuring). Ridge regression over five blocks of features (phrase features over the whole
//! reply, its opening and its closing sentence; tf-idf terms over the whole reply and its
//! opening), solved in its dual form so thousands of terms cost no more than the replies do.
//! Five-fold cross-validation on even ids chooses each block's penalty and whether to fit
//! ratings or their ranks. Pure: the caller reads the ratings and writes the model file.

use super::Scorer;
use super::eval::{EvalError, Rated, parse_rated, ranks, reply_drill, spearman};
use super::receptiveness::{ReceptivenessModel, ReplyFeatures, Term, tfidf};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Terms must occur in this many even-id replies (or opening sentences) to be fitted: rarer
/// ones would be fitted to one annotator's reaction to one reply.
const MIN_REPLIES: usize = 5;
/// Longest term, in words, over the whole reply and within the opening sentence.
const WHOLE_WORDS: usize = 3;
const OPENING_WORDS: usize = 2;
/// The ridge penalty on the standardised whole-reply phrase features.
const PENALTIES: [f64; 3] = [800.0, 1600.0, 3200.0];
/// Each other block's scale relative to those (a block scaled by `s` is penalised `1/s²` as
/// much), tried in every combination. Opening and closing features repeat the whole-reply
/// ones, so they are shrunk harder; unit-length tf-idf rows are far smaller, so scaled up.
const OPENING_SCALES: [f64; 3] = [0.5, 0.8, 1.1];
const CLOSING_SCALES: [f64; 3] = [0.4, 0.7, 1.0];
const TERM_SCALES: [f64; 3] = [10.0, 14.0, 20.0];
const OPENING_TERM_SCALES: [f64; 3] = [0.0, 8.0, 12.0];
const FOLDS: usize = 5;
/// The largest share of a one-reply `overall` receptiveness may take; the share is divided by
/// the number of candidate turns, and harmful flags are subtracted after mixing, so in a real
/// drill the flags and dimensions still decide most of the score.
const MAX_OVERALL_SHARE: f64 = 0.9;
/// The fitted score is rescaled to this many logistic units per standard deviation, so the
/// 0-100 `overall` spreads over most of its range instead of bunching (and tying) mid-scale.
const SPREAD: f64 = 1.5;

/// One point of the cross-validated grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RidgeChoice {
    pub penalty: f64,
    /// Scales of the five blocks: whole, opening and closing phrase features, whole-reply
    /// terms, opening terms.
    pub scales: [f64; 5],
    /// Whether the model was fitted to the ratings' ranks rather than their values.
    pub to_ranks: bool,
}

/// The fitted model and how it was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceptivenessFit {
    pub model: ReceptivenessModel,
    pub choice: RidgeChoice,
    /// Out-of-fold Spearman rho of the chosen model on even ids.
    pub cv_rho: f64,
    /// Spearman rho of `overall` on even ids with this model.
    pub even_rho: f64,
    pub even_n: usize,
    /// Spearman rho of the receptiveness component alone on even ids.
    pub receptiveness_rho: f64,
    /// Even-id rho of `overall` for each `overall_share` tried.
    pub grid: Vec<(f64, f64)>,
}

impl fmt::Display for ReceptivenessFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.choice;
        writeln!(
            f,
            "ridge penalty {} with block scales {:?} (whole, opening, closing, terms, opening terms), fitted to {}",
            c.penalty,
            c.scales,
            if c.to_ranks { "ranks" } else { "ratings" },
        )?;
        writeln!(
            f,
            "{} terms over whole replies and {} in opening sentences; out-of-fold even rho {:.3}",
            self.model.terms.len(),
            self.model.opening_terms.len(),
            self.cv_rho
        )?;
        writeln!(
            f,
            "even-id Spearman rho of overall {:.3} (receptiveness alone {:.3}) over {} rows",
            self.even_rho, self.receptiveness_rho, self.even_n
        )?;
        let grid: Vec<String> = self
            .grid
            .iter()
            .map(|(share, rho)| format!("{share:.2}: {rho:.3}"))
            .collect();
        writeln!(f, "even rho by overall_share: {}", grid.join(", "))?;
        write!(f, "chosen overall_share {:.2}", self.model.overall_share)
    }
}

impl ReceptivenessFit {
    /// The whole of `prompts/scoring/receptiveness_model.toml`.
    pub fn model_toml(&self) -> String {
        let header = format!(
            "The receptiveness model, generated; do not edit. Fitted on EVEN ids of\n\
             shared/eval/receptiveness.jsonl only, every choice by cross-validation on even ids:\n\n\
             \x20 cargo run --release -- eval --fit-receptiveness \\\n\
             \x20   ../shared/eval/receptiveness.jsonl --write-model prompts/scoring/receptiveness_model.toml\n\n\
             {self}\n\n\
             A reply's raw score is intercept + the weights of [weights.SPAN] times ln(1 + count) of\n\
             each feature of receptiveness.toml in that span + the weights of [terms.SPAN] times the\n\
             reply's unit-length tf-idf vector of those terms (each listed as [idf, weight])."
        );
        self.model.to_toml(&header)
    }
}

fn scorer_error(e: impl fmt::Display) -> EvalError {
    EvalError::Scorer(e.to_string())
}

/// A model with every weight zero and the given terms, for counting them.
fn counting_model(names: &[String], terms: &[String], opening: &[String]) -> ReceptivenessModel {
    let zeros: BTreeMap<String, f64> = names.iter().map(|n| (n.clone(), 0.0)).collect();
    let as_terms = |phrases: &[String]| {
        phrases
            .iter()
            .map(|p| Term {
                phrase: p.clone(),
                idf: 1.0,
                weight: 0.0,
            })
            .collect()
    };
    ReceptivenessModel {
        intercept: 0.0,
        overall_share: 0.0,
        weights: [zeros.clone(), zeros.clone(), zeros],
        terms: as_terms(terms),
        opening_terms: as_terms(opening),
    }
}

/// Runs of up to `longest` words within a stretch of text unbroken by punctuation (an
/// apostrophe belongs to its word), each counted once per text, that occur in at least
/// [`MIN_REPLIES`] texts. These are only candidates: the scorer's own phrase matcher counts
/// them afterwards, so a fit sees exactly what scoring will.
fn term_candidates<'a>(texts: impl Iterator<Item = &'a str>, longest: usize) -> Vec<String> {
    let mut replies: BTreeMap<String, usize> = BTreeMap::new();
    for text in texts {
        let lowered = text.to_ascii_lowercase().replace('\u{2019}', "'");
        let mut seen = BTreeSet::new();
        for stretch in lowered.split(|c: char| {
            !(c.is_ascii_alphanumeric() || c == '_' || c == '\'' || c.is_whitespace())
        }) {
            let words: Vec<&str> = stretch
                .split_whitespace()
                .map(|w| w.trim_matches('\''))
                .filter(|w| !w.is_empty())
                .collect();
            for n in 1..=longest {
                for gram in words.windows(n) {
                    seen.insert(gram.join(" "));
                }
            }
        }
        for term in seen {
            *replies.entry(term).or_default() += 1;
        }
    }
    replies
        .into_iter()
        .filter(|(_, n)| *n >= MIN_REPLIES)
        .map(|(t, _)| t)
        .collect()
}

/// The terms present in at least [`MIN_REPLIES`] rows, by the matcher's counts, with their
/// smoothed inverse document frequency; and each row's unit-length tf-idf vector over them.
type SparseRows = Vec<Vec<(usize, f64)>>;
fn tfidf_block(
    phrases: &[String],
    counts: impl Fn(usize) -> Vec<(usize, u32)>,
    rows: usize,
) -> (Vec<Term>, SparseRows) {
    let mut df = vec![0usize; phrases.len()];
    for i in 0..rows {
        for (t, _) in counts(i) {
            df[t] += 1;
        }
    }
    let mut renumber = vec![usize::MAX; phrases.len()];
    let mut terms = Vec::new();
    for (t, &d) in df.iter().enumerate() {
        if d >= MIN_REPLIES {
            renumber[t] = terms.len();
            terms.push(Term {
                phrase: phrases[t].clone(),
                idf: ((1.0 + rows as f64) / (1.0 + d as f64)).ln() + 1.0,
                weight: 0.0,
            });
        }
    }
    let x = (0..rows)
        .map(|i| {
            let kept: Vec<(usize, u32)> = counts(i)
                .into_iter()
                .filter(|(t, _)| renumber[*t] != usize::MAX)
                .map(|(t, c)| (renumber[t], c))
                .collect();
            tfidf(&kept, |t| terms[t].idf)
        })
        .collect();
    (terms, x)
}

/// A square matrix, row-major.
#[derive(Clone)]
struct Square {
    n: usize,
    v: Vec<f64>,
}

impl Square {
    fn zeros(n: usize) -> Square {
        Square {
            n,
            v: vec![0.0; n * n],
        }
    }
    fn at(&self, i: usize, j: usize) -> f64 {
        self.v[i * self.n + j]
    }
}

/// The Gram matrix `X Xᵀ` of sparse rows, accumulated column by column.
fn gram(rows: &SparseRows, width: usize) -> Square {
    let mut columns: Vec<Vec<(usize, f64)>> = vec![Vec::new(); width];
    for (i, row) in rows.iter().enumerate() {
        for &(j, x) in row {
            columns[j].push((i, x));
        }
    }
    let mut k = Square::zeros(rows.len());
    for column in &columns {
        for &(i, a) in column {
            let line = &mut k.v[i * rows.len()..(i + 1) * rows.len()];
            for &(j, b) in column {
                line[j] += a * b;
            }
        }
    }
    k
}

/// In-place Cholesky factor (lower triangle) of a symmetric positive definite matrix; the
/// ridge penalty on the diagonal makes it so.
fn cholesky(a: &mut Square) {
    let n = a.n;
    for j in 0..n {
        let (done, rest) = a.v.split_at_mut(j * n);
        let row_j = &mut rest[..n];
        for k in 0..j {
            let row_k = &done[k * n..k * n + k + 1];
            let s: f64 = row_j[..k].iter().zip(&row_k[..k]).map(|(x, y)| x * y).sum();
            row_j[k] = (row_j[k] - s) / row_k[k];
        }
        let d = row_j[j] - row_j[..j].iter().map(|x| x * x).sum::<f64>();
        row_j[j] = d.max(1e-12).sqrt();
    }
}

/// Solves `L Lᵀ x = b` given the factor from [`cholesky`].
fn cholesky_solve(l: &Square, mut b: Vec<f64>) -> Vec<f64> {
    let n = l.n;
    for i in 0..n {
        let row = &l.v[i * n..i * n + i];
        let s: f64 = row.iter().zip(&b[..i]).map(|(x, y)| x * y).sum();
        b[i] = (b[i] - s) / l.at(i, i);
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l.at(k, i) * b[k]).sum();
        b[i] = (b[i] - s) / l.at(i, i);
    }
    b
}

/// Kernel ridge regression with an intercept, on the rows `train` of the full kernel `k`:
/// the dual coefficients (which sum to zero), the training mean of `y`, and the kernel's
/// training-row means, which a prediction needs to centre new rows.
struct Dual {
    coef: Vec<[f64; 2]>,
    y_mean: [f64; 2],
    row_mean: Vec<f64>,
}

fn solve_dual(k: &Square, train: &[usize], ys: &[[f64; 2]], penalty: f64) -> Dual {
    let m = train.len();
    let row_mean: Vec<f64> = (0..k.n)
        .map(|i| train.iter().map(|&j| k.at(i, j)).sum::<f64>() / m as f64)
        .collect();
    let grand = train.iter().map(|&i| row_mean[i]).sum::<f64>() / m as f64;
    let mut a = Square::zeros(m);
    for (p, &i) in train.iter().enumerate() {
        for (q, &j) in train.iter().enumerate() {
            a.v[p * m + q] = k.at(i, j) - row_mean[i] - row_mean[j] + grand;
        }
        a.v[p * m + p] += penalty;
    }
    cholesky(&mut a);
    let y_mean: [f64; 2] =
        std::array::from_fn(|t| train.iter().map(|&i| ys[i][t]).sum::<f64>() / m as f64);
    let solved: [Vec<f64>; 2] = std::array::from_fn(|t| {
        cholesky_solve(&a, train.iter().map(|&i| ys[i][t] - y_mean[t]).collect())
    });
    Dual {
        coef: (0..m).map(|p| [solved[0][p], solved[1][p]]).collect(),
        y_mean,
        row_mean,
    }
}

impl Dual {
    /// Predictions for row `i` of the kernel, for both targets.
    fn predict(&self, k: &Square, train: &[usize], i: usize) -> [f64; 2] {
        let mut out = self.y_mean;
        for (p, &j) in train.iter().enumerate() {
            // The coefficients sum to zero, so centring by row i's own mean would add nothing.
            let kc = k.at(i, j) - self.row_mean[j];
            out[0] += kc * self.coef[p][0];
            out[1] += kc * self.coef[p][1];
        }
        out
    }
}

fn combined(kernels: &[Square; 5], scales: &[f64; 5]) -> Square {
    let mut k = Square::zeros(kernels[0].n);
    for (kb, s) in kernels.iter().zip(scales) {
        if *s == 0.0 {
            continue;
        }
        let s2 = s * s;
        for (out, x) in k.v.iter_mut().zip(&kb.v) {
            *out += s2 * x;
        }
    }
    k
}

/// Out-of-fold Spearman rho of one grid point, for ratings and for ranks.
fn cross_validate(
    kernels: &[Square; 5],
    ys: &[[f64; 2]],
    penalty: f64,
    scales: &[f64; 5],
) -> [f64; 2] {
    let k = combined(kernels, scales);
    let n = ys.len();
    let mut predicted = [vec![0.0; n], vec![0.0; n]];
    for fold in 0..FOLDS {
        let train: Vec<usize> = (0..n).filter(|i| i % FOLDS != fold).collect();
        let dual = solve_dual(&k, &train, ys, penalty);
        for i in (0..n).filter(|i| i % FOLDS == fold) {
            let p = dual.predict(&k, &train, i);
            predicted[0][i] = p[0];
            predicted[1][i] = p[1];
        }
    }
    let ratings: Vec<f64> = ys.iter().map(|y| y[0]).collect();
    [
        spearman(&predicted[0], &ratings),
        spearman(&predicted[1], &ratings),
    ]
}

/// Fits the receptiveness model on EVEN ids of the ratings file; see the module doc.
pub fn fit_receptiveness(scorer: &Scorer, jsonl: &str) -> Result<ReceptivenessFit, EvalError> {
    let rows: Vec<Rated> = parse_rated(jsonl)?
        .into_iter()
        .filter(|r| r.id % 2 == 0)
        .collect();
    if rows.len() < 2 * FOLDS {
        return Err(EvalError::Empty);
    }
    let n = rows.len();
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let names = scorer.receptiveness_feature_names().to_vec();

    // Candidate terms come from the replies and their opening sentences as the scorer cuts them.
    let plain = scorer
        .with_model(&counting_model(&names, &[], &[]))
        .map_err(scorer_error)?;
    let openings: Vec<&str> = texts
        .iter()
        .map(|t| &t[plain.reply_features(t).opening])
        .collect();
    let whole_candidates = term_candidates(texts.iter().copied(), WHOLE_WORDS);
    let opening_candidates = term_candidates(openings.iter().copied(), OPENING_WORDS);
    let counting = scorer
        .with_model(&counting_model(
            &names,
            &whole_candidates,
            &opening_candidates,
        ))
        .map_err(scorer_error)?;
    let features: Vec<ReplyFeatures> = texts.iter().map(|t| counting.reply_features(t)).collect();

    // Phrase blocks, standardised; a feature that never varies keeps weight 0.
    let p = names.len();
    let mut sds: [Vec<f64>; 3] = Default::default();
    let mut blocks: Vec<SparseRows> = Vec::new();
    for (s, sd_out) in sds.iter_mut().enumerate() {
        let column = |j: usize| features.iter().map(move |f| f.spans[s][j]);
        *sd_out = (0..p)
            .map(|j| {
                let mean = column(j).sum::<f64>() / n as f64;
                let var = column(j).map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
                if var > 1e-12 {
                    var.sqrt()
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        blocks.push(
            features
                .iter()
                .map(|f| {
                    f.spans[s]
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| **x != 0.0)
                        .map(|(j, x)| (j, x / sd_out[j]))
                        .collect()
                })
                .collect(),
        );
    }
    let (mut terms, term_rows) = tfidf_block(&whole_candidates, |i| features[i].terms.clone(), n);
    let (mut opening_terms, opening_rows) = tfidf_block(
        &opening_candidates,
        |i| features[i].opening_terms.clone(),
        n,
    );
    let widths = [p, p, p, terms.len(), opening_terms.len()];
    blocks.push(term_rows);
    blocks.push(opening_rows);
    let kernels: [Square; 5] = std::array::from_fn(|b| gram(&blocks[b], widths[b]));

    let ratings: Vec<f64> = rows.iter().map(|r| r.receptive).collect();
    let rank = ranks(&ratings);
    let ys: Vec<[f64; 2]> = ratings.iter().zip(&rank).map(|(&y, &r)| [y, r]).collect();

    let mut grid = Vec::new();
    for &penalty in &PENALTIES {
        for &o in &OPENING_SCALES {
            for &c in &CLOSING_SCALES {
                for &t in &TERM_SCALES {
                    for &ot in &OPENING_TERM_SCALES {
                        grid.push((penalty, [1.0, o, c, t, ot]));
                    }
                }
            }
        }
    }
    // The grid points are independent; spread them over the machine's cores.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let scores: Vec<[f64; 2]> = std::thread::scope(|scope| {
        let handles: Vec<_> = grid
            .chunks(grid.len().div_ceil(threads))
            .map(|chunk| {
                let (kernels, ys) = (&kernels, &ys);
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(penalty, scales)| cross_validate(kernels, ys, *penalty, scales))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a grid worker panicked"))
            .collect()
    });
    let mut best = (f64::NEG_INFINITY, 0, 0);
    for (g, rhos) in scores.iter().enumerate() {
        for (t, &rho) in rhos.iter().enumerate() {
            if rho > best.0 {
                best = (rho, g, t);
            }
        }
    }
    let (cv_rho, g, target) = best;
    let (penalty, scales) = grid[g];

    // Refit on every even row and turn the dual solution into weights per feature and term.
    let all: Vec<usize> = (0..n).collect();
    let k = combined(&kernels, &scales);
    let dual = solve_dual(&k, &all, &ys, penalty);
    let mut primal: Vec<Vec<f64>> = widths.iter().map(|&w| vec![0.0; w]).collect();
    for (b, block) in blocks.iter().enumerate() {
        let s2 = scales[b] * scales[b];
        for (i, row) in block.iter().enumerate() {
            for &(j, x) in row {
                primal[b][j] += s2 * dual.coef[i][target] * x;
            }
        }
    }
    let raw_score = |i: usize| -> f64 {
        blocks
            .iter()
            .zip(&primal)
            .map(|(block, w)| block[i].iter().map(|&(j, x)| w[j] * x).sum::<f64>())
            .sum()
    };
    let fitted: Vec<f64> = (0..n).map(raw_score).collect();
    let mean = fitted.iter().sum::<f64>() / n as f64;
    let sd = (fitted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
    // Rescale so the fitted score has mean 0 and SPREAD logistic units per standard deviation;
    // only the order matters to the measure, and this keeps `overall` from bunching.
    let scale = if sd > 1e-12 { SPREAD / sd } else { 1.0 };
    let weights: [BTreeMap<String, f64>; 3] = std::array::from_fn(|s| {
        names
            .iter()
            .enumerate()
            .map(|(j, name)| (name.clone(), primal[s][j] / sds[s][j] * scale))
            .collect()
    });
    for (t, w) in terms.iter_mut().zip(&primal[3]) {
        t.weight = w * scale;
    }
    for (t, w) in opening_terms.iter_mut().zip(&primal[4]) {
        t.weight = w * scale;
    }
    // A block scaled to zero was not chosen; its terms would only slow scoring down.
    if scales[4] == 0.0 {
        opening_terms.clear();
    }
    let mut model = ReceptivenessModel {
        intercept: -mean * scale,
        overall_share: 0.0,
        weights,
        terms,
        opening_terms,
    };
    let fitted_scorer = scorer.with_model(&model).map_err(scorer_error)?;
    let alone: Vec<f64> = texts
        .iter()
        .map(|t| fitted_scorer.receptiveness(t))
        .collect();
    let receptiveness_rho = spearman(&alone, &ratings);

    let mut share_best = (f64::NEG_INFINITY, 0.0);
    let mut share_grid = Vec::new();
    let steps = (MAX_OVERALL_SHARE / 0.05).round() as usize;
    for step in 0..=steps {
        let share = step as f64 * 0.05;
        let candidate = fitted_scorer.with_overall_share(share);
        let overall: Vec<f64> = texts
            .iter()
            .map(|t| f64::from(candidate.score(&reply_drill(t)).overall))
            .collect();
        let rho = spearman(&overall, &ratings);
        share_grid.push((share, rho));
        if rho > share_best.0 {
            share_best = (rho, share);
        }
    }
    model.overall_share = share_best.1;
    Ok(ReceptivenessFit {
        model,
        choice: RidgeChoice {
            penalty,
            scales,
            to_ranks: target == 1,
        },
        cv_rho,
        even_rho: share_best.0,
        even_n: n,
        receptiveness_rho,
        grid: share_grid,
    })
}
