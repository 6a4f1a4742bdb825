//! What a person reads about their drills, the same from the command line and from chat:
//! moments as text, the per-dimension summary of their scores, and one drill as Markdown.
//! The CLI commands and the chat runtime both render through here, so neither reaches
//! into the other.

use crate::chat::text::capitalised;
use spar_core::Scenario;
use spar_core::scoring::Scorecard;
use spar_core::scoring::render::{dimension_name_label, escape_markdown, render_markdown};
use spar_core::store::{LoadedDrill, PersonId, ScorePoint, StoredTurn};
use spar_core::transcript::{Role, clock};
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

/// The drill to read or share: who took part, named as the scenario names them, the
/// transcript, then the scorecard exactly as `spar score --format markdown` prints it.
pub fn markdown(drill: &LoadedDrill, scenario: Option<&Scenario>) -> String {
    let record = &drill.record;
    let mut out = String::new();
    let title = scenario.map_or(record.settings.scenario_id.as_str(), |s| s.title.as_str());
    let _ = writeln!(out, "# {}\n", escape_markdown(title));
    let _ = writeln!(
        out,
        "Drill `{}` · `{}` · {} · {} · {}\n",
        record.id,
        record.settings.scenario_id,
        record.settings.difficulty,
        record.settings.mode.as_str(),
        local_time(record.started_at.unwrap_or(record.created_at))
    );
    let names = Names::of(drill, scenario);
    if let Some(persona) = scenario.map(|s| &s.persona) {
        let _ = writeln!(
            out,
            "{} with {}, {}.\n",
            escape_markdown(&names.candidate),
            escape_markdown(&persona.name),
            escape_markdown(&persona.role)
        );
    }
    let _ = writeln!(out, "## Transcript\n");
    if drill.turns.is_empty() {
        let _ = writeln!(out, "_No turns._\n");
    }
    for stored in &drill.turns {
        let turn = &stored.turn;
        // A line the input cut off was typed but never sent; it is kept, and says so.
        let cut = if turn.cut_off {
            " _(cut off, not sent)_"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "**{}** ({}): {}{cut}\n",
            escape_markdown(&names.of_turn(stored)),
            clock(turn.at_s),
            escape_markdown(&turn.text)
        );
    }
    match &drill.scorecard {
        None => {
            let _ = writeln!(out, "## Debrief\n\n_Not scored._");
        }
        Some(stored) => match serde_json::from_value::<Scorecard>(stored.json.clone()) {
            Ok(card) => out.push_str(&render_markdown(&card)),
            // Kept by a version whose scorecard this one cannot read: shown as kept, not lost.
            Err(e) => {
                let json = serde_json::to_string_pretty(&stored.json).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "## Debrief\n\n_This scorecard could not be read ({e}); here it is as kept:_\n\n```json\n{json}\n```"
                );
            }
        },
    }
    out
}

/// What each person in the transcript is called: the antagonist by the persona's name (and
/// whoever played it, in a peer drill), everyone else by their own name.
struct Names {
    candidate: String,
    antagonist: String,
    people: Vec<(PersonId, String)>,
}

impl Names {
    fn of(drill: &LoadedDrill, scenario: Option<&Scenario>) -> Names {
        let name = |role: Role| drill.member(role).map(|m| m.person.display_name.clone());
        let persona = scenario.map(|s| s.persona.name.clone());
        let antagonist = match (persona, name(Role::Antagonist)) {
            (Some(persona), Some(player)) => format!("{persona} ({player})"),
            (Some(persona), None) => persona,
            (None, Some(player)) => player,
            (None, None) => capitalised(Role::Antagonist.as_str()),
        };
        Names {
            candidate: name(Role::Candidate)
                .unwrap_or_else(|| capitalised(Role::Candidate.as_str())),
            antagonist,
            people: drill
                .participants
                .iter()
                .map(|m| (m.id, m.person.display_name.clone()))
                .collect(),
        }
    }

    fn of_turn(&self, stored: &StoredTurn) -> String {
        match stored.turn.role {
            Role::Antagonist => self.antagonist.clone(),
            Role::Candidate => self.candidate.clone(),
            Role::Observer => stored
                .author
                .as_ref()
                .and_then(|a| self.people.iter().find(|(id, _)| id == a))
                .map_or_else(
                    || capitalised(Role::Observer.as_str()),
                    |(_, name)| name.clone(),
                ),
        }
    }
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
