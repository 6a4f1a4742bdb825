//! How the terminal looks: speaker labels, wrapping and colour (only when wanted).

use spar_core::transcript::clock;
use textwrap::core::display_width;
use textwrap::{WordSeparator, WordSplitter, WrapAlgorithm};

/// What a turn's text is indented by under its speaker's label.
pub const TURN_INDENT: &str = "    ";

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub colour: bool,
    pub width: usize,
}

const RESET: &str = "\x1b[0m";

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn antagonist(&self, text: &str) -> String {
        self.paint("1;31", text)
    }

    pub fn candidate(&self, text: &str) -> String {
        self.paint("1;36", text)
    }

    pub fn warning(&self, text: &str) -> String {
        self.paint("1;33", text)
    }

    /// `[0:42] Name` on its own line: what a turn's text goes under.
    pub fn label(&self, at_s: f64, speaker: &str, is_antagonist: bool) -> String {
        let name = if is_antagonist {
            self.antagonist(speaker)
        } else {
            self.candidate(speaker)
        };
        format!("{} {}\n", self.dim(&format!("[{}]", clock(at_s))), name)
    }

    /// `[0:42] Name` followed by the text, wrapped and indented under the label.
    pub fn turn(&self, at_s: f64, speaker: &str, is_antagonist: bool, text: &str) -> String {
        let mut out = self.label(at_s, speaker, is_antagonist);
        out.push_str(&self.wrap(text, TURN_INDENT));
        out
    }

    /// How lines are filled: word by word, breaking only between words at spaces, the way
    /// `StreamWrap` does for text that arrives in pieces, so both look the same.
    fn options<'a>(&self, indent: &'a str) -> textwrap::Options<'a> {
        textwrap::Options::new(self.width.max(20))
            .initial_indent(indent)
            .subsequent_indent(indent)
            .wrap_algorithm(WrapAlgorithm::FirstFit)
            .word_separator(WordSeparator::AsciiSpace)
            .word_splitter(WordSplitter::NoHyphenation)
            .break_words(false)
    }

    /// Re-flows `text` to the width, indenting every line. Scenario files are hard-wrapped,
    /// so single line breaks join; a blank line starts a new paragraph.
    pub fn wrap(&self, text: &str, indent: &str) -> String {
        let options = self.options(indent);
        let mut out = String::new();
        for (i, paragraph) in text.trim().split("\n\n").enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
            for line in textwrap::wrap(&joined, &options) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// Wraps each over-long line of preformatted text, continuing under its own indent.
    pub fn reflow(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let lead = line.len() - line.trim_start().len();
            // Continue under the text after a bullet or a short label such as "why:".
            let body = &line[lead..];
            let label = if body.starts_with("+ ") || body.starts_with("- ") {
                2
            } else {
                body.find(": ").filter(|&i| i <= 8).map_or(0, |i| i + 2)
            };
            let indent = " ".repeat(lead + label);
            let options = self.options("").subsequent_indent(&indent);
            for part in textwrap::wrap(line, &options) {
                out.push_str(&part);
                out.push('\n');
            }
        }
        out
    }

    /// Lines kept as they are, indented: lists and tables.
    pub fn lines(&self, text: &str, indent: &str) -> String {
        text.lines().map(|l| format!("{indent}{l}\n")).collect()
    }

    /// A notice about the drill's clock (started, time left, time up), set apart from
    /// the talk.
    pub fn clock_notice(&self, text: &str) -> String {
        format!("{}\n", self.warning(&format!("  ⏱ {text}")))
    }

    /// Anything else the candidate should know mid-drill (a refusal, an unknown command,
    /// the model stepping out), set apart from the talk. Kept on one line, so it can be
    /// found whole.
    pub fn note(&self, text: &str) -> String {
        format!("{}\n", self.warning(&format!("  {text}")))
    }

    /// The number of rows `text` takes on a terminal `columns` wide, once typed after
    /// something `before` columns wide.
    pub fn rows(before: usize, text: &str, columns: usize) -> usize {
        (before + display_width(text))
            .max(1)
            .div_ceil(columns.max(1))
    }
}

/// Wraps text that arrives in pieces (a model's streamed reply) as `Style::wrap` wraps a
/// whole one under a turn's label: the same width and indent, breaking only between
/// words. A word is held back until the whitespace after it shows it is whole.
#[derive(Debug, Clone)]
pub struct StreamWrap {
    width: usize,
    /// The width of the current line, or `None` before anything is on it.
    column: Option<usize>,
    word: String,
    /// Line breaks seen since the last word: two or more start a new paragraph.
    breaks: usize,
}

impl StreamWrap {
    pub fn new(style: &Style) -> StreamWrap {
        StreamWrap {
            width: style.width.max(20),
            column: None,
            word: String::new(),
            breaks: 0,
        }
    }

    /// What to print for the next piece of text.
    pub fn push(&mut self, chunk: &str) -> String {
        let mut out = String::new();
        for c in chunk.chars() {
            if c.is_whitespace() {
                self.flush(&mut out);
                if c == '\n' {
                    self.breaks += 1;
                }
            } else {
                self.word.push(c);
            }
        }
        out
    }

    /// What to print once the text is complete: the last word and the line's end.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        self.flush(&mut out);
        if self.column.take().is_some() {
            out.push('\n');
        }
        self.breaks = 0;
        out
    }

    fn flush(&mut self, out: &mut String) {
        if self.word.is_empty() {
            return;
        }
        let width = display_width(&self.word);
        let indent = display_width(TURN_INDENT);
        match self.column {
            Some(_) if self.breaks >= 2 => {
                out.push_str("\n\n");
                out.push_str(TURN_INDENT);
                self.column = Some(indent);
            }
            Some(column) if column + 1 + width <= self.width => {
                out.push(' ');
                self.column = Some(column + 1);
            }
            Some(_) => {
                out.push('\n');
                out.push_str(TURN_INDENT);
                self.column = Some(indent);
            }
            None => {
                out.push_str(TURN_INDENT);
                self.column = Some(indent);
            }
        }
        out.push_str(&self.word);
        self.column = self.column.map(|c| c + width);
        self.word.clear();
        self.breaks = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STYLE: Style = Style {
        colour: false,
        width: 40,
    };

    fn streamed(text: &str, cuts: &[usize]) -> String {
        let mut wrap = StreamWrap::new(&STYLE);
        let mut out = String::new();
        let mut from = 0;
        for &cut in cuts {
            let cut = cut.clamp(from, text.len());
            if text.is_char_boundary(cut) {
                out.push_str(&wrap.push(&text[from..cut]));
                from = cut;
            }
        }
        out.push_str(&wrap.push(&text[from..]));
        out.push_str(&wrap.finish());
        out
    }

    #[test]
    fn a_streamed_reply_wraps_under_its_label_as_a_whole_one_does() {
        let text = "Honestly? We profiled it at batch 1 and the p99 held, so I don't see what a canary buys us.\n\nShow me the replay.";
        assert_eq!(
            streamed(text, &[3, 9, 10, 50, 51, 90]),
            STYLE.wrap(text, TURN_INDENT)
        );
        for line in streamed(text, &[7]).lines().filter(|l| !l.is_empty()) {
            assert!(line.starts_with(TURN_INDENT), "{line:?}");
            assert!(display_width(line) <= STYLE.width, "{line:?}");
        }
    }

    proptest! {
        #[test]
        fn however_a_reply_is_cut_into_pieces_it_wraps_the_same(
            words in proptest::collection::vec("[a-zA-Z0-9?,.'—-]{1,14}", 1..60),
            paragraph in proptest::option::of(0usize..60),
            cuts in proptest::collection::vec(0usize..600, 0..12),
        ) {
            let mut text = String::new();
            for (i, word) in words.iter().enumerate() {
                if i > 0 {
                    text.push_str(if Some(i) == paragraph { "\n\n" } else { " " });
                }
                text.push_str(word);
            }
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(streamed(&text, &cuts), STYLE.wrap(&text, TURN_INDENT));
        }
    }

    #[test]
    fn only_a_notice_about_the_clock_has_the_clock_sign() {
        assert!(STYLE.clock_notice("8:00 left.").contains('⏱'));
        let note = STYLE.note("unknown command /dance; /help lists what you can use");
        assert_eq!(
            note,
            "  unknown command /dance; /help lists what you can use\n"
        );
    }

    #[test]
    fn typed_text_takes_as_many_rows_as_it_fills() {
        assert_eq!(Style::rows(10, "", 80), 1);
        assert_eq!(Style::rows(10, &"x".repeat(70), 80), 1);
        assert_eq!(Style::rows(10, &"x".repeat(71), 80), 2);
    }
}
