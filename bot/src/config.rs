//! Settings, loaded once in `run` from a file and then the environment, and passed down.
//! No other module reads environment variables.

use crate::cli::Cli;
use anyhow::Context as _;
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// A value that must never reach a log or an error message.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LlmSettings {
    /// An OpenAI-compatible API root, e.g. `https://api.openai.com/v1` or a local server.
    pub base_url: Option<String>,
    pub api_key: Secret,
    /// The antagonist's model; without one, the scripted antagonist plays.
    pub model: Option<String>,
    /// The debrief judge's model; defaults to `model`.
    pub judge_model: Option<String>,
    /// Seconds to wait for a model's answer before counting the attempt as failed (30).
    pub timeout_s: Option<f64>,
    /// The first retry's backoff in milliseconds, doubled each attempt and jittered (500).
    /// Tests set it to a few milliseconds.
    pub retry_base_ms: Option<u64>,
    /// How many times one call is tried on 429, 5xx and connection errors (3).
    pub max_attempts: Option<u32>,
    /// The most tokens (estimated) a turn's prompt may take, however long the drill (3000).
    pub context_tokens: Option<usize>,
    /// Where the antagonist's role reminder goes: `system` (a system message after the
    /// transcript, the default) or `user` (inside the last user turn, for chat templates
    /// that accept a system message only first).
    pub reminder: Option<spar_core::prompt::Reminder>,
}

/// The Discord bot, when a token is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DiscordSettings {
    /// The bot token from the Discord developer portal; without one, Discord is off.
    pub token: Secret,
    /// Where REST calls and the gateway lookup go: `https://discord.com` unless a proxy
    /// (or a test) stands in front of it.
    pub api_url: Option<String>,
    /// A guild id: register the commands there only, which takes effect at once.
    pub dev_guild: Option<u64>,
    /// The gateway shards this process runs, `FIRST-LAST/TOTAL`; without it, all of a
    /// small bot's one shard.
    pub shards: Option<String>,
}

/// The Slack app, when a bot token is set: over Socket Mode with an app-level token, or
/// over HTTP (`spar serve --slack-http ADDR`) with the signing secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SlackSettings {
    /// The bot token (`xoxb-…`, OAuth & Permissions); without one, Slack is off.
    pub bot_token: Secret,
    /// The app-level token (`xapp-…` with `connections:write`) Socket Mode connects with.
    pub app_token: Secret,
    /// The secret Slack signs HTTP requests with (Basic Information), checked on each one.
    pub signing_secret: Secret,
    /// The Web API base, `https://slack.com/api/` unless an enterprise proxy (or a test)
    /// stands in front of it; method names such as `chat.postMessage` go under it.
    pub api_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://…`; default: a SQLite file in the user's data dir.
    pub database_url: Option<String>,
    /// How many connections `spar serve` keeps to the database (default: SQLite 4,
    /// PostgreSQL 10). Several instances on one PostgreSQL share its `max_connections`.
    /// Kept as written and checked by `pool_options`, so a bad value is reported in words
    /// that name the setting.
    #[serde(deserialize_with = "as_written")]
    pub database_pool_size: Option<String>,
    /// How long an operation waits for a free connection before failing, in seconds
    /// (default 10).
    #[serde(deserialize_with = "as_written")]
    pub database_acquire_timeout_s: Option<String>,
    /// A directory of scenarios that add to or override the embedded ones.
    pub scenarios: Option<PathBuf>,
    pub llm: LlmSettings,
    pub discord: DiscordSettings,
    pub slack: SlackSettings,
    /// Every chat drill's length in seconds, instead of its scenario's: for short sessions.
    pub drill_time_limit_s: Option<u32>,
    /// The model tokens (antagonist and judge) one Discord server or Slack workspace may
    /// spend per UTC day, unless its admins set their own with `/spar config`; over it,
    /// drills go on with the scripted antagonist. Unset or 0: no limit.
    pub daily_token_budget: Option<u64>,
    /// A tracing filter such as `info` or `spar=debug`.
    pub log: Option<String>,
    /// `text` (default) or `json`, one object per line, for log shippers.
    pub log_format: Option<String>,
    /// Who is at the terminal: the person whose drills `practice` saves and `history`
    /// shows. Default: the OS user name (`$USER`).
    pub terminal_user: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            database_url: None,
            database_pool_size: None,
            database_acquire_timeout_s: None,
            scenarios: None,
            llm: LlmSettings::default(),
            discord: DiscordSettings::default(),
            slack: SlackSettings::default(),
            drill_time_limit_s: None,
            daily_token_budget: None,
            log: None,
            log_format: None,
            terminal_user: "terminal".into(),
        }
    }
}

impl Settings {
    /// File first, then environment, then command-line flags, each overriding the last.
    pub fn load(cli: &Cli) -> anyhow::Result<Settings> {
        let file = cli
            .config
            .clone()
            .or_else(|| dirs::config_dir().map(|d| d.join("spar").join("spar.toml")));
        // The OS user name is a default, so a settings file may still name someone else.
        let mut figment = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Env::raw().only(&["USER"]).map(|_| "terminal_user".into()));
        if let Some(file) = &file {
            if cli.config.is_some() && !file.exists() {
                return Err(crate::failure::input_error(format!(
                    "settings file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            )
            .merge(
                Env::raw()
                    .only(&["SPAR_DATABASE_POOL_SIZE"])
                    .map(|_| "database_pool_size".into()),
            )
            .merge(
                Env::raw()
                    .only(&["SPAR_DATABASE_ACQUIRE_TIMEOUT_S"])
                    .map(|_| "database_acquire_timeout_s".into()),
            )
            .merge(
                Env::raw()
                    .only(&["OPENAI_API_KEY"])
                    .map(|_| "llm.api_key".into()),
            )
            .merge(
                Env::prefixed("SPAR_LLM_")
                    .map(|k| format!("llm.{}", k.as_str().to_ascii_lowercase()).into()),
            )
            .merge(Env::prefixed("SPAR_JUDGE_MODEL").map(|_| "llm.judge_model".into()))
            .merge(
                Env::prefixed("SPAR_DISCORD_")
                    .map(|k| format!("discord.{}", k.as_str().to_ascii_lowercase()).into()),
            )
            .merge(
                Env::prefixed("SPAR_SLACK_")
                    .map(|k| format!("slack.{}", k.as_str().to_ascii_lowercase()).into()),
            )
            .merge(
                Env::raw()
                    .only(&["SPAR_DRILL_TIME_LIMIT_S"])
                    .map(|_| "drill_time_limit_s".into()),
            )
            .merge(
                Env::raw()
                    .only(&["SPAR_DAILY_TOKEN_BUDGET"])
                    .map(|_| "daily_token_budget".into()),
            )
            .merge(
                Env::raw()
                    .only(&["SPAR_SCENARIOS"])
                    .map(|_| "scenarios".into()),
            )
            .merge(Env::raw().only(&["SPAR_LOG"]).map(|_| "log".into()))
            .merge(
                Env::raw()
                    .only(&["SPAR_LOG_FORMAT"])
                    .map(|_| "log_format".into()),
            )
            .merge(
                Env::raw()
                    .only(&["SPAR_TERMINAL_USER"])
                    .map(|_| "terminal_user".into()),
            );
        let mut settings: Settings = figment
            .extract()
            .map_err(|e| crate::failure::input_error(format!("bad settings: {e}")))
            .context("reading settings")?;
        if let Some(dir) = &cli.scenarios {
            settings.scenarios = Some(dir.clone());
        }
        if let Some(url) = &cli.database_url {
            settings.database_url = Some(url.clone());
        }
        Ok(settings)
    }
}

/// The most connections one pool may hold: far beyond what one instance can use, and a
/// typo's worth of zeros short of exhausting a server.
const MAX_POOL_SIZE: u32 = 1000;
/// The longest wait for a connection: past an hour an operation has long been given up.
const MAX_ACQUIRE_TIMEOUT_S: u64 = 3600;

impl Settings {
    /// The database pool the settings ask for; a size or timeout that is not a whole
    /// number in range is an error naming the setting.
    pub fn pool_options(&self) -> anyhow::Result<crate::store::PoolOptions> {
        let mut pool = crate::store::PoolOptions::default();
        if let Some(size) = &self.database_pool_size {
            let size = in_range(
                "SPAR_DATABASE_POOL_SIZE (database_pool_size)",
                size,
                u64::from(MAX_POOL_SIZE),
                "connections",
            )?;
            pool.max_connections = Some(u32::try_from(size).unwrap_or(MAX_POOL_SIZE));
        }
        if let Some(seconds) = &self.database_acquire_timeout_s {
            let seconds = in_range(
                "SPAR_DATABASE_ACQUIRE_TIMEOUT_S (database_acquire_timeout_s)",
                seconds,
                MAX_ACQUIRE_TIMEOUT_S,
                "seconds",
            )?;
            pool.acquire_timeout = std::time::Duration::from_secs(seconds);
        }
        Ok(pool)
    }
}

/// `written` as a whole number from 1 to `max`, or an input error naming the setting.
fn in_range(setting: &str, written: &str, max: u64, unit: &str) -> anyhow::Result<u64> {
    match written.trim().parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(crate::failure::input_error(format!(
            "{setting} is {written:?}; it must be a whole number from 1 to {max} {unit}"
        ))),
    }
}

/// A setting as written, whether the file or environment gave a number or text.
fn as_written<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Whole(i64),
        Real(f64),
        Text(String),
    }
    Ok(Option::<Written>::deserialize(d)?.map(|w| match w {
        Written::Whole(n) => n.to_string(),
        Written::Real(x) => x.to_string(),
        Written::Text(t) => t,
    }))
}

/// Where log lines go. Never onto a drill's screen: to `spar.log` in the data directory,
/// unless `SPAR_LOG` (the `log` setting) asks for more, and then to stderr, which a
/// person asking for it is reading. Colour only when stderr is a terminal.
pub fn init_tracing(settings: &Settings, serving: bool) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // A server logs to stderr, where its supervisor collects it, at info by default; a
    // command at a person's screen logs its warnings to a file unless asked otherwise.
    let (filter, file) = match (&settings.log, serving) {
        (Some(filter), _) => (filter.clone(), None),
        (None, true) => ("info".to_string(), None),
        (None, false) => ("warn".to_string(), log_file()),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter).map_err(|e| {
        crate::failure::input_error(format!(
            "SPAR_LOG {filter:?} is not a log filter ({e}); try e.g. info or spar=debug"
        ))
    })?;
    let json = match settings.log_format.as_deref().map(str::trim) {
        None | Some("" | "text") => false,
        Some("json") => true,
        Some(other) => {
            return Err(crate::failure::input_error(format!(
                "SPAR_LOG_FORMAT {other:?} must be text or json"
            )));
        }
    };
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(WarningSeen);
    let (writer, ansi): (tracing_subscriber::fmt::writer::BoxMakeWriter, bool) = match file {
        Some((path, file)) => {
            let _ = LOG_PATH.set(path);
            (
                tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::sync::Mutex::new(file)),
                false,
            )
        }
        None => (
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr),
            std::io::stderr().is_terminal(),
        ),
    };
    let _ = if json {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(writer),
            )
            .try_init()
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(writer),
            )
            .try_init()
    };
    Ok(())
}

/// `spar.log` in the data directory, opened to append; `None` (logs to stderr) when it
/// cannot be.
fn log_file() -> Option<(PathBuf, std::fs::File)> {
    let dir = dirs::data_dir()?.join("spar");
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("spar.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    Some((path, file))
}

/// The log file, when logs go to one.
static LOG_PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
/// A warning or error was logged to the file since it was last told.
static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The user has been told where the log is; once per process is enough.
static TOLD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Notes warnings and errors, so the person at the screen can be told once that there
/// is something in the log.
struct WarningSeen;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for WarningSeen {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() <= tracing::Level::WARN {
            WARNED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// The log file's path, the first time a warning has gone into it: the one moment to
/// tell the user, in a sentence of our own, where to look.
pub fn log_notice() -> Option<&'static std::path::Path> {
    use std::sync::atomic::Ordering;
    let path = LOG_PATH.get()?;
    if WARNED.load(Ordering::SeqCst) && !TOLD.swap(true, Ordering::SeqCst) {
        Some(path)
    } else {
        None
    }
}
