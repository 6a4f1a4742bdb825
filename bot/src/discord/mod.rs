//! The Discord adapter: `/spar` slash commands (poise over serenity), drill threads, and
//! the gateway events a drill needs. It translates between Discord and the chat runtime
//! and holds no drill logic: every decision is `chat::Runtime`'s.

pub mod rating;
pub mod render;
mod surface;

pub use surface::DiscordSurface;

use crate::chat::text;
use crate::chat::{
    Action, Command, ConfigChange, Handled, Invocation, Pending, Reply, RoundsCommand, Runtime,
};
use crate::config::Secret;
use anyhow::Context as _;
use poise::serenity_prelude as serenity;
use spar_core::store::WorkspaceRef;
use std::future::Future;
use std::sync::{Arc, OnceLock};

/// Where Discord is when nothing else is configured.
pub const DEFAULT_API_URL: &str = "https://discord.com";

/// The gateway events Spar needs: guilds and threads (to know when a drill's thread is
/// deleted or archived), guild messages (the turns), and their content, which Discord
/// counts as privileged: enable "Message Content Intent" for the application.
pub fn intents() -> serenity::GatewayIntents {
    serenity::GatewayIntents::GUILDS
        | serenity::GatewayIntents::GUILD_MESSAGES
        | serenity::GatewayIntents::MESSAGE_CONTENT
}

/// Exactly the permissions Spar uses: see the channel, post there and in threads, open
/// private and public threads for drills, and post embeds (the brief, the scorecard) and
/// files (the transcript, the progress chart).
pub fn permissions() -> serenity::Permissions {
    serenity::Permissions::VIEW_CHANNEL
        | serenity::Permissions::SEND_MESSAGES
        | serenity::Permissions::SEND_MESSAGES_IN_THREADS
        | serenity::Permissions::CREATE_PUBLIC_THREADS
        | serenity::Permissions::CREATE_PRIVATE_THREADS
        | serenity::Permissions::EMBED_LINKS
        | serenity::Permissions::ATTACH_FILES
}

/// The link that adds the bot to a server with the `bot` and `applications.commands`
/// scopes and exactly `permissions()`.
pub fn invite_url(client_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={client_id}&scope=bot%20applications.commands&permissions={}",
        permissions().bits()
    )
}

/// What the adapter is configured with.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    pub token: Secret,
    /// REST calls and the gateway lookup go here (`/api/v10/...` under it).
    pub api_url: String,
    /// Register the commands in this guild only: instant, for development.
    pub dev_guild: Option<u64>,
    /// The gateway shards this process runs, when several processes share a big bot.
    pub shards: Option<Shards>,
}

/// A range of gateway shards out of a total: Discord sends each guild's events to one
/// shard, so processes running disjoint ranges split the guilds between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shards {
    pub first: u32,
    pub last: u32,
    pub total: u32,
}

impl Shards {
    /// `FIRST-LAST/TOTAL` (e.g. `0-3/8`), or `N/TOTAL` for one shard.
    pub fn parse(text: &str) -> Result<Shards, String> {
        let bad = || {
            format!(
                "SPAR_DISCORD_SHARDS {text:?} must be FIRST-LAST/TOTAL (e.g. 0-3/8) or N/TOTAL, with LAST below TOTAL"
            )
        };
        let (range, total) = text.trim().split_once('/').ok_or_else(bad)?;
        let total: u32 = total.trim().parse().map_err(|_| bad())?;
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            ),
            None => {
                let n: u32 = range.trim().parse().map_err(|_| bad())?;
                (n, n)
            }
        };
        if total == 0 || first > last || last >= total {
            return Err(bad());
        }
        Ok(Shards { first, last, total })
    }
}

/// The REST client. Pointed anywhere but Discord itself (a proxy, a test), serenity's own
/// rate limiter must be off: it sends its requests to discord.com whatever the proxy, so a
/// proxy in front of Discord is expected to pace requests itself.
fn http(config: &DiscordConfig) -> serenity::Http {
    let mut builder = serenity::HttpBuilder::new(config.token.expose());
    if config.api_url != DEFAULT_API_URL {
        builder = builder.proxy(&config.api_url).ratelimiter_disabled(true);
    }
    builder.build()
}

type Error = Box<dyn std::error::Error + Send + Sync>;
type Context<'a> = poise::Context<'a, Data, Error>;

/// What every command and event handler shares.
pub struct Data {
    runtime: Arc<Runtime>,
}

/// A Discord client set up but not yet connected: its surface goes into the runtime,
/// and the runtime into the client when it connects.
pub struct Discord {
    client: serenity::Client,
    runtime: Arc<OnceLock<Arc<Runtime>>>,
    shards: Option<Shards>,
}

impl Discord {
    /// Sets up the client and its commands; nothing is sent to Discord yet.
    pub async fn new(config: &DiscordConfig) -> anyhow::Result<Discord> {
        let dev_guild = config.dev_guild;
        let runtime: Arc<OnceLock<Arc<Runtime>>> = Arc::new(OnceLock::new());
        let for_setup = runtime.clone();
        let framework = poise::Framework::builder()
            .options(poise::FrameworkOptions {
                commands: commands(),
                event_handler: |framework, event| Box::pin(on_event(framework, event)),
                on_error: |error| Box::pin(on_error(error)),
                ..Default::default()
            })
            .setup(move |ctx, ready, framework| {
                Box::pin(async move {
                    let commands = &framework.options().commands;
                    match dev_guild {
                        Some(guild) => {
                            poise::builtins::register_in_guild(
                                ctx,
                                commands,
                                serenity::GuildId::new(guild),
                            )
                            .await?;
                            tracing::info!(guild, "commands registered in the development guild");
                        }
                        None => {
                            poise::builtins::register_globally(ctx, commands).await?;
                            tracing::info!("commands registered globally");
                        }
                    }
                    tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
                    let runtime = for_setup
                        .get()
                        .cloned()
                        .ok_or("the Discord client connected before it was given its runtime")?;
                    Ok(Data { runtime })
                })
            })
            .build();
        let client = serenity::ClientBuilder::new_with_http(http(config), intents())
            .framework(framework)
            .await
            .context("setting up the Discord client")?;
        Ok(Discord {
            client,
            runtime,
            shards: config.shards.clone(),
        })
    }

    /// Whether every shard of this process is connected to the gateway now.
    pub fn connected(&self) -> crate::ops::Probe {
        let manager = self.client.shard_manager.clone();
        Arc::new(move || {
            let manager = manager.clone();
            Box::pin(async move {
                let runners = manager.runners.lock().await;
                !runners.is_empty()
                    && runners
                        .values()
                        .all(|r| r.stage == serenity::ConnectionStage::Connected)
            })
        })
    }

    /// Closes this process's gateway connections, so it hears no new events.
    pub fn stopper(&self) -> impl Future<Output = ()> + Send + 'static {
        let manager = self.client.shard_manager.clone();
        async move { manager.shutdown_all().await }
    }

    /// The surface the runtime posts through, sharing the client's REST connection.
    pub fn surface(&self) -> Arc<DiscordSurface> {
        Arc::new(DiscordSurface::new(self.client.http.clone()))
    }

    /// Connects to the gateway (this process's shards, or the one shard of a small bot)
    /// and serves until the connection ends for good.
    pub async fn serve(mut self, runtime: Arc<Runtime>) -> anyhow::Result<()> {
        let _ = self.runtime.set(runtime);
        let started = match self.shards.clone() {
            Some(s) => {
                tracing::info!(
                    first = s.first,
                    last = s.last,
                    total = s.total,
                    "running a range of shards"
                );
                self.client
                    .start_shard_range(s.first..s.last + 1, s.total)
                    .await
            }
            None => self.client.start().await,
        };
        started.context("the Discord gateway connection ended")
    }
}

/// `/spar` and its subcommands; their descriptions come from `chat::commands`, so the
/// help a member reads is the one registered with Discord.
pub fn commands() -> Vec<poise::Command<Data, Error>> {
    let mut spar = spar();
    for sub in &mut spar.subcommands {
        if let Some(text) = crate::chat::commands::describe(&sub.name) {
            sub.description = Some(text.into());
        }
        for nested in &mut sub.subcommands {
            if let Some(text) = crate::chat::commands::describe_rounds(&nested.name) {
                nested.description = Some(text.into());
            }
        }
    }
    vec![spar]
}

/// Practise disagreeing with a senior person: drills, scorecards, progress
#[poise::command(
    slash_command,
    guild_only,
    subcommands(
        "solo",
        "end",
        "scenarios",
        "history",
        "stats",
        "forget",
        "help",
        "config",
        "join",
        "leave",
        "pair",
        "rounds"
    ),
    subcommand_required
)]
async fn spar(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

#[derive(Debug, poise::ChoiceParameter)]
enum DifficultyChoice {
    #[name = "gentle"]
    Gentle,
    #[name = "standard"]
    Standard,
    #[name = "hostile"]
    Hostile,
}

impl DifficultyChoice {
    fn as_str(&self) -> &'static str {
        match self {
            DifficultyChoice::Gentle => "gentle",
            DifficultyChoice::Standard => "standard",
            DifficultyChoice::Hostile => "hostile",
        }
    }
}

async fn scenario_choices(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let partial = partial.to_lowercase();
    let choices = ctx
        .data()
        .runtime
        .library()
        .iter()
        .filter(|s| s.id.contains(&partial) || s.title.to_lowercase().contains(&partial))
        .take(25)
        .map(|s| {
            serenity::AutocompleteChoice::new(
                text::clip(&format!("{} ({})", s.title, s.id), 100),
                s.id.clone(),
            )
        })
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Start a solo drill
#[poise::command(slash_command, guild_only)]
async fn solo(
    ctx: Context<'_>,
    #[description = "Which scenario (default: the one you have drilled least)"]
    #[autocomplete = "scenario_choices"]
    scenario: Option<String>,
    #[description = "How hard the antagonist pushes (default: the server's)"] difficulty: Option<
        DifficultyChoice,
    >,
) -> Result<(), Error> {
    // Opening the thread takes a few calls; Discord wants an answer within 3 seconds.
    ctx.defer_ephemeral().await?;
    let command = Command::Solo {
        scenario,
        difficulty: difficulty.map(|d| d.as_str().to_string()),
    };
    run_command(ctx, command).await
}

/// End your drill now
#[poise::command(slash_command, guild_only)]
async fn end(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    run_command(ctx, Command::End).await
}

/// List the scenarios
#[poise::command(slash_command, guild_only)]
async fn scenarios(ctx: Context<'_>) -> Result<(), Error> {
    run_command(ctx, Command::Scenarios).await
}

/// Your past drills
#[poise::command(slash_command, guild_only)]
async fn history(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    run_command(ctx, Command::History).await
}

/// Your progress
#[poise::command(slash_command, guild_only)]
async fn stats(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    run_command(ctx, Command::Stats).await
}

/// Delete your drills
#[poise::command(slash_command, guild_only)]
async fn forget(ctx: Context<'_>) -> Result<(), Error> {
    run_command(ctx, Command::Forget).await
}

/// What each command does
#[poise::command(slash_command, guild_only)]
async fn help(ctx: Context<'_>) -> Result<(), Error> {
    run_command(ctx, Command::Help).await
}

/// Server settings
#[poise::command(slash_command, guild_only)]
async fn config(
    ctx: Context<'_>,
    #[description = "The only channel drills may start in"]
    #[channel_types("Text")]
    drill_channel: Option<serenity::GuildChannel>,
    #[description = "Let drills start in any channel again"] any_channel: Option<bool>,
    #[description = "Open drills in public threads even where private ones are possible"]
    public_threads: Option<bool>,
    #[description = "The difficulty of a drill started without one"] default_difficulty: Option<
        DifficultyChoice,
    >,
    #[description = "Drills one member may start per day (0: no limit)"]
    #[max = 100]
    daily_limit: Option<u32>,
    #[description = "Model tokens the server may spend per day (0: Spar's default)"]
    token_budget: Option<u64>,
) -> Result<(), Error> {
    let drill_channel = match (drill_channel, any_channel) {
        (_, Some(true)) => Some(None),
        (Some(channel), _) => Some(Some(channel.id.get().to_string())),
        _ => None,
    };
    let change = ConfigChange {
        drill_channel,
        public_threads,
        default_difficulty: default_difficulty.map(|d| d.as_str().to_string()),
        daily_limit,
        token_budget,
    };
    run_command(ctx, Command::Config(change)).await
}

/// Wait in this channel's peer queue
#[poise::command(slash_command, guild_only)]
async fn join(
    ctx: Context<'_>,
    #[description = "The scenario you want to practise (default: your group's choice)"]
    #[autocomplete = "scenario_choices"]
    scenario: Option<String>,
    #[description = "How hard the antagonist pushes"] difficulty: Option<DifficultyChoice>,
    #[description = "A solo drill against the engine if nobody else is waiting"]
    solo_if_alone: Option<bool>,
) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    let command = Command::Join {
        scenario,
        difficulty: difficulty.map(|d| d.as_str().to_string()),
        solo_if_alone: solo_if_alone.unwrap_or(false),
    };
    run_command(ctx, command).await
}

/// Leave this channel's peer queue
#[poise::command(slash_command, guild_only)]
async fn leave(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    run_command(ctx, Command::Leave).await
}

/// Pair everyone waiting here
#[poise::command(slash_command, guild_only)]
async fn pair(ctx: Context<'_>) -> Result<(), Error> {
    // A thread, a brief and a clock per group: well past Discord's three seconds.
    ctx.defer_ephemeral().await?;
    run_command(ctx, Command::Pair).await
}

/// Weekly peer rounds
#[poise::command(
    slash_command,
    guild_only,
    subcommands(
        "rounds_create",
        "rounds_list",
        "rounds_pause",
        "rounds_resume",
        "rounds_delete",
        "rounds_preview",
        "rounds_optin",
        "rounds_optout"
    ),
    subcommand_required
)]
async fn rounds(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

async fn run_rounds(ctx: Context<'_>, command: RoundsCommand) -> Result<(), Error> {
    ctx.defer_ephemeral().await?;
    run_command(ctx, Command::Rounds(command)).await
}

/// Set up a weekly round here
#[poise::command(slash_command, guild_only, rename = "create")]
async fn rounds_create(
    ctx: Context<'_>,
    #[description = "The weekday: monday … sunday"] weekday: String,
    #[description = "The time, HH:MM on a 24-hour clock"] time: String,
    #[description = "The time zone, such as Europe/Berlin"] zone: String,
    #[description = "How long each drill lasts, in minutes (default 15)"]
    #[min = 1]
    #[max = 120]
    drill_minutes: Option<u32>,
    #[description = "Scenario ids to draw from, separated by commas (default: any)"] pool: Option<
        String,
    >,
) -> Result<(), Error> {
    let command = RoundsCommand::Create {
        weekday,
        time,
        zone,
        drill_minutes,
        pool,
    };
    run_rounds(ctx, command).await
}

/// This server's rounds
#[poise::command(slash_command, guild_only, rename = "list")]
async fn rounds_list(ctx: Context<'_>) -> Result<(), Error> {
    run_rounds(ctx, RoundsCommand::List).await
}

/// Pause a round
#[poise::command(slash_command, guild_only, rename = "pause")]
async fn rounds_pause(
    ctx: Context<'_>,
    #[description = "The round's id, from /spar rounds list"] id: i64,
) -> Result<(), Error> {
    run_rounds(ctx, RoundsCommand::Pause { id }).await
}

/// Resume a round
#[poise::command(slash_command, guild_only, rename = "resume")]
async fn rounds_resume(
    ctx: Context<'_>,
    #[description = "The round's id, from /spar rounds list"] id: i64,
) -> Result<(), Error> {
    run_rounds(ctx, RoundsCommand::Resume { id }).await
}

/// Delete a round
#[poise::command(slash_command, guild_only, rename = "delete")]
async fn rounds_delete(
    ctx: Context<'_>,
    #[description = "The round's id, from /spar rounds list"] id: i64,
) -> Result<(), Error> {
    run_rounds(ctx, RoundsCommand::Delete { id }).await
}

/// Preview the next round's groups
#[poise::command(slash_command, guild_only, rename = "preview")]
async fn rounds_preview(
    ctx: Context<'_>,
    #[description = "The round's id (default: the one meeting in this channel)"] id: Option<i64>,
) -> Result<(), Error> {
    run_rounds(ctx, RoundsCommand::Preview { id }).await
}

/// Take part in a round
#[poise::command(slash_command, guild_only, rename = "optin")]
async fn rounds_optin(
    ctx: Context<'_>,
    #[description = "The round's id (default: the one meeting in this channel)"] id: Option<i64>,
    #[description = "How hard the antagonist pushes"] difficulty: Option<DifficultyChoice>,
    #[description = "A solo drill against the engine if the round leaves you without a partner"]
    solo_if_alone: Option<bool>,
) -> Result<(), Error> {
    let command = RoundsCommand::OptIn {
        id,
        difficulty: difficulty.map(|d| d.as_str().to_string()),
        solo_if_alone: solo_if_alone.unwrap_or(false),
    };
    run_rounds(ctx, command).await
}

/// Stop taking part in a round
#[poise::command(slash_command, guild_only, rename = "optout")]
async fn rounds_optout(
    ctx: Context<'_>,
    #[description = "The round's id (default: the one meeting in this channel)"] id: Option<i64>,
) -> Result<(), Error> {
    run_rounds(ctx, RoundsCommand::OptOut { id }).await
}

/// Who asked, from where, as the runtime reads it.
async fn invocation(ctx: Context<'_>) -> Result<Invocation, Error> {
    let poise::Context::Application(app) = ctx else {
        return Err("Spar's commands are slash commands".into());
    };
    let interaction = app.interaction;
    invocation_of(
        interaction.id.get(),
        &interaction.user,
        interaction.member.as_deref(),
        interaction.guild_id,
        interaction.channel_id,
        interaction.channel.as_ref(),
    )
}

/// The invocation behind an interaction, from its parts (commands and buttons alike).
fn invocation_of(
    id: u64,
    user: &serenity::User,
    member: Option<&serenity::Member>,
    guild: Option<serenity::GuildId>,
    channel: serenity::ChannelId,
    partial: Option<&serenity::PartialChannel>,
) -> Result<Invocation, Error> {
    let guild = guild.ok_or("Spar's commands work in servers, not in direct messages")?;
    // A command typed inside a thread: a new drill opens beside it, in its channel.
    let parent_channel = partial
        .filter(|p| {
            matches!(
                p.kind,
                serenity::ChannelType::PublicThread | serenity::ChannelType::PrivateThread
            )
        })
        .and_then(|p| p.parent_id)
        .map(|p| p.get().to_string());
    Ok(Invocation {
        event_id: id.to_string(),
        person: render::person(user, member.and_then(|m| m.nick.as_deref())),
        workspace: WorkspaceRef {
            platform: "discord".into(),
            external_id: guild.get().to_string(),
            name: guild.get().to_string(),
        },
        channel: channel.get().to_string(),
        thread: None,
        parent_channel,
        admin: member
            .and_then(|m| m.permissions)
            .is_some_and(|p| p.manage_guild() || p.administrator()),
    })
}

async fn run_command(ctx: Context<'_>, command: Command) -> Result<(), Error> {
    let invocation = invocation(ctx).await?;
    let runtime = ctx.data().runtime.clone();
    let handled = runtime.command(&invocation, command).await;
    send(ctx, handled.reply).await?;
    perform_later(runtime, handled.then);
    Ok(())
}

/// What the command set going (the antagonist's opening, a debrief) runs after the reply,
/// in its own task, so the interaction is answered at once.
fn perform_later(runtime: Arc<Runtime>, then: Option<Pending>) {
    if let Some(pending) = then {
        tokio::spawn(async move { runtime.perform(pending).await });
    }
}

async fn send(ctx: Context<'_>, reply: Reply) -> Result<(), Error> {
    let mut message = poise::CreateReply::default()
        .content(text::clip(&reply.text, render::MESSAGE_LIMIT))
        .ephemeral(reply.private);
    if let Some(file) = reply.file {
        message = message.attachment(serenity::CreateAttachment::bytes(file.bytes, file.name));
    }
    if !reply.buttons.is_empty() {
        message = message.components(vec![buttons(&reply.buttons)]);
    }
    ctx.send(message).await?;
    Ok(())
}

fn buttons(buttons: &[crate::chat::Button]) -> serenity::CreateActionRow {
    render::buttons(buttons)
}

async fn on_event(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &serenity::FullEvent,
) -> Result<(), Error> {
    let runtime = framework.user_data.runtime.clone();
    match event {
        serenity::FullEvent::Message { new_message } => {
            tracing::debug!(
                channel = new_message.channel_id.get(),
                message = new_message.id.get(),
                "message received"
            );
            if let Some(message) = render::message(new_message) {
                // A model reply can take seconds; other events must not wait for it.
                tokio::spawn(async move { runtime.message("discord", message).await });
            }
        }
        serenity::FullEvent::ThreadDelete { thread, .. } => {
            runtime
                .thread_gone("discord", &thread.id.get().to_string(), None)
                .await;
        }
        serenity::FullEvent::ThreadUpdate { new, .. }
            if new.thread_metadata.is_some_and(|m| m.archived || m.locked) =>
        {
            runtime
                .thread_gone("discord", &new.id.get().to_string(), None)
                .await;
        }
        serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Component(click),
        } => {
            let http = framework.serenity_context.http.clone();
            on_click(runtime, http, click.clone()).await?;
        }
        serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Modal(submit),
        } => {
            let http = framework.serenity_context.http.clone();
            on_modal(runtime, http, submit.clone()).await?;
        }
        _ => {}
    }
    Ok(())
}

/// A click on one of Spar's buttons: answered privately to whoever clicked.
async fn on_click(
    runtime: Arc<Runtime>,
    http: Arc<serenity::Http>,
    click: serenity::ComponentInteraction,
) -> Result<(), Error> {
    // The rating form opens as a modal, in two steps (see `rating`).
    if let Some((drill, first)) = rating::parse_continue(&click.data.custom_id) {
        let modal = rating::modal(&drill, Some(&first));
        click
            .create_response(&*http, serenity::CreateInteractionResponse::Modal(modal))
            .await?;
        return Ok(());
    }
    let Some(action) = Action::parse(&click.data.custom_id) else {
        return Ok(());
    };
    if let Action::Rate(drill) = &action {
        let modal = rating::modal(drill, None);
        click
            .create_response(&*http, serenity::CreateInteractionResponse::Modal(modal))
            .await?;
        return Ok(());
    }
    let invocation = invocation_of(
        click.id.get(),
        &click.user,
        click.member.as_ref(),
        click.guild_id,
        click.channel_id,
        click.channel.as_ref(),
    )?;
    let confirming = action == Action::ForgetConfirmed;
    let slow = matches!(
        action,
        Action::DrillAgain(_) | Action::Transcript(_) | Action::SwapRoles(_)
    );
    if slow {
        click
            .create_response(
                &*http,
                serenity::CreateInteractionResponse::Defer(
                    serenity::CreateInteractionResponseMessage::new().ephemeral(true),
                ),
            )
            .await?;
    }
    let Handled { reply, then } = runtime.action(&invocation, action).await;
    if slow {
        let mut followup = serenity::CreateInteractionResponseFollowup::new()
            .content(text::clip(&reply.text, render::MESSAGE_LIMIT))
            .ephemeral(true);
        if let Some(file) = reply.file {
            followup = followup.add_file(serenity::CreateAttachment::bytes(file.bytes, file.name));
        }
        click.create_followup(&*http, followup).await?;
    } else if confirming {
        // The confirmation replaces the question, so the button cannot be clicked twice.
        click
            .create_response(
                &*http,
                serenity::CreateInteractionResponse::UpdateMessage(
                    serenity::CreateInteractionResponseMessage::new()
                        .content(text::clip(&reply.text, render::MESSAGE_LIMIT))
                        .components(Vec::new()),
                ),
            )
            .await?;
    } else {
        click
            .create_response(
                &*http,
                serenity::CreateInteractionResponse::Message(
                    serenity::CreateInteractionResponseMessage::new()
                        .content(text::clip(&reply.text, render::MESSAGE_LIMIT))
                        .ephemeral(true),
                ),
            )
            .await?;
    }
    perform_later(runtime, then);
    Ok(())
}

/// A submitted step of the rating form: the first asks for the second, the second rates.
async fn on_modal(
    runtime: Arc<Runtime>,
    http: Arc<serenity::Http>,
    submit: serenity::ModalInteraction,
) -> Result<(), Error> {
    let Some(step) = rating::parse_modal(&submit.data.custom_id) else {
        return Ok(());
    };
    let inputs = rating::inputs(&submit.data.components);
    let ephemeral = |content: String| {
        serenity::CreateInteractionResponseMessage::new()
            .content(text::clip(&content, render::MESSAGE_LIMIT))
            .ephemeral(true)
    };
    match step {
        rating::Step::First(drill) => {
            let message = match rating::scores(&inputs, rating::dimensions(false)) {
                Ok(first) => ephemeral("Three more, and a sentence if you like.".into())
                    .components(vec![serenity::CreateActionRow::Buttons(vec![
                        serenity::CreateButton::new(rating::continue_id(&drill, &first))
                            .label("Continue (2 of 2)")
                            .style(serenity::ButtonStyle::Primary),
                    ])]),
                Err(why) => ephemeral(why).components(vec![buttons(&[crate::chat::Button {
                    label: "Rate again".into(),
                    action: Action::Rate(drill),
                    danger: false,
                }])]),
            };
            submit
                .create_response(
                    &*http,
                    serenity::CreateInteractionResponse::Message(message),
                )
                .await?;
        }
        rating::Step::Second(drill, first) => {
            let second = match rating::scores(&inputs, rating::dimensions(true)) {
                Ok(second) => second,
                Err(why) => {
                    let retry = crate::chat::Button {
                        label: "Rate again".into(),
                        action: Action::Rate(drill),
                        danger: false,
                    };
                    submit
                        .create_response(
                            &*http,
                            serenity::CreateInteractionResponse::Message(
                                ephemeral(why).components(vec![buttons(&[retry])]),
                            ),
                        )
                        .await?;
                    return Ok(());
                }
            };
            // The last rating posts the combined debrief: more than three seconds' work.
            submit
                .create_response(
                    &*http,
                    serenity::CreateInteractionResponse::Defer(
                        serenity::CreateInteractionResponseMessage::new().ephemeral(true),
                    ),
                )
                .await?;
            let invocation = invocation_of(
                submit.id.get(),
                &submit.user,
                submit.member.as_ref(),
                submit.guild_id,
                submit.channel_id,
                submit.channel.as_ref(),
            )?;
            let sentence = rating::sentence(&inputs);
            let handled = runtime
                .rate(
                    &invocation,
                    &drill,
                    &rating::named(&first, &second),
                    sentence.as_deref(),
                )
                .await;
            submit
                .create_followup(
                    &*http,
                    serenity::CreateInteractionResponseFollowup::new()
                        .content(text::clip(&handled.reply.text, render::MESSAGE_LIMIT))
                        .ephemeral(true),
                )
                .await?;
        }
    }
    Ok(())
}

/// Discord's answer when another session of the bot already answered the interaction:
/// with several instances connected, each gets every interaction and one wins.
const ALREADY_ACKNOWLEDGED: isize = 40060;

fn already_acknowledged(error: &Error) -> bool {
    matches!(
        error.downcast_ref::<serenity::Error>(),
        Some(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)))
            if r.error.code == ALREADY_ACKNOWLEDGED
    )
}

async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::Command { error, .. } if already_acknowledged(&error) => {
            tracing::debug!("another instance answered this interaction");
        }
        poise::FrameworkError::Command { error, ctx, .. } => {
            tracing::error!(command = %ctx.command().qualified_name, error = %error, "a command failed");
            let _ = ctx
                .send(
                    poise::CreateReply::default()
                        .content(
                            "Something went wrong on Spar's side; please try again in a moment.",
                        )
                        .ephemeral(true),
                )
                .await;
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!(error = %e, "could not report an error to Discord");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shards;

    #[test]
    fn a_shard_range_reads_as_first_last_and_total() {
        assert_eq!(
            Shards::parse("0-3/8"),
            Ok(Shards {
                first: 0,
                last: 3,
                total: 8
            })
        );
        assert_eq!(
            Shards::parse(" 5/8 "),
            Ok(Shards {
                first: 5,
                last: 5,
                total: 8
            })
        );
        for bad in ["", "3", "4-2/8", "0-8/8", "x-1/2", "0/0"] {
            assert!(Shards::parse(bad).is_err(), "{bad}");
        }
    }
}
