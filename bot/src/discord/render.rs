//! What Spar shows in Discord, as pure functions of the domain: the brief and scorecard
//! embeds (within Discord's limits: 4,096 characters of description, 25 fields of 1,024,
//! 6,000 characters per message, 10 embeds per message; a long scorecard continues in a
//! second message), and the translation of incoming payloads into runtime calls.

use crate::chat::text::{clip, flag_label, reflow};
use crate::chat::{Action, BriefView, ScorecardView, runtime};
use poise::serenity_prelude as serenity;
use spar_core::scoring::{Flag, render};
use spar_core::store::PersonRef;
use spar_core::transcript::clock;

pub const MESSAGE_LIMIT: usize = 2000;
const DESCRIPTION_LIMIT: usize = 4096;
const TITLE_LIMIT: usize = 256;
const FIELD_NAME_LIMIT: usize = 256;
const FIELD_VALUE_LIMIT: usize = 1024;
const FIELDS_PER_EMBED: usize = 25;
const CHARACTERS_PER_MESSAGE: usize = 6000;
const EMBEDS_PER_MESSAGE: usize = 10;

/// An embed before it becomes serenity's builder, so its limits can be checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Embed {
    pub title: String,
    pub description: String,
    pub fields: Vec<(String, String)>,
    pub footer: Option<String>,
    pub colour: u32,
}

impl Embed {
    /// The characters Discord counts against a message's 6,000.
    pub fn size(&self) -> usize {
        chars(&self.title)
            + chars(&self.description)
            + self.footer.as_deref().map_or(0, chars)
            + self
                .fields
                .iter()
                .map(|(n, v)| chars(n) + chars(v))
                .sum::<usize>()
    }

    pub fn build(&self) -> serenity::CreateEmbed {
        let mut embed = serenity::CreateEmbed::new()
            .title(&self.title)
            .colour(self.colour);
        if !self.description.is_empty() {
            embed = embed.description(&self.description);
        }
        for (name, value) in &self.fields {
            embed = embed.field(name, value, false);
        }
        if let Some(footer) = &self.footer {
            embed = embed.footer(serenity::CreateEmbedFooter::new(footer));
        }
        embed
    }
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

const BLUE: u32 = 0x0057_9BFF;
const GREEN: u32 = 0x002E_A043;
const AMBER: u32 = 0x00E3_9E00;
const RED: u32 = 0x00D1_3C3C;

/// The drill's opening: setting, goal and the person across the table.
pub fn brief(view: &BriefView<'_>) -> Embed {
    let s = view.scenario;
    Embed {
        title: clip(&s.title, TITLE_LIMIT),
        description: clip(&reflow(&s.setting), DESCRIPTION_LIMIT),
        fields: vec![
            (
                "Your goal".into(),
                clip(&reflow(&s.goal), FIELD_VALUE_LIMIT),
            ),
            (
                "You are talking to".into(),
                clip(
                    &format!(
                        "**{}**, {}\n_{}_",
                        s.persona.name,
                        s.persona.role,
                        reflow(&s.persona.style)
                    ),
                    FIELD_VALUE_LIMIT,
                ),
            ),
        ],
        footer: Some(format!(
            "{} round · {} · {} on the clock · reply in this thread; /spar end finishes early",
            s.round.label(),
            view.difficulty,
            clock(f64::from(view.time_limit_s))
        )),
        colour: BLUE,
    }
}

fn flag_field(flag: &Flag) -> (String, String) {
    let name = match flag.at_s {
        Some(at) => format!("{} · {}", clock(at), flag_label(flag.kind)),
        None => flag_label(flag.kind),
    };
    let mut value = String::new();
    if let Some(quote) = render::quote_of(flag) {
        value.push_str(&format!("> {}\n", quote.replace('\n', " ")));
    }
    value.push_str(&flag.why);
    value.push_str(&format!("\n**Try:** {}", flag.try_instead));
    (
        clip(&name, FIELD_NAME_LIMIT),
        clip(&value, FIELD_VALUE_LIMIT),
    )
}

/// A 0–4 score as a bar a glance can read.
fn bar(score: u8) -> String {
    let score = usize::from(score.min(4));
    format!("{}{}", "█".repeat(score), "░".repeat(4 - score))
}

/// The scorecard as messages of embeds, each message within Discord's limits; the
/// buttons go on the last message.
pub fn scorecard(view: &ScorecardView<'_>) -> Vec<Vec<Embed>> {
    let card = &view.judged.card;
    let colour = match card.overall {
        75.. => GREEN,
        40..=74 => AMBER,
        _ => RED,
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut flags: Vec<&Flag> = card.flags.iter().collect();
    // Moments in the order they happened, then what was never done.
    flags.sort_by(|a, b| {
        a.at_s
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.at_s.unwrap_or(f64::INFINITY))
    });
    fields.extend(flags.into_iter().map(flag_field));
    if !card.dimensions.is_empty() {
        let lines: Vec<String> = card
            .dimensions
            .iter()
            .map(|d| format!("`{}` {}/4 {}", bar(d.score), d.score, d.name.label()))
            .collect();
        fields.push((
            "Dimensions".into(),
            clip(&lines.join("\n"), FIELD_VALUE_LIMIT),
        ));
    }
    if !card.strengths.is_empty() {
        let lines: Vec<String> = card
            .strengths
            .iter()
            .map(|s| format!("• {}", render::strength_line(s)))
            .collect();
        fields.push((
            "Strengths".into(),
            clip(&lines.join("\n"), FIELD_VALUE_LIMIT),
        ));
    }
    let judged = view.judged;
    let mut judge = Vec::new();
    if let Some(commentary) = &judged.commentary {
        judge.push(commentary.clone());
    }
    for a in &judged.adjustments {
        let sign = if a.change > 0 { "+1" } else { "-1" };
        judge.push(format!(
            "{} {sign}: {} (“{}”)",
            a.dimension.label(),
            a.reason,
            a.quote
        ));
    }
    for f in &judged.findings {
        judge.push(format!("“{}”: {}", f.quote, f.note));
    }
    if !judge.is_empty() {
        fields.push((
            "Judge's notes".into(),
            clip(&judge.join("\n"), FIELD_VALUE_LIMIT),
        ));
    }
    let notes: Vec<&String> = card.notes.iter().chain(&judged.notes).collect();
    if !notes.is_empty() {
        let lines: Vec<String> = notes.iter().map(|n| format!("• {n}")).collect();
        fields.push((
            "About this debrief".into(),
            clip(&lines.join("\n"), FIELD_VALUE_LIMIT),
        ));
    }
    fields.push((
        "What good looks like".into(),
        clip(&reflow(&view.scenario.debrief), FIELD_VALUE_LIMIT),
    ));
    let first = Embed {
        title: clip(&format!("Debrief · {}", view.scenario.title), TITLE_LIMIT),
        description: clip(
            &format!("**Overall {}/100**\n{}", card.overall, card.summary),
            DESCRIPTION_LIMIT,
        ),
        fields: Vec::new(),
        footer: None,
        colour,
    };
    pack(first, fields, colour)
}

/// Spreads fields over embeds and messages so that no limit is reached.
fn pack(first: Embed, fields: Vec<(String, String)>, colour: u32) -> Vec<Vec<Embed>> {
    let continued = || Embed {
        title: "Debrief (continued)".into(),
        colour,
        ..Embed::default()
    };
    let mut messages: Vec<Vec<Embed>> = Vec::new();
    let mut message: Vec<Embed> = Vec::new();
    let mut embed = first;
    let message_size = |message: &[Embed], embed: &Embed| {
        message.iter().map(Embed::size).sum::<usize>() + embed.size()
    };
    for field in fields {
        let field_size = chars(&field.0) + chars(&field.1);
        if embed.fields.len() == FIELDS_PER_EMBED {
            message.push(std::mem::replace(&mut embed, continued()));
        }
        if message_size(&message, &embed) + field_size > CHARACTERS_PER_MESSAGE
            || message.len() == EMBEDS_PER_MESSAGE
        {
            // This message is full: what is built so far goes, the rest starts another.
            if embed.fields.is_empty() && embed.title.starts_with("Debrief (continued)") {
                messages.push(std::mem::take(&mut message));
            } else {
                message.push(std::mem::replace(&mut embed, continued()));
                messages.push(std::mem::take(&mut message));
            }
        }
        embed.fields.push(field);
    }
    message.push(embed);
    messages.push(message);
    messages
}

/// The scorecard's buttons.
pub fn scorecard_buttons(view: &ScorecardView<'_>) -> serenity::CreateActionRow {
    serenity::CreateActionRow::Buttons(vec![
        serenity::CreateButton::new(Action::Transcript(view.drill.clone()).id())
            .label("Full transcript")
            .style(serenity::ButtonStyle::Secondary),
        serenity::CreateButton::new(Action::DrillAgain(view.drill.clone()).id())
            .label("Drill again")
            .style(serenity::ButtonStyle::Primary),
    ])
}

/// A row of Spar's buttons, each carrying its action's id.
pub fn buttons(buttons: &[crate::chat::Button]) -> serenity::CreateActionRow {
    serenity::CreateActionRow::Buttons(
        buttons
            .iter()
            .map(|b| {
                serenity::CreateButton::new(b.action.id())
                    .label(clip(&b.label, 80))
                    .style(if b.danger {
                        serenity::ButtonStyle::Danger
                    } else {
                        serenity::ButtonStyle::Primary
                    })
            })
            .collect(),
    )
}

/// Who a Discord user is to Spar: their server nickname, else their display name.
pub fn person(user: &serenity::User, nick: Option<&str>) -> PersonRef {
    let name = nick
        .or(user.global_name.as_deref())
        .unwrap_or(&user.name)
        .to_string();
    PersonRef {
        platform: "discord".into(),
        platform_user_id: user.id.get().to_string(),
        display_name: name,
    }
}

/// A message as the runtime reads it: only people's words in a server's channels and
/// threads. System messages (a thread was created, someone joined) and messages with no
/// text are not turns.
pub fn message(msg: &serenity::Message) -> Option<runtime::Message> {
    msg.guild_id?;
    if !matches!(
        msg.kind,
        serenity::MessageType::Regular | serenity::MessageType::InlineReply
    ) || msg.content.trim().is_empty()
    {
        return None;
    }
    let nick = msg.member.as_ref().and_then(|m| m.nick.as_deref());
    Some(runtime::Message {
        event_id: msg.id.get().to_string(),
        author: person(&msg.author, nick),
        from_bot: msg.author.bot || msg.webhook_id.is_some(),
        thread: msg.channel_id.get().to_string(),
        channel: None,
        text: msg.content.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spar_core::judge::JudgedScorecard;
    use spar_core::scenario::{Difficulty, ScenarioLibrary};
    use spar_core::store::DrillId;

    fn message_json(kind: u8, bot: bool, content: &str, guild: bool) -> serenity::Message {
        let mut value = serde_json::json!({
            "id": "1100", "channel_id": "2200", "type": kind, "content": content,
            "author": {"id": "3300", "username": "ana", "global_name": "Ana", "discriminator": "0", "avatar": null, "bot": bot},
            "timestamp": "2026-12-01T10:00:00.000000+00:00", "edited_timestamp": null,
            "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": false,
            "member": {"nick": "Ana (study group)", "roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "deaf": false, "mute": false, "flags": 0}
        });
        if guild {
            value["guild_id"] = "4400".into();
        }
        serde_json::from_value(value).expect("a Discord message")
    }

    #[test]
    fn a_members_message_in_a_thread_is_a_turn_in_that_thread() {
        let turn = message(&message_json(
            0,
            false,
            "What drives the date? <@123>",
            true,
        ))
        .expect("a turn");
        assert_eq!(turn.thread, "2200");
        assert_eq!(turn.event_id, "1100");
        assert_eq!(turn.author.platform_user_id, "3300");
        assert_eq!(turn.author.display_name, "Ana (study group)");
        assert_eq!(
            turn.text, "What drives the date? <@123>",
            "markup is the scorer's to read"
        );
        assert!(!turn.from_bot);
    }

    #[test]
    fn system_messages_empty_messages_and_direct_messages_are_not_turns_and_bots_are_marked() {
        assert!(message(&message_json(18, false, "thread created", true)).is_none());
        assert!(message(&message_json(0, false, "   ", true)).is_none());
        assert!(message(&message_json(0, false, "hello", false)).is_none());
        assert!(message(&message_json(0, true, "It ships.", true)).is_some_and(|m| m.from_bot));
    }

    fn view_with(flags: usize, quote_len: usize) -> (JudgedScorecard, spar_core::Scenario) {
        crate::chat::fixtures::scorecard_with(flags, |_| "q".repeat(quote_len))
    }

    #[test]
    fn a_scorecard_shows_flags_in_time_order_with_stamps_quotes_bars_and_advice() {
        let (judged, scenario) = view_with(4, 20);
        let drill = DrillId("d1".into());
        let messages = scorecard(&ScorecardView {
            drill: &drill,
            scenario: &scenario,
            judged: &judged,
        });
        assert_eq!(messages.len(), 1);
        let embed = &messages[0][0];
        assert!(embed.description.contains("Overall 42/100"));
        let names: Vec<&str> = embed.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "0:00 · Defensiveness");
        assert_eq!(names[1], "0:15 · Defensiveness");
        // Labels as every surface says them, never the machine names.
        assert_eq!(names[2], "Missed: next step");
        assert!(names.iter().all(|n| !n.contains('_')), "{names:?}");
        assert!(embed.fields[0].1.starts_with("> qqq"));
        assert!(embed.fields[0].1.contains("**Try:** Ask what looks wrong."));
        let dimensions = &embed
            .fields
            .iter()
            .find(|(n, _)| n == "Dimensions")
            .expect("bars")
            .1;
        assert!(dimensions.contains("`██░░` 2/4 curiosity"));
        assert!(
            dimensions.contains("`██░░` 2/4 evidence both ways"),
            "{dimensions}"
        );
        let strengths = &embed
            .fields
            .iter()
            .find(|(n, _)| n == "Strengths")
            .expect("strengths")
            .1;
        assert_eq!(
            strengths,
            "• Asked about their reasoning: \"What is the deadline for?\""
        );
        assert!(names.contains(&"What good looks like"));
    }

    #[test]
    fn a_long_scorecard_continues_in_another_message_and_never_passes_a_limit() {
        for (flags, quote) in [(0, 0), (10, 900), (40, 300), (60, 1000)] {
            let (judged, scenario) = view_with(flags, quote);
            let drill = DrillId("d1".into());
            let messages = scorecard(&ScorecardView {
                drill: &drill,
                scenario: &scenario,
                judged: &judged,
            });
            let fields: usize = messages.iter().flatten().map(|e| e.fields.len()).sum();
            // Every flag, the bars, the strengths and the model answer are all there.
            assert_eq!(fields, flags + 3, "{flags} flags");
            for message in &messages {
                assert!(message.len() <= EMBEDS_PER_MESSAGE);
                assert!(message.iter().map(Embed::size).sum::<usize>() <= CHARACTERS_PER_MESSAGE);
                for embed in message {
                    assert!(embed.fields.len() <= FIELDS_PER_EMBED);
                    assert!(chars(&embed.description) <= DESCRIPTION_LIMIT);
                    assert!(chars(&embed.title) <= TITLE_LIMIT);
                    for (name, value) in &embed.fields {
                        assert!(
                            chars(name) <= FIELD_NAME_LIMIT && chars(value) <= FIELD_VALUE_LIMIT
                        );
                    }
                }
            }
            if flags >= 40 {
                assert!(
                    messages.len() > 1,
                    "{flags} flags of {quote} characters need a second message"
                );
            }
        }
    }

    #[test]
    fn a_brief_shows_the_setting_goal_and_persona_but_not_the_hidden_brief() {
        let library = ScenarioLibrary::embedded().expect("library");
        let scenario = library.get("latency-regression").expect("scenario");
        let candidate = PersonRef {
            platform: "discord".into(),
            platform_user_id: "1".into(),
            display_name: "Ana".into(),
        };
        let embed = brief(&BriefView {
            scenario,
            difficulty: Difficulty::Hostile,
            time_limit_s: 480,
            candidate: &candidate,
        });
        assert!(embed.description.contains("40% regression"));
        assert!(embed.fields[1].1.contains("Dr. Priya Raman"));
        assert!(
            embed
                .footer
                .as_deref()
                .is_some_and(|f| f.contains("hostile") && f.contains("8:00"))
        );
        let shown = format!("{embed:?}");
        for secret in &scenario.brief.reveals {
            assert!(
                !shown.contains(secret.as_str()),
                "the hidden brief stays hidden"
            );
        }
    }
}
