//! `spar stats`: for the overall score and each dimension, the first, best and latest
//! score and the trend across drills; optionally a PNG chart of them over time.

use super::emit;
use crate::chart;
use crate::cli::{ListFormat, StatsArgs};
use crate::config::Settings;
use crate::store;
use anyhow::Context as _;
use spar_core::store::ScorePoint;
use std::process::ExitCode;

/// One series' summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub name: String,
    pub drills: usize,
    pub first: u8,
    pub best: u8,
    pub latest: u8,
    /// The least-squares slope: points gained per drill.
    pub trend: f64,
}

pub fn run(settings: &Settings, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let store = store::open(settings.database_url.as_deref()).await?;
        let person = args.who.person(&settings.terminal_user);
        let points = store
            .score_series(person.as_ref())
            .await
            .context("reading the scores")?;
        let summaries = summarise(&points);
        match args.format {
            ListFormat::Text => emit(&text(&summaries, points.len()))?,
            ListFormat::Json => emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&json(&summaries, points.len()))?
            ))?,
        }
        if let Some(path) = &args.chart {
            chart::draw_scores(&points, path)?;
            if args.format == ListFormat::Text {
                emit(&format!("chart written to {}\n", path.display()))?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `overall` first, then each dimension in the order it first appeared.
pub fn summarise(points: &[ScorePoint]) -> Vec<Summary> {
    let mut series: Vec<(String, Vec<u8>)> =
        vec![("overall".into(), points.iter().map(|p| p.overall).collect())];
    for point in points {
        for (name, score) in &point.dimensions {
            match series.iter_mut().skip(1).find(|(n, _)| n == name) {
                Some((_, scores)) => scores.push(*score),
                None => series.push((name.clone(), vec![*score])),
            }
        }
    }
    series
        .into_iter()
        .filter_map(|(name, scores)| {
            Some(Summary {
                drills: scores.len(),
                first: *scores.first()?,
                best: *scores.iter().max()?,
                latest: *scores.last()?,
                trend: slope(&scores),
                name,
            })
        })
        .collect()
}

fn slope(scores: &[u8]) -> f64 {
    let n = scores.len() as f64;
    if scores.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = scores.iter().map(|&s| f64::from(s)).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &s) in scores.iter().enumerate() {
        let dx = i as f64 - mean_x;
        num += dx * (f64::from(s) - mean_y);
        den += dx * dx;
    }
    num / den
}

fn trend_words(trend: f64) -> String {
    if trend.abs() < 0.05 {
        "flat".into()
    } else if trend > 0.0 {
        format!("up {trend:+.2}/drill")
    } else {
        format!("down {trend:+.2}/drill")
    }
}

pub fn text(summaries: &[Summary], drills: usize) -> String {
    if drills == 0 {
        return "no scored drills yet; finish a `spar practice` drill to get a scorecard\n".into();
    }
    let width = summaries
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(9)
        .max(9);
    let mut out = format!(
        "{drills} scored drill(s)\n{:width$}  first  best  latest  trend\n",
        "dimension"
    );
    for s in summaries {
        out.push_str(&format!(
            "{:width$}  {:>5}  {:>4}  {:>6}  {}\n",
            s.name,
            s.first,
            s.best,
            s.latest,
            trend_words(s.trend)
        ));
    }
    out
}

pub fn json(summaries: &[Summary], drills: usize) -> serde_json::Value {
    serde_json::json!({
        "drills": drills,
        "series": summaries.iter().map(|s| serde_json::json!({
            "name": s.name,
            "drills": s.drills,
            "first": s.first,
            "best": s.best,
            "latest": s.latest,
            "trend": (s.trend * 1000.0).round() / 1000.0,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spar_core::store::DrillId;

    fn point(overall: u8, curiosity: u8) -> ScorePoint {
        ScorePoint {
            drill: DrillId("d".into()),
            at: 0,
            overall,
            dimensions: vec![("curiosity".into(), curiosity)],
        }
    }

    #[test]
    fn each_series_reports_first_best_latest_and_a_rising_trend() {
        let summaries = summarise(&[point(1, 2), point(3, 4), point(2, 3)]);
        assert_eq!(summaries[0].name, "overall");
        assert_eq!(
            (summaries[0].first, summaries[0].best, summaries[0].latest),
            (1, 3, 2)
        );
        assert_eq!(summaries[1].name, "curiosity");
        assert!((summaries[1].trend - 0.5).abs() < 1e-9);
    }
}
