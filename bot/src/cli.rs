//! The command line: one subcommand per job. Doc comments here are the help users see.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Spar: practise disagreeing with a senior person without escalating, getting defensive,
/// folding, or making it personal.
#[derive(Debug, Parser)]
#[command(name = "spar", version, about, long_about = None)]
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
        /// A JSON transcript: {"scenario": ..., "turns": [{"role", "at_s", "text"}]}.
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Measure the scorer: flag precision and recall on labelled drills, or rank
    /// correlation with human receptiveness ratings.
    Eval(EvalArgs),
    /// Measure scoring throughput in MB of transcript text per second on one core.
    Bench {
        /// How much transcript text to score per run, in MB.
        #[arg(long, default_value_t = 20.0)]
        megabytes: f64,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Create or update the database's tables (every command also does this on start).
    Migrate,
    /// Past drills, newest first: date, scenario, difficulty, duration, score and flags.
    History(HistoryArgs),
    /// Scores per dimension (first, best, latest, trend), and a chart of them over time.
    Stats(StatsArgs),
    /// One drill's transcript with its scorecard; the JSON can be scored again.
    Export(ExportArgs),
    /// Delete a person's drills, transcripts and scores, and blank what they said elsewhere.
    Forget(ForgetArgs),
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
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    #[command(flatten)]
    pub who: PersonFilter,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Also draw the scores over time into this PNG file.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
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
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The person's user id on their platform (the OS user name for the terminal).
    #[arg(long, value_name = "ID")]
    pub user: String,
    #[arg(long, default_value = "terminal")]
    pub platform: String,
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
