//! `spar stats`: for the overall score and each dimension, the first, best and latest
//! score and the trend across drills; optionally a PNG chart of them over time.

use super::emit;
use crate::chart;
use crate::cli::{ListFormat, StatsArgs};
use crate::config::Settings;
use crate::report::{Summary, direction, summarise, text};
use crate::store;
use anyhow::Context as _;
use std::process::ExitCode;

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
    use spar_core::store::{DrillId, ScorePoint};

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
}
