//! The peer rating form on Discord, as pure functions. A rating has seven dimensions
//! (0–4 each) and an optional sentence, and a Discord modal holds at most five inputs, so
//! the form is two modals: the first asks four dimensions, the second the other three and
//! the sentence. Between them an ephemeral "Continue" button carries the first four
//! scores in its custom id, so nothing is kept between the steps and any instance can
//! take either. Text inputs of one character keep each score a single keystroke; a value
//! that is not 0–4 is named and the form offered again.

use poise::serenity_prelude as serenity;
use spar_core::scoring::DimensionName;
use spar_core::store::DrillId;

/// How many dimensions the first modal asks.
pub const FIRST: usize = 4;
const FIRST_MODAL: &str = "spar:rating1:";
const SECOND_MODAL: &str = "spar:rating2:";
const CONTINUE: &str = "spar:rate2:";
const SENTENCE: &str = "sentence";
/// What a rating's sentence may hold, as the core checks it.
const SENTENCE_LIMIT: u16 = spar_core::peer::ratings::MAX_SENTENCE_CHARS as u16;

/// A submitted modal of the rating form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    First(DrillId),
    /// The second modal, with the first's scores in dimension order.
    Second(DrillId, Vec<u8>),
}

static DIMENSIONS: [DimensionName; DimensionName::ALL.len()] = DimensionName::ALL;

/// The dimensions a modal asks: the first `FIRST`, or the rest.
pub fn dimensions(second: bool) -> &'static [DimensionName] {
    if second {
        &DIMENSIONS[FIRST..]
    } else {
        &DIMENSIONS[..FIRST]
    }
}

fn label(dimension: DimensionName) -> String {
    format!("{} (0-4)", crate::chat::text::dimension_label(dimension))
}

fn digits(scores: &[u8]) -> String {
    scores.iter().map(u8::to_string).collect()
}

fn read_digits(text: &str) -> Option<Vec<u8>> {
    let scores: Vec<u8> = text
        .chars()
        .map(|c| c.to_digit(10).and_then(|d| u8::try_from(d).ok()))
        .collect::<Option<_>>()?;
    (scores.len() == FIRST && scores.iter().all(|&s| s <= 4)).then_some(scores)
}

/// The modal for one step: the first (`first` is `None`) or the second, carrying the
/// first step's scores.
pub fn modal(drill: &DrillId, first: Option<&[u8]>) -> serenity::CreateModal {
    let (id, title, asked) = match first {
        None => (
            format!("{FIRST_MODAL}{drill}"),
            "Rate the drill (1 of 2)",
            dimensions(false),
        ),
        Some(scores) => (
            format!("{SECOND_MODAL}{drill}:{}", digits(scores)),
            "Rate the drill (2 of 2)",
            dimensions(true),
        ),
    };
    let mut rows: Vec<serenity::CreateActionRow> = asked
        .iter()
        .map(|d| {
            serenity::CreateActionRow::InputText(
                serenity::CreateInputText::new(
                    serenity::InputTextStyle::Short,
                    label(*d),
                    d.as_str(),
                )
                .placeholder("0, 1, 2, 3 or 4")
                .min_length(1)
                .max_length(1)
                .required(true),
            )
        })
        .collect();
    if first.is_some() {
        rows.push(serenity::CreateActionRow::InputText(
            serenity::CreateInputText::new(
                serenity::InputTextStyle::Paragraph,
                "One sentence for them (optional)",
                SENTENCE,
            )
            .max_length(SENTENCE_LIMIT)
            .required(false),
        ));
    }
    serenity::CreateModal::new(id, title).components(rows)
}

/// The custom id of the button that opens the second modal.
pub fn continue_id(drill: &DrillId, first: &[u8]) -> String {
    format!("{CONTINUE}{drill}:{}", digits(first))
}

/// The drill and first scores behind a "Continue" button, or `None` for another button.
pub fn parse_continue(id: &str) -> Option<(DrillId, Vec<u8>)> {
    let (drill, scores) = id.strip_prefix(CONTINUE)?.rsplit_once(':')?;
    let scores = read_digits(scores)?;
    (!drill.is_empty()).then(|| (DrillId(drill.to_string()), scores))
}

/// Which step a submitted modal is, or `None` for a modal Spar did not make.
pub fn parse_modal(id: &str) -> Option<Step> {
    if let Some(drill) = id.strip_prefix(FIRST_MODAL) {
        return (!drill.is_empty()).then(|| Step::First(DrillId(drill.to_string())));
    }
    let (drill, scores) = id.strip_prefix(SECOND_MODAL)?.rsplit_once(':')?;
    let scores = read_digits(scores)?;
    (!drill.is_empty()).then(|| Step::Second(DrillId(drill.to_string()), scores))
}

/// The scores typed for `asked`, in order, or the sentence saying which one is not 0–4.
pub fn scores(inputs: &[(String, String)], asked: &[DimensionName]) -> Result<Vec<u8>, String> {
    asked
        .iter()
        .map(|d| {
            let typed = inputs
                .iter()
                .find(|(id, _)| id == d.as_str())
                .map(|(_, v)| v.trim())
                .unwrap_or_default();
            match typed.parse::<u8>() {
                Ok(score) if score <= 4 => Ok(score),
                _ => Err(format!(
                    "{} needs a score from 0 to 4, not \"{typed}\".",
                    label(*d).trim_end_matches(" (0-4)")
                )),
            }
        })
        .collect()
}

/// The sentence typed in the second modal, if any.
pub fn sentence(inputs: &[(String, String)]) -> Option<String> {
    inputs
        .iter()
        .find(|(id, _)| id == SENTENCE)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The text inputs of a submitted modal, as (custom id, value).
pub fn inputs(rows: &[serenity::ActionRow]) -> Vec<(String, String)> {
    rows.iter()
        .flat_map(|row| &row.components)
        .filter_map(|c| match c {
            serenity::ActionRowComponent::InputText(input) => Some((
                input.custom_id.clone(),
                input.value.clone().unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

/// All seven scores by dimension name, from both steps, for `Runtime::rate`.
pub fn named(first: &[u8], second: &[u8]) -> Vec<(String, u8)> {
    DimensionName::ALL
        .iter()
        .zip(first.iter().chain(second))
        .map(|(d, s)| (d.as_str().to_string(), *s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_modals_stay_within_discords_five_inputs_and_ask_every_dimension_once() {
        assert!(dimensions(false).len() <= 5);
        assert!(dimensions(true).len() < 5, "the sentence needs a place too");
        assert_eq!(
            dimensions(false).len() + dimensions(true).len(),
            DimensionName::ALL.len()
        );
        for d in DimensionName::ALL {
            assert!(label(d).chars().count() <= 45, "Discord caps labels at 45");
        }
    }

    #[test]
    fn the_first_scores_ride_from_the_button_to_the_second_modal() {
        let drill = DrillId("0b9e2b6c-8f7a-4c1e-9a55-3d2f1e0c9b8a".into());
        let id = continue_id(&drill, &[4, 0, 3, 2]);
        assert!(id.len() <= 100, "Discord caps custom ids at 100");
        assert_eq!(parse_continue(&id), Some((drill.clone(), vec![4, 0, 3, 2])));
        assert_eq!(parse_continue("spar:rate2:x:45"), None);
        assert_eq!(parse_continue("spar:rate2:x:9999"), None);
        assert_eq!(
            parse_modal(&format!("spar:rating1:{drill}")),
            Some(Step::First(drill.clone()))
        );
        assert_eq!(
            parse_modal(&format!("spar:rating2:{drill}:4032")),
            Some(Step::Second(drill, vec![4, 0, 3, 2]))
        );
        assert_eq!(parse_modal("spar:rating1:"), None);
        assert_eq!(parse_modal("other"), None);
    }

    #[test]
    fn a_score_that_is_not_zero_to_four_is_named() {
        let asked = dimensions(false);
        let mut inputs: Vec<(String, String)> = asked
            .iter()
            .map(|d| (d.as_str().to_string(), "3".to_string()))
            .collect();
        assert_eq!(scores(&inputs, asked), Ok(vec![3; FIRST]));
        inputs[1].1 = "7".into();
        let err = scores(&inputs, asked).expect_err("out of range");
        assert!(err.contains("\"7\""), "{err}");
        assert_eq!(sentence(&[("sentence".into(), "  ".into())]), None);
        let all = named(&[1, 2, 3, 4], &[0, 1, 2]);
        assert_eq!(all.len(), 7);
        assert_eq!(all[0], (DimensionName::ALL[0].as_str().to_string(), 1));
    }
}
