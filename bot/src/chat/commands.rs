//! The `/spar` commands as every chat surface offers them, in the platform's own form:
//! what a person asked for (`Command`, `Action`), who and where they are (`Invocation`),
//! and what they get back (`Reply`). The descriptions here are the help text everywhere:
//! registered with Discord, listed by `/spar help`, shown for Slack's usage hints.

use spar_core::store::{DrillId, PersonRef, WorkspaceRef};

/// Who asked, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The platform's id for this command or click; a redelivery carries the same one.
    pub event_id: String,
    pub person: PersonRef,
    pub workspace: WorkspaceRef,
    /// The channel it was typed in: a Discord thread's own id inside a thread, the
    /// channel's on Slack.
    pub channel: String,
    /// The thread it was typed in, where the platform says (Slack's `thread_ts`).
    pub thread: Option<String>,
    /// The channel a Discord thread hangs from, when it was typed in one: a new drill's
    /// thread opens there.
    pub parent_channel: Option<String>,
    /// Whether they may change the workspace's settings (Manage Server, a Slack admin).
    pub admin: bool,
}

/// A `/spar` subcommand with its arguments, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Solo {
        scenario: Option<String>,
        difficulty: Option<String>,
    },
    End,
    Scenarios,
    History,
    Stats,
    Forget,
    Help,
    Config(ConfigChange),
    /// Wait in this channel's queue for a peer drill.
    Join {
        scenario: Option<String>,
        difficulty: Option<String>,
        /// A solo drill against the engine rather than waiting, if nobody else is there.
        solo_if_alone: bool,
    },
    Leave,
    /// Pair everyone waiting in this channel's queue and open their threads.
    Pair,
    Rounds(RoundsCommand),
}

/// `/spar rounds`: weekly peer rounds. Creating, pausing, deleting and previewing need the
/// right to manage the server; anyone opts in or out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundsCommand {
    Create {
        weekday: String,
        /// `HH:MM` on a 24-hour clock, in `zone`.
        time: String,
        /// An IANA time zone, such as `Europe/Berlin`.
        zone: String,
        drill_minutes: Option<u32>,
        /// Scenario ids separated by commas; none means any scenario.
        pool: Option<String>,
    },
    List,
    Pause {
        id: i64,
    },
    Resume {
        id: i64,
    },
    Delete {
        id: i64,
    },
    /// The next round's groups, without opening anything. `None`: the channel's schedule.
    Preview {
        id: Option<i64>,
    },
    OptIn {
        id: Option<i64>,
        difficulty: Option<String>,
        /// A solo drill against the engine if the round leaves this member without a partner.
        solo_if_alone: bool,
    },
    OptOut {
        id: Option<i64>,
    },
}

/// What `/spar config` changes; fields left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChange {
    /// `Some(None)` lets drills start in any channel again.
    pub drill_channel: Option<Option<String>>,
    pub public_threads: Option<bool>,
    pub default_difficulty: Option<String>,
    /// 0 removes the limit.
    pub daily_limit: Option<u32>,
    /// Model tokens the workspace may spend per UTC day; 0 returns to the instance's
    /// default.
    pub token_budget: Option<u64>,
}

/// A button a person clicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send the drill's whole transcript with its scorecard, as a file.
    Transcript(DrillId),
    /// Start another drill on the same scenario and difficulty.
    DrillAgain(DrillId),
    /// Yes, delete my drills.
    ForgetConfirmed,
    /// Rate a peer drill's candidate: a surface shows its form and calls `Runtime::rate`.
    Rate(DrillId),
    /// Start the mirror drill of a peer drill: the same group with roles swapped.
    SwapRoles(DrillId),
    /// Show the antagonist player their hidden brief again, privately.
    Brief(DrillId),
}

const ACTION_PREFIX: &str = "spar";

impl Action {
    /// The id a button carries, so a click can be read back by any instance.
    pub fn id(&self) -> String {
        match self {
            Action::Transcript(drill) => format!("{ACTION_PREFIX}:transcript:{drill}"),
            Action::DrillAgain(drill) => format!("{ACTION_PREFIX}:again:{drill}"),
            Action::ForgetConfirmed => format!("{ACTION_PREFIX}:forget"),
            Action::Rate(drill) => format!("{ACTION_PREFIX}:rate:{drill}"),
            Action::SwapRoles(drill) => format!("{ACTION_PREFIX}:swap:{drill}"),
            Action::Brief(drill) => format!("{ACTION_PREFIX}:brief:{drill}"),
        }
    }

    /// The action behind a button id, or `None` for one Spar did not make.
    pub fn parse(id: &str) -> Option<Action> {
        let mut parts = id.splitn(3, ':');
        if parts.next() != Some(ACTION_PREFIX) {
            return None;
        }
        match (parts.next()?, parts.next()) {
            ("transcript", Some(drill)) if !drill.is_empty() => {
                Some(Action::Transcript(DrillId(drill.to_string())))
            }
            ("again", Some(drill)) if !drill.is_empty() => {
                Some(Action::DrillAgain(DrillId(drill.to_string())))
            }
            ("forget", None) => Some(Action::ForgetConfirmed),
            ("rate", Some(drill)) if !drill.is_empty() => {
                Some(Action::Rate(DrillId(drill.to_string())))
            }
            ("swap", Some(drill)) if !drill.is_empty() => {
                Some(Action::SwapRoles(DrillId(drill.to_string())))
            }
            ("brief", Some(drill)) if !drill.is_empty() => {
                Some(Action::Brief(DrillId(drill.to_string())))
            }
            _ => None,
        }
    }
}

/// A file sent with a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A button offered with a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub action: Action,
    /// Drawn as a warning: the click deletes something.
    pub danger: bool,
}

/// The answer to a command or a click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    /// Shown only to the person who asked (ephemeral).
    pub private: bool,
    pub file: Option<Attachment>,
    pub buttons: Vec<Button>,
}

impl Reply {
    /// A reply only the asker sees.
    pub fn private(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            private: true,
            file: None,
            buttons: Vec::new(),
        }
    }
}

/// The subcommands and what each does: the help text on every platform.
pub const SUBCOMMANDS: &[(&str, &str)] = &[
    (
        "solo",
        "Start a solo drill: the antagonist pushes back in a thread, and a scorecard follows",
    ),
    (
        "end",
        "End your drill now and get its scorecard (in the drill's thread, or your live one)",
    ),
    ("scenarios", "List the scenarios you can drill"),
    (
        "history",
        "Your past drills, newest first, with scores and flags",
    ),
    (
        "stats",
        "Your scores over time, with a chart; admins also see today's tokens and drills here",
    ),
    ("forget", "Delete all your drills and scores (asks first)"),
    ("help", "What each /spar command does"),
    (
        "config",
        "Server settings: drill channel, privacy, difficulty, daily drill limit, token budget (Manage Server)",
    ),
    (
        "join",
        "Wait in this channel's queue for a peer drill (optionally a solo drill if nobody comes)",
    ),
    ("leave", "Leave this channel's peer queue"),
    (
        "pair",
        "Pair everyone waiting in this channel and open a private thread per group",
    ),
    (
        "rounds",
        "Weekly peer rounds: opt in or out; admins create, list, pause, delete, preview",
    ),
];

/// The `/spar rounds` subcommands and what each does.
pub const ROUNDS_SUBCOMMANDS: &[(&str, &str)] = &[
    (
        "create",
        "Set up a weekly round in this channel: weekday, time, time zone (Manage Server)",
    ),
    ("list", "This server's rounds, with the next start of each"),
    (
        "pause",
        "Pause a round's schedule; nothing opens until resumed (Manage Server)",
    ),
    ("resume", "Resume a paused round's schedule (Manage Server)"),
    (
        "delete",
        "Delete a round's schedule and its opt-ins (Manage Server)",
    ),
    (
        "preview",
        "Show the next round's groups without opening anything (Manage Server)",
    ),
    (
        "optin",
        "Take part in a round: you are paired when it starts",
    ),
    ("optout", "Stop taking part in a round"),
];

/// What a `/spar rounds` subcommand does, from `ROUNDS_SUBCOMMANDS`.
pub fn describe_rounds(subcommand: &str) -> Option<&'static str> {
    ROUNDS_SUBCOMMANDS
        .iter()
        .find(|(name, _)| *name == subcommand)
        .map(|(_, what)| *what)
}

/// What a subcommand does, from `SUBCOMMANDS`.
pub fn describe(subcommand: &str) -> Option<&'static str> {
    SUBCOMMANDS
        .iter()
        .find(|(name, _)| *name == subcommand)
        .map(|(_, what)| *what)
}

/// `/spar help`: one line per subcommand.
pub fn help() -> String {
    let mut out = String::from(
        "**Spar** drills you on disagreeing with a senior person without escalating, getting defensive, folding, or making it personal.\n",
    );
    for (name, what) in SUBCOMMANDS {
        out.push_str(&format!("`/spar {name}`: {what}.\n"));
    }
    for (name, what) in ROUNDS_SUBCOMMANDS {
        out.push_str(&format!("`/spar rounds {name}`: {what}.\n"));
    }
    out
}

/// Whether `person` is the same as `other` on the same platform.
pub(crate) fn same_person(person: &PersonRef, other: &PersonRef) -> bool {
    person.platform == other.platform && person.platform_user_id == other.platform_user_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_button_id_reads_back_as_its_action_and_foreign_ids_are_not_ours() {
        for action in [
            Action::Transcript(DrillId("d-1".into())),
            Action::DrillAgain(DrillId("d-2".into())),
            Action::ForgetConfirmed,
            Action::Rate(DrillId("d-3".into())),
            Action::SwapRoles(DrillId("d-4".into())),
            Action::Brief(DrillId("d-5".into())),
        ] {
            assert_eq!(Action::parse(&action.id()), Some(action));
        }
        for foreign in [
            "",
            "other:forget",
            "spar:transcript:",
            "spar:nope",
            "spar:forget:x",
        ] {
            assert_eq!(Action::parse(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn every_subcommand_has_help() {
        let help = help();
        for (name, _) in SUBCOMMANDS {
            assert!(help.contains(&format!("/spar {name}")));
            assert!(
                describe(name).is_some_and(|d| d.len() <= 100),
                "Discord caps descriptions at 100"
            );
        }
        for (name, _) in ROUNDS_SUBCOMMANDS {
            assert!(help.contains(&format!("/spar rounds {name}")));
            assert!(describe_rounds(name).is_some_and(|d| d.len() <= 100));
        }
    }
}
