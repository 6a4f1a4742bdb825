//! Turns a scorecard into what a person reads after a drill: plain text for terminals and chat,
//! Markdown for files and platforms that render it (`spar score --format markdown` and
//! `spar export --format markdown` both print [`render_markdown`]). Flags, dimensions and
//! strengths are named by their labels, the same words every surface uses. No colour here;
//! adapters add their own.

use super::{Dimension, DimensionName, Flag, Scorecard, Strength};
use crate::transcript::clock;
use std::fmt::Write as _;

fn bar(score: u8) -> String {
    let filled = usize::from(score.min(4));
    format!("{}{}", "█".repeat(filled), "░".repeat(4 - filled))
}

/// Moment flags in the order they happened, then the missed moves.
pub fn ordered(card: &Scorecard) -> Vec<&Flag> {
    let mut flags: Vec<&Flag> = card.flags.iter().collect();
    flags.sort_by(|a, b| match (a.at_s, b.at_s) {
        (Some(x), Some(y)) => x.total_cmp(&y).then(a.turn.cmp(&b.turn)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    flags
}

/// A flag's quote, when it has one worth showing: a missed move has none.
pub fn quote_of(flag: &Flag) -> Option<&str> {
    flag.quote.as_deref().filter(|q| !q.trim().is_empty())
}

/// `Label: "quote"`, the way a strength reads in a list.
pub fn strength_line(strength: &Strength) -> String {
    if strength.quote.trim().is_empty() {
        strength.label.clone()
    } else {
        format!("{}: \"{}\"", strength.label, one_line(&strength.quote))
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn dimension_line(d: &Dimension, width: usize) -> String {
    format!("{:<width$} {} {}/4", d.name.label(), bar(d.score), d.score)
}

/// Wide enough for the longest dimension label.
fn label_width() -> usize {
    DimensionName::ALL
        .iter()
        .map(|d| d.label().chars().count())
        .max()
        .unwrap_or(0)
}

pub fn render_text(card: &Scorecard) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Overall: {}/100", card.overall);
    let _ = writeln!(out, "\n{}", card.summary);
    if !card.flags.is_empty() {
        let _ = writeln!(out, "\nFlags");
        for flag in ordered(card) {
            let head = match (flag.at_s, quote_of(flag)) {
                (Some(at), Some(quote)) => {
                    format!("{:>6} {}: \"{quote}\"", clock(at), flag.kind.label())
                }
                (Some(at), None) => format!("{:>6} {}", clock(at), flag.kind.label()),
                (None, _) => flag.kind.label().to_string(),
            };
            let _ = writeln!(out, "  {head}");
            let _ = writeln!(out, "         why: {}", flag.why);
            let _ = writeln!(out, "         try: {}", flag.try_instead);
        }
    }
    let _ = writeln!(out, "\nDimensions");
    let width = label_width();
    for d in &card.dimensions {
        let _ = writeln!(out, "  {}", dimension_line(d, width));
    }
    if !card.strengths.is_empty() {
        let _ = writeln!(out, "\nStrengths");
        for s in &card.strengths {
            let at = s
                .at_s
                .map(|at| format!("{} ", clock(at)))
                .unwrap_or_default();
            let _ = writeln!(out, "  + {at}{}", strength_line(s));
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

/// Text as Markdown reads it literally: what people type (`*`, `_`, `|`, `<`, a leading
/// `#`) shows as typed instead of turning into emphasis, a table cell or a heading, and
/// line breaks become spaces so a quote stays on its line.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
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
            let kind = flag.kind.label();
            let head = match flag.at_s {
                Some(at) => format!("**{} {kind}**", clock(at)),
                None => format!("**{kind}**"),
            };
            match quote_of(flag) {
                Some(quote) => {
                    let _ = writeln!(out, "- {head}: \"{}\"", escape_markdown(quote));
                }
                None => {
                    let _ = writeln!(out, "- {head}");
                }
            }
            let _ = writeln!(out, "  - Why: {}", flag.why);
            let _ = writeln!(out, "  - Try: {}", flag.try_instead);
        }
    }
    if !card.dimensions.is_empty() {
        let _ = writeln!(
            out,
            "\n### Dimensions\n\n| Dimension | Score | Evidence |\n|---|---|---|"
        );
        for d in &card.dimensions {
            let evidence: Vec<String> = d.evidence.iter().map(|e| escape_markdown(e)).collect();
            let _ = writeln!(
                out,
                "| {} | `{}` {}/4 | {} |",
                d.name.label(),
                bar(d.score),
                d.score,
                evidence.join("<br>")
            );
        }
    }
    if !card.strengths.is_empty() {
        let _ = writeln!(out, "\n### Strengths\n");
        for s in &card.strengths {
            let at = s
                .at_s
                .map(|at| format!("**{}** ", clock(at)))
                .unwrap_or_default();
            let quote = if s.quote.trim().is_empty() {
                String::new()
            } else {
                format!(": \"{}\"", escape_markdown(&s.quote))
            };
            let _ = writeln!(out, "- {at}{}{quote}", s.label);
        }
    }
    if !card.notes.is_empty() {
        let _ = writeln!(out, "\n### Notes\n");
        for n in &card.notes {
            let _ = writeln!(out, "- {}", escape_markdown(n));
        }
    }
    out
}

/// The label of a flag kept by its name (history rows, stored scorecards); a name this
/// version does not know is shown with spaces rather than hidden.
pub fn flag_name_label(name: &str) -> String {
    name.parse::<super::FlagKind>()
        .map_or_else(|_| name.replace('_', " "), |k| k.label().to_string())
}

/// The label of a dimension kept by its name, as [`flag_name_label`] does for flags.
pub fn dimension_name_label(name: &str) -> String {
    name.parse::<DimensionName>()
        .map_or_else(|_| name.replace('_', " "), |d| d.label().to_string())
}
