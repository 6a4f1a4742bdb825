//! What Spar shows in Slack and what it reads from Slack, as pure functions: Block Kit for
//! the brief, the scorecard and replies (within Slack's limits: 3,000 characters of text per
//! section, 150 per header, 50 blocks per message; a long scorecard continues in another
//! message), mrkdwn escaping, and the translation of slash commands, message events and
//! button clicks into the chat runtime's calls.

use crate::chat::commands::{ROUNDS_SUBCOMMANDS, SUBCOMMANDS, describe};
use crate::chat::text::{clip, flag_label, reflow};
use crate::chat::{
    Action, BriefView, Button as ReplyButton, Command, ConfigChange, Invocation, Reply,
    RoundsCommand, ScorecardView, runtime,
};
use slack_morphism::prelude::*;
use spar_core::scenario::Difficulty;
use spar_core::scoring::{Flag, render};
use spar_core::store::{PersonRef, WorkspaceRef};
use spar_core::transcript::clock;

/// The platform name drills, people and workspaces are stored under.
pub const PLATFORM: &str = "slack";
/// The most characters of a section's text.
pub const SECTION_LIMIT: usize = 3000;
/// The most characters of a header's text.
pub const HEADER_LIMIT: usize = 150;
/// The most blocks in one message.
pub const BLOCKS_PER_MESSAGE: usize = 50;
/// The most characters of a message's top-level `text` (the notification and fallback).
const TEXT_LIMIT: usize = 40_000;
/// The most characters of a button's label.
const BUTTON_LABEL_LIMIT: usize = 75;
/// The most characters the runtime is told one message may hold: a section's worth, less
/// room for what escaping adds.
pub const MESSAGE_LIMIT: usize = 2800;

/// One Block Kit block, before it becomes slack-morphism's, so its limits can be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Plain text, large.
    Header(String),
    /// mrkdwn.
    Section(String),
    /// Small grey mrkdwn.
    Context(String),
    Divider,
    Buttons(Vec<Button>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub action_id: String,
    pub style: Option<Style>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Primary,
    Danger,
}

/// A message: blocks, and the plain text notifications and screen readers use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Block>,
}

impl Block {
    fn to_slack(&self) -> SlackBlock {
        match self {
            Block::Header(text) => SlackHeaderBlock::new(pt!(clip(text, HEADER_LIMIT))).into(),
            Block::Section(text) => SlackSectionBlock::new()
                .with_text(md!(clip(text, SECTION_LIMIT)))
                .into(),
            Block::Context(text) => {
                SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
                    SlackBlockMarkDownText::new(clip(text, SECTION_LIMIT)),
                )])
                .into()
            }
            Block::Divider => SlackDividerBlock::new().into(),
            Block::Buttons(buttons) => SlackActionsBlock::new(
                buttons
                    .iter()
                    .map(|b| {
                        let mut button =
                            SlackBlockButtonElement::new(pt!(clip(&b.label, BUTTON_LABEL_LIMIT)))
                                .with_action_id(b.action_id.clone().into())
                                .with_value(b.action_id.clone());
                        if let Some(style) = b.style {
                            button = button.with_style(match style {
                                Style::Primary => SlackBlockButtonStyle::Primary,
                                Style::Danger => SlackBlockButtonStyle::Danger,
                            });
                        }
                        button.into()
                    })
                    .collect(),
            )
            .into(),
        }
    }
}

impl Message {
    /// The message as Slack's API takes it.
    pub fn content(&self) -> SlackMessageContent {
        SlackMessageContent::new()
            .with_text(self.text.clone())
            .with_blocks(self.blocks.iter().map(Block::to_slack).collect())
    }
}

/// Text shown as written: Slack's three control characters escaped, so nothing a person or a
/// model wrote becomes a mention (`<!channel>`), a link or markup.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The runtime's text (Discord-flavoured markdown: `**bold**`, `` `code` ``) as mrkdwn:
/// escaped, except the channel links (`<#C…>`) the surface itself gave the runtime, and
/// with bold in Slack's single asterisks.
pub fn mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match channel_link(tail) {
            Some(len) => {
                out.push_str(&tail[..len]);
                rest = &tail[len..];
            }
            None => {
                let c = tail.chars().next().unwrap_or('&');
                out.push_str(&escape(&c.to_string()));
                rest = &tail[c.len_utf8()..];
            }
        }
    }
    out.push_str(rest);
    out.replace("**", "*")
}

/// The length of the channel link `<#C0123|name>` or `<#C0123>` that `text` starts with.
fn channel_link(text: &str) -> Option<usize> {
    let body = text.strip_prefix("<#")?;
    let end = body.find('>')?;
    let inner = &body[..end];
    let id = inner.split('|').next().unwrap_or_default();
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && !inner.contains('<');
    valid.then_some(2 + end + 1)
}

/// A channel as a link Slack draws with the channel's name.
pub fn channel_mention(channel: &str) -> String {
    format!("<#{channel}>")
}

/// Sections holding `text`, split so that none is over Slack's limit.
fn sections(text: &str) -> Vec<Block> {
    crate::chat::text::split(text, SECTION_LIMIT)
        .into_iter()
        .map(Block::Section)
        .collect()
}

/// A message of the runtime's text: one section (more if escaping made it longer).
pub fn plain(text: &str) -> Message {
    let text = mrkdwn(text);
    let mut blocks = sections(&text);
    if blocks.len() > BLOCKS_PER_MESSAGE {
        // Past fifty sections (150,000 characters) Slack refuses the message; the end is
        // said to be missing rather than the whole answer lost.
        blocks.truncate(BLOCKS_PER_MESSAGE - 1);
        blocks.push(Block::Context(
            "_(The rest did not fit in one message.)_".into(),
        ));
    }
    Message {
        blocks,
        text: clip(&text, TEXT_LIMIT),
    }
}

/// The message a drill's thread hangs from: the bot's first message in the channel.
pub fn thread_root(title: &str) -> Message {
    Message {
        text: title.to_string(),
        blocks: vec![
            Block::Section(format!("*{}*", escape(title))),
            Block::Context(
                "The drill runs in this thread: the candidate replies here, and `/spar end` finishes it early."
                    .into(),
            ),
        ],
    }
}

/// The drill's opening: who it is for, the setting and goal, and the person across the
/// table. The persona's hidden brief is never in it.
pub fn brief(view: &BriefView<'_>) -> Message {
    let s = view.scenario;
    let mention = format!("<@{}>", view.candidate.platform_user_id);
    let mut blocks = vec![
        Block::Section(format!(
            "{mention}, your drill starts now. Reply in this thread."
        )),
        Block::Header(clip(&s.title, HEADER_LIMIT)),
    ];
    blocks.extend(sections(&escape(&reflow(&s.setting))));
    blocks.extend(sections(&format!(
        "*Your goal*\n{}",
        escape(&reflow(&s.goal))
    )));
    blocks.extend(sections(&format!(
        "*You are talking to*\n*{}*, {}\n_{}_",
        escape(&s.persona.name),
        escape(&s.persona.role),
        escape(&reflow(&s.persona.style))
    )));
    blocks.push(Block::Context(format!(
        "{} round · {} · {} on the clock · reply in this thread; `/spar end` finishes early",
        escape(s.round.label()),
        view.difficulty,
        clock(f64::from(view.time_limit_s))
    )));
    Message {
        text: format!("{mention}, your drill starts now: {}", escape(&s.title)),
        blocks,
    }
}

fn flag_section(flag: &Flag) -> String {
    let name = match flag.at_s {
        Some(at) => format!("{} · {}", clock(at), flag_label(flag.kind)),
        None => flag_label(flag.kind),
    };
    let mut text = format!("*{}*\n", escape(&name));
    if let Some(quote) = render::quote_of(flag) {
        text.push_str(&format!(">{}\n", escape(&quote.replace('\n', " "))));
    }
    text.push_str(&escape(&flag.why));
    text.push_str(&format!("\n*Try instead:* {}", escape(&flag.try_instead)));
    text
}

/// A 0–4 score as a bar a glance can read.
fn bar(score: u8) -> String {
    let score = usize::from(score.min(4));
    format!("{}{}", "█".repeat(score), "░".repeat(4 - score))
}

/// The scorecard as messages of blocks, each within Slack's limits; the buttons ("Full
/// transcript", "Drill again") go on the last.
pub fn scorecard(view: &ScorecardView<'_>) -> Vec<Message> {
    let card = &view.judged.card;
    let title = format!("Debrief · {}", view.scenario.title);
    let mut body = vec![Block::Header(clip(&title, HEADER_LIMIT))];
    body.extend(sections(&format!(
        "*Overall {}/100*\n{}",
        card.overall,
        escape(&card.summary)
    )));
    body.push(Block::Divider);
    let mut flags: Vec<&Flag> = card.flags.iter().collect();
    // Moments in the order they happened, then what was never done.
    flags.sort_by(|a, b| {
        a.at_s
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.at_s.unwrap_or(f64::INFINITY))
    });
    for flag in flags {
        body.extend(sections(&flag_section(flag)));
    }
    if !card.dimensions.is_empty() {
        let lines: Vec<String> = card
            .dimensions
            .iter()
            .map(|d| {
                format!(
                    "`{}` {}/4 {}",
                    bar(d.score),
                    d.score,
                    escape(d.name.label())
                )
            })
            .collect();
        body.extend(sections(&format!("*Dimensions*\n{}", lines.join("\n"))));
    }
    if !card.strengths.is_empty() {
        let lines: Vec<String> = card
            .strengths
            .iter()
            .map(|s| format!("• {}", escape(&render::strength_line(s))))
            .collect();
        body.extend(sections(&format!("*Strengths*\n{}", lines.join("\n"))));
    }
    let judged = view.judged;
    let mut judge = Vec::new();
    if let Some(commentary) = &judged.commentary {
        judge.push(escape(commentary));
    }
    for a in &judged.adjustments {
        let sign = if a.change > 0 { "+1" } else { "-1" };
        judge.push(format!(
            "{} {sign}: {} (“{}”)",
            escape(a.dimension.label()),
            escape(&a.reason),
            escape(&a.quote)
        ));
    }
    for f in &judged.findings {
        judge.push(format!("“{}”: {}", escape(&f.quote), escape(&f.note)));
    }
    if !judge.is_empty() {
        body.extend(sections(&format!("*Judge's notes*\n{}", judge.join("\n"))));
    }
    let notes: Vec<String> = card
        .notes
        .iter()
        .chain(&judged.notes)
        .map(|n| format!("• {}", escape(n)))
        .collect();
    if !notes.is_empty() {
        body.extend(sections(&format!(
            "*About this debrief*\n{}",
            notes.join("\n")
        )));
    }
    body.extend(sections(&format!(
        "*What good looks like*\n{}",
        escape(&reflow(&view.scenario.debrief))
    )));
    let buttons = Block::Buttons(vec![
        Button {
            label: "Full transcript".into(),
            action_id: Action::Transcript(view.drill.clone()).id(),
            style: None,
        },
        Button {
            label: "Drill again".into(),
            action_id: Action::DrillAgain(view.drill.clone()).id(),
            style: Some(Style::Primary),
        },
    ]);
    let fallback = format!("{}: overall {}/100", escape(&title), card.overall);
    pack(body, buttons, &fallback, &escape(&title))
}

/// Spreads blocks over messages of at most `BLOCKS_PER_MESSAGE`, each continuation headed
/// as one, with `last` (the buttons) at the end of the final message.
fn pack(body: Vec<Block>, last: Block, fallback: &str, title: &str) -> Vec<Message> {
    let continued = || Block::Context(format!("*{title} (continued)*"));
    let mut messages = Vec::new();
    let mut current = Message {
        text: fallback.to_string(),
        blocks: Vec::new(),
    };
    for block in body {
        if current.blocks.len() == BLOCKS_PER_MESSAGE {
            messages.push(std::mem::replace(
                &mut current,
                Message {
                    text: format!("{fallback} (continued)"),
                    blocks: vec![continued()],
                },
            ));
        }
        current.blocks.push(block);
    }
    if current.blocks.len() == BLOCKS_PER_MESSAGE {
        messages.push(std::mem::replace(
            &mut current,
            Message {
                text: format!("{fallback} (continued)"),
                blocks: vec![continued()],
            },
        ));
    }
    current.blocks.push(last);
    messages.push(current);
    messages
}

/// A reply to a command or click, as the ephemeral message Slack shows only to the asker.
/// A file it carries is sent apart (Slack's ephemeral messages hold no files).
pub fn reply(reply: &Reply) -> Message {
    let mut message = plain(&reply.text);
    if let Some(file) = &reply.file {
        message.blocks.push(Block::Context(format!(
            "`{}` follows in your direct messages with Spar.",
            escape(&file.name)
        )));
    }
    if !reply.buttons.is_empty() {
        message.blocks.push(buttons(&reply.buttons));
    }
    message
}

/// A message of the runtime's text with buttons under it (a peer drill's roles with "Show
/// my brief", the rating request with "Rate" and "Swap roles").
pub fn with_buttons(text: &str, reply_buttons: &[ReplyButton]) -> Message {
    let mut message = plain(text);
    // The buttons take one block of the fifty.
    message.blocks.truncate(BLOCKS_PER_MESSAGE - 1);
    if !reply_buttons.is_empty() {
        message.blocks.push(buttons(reply_buttons));
    }
    message
}

/// Why a drill cannot start in `channel`, when it cannot: a drill's thread must be where
/// Spar hears replies, which is channels, not direct messages.
pub fn no_drill_in(channel: &str) -> Option<&'static str> {
    channel.starts_with('D').then_some(
        "Drills run in a thread in a channel, where Spar hears your replies. Run `/spar solo` in a channel Spar is in.",
    )
}

fn buttons(buttons: &[ReplyButton]) -> Block {
    Block::Buttons(
        buttons
            .iter()
            .map(|b| Button {
                label: b.label.clone(),
                action_id: b.action.id(),
                style: Some(if b.danger {
                    Style::Danger
                } else {
                    Style::Primary
                }),
            })
            .collect(),
    )
}

// ----- what comes in -----

/// What `/spar …` asked for: a runtime command, or an answer given at once (help for a
/// subcommand Spar does not know, or arguments it cannot read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Command),
    Answer(String),
}

type Parser = fn(&[&str]) -> Result<Command, String>;

/// Each subcommand Slack understands and how its words become a `Command`. A subcommand is
/// one line here; its help comes from `chat::commands::SUBCOMMANDS`.
const PARSERS: &[(&str, Parser)] = &[
    ("solo", solo),
    ("end", |args| nothing_after("end", args, Command::End)),
    ("scenarios", |args| {
        nothing_after("scenarios", args, Command::Scenarios)
    }),
    ("history", |args| {
        nothing_after("history", args, Command::History)
    }),
    ("stats", |args| nothing_after("stats", args, Command::Stats)),
    ("forget", |args| {
        nothing_after("forget", args, Command::Forget)
    }),
    ("help", |_| Ok(Command::Help)),
    ("config", config),
    ("join", join),
    ("leave", |args| nothing_after("leave", args, Command::Leave)),
    ("pair", |args| nothing_after("pair", args, Command::Pair)),
    ("rounds", rounds),
];

/// Reads the text typed after `/spar`.
pub fn parse(text: &str) -> Parsed {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some((first, args)) = words.split_first() else {
        return Parsed::Run(Command::Help);
    };
    let name = first.to_lowercase();
    match PARSERS.iter().find(|(n, _)| *n == name) {
        Some((_, parser)) => match parser(args) {
            Ok(command) => Parsed::Run(command),
            Err(why) => Parsed::Answer(why),
        },
        None => Parsed::Answer(format!(
            "`/spar {}` is not a Spar command. {}",
            clip(first, 40),
            usage()
        )),
    }
}

/// The subcommands Slack understands, one a line.
fn usage() -> String {
    let mut out = String::from("Try one of these:\n");
    for (name, what) in SUBCOMMANDS {
        if PARSERS.iter().any(|(n, _)| n == name) {
            out.push_str(&format!("• `/spar {name}`: {what}.\n"));
        }
    }
    out
}

fn nothing_after(name: &str, args: &[&str], command: Command) -> Result<Command, String> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(format!(
            "`/spar {name}` takes nothing after it: {}.",
            describe(name).unwrap_or_default()
        ))
    }
}

/// `/spar solo [scenario] [difficulty]`, in either order; `scenario:` and `difficulty:`
/// prefixes (as `/spar scenarios` shows them) are read too.
fn solo(args: &[&str]) -> Result<Command, String> {
    const USAGE: &str = "Use `/spar solo [scenario] [gentle|standard|hostile]`; `/spar scenarios` lists the scenarios.";
    let mut scenario = None;
    let mut difficulty = None;
    for arg in args {
        let (key, value) = match arg.split_once(':') {
            Some((key, value)) if matches!(key, "scenario" | "difficulty") => (Some(key), value),
            _ => (None, *arg),
        };
        if value.is_empty() {
            return Err(USAGE.into());
        }
        let is_difficulty =
            key == Some("difficulty") || (key.is_none() && value.parse::<Difficulty>().is_ok());
        let slot = if is_difficulty {
            &mut difficulty
        } else {
            &mut scenario
        };
        if slot.replace(value.to_string()).is_some() {
            return Err(format!("That is one word too many. {USAGE}"));
        }
    }
    Ok(Command::Solo {
        scenario,
        difficulty,
    })
}

/// `/spar join [scenario] [difficulty] [solo]`, in any order: `solo` asks for a solo drill
/// when nobody else is waiting.
fn join(args: &[&str]) -> Result<Command, String> {
    const USAGE: &str = "Use `/spar join [scenario] [gentle|standard|hostile] [solo]`: `solo` gives you a solo drill if nobody else is waiting.";
    let mut solo_if_alone = false;
    let mut rest = Vec::with_capacity(args.len());
    for arg in args {
        if arg.eq_ignore_ascii_case("solo") {
            if std::mem::replace(&mut solo_if_alone, true) {
                return Err(format!("That is one word too many. {USAGE}"));
            }
        } else {
            rest.push(*arg);
        }
    }
    match solo(&rest) {
        Ok(Command::Solo {
            scenario,
            difficulty,
        }) => Ok(Command::Join {
            scenario,
            difficulty,
            solo_if_alone,
        }),
        _ => Err(format!("That is one word too many. {USAGE}")),
    }
}

/// `/spar rounds SUBCOMMAND …`: `create WEEKDAY HH:MM ZONE [minutes:N] [pool:a,b]`,
/// `list`, `pause|resume|delete ID`, `preview|optin|optout [ID]`.
fn rounds(args: &[&str]) -> Result<Command, String> {
    let usage = || {
        let mut out = String::from("`/spar rounds` takes one of these:\n");
        for (name, what) in ROUNDS_SUBCOMMANDS {
            out.push_str(&format!(
                "• `/spar rounds {name}{}`: {what}.\n",
                rounds_arguments(name)
            ));
        }
        out
    };
    let Some((first, rest)) = args.split_first() else {
        return Err(usage());
    };
    let id = |required: bool| -> Result<Option<i64>, String> {
        match rest {
            [] if !required => Ok(None),
            [id] => id.trim_start_matches('#').parse::<i64>().map(Some).map_err(|_| {
                format!(
                    "A round is named by its number, as `/spar rounds list` shows it, not \"{}\".",
                    clip(id, 40)
                )
            }),
            _ => Err(format!(
                "Use `/spar rounds {}{}`.",
                first.to_lowercase(),
                rounds_arguments(&first.to_lowercase())
            )),
        }
    };
    let command = match first.to_lowercase().as_str() {
        "create" => rounds_create(rest)?,
        "list" if rest.is_empty() => RoundsCommand::List,
        "pause" => RoundsCommand::Pause {
            id: id(true)?.unwrap_or_default(),
        },
        "resume" => RoundsCommand::Resume {
            id: id(true)?.unwrap_or_default(),
        },
        "delete" => RoundsCommand::Delete {
            id: id(true)?.unwrap_or_default(),
        },
        "preview" => RoundsCommand::Preview { id: id(false)? },
        "optin" => opt_in(rest)?,
        "optout" => RoundsCommand::OptOut { id: id(false)? },
        _ => return Err(usage()),
    };
    Ok(Command::Rounds(command))
}

/// `/spar rounds optin [ID] [difficulty] [solo]`, in any order after the id: `solo` asks for
/// a solo drill if the round leaves the member without a partner.
fn opt_in(args: &[&str]) -> Result<RoundsCommand, String> {
    const USAGE: &str = "Use `/spar rounds optin [ID] [gentle|standard|hostile] [solo]`: `solo` gives you a solo drill if the round leaves you without a partner.";
    let mut id = None;
    let mut difficulty = None;
    let mut solo_if_alone = false;
    for (i, arg) in args.iter().enumerate() {
        let word = arg.trim_start_matches('#');
        if i == 0 && word.parse::<i64>().is_ok() {
            id = word.parse::<i64>().ok();
        } else if arg.eq_ignore_ascii_case("solo") && !solo_if_alone {
            solo_if_alone = true;
        } else if difficulty.is_none() && arg.parse::<Difficulty>().is_ok() {
            difficulty = Some(arg.to_lowercase());
        } else {
            return Err(format!("I can't read \"{}\" here. {USAGE}", clip(arg, 40)));
        }
    }
    Ok(RoundsCommand::OptIn {
        id,
        difficulty,
        solo_if_alone,
    })
}

/// What follows a `/spar rounds` subcommand, as its usage shows it.
fn rounds_arguments(subcommand: &str) -> &'static str {
    match subcommand {
        "create" => " WEEKDAY HH:MM ZONE [minutes:N] [pool:id,id]",
        "pause" | "resume" | "delete" => " ID",
        "optin" => " [ID] [difficulty] [solo]",
        "preview" | "optout" => " [ID]",
        _ => "",
    }
}

/// `/spar rounds create monday 18:30 Europe/Berlin [minutes:20] [pool:a,b]`: the weekday,
/// time and zone are checked by the runtime, which names what is wrong with them.
fn rounds_create(args: &[&str]) -> Result<RoundsCommand, String> {
    const USAGE: &str = "Use `/spar rounds create WEEKDAY HH:MM ZONE [minutes:N] [pool:id,id]`, as in `/spar rounds create monday 18:30 Europe/Berlin minutes:20`.";
    let is_option = |a: &&str| {
        let key = a.split(':').next().unwrap_or_default().to_lowercase();
        a.contains(':') && matches!(key.as_str(), "minutes" | "pool")
    };
    let (options, fixed): (Vec<&str>, Vec<&str>) = args.iter().copied().partition(is_option);
    let [weekday, time, zone] = fixed.as_slice() else {
        return Err(USAGE.into());
    };
    let mut drill_minutes = None;
    let mut pool = None;
    for option in options {
        let (key, value) = option.split_once(':').unwrap_or_default();
        match (key.to_lowercase().as_str(), value) {
            ("minutes", n) => match n.parse::<u32>() {
                Ok(n) if n > 0 => drill_minutes = Some(n),
                _ => return Err(format!("`minutes:` takes a number of minutes. {USAGE}")),
            },
            ("pool", ids) if !ids.is_empty() => pool = Some(ids.to_string()),
            _ => return Err(USAGE.into()),
        }
    }
    Ok(RoundsCommand::Create {
        weekday: weekday.to_string(),
        time: time.to_string(),
        zone: zone.to_string(),
        drill_minutes,
        pool,
    })
}

/// `/spar config` shows the settings; `channel #name|any`, `difficulty LEVEL`, `limit N`
/// and `budget TOKENS` change them (several may follow one another).
fn config(args: &[&str]) -> Result<Command, String> {
    const USAGE: &str = "Use `/spar config`, or `/spar config channel #drills|any`, `difficulty gentle|standard|hostile`, `limit N` (0: none), `budget TOKENS` (model tokens per day; 0: Spar's default).";
    let mut change = ConfigChange::default();
    let mut words = args.iter();
    while let Some(key) = words.next() {
        let Some(value) = words.next() else {
            return Err(USAGE.into());
        };
        match key.to_lowercase().as_str() {
            "channel" if value.eq_ignore_ascii_case("any") => change.drill_channel = Some(None),
            "channel" => match channel_link(value).filter(|&len| len == value.len()) {
                Some(_) => {
                    let id = value[2..value.len() - 1]
                        .split('|')
                        .next()
                        .unwrap_or_default();
                    change.drill_channel = Some(Some(id.to_string()));
                }
                None => {
                    return Err(format!(
                        "Name the channel with `#`, as in `/spar config channel #drills`. {USAGE}"
                    ));
                }
            },
            "difficulty" => change.default_difficulty = Some(value.to_string()),
            "limit" => match value.parse::<u32>() {
                Ok(limit) => change.daily_limit = Some(limit),
                Err(_) => return Err(format!("The limit is a number of drills. {USAGE}")),
            },
            "budget" => match value.replace([',', '_'], "").parse::<u64>() {
                Ok(budget) => change.token_budget = Some(budget),
                Err(_) => return Err(format!("The budget is a number of tokens. {USAGE}")),
            },
            _ => return Err(USAGE.into()),
        }
    }
    Ok(Command::Config(change))
}

pub fn workspace(team: &SlackTeamId, domain: Option<&str>) -> WorkspaceRef {
    WorkspaceRef {
        platform: PLATFORM.into(),
        external_id: team.0.clone(),
        name: domain.unwrap_or(&team.0).to_string(),
    }
}

/// A Slack user as Spar knows them; the name is the best the payload gives until their
/// profile is read.
pub fn person(user: &SlackUserId, name: Option<&str>) -> PersonRef {
    PersonRef {
        platform: PLATFORM.into(),
        platform_user_id: user.0.clone(),
        display_name: name
            .filter(|n| !n.is_empty())
            .unwrap_or(&user.0)
            .to_string(),
    }
}

/// Who ran a slash command, from where. Slack sends no thread with a slash command; its
/// trigger id is unique to the invocation.
pub fn command_invocation(event: &SlackCommandEvent) -> Invocation {
    Invocation {
        event_id: event.trigger_id.0.clone(),
        person: person(&event.user_id, None),
        workspace: workspace(&event.team_id, event.team_domain.as_deref()),
        channel: event.channel_id.0.clone(),
        thread: None,
        parent_channel: None,
        admin: false,
    }
}

/// A message event as the runtime reads it: a person's reply in a thread. Edits,
/// deletions, joins and other subtypes are not turns; bots' messages are marked. `event_id`
/// is the delivery's id, the same on every retry of it.
pub fn message(event_id: &str, event: &SlackMessageEvent) -> Option<runtime::Message> {
    if !matches!(
        event.subtype,
        None | Some(SlackMessageEventType::ThreadBroadcast | SlackMessageEventType::BotMessage)
    ) {
        return None;
    }
    let thread = event.origin.thread_ts.as_ref()?;
    let channel = event.origin.channel.as_ref()?;
    let text = event.content.as_ref()?.text.as_deref()?;
    if text.trim().is_empty() {
        return None;
    }
    let from_bot =
        event.sender.bot_id.is_some() || event.subtype == Some(SlackMessageEventType::BotMessage);
    // A bot posting without a user (an integration) is no one who could take part.
    let author = event.sender.user.as_ref()?;
    Some(runtime::Message {
        event_id: event_id.to_string(),
        author: person(author, None),
        from_bot,
        thread: thread.0.clone(),
        channel: Some(channel.0.clone()),
        text: text.to_string(),
    })
}

/// A deleted message that may be a drill's thread root: its channel and `ts`.
pub fn deleted(event: &SlackMessageEvent) -> Option<(String, String)> {
    if event.subtype != Some(SlackMessageEventType::MessageDeleted) {
        return None;
    }
    Some((
        event.origin.channel.as_ref()?.0.clone(),
        event.deleted_ts.as_ref()?.0.clone(),
    ))
}

/// The channel a message event says was archived (`channel_archive` in a public channel,
/// `group_archive` in a private one): the drills in it can go no further.
pub fn archived(event: &SlackMessageEvent) -> Option<String> {
    let archived = match &event.subtype {
        Some(SlackMessageEventType::ChannelArchive) => true,
        Some(SlackMessageEventType::Other(subtype)) => subtype == "group_archive",
        _ => false,
    };
    archived
        .then(|| event.origin.channel.as_ref().map(|c| c.0.clone()))
        .flatten()
}

/// A click on one of Spar's buttons: who clicked where, and what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    pub invocation: Invocation,
    pub action: Action,
}

/// The click behind a `block_actions` payload, or `None` for a button Spar did not make.
pub fn click(event: &SlackInteractionBlockActionsEvent) -> Option<Click> {
    let action = event
        .actions
        .as_ref()?
        .iter()
        .find_map(|a| Action::parse(&a.action_id.0))?;
    let user = event.user.as_ref()?;
    let channel = match &event.container {
        SlackInteractionActionContainer::Message(m) => m.channel_id.clone(),
        SlackInteractionActionContainer::MessageAttachment(m) => m.channel_id.clone(),
        SlackInteractionActionContainer::View(_) => None,
    }
    .or_else(|| event.channel.as_ref().map(|c| c.id.clone()))?;
    let thread = event
        .message
        .as_ref()
        .and_then(|m| m.origin.thread_ts.clone())
        .map(|t| t.0);
    Some(Click {
        invocation: Invocation {
            event_id: event.trigger_id.0.clone(),
            person: person(&user.id, user.name.as_deref().or(user.username.as_deref())),
            workspace: workspace(&event.team.id, event.team.domain.as_deref()),
            channel: channel.0,
            thread,
            parent_channel: None,
            admin: false,
        },
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use spar_core::judge::JudgedScorecard;
    use spar_core::scenario::ScenarioLibrary;
    use spar_core::store::DrillId;

    fn chars(text: &str) -> usize {
        text.chars().count()
    }

    #[test]
    fn control_characters_are_escaped_and_only_channel_links_survive() {
        assert_eq!(
            mrkdwn("<!channel> a & b > c <@U1> **now**"),
            "&lt;!channel&gt; a &amp; b &gt; c &lt;@U1&gt; *now*"
        );
        assert_eq!(
            mrkdwn("Your drill is ready in <#C0FAKE1>: X."),
            "Your drill is ready in <#C0FAKE1>: X."
        );
        assert_eq!(
            mrkdwn("<#C1|general> <#c1> <#>"),
            "<#C1|general> &lt;#c1&gt; &lt;#&gt;"
        );
        assert_eq!(escape("é <b>"), "é &lt;b&gt;");
    }

    #[test]
    fn subcommands_and_their_arguments_are_read_and_mistakes_answered() {
        let run = |text: &str| parse(text);
        assert_eq!(run(""), Parsed::Run(Command::Help));
        assert_eq!(run("  END "), Parsed::Run(Command::End));
        assert_eq!(
            run("solo latency-regression hostile"),
            Parsed::Run(Command::Solo {
                scenario: Some("latency-regression".into()),
                difficulty: Some("hostile".into())
            })
        );
        assert_eq!(
            run("solo gentle"),
            Parsed::Run(Command::Solo {
                scenario: None,
                difficulty: Some("gentle".into())
            })
        );
        assert_eq!(
            run("solo scenario:talent-allocation"),
            Parsed::Run(Command::Solo {
                scenario: Some("talent-allocation".into()),
                difficulty: None
            })
        );
        // An unknown scenario is the runtime's to answer, with suggestions.
        assert_eq!(
            run("solo nope"),
            Parsed::Run(Command::Solo {
                scenario: Some("nope".into()),
                difficulty: None
            })
        );
        for bad in [
            "solo a b c",
            "solo hostile gentle",
            "end now",
            "config channel",
        ] {
            assert!(matches!(run(bad), Parsed::Answer(_)), "{bad}");
        }
        let Parsed::Answer(unknown) = run("dance now") else {
            panic!("an unknown subcommand is answered");
        };
        assert!(unknown.starts_with("`/spar dance` is not a Spar command."));
        assert!(unknown.contains("• `/spar solo`: Start a solo drill"));
        assert!(unknown.contains("• `/spar end`:"));
        let Parsed::Answer(sneaky) = run("<!here>") else {
            panic!("answered");
        };
        assert!(
            plain(&sneaky).text.starts_with("`/spar &lt;!here&gt;`"),
            "answers are escaped when shown: {sneaky}"
        );
    }

    #[test]
    fn every_subcommand_of_the_help_is_understood_on_slack() {
        for (name, _) in SUBCOMMANDS {
            assert!(
                PARSERS.iter().any(|(n, _)| n == name),
                "`/spar {name}` has no Slack parser"
            );
        }
    }

    #[test]
    fn the_peer_commands_are_read_and_their_mistakes_answered() {
        assert_eq!(
            parse("join hostile latency-regression SOLO"),
            Parsed::Run(Command::Join {
                scenario: Some("latency-regression".into()),
                difficulty: Some("hostile".into()),
                solo_if_alone: true,
            })
        );
        assert_eq!(
            parse("join"),
            Parsed::Run(Command::Join {
                scenario: None,
                difficulty: None,
                solo_if_alone: false,
            })
        );
        assert_eq!(parse("leave"), Parsed::Run(Command::Leave));
        assert_eq!(parse("pair"), Parsed::Run(Command::Pair));
        for bad in ["join a b c", "join solo solo", "leave now", "pair all"] {
            assert!(matches!(parse(bad), Parsed::Answer(_)), "{bad}");
        }

        let rounds = |text: &str| match parse(text) {
            Parsed::Run(Command::Rounds(command)) => Ok(command),
            Parsed::Run(other) => panic!("{text}: {other:?}"),
            Parsed::Answer(why) => Err(why),
        };
        assert_eq!(
            rounds(
                "rounds create Monday 18:30 Europe/Berlin minutes:20 pool:latency-regression,talent-allocation"
            ),
            Ok(RoundsCommand::Create {
                weekday: "Monday".into(),
                time: "18:30".into(),
                zone: "Europe/Berlin".into(),
                drill_minutes: Some(20),
                pool: Some("latency-regression,talent-allocation".into()),
            })
        );
        assert_eq!(
            rounds("rounds create friday 09:00 UTC"),
            Ok(RoundsCommand::Create {
                weekday: "friday".into(),
                time: "09:00".into(),
                zone: "UTC".into(),
                drill_minutes: None,
                pool: None,
            })
        );
        assert_eq!(rounds("rounds list"), Ok(RoundsCommand::List));
        assert_eq!(rounds("rounds pause 3"), Ok(RoundsCommand::Pause { id: 3 }));
        assert_eq!(
            rounds("rounds resume #3"),
            Ok(RoundsCommand::Resume { id: 3 })
        );
        assert_eq!(
            rounds("rounds delete 4"),
            Ok(RoundsCommand::Delete { id: 4 })
        );
        assert_eq!(
            rounds("rounds preview"),
            Ok(RoundsCommand::Preview { id: None })
        );
        assert_eq!(
            rounds("rounds optin 2"),
            Ok(RoundsCommand::OptIn {
                id: Some(2),
                difficulty: None,
                solo_if_alone: false,
            })
        );
        assert_eq!(
            rounds("rounds optin solo Hostile"),
            Ok(RoundsCommand::OptIn {
                id: None,
                difficulty: Some("hostile".into()),
                solo_if_alone: true,
            })
        );
        assert!(rounds("rounds optin 2 solo solo").is_err());
        assert!(rounds("rounds optin brutal").is_err());
        assert_eq!(
            rounds("rounds optout"),
            Ok(RoundsCommand::OptOut { id: None })
        );

        let why = rounds("rounds").expect_err("a subcommand is needed");
        for (name, _) in ROUNDS_SUBCOMMANDS {
            assert!(why.contains(&format!("`/spar rounds {name}")), "{why}");
        }
        assert!(rounds("rounds pause").is_err(), "pause names its round");
        assert!(
            rounds("rounds pause soon")
                .expect_err("a number")
                .contains("by its number")
        );
        assert!(rounds("rounds create monday 18:30").is_err());
        assert!(
            rounds("rounds create monday 18:30 UTC minutes:none")
                .expect_err("minutes are a number")
                .contains("`minutes:`")
        );
        assert!(rounds("rounds list all").is_err());
    }

    #[test]
    fn config_reads_a_channel_link_a_difficulty_a_limit_and_a_budget() {
        assert_eq!(
            parse("config channel <#C0FAKE9|drills> difficulty hostile limit 3"),
            Parsed::Run(Command::Config(ConfigChange {
                drill_channel: Some(Some("C0FAKE9".into())),
                default_difficulty: Some("hostile".into()),
                daily_limit: Some(3),
                public_threads: None,
                token_budget: None,
            }))
        );
        assert_eq!(
            parse("config budget 200,000"),
            Parsed::Run(Command::Config(ConfigChange {
                token_budget: Some(200_000),
                ..ConfigChange::default()
            }))
        );
        assert!(matches!(parse("config budget lots"), Parsed::Answer(_)));
        assert!(matches!(parse("config budget -5"), Parsed::Answer(_)));
        assert_eq!(
            parse("config channel any"),
            Parsed::Run(Command::Config(ConfigChange {
                drill_channel: Some(None),
                ..ConfigChange::default()
            }))
        );
        assert!(matches!(parse("config channel #drills"), Parsed::Answer(_)));
    }

    fn event(value: serde_json::Value) -> SlackMessageEvent {
        serde_json::from_value(value).expect("a message event")
    }

    #[test]
    fn a_reply_in_a_thread_is_a_turn_and_edits_and_top_level_messages_are_not() {
        let reply = event(json!({
            "type": "message", "user": "U1", "text": "What drives the date?",
            "ts": "1700000001.000200", "thread_ts": "1700000000.000100", "channel": "C1",
            "channel_type": "channel", "client_msg_id": "x"
        }));
        let turn = message("Ev1", &reply).expect("a turn");
        assert_eq!(turn.event_id, "Ev1");
        assert_eq!(turn.thread, "1700000000.000100");
        assert_eq!(turn.channel.as_deref(), Some("C1"));
        assert_eq!(turn.author.platform_user_id, "U1");
        assert!(!turn.from_bot);

        let top = event(
            json!({"type": "message", "user": "U1", "text": "hi", "ts": "1.2", "channel": "C1"}),
        );
        assert!(message("Ev2", &top).is_none());
        let edit = event(json!({
            "type": "message", "subtype": "message_changed", "channel": "C1", "ts": "1.3",
            "hidden": true,
            "message": {"type": "message", "user": "U1", "text": "edited", "ts": "1.1", "thread_ts": "1.0"}
        }));
        assert!(message("Ev3", &edit).is_none());
        let bot = event(json!({
            "type": "message", "user": "U9", "bot_id": "B9", "text": "beep",
            "ts": "1.4", "thread_ts": "1.0", "channel": "C1"
        }));
        assert!(message("Ev4", &bot).is_some_and(|m| m.from_bot));
        let joined = event(json!({
            "type": "message", "subtype": "channel_join", "user": "U1", "text": "joined",
            "ts": "1.5", "thread_ts": "1.0", "channel": "C1"
        }));
        assert!(message("Ev5", &joined).is_none());
        let gone = event(json!({
            "type": "message", "subtype": "message_deleted", "channel": "C1", "ts": "1.6",
            "deleted_ts": "1.0", "hidden": true
        }));
        assert_eq!(deleted(&gone), Some(("C1".into(), "1.0".into())));
        assert_eq!(deleted(&reply), None);
        for (subtype, channel) in [("channel_archive", "C1"), ("group_archive", "G1")] {
            let archive = event(json!({
                "type": "message", "subtype": subtype, "user": "U1", "text": "archived the channel",
                "ts": "1.7", "channel": channel
            }));
            assert_eq!(archived(&archive).as_deref(), Some(channel));
            assert!(message("Ev6", &archive).is_none());
        }
        assert_eq!(archived(&reply), None);
        assert_eq!(archived(&joined), None);
    }

    #[test]
    fn a_click_on_a_scorecard_button_in_a_thread_reads_as_its_action() {
        let drill = DrillId("d-1".into());
        let payload = json!({
            "type": "block_actions",
            "user": {"id": "U1", "username": "ana", "name": "ana", "team_id": "T1"},
            "api_app_id": "A1", "token": "x",
            "container": {"type": "message", "message_ts": "1.9", "channel_id": "C1", "is_ephemeral": false},
            "trigger_id": "tr-1",
            "team": {"id": "T1", "domain": "acme"},
            "channel": {"id": "C1", "name": "general"},
            "message": {"type": "message", "user": "UBOT", "text": "card", "ts": "1.9", "thread_ts": "1.0"},
            "actions": [{"action_id": Action::DrillAgain(drill.clone()).id(), "block_id": "b", "type": "button", "action_ts": "1.99"}]
        });
        let SlackInteractionEvent::BlockActions(event) =
            serde_json::from_value(payload).expect("an interaction")
        else {
            panic!("block actions");
        };
        let click = click(&event).expect("one of Spar's buttons");
        assert_eq!(click.action, Action::DrillAgain(drill));
        assert_eq!(click.invocation.thread.as_deref(), Some("1.0"));
        assert_eq!(click.invocation.channel, "C1");
        assert_eq!(click.invocation.workspace.external_id, "T1");
        assert_eq!(click.invocation.person.display_name, "ana");
    }

    fn view_with(flags: usize, quote_len: usize) -> (JudgedScorecard, spar_core::Scenario) {
        crate::chat::fixtures::scorecard_with(flags, |_| {
            format!("<!here> {}", "q".repeat(quote_len))
        })
    }

    fn texts(message: &Message) -> Vec<&str> {
        message
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Section(t) | Block::Context(t) | Block::Header(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_scorecard_has_a_header_the_overall_timed_quoted_flags_bars_and_two_buttons() {
        let (judged, scenario) = view_with(4, 20);
        let drill = DrillId("d1".into());
        let messages = scorecard(&ScorecardView {
            drill: &drill,
            scenario: &scenario,
            judged: &judged,
        });
        assert_eq!(messages.len(), 1);
        let card = &messages[0];
        assert!(matches!(&card.blocks[0], Block::Header(h) if h.starts_with("Debrief · ")));
        let texts = texts(card);
        assert!(texts[1].starts_with("*Overall 42/100*"));
        assert!(texts[2].starts_with("*0:00 · Defensiveness*\n>&lt;!here&gt; qqq"));
        assert!(texts[2].ends_with("*Try instead:* Ask what looks wrong."));
        assert!(texts[3].starts_with("*0:15 · Defensiveness*"));
        assert!(texts[4].starts_with("*Missed: next step*"));
        assert!(texts.iter().any(|t| t.contains("`██░░` 2/4 curiosity")));
        assert!(
            texts
                .iter()
                .any(|t| t.contains("`██░░` 2/4 evidence both ways"))
        );
        assert!(
            texts
                .iter()
                .all(|t| !t.contains("_process") && !t.contains("evidence_both"))
        );
        assert!(texts.contains(
            &"*Strengths*\n• Asked about their reasoning: \"What is the deadline for?\""
        ));
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("*What good looks like*"))
        );
        let Some(Block::Buttons(buttons)) = card.blocks.last() else {
            panic!("the buttons come last");
        };
        let labels: Vec<&str> = buttons.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, vec!["Full transcript", "Drill again"]);
        assert_eq!(
            Action::parse(&buttons[1].action_id),
            Some(Action::DrillAgain(drill.clone()))
        );
        // slack-morphism takes every block.
        let content = serde_json::to_value(card.content()).expect("json");
        assert_eq!(content["blocks"][0]["type"], "header");
        assert_eq!(
            content["blocks"].as_array().map(Vec::len),
            Some(card.blocks.len())
        );
    }

    #[test]
    fn a_long_scorecard_continues_in_another_message_and_never_passes_a_limit() {
        for (flags, quote) in [(0, 0), (10, 2900), (48, 10), (60, 5000), (120, 300)] {
            let (judged, scenario) = view_with(flags, quote);
            let drill = DrillId("d1".into());
            let messages = scorecard(&ScorecardView {
                drill: &drill,
                scenario: &scenario,
                judged: &judged,
            });
            let mut flag_heads = 0;
            for (i, message) in messages.iter().enumerate() {
                assert!(message.blocks.len() <= BLOCKS_PER_MESSAGE, "{flags}: {i}");
                for block in &message.blocks {
                    match block {
                        Block::Section(t) | Block::Context(t) => {
                            assert!(chars(t) <= SECTION_LIMIT, "{flags}: {}", chars(t))
                        }
                        Block::Header(t) => assert!(chars(t) <= HEADER_LIMIT),
                        _ => {}
                    }
                }
                let has_buttons = message
                    .blocks
                    .iter()
                    .any(|b| matches!(b, Block::Buttons(_)));
                assert_eq!(has_buttons, i == messages.len() - 1, "buttons once, last");
                if i > 0 {
                    assert!(texts(message)[0].contains("(continued)"));
                }
                flag_heads += texts(message)
                    .iter()
                    .filter(|t| {
                        t.contains("Defensiveness*") || t.starts_with("*Missed: next step*")
                    })
                    .count();
            }
            assert_eq!(flag_heads, flags, "every flag is shown, once");
            if flags >= 60 {
                assert!(
                    messages.len() >= 2,
                    "{flags} flags fill more than one message"
                );
            }
        }
    }

    #[test]
    fn the_brief_names_the_candidate_and_keeps_the_hidden_brief_hidden() {
        let library = ScenarioLibrary::embedded().expect("library");
        let scenario = library.get("latency-regression").expect("scenario");
        let candidate = PersonRef {
            platform: "slack".into(),
            platform_user_id: "U1".into(),
            display_name: "Ana".into(),
        };
        let message = brief(&BriefView {
            scenario,
            difficulty: Difficulty::Hostile,
            time_limit_s: 480,
            candidate: &candidate,
        });
        let shown = texts(&message).join("\n");
        assert!(shown.starts_with("<@U1>, your drill starts now."));
        assert!(shown.contains("40% regression"));
        assert!(shown.contains("Dr. Priya Raman"));
        assert!(shown.contains("hostile") && shown.contains("8:00"));
        for secret in &scenario.brief.reveals {
            assert!(
                !shown.contains(secret.as_str()),
                "the hidden brief stays hidden"
            );
        }
    }

    #[test]
    fn a_reply_with_buttons_carries_them_and_long_text_is_split_into_sections() {
        let with_button = reply(&Reply {
            buttons: vec![ReplyButton {
                label: "Delete my drills".into(),
                action: Action::ForgetConfirmed,
                danger: true,
            }],
            ..Reply::private("This deletes your 3 drills.")
        });
        assert_eq!(
            with_button.blocks.last(),
            Some(&Block::Buttons(vec![Button {
                label: "Delete my drills".into(),
                action_id: "spar:forget".into(),
                style: Some(Style::Danger)
            }]))
        );
        let stats = reply(&Reply {
            file: Some(crate::chat::Attachment {
                name: "spar-progress.png".into(),
                bytes: vec![1],
            }),
            ..Reply::private("Your scores")
        });
        assert_eq!(
            stats.blocks.last(),
            Some(&Block::Context(
                "`spar-progress.png` follows in your direct messages with Spar.".into()
            ))
        );
        assert!(no_drill_in("D0FAKE1").is_some());
        assert!(no_drill_in("C0FAKE1").is_none() && no_drill_in("G0FAKE1").is_none());
        let endless = plain(&"Word and more. ".repeat(12_000));
        assert_eq!(endless.blocks.len(), BLOCKS_PER_MESSAGE);
        assert!(
            matches!(endless.blocks.last(), Some(Block::Context(t)) if t.contains("did not fit"))
        );
        assert!(chars(&endless.text) <= TEXT_LIMIT);
        let offered = with_buttons(
            &"Word. ".repeat(30_000),
            &[ReplyButton {
                label: "Rate".into(),
                action: Action::ForgetConfirmed,
                danger: false,
            }],
        );
        assert_eq!(offered.blocks.len(), BLOCKS_PER_MESSAGE);
        assert!(
            matches!(offered.blocks.last(), Some(Block::Buttons(_))),
            "the buttons stay"
        );
        let long = plain(&"Word and <more>. ".repeat(400));
        assert!(long.blocks.len() >= 3);
        assert!(
            long.blocks
                .iter()
                .all(|b| matches!(b, Block::Section(t) if chars(t) <= SECTION_LIMIT))
        );
    }
}
