//! Transcripts: who said what, and when, in a drill. The one format every part of Spar
//! reads and writes (`spar score`, exports, the store), parsed once into valid values.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The part a participant plays in a drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person practising: their turns are the ones scored.
    Candidate,
    /// The senior person pushing back, played by a peer, the scripted engine or an LLM.
    Antagonist,
    /// A peer watching; their turns are kept but never scored.
    Observer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Candidate => "candidate",
            Role::Antagonist => "antagonist",
            Role::Observer => "observer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One utterance in a drill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    /// Seconds since the drill began; never decreases along a transcript.
    pub at_s: f64,
    pub text: String,
    /// The candidate's input ended in the middle of this line (Ctrl-D, or a pipe without a
    /// last newline): the words are kept, but they were never sent, so they earn no move.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut_off: bool,
}

/// A whole drill's turns, in order, with the scenario they belong to when known.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Transcript {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    pub turns: Vec<Turn>,
}

/// Why a transcript could not be read. Each message names where the problem is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TranscriptError {
    #[error("not JSON at line {line} column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Shape(String),
    #[error("turn {turn}: unknown role {role:?} (expected candidate, antagonist or observer)")]
    UnknownRole { turn: usize, role: String },
    #[error("turn {turn}: at_s {at_s} is not a finite number of seconds at or after 0")]
    BadTime { turn: usize, at_s: f64 },
    #[error("turn {turn}: at_s {at_s} is earlier than turn {previous}'s {previous_at_s}")]
    TimeGoesBack {
        turn: usize,
        at_s: f64,
        previous: usize,
        previous_at_s: f64,
    },
    #[error("turn {turn}: text is longer than {limit} bytes ({len})")]
    TooLong {
        turn: usize,
        len: usize,
        limit: usize,
    },
}

/// The longest single turn accepted, in bytes; a drill turn is speech, not a document.
pub const MAX_TURN_BYTES: usize = 64 * 1024;

impl Transcript {
    /// Parses the JSON transcript format of `spar score`, checking roles, times and sizes.
    /// Turns are numbered from 1 in messages, as a person counts them.
    pub fn from_json(text: &str) -> Result<Self, TranscriptError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| TranscriptError::Syntax {
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            })?;
        Self::from_value(&value)
    }

    /// Validates an already-parsed JSON value, as found in a line of an eval file.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, TranscriptError> {
        let shape = |m: &str| TranscriptError::Shape(m.to_string());
        let object = value
            .as_object()
            .ok_or_else(|| shape("the transcript must be a JSON object with a \"turns\" array"))?;
        let scenario = match object.get("scenario") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(shape("\"scenario\" must be a string")),
        };
        let raw_turns = object
            .get("turns")
            .ok_or_else(|| shape("the transcript has no \"turns\" array"))?
            .as_array()
            .ok_or_else(|| shape("\"turns\" must be an array"))?;
        let mut turns = Vec::with_capacity(raw_turns.len());
        for (i, raw) in raw_turns.iter().enumerate() {
            let n = i + 1;
            let field = |name: &str, want: &str| {
                TranscriptError::Shape(format!("turn {n}: \"{name}\" must be {want}"))
            };
            let t = raw.as_object().ok_or_else(|| {
                TranscriptError::Shape(format!("turn {n}: each turn must be a JSON object"))
            })?;
            let role_text = t
                .get("role")
                .and_then(|r| r.as_str())
                .ok_or_else(|| field("role", "a string"))?;
            let role = match role_text {
                "candidate" => Role::Candidate,
                "antagonist" => Role::Antagonist,
                "observer" => Role::Observer,
                other => {
                    return Err(TranscriptError::UnknownRole {
                        turn: n,
                        role: other.to_string(),
                    });
                }
            };
            let at_s = t
                .get("at_s")
                .and_then(|v| v.as_f64())
                .ok_or_else(|| field("at_s", "a number of seconds"))?;
            let text = t
                .get("text")
                .and_then(|v| v.as_str())
                .ok_or_else(|| field("text", "a string"))?;
            let cut_off = match t.get("cut_off") {
                None | Some(serde_json::Value::Null) => false,
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| field("cut_off", "true or false"))?,
            };
            turns.push(Turn {
                role,
                at_s,
                text: text.to_string(),
                cut_off,
            });
        }
        let transcript = Transcript { scenario, turns };
        transcript.validate()?;
        Ok(transcript)
    }

    /// Checks the invariants a transcript built in code must also keep.
    pub fn validate(&self) -> Result<(), TranscriptError> {
        for (i, turn) in self.turns.iter().enumerate() {
            let n = i + 1;
            if !turn.at_s.is_finite() || turn.at_s < 0.0 {
                return Err(TranscriptError::BadTime {
                    turn: n,
                    at_s: turn.at_s,
                });
            }
            if turn.text.len() > MAX_TURN_BYTES {
                return Err(TranscriptError::TooLong {
                    turn: n,
                    len: turn.text.len(),
                    limit: MAX_TURN_BYTES,
                });
            }
            if i > 0 {
                let previous = &self.turns[i - 1];
                if turn.at_s < previous.at_s {
                    return Err(TranscriptError::TimeGoesBack {
                        turn: n,
                        at_s: turn.at_s,
                        previous: i,
                        previous_at_s: previous.at_s,
                    });
                }
            }
        }
        Ok(())
    }

    pub fn to_json_pretty(&self) -> String {
        // Serialising plain data into a string cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The candidate's turns with their 1-based turn numbers: the ones they sent, which
    /// are the ones scored. A line cut off by the end of input stays in `turns` (and keeps
    /// its number) but is not among them.
    pub fn candidate_turns(&self) -> impl Iterator<Item = (usize, &Turn)> {
        self.turns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.role == Role::Candidate && !t.cut_off)
            .map(|(i, t)| (i + 1, t))
    }
}

/// serde_json appends " at line L column C"; the caller already reports the position.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Formats seconds the way a drill clock shows them, whole seconds elapsed: `0:42`, `12:05`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).floor() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_transcript_parses() {
        let t = Transcript::from_json(
            r#"{"scenario":"x","turns":[{"role":"antagonist","at_s":0,"text":"a"},{"role":"candidate","at_s":42.5,"text":"b"}]}"#,
        )
        .unwrap();
        assert_eq!(t.scenario.as_deref(), Some("x"));
        assert_eq!(t.turns[1].role, Role::Candidate);
        assert_eq!(
            t.candidate_turns().map(|(n, _)| n).collect::<Vec<_>>(),
            vec![2]
        );
    }

    #[test]
    fn a_line_cut_off_by_the_end_of_input_is_kept_but_not_among_the_candidates_turns() {
        let t = Transcript::from_json(
            r#"{"turns":[{"role":"candidate","at_s":1,"text":"a"},{"role":"antagonist","at_s":2,"text":"b"},{"role":"candidate","at_s":3,"text":"c","cut_off":true}]}"#,
        )
        .unwrap();
        assert_eq!(t.turns.len(), 3);
        assert!(t.turns[2].cut_off && !t.turns[0].cut_off);
        assert_eq!(
            t.candidate_turns().map(|(n, _)| n).collect::<Vec<_>>(),
            vec![1]
        );
        let again = Transcript::from_json(&t.to_json_pretty()).unwrap();
        assert_eq!(again, t, "the mark survives a round trip");
        assert!(
            !serde_json::to_string(&t.turns[0])
                .unwrap()
                .contains("cut_off"),
            "a sent turn carries no mark"
        );
        assert!(
            Transcript::from_json(
                r#"{"turns":[{"role":"candidate","at_s":1,"text":"a","cut_off":"yes"}]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn time_going_backwards_names_both_turns() {
        let e = Transcript::from_json(
            r#"{"turns":[{"role":"antagonist","at_s":0,"text":"a"},{"role":"candidate","at_s":40,"text":"b"},{"role":"candidate","at_s":12,"text":"c"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "turn 3: at_s 12 is earlier than turn 2's 40");
    }

    #[test]
    fn an_unknown_role_is_named() {
        let e = Transcript::from_json(r#"{"turns":[{"role":"judge","at_s":0,"text":"a"}]}"#)
            .unwrap_err();
        assert!(
            e.to_string().contains("turn 1: unknown role \"judge\""),
            "{e}"
        );
    }

    #[test]
    fn broken_json_reports_line_and_column() {
        let e = Transcript::from_json("{\n\"turns\": [\n\n  {\"role\": }\n]}").unwrap_err();
        assert!(
            e.to_string().starts_with("not JSON at line 4 column 12"),
            "{e}"
        );
    }

    #[test]
    fn clock_reads_minutes_and_seconds() {
        assert_eq!(clock(42.4), "0:42");
        assert_eq!(clock(42.5), "0:42");
        assert_eq!(clock(725.0), "12:05");
    }
}
