//! `spar stats`: for the overall score and each dimension, the first, best and latest
//! score and the trend across drills; optionally a PNG chart of them over time.

use super::emit;
use crate::chart;
use crate::cli::{ListFormat, StatsArgs};
use crate::config::Settings;
use crate::store;
use anyhow::Context as _;
use spar_core::scoring::render::dimension_name_label;
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
            // An empty chart would only look like a broken one.
            if points.is_empty() {
                if args.format == ListFormat::Text {
                    emit(&format!(
                        "no chart written to {}: there are no scores to draw yet\n",
                        path.display()
                    ))?;
                }
            } else {
                chart::draw_scores(&points, path)?;
                if args.format == ListFormat::Text {
                    emit(&format!("chart written to {}\n", path.display()))?;
                }
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

/// Below this slope (points per drill) scores are holding steady.
const STEADY: f64 = 0.05;

/// Which way a series went: "up" only when the scores rise (the fitted slope is positive
/// and the latest is above the first), "down" only when they fall; "mixed" when the slope
/// and the ends disagree.
pub fn direction(s: &Summary) -> &'static str {
    if s.drills < 2 {
        "-"
    } else if s.trend.abs() < STEADY {
        "flat"
    } else if s.trend > 0.0 && s.latest > s.first {
        "up"
    } else if s.trend < 0.0 && s.latest < s.first {
        "down"
    } else {
        "mixed"
    }
}

fn trend_words(s: &Summary) -> String {
    match direction(s) {
        "up" | "down" => format!("{} {:+.2}/drill", direction(s), s.trend),
        "-" => "- (one drill)".into(),
        other => other.into(),
    }
}

pub fn text(summaries: &[Summary], drills: usize) -> String {
    if drills == 0 {
        return "no scored drills yet; finish a `spar practice` drill to get a scorecard\n".into();
    }
    // Dimensions by their labels, as every debrief names them; `overall` is no dimension.
    let shown = |s: &Summary| {
        if s.name == "overall" {
            s.name.clone()
        } else {
            dimension_name_label(&s.name)
        }
    };
    let width = summaries
        .iter()
        .map(|s| shown(s).chars().count())
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
            shown(s),
            s.first,
            s.best,
            s.latest,
            trend_words(s)
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
            "direction": direction(s),
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

    fn overall(scores: &[u8]) -> Summary {
        let points: Vec<ScorePoint> = scores.iter().map(|&s| point(s, 0)).collect();
        summarise(&points).remove(0)
    }

    #[test]
    fn a_trend_is_up_only_when_the_scores_rise() {
        let cases: &[(&[u8], &str)] = &[
            (&[40, 60, 80], "up"),
            (&[80, 60, 40], "down"),
            (&[60, 60, 60], "flat"),
            (&[60], "-"),
            // The fitted slope rises, yet the latest drill is below the first.
            (&[30, 10, 40, 40, 20], "mixed"),
            (&[40, 80, 20, 10, 50], "mixed"),
        ];
        for (scores, want) in cases {
            let summary = overall(scores);
            assert_eq!(direction(&summary), *want, "{scores:?}: {}", summary.trend);
        }
        assert!(overall(&[30, 10, 40, 40, 20]).trend > 0.0);
        let table = text(
            &summarise(&[
                point(30, 0),
                point(10, 0),
                point(40, 0),
                point(40, 0),
                point(20, 0),
            ]),
            5,
        );
        assert!(!table.contains(" up "), "{table}");
    }

    #[test]
    fn dimensions_are_named_by_their_labels_in_the_table_and_by_name_in_json() {
        let points = [ScorePoint {
            drill: DrillId("d".into()),
            at: 0,
            overall: 60,
            dimensions: vec![
                ("evidence_both_ways".into(), 2),
                ("escalation_discipline".into(), 4),
            ],
        }];
        let summaries = summarise(&points);
        let table = text(&summaries, 1);
        assert!(table.contains("\nevidence both ways     "), "{table}");
        assert!(table.contains("\nescalation discipline  "), "{table}");
        assert!(!table.contains('_'), "{table}");
        assert_eq!(
            json(&summaries, 1)["series"][1]["name"],
            "evidence_both_ways"
        );
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
