//! A local Discord on 127.0.0.1: the REST API under `/api/v10` and the gateway at `/gateway`,
//! speaking the real wire formats (JSON objects serenity deserializes, gateway opcodes, error
//! bodies with Discord's codes), so the bot's Discord adapter is tested against Discord's
//! behaviour rather than its own idea of it. It records every REST request, can answer a
//! route with a scripted error, and sends gateway dispatches that tests build from real
//! payload shapes. It knows nothing about the bot it serves.
//!
//! Point serenity at it with `HttpBuilder::new(fake.token()).proxy(fake.base_url())
//! .ratelimiter_disabled(true)`: serenity's rate limiter builds its requests without the
//! proxy, so with it enabled they would go to the real discord.com.

#![allow(
    dead_code,
    unused_imports,
    reason = "the fake serves every adapter test; each test uses part of it"
)]

mod gateway;
mod payloads;
mod rest;
mod world;

pub use payloads::SlashCommand;
pub use world::{channel_type, intent, permission};

use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use world::{World, snowflake};

/// How the fake world starts: the bot, its token and the one guild and channel it is in.
#[derive(Clone, Debug)]
pub struct FakeDiscordConfig {
    /// The only token REST and the gateway accept (REST as `Bot <token>`).
    pub token: String,
    pub bot_name: String,
    pub guild_name: String,
    pub channel_name: String,
    /// The permissions of the bot's managed role in every guild.
    pub bot_permissions: u64,
    /// What Hello tells clients; serenity heartbeats at this interval.
    pub heartbeat_interval_ms: u64,
}

impl Default for FakeDiscordConfig {
    fn default() -> Self {
        FakeDiscordConfig {
            token: "fake-discord-bot-token".into(),
            bot_name: "fake-bot".into(),
            guild_name: "Test Server".into(),
            channel_name: "general".into(),
            bot_permissions: permission::BOT_DEFAULT,
            heartbeat_interval_ms: 41_250,
        }
    }
}

/// A Discord user the fake knows, for building payloads in which they act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscordUser {
    pub id: u64,
    pub name: String,
}

/// A file sent in a multipart request (`files[n]` parts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedFile {
    /// The form field, e.g. `files[0]`.
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// One REST request as the fake received it, and what it answered.
#[derive(Clone, Debug)]
pub struct DiscordCall {
    pub method: String,
    /// The path after `/api/v10`, e.g. `/channels/123/messages`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    /// `X-Audit-Log-Reason`, percent-decoded.
    pub audit_log_reason: Option<String>,
    /// The JSON body, or a multipart request's `payload_json`; `Null` when there was none.
    pub body: Value,
    pub files: Vec<UploadedFile>,
    pub status: u16,
    /// The JSON answered; `Null` for 204.
    pub response: Value,
}

impl DiscordCall {
    pub fn is(&self, method: &str, path_prefix: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path.starts_with(path_prefix)
    }
}

/// An error a route can be scripted to answer, with Discord's status and JSON body.
#[derive(Clone, Debug)]
pub enum DiscordError {
    /// 403 `{"code": 50013, "message": "Missing Permissions"}`.
    MissingPermissions,
    /// 403 `{"code": 50001, "message": "Missing Access"}`.
    MissingAccess,
    /// 404 `{"code": 10003, "message": "Unknown Channel"}`.
    UnknownChannel,
    /// 404 `{"code": 10008, "message": "Unknown Message"}`.
    UnknownMessage,
    /// 404 `{"code": 10062, "message": "Unknown interaction"}`.
    UnknownInteraction,
    /// 429 with `retry_after` (seconds) in the body and `Retry-After` and `X-RateLimit-*`
    /// headers; `global` sets `X-RateLimit-Global` and the global scope.
    RateLimited { retry_after: f64, global: bool },
    /// 500 `{"message": "500: Internal Server Error", "code": 0}`.
    ServerError,
    /// Any other JSON error.
    Json {
        status: u16,
        code: u64,
        message: String,
    },
}

struct ScriptedFailure {
    method: String,
    path_prefix: String,
    error: DiscordError,
    /// `None` answers every matching request; `Some(n)` the next n.
    remaining: Option<usize>,
}

/// The fake's whole state, behind one lock so REST and the gateway see the same world.
pub(crate) struct State {
    world: World,
    calls: Vec<DiscordCall>,
    failures: Vec<ScriptedFailure>,
    gateway: gateway::GatewayState,
    /// Whether the bot's own REST actions come back as gateway dispatches, as on Discord.
    echo: bool,
    heartbeat_interval_ms: u64,
    addr: SocketAddr,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    /// Woken after every REST call is recorded.
    calls_changed: Notify,
    /// Woken when a session identifies, resumes or closes.
    gateway_changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock already failed; the state is still
        // worth reading for the next assertion's message.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake Discord.
pub struct FakeDiscord {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeDiscord {
    /// Starts a fake with one guild ("Test Server") holding one text channel ("general"),
    /// its owner and the bot.
    pub async fn start() -> FakeDiscord {
        FakeDiscord::start_with(FakeDiscordConfig::default()).await
    }

    pub async fn start_with(config: FakeDiscordConfig) -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port for the fake Discord");
        let addr = listener.local_addr().expect("the fake's address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                world: World::new(&config),
                calls: Vec::new(),
                failures: Vec::new(),
                gateway: gateway::GatewayState::default(),
                echo: true,
                heartbeat_interval_ms: config.heartbeat_interval_ms,
                addr,
            }),
            calls_changed: Notify::new(),
            gateway_changed: Notify::new(),
        });
        let app = axum::Router::new()
            .route("/gateway", axum::routing::get(gateway::upgrade))
            .fallback(rest::handle)
            .with_state(shared.clone());
        tokio::spawn(async move {
            // The server lives as long as the test's runtime.
            let _ = axum::serve(listener, app).await;
        });
        FakeDiscord { addr, shared }
    }

    /// What `HttpBuilder::proxy` takes: serenity replaces `https://discord.com` with it.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api/v10", self.addr)
    }

    /// The gateway URL `GET /gateway` hands out.
    pub fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }

    pub fn token(&self) -> String {
        self.shared.lock().world.token.clone()
    }

    pub fn application_id(&self) -> u64 {
        self.shared.lock().world.application_id
    }

    pub fn bot_user_id(&self) -> u64 {
        self.shared.lock().world.bot.id
    }

    /// The guild the fake starts with.
    pub fn guild_id(&self) -> u64 {
        self.shared.lock().world.default_guild
    }

    /// The text channel the fake starts with.
    pub fn channel_id(&self) -> u64 {
        self.shared.lock().world.default_channel
    }

    /// The owner of every guild (all permissions).
    pub fn owner(&self) -> DiscordUser {
        let state = self.shared.lock();
        let id = state.world.owner_id;
        DiscordUser {
            id,
            name: state.world.users[&id].username.clone(),
        }
    }

    /// A new member of the first guild. `permissions` are Discord's bits (serenity's
    /// `Permissions::bits()` works); anything beyond `@everyone`'s comes from a role of their own.
    pub fn add_member(&self, name: &str, permissions: u64) -> DiscordUser {
        let guild = self.guild_id();
        self.add_member_in(guild, name, permissions)
    }

    pub fn add_member_in(&self, guild_id: u64, name: &str, permissions: u64) -> DiscordUser {
        let id = self
            .shared
            .lock()
            .world
            .add_user(name, Some((guild_id, permissions)));
        DiscordUser {
            id,
            name: name.to_string(),
        }
    }

    /// A user in no guild the bot shares (to DM, or to be unknown to a guild).
    pub fn add_user(&self, name: &str) -> DiscordUser {
        let id = self.shared.lock().world.add_user(name, None);
        DiscordUser {
            id,
            name: name.to_string(),
        }
    }

    pub fn add_text_channel(&self, guild_id: u64, name: &str) -> u64 {
        let mut state = self.shared.lock();
        let id = state.world.add_text_channel(guild_id, name);
        if let Some(channel) = state.world.channels.get(&id).cloned() {
            state.send_echo("CHANNEL_CREATE", channel);
        }
        id
    }

    /// The bot joins a new guild: live sessions get its `GUILD_CREATE`, as after an invite.
    pub fn add_guild(&self, name: &str) -> u64 {
        let mut state = self.shared.lock();
        let bot_permissions = state.world.guilds[&state.world.default_guild]
            .roles
            .iter()
            .find(|r| r.bot_id.is_some())
            .map_or(permission::BOT_DEFAULT, |r| r.permissions);
        let id = state.world.add_guild(name, bot_permissions);
        state.world.add_text_channel(id, "general");
        if let Some(guild) = state.world.guild_create_json(id) {
            state.dispatch("GUILD_CREATE", guild);
        }
        id
    }

    /// Whether the bot's own messages, edits, deletions and threads come back over the
    /// gateway (as Discord sends them). On by default.
    pub fn set_echo(&self, echo: bool) {
        self.shared.lock().echo = echo;
    }

    // --- REST record -------------------------------------------------------------------

    pub fn calls(&self) -> Vec<DiscordCall> {
        self.shared.lock().calls.clone()
    }

    /// The calls with this method whose path starts with `path_prefix` (after `/api/v10`).
    pub fn calls_matching(&self, method: &str, path_prefix: &str) -> Vec<DiscordCall> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.is(method, path_prefix))
            .cloned()
            .collect()
    }

    /// Waits until `found` returns something for the calls so far, and returns it. Woken by
    /// each call; `timeout` only bounds a failure, which panics listing the calls seen.
    pub async fn wait_for<T>(
        &self,
        found: impl Fn(&[DiscordCall]) -> Option<T>,
        timeout: Duration,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.calls_changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(result) = found(&self.shared.lock().calls) {
                return result;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let seen: Vec<String> = self
                    .calls()
                    .iter()
                    .map(|c| format!("{} {} -> {} {}", c.method, c.path, c.status, c.body))
                    .collect();
                panic!(
                    "the fake Discord did not see the awaited requests within {timeout:?}; it saw:\n{}",
                    seen.join("\n")
                );
            }
        }
    }

    /// Waits for the first call with this method and path prefix.
    pub async fn wait_for_call(
        &self,
        method: &str,
        path_prefix: &str,
        timeout: Duration,
    ) -> DiscordCall {
        self.wait_for(
            |calls| calls.iter().find(|c| c.is(method, path_prefix)).cloned(),
            timeout,
        )
        .await
    }

    /// Waits until `n` calls match, and returns all that match.
    pub async fn wait_for_calls(
        &self,
        method: &str,
        path_prefix: &str,
        n: usize,
        timeout: Duration,
    ) -> Vec<DiscordCall> {
        self.wait_for(
            |calls| {
                let matching: Vec<DiscordCall> = calls
                    .iter()
                    .filter(|c| c.is(method, path_prefix))
                    .cloned()
                    .collect();
                (matching.len() >= n).then_some(matching)
            },
            timeout,
        )
        .await
    }

    // --- scripted failures ---------------------------------------------------------------

    /// The next request with this method and path prefix gets `error`.
    pub fn fail_once(&self, method: &str, path_prefix: &str, error: DiscordError) {
        self.fail(method, path_prefix, error, Some(1));
    }

    /// Every request with this method and path prefix gets `error` until cleared.
    pub fn fail_always(&self, method: &str, path_prefix: &str, error: DiscordError) {
        self.fail(method, path_prefix, error, None);
    }

    pub fn clear_failures(&self) {
        self.shared.lock().failures.clear();
    }

    fn fail(&self, method: &str, path_prefix: &str, error: DiscordError, times: Option<usize>) {
        self.shared.lock().failures.push(ScriptedFailure {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            error,
            remaining: times,
        });
    }

    // --- what the fake holds -------------------------------------------------------------

    pub fn message(&self, id: u64) -> Option<Value> {
        self.shared.lock().world.messages.get(&id).cloned()
    }

    /// The messages in a channel or thread, oldest first, in their latest state.
    pub fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        self.shared
            .lock()
            .world
            .messages
            .values()
            .filter(|m| snowflake(&m["channel_id"]) == Some(channel_id))
            .cloned()
            .collect()
    }

    pub fn channel(&self, id: u64) -> Option<Value> {
        self.shared.lock().world.channels.get(&id).cloned()
    }

    /// The registered commands: global with `None`, else the guild's.
    pub fn commands(&self, guild_id: Option<u64>) -> Vec<Value> {
        let state = self.shared.lock();
        match guild_id {
            None => state.world.global_commands.clone(),
            Some(id) => state
                .world
                .guild_commands
                .get(&id)
                .cloned()
                .unwrap_or_default(),
        }
    }

    // --- gateway -------------------------------------------------------------------------

    /// Sends a dispatch (`op: 0`) to every identified session whose intents admit it, with
    /// Discord's per-session sequence numbers; message content is blanked for sessions
    /// without the MESSAGE_CONTENT intent, as Discord does. Sessions that dropped but can
    /// resume keep it for replay. Returns how many live sessions it went to.
    /// An `INTERACTION_CREATE` registers the interaction so its callbacks are accepted.
    pub fn dispatch(&self, event: &str, data: Value) -> usize {
        let mut state = self.shared.lock();
        if event == "INTERACTION_CREATE" {
            state.world.register_interaction(&data);
        }
        state.dispatch(event, data)
    }

    /// How many sessions are connected and identified (or resumed) now.
    pub fn identified(&self) -> usize {
        self.shared.lock().gateway.live_sessions()
    }

    /// Waits until at least `n` sessions are connected and identified.
    pub async fn wait_identified(&self, n: usize, timeout: Duration) {
        self.wait_gateway(
            |g| g.live_sessions() >= n,
            timeout,
            &format!("{n} identified sessions"),
        )
        .await;
    }

    /// Waits until at least `n` resumes have succeeded since the fake started.
    pub async fn wait_resumed(&self, n: usize, timeout: Duration) {
        self.wait_gateway(
            |g| g.resumed >= n,
            timeout,
            &format!("{n} resumed sessions"),
        )
        .await;
    }

    /// Waits until at least `n` heartbeats have been received (and acknowledged).
    pub async fn wait_heartbeats(&self, n: usize, timeout: Duration) {
        self.wait_gateway(|g| g.heartbeats >= n, timeout, &format!("{n} heartbeats"))
            .await;
    }

    /// Every Identify received (`d` of op 2), in order.
    pub fn identifies(&self) -> Vec<Value> {
        self.shared.lock().gateway.identifies.clone()
    }

    /// How many heartbeats (op 1) were received; each was answered with op 11.
    pub fn heartbeats(&self) -> usize {
        self.shared.lock().gateway.heartbeats
    }

    /// Closes every connection without a closing handshake, as a network failure or a
    /// gateway restart does. Sessions stay resumable: a Resume replays what was missed.
    pub fn drop_sessions(&self) {
        self.shared.lock().gateway.drop_connections();
        self.shared.gateway_changed.notify_waiters();
    }

    /// While `hold` is set, new gateway connections are refused (503), so a test can act
    /// while a client is surely disconnected.
    pub fn hold_connections(&self, hold: bool) {
        self.shared.lock().gateway.holding = hold;
    }

    /// Forgets every session: a Resume is answered with Invalid Session (op 9, `false`),
    /// so clients identify again.
    pub fn invalidate_sessions(&self) {
        self.shared.lock().gateway.invalidate();
        self.shared.gateway_changed.notify_waiters();
    }

    async fn wait_gateway(
        &self,
        ready: impl Fn(&gateway::GatewayState) -> bool,
        timeout: Duration,
        what: &str,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.gateway_changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if ready(&self.shared.lock().gateway) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let state = self.shared.lock();
                panic!(
                    "the fake Discord gateway did not reach {what} within {timeout:?}: {} live, {} identifies, {} resumed; REST calls: {:?}",
                    state.gateway.live_sessions(),
                    state.gateway.identifies.len(),
                    state.gateway.resumed,
                    state
                        .calls
                        .iter()
                        .map(|c| format!("{} {} -> {}", c.method, c.path, c.status))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}
