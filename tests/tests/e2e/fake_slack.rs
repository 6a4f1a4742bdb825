//! A local Slack on 127.0.0.1: the Web API under `/api/{method}` and Socket Mode at
//! `/socket`, speaking Slack's wire formats (`ok`/`error` envelopes, HTTP 429 with
//! `Retry-After`, Block Kit's limits, the `hello`, envelope and acknowledgement frames), and
//! the `response_url` of commands and clicks under `/hooks`, so the bot's Slack
//! adapter is tested against Slack's behaviour. It records every Web API call, can answer a
//! method with a scripted error, delivers envelopes that tests build from Slack's payload
//! shapes, and signs requests as Slack does. It knows nothing about the bot it serves.
//!
//! Point slack-morphism at it with
//! `SlackClientHyperConnector::with_connector(HttpConnector::new()).with_slack_api_url(&fake.api_url())`;
//! `api_url()` has no trailing slash, since slack-morphism joins it and the method with `/`.

#![allow(
    dead_code,
    unused_imports,
    reason = "the fake serves every adapter test; each test uses part of it"
)]

mod payloads;
mod socket;
mod web;

pub use payloads::{SlashCommand, form_payload, sign, signature_headers};

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// How the fake workspace starts.
#[derive(Clone, Debug)]
pub struct FakeSlackConfig {
    /// The bot token (`xoxb-`) every Web API method but `apps.connections.open` takes.
    pub bot_token: String,
    /// The app-level token (`xapp-`) `apps.connections.open` takes.
    pub app_token: String,
    /// The secret requests to the bot's HTTP endpoints are signed with.
    pub signing_secret: String,
    pub team_name: String,
    pub bot_name: String,
}

impl Default for FakeSlackConfig {
    fn default() -> Self {
        FakeSlackConfig {
            bot_token: "xoxb-fake-bot-token".into(),
            app_token: "xapp-fake-app-token".into(),
            signing_secret: "fake-signing-secret".into(),
            team_name: "Test Workspace".into(),
            bot_name: "fake-bot".into(),
        }
    }
}

/// A Slack user (or bot user) the fake knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlackUser {
    pub id: String,
    pub name: String,
    /// Set for bot users: the bot id their messages carry.
    pub bot_id: Option<String>,
}

/// What kind of conversation a new channel is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlackChannelKind {
    /// A public channel; `member` says whether the bot is in it.
    Public { member: bool },
    /// A private channel the bot was invited to.
    Private,
}

/// One Web API call as the fake received it, and what it answered.
#[derive(Clone, Debug)]
pub struct SlackCall {
    /// The method, e.g. `chat.postMessage`; `files.upload` for a POST to an upload URL.
    pub method: String,
    pub http_method: String,
    /// The bearer token, or a `token` argument.
    pub token: Option<String>,
    pub content_type: Option<String>,
    /// Query and body arguments as one JSON object. Form fields are strings, except those
    /// Slack reads as JSON (`blocks`, `attachments`, `view`, `files`, ...), which are parsed.
    pub args: Value,
    /// The raw body, for uploads.
    pub bytes: Vec<u8>,
    pub status: u16,
    /// The JSON answered (`Null` for an upload's text answer).
    pub response: Value,
}

/// An error a method can be scripted to answer.
#[derive(Clone, Debug)]
pub enum SlackError {
    /// HTTP 200 `{"ok": false, "error": code}`, e.g. `not_in_channel`, `is_archived`,
    /// `channel_not_found`.
    Api(String),
    /// HTTP 200 `{"ok": false, "error": "missing_scope", "needed": scope, "provided": ...}`.
    MissingScope { needed: String },
    /// HTTP 429 with `Retry-After` (seconds) and `{"ok": false, "error": "ratelimited"}`.
    RateLimited { retry_after_secs: u64 },
    /// An HTTP error status with no JSON, as from Slack's edge when it is down.
    Http(u16),
}

impl SlackError {
    pub fn api(code: &str) -> SlackError {
        SlackError::Api(code.to_string())
    }
}

struct ScriptedFailure {
    method: String,
    error: SlackError,
    remaining: Option<usize>,
}

/// A Socket Mode envelope the fake sent.
#[derive(Clone, Debug)]
pub struct SentEnvelope {
    pub envelope_id: String,
    pub kind: String,
    pub connection: u64,
    pub frame: Value,
}

/// An acknowledgement received on a Socket Mode connection.
#[derive(Clone, Debug)]
pub struct SocketAck {
    pub envelope_id: String,
    /// The response payload, when the app sent one.
    pub payload: Option<Value>,
    pub connection: u64,
    /// The whole frame as received.
    pub frame: Value,
}

pub(crate) struct ChannelRecord {
    pub id: String,
    pub name: String,
    pub kind: ChannelKindRecord,
    pub is_archived: bool,
    pub is_member: bool,
    pub created: u64,
}

pub(crate) enum ChannelKindRecord {
    Public,
    Private,
    Im { user: String },
}

pub(crate) struct FileRecord {
    pub id: String,
    pub filename: String,
    pub length: u64,
    pub bytes: Option<Vec<u8>>,
    pub content_type: Option<String>,
    pub shared: bool,
}

/// Everything the fake Slack holds, behind one lock.
pub(crate) struct State {
    pub config: FakeSlackConfig,
    pub addr: SocketAddr,
    pub team_id: String,
    pub app_id: String,
    pub bot: SlackUser,
    pub next_id: u64,
    pub last_ts_micros: u64,
    pub users: BTreeMap<String, SlackUser>,
    pub channels: BTreeMap<String, ChannelRecord>,
    pub default_channel: String,
    /// Messages by channel, each as Slack stores it (with `ts`).
    pub messages: BTreeMap<String, Vec<Value>>,
    pub files: BTreeMap<String, FileRecord>,
    pub views: HashMap<String, Value>,
    /// Trigger ids handed out in payloads, and whether one was used.
    pub triggers: HashMap<String, bool>,
    pub calls: Vec<SlackCall>,
    failures: Vec<ScriptedFailure>,
    /// Users who administer the workspace (`is_admin` in `users.info`).
    pub admins: std::collections::HashSet<String>,
    /// Methods answered only after a while, as a slow Slack would.
    pub delays: HashMap<String, Duration>,
    pub socket: socket::SocketState,
}

impl State {
    /// A Slack-style id: a prefix letter and ten uppercase characters.
    pub fn new_id(&mut self, prefix: char) -> String {
        self.next_id += 1;
        format!("{prefix}0FAKE{:05}", self.next_id)
    }

    /// A message timestamp: seconds and microseconds, unique and increasing.
    pub fn new_ts(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        self.last_ts_micros = now.max(self.last_ts_micros + 1);
        format!(
            "{}.{:06}",
            self.last_ts_micros / 1_000_000,
            self.last_ts_micros % 1_000_000
        )
    }

    pub fn now_secs(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn add_user(&mut self, name: &str, bot: bool) -> SlackUser {
        let id = self.new_id('U');
        let bot_id = bot.then(|| self.new_id('B'));
        let user = SlackUser {
            id: id.clone(),
            name: name.to_string(),
            bot_id,
        };
        self.users.insert(id, user.clone());
        user
    }

    fn add_channel(&mut self, name: &str, kind: SlackChannelKind) -> String {
        let id = match kind {
            SlackChannelKind::Public { .. } => self.new_id('C'),
            SlackChannelKind::Private => self.new_id('G'),
        };
        let (kind, is_member) = match kind {
            SlackChannelKind::Public { member } => (ChannelKindRecord::Public, member),
            SlackChannelKind::Private => (ChannelKindRecord::Private, true),
        };
        let created = self.now_secs();
        self.channels.insert(
            id.clone(),
            ChannelRecord {
                id: id.clone(),
                name: name.to_string(),
                kind,
                is_archived: false,
                is_member,
                created,
            },
        );
        id
    }

    fn scripted_failure(&mut self, method: &str) -> Option<SlackError> {
        let index = self.failures.iter().position(|f| f.method == method)?;
        let failure = &mut self.failures[index];
        let error = failure.error.clone();
        if let Some(remaining) = failure.remaining.as_mut() {
            *remaining -= 1;
            if *remaining == 0 {
                self.failures.remove(index);
            }
        }
        Some(error)
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    /// Woken after every Web API call is recorded.
    calls_changed: Notify,
    /// Woken when a Socket Mode connection opens or closes, or a frame arrives.
    socket_changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake Slack.
pub struct FakeSlack {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeSlack {
    /// Starts a fake workspace with the bot, one user (`alice`) and a public channel
    /// `general` the bot is a member of.
    pub async fn start() -> FakeSlack {
        FakeSlack::start_with(FakeSlackConfig::default()).await
    }

    pub async fn start_with(config: FakeSlackConfig) -> FakeSlack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port for the fake Slack");
        let addr = listener.local_addr().expect("the fake's address");
        let bot_name = config.bot_name.clone();
        let mut state = State {
            config,
            addr,
            team_id: String::new(),
            app_id: String::new(),
            bot: SlackUser {
                id: String::new(),
                name: String::new(),
                bot_id: None,
            },
            next_id: 0,
            last_ts_micros: 0,
            users: BTreeMap::new(),
            channels: BTreeMap::new(),
            default_channel: String::new(),
            messages: BTreeMap::new(),
            files: BTreeMap::new(),
            views: HashMap::new(),
            triggers: HashMap::new(),
            calls: Vec::new(),
            failures: Vec::new(),
            admins: std::collections::HashSet::new(),
            delays: HashMap::new(),
            socket: socket::SocketState::default(),
        };
        state.team_id = state.new_id('T');
        state.app_id = state.new_id('A');
        state.bot = state.add_user(&bot_name, true);
        state.add_user("alice", false);
        state.default_channel =
            state.add_channel("general", SlackChannelKind::Public { member: true });
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            calls_changed: Notify::new(),
            socket_changed: Notify::new(),
        });
        let app = axum::Router::new()
            .route("/api/{method}", axum::routing::any(web::method))
            .route("/upload/v1/{file}", axum::routing::post(web::upload))
            .route("/hooks/{*path}", axum::routing::post(web::respond))
            .route("/socket", axum::routing::get(socket::upgrade))
            .with_state(shared.clone());
        tokio::spawn(async move {
            // The server lives as long as the test's runtime.
            let _ = axum::serve(listener, app).await;
        });
        FakeSlack { addr, shared }
    }

    /// The Web API base, without a trailing slash.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    pub fn bot_token(&self) -> String {
        self.shared.lock().config.bot_token.clone()
    }

    pub fn app_token(&self) -> String {
        self.shared.lock().config.app_token.clone()
    }

    pub fn signing_secret(&self) -> String {
        self.shared.lock().config.signing_secret.clone()
    }

    pub fn team_id(&self) -> String {
        self.shared.lock().team_id.clone()
    }

    pub fn app_id(&self) -> String {
        self.shared.lock().app_id.clone()
    }

    /// The bot user (with its `bot_id`).
    pub fn bot(&self) -> SlackUser {
        self.shared.lock().bot.clone()
    }

    /// The user the fake starts with, `alice`.
    pub fn alice(&self) -> SlackUser {
        let state = self.shared.lock();
        state
            .users
            .values()
            .find(|u| u.name == "alice")
            .cloned()
            .expect("alice exists from the start")
    }

    /// The public channel `general`, which the bot is in.
    pub fn channel_id(&self) -> String {
        self.shared.lock().default_channel.clone()
    }

    pub fn add_user(&self, name: &str) -> SlackUser {
        self.shared.lock().add_user(name, false)
    }

    /// Another app's bot user, whose messages carry its `bot_id`.
    pub fn add_bot(&self, name: &str) -> SlackUser {
        self.shared.lock().add_user(name, true)
    }

    pub fn add_channel(&self, name: &str, kind: SlackChannelKind) -> String {
        self.shared.lock().add_channel(name, kind)
    }

    /// Makes `user` a workspace admin, as `users.info` then says.
    pub fn make_admin(&self, user: &SlackUser) {
        self.shared.lock().admins.insert(user.id.clone());
    }

    /// The direct-message conversation between the bot and `user`.
    pub fn add_im(&self, user: &SlackUser) -> String {
        let mut state = self.shared.lock();
        let id = state.new_id('D');
        let created = state.now_secs();
        state.channels.insert(
            id.clone(),
            ChannelRecord {
                id: id.clone(),
                name: user.id.clone(),
                kind: ChannelKindRecord::Im {
                    user: user.id.clone(),
                },
                is_archived: false,
                is_member: true,
                created,
            },
        );
        id
    }

    pub fn archive_channel(&self, channel: &str) {
        if let Some(record) = self.shared.lock().channels.get_mut(channel) {
            record.is_archived = true;
        }
    }

    /// The messages in a channel (replies included), oldest first, in their latest state.
    pub fn messages_in(&self, channel: &str) -> Vec<Value> {
        self.shared
            .lock()
            .messages
            .get(channel)
            .cloned()
            .unwrap_or_default()
    }

    /// The direct-message conversation between the bot and `user`, if one was opened.
    pub fn im_of(&self, user: &SlackUser) -> Option<String> {
        self.shared
            .lock()
            .channels
            .values()
            .find(|c| matches!(&c.kind, ChannelKindRecord::Im { user: u } if *u == user.id))
            .map(|c| c.id.clone())
    }

    /// An uploaded file's bytes, once the upload URL received them.
    pub fn file_bytes(&self, file_id: &str) -> Option<Vec<u8>> {
        self.shared
            .lock()
            .files
            .get(file_id)
            .and_then(|f| f.bytes.clone())
    }

    /// A view opened with `views.open`, as Slack returned it.
    pub fn view(&self, view_id: &str) -> Option<Value> {
        self.shared.lock().views.get(view_id).cloned()
    }

    // --- Web API record ------------------------------------------------------------------

    pub fn calls(&self) -> Vec<SlackCall> {
        self.shared.lock().calls.clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<SlackCall> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Waits until `found` returns something for the calls so far, and returns it. Woken by
    /// each call; `timeout` only bounds a failure, which panics listing the calls seen.
    pub async fn wait_for<T>(
        &self,
        found: impl Fn(&[SlackCall]) -> Option<T>,
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
                    .map(|c| format!("{} {} -> {}", c.method, c.args, c.response))
                    .collect();
                panic!(
                    "the fake Slack did not see the awaited calls within {timeout:?}; it saw:\n{}",
                    seen.join("\n")
                );
            }
        }
    }

    /// Waits for the first call to `method`.
    pub async fn wait_for_call(&self, method: &str, timeout: Duration) -> SlackCall {
        self.wait_for(
            |calls| calls.iter().find(|c| c.method == method).cloned(),
            timeout,
        )
        .await
    }

    /// Waits for the modal opened in answer to the click that carried `trigger`.
    pub async fn wait_for_view(&self, trigger: &str, timeout: Duration) -> SlackCall {
        self.wait_for(
            |calls| {
                calls
                    .iter()
                    .find(|c| c.method == "views.open" && c.args["trigger_id"] == trigger)
                    .cloned()
            },
            timeout,
        )
        .await
    }

    /// Waits until `method` was called `n` times, and returns those calls.
    pub async fn wait_for_calls(
        &self,
        method: &str,
        n: usize,
        timeout: Duration,
    ) -> Vec<SlackCall> {
        self.wait_for(
            |calls| {
                let matching: Vec<SlackCall> = calls
                    .iter()
                    .filter(|c| c.method == method)
                    .cloned()
                    .collect();
                (matching.len() >= n).then_some(matching)
            },
            timeout,
        )
        .await
    }

    // --- scripted failures ---------------------------------------------------------------

    /// The next call to `method` gets `error`.
    pub fn fail_once(&self, method: &str, error: SlackError) {
        self.fail(method, error, Some(1));
    }

    /// Every call to `method` gets `error` until cleared.
    pub fn fail_always(&self, method: &str, error: SlackError) {
        self.fail(method, error, None);
    }

    /// Every call to `method` is answered `delay` late, until cleared.
    pub fn delay(&self, method: &str, delay: Duration) {
        self.shared.lock().delays.insert(method.to_string(), delay);
    }

    pub fn clear_delays(&self) {
        self.shared.lock().delays.clear();
    }

    pub fn clear_failures(&self) {
        self.shared.lock().failures.clear();
    }

    fn fail(&self, method: &str, error: SlackError, remaining: Option<usize>) {
        self.shared.lock().failures.push(ScriptedFailure {
            method: method.to_string(),
            error,
            remaining,
        });
    }
}
