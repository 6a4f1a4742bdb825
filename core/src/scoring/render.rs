//! Turns a scorecard into what a person reads after a drill: plain text for terminals and chat,
//! Markdown for platforms that render it. No colour here; adapters add their own.

use super::{Dimension, Flag, Scorecard};
use crate::transcript::clock;
use std::fmt::Write as _;

/// Width of the dimension-name column, wide enough for "escalation_discipline".
const NAME_WIDTH: usize = 22;

fn bar(score: u8) -> String {
    let filled = usize::from(score.min(4));
    format!("{}{}", "█".repeat(filled), "░".repeat(4 - filled))
}

fn label(name: &str) -> String {
    name.replace('_', " ")
}

/// Moment flags in the order they happened, then the missed moves.
fn ordered(card: &Scorecard) -> Vec<&Flag> {
    let mut flags: Vec<&Flag> = card.flags.iter().collect();
    flags.sort_by(|a, b| match (a.at_s, b.at_s) {
        (Some(x), Some(y)) => x.total_cmp(&y).then(a.turn.cmp(&b.turn)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    flags
}

fn dimension_line(d: &Dimension) -> String {
    format!(
        "{:<NAME_WIDTH$} {} {}/4",
        label(d.name.as_str()),
        bar(d.score),
        d.score
    )
}

pub fn render_text(card: &Scorecard) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Overall: {}/100", card.overall);
    let _ = writeln!(out, "\n{}", card.summary);
    if !card.flags.is_empty() {
        let _ = writeln!(out, "\nFlags");
        for flag in ordered(card) {
            let head = match (flag.at_s, &flag.quote) {
                (Some(at), Some(quote)) => {
                    format!(
                        "{:>6} {}: \"{quote}\"",
                        clock(at),
                        label(flag.kind.as_str())
                    )
                }
                _ => format!("{:>6} {}", "missed", label(flag.kind.as_str())),
            };
            let _ = writeln!(out, "  {head}");
            let _ = writeln!(out, "         why: {}", flag.why);
            let _ = writeln!(out, "         try: {}", flag.try_instead);
        }
    }
    let _ = writeln!(out, "\nDimensions");
    for d in &card.dimensions {
        let _ = writeln!(out, "  {}", dimension_line(d));
    }
    if !card.strengths.is_empty() {
        let _ = writeln!(out, "\nStrengths");
        for s in &card.strengths {
            let _ = writeln!(out, "  + {s}");
        }
    }
    if !card.notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for n in &card.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}

pub fn render_markdown(card: &Scorecard) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Debrief: {}/100\n", card.overall);
    let _ = writeln!(out, "{}", card.summary);
    if !card.flags.is_empty() {
        let _ = writeln!(out, "\n### Flags\n");
        for flag in ordered(card) {
            let kind = label(flag.kind.as_str());
            match (flag.at_s, &flag.quote) {
                (Some(at), Some(quote)) => {
                    let _ = writeln!(out, "- **{}** {kind}: \"{quote}\"", clock(at));
                }
                _ => {
                    let _ = writeln!(out, "- **missed** {kind}");
                }
            }
            let _ = writeln!(out, "  - Why: {}", flag.why);
            let _ = writeln!(out, "  - Try: {}", flag.try_instead);
        }
    }
    let _ = writeln!(out, "\n### Dimensions\n\n```");
    for d in &card.dimensions {
        let _ = writeln!(out, "{}", dimension_line(d));
    }
    let _ = writeln!(out, "```");
    if !card.strengths.is_empty() {
        let _ = writeln!(out, "\n### Strengths\n");
        for s in &card.strengths {
            let _ = writeln!(out, "- {s}");
        }
    }
    if !card.notes.is_empty() {
        let _ = writeln!(out, "\n### Notes\n");
        for n in &card.notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    out
}
