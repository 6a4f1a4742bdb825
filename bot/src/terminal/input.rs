//! The candidate's keyboard or pipe, read on a thread of its own. A blocking read that
//! never returns (a person who stopped typing) then never holds up the end of the drill,
//! and each line says whether it was finished with Enter or cut off by the end of input.

use std::io::BufRead;
use tokio::sync::mpsc;

/// What one read from the candidate gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A line ended with Enter (without its line ending).
    Line(String),
    /// Words the input ended in the middle of (Ctrl-D after typing, or a pipe whose last
    /// line has no newline); `End` follows.
    Fragment(String),
    /// No more input.
    End,
}

/// Reads `source` line by line on a new thread until it ends or the receiver is dropped.
pub fn spawn<R: BufRead + Send + 'static>(mut source: R) -> mpsc::UnboundedReceiver<Input> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        loop {
            let mut bytes = Vec::new();
            let read = match source.read_until(b'\n', &mut bytes) {
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the candidate's input failed");
                    0
                }
            };
            let input = match bytes.strip_suffix(b"\n") {
                Some(line) => Input::Line(text(line.strip_suffix(b"\r").unwrap_or(line))),
                None if read > 0 => Input::Fragment(text(&bytes)),
                None => Input::End,
            };
            let fragment = matches!(input, Input::Fragment(_));
            let more = matches!(input, Input::Line(_));
            if tx.send(input).is_err() || fragment && tx.send(Input::End).is_err() || !more {
                return;
            }
        }
    });
    rx
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(source: &'static [u8]) -> Vec<Input> {
        let mut rx = spawn(source);
        let mut got = Vec::new();
        while let Some(input) = rx.recv().await {
            got.push(input);
        }
        got
    }

    #[tokio::test]
    async fn lines_ended_with_enter_are_lines_and_a_last_line_without_one_is_a_fragment() {
        assert_eq!(
            all(b"first\r\nsecond\nhalf a thou").await,
            vec![
                Input::Line("first".into()),
                Input::Line("second".into()),
                Input::Fragment("half a thou".into()),
                Input::End,
            ]
        );
    }

    #[tokio::test]
    async fn input_that_ends_after_a_newline_has_no_fragment() {
        assert_eq!(
            all(b"only\n").await,
            vec![Input::Line("only".into()), Input::End]
        );
        assert_eq!(all(b"").await, vec![Input::End]);
    }
}
