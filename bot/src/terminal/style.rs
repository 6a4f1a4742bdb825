//! How the terminal looks: speaker labels, wrapping and colour (only when wanted).

use spar_core::transcript::clock;

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
        out.push_str(&self.wrap(text, "    "));
        out
    }

    /// Re-flows `text` to the width, indenting every line. Scenario files are hard-wrapped,
    /// so single line breaks join; a blank line starts a new paragraph.
    pub fn wrap(&self, text: &str, indent: &str) -> String {
        let options = textwrap::Options::new(self.width.max(20))
            .initial_indent(indent)
            .subsequent_indent(indent);
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
            let options = textwrap::Options::new(self.width.max(20)).subsequent_indent(&indent);
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

    /// A notice from the drill (time warnings, refusals), set apart from the talk.
    pub fn notice(&self, text: &str) -> String {
        format!("{}\n", self.warning(&format!("  ⏱ {text}")))
    }
}
