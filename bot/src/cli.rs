//! The command line: one subcommand per job. Doc comments here are the help users see.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Spar: practise disagreeing with a senior person without escalating, getting defensive,
/// folding, or making it personal. Drills run in the terminal; `spar practice` starts one.
#[derive(Debug, Parser)]
#[command(
    name = "spar",
    version,
    long_about = None,
    after_help = "The antagonist is scripted unless a model is configured (SPAR_LLM_MODEL, \
                  SPAR_LLM_BASE_URL); settings are read from spar.toml in the config directory, \
                  then the environment. Every drill is kept: see history, stats, export, forget."
)]
pub struct Cli {
    /// A settings file (TOML). Default: spar.toml in the user's config directory, if present.
    #[arg(long, global = true, env = "SPAR_CONFIG")]
    pub config: Option<PathBuf>,

    /// A directory of scenario files that add to or override the built-in ones.
    #[arg(long, global = true, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,

    /// Where drills are kept: a sqlite:// file or a postgres:// URL.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a drill in the terminal against the antagonist.
    Practice(PracticeArgs),
    /// List or check scenarios.
    #[command(subcommand)]
    Scenarios(ScenariosCommand),
    /// Score a transcript file (or - for standard input) and print its debrief scorecard.
    Score {
        /// A JSON transcript: {"scenario": ..., "turns": [{"role", "at_s", "text"}]}. A
        /// scenario it names must be one Spar knows.
        file: PathBuf,
        /// text for reading, json for programs, markdown for notes.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Measure the scorer: flag precision and recall on labelled drills, or rank
    /// correlation with human receptiveness ratings.
    Eval(EvalArgs),
    /// Measure scoring throughput in MB of transcript text per second on one core, or with
    /// `pairing`, the time to pair a large queue.
    Bench {
        /// How much transcript text to score per run, in MB.
        #[arg(long, default_value_t = 20.0)]
        megabytes: f64,
        /// How many runs to time; the fastest, median and slowest are shown.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[command(subcommand)]
        what: Option<BenchCommand>,
    },
    /// Peer rounds: preview how pairing groups a study group over consecutive rounds.
    #[command(subcommand)]
    Rounds(RoundsCommand),
    /// Create or update the database's tables (every command also does this on start).
    Migrate,
    /// Past drills, newest first: date, scenario, difficulty, duration, score and flags.
    History(HistoryArgs),
    /// Scores per dimension (first, best, latest, trend), and a chart of them over time.
    Stats(StatsArgs),
    /// One drill's transcript with its scorecard; the JSON can be scored again.
    Export(ExportArgs),
    /// Run the chat bot: every configured surface (Discord with SPAR_DISCORD_TOKEN, Slack
    /// with SPAR_SLACK_BOT_TOKEN over Socket Mode or --slack-http), until stopped.
    Serve(ServeArgs),
    /// Discord setup helpers.
    #[command(subcommand)]
    Discord(DiscordCommand),
    /// Delete a person's drills, transcripts and scores (your own unless --user names
    /// someone), and blank what they said in other people's drills. Asks first.
    Forget(ForgetArgs),
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Many concurrent chat drills through the real runtime, engine and store, with an
    /// antagonist that answers after a model's latency and members who pause between
    /// turns: throughput against the ideal bound by the model and the pauses, Spar's own
    /// time per turn (message in to antagonist asked, line ready to reply posted), store
    /// operations per turn, the heap a waiting drill holds, errors.
    Load(LoadArgs),
    /// The time to pair one queue on one core, with the members' history of earlier rounds.
    Pairing {
        /// How many members are queued.
        #[arg(long, default_value_t = 100_000)]
        members: usize,
        /// Rounds of history among them before the measured pairing.
        #[arg(long, default_value_t = 3)]
        history: usize,
        /// How many times to pair it; the median is what counts.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoundsCommand {
    /// Pair members m1…mN over R consecutive rounds, history carried from one to the next,
    /// and print each round's groups with their roles.
    Simulate {
        /// How many members take part (named m1…mN).
        #[arg(long, value_name = "N")]
        members: usize,
        /// How many consecutive rounds to pair.
        #[arg(long, value_name = "R")]
        rounds: usize,
        /// The same seed always gives the same groups.
        #[arg(long, value_name = "S", default_value_t = 0)]
        seed: u64,
        /// text for people, json for programs.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled drills (JSON lines with "turns" and "expect"); with --receptiveness, rows of
    /// {"id", "text", "receptive"}; with --tiers, drills with a "tier".
    pub file: PathBuf,
    /// Correlate `overall` with the human receptiveness ratings, even and odd ids apart.
    #[arg(long)]
    pub receptiveness: bool,
    /// Refit the receptiveness model on even ids only and print how it was chosen.
    #[arg(long, conflicts_with = "receptiveness")]
    pub fit_receptiveness: bool,
    /// Score whole drills written as strong, mixed or weak (a "tier" field) and show how
    /// `overall` orders them: strong at 75 or above, weak at 35 or below, pairs in order.
    #[arg(long, conflicts_with_all = ["receptiveness", "fit_receptiveness"])]
    pub tiers: bool,
    /// With --fit-receptiveness, write the fitted model here (the scorer's
    /// prompts/scoring/receptiveness_model.toml).
    #[arg(long, value_name = "FILE", requires = "fit_receptiveness")]
    pub write_model: Option<PathBuf>,
    /// Exit 1 if micro-F1 is below this.
    #[arg(long)]
    pub min_f1: Option<f64>,
    /// Exit 1 if the odd-id Spearman rho is below this.
    #[arg(long)]
    pub min_rho: Option<f64>,
}

/// Output for people (text) or programs (json).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

/// Narrows history and stats to one person's drills.
#[derive(Debug, Args)]
pub struct PersonFilter {
    /// Only the drills this person was the candidate in (their platform user id); without it,
    /// your own drills in the terminal.
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
    /// The platform `--user` belongs to.
    #[arg(long, default_value = "terminal")]
    pub platform: String,
    /// Every person's drills: on a shared database, everyone's.
    #[arg(long, conflicts_with = "user")]
    pub all: bool,
}

impl PersonFilter {
    /// Whose drills to show: `--user`, everyone with `--all`, else `me` in the terminal. A
    /// shared database holds other people's drills, which nobody should see by default.
    pub fn person(&self, me: &str) -> Option<spar_core::store::PersonRef> {
        if self.all {
            return None;
        }
        Some(match &self.user {
            Some(user) => spar_core::store::PersonRef {
                platform: self.platform.clone(),
                platform_user_id: user.clone(),
                display_name: user.clone(),
            },
            None => spar_core::store::PersonRef::terminal(me),
        })
    }
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// text for reading, json for programs.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    #[command(flatten)]
    pub who: PersonFilter,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Also draw the scores over time into this PNG file (not written when nothing is
    /// scored yet).
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// text for reading, json for programs.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    #[command(flatten)]
    pub who: PersonFilter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The drill's id, as `spar history` shows it.
    #[arg(long, value_name = "ID")]
    pub drill: String,
    /// json (which `spar score` reads back) or markdown.
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The person's user id on their platform; without it, your own drills as the terminal
    /// user.
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
    /// The platform `--user` belongs to (default: terminal).
    #[arg(long, requires = "user")]
    pub platform: Option<String>,
    /// Forget without asking first. Required when input is not a terminal, as in scripts.
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct PracticeArgs {
    /// The scenario to practise; without one, Spar offers a list.
    #[arg(long)]
    pub scenario: Option<String>,
    /// gentle, standard or hostile.
    #[arg(long, default_value = "standard")]
    pub difficulty: String,
    /// Makes the scripted antagonist's choices repeatable.
    #[arg(long)]
    pub seed: Option<u64>,
    /// The most replies the candidate gets before the drill ends by itself.
    #[arg(long, default_value_t = 40)]
    pub max_turns: u32,
    /// Use a fixed clock that advances this many seconds per turn, for reproducible runs.
    /// Default when input is piped: 30.
    #[arg(long, value_name = "SECONDS")]
    pub pace: Option<f64>,
    /// Colour: auto (when stdout is a terminal), always or never.
    #[arg(long, value_enum, default_value_t = ColourChoice::Auto)]
    pub colour: ColourChoice,
    /// Do not keep this drill in the history.
    #[arg(long)]
    pub no_save: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColourChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum ScenariosCommand {
    /// Show every available scenario.
    List,
    /// Validate a directory of scenario files; exits 2 if any has errors.
    Check {
        /// The directory to check (default: the built-in scenarios).
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory as _;

    #[test]
    fn every_command_and_option_says_what_it_does() {
        let cli = Cli::command();
        cli.clone().debug_assert();
        let mut undescribed = Vec::new();
        let mut commands = vec![cli];
        while let Some(command) = commands.pop() {
            if command.get_name() != "spar" && command.get_about().is_none() {
                undescribed.push(command.get_name().to_string());
            }
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() {
                    undescribed.push(format!("{} --{}", command.get_name(), arg.get_id()));
                }
            }
            commands.extend(command.get_subcommands().cloned());
        }
        assert!(undescribed.is_empty(), "without help: {undescribed:?}");
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve Slack over HTTP at this address (e.g. 0.0.0.0:3000; port 0 picks one) instead
    /// of Socket Mode: /slack/commands, /slack/interactions, /slack/events and /healthz,
    /// each request checked against SPAR_SLACK_SIGNING_SECRET.
    #[arg(long, value_name = "ADDR")]
    pub slack_http: Option<std::net::SocketAddr>,
    /// Serve /metrics (Prometheus), /healthz and /readyz at this address (e.g. 0.0.0.0:9090).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum DiscordCommand {
    /// Print the link that adds the bot to a server, with exactly the permissions it uses.
    InviteUrl {
        /// The application's id (developer portal, General Information).
        #[arg(long, value_name = "ID")]
        client_id: u64,
    },
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// How many drills run at once.
    #[arg(long, default_value_t = 100)]
    pub drills: usize,
    /// How many candidate turns each drill takes.
    #[arg(long, default_value_t = 5)]
    pub turns: usize,
    /// How long the simulated model takes to answer, in milliseconds.
    #[arg(long, default_value_t = 800)]
    pub llm_latency_ms: u64,
    /// How long a member thinks and types between a reply and their next message, on
    /// average, in milliseconds: each pause is drawn (seeded) between half and one and a
    /// half times this, and first messages are spread over one such pause. The default,
    /// 15 s, is a short chat answer read and typed; 0 sends every next message the moment
    /// its reply lands, all drills in lockstep, as a stress test.
    #[arg(long, default_value_t = 15_000, value_name = "MS")]
    pub think_ms: u64,
    /// Seeds the members' pauses, so two runs pace their members alike.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The database to use (default: a fresh SQLite file, removed afterwards).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Connections in each instance's pool (default: the backend's).
    #[arg(long)]
    pub pool: Option<u32>,
    /// How many instances share the database; each gets every message, as several
    /// sessions of one bot do.
    #[arg(long, default_value_t = 1)]
    pub instances: usize,
    /// text for people, json for programs.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}
