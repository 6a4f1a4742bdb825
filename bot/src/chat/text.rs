//! Text as every chat surface shows it, within the platform's limits: a long message is
//! split into pieces at sentence boundaries (no piece ends mid-word or is over the limit),
//! a field that must be one piece is clipped with an ellipsis, scenario prose is re-flowed
//! for a chat client, and a flag is named the same way on Discord and Slack.

use spar_core::scoring::{DimensionName, FlagKind};

/// `text` cut to `limit` characters, ending in an ellipsis when cut: for a field that
/// holds one piece (a title, a label, a button), where `split` cannot help.
pub fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(limit.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

/// Prose as scenario files wrap it, re-flowed for a chat client: single line breaks
/// become spaces, paragraph breaks stay.
pub fn reflow(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// What a flag is called where people read it: "Defensiveness", "Missed: process".
pub fn flag_label(kind: FlagKind) -> String {
    capitalised(kind.label())
}

/// What a dimension is called on a rating form: "Owns mistakes" for `owns_mistakes`.
pub fn dimension_label(dimension: DimensionName) -> String {
    capitalised(dimension.label())
}

/// `text` with its first letter upper-cased: a label at the start of a line or field.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// Splits `text` into pieces of at most `limit` characters, preferring to break after a
/// paragraph, then after a sentence, then at a line break, then at a space, and only then
/// inside a word. Pieces are trimmed; an empty text gives no pieces.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.chars().count() <= limit {
            pieces.push(rest.to_string());
            break;
        }
        let cut = break_point(rest, limit);
        let (head, tail) = rest.split_at(cut);
        let head = head.trim_end();
        if !head.is_empty() {
            pieces.push(head.to_string());
        }
        rest = tail.trim_start();
    }
    pieces
}

/// The byte index to cut `text` at so the head holds at most `limit` characters.
fn break_point(text: &str, limit: usize) -> usize {
    // The byte index just past the `limit`-th character, and the character after it: a
    // break right at the limit is as good as any when a space follows.
    let mut chars = text.char_indices().skip(limit);
    let window_end = chars.next().map_or(text.len(), |(i, _)| i);
    let window = &text[..window_end];
    let followed_by_space = |end: usize| text[end..].chars().next().is_none_or(char::is_whitespace);
    let last = |mut candidates: Vec<usize>| {
        candidates.retain(|&i| i > 0 && i <= window_end);
        candidates.last().copied()
    };
    let paragraph = last(window.match_indices("\n\n").map(|(i, _)| i).collect());
    let sentence = last(
        window
            .char_indices()
            .filter(|&(_, c)| matches!(c, '.' | '!' | '?' | '…'))
            .map(|(i, c)| i + c.len_utf8())
            .filter(|&end| followed_by_space(end))
            .collect(),
    );
    let line = last(window.match_indices('\n').map(|(i, _)| i).collect());
    let space = last(
        window
            .char_indices()
            .filter(|&(_, c)| c.is_whitespace())
            .map(|(i, _)| i)
            .chain(followed_by_space(window_end).then_some(window_end))
            .collect(),
    );
    paragraph
        .or(sentence)
        .or(line)
        .or(space)
        .unwrap_or(window_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clipped_field_keeps_its_limit_in_characters_and_ends_in_an_ellipsis() {
        assert_eq!(clip("It ships.", 9), "It ships.");
        assert_eq!(clip("It ships today.", 9), "It ships…");
        let clipped = clip(&"é".repeat(200), 150);
        assert_eq!(clipped.chars().count(), 150);
        assert!(clipped.ends_with('…'));
        assert_eq!(
            clip("abc", 0),
            "…",
            "a limit of nothing still says something was cut"
        );
    }

    #[test]
    fn scenario_prose_is_reflowed_keeping_its_paragraphs() {
        assert_eq!(
            reflow("  The gain\n  is real.\n\nThe   latency\nis too.\n\n\n"),
            "The gain is real.\n\nThe latency is too."
        );
    }

    #[test]
    fn flags_are_named_for_people() {
        assert_eq!(flag_label(FlagKind::Defensiveness), "Defensiveness");
        assert_eq!(flag_label(FlagKind::NoProcess), "Missed: next step");
        assert_eq!(flag_label(FlagKind::Capitulation), "Giving in");
    }

    #[test]
    fn a_short_message_is_one_piece() {
        assert_eq!(split("  It ships.  ", 2000), vec!["It ships."]);
        assert!(split("   ", 10).is_empty());
    }

    #[test]
    fn a_long_message_breaks_after_a_sentence_and_no_piece_is_over_the_limit() {
        let text = "The gain is real. The latency is real too. We need both numbers on one page.";
        let pieces = split(text, 45);
        assert_eq!(
            pieces,
            vec![
                "The gain is real. The latency is real too.",
                "We need both numbers on one page."
            ]
        );
        for limit in [1, 7, 20, 45, 2000] {
            let pieces = split(text, limit);
            assert!(
                pieces.iter().all(|p| p.chars().count() <= limit),
                "{limit}: {pieces:?}"
            );
            let letters = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            assert_eq!(
                letters(&pieces.concat()),
                letters(text),
                "nothing is lost at {limit}"
            );
        }
    }

    #[test]
    fn a_paragraph_break_is_preferred_and_a_decimal_point_is_not_a_sentence_end() {
        let text = "p99 went from 140.5 ms to 196 ms\n\nSo what now?";
        assert_eq!(
            split(text, 40),
            vec!["p99 went from 140.5 ms to 196 ms", "So what now?"]
        );
        assert_eq!(
            split("p99 is 196.4 ms today", 12),
            vec!["p99 is 196.4", "ms today"]
        );
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let text = "é".repeat(30);
        let pieces = split(&text, 10);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() == 10));
    }
}
