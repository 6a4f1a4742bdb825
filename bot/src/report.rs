//! What a person reads about their drills, the same from the command line and from chat:
//! moments as text, the per-dimension summary of their scores, and one drill as Markdown.
//! The CLI commands and the chat runtime both render through here, so neither reaches
//! into the other.

use serde_json::Value;
use spar_core::store::{LoadedDrill, ScorePoint};
use spar_core::transcript::clock;
use std::fmt::Write as _;

/// A moment as RFC 3339 in UTC, to the second: for JSON and for dates in chat.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A moment in the reader's local time, to the minute: for tables a person reads.
pub fn local_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

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
            trend_words(s)
        ));
    }
    out
}

/// One drill as Markdown: its facts, the transcript, and the scorecard if it has one.
pub fn markdown(drill: &LoadedDrill) -> String {
    let record = &drill.record;
    let mut out = String::new();
    let _ = writeln!(out, "# Drill {}\n", record.id);
    let _ = writeln!(
        out,
        "Scenario **{}**, {}, {} — {}\n",
        record.settings.scenario_id,
        record.settings.difficulty,
        record.settings.mode.as_str(),
        local_time(record.started_at.unwrap_or(record.created_at))
    );
    let _ = writeln!(out, "## Transcript\n");
    if drill.turns.is_empty() {
        let _ = writeln!(out, "_No turns._\n");
    }
    for stored in &drill.turns {
        let turn = &stored.turn;
        let _ = writeln!(
            out,
            "**{}** ({}): {}\n",
            capitalised(turn.role.as_str()),
            clock(turn.at_s),
            turn.text
        );
    }
    let Some(card) = &drill.scorecard else {
        let _ = writeln!(out, "## Scorecard\n\n_Not scored._");
        return out;
    };
    let card = &card.json;
    let _ = writeln!(out, "## Scorecard\n");
    if let Some(overall) = card.get("overall") {
        let _ = writeln!(out, "Overall: **{overall}**\n");
    }
    if let Some(summary) = card.get("summary").and_then(Value::as_str) {
        let _ = writeln!(out, "{summary}\n");
    }
    let dimensions = card.get("dimensions").and_then(Value::as_array);
    if let Some(dimensions) = dimensions.filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "| Dimension | Score | Evidence |\n|---|---|---|");
        for d in dimensions {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                field(d, "name"),
                d.get("score").map(ToString::to_string).unwrap_or_default(),
                field(d, "evidence")
            );
        }
        out.push('\n');
    }
    let flags = card.get("flags").and_then(Value::as_array);
    if let Some(flags) = flags.filter(|f| !f.is_empty()) {
        let _ = writeln!(out, "### Flags\n");
        for f in flags {
            let at = f
                .get("at_s")
                .and_then(Value::as_f64)
                .map(|s| format!(" at {}", clock(s)))
                .unwrap_or_default();
            let turn = f
                .get("turn")
                .and_then(Value::as_i64)
                .map(|t| format!(" (turn {t}{at})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- **{}**{turn}: “{}”",
                field(f, "kind"),
                field(f, "quote")
            );
            let why = field(f, "why");
            if !why.is_empty() {
                let _ = writeln!(out, "  {why}");
            }
            let instead = field(f, "try_instead");
            if !instead.is_empty() {
                let _ = writeln!(out, "  Try instead: {instead}");
            }
        }
        out.push('\n');
    }
    let strengths = card.get("strengths").and_then(Value::as_array);
    if let Some(strengths) = strengths.filter(|s| !s.is_empty()) {
        let _ = writeln!(out, "### Strengths\n");
        for s in strengths {
            let _ = writeln!(
                out,
                "- {}",
                s.as_str().map_or_else(|| s.to_string(), String::from)
            );
        }
        out.push('\n');
    }
    out
}

fn field<'v>(value: &'v Value, name: &str) -> &'v str {
    value.get(name).and_then(Value::as_str).unwrap_or("")
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use spar_core::store::DrillId;
    use spar_core::store::ScorePoint;

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
