//! `spar serve`: the chat bot. Starts every chat surface that is configured, one chat
//! runtime shared by them, and the clock that fires timers and recovers drills.

use super::emit;
use crate::antagonist::{Cast, Scripted};
use crate::chat::{ChatSurface, Runtime, RuntimeOptions, WallClock};
use crate::cli::ServeArgs;
use crate::config::Settings;
use crate::debrief::Debriefer;
use crate::discord::{self, Discord, DiscordConfig};
use crate::engine::{Engine, RECOVERY_LEASE};
use crate::failure::input_error;
use crate::llm::{LlmConfig, OpenAiAntagonist, OpenAiJudge};
use crate::metrics::Metrics;
use crate::ops::{self, Ops, Probe};
use crate::slack::{self, Slack, SlackConfig, Transport};
use crate::{library, store};
use anyhow::Context as _;
use spar_core::antagonist::SharedLines;
use spar_core::scoring::Scorer;
use std::process::ExitCode;
use std::sync::Arc;

/// What a member types to end a drill in chat, for the antagonist's closing hint.
const END_COMMAND: &str = "/spar end";

/// How long a stopping instance lets the replies and debriefs under way finish before it
/// leaves them to another instance.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

pub fn run(settings: &Settings, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let discord_config = discord_config(settings)?;
    let slack_config = slack_config(settings, args)?;
    let pool = settings.pool_options()?;
    if discord_config.is_none() && slack_config.is_none() {
        return Err(input_error(
            "no chat surface is configured: set SPAR_DISCORD_TOKEN to serve Discord, or SPAR_SLACK_BOT_TOKEN with SPAR_SLACK_APP_TOKEN (Socket Mode) or with SPAR_SLACK_SIGNING_SECRET and --slack-http ADDR (HTTP) to serve Slack",
        ));
    }
    let library = library::load(settings.scenarios.as_deref())?;
    // The scorer reads the people of the user's own scenarios too.
    let scorer = Scorer::embedded()
        .and_then(|s| s.with_scenarios(&library))
        .context("the built-in scoring lexicon is invalid")?;
    let shared = SharedLines::embedded().context("the built-in antagonist lines are invalid")?;
    let scripted = Scripted::new(shared, scorer.clone(), END_COMMAND);
    let llm = LlmConfig::from_settings(&settings.llm)?;
    let (cast, judge, lease) = match &llm {
        Some(config) => (
            Cast::with_model(
                scripted,
                OpenAiAntagonist::new(config).context("setting up the model antagonist")?,
            ),
            Some(OpenAiJudge::new(config).context("setting up the debrief judge")?),
            config.longest_reply(),
        ),
        None => (Cast::scripted(scripted), None, RECOVERY_LEASE),
    };
    let options = RuntimeOptions {
        time_limit_s: settings.drill_time_limit_s,
        daily_token_budget: settings.daily_token_budget.filter(|&b| b > 0),
        ..RuntimeOptions::default()
    };
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let metrics = Arc::new(Metrics::new());
        let store: Arc<dyn spar_core::store::Store> = Arc::new(store::Observed::new(
            store::open_with(settings.database_url.as_deref(), pool).await?,
            metrics.clone(),
        ));
        let discord = match &discord_config {
            Some(config) => Some(Discord::new(config).await?),
            None => None,
        };
        let slack = match &slack_config {
            Some(config) => Some(Slack::new(config).await?),
            None => None,
        };
        let mut surfaces: Vec<Arc<dyn ChatSurface>> = Vec::new();
        let mut probes: Vec<(&'static str, Probe)> = Vec::new();
        let mut serving = Vec::new();
        if let (Some(discord), Some(config)) = (&discord, &discord_config) {
            surfaces.push(discord.surface());
            probes.push(("discord", discord.connected()));
            serving.push(format!(
                "Discord ({})",
                match config.dev_guild {
                    Some(guild) => format!("commands in guild {guild}"),
                    None => "commands registered globally".into(),
                }
            ));
        }
        if let Some(slack) = &slack {
            surfaces.push(slack.surface());
            serving.push(slack.describe());
        }
        let platforms: Vec<&str> = surfaces.iter().map(|s| s.platform()).collect();
        // Names this instance in its claims; unique, so two instances never share one.
        let owner = format!("spar-{}", uuid::Uuid::new_v4().simple());
        let engine = Engine::new(store.clone(), &owner, &platforms).with_recovery_lease(lease);
        let chat = Arc::new(
            Runtime::new(
                engine,
                surfaces,
                library,
                cast,
                Debriefer::new(scorer, judge),
                Arc::new(WallClock),
                options,
            )
            .with_metrics(metrics.clone()),
        );
        if let Some(addr) = args.metrics {
            let bound = ops::serve(
                addr,
                Ops {
                    metrics: metrics.clone(),
                    store: store.clone(),
                    surfaces: probes,
                },
            )
            .await?;
            emit(&format!(
                "Metrics, health and readiness on http://{bound}\n"
            ))?;
        }
        emit(&format!(
            "Spar is serving {} as {owner}; the antagonist is {}.\n",
            serving.join(" and "),
            llm.as_ref()
                .map_or("scripted".to_string(), |c| format!("model {}", c.model))
        ))?;
        tokio::spawn(chat.clone().run_clock());
        let stop_discord = discord.as_ref().map(Discord::stopper);
        // One runtime for every surface; the first to stop for good stops the process.
        let discord_served = {
            let chat = chat.clone();
            async move {
                match discord {
                    Some(discord) => discord.serve(chat).await,
                    None => std::future::pending().await,
                }
            }
        };
        let slack_served = {
            let chat = chat.clone();
            async move {
                match slack {
                    Some(slack) => slack.serve(chat).await,
                    None => std::future::pending().await,
                }
            }
        };
        let served = tokio::select! {
            served = discord_served => served,
            served = slack_served => served,
            () = ops::stop_requested() => Ok(()),
        };
        // Stopping: hear no new events, let what is under way finish for a while, and
        // leave the rest owed in the store for another instance.
        tracing::info!("stopping");
        if let Some(stop) = stop_discord {
            stop.await;
        }
        let unfinished = chat.drain(SHUTDOWN_GRACE).await;
        if unfinished > 0 {
            tracing::warn!(
                unfinished,
                "stopped with work under way; another instance takes it over"
            );
        }
        // Whatever is still owed is handed over now, not when the leases run out.
        match chat.engine().close_and_release().await {
            Ok(released) => tracing::info!(released, "released this instance's claims"),
            Err(e) => tracing::warn!(
                error = %e,
                "could not release this instance's claims; they lapse with their leases"
            ),
        }
        tracing::info!("stopped");
        served
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The Discord settings, validated; `None` when no token is set.
fn discord_config(settings: &Settings) -> anyhow::Result<Option<DiscordConfig>> {
    let discord = &settings.discord;
    if discord.token.expose().trim().is_empty() {
        return Ok(None);
    }
    let api_url = discord
        .api_url
        .as_deref()
        .map(|u| u.trim().trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .unwrap_or(discord::DEFAULT_API_URL)
        .to_string();
    if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
        return Err(input_error(format!(
            "SPAR_DISCORD_API_URL {api_url:?} must start with http:// or https://"
        )));
    }
    let shards = discord
        .shards
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(discord::Shards::parse)
        .transpose()
        .map_err(input_error)?;
    Ok(Some(DiscordConfig {
        token: crate::config::Secret::new(discord.token.expose().trim()),
        api_url,
        dev_guild: discord.dev_guild,
        shards,
    }))
}

/// The Slack settings, validated; `None` when no bot token is set. `--slack-http` chooses
/// HTTP, which needs the signing secret; otherwise Socket Mode, which needs the app token.
fn slack_config(settings: &Settings, args: &ServeArgs) -> anyhow::Result<Option<SlackConfig>> {
    let slack = &settings.slack;
    let bot_token = slack.bot_token.expose().trim();
    if bot_token.is_empty() {
        if args.slack_http.is_some() {
            return Err(input_error(
                "--slack-http serves Slack, which needs SPAR_SLACK_BOT_TOKEN (and SPAR_SLACK_SIGNING_SECRET)",
            ));
        }
        return Ok(None);
    }
    let api_url =
        slack::normalise_api_url(slack.api_url.as_deref().unwrap_or(slack::DEFAULT_API_URL))
            .map_err(input_error)?;
    let transport = match args.slack_http {
        Some(addr) => {
            let signing_secret = slack.signing_secret.expose().trim();
            if signing_secret.is_empty() {
                return Err(input_error(
                    "--slack-http needs SPAR_SLACK_SIGNING_SECRET (the app's Basic Information page) to check that requests come from Slack",
                ));
            }
            Transport::Http {
                addr,
                signing_secret: crate::config::Secret::new(signing_secret),
            }
        }
        None => {
            let app_token = slack.app_token.expose().trim();
            if app_token.is_empty() {
                return Err(input_error(
                    "SPAR_SLACK_BOT_TOKEN is set but Slack cannot reach Spar: set SPAR_SLACK_APP_TOKEN for Socket Mode, or pass --slack-http ADDR with SPAR_SLACK_SIGNING_SECRET for HTTP",
                ));
            }
            Transport::SocketMode {
                app_token: crate::config::Secret::new(app_token),
            }
        }
    };
    Ok(Some(SlackConfig {
        bot_token: crate::config::Secret::new(bot_token),
        api_url,
        transport,
    }))
}
