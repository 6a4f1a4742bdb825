//! Prompt rendering for an LLM antagonist: the templates under `prompts/llm/` filled with a
//! scenario's persona, hidden brief and difficulty, plus a window of recent turns and a
//! running summary, kept under a token budget however long the drill runs. Also the check
//! that tells when a reply stepped out of the role. Pure: no I/O, no model calls.

use crate::phrases::PhraseSet;
use crate::scenario::{Difficulty, Scenario};
use crate::transcript::{Role, Turn};
use serde::{Deserialize, Serialize};

/// Who a prompt message is from, in chat-completion terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    System,
    /// The candidate (or, for the judge, the framed transcript).
    User,
    /// The antagonist's own earlier lines.
    Assistant,
}

/// One message of a chat prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub speaker: Speaker,
    pub content: String,
}

impl Message {
    fn new(speaker: Speaker, content: impl Into<String>) -> Message {
        Message {
            speaker,
            content: content.into(),
        }
    }
}

/// Tokens a chat message costs beyond its text (role markers and separators).
const MESSAGE_OVERHEAD: usize = 4;

/// A conservative token estimate: about four bytes per token, which overcounts non-English
/// text rather than undercounting it, so a prompt estimated under budget is under budget.
pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// The estimated tokens of a whole prompt.
pub fn prompt_tokens(messages: &[Message]) -> usize {
    messages
        .iter()
        .map(|m| estimate_tokens(&m.content) + MESSAGE_OVERHEAD)
        .sum()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptError {
    #[error("the embedded file prompts/{0} is missing")]
    Missing(String),
    #[error("prompts/{file}: {message}")]
    Invalid { file: String, message: String },
}

fn embedded(path: &str) -> Result<&'static str, PromptError> {
    crate::embedded::prompt(path).ok_or_else(|| PromptError::Missing(path.into()))
}

/// Replaces each `{key}` with its value. Other braces (JSON examples) are left alone.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.trim().to_string();
    for (key, value) in values {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

/// How scenario text is set apart in a prompt: scenarios speak to the candidate ("you are
/// the engineer who..."), so a model must never read their "you" as itself.
const QUOTE_MARK: &str = "> ";

/// Scenario text as a quoted passage, one quoted line per paragraph.
fn quote(text: &str) -> String {
    text.split("\n\n")
        .map(one_line)
        .filter(|p| !p.is_empty())
        .map(|p| format!("{QUOTE_MARK}{p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Scenario list items as quoted bullets.
fn quoted_bullets(items: &[String]) -> String {
    if items.is_empty() {
        return format!("{QUOTE_MARK}- (none)");
    }
    items
        .iter()
        .map(|i| format!("{QUOTE_MARK}- {}", one_line(i)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Scenario files are hard-wrapped; a prompt reads better with each item on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The antagonist's templates from `prompts/llm/`.
#[derive(Debug, Clone)]
pub struct AntagonistTemplates {
    pub system: String,
    pub reminder: String,
    pub opening: String,
    pub summary: String,
    pub regenerate: String,
    /// The last user turn with the reminder in it, for `Reminder::User`.
    pub reminder_in_turn: String,
}

impl AntagonistTemplates {
    pub fn embedded() -> Result<AntagonistTemplates, PromptError> {
        Ok(AntagonistTemplates {
            system: embedded("llm/antagonist.md")?.into(),
            reminder: embedded("llm/reminder.md")?.into(),
            opening: embedded("llm/opening.md")?.into(),
            summary: embedded("llm/summary.md")?.into(),
            regenerate: embedded("llm/regenerate.md")?.into(),
            reminder_in_turn: embedded("llm/reminder-in-turn.md")?.into(),
        })
    }
}

/// Where the role reminder goes. Some chat templates (llama.cpp's, several open models')
/// accept a system message only first; for them the reminder rides in the last user turn
/// and the running summary joins the opening system message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reminder {
    /// A system message after the transcript, read last.
    #[default]
    System,
    /// Inside the last user message, set apart from what the colleague said.
    User,
}

/// Everything a turn's prompt is built from.
pub struct AntagonistPrompt<'a> {
    pub templates: &'a AntagonistTemplates,
    pub scenario: &'a Scenario,
    pub difficulty: Difficulty,
    /// The most tokens the whole prompt may take, by `estimate_tokens`.
    pub budget: usize,
    pub reminder: Reminder,
}

/// The least budget a prompt can be built in: the persona and rules, and room to talk.
pub const MIN_BUDGET: usize = 1500;

/// The longest any one earlier turn is quoted in the running summary, in bytes.
const SUMMARY_QUOTE_BYTES: usize = 160;

impl AntagonistPrompt<'_> {
    fn persona_values(&self) -> Vec<(&'static str, String)> {
        let s = self.scenario;
        let variant = s.variant(self.difficulty);
        let concede: Vec<String> = s
            .brief
            .concede_when
            .iter()
            .map(|c| c.condition.clone())
            .collect();
        // Only the name and our own numbers go in as they are; every piece of scenario text
        // is quoted, since it was written to the candidate.
        let persona = format!(
            "{}\n{}",
            quote(&format!("{}, {}", s.persona.name, s.persona.role)),
            quote(&s.persona.style)
        );
        vec![
            ("persona_name", s.persona.name.clone()),
            ("persona", persona),
            ("stance", quote(&s.persona.stance)),
            ("setting", quote(&s.setting)),
            ("tactics", quoted_bullets(&s.persona.tactics)),
            ("motives", quoted_bullets(&s.brief.motives)),
            ("constraints", quoted_bullets(&s.brief.constraints)),
            ("reveals", quoted_bullets(&s.brief.reveals)),
            ("concede_when", quoted_bullets(&concede)),
            ("difficulty", self.difficulty.as_str().into()),
            ("behaviour", quote(&variant.behaviour)),
            ("concede_after", variant.concede_after.to_string()),
        ]
    }

    fn render(&self, template: &str) -> String {
        let values = self.persona_values();
        let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fill(template, &pairs)
    }

    /// The messages for the antagonist's next line: the persona and brief, a summary of
    /// turns that no longer fit, the most recent turns verbatim, and a reminder of the role
    /// after them (models drift towards agreeing, and a reminder last is read last).
    /// `regenerating` adds the instruction used after a reply that broke character.
    pub fn messages(&self, turns: &[Turn], regenerating: bool) -> Vec<Message> {
        let system = Message::new(Speaker::System, self.render(&self.templates.system));
        let mut closing = self.render(&self.templates.reminder);
        let spoken: Vec<&Turn> = turns.iter().filter(|t| t.role != Role::Observer).collect();
        if spoken.is_empty() {
            closing = format!("{closing}\n\n{}", self.render(&self.templates.opening));
        }
        if regenerating {
            closing = format!("{closing}\n\n{}", self.render(&self.templates.regenerate));
        }
        let reminder = Message::new(Speaker::System, closing);
        let mut fixed = prompt_tokens(&[system.clone(), reminder.clone()]);
        if self.reminder == Reminder::User {
            fixed += estimate_tokens(&self.templates.reminder_in_turn);
        }
        let room = self.budget.max(MIN_BUDGET).saturating_sub(fixed);
        // A quarter of what is left keeps the gist of older turns; the rest holds recent
        // turns word for word, which is what the reply must answer.
        let summary_room = room / 4;
        let mut recent_room = room - summary_room;

        let mut recent: Vec<Message> = Vec::new();
        let mut kept = 0;
        for turn in spoken.iter().rev() {
            let speaker = match turn.role {
                Role::Antagonist => Speaker::Assistant,
                _ => Speaker::User,
            };
            let cost = estimate_tokens(&turn.text) + MESSAGE_OVERHEAD;
            if cost <= recent_room {
                recent_room -= cost;
                recent.push(Message::new(speaker, turn.text.clone()));
                kept += 1;
            } else if kept == 0 {
                // The latest turn alone is too long: answer its beginning rather than
                // nothing. `recent_room` is at least a few hundred tokens.
                let bytes = recent_room.saturating_sub(MESSAGE_OVERHEAD) * 4;
                recent.push(Message::new(speaker, truncate(&turn.text, bytes)));
                kept += 1;
                break;
            } else {
                break;
            }
        }
        recent.reverse();

        let older = &spoken[..spoken.len() - kept];
        let summary = self.summary(older, summary_room);
        match self.reminder {
            Reminder::System => {
                let mut messages = vec![system];
                messages.extend(summary);
                messages.extend(recent);
                messages.push(reminder);
                messages
            }
            Reminder::User => {
                let mut system = system;
                if let Some(summary) = summary {
                    system.content = format!("{}\n\n{}", system.content, summary.content);
                }
                let mut messages = vec![system];
                messages.extend(recent);
                match messages.last_mut() {
                    Some(last) if last.speaker == Speaker::User => {
                        last.content = fill(
                            &self.templates.reminder_in_turn,
                            &[("turn", &last.content), ("reminder", &reminder.content)],
                        );
                    }
                    _ => messages.push(Message::new(Speaker::User, reminder.content)),
                }
                messages
            }
        }
    }

    /// Older turns, one short line each, keeping the newest that fit the room; the count of
    /// turns not shown at all is stated so the model knows the conversation is long.
    fn summary(&self, older: &[&Turn], room: usize) -> Option<Message> {
        if older.is_empty() {
            return None;
        }
        let name = &self.scenario.persona.name;
        let header = fill(
            &self.templates.summary,
            &[("omitted", &older.len().to_string()), ("lines", "")],
        );
        let mut left = room.saturating_sub(estimate_tokens(&header) + MESSAGE_OVERHEAD);
        let mut lines = Vec::new();
        for turn in older.iter().rev() {
            let who = match turn.role {
                Role::Antagonist => format!("You ({name})"),
                _ => "Your colleague".into(),
            };
            let line = format!(
                "- {who}: \"{}\"",
                truncate(&one_line(&turn.text), SUMMARY_QUOTE_BYTES)
            );
            let cost = estimate_tokens(&line) + 1;
            if cost > left {
                break;
            }
            left -= cost;
            lines.push(line);
        }
        lines.reverse();
        let mut body = lines.join("\n");
        if lines.len() < older.len() {
            body = format!(
                "- ({} earlier turns left out)\n{body}",
                older.len() - lines.len()
            );
        }
        Some(Message::new(
            Speaker::System,
            fill(
                &self.templates.summary,
                &[("omitted", &older.len().to_string()), ("lines", &body)],
            ),
        ))
    }
}

/// The first `max` bytes of `text`, cut at a character boundary, marked when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// Why a reply is not the persona speaking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CharacterBreak {
    /// Speaks as an AI or about its instructions.
    Disclaimer(String),
    /// Coaches the candidate instead of arguing with them.
    Coaching(String),
    /// Recites a private motive, constraint or concession condition.
    QuotesBrief(String),
}

impl CharacterBreak {
    /// A short name for logs; the matched text stays out of them.
    pub fn kind(&self) -> &'static str {
        match self {
            CharacterBreak::Disclaimer(_) => "disclaimer",
            CharacterBreak::Coaching(_) => "coaching",
            CharacterBreak::QuotesBrief(_) => "quotes_brief",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBreaks {
    ai: Vec<String>,
    coaching: Vec<String>,
    min_quote_chars: usize,
}

/// Recognises replies that step out of the role, from `prompts/llm/character-breaks.toml`.
#[derive(Debug, Clone)]
pub struct CharacterCheck {
    ai: PhraseSet,
    coaching: PhraseSet,
    min_quote_chars: usize,
}

const BREAKS_FILE: &str = "llm/character-breaks.toml";

impl CharacterCheck {
    pub fn embedded() -> Result<CharacterCheck, PromptError> {
        CharacterCheck::parse(embedded(BREAKS_FILE)?)
    }

    pub fn parse(text: &str) -> Result<CharacterCheck, PromptError> {
        let raw: RawBreaks = toml::from_str(text).map_err(|e| PromptError::Invalid {
            file: BREAKS_FILE.into(),
            message: e.message().to_string(),
        })?;
        if raw.min_quote_chars < 12 {
            return Err(PromptError::Invalid {
                file: BREAKS_FILE.into(),
                message: "`min_quote_chars` below 12 would flag ordinary phrases".into(),
            });
        }
        let phrases = |field: &str, list: Vec<String>| {
            PhraseSet::new(list).map_err(|e| PromptError::Invalid {
                file: BREAKS_FILE.into(),
                message: format!("`{field}[{}]`: {e}", e.position),
            })
        };
        Ok(CharacterCheck {
            ai: phrases("ai", raw.ai)?,
            coaching: phrases("coaching", raw.coaching)?,
            min_quote_chars: raw.min_quote_chars,
        })
    }

    /// The first way `reply` breaks character, if any. Reveals and concessions are meant to
    /// be said and are not checked; motives, constraints and conditions are.
    pub fn check(&self, reply: &str, scenario: &Scenario) -> Option<CharacterBreak> {
        if let Some(p) = self.ai.matches(reply).first() {
            return Some(CharacterBreak::Disclaimer(p.to_string()));
        }
        if let Some(p) = self.coaching.matches(reply).first() {
            return Some(CharacterBreak::Coaching(p.to_string()));
        }
        let text = normalise(reply);
        let brief = &scenario.brief;
        let private = brief
            .motives
            .iter()
            .chain(&brief.constraints)
            .chain(brief.concede_when.iter().map(|c| &c.condition));
        for item in private {
            let item = normalise(item);
            let chars: Vec<(usize, char)> = item.char_indices().collect();
            let n = self.min_quote_chars;
            for w in 0..chars.len().saturating_sub(n - 1) {
                let start = chars[w].0;
                let end = chars.get(w + n).map_or(item.len(), |c| c.0);
                if text.contains(&item[start..end]) {
                    return Some(CharacterBreak::QuotesBrief(item[start..end].to_string()));
                }
            }
        }
        None
    }
}

/// The text as every check reads it (see [`crate::normalise`]), in lower case with runs of
/// whitespace as one space, so neither wrapping nor markup hides a quote.
fn normalise(text: &str) -> String {
    crate::normalise::folded(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScenarioLibrary;

    fn scenario() -> Scenario {
        ScenarioLibrary::embedded()
            .expect("embedded scenarios")
            .get("latency-regression")
            .expect("latency-regression")
            .clone()
    }

    fn turns(n: usize) -> Vec<Turn> {
        (0..n)
            .map(|i| Turn {
                role: if i % 2 == 0 {
                    Role::Antagonist
                } else {
                    Role::Candidate
                },
                at_s: i as f64,
                text: format!(
                    "Turn {i}: I hear you on the release, but the p99 numbers from the replay worry me a great deal and I want us to look at them together before anyone commits to a date."
                ), cut_off: false,
            })
            .collect()
    }

    fn prompt<'a>(
        t: &'a AntagonistTemplates,
        s: &'a Scenario,
        budget: usize,
    ) -> AntagonistPrompt<'a> {
        AntagonistPrompt {
            templates: t,
            scenario: s,
            difficulty: Difficulty::Standard,
            budget,
            reminder: Reminder::System,
        }
    }

    /// Words that address someone as "you".
    fn second_person(text: &str) -> usize {
        crate::phrases::phrase_tokens(text)
            .iter()
            .filter(|w| matches!(w.as_str(), "you" | "your" | "yours" | "yourself"))
            .count()
    }

    #[test]
    fn every_you_in_the_persona_prompt_addresses_the_antagonist() {
        let t = AntagonistTemplates::embedded().unwrap();
        let library = ScenarioLibrary::embedded().unwrap();
        // The template is written to the antagonist; only these values are not scenario text.
        let ours = |p: &AntagonistPrompt, text: &str| {
            let mut text = text.to_string();
            for (key, value) in p.persona_values() {
                if !matches!(key, "persona_name" | "difficulty" | "concede_after") {
                    text = text.replace(&format!("{{{key}}}"), "");
                } else {
                    text = text.replace(&format!("{{{key}}}"), &value);
                }
            }
            text
        };
        let mut quoted_you = 0;
        for s in library.iter() {
            for difficulty in Difficulty::ALL {
                let p = AntagonistPrompt {
                    difficulty,
                    ..prompt(&t, s, 3000)
                };
                let system = &p.messages(&[], false)[0].content;
                let (quoted, spoken): (Vec<&str>, Vec<&str>) =
                    system.lines().partition(|l| l.starts_with(QUOTE_MARK));
                quoted_you += quoted.iter().map(|l| second_person(l)).sum::<usize>();
                // Outside the quotes there is nothing but the template, whose "you" is the
                // antagonist: every line of it is a line the template wrote.
                let template = ours(&p, &t.system);
                for line in spoken {
                    assert!(
                        template.lines().any(|l| l.trim() == line.trim()),
                        "{}: a line not from the template, outside quotes: {line:?}",
                        s.id
                    );
                }
                // The reader is told whom a quoted "you" means before the first quote.
                let first_quote = system.find("\n> ").expect("quoted scenario text");
                assert!(
                    system[..first_quote].contains(
                        "\"you\", \"your\" and \"the candidate\" mean your colleague, never you"
                    ),
                    "{}",
                    s.id
                );
                for needle in [&s.persona.name, &s.brief.reveals[0]] {
                    assert!(system.contains(needle.as_str()), "{}: {needle}", s.id);
                }
            }
        }
        assert!(
            quoted_you > 0,
            "the scenarios address the candidate as you, which is why they are quoted"
        );
        assert!(second_person(&t.system) > 0);
    }

    #[test]
    fn a_scenario_setting_that_says_you_is_quoted_and_attributed() {
        let t = AntagonistTemplates::embedded().unwrap();
        let s = scenario();
        let system = &prompt(&t, &s, 3000).messages(&[], false)[0].content;
        let setting = system
            .split("The situation, as your colleague was told it:\n")
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .unwrap_or_default();
        assert!(
            setting.starts_with("> You are the applied AI engineer who owns the serving path"),
            "{setting}"
        );
        assert!(system.contains(
            "> Dr. Priya Raman, Research lead, assistant quality team (two levels above you)"
        ));
    }

    #[test]
    fn a_user_reminder_rides_in_the_last_user_turn_and_only_the_first_message_is_system() {
        let t = AntagonistTemplates::embedded().unwrap();
        let s = scenario();
        let user = |turns: &[Turn], budget: usize| {
            AntagonistPrompt {
                reminder: Reminder::User,
                ..prompt(&t, &s, budget)
            }
            .messages(turns, false)
        };
        let history = turns(160);
        for (turns, budget) in [
            (&history[..0], 3000),
            (&history[..4], 3000),
            (&history[..], 1500),
        ] {
            let messages = user(turns, budget);
            assert_eq!(messages[0].speaker, Speaker::System);
            assert!(
                messages[1..].iter().all(|m| m.speaker != Speaker::System),
                "{messages:?}"
            );
            let last = messages.last().unwrap();
            assert_eq!(last.speaker, Speaker::User);
            assert!(
                last.content
                    .contains("Reminder: you are still Dr. Priya Raman")
            );
            assert!(
                prompt_tokens(&messages) <= budget,
                "{}",
                prompt_tokens(&messages)
            );
            if let Some(turn) = turns.last() {
                assert!(last.content.starts_with(&turn.text), "{}", last.content);
            } else {
                assert!(last.content.contains("Open the conversation"));
            }
        }
        // After the antagonist's own line, the reminder is a user message of its own.
        let after_own = user(&history[..3], 3000);
        assert!(after_own.last().unwrap().content.starts_with("Reminder"));
        let long = user(&history, 1500);
        assert!(
            long[0].content.contains("turns not shown"),
            "the summary joins the system message"
        );
        let system = prompt(&t, &s, 1500).messages(&history, false);
        assert_eq!(system.last().unwrap().speaker, Speaker::System);
        assert_eq!(system[system.len() - 2].content, history[159].text);
    }

    #[test]
    fn the_system_prompt_carries_the_persona_brief_and_difficulty() {
        let t = AntagonistTemplates::embedded().unwrap();
        let s = scenario();
        let messages = prompt(&t, &s, 3000).messages(&[], false);
        let system = &messages[0].content;
        for needle in [
            "Dr. Priya Raman",
            "She promised her VP the block",
            "fused attention kernel is half-finished",
            "production batch sizes",
            "needs two distinct concede_when moves",
        ] {
            assert!(system.contains(needle), "missing {needle:?}");
        }
        for (key, _) in prompt(&t, &s, 3000).persona_values() {
            assert!(!system.contains(&format!("{{{key}}}")), "unfilled {key}");
        }
        let last = messages.last().unwrap();
        assert_eq!(last.speaker, Speaker::System);
        assert!(last.content.contains("Open the conversation"));
    }

    #[test]
    fn at_turn_eighty_the_prompt_stays_under_budget_with_the_latest_turn_and_a_summary() {
        let t = AntagonistTemplates::embedded().unwrap();
        let s = scenario();
        let history = turns(160);
        for budget in [1500, 3000, 6000] {
            let messages = prompt(&t, &s, budget).messages(&history, false);
            assert!(
                prompt_tokens(&messages) <= budget,
                "budget {budget}: {}",
                prompt_tokens(&messages)
            );
            assert!(messages[0].content.contains("Dr. Priya Raman"));
            let last_turn = &messages[messages.len() - 2];
            assert_eq!(last_turn.content, history[159].text);
            assert_eq!(last_turn.speaker, Speaker::User);
            assert!(
                messages[1].content.contains("turns not shown"),
                "{}",
                messages[1].content
            );
            assert!(messages.last().unwrap().content.starts_with("Reminder"));
        }
    }

    #[test]
    fn a_short_drill_is_sent_whole_with_no_summary() {
        let t = AntagonistTemplates::embedded().unwrap();
        let s = scenario();
        let messages = prompt(&t, &s, 3000).messages(&turns(4), false);
        assert_eq!(messages.len(), 6);
        assert_eq!(messages[1].speaker, Speaker::Assistant);
        assert_eq!(messages[2].speaker, Speaker::User);
    }

    #[test]
    fn one_huge_turn_is_cut_to_fit_rather_than_blowing_the_budget() {
        let t = AntagonistTemplates::embedded().unwrap();
        let s = scenario();
        let huge = vec![Turn {
            role: Role::Candidate,
            at_s: 1.0,
            text: "word ".repeat(13_000),
            cut_off: false,
        }];
        let messages = prompt(&t, &s, 2000).messages(&huge, false);
        assert!(prompt_tokens(&messages) <= 2000);
        assert!(messages[1].content.ends_with("..."));
    }

    #[test]
    fn regenerating_adds_the_instruction_after_the_reminder() {
        let t = AntagonistTemplates::embedded().unwrap();
        let s = scenario();
        let messages = prompt(&t, &s, 3000).messages(&turns(3), true);
        assert!(
            messages
                .last()
                .unwrap()
                .content
                .contains("stepped out of the role")
        );
    }

    #[test]
    fn replies_that_break_character_are_recognised() {
        let check = CharacterCheck::embedded().unwrap();
        let s = scenario();
        let cases: &[(&str, Option<&str>)] = &[
            (
                "As an AI language model, I can't hold opinions on releases.",
                Some("disclaimer"),
            ),
            (
                "I apologize for any confusion. Let me help you.",
                Some("disclaimer"),
            ),
            (
                "A good response would be to propose a shared benchmark.",
                Some("coaching"),
            ),
            (
                "You should try asking what evidence she would accept.",
                Some("coaching"),
            ),
            (
                "Look, I privately know the block was only profiled at batch size 1 on a single host.",
                Some("quotes_brief"),
            ),
            (
                "That's a feeling, not a measurement. Give me the p99 at production batch.",
                None,
            ),
            (
                "I apologize if I was short with you, but my VP expects this.",
                None,
            ),
            (
                "Honestly, we profiled it at batch size 1 on one host. Production batching was never our focus.",
                None,
            ),
        ];
        for (reply, want) in cases {
            assert_eq!(
                check.check(reply, &s).as_ref().map(CharacterBreak::kind),
                *want,
                "{reply}"
            );
        }
    }

    #[test]
    fn break_phrases_match_whole_words_not_parts_of_words() {
        let check = CharacterCheck::embedded().unwrap();
        let s = scenario();
        let cases: &[(&str, Option<CharacterBreak>)] = &[
            (
                "As an AI, I cannot take sides on a release date.",
                Some(CharacterBreak::Disclaimer("as an ai".into())),
            ),
            (
                "I spent two years as an aide to the director. The date holds.",
                None,
            ),
            (
                "Language models like me cannot weigh in on release dates.",
                Some(CharacterBreak::Disclaimer("language model*".into())),
            ),
            (
                "I'm an\nAI and cannot continue.",
                Some(CharacterBreak::Disclaimer("i'm an ai".into())),
            ),
            (
                "Let's stop role-playing and look at the numbers.",
                Some(CharacterBreak::Disclaimer("role-play*".into())),
            ),
            (
                "That was a great jobs report, but it changes nothing here.",
                None,
            ),
            (
                "Great job, you asked about the benchmark.",
                Some(CharacterBreak::Coaching("great job".into())),
            ),
        ];
        for (reply, want) in cases {
            assert_eq!(check.check(reply, &s), *want, "{reply}");
        }
    }

    #[test]
    fn a_break_phrase_that_cannot_match_is_named() {
        let text = "ai = [\"as an ai\", \"-*\"]\ncoaching = [\"tip:\"]\nmin_quote_chars = 40";
        let e = CharacterCheck::parse(text).unwrap_err().to_string();
        assert!(
            e.starts_with("prompts/llm/character-breaks.toml: `ai[1]`: in \"-*\""),
            "{e}"
        );
    }

    #[test]
    fn fill_leaves_json_braces_alone() {
        assert_eq!(fill("{\"a\": {x}}", &[("x", "1")]), "{\"a\": 1}");
    }
}
