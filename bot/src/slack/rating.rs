//! The peer rating form on Slack, as pure functions: one modal (`views.open` with the
//! click's `trigger_id`) with a 0–4 menu per dimension and an optional sentence, and the
//! `view_submission` read back into what `Runtime::rate` takes. A modal holds up to 100
//! blocks, so, unlike Discord's, the whole rating fits in one. The drill rides in the
//! modal's `callback_id` and the thread to answer in in its `private_metadata`, so nothing
//! is kept between the click and the submission and any instance can take either.

use crate::chat::text::dimension_label;
use slack_morphism::prelude::*;
use spar_core::peer::ratings::MAX_SENTENCE_CHARS;
use spar_core::scoring::DimensionName;
use spar_core::store::DrillId;
use std::collections::HashMap;

const CALLBACK: &str = "spar:rating:";
/// The menu's action id inside each dimension's input block (the block id is the
/// dimension's name).
const SCORE: &str = "score";
const SENTENCE_BLOCK: &str = "sentence";
const SENTENCE: &str = "text";
/// Slack caps a modal's title at 24 characters.
const TITLE: &str = "Rate the drill";

/// Where the click that opened the form was: the answer to the submission goes there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub channel: String,
    pub thread: Option<String>,
}

/// A submitted rating, ready for `Runtime::rate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub drill: DrillId,
    pub origin: Origin,
    /// Every dimension's score, by dimension name.
    pub scores: Vec<(String, u8)>,
    pub sentence: Option<String>,
}

/// The rating modal for `drill`, opened from a click at `origin`.
pub fn modal(drill: &DrillId, origin: &Origin) -> SlackView {
    let options: Vec<SlackBlockChoiceItem<SlackBlockPlainTextOnly>> = (0..=4)
        .map(|score| SlackBlockChoiceItem::new(pt!(score.to_string()), score.to_string()))
        .collect();
    let mut blocks: Vec<SlackBlock> = vec![
        SlackSectionBlock::new()
            .with_text(md!(
                "Score the candidate on each dimension, from *0* (not at all) to *4* (throughout)."
            ))
            .into(),
    ];
    for dimension in DimensionName::ALL {
        blocks.push(
            SlackInputBlock::new(
                pt!(dimension_label(dimension)),
                SlackInputBlockElement::StaticSelect(
                    SlackBlockStaticSelectElement::new()
                        .with_action_id(SCORE.into())
                        .with_placeholder(pt!("0 to 4"))
                        .with_options(options.clone()),
                ),
            )
            .with_block_id(dimension.as_str().into())
            .into(),
        );
    }
    blocks.push(
        SlackInputBlock::new(
            pt!("One sentence for them"),
            SlackInputBlockElement::PlainTextInput(
                SlackBlockPlainTextInputElement::new()
                    .with_action_id(SENTENCE.into())
                    .with_multiline(true)
                    .with_max_length(MAX_SENTENCE_CHARS as u64),
            ),
        )
        .with_block_id(SENTENCE_BLOCK.into())
        .with_optional(true)
        .into(),
    );
    SlackView::Modal(
        SlackModalView::new(pt!(TITLE), blocks)
            .with_callback_id(format!("{CALLBACK}{drill}").into())
            .with_private_metadata(serde_json::to_string(origin).unwrap_or_default())
            .with_submit(pt!("Send rating"))
            .with_close(pt!("Cancel")),
    )
}

/// Why a submitted view is not a rating Spar can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unread {
    /// Not Spar's rating form: another app's view, or an older form.
    NotOurs,
    /// Spar's form, with fields to fix: the sentence for each, by block id, as Slack shows
    /// them under the fields.
    Fix(HashMap<String, String>),
}

/// The rating in a submitted view.
pub fn read(view: &SlackStatefulView) -> Result<Submitted, Unread> {
    let SlackView::Modal(modal) = &view.view else {
        return Err(Unread::NotOurs);
    };
    let drill = modal
        .callback_id
        .as_ref()
        .and_then(|id| id.0.strip_prefix(CALLBACK))
        .filter(|drill| !drill.is_empty())
        .map(|drill| DrillId(drill.to_string()))
        .ok_or(Unread::NotOurs)?;
    let origin: Origin = modal
        .private_metadata
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .ok_or(Unread::NotOurs)?;
    let empty = HashMap::new();
    let values = view
        .state_params
        .state
        .as_ref()
        .map_or(&empty, |state| &state.values);
    let value = |block: &str, action: &str| {
        values
            .get(&SlackBlockId(block.to_string()))
            .and_then(|block| block.get(&SlackActionId(action.to_string())))
    };
    let mut scores = Vec::with_capacity(DimensionName::ALL.len());
    let mut fix = HashMap::new();
    for dimension in DimensionName::ALL {
        let chosen = value(dimension.as_str(), SCORE)
            .and_then(|v| v.selected_option.as_ref())
            .and_then(|o| o.value.parse::<u8>().ok())
            .filter(|score| *score <= 4);
        match chosen {
            Some(score) => scores.push((dimension.as_str().to_string(), score)),
            None => {
                fix.insert(
                    dimension.as_str().to_string(),
                    "Choose a score from 0 to 4.".to_string(),
                );
            }
        }
    }
    let sentence = value(SENTENCE_BLOCK, SENTENCE)
        .and_then(|v| v.value.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if sentence
        .as_deref()
        .is_some_and(|s| s.chars().count() > MAX_SENTENCE_CHARS)
    {
        fix.insert(
            SENTENCE_BLOCK.to_string(),
            format!("Keep it to one sentence of at most {MAX_SENTENCE_CHARS} characters."),
        );
    }
    if !fix.is_empty() {
        return Err(Unread::Fix(fix));
    }
    Ok(Submitted {
        drill,
        origin,
        scores,
        sentence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn origin() -> Origin {
        Origin {
            channel: "C1".into(),
            thread: Some("1700000000.000100".into()),
        }
    }

    /// The view as Slack sends it back in a `view_submission`, with `chosen` scores by
    /// dimension and `sentence` typed.
    fn submitted(view: &SlackView, chosen: &[(&str, &str)], sentence: Option<&str>) -> Value {
        let mut stored = serde_json::to_value(view).expect("json");
        let mut values = json!({});
        for (dimension, score) in chosen {
            values[*dimension] = json!({SCORE: {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": score, "emoji": true}, "value": score}
            }});
        }
        values[SENTENCE_BLOCK] = json!({SENTENCE: {"type": "plain_text_input", "value": sentence}});
        for (key, value) in [
            ("id", json!("V1")),
            ("team_id", json!("T1")),
            ("hash", json!("1.x")),
            ("state", json!({"values": values})),
        ] {
            stored[key] = value;
        }
        stored
    }

    fn read_back(value: Value) -> Result<Submitted, Unread> {
        let view: SlackStatefulView = serde_json::from_value(value).expect("a stateful view");
        read(&view)
    }

    #[test]
    fn the_modal_fits_slacks_limits_and_asks_every_dimension_once() {
        let drill = DrillId("0b9e2b6c-8f7a-4c1e-9a55-3d2f1e0c9b8a".into());
        let view = serde_json::to_value(modal(&drill, &origin())).expect("json");
        assert_eq!(view["type"], "modal");
        assert!(
            view["title"]["text"]
                .as_str()
                .is_some_and(|t| t.chars().count() <= 24)
        );
        assert!(view["callback_id"].as_str().is_some_and(|c| c.len() <= 255));
        assert!(
            view["private_metadata"]
                .as_str()
                .is_some_and(|m| m.len() <= 3000)
        );
        let blocks = view["blocks"].as_array().expect("blocks");
        assert!(blocks.len() <= 100);
        let asked: Vec<&str> = blocks
            .iter()
            .filter(|b| b["element"]["type"] == "static_select")
            .filter_map(|b| b["block_id"].as_str())
            .collect();
        let all: Vec<&str> = DimensionName::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(asked, all);
        for block in blocks.iter().filter(|b| b["type"] == "input") {
            assert!(
                block["label"]["text"]
                    .as_str()
                    .is_some_and(|l| l.chars().count() <= 2000)
            );
        }
    }

    #[test]
    fn a_submission_reads_back_as_the_drill_the_scores_the_sentence_and_where_to_answer() {
        let drill = DrillId("d-7".into());
        let view = modal(&drill, &origin());
        let all: Vec<(&str, &str)> = DimensionName::ALL
            .iter()
            .zip(["4", "3", "2", "1", "0", "4", "3"])
            .map(|(d, s)| (d.as_str(), s))
            .collect();
        let rating =
            read_back(submitted(&view, &all, Some("  Calm throughout. "))).expect("a rating");
        assert_eq!(rating.drill, drill);
        assert_eq!(rating.origin, origin());
        assert_eq!(rating.scores.len(), DimensionName::ALL.len());
        assert_eq!(rating.scores[0], (all[0].0.to_string(), 4));
        assert_eq!(rating.sentence.as_deref(), Some("Calm throughout."));

        let blank = read_back(submitted(&view, &all, None)).expect("a rating");
        assert_eq!(blank.sentence, None, "the sentence is optional");
    }

    #[test]
    fn a_missing_score_or_a_long_sentence_is_named_under_its_field() {
        let view = modal(&DrillId("d-7".into()), &origin());
        let some: Vec<(&str, &str)> = DimensionName::ALL[1..]
            .iter()
            .map(|d| (d.as_str(), "2"))
            .collect();
        let Err(Unread::Fix(fix)) = read_back(submitted(&view, &some, None)) else {
            panic!("a dimension is missing");
        };
        assert_eq!(fix.len(), 1);
        assert!(fix.contains_key(DimensionName::ALL[0].as_str()));

        let all: Vec<(&str, &str)> = DimensionName::ALL
            .iter()
            .map(|d| (d.as_str(), "2"))
            .collect();
        let long = "word ".repeat(80);
        let Err(Unread::Fix(fix)) = read_back(submitted(&view, &all, Some(&long))) else {
            panic!("the sentence is too long");
        };
        assert!(fix[SENTENCE_BLOCK].contains("280"), "{fix:?}");
    }

    #[test]
    fn another_apps_view_is_not_a_rating() {
        let other = SlackView::Modal(
            SlackModalView::new(pt!("Other"), vec![]).with_callback_id("other".into()),
        );
        assert_eq!(
            read_back(submitted(&other, &[], None)),
            Err(Unread::NotOurs)
        );
    }
}
