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
