//! Peer ratings and the combined debrief. After a peer drill the antagonist player and the
//! observer rate the candidate on the scorecard's dimensions (0–4) with an optional
//! sentence, and the candidate rates themselves. The combined debrief sets the ratings
//! beside the scorer's and lists where a rating and the transcript's evidence disagree:
//! a high rating on a dimension the scorer flagged, or a rating two points or more away
//! from the scorer's.

use super::text::PeerText;
use crate::scoring::{DimensionName, Flag, FlagKind, Scorecard, Scorer, render};
use crate::transcript::{Role, clock};
use serde::Serialize;
use std::fmt::Write as _;

/// The longest comment a rating carries: one sentence, not an essay.
pub const MAX_SENTENCE_CHARS: usize = 280;
/// A rating from here up says the candidate did the thing well.
const HIGH: u8 = 3;
/// Ratings this far from the scorer's disagree with the transcript even without a flag.
const GAP: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("{dimension} is rated {score}; ratings go from 0 to 4")]
    OutOfRange { dimension: DimensionName, score: u8 },
    #[error("{0} is rated twice")]
    Repeated(DimensionName),
    #[error("unknown dimension {0:?}; the dimensions are {names}", names = dimension_names())]
    UnknownDimension(String),
    #[error(
        "the comment is {chars} characters long; keep it to one sentence of at most {MAX_SENTENCE_CHARS}"
    )]
    TooLong { chars: usize },
    #[error("a rating needs a score for at least one dimension")]
    Empty,
}

fn dimension_names() -> String {
    DimensionName::ALL
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A dimension by its scorecard name, with spaces or underscores.
pub fn parse_dimension(name: &str) -> Result<DimensionName, RatingError> {
    let wanted = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    DimensionName::ALL
        .into_iter()
        .find(|d| d.as_str() == wanted)
        .ok_or_else(|| RatingError::UnknownDimension(name.to_string()))
}

/// One person's rating of the candidate's drill; valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rating {
    pub rater: String,
    /// The rater's part in the drill: the candidate's own rating is a self-rating.
    pub role: Role,
    /// Scores 0–4, at most one per dimension, in the scorecard's order.
    scores: Vec<(DimensionName, u8)>,
    sentence: Option<String>,
}

impl Rating {
    pub fn new(
        rater: impl Into<String>,
        role: Role,
        scores: impl IntoIterator<Item = (DimensionName, u8)>,
        sentence: Option<&str>,
    ) -> Result<Rating, RatingError> {
        let mut sorted: Vec<(DimensionName, u8)> = Vec::new();
        for (dimension, score) in scores {
            if score > 4 {
                return Err(RatingError::OutOfRange { dimension, score });
            }
            if sorted.iter().any(|(d, _)| *d == dimension) {
                return Err(RatingError::Repeated(dimension));
            }
            sorted.push((dimension, score));
        }
        if sorted.is_empty() {
            return Err(RatingError::Empty);
        }
        sorted.sort_by_key(|(d, _)| *d);
        let sentence = sentence
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| !s.is_empty());
        if let Some(chars) = sentence
            .as_ref()
            .map(|s| s.chars().count())
            .filter(|&c| c > MAX_SENTENCE_CHARS)
        {
            return Err(RatingError::TooLong { chars });
        }
        Ok(Rating {
            rater: rater.into(),
            role,
            scores: sorted,
            sentence,
        })
    }

    pub fn scores(&self) -> &[(DimensionName, u8)] {
        &self.scores
    }

    pub fn score(&self, dimension: DimensionName) -> Option<u8> {
        self.scores
            .iter()
            .find(|(d, _)| *d == dimension)
            .map(|(_, s)| *s)
    }

    pub fn sentence(&self) -> Option<&str> {
        self.sentence.as_deref()
    }
}

/// The dimensions a flag counts against, as the scorer lowers them.
pub fn bears_on(kind: FlagKind) -> &'static [DimensionName] {
    use DimensionName as D;
    match kind {
        FlagKind::PrematureEscalation => &[D::EscalationDiscipline],
        FlagKind::Defensiveness | FlagKind::Personalizing => &[D::Composure],
        FlagKind::Dismissiveness => &[D::Composure, D::Acknowledgement],
        FlagKind::Capitulation => &[D::Composure, D::EvidenceBothWays],
        FlagKind::NoSharedGoal => &[D::CommonGround],
        FlagKind::NoOtherEvidence | FlagKind::NoOwnEvidence => &[D::EvidenceBothWays],
        FlagKind::NoProcess => &[D::Process],
    }
}

/// What in the transcript a rating runs against.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A flag on the dimension: a moment (time and quote) or a move never made.
    Flag {
        flag: FlagKind,
        at_s: Option<f64>,
        quote: Option<String>,
    },
    /// The scorer's quotes showing the dimension done, with their drill times.
    Shown { quotes: Vec<String> },
    /// Only the scorer's own score, with nothing to quote.
    Score,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disagreement {
    pub rater: String,
    pub role: Role,
    pub dimension: DimensionName,
    pub rating: u8,
    /// The scorer's score for the dimension.
    pub automatic: u8,
    pub evidence: Evidence,
}

/// Where each rating and the scorecard's evidence disagree, rater by rater, in the
/// scorecard's dimension order.
pub fn disagreements(card: &Scorecard, ratings: &[Rating]) -> Vec<Disagreement> {
    // Moments before missed moves, earliest first: the first flag is the one to quote.
    let mut flags: Vec<&Flag> = card.flags.iter().collect();
    flags.sort_by(|a, b| match (a.at_s, b.at_s) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let mut out = Vec::new();
    for rating in ratings {
        for &(dimension, score) in &rating.scores {
            let Some(scored) = card.dimensions.iter().find(|d| d.name == dimension) else {
                continue;
            };
            let automatic = scored.score;
            let against = flags.iter().find(|f| bears_on(f.kind).contains(&dimension));
            let evidence = match against {
                Some(flag) if score >= HIGH => Some(Evidence::Flag {
                    flag: flag.kind,
                    at_s: flag.at_s,
                    quote: flag.quote.clone(),
                }),
                _ if score >= automatic + GAP => Some(Evidence::Score),
                _ if score + GAP <= automatic => Some(if scored.evidence.is_empty() {
                    Evidence::Score
                } else {
                    Evidence::Shown {
                        quotes: scored.evidence.clone(),
                    }
                }),
                _ => None,
            };
            if let Some(evidence) = evidence {
                out.push(Disagreement {
                    rater: rating.rater.clone(),
                    role: rating.role,
                    dimension,
                    rating: score,
                    automatic,
                    evidence,
                });
            }
        }
    }
    out
}

/// A peer drill's debrief: the scorecard, every rating, and where they disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CombinedDebrief {
    pub scorecard: Scorecard,
    /// The self-rating first, then the peers' in the order given.
    pub ratings: Vec<Rating>,
    pub disagreements: Vec<Disagreement>,
}

impl CombinedDebrief {
    pub fn new(scorecard: Scorecard, mut ratings: Vec<Rating>) -> CombinedDebrief {
        ratings.sort_by_key(|r| r.role != Role::Candidate);
        let disagreements = disagreements(&scorecard, &ratings);
        CombinedDebrief {
            scorecard,
            ratings,
            disagreements,
        }
    }

    /// The scorecard as the solo debrief shows it, then the ratings table, the raters'
    /// sentences and the disagreements.
    pub fn render_text(&self, scorer: &Scorer, text: &PeerText) -> String {
        let words = &text.debrief;
        let mut out = render::render_text(&self.scorecard);
        let heads: Vec<String> = std::iter::once(words.columns.transcript.clone())
            .chain(self.ratings.iter().map(|r| text.rater(&r.rater, r.role)))
            .collect();
        let label_width = DimensionName::ALL
            .iter()
            .map(|d| scorer.dimension_label(*d).chars().count())
            .max()
            .unwrap_or(0);
        let _ = writeln!(out, "\n{}", words.headings.ratings);
        let _ = write!(out, "  {:label_width$}", "");
        for head in &heads {
            let _ = write!(out, "  {head}");
        }
        out.push('\n');
        for dimension in DimensionName::ALL {
            let _ = write!(out, "  {:label_width$}", scorer.dimension_label(dimension));
            let automatic = self
                .scorecard
                .dimensions
                .iter()
                .find(|d| d.name == dimension)
                .map(|d| d.score.to_string());
            let cells = std::iter::once(automatic).chain(
                self.ratings
                    .iter()
                    .map(|r| r.score(dimension).map(|s| s.to_string())),
            );
            for (cell, head) in cells.zip(&heads) {
                let width = head.chars().count();
                let _ = write!(out, "  {:>width$}", cell.unwrap_or_else(|| "-".into()));
            }
            out.push('\n');
        }
        let said: Vec<&Rating> = self
            .ratings
            .iter()
            .filter(|r| r.sentence.is_some())
            .collect();
        if !said.is_empty() {
            let _ = writeln!(out, "\n{}", words.headings.sentences);
            for r in said {
                let _ = writeln!(
                    out,
                    "  {}: \"{}\"",
                    text.rater(&r.rater, r.role),
                    r.sentence().unwrap_or_default()
                );
            }
        }
        let _ = writeln!(out, "\n{}", words.headings.disagreements);
        if self.disagreements.is_empty() {
            let _ = writeln!(out, "  {}", words.headings.agreement);
        }
        for d in &self.disagreements {
            let _ = writeln!(out, "  - {}", disagreement_line(d, scorer, text));
        }
        out
    }
}

fn disagreement_line(d: &Disagreement, scorer: &Scorer, text: &PeerText) -> String {
    let t = &text.debrief.disagreements;
    let rater = text.rater(&d.rater, d.role);
    let rating = d.rating.to_string();
    let automatic = d.automatic.to_string();
    let dimension = scorer.dimension_label(d.dimension);
    let mut values = vec![
        ("rater", rater.as_str()),
        ("rating", rating.as_str()),
        ("dimension", dimension),
        ("automatic", automatic.as_str()),
    ];
    let (template, owned) = match &d.evidence {
        Evidence::Flag {
            flag,
            at_s: Some(at),
            quote,
        } => (
            &t.flag_moment,
            vec![
                ("flag", flag.label().to_string()),
                ("time", clock(*at)),
                ("quote", quote.clone().unwrap_or_default()),
            ],
        ),
        Evidence::Flag { flag, .. } => (&t.flag_missed, vec![("flag", flag.label().to_string())]),
        Evidence::Shown { quotes } => (
            &t.shown,
            vec![("evidence", quotes.first().cloned().unwrap_or_default())],
        ),
        Evidence::Score => (&t.unsupported, Vec::new()),
    };
    values.extend(owned.iter().map(|(k, v)| (*k, v.as_str())));
    crate::prompt::fill(template, &values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Transcript;

    fn scored(turns: &[(&str, f64, &str)]) -> Scorecard {
        let json = serde_json::json!({
            "scenario": "latency-regression",
            "turns": turns.iter().map(|(role, at, text)| serde_json::json!({
                "role": role, "at_s": at, "text": text
            })).collect::<Vec<_>>()
        });
        let transcript = Transcript::from_json(&json.to_string()).expect("a transcript");
        Scorer::embedded().expect("the scorer").score(&transcript)
    }

    fn escalation() -> Scorecard {
        scored(&[
            ("antagonist", 0.0, "It ships next release."),
            (
                "candidate",
                35.0,
                "I'm going to escalate this to my manager.",
            ),
        ])
    }

    #[test]
    fn a_high_rating_against_a_flag_is_a_disagreement_quoting_the_moment() {
        let card = escalation();
        let rating = Rating::new(
            "bo",
            Role::Antagonist,
            [(DimensionName::EscalationDiscipline, 4)],
            Some("Very calm throughout."),
        )
        .expect("valid");
        let found = disagreements(&card, std::slice::from_ref(&rating));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].dimension, DimensionName::EscalationDiscipline);
        assert_eq!(
            found[0].evidence,
            Evidence::Flag {
                flag: FlagKind::PrematureEscalation,
                at_s: Some(35.0),
                quote: Some("I'm going to escalate this to my manager.".into())
            }
        );
        let text = PeerText::embedded().expect("texts");
        let scorer = Scorer::embedded().expect("the scorer");
        let debrief = CombinedDebrief::new(card, vec![rating]);
        let shown = debrief.render_text(&scorer, &text);
        assert!(
            shown.contains("rated 4 on escalation discipline"),
            "{shown}"
        );
        assert!(
            shown.contains("flagged premature escalation at 0:35"),
            "{shown}"
        );
        assert!(shown.contains("Very calm throughout."), "{shown}");
    }

    #[test]
    fn a_high_rating_for_a_move_never_made_disagrees_too() {
        let card = escalation();
        let rating =
            Rating::new("cy", Role::Observer, [(DimensionName::Process, 3)], None).expect("valid");
        let found = disagreements(&card, std::slice::from_ref(&rating));
        assert!(matches!(
            found[0].evidence,
            Evidence::Flag {
                flag: FlagKind::NoProcess,
                at_s: None,
                ..
            }
        ));
        let text = PeerText::embedded().expect("texts");
        let scorer = Scorer::embedded().expect("the scorer");
        let shown = CombinedDebrief::new(card, vec![rating]).render_text(&scorer, &text);
        assert!(shown.contains("never made (missed: next step)."), "{shown}");
    }

    #[test]
    fn a_low_rating_against_evidence_quotes_what_the_transcript_shows() {
        let card = scored(&[
            ("antagonist", 0.0, "It ships next release."),
            (
                "candidate",
                20.0,
                "What is driving the release date for you? And what would you need to see to change your mind?",
            ),
            ("antagonist", 40.0, "The roadmap."),
            (
                "candidate",
                60.0,
                "Why does the roadmap fix that date? What happens if it slips a week?",
            ),
        ]);
        let curiosity = card
            .dimensions
            .iter()
            .find(|d| d.name == DimensionName::Curiosity)
            .expect("scored");
        assert!(curiosity.score >= 3, "{card:?}");
        let self_rating = Rating::new(
            "ann",
            Role::Candidate,
            [(DimensionName::Curiosity, 0)],
            None,
        )
        .expect("valid");
        let found = disagreements(&card, &[self_rating]);
        assert_eq!(found.len(), 1);
        assert!(
            matches!(&found[0].evidence, Evidence::Shown { quotes } if quotes[0].starts_with("0:20"))
        );
    }

    #[test]
    fn ratings_close_to_the_transcript_raise_nothing() {
        let card = escalation();
        let close: Vec<(DimensionName, u8)> = card
            .dimensions
            .iter()
            .map(|d| (d.name, d.score.saturating_add(1).min(2).max(d.score)))
            .collect();
        let rating = Rating::new("bo", Role::Antagonist, close, None).expect("valid");
        assert_eq!(disagreements(&card, &[rating]), vec![]);
    }

    #[test]
    fn ratings_are_checked_when_made() {
        let d = DimensionName::Composure;
        assert_eq!(
            Rating::new("a", Role::Observer, [(d, 5)], None),
            Err(RatingError::OutOfRange {
                dimension: d,
                score: 5
            })
        );
        assert_eq!(
            Rating::new("a", Role::Observer, [(d, 1), (d, 2)], None),
            Err(RatingError::Repeated(d))
        );
        assert_eq!(
            Rating::new("a", Role::Observer, [], None),
            Err(RatingError::Empty)
        );
        let long = "word ".repeat(80);
        assert!(matches!(
            Rating::new("a", Role::Observer, [(d, 2)], Some(&long)),
            Err(RatingError::TooLong { .. })
        ));
        let tidy =
            Rating::new("a", Role::Observer, [(d, 2)], Some("  Good\n pace. ")).expect("valid");
        assert_eq!(tidy.sentence(), Some("Good pace."));
        assert_eq!(
            Rating::new("a", Role::Observer, [(d, 2)], Some("   "))
                .expect("valid")
                .sentence(),
            None
        );
        assert_eq!(
            parse_dimension("Escalation discipline"),
            Ok(DimensionName::EscalationDiscipline)
        );
        assert!(parse_dimension("charm").is_err_and(|e| e.to_string().contains("curiosity")));
    }
}
