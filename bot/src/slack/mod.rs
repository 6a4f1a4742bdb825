//! The Slack adapter: `/spar` as a slash command, drills in threads under the bot's first
//! message, Block Kit scorecards, over Socket Mode or signed HTTP. Both transports hand
//! Slack's payloads to one `SlackApp`, which translates them into the chat runtime's calls
//! and holds no drill logic: every decision is `chat::Runtime`'s.

pub mod http;
pub mod rating;
pub mod render;
mod socket;
mod surface;

pub use surface::{Client, Connector, Profile, SlackSurface};

use crate::chat::{Action, Command, Handled, Invocation, Pending, Reply, Runtime};
use crate::config::Secret;
use anyhow::Context as _;
use render::{Click, Parsed};
use slack_morphism::prelude::*;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Where Slack's Web API is when nothing else is configured.
pub const DEFAULT_API_URL: &str = "https://slack.com/api/";

/// How long a slash command may take before it is acknowledged without its answer, which
/// then follows as a message only the asker sees. Slack waits 3 seconds.
const ACK_BUDGET: Duration = Duration::from_millis(2500);

/// How Slack reaches Spar.
#[derive(Debug, Clone)]
pub enum Transport {
    /// Spar opens a websocket to Slack with the app-level token: no public URL needed.
    SocketMode { app_token: Secret },
    /// Slack POSTs to Spar's HTTP endpoints, each request signed with the signing secret.
    Http {
        addr: SocketAddr,
        signing_secret: Secret,
    },
}

/// What the adapter is configured with.
#[derive(Debug, Clone)]
pub struct SlackConfig {
    pub bot_token: Secret,
    /// The Web API base without a trailing slash: slack-morphism adds `/` and the method.
    pub api_url: String,
    pub transport: Transport,
}

/// `url` as slack-morphism joins it with a method: no trailing slash, so that
/// `https://slack.com/api/` and `https://slack.com/api` both give `…/api/chat.postMessage`.
pub fn normalise_api_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.contains(char::is_whitespace)
    {
        return Err(format!(
            "SPAR_SLACK_API_URL {url:?} must be an http:// or https:// URL, such as {DEFAULT_API_URL}"
        ));
    }
    Ok(url.to_string())
}

/// The Web API client: HTTPS with the system's root certificates, or plain HTTP where the
/// configured base says so (a local stand-in).
pub fn client(api_url: &str) -> anyhow::Result<Arc<Client>> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .context("loading the system's root certificates for Slack")?
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();
    let connector = SlackClientHyperConnector::with_connector(https).with_slack_api_url(api_url);
    Ok(Arc::new(SlackClient::new(connector)))
}

/// After the transport: a slash command, an event or a click, as slack-morphism reads it,
/// into the runtime and back. Socket Mode and HTTP call the same three methods.
pub struct SlackApp {
    runtime: Arc<Runtime>,
    surface: Arc<SlackSurface>,
}

impl SlackApp {
    pub fn new(runtime: Arc<Runtime>, surface: Arc<SlackSurface>) -> SlackApp {
        SlackApp { runtime, surface }
    }

    /// `/spar …`: the answer to send with the acknowledgement, when the runtime gives it
    /// within `ACK_BUDGET`; otherwise `None`, and the answer follows as an ephemeral
    /// message. What the command set going (the antagonist's opening, a debrief) runs after.
    pub async fn command(self: &Arc<Self>, event: SlackCommandEvent) -> Option<render::Message> {
        let text = event.text.clone().unwrap_or_default();
        tracing::debug!(channel = %event.channel_id, "a slash command");
        let command = match render::parse(&text) {
            Parsed::Run(command) => command,
            Parsed::Answer(answer) => return Some(render::plain(&answer)),
        };
        if let (Command::Solo { .. }, Some(why)) =
            (&command, render::no_drill_in(&event.channel_id.0))
        {
            return Some(render::plain(why));
        }
        let mut invocation = render::command_invocation(&event);
        let app = self.clone();
        let mut working = tokio::spawn(async move {
            // A drill, a queue entry, a pairing and a round carry the member's name, and
            // settings and rounds need to know whether they are an admin; the rest do not
            // wait for Slack.
            if matches!(
                command,
                Command::Solo { .. }
                    | Command::Config(_)
                    | Command::Join { .. }
                    | Command::Pair
                    | Command::Rounds(_)
            ) {
                app.know(&mut invocation).await;
            }
            let handled = app.runtime.command(&invocation, command).await;
            (invocation, handled)
        });
        match tokio::time::timeout(ACK_BUDGET, &mut working).await {
            Ok(Ok((invocation, Handled { reply, then }))) => {
                let answer = render::reply(&reply);
                self.after(&invocation, reply, then, None, false);
                Some(answer)
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "a slash command's task failed");
                Some(render::plain(
                    "Something went wrong on Spar's side; please try again in a moment.",
                ))
            }
            Err(_) => {
                tracing::info!("a slash command outlasted the acknowledgement; its answer follows");
                let app = self.clone();
                let response_url = event.response_url.clone();
                tokio::spawn(async move {
                    match working.await {
                        Ok((invocation, Handled { reply, then })) => {
                            app.after(&invocation, reply, then, Some(response_url), true);
                        }
                        Err(e) => tracing::error!(error = %e, "a slash command's task failed"),
                    }
                });
                None
            }
        }
    }

    /// An Events API callback. A message in a drill's thread is applied (and so stored)
    /// before this returns, so the delivery is acknowledged only once its turn is safe; the
    /// antagonist's reply runs after. A redelivery carries the same event id, which the
    /// engine has already applied: it changes nothing.
    pub async fn event(self: &Arc<Self>, callback: SlackPushEventCallback) {
        let SlackEventCallbackBody::Message(message) = &callback.event else {
            return;
        };
        if let Some(channel) = render::archived(message) {
            self.runtime.channel_gone(render::PLATFORM, &channel).await;
            return;
        }
        if let Some((channel, ts)) = render::deleted(message) {
            self.runtime
                .thread_gone(render::PLATFORM, &ts, Some(&channel))
                .await;
            return;
        }
        let Some(message) = render::message(&callback.event_id.0, message) else {
            return;
        };
        if let Some(pending) = self.runtime.accept(render::PLATFORM, message).await {
            let runtime = self.runtime.clone();
            tokio::spawn(async move { runtime.perform(pending).await });
        }
    }

    /// A click or a form: acknowledged at once, answered after. A click on "Rate" opens
    /// the rating modal; a submitted rating is checked before it is acknowledged, so a
    /// field to fix is shown under it in the open modal (Slack's `response_action`).
    pub fn interaction(self: &Arc<Self>, event: SlackInteractionEvent) -> SlackInteractionResponse {
        match event {
            SlackInteractionEvent::BlockActions(actions) => self.click(&actions),
            SlackInteractionEvent::ViewSubmission(submission) => {
                return self.submitted(submission);
            }
            _ => tracing::debug!("an interaction Spar does not use"),
        }
        SlackInteractionResponse::Empty
    }

    fn click(self: &Arc<Self>, actions: &SlackInteractionBlockActionsEvent) {
        let Some(Click {
            mut invocation,
            action,
        }) = render::click(actions)
        else {
            return;
        };
        let response_url = actions.response_url.clone();
        let app = self.clone();
        if let Action::Rate(drill) = &action {
            let origin = rating::Origin {
                channel: invocation.channel.clone(),
                thread: invocation.thread.clone(),
            };
            let view = rating::modal(drill, &origin);
            let trigger = actions.trigger_id.0.clone();
            tokio::spawn(async move {
                if let Err(e) = app.surface.open_view(&trigger, view).await {
                    tracing::warn!(error = %e, "could not open the rating form");
                    let note =
                        render::plain("Spar could not open the rating form. Click *Rate* again.");
                    let user = &invocation.person.platform_user_id;
                    let _ = app
                        .surface
                        .ephemeral(
                            user,
                            &invocation.channel,
                            invocation.thread.as_deref(),
                            &note,
                            response_url.as_ref(),
                        )
                        .await;
                }
            });
            return;
        }
        tokio::spawn(async move {
            app.know(&mut invocation).await;
            let Handled { reply, then } = app.runtime.action(&invocation, action).await;
            app.after(&invocation, reply, then, response_url, true);
        });
    }

    /// A submitted rating form: the rating goes to the runtime after the acknowledgement
    /// (the last one posts the combined debrief), and its answer to the rater, in the
    /// thread they clicked in, only for them.
    fn submitted(
        self: &Arc<Self>,
        submission: SlackInteractionViewSubmissionEvent,
    ) -> SlackInteractionResponse {
        let rated = match rating::read(&submission.view) {
            Ok(rated) => rated,
            Err(rating::Unread::NotOurs) => {
                tracing::debug!("a view Spar did not open was submitted");
                return SlackInteractionResponse::Empty;
            }
            Err(rating::Unread::Fix(errors)) => {
                return SlackViewSubmissionResponse::Errors(
                    SlackViewSubmissionErrorsResponse::new(errors),
                )
                .into();
            }
        };
        let mut invocation = Invocation {
            event_id: submission.view.state_params.id.0.clone(),
            person: render::person(
                &submission.user.id,
                submission
                    .user
                    .name
                    .as_deref()
                    .or(submission.user.username.as_deref()),
            ),
            workspace: render::workspace(&submission.team.id, submission.team.domain.as_deref()),
            channel: rated.origin.channel.clone(),
            thread: rated.origin.thread.clone(),
            parent_channel: None,
            admin: false,
        };
        let app = self.clone();
        tokio::spawn(async move {
            app.know(&mut invocation).await;
            let Handled { reply, then } = app
                .runtime
                .rate(
                    &invocation,
                    &rated.drill,
                    &rated.scores,
                    rated.sentence.as_deref(),
                )
                .await;
            app.after(&invocation, reply, then, None, true);
        });
        SlackInteractionResponse::Empty
    }

    /// Fills in the member's name and whether they administer the workspace.
    async fn know(&self, invocation: &mut Invocation) {
        if let Some(profile) = self
            .surface
            .profile(&invocation.person.platform_user_id)
            .await
        {
            invocation.person.display_name = profile.name;
            invocation.admin = profile.admin;
        }
    }

    /// What follows an answer: the answer itself when it was not sent with the
    /// acknowledgement, its file, and the drill work the command set going.
    fn after(
        self: &Arc<Self>,
        invocation: &Invocation,
        reply: Reply,
        then: Option<Pending>,
        response_url: Option<SlackResponseUrl>,
        send_reply: bool,
    ) {
        if let Some(pending) = then {
            let runtime = self.runtime.clone();
            tokio::spawn(async move { runtime.perform(pending).await });
        }
        if !send_reply && reply.file.is_none() {
            return;
        }
        let app = self.clone();
        let invocation = invocation.clone();
        tokio::spawn(async move {
            let user = &invocation.person.platform_user_id;
            if send_reply {
                let message = render::reply(&reply);
                if let Err(e) = app
                    .surface
                    .ephemeral(
                        user,
                        &invocation.channel,
                        invocation.thread.as_deref(),
                        &message,
                        response_url.as_ref(),
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not answer a member");
                }
            }
            if let Some(file) = &reply.file {
                if let Err(e) = app
                    .surface
                    .send_file(user, &file.name, &file.bytes, &reply.text)
                    .await
                {
                    tracing::warn!(error = %e, file = file.name, "could not send a member a file");
                    let note = render::plain(&format!(
                        "Spar could not send you `{}` in a direct message: {e}",
                        file.name
                    ));
                    let _ = app
                        .surface
                        .ephemeral(
                            user,
                            &invocation.channel,
                            invocation.thread.as_deref(),
                            &note,
                            response_url.as_ref(),
                        )
                        .await;
                }
            }
        });
    }
}

/// A Slack app set up but not yet serving: its surface goes into the runtime, and the
/// runtime into the app when it serves.
pub struct Slack {
    surface: Arc<SlackSurface>,
    transport: Bound,
    team: String,
}

enum Bound {
    SocketMode {
        app_token: Secret,
    },
    Http {
        listener: tokio::net::TcpListener,
        signing_secret: Secret,
    },
}

impl Slack {
    /// Checks the bot token with Slack and, for HTTP, binds the address.
    pub async fn new(config: &SlackConfig) -> anyhow::Result<Slack> {
        let client = client(&config.api_url)?;
        let surface = Arc::new(SlackSurface::new(client, config.bot_token.expose()));
        let me = surface.auth_test().await.map_err(|e| match e {
            slack_morphism::errors::SlackClientError::ApiError(api) => crate::failure::input_error(
                format!("Slack did not accept SPAR_SLACK_BOT_TOKEN: {}", api.code),
            ),
            other => anyhow::anyhow!("could not reach Slack at {}: {other}", config.api_url),
        })?;
        tracing::info!(team = %me.team, bot = %me.user_id, "connected to Slack's Web API");
        let transport = match &config.transport {
            Transport::SocketMode { app_token } => Bound::SocketMode {
                app_token: app_token.clone(),
            },
            Transport::Http {
                addr,
                signing_secret,
            } => Bound::Http {
                listener: tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening for Slack at {addr}"))?,
                signing_secret: signing_secret.clone(),
            },
        };
        Ok(Slack {
            surface,
            transport,
            team: me.team,
        })
    }

    /// The surface the runtime posts through.
    pub fn surface(&self) -> Arc<SlackSurface> {
        self.surface.clone()
    }

    /// How this instance hears from Slack, for the line `spar serve` prints.
    pub fn describe(&self) -> String {
        match &self.transport {
            Bound::SocketMode { .. } => format!("Slack ({} over Socket Mode)", self.team),
            Bound::Http { listener, .. } => match listener.local_addr() {
                Ok(addr) => format!("Slack ({} over HTTP at {addr})", self.team),
                Err(_) => format!("Slack ({} over HTTP)", self.team),
            },
        }
    }

    /// Serves until the transport ends for good.
    pub async fn serve(self, runtime: Arc<Runtime>) -> anyhow::Result<()> {
        let app = Arc::new(SlackApp::new(runtime, self.surface.clone()));
        match self.transport {
            Bound::SocketMode { app_token } => {
                socket::serve(app, self.surface.client().clone(), &app_token).await
            }
            Bound::Http {
                listener,
                signing_secret,
            } => http::serve(app, listener, signing_secret).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each Web API method the surface calls (as slack-morphism names it) and the bot
    /// scope Slack requires for it; `None` for methods that need none.
    const METHOD_SCOPES: &[(&str, Option<&str>)] = &[
        ("auth_test", None),
        ("chat_post_message", Some("chat:write")),
        ("chat_post_ephemeral", Some("chat:write")),
        ("chat_update", Some("chat:write")),
        ("conversations_open", Some("im:write")),
        ("get_upload_url_external", Some("files:write")),
        ("files_upload_via_url", Some("files:write")),
        ("files_complete_upload_external", Some("files:write")),
        ("users_info", Some("users:read")),
        // Opening a modal with a click's trigger needs interactivity, not a scope.
        ("views_open", None),
    ];

    /// Scopes that come from what Spar receives rather than what it calls: `/spar`
    /// itself, and the `message` events of public and private channels (replies in a
    /// drill's thread, deletions, archiving).
    const RECEIVING_SCOPES: [&str; 3] = ["commands", "channels:history", "groups:history"];

    /// The Web API methods `source` calls through a session: `.session()` then `.method(`.
    fn methods_called(source: &str) -> Vec<String> {
        source
            .split(".session()")
            .skip(1)
            .filter_map(|rest| {
                let rest = rest.trim_start().strip_prefix('.')?;
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
            .collect()
    }

    #[test]
    fn the_scopes_spar_needs_follow_from_the_methods_it_calls() {
        let mut called = methods_called(include_str!("surface.rs"));
        called.extend(methods_called(include_str!("mod.rs")));
        assert!(called.len() >= METHOD_SCOPES.len() - 1, "{called:?}");
        for method in &called {
            assert!(
                METHOD_SCOPES.iter().any(|(m, _)| m == method),
                "`{method}` is called: name the scope it needs in METHOD_SCOPES"
            );
        }
        let mut needed: Vec<&str> = METHOD_SCOPES
            .iter()
            .filter(|(m, _)| called.iter().any(|c| c == m))
            .filter_map(|(_, scope)| *scope)
            .chain(RECEIVING_SCOPES)
            .collect();
        needed.sort();
        needed.dedup();
        assert_eq!(
            needed,
            manifest_scopes(),
            "slack/manifest.yml asks for exactly these"
        );
    }

    fn listed_under(heading: &str) -> Vec<String> {
        include_str!("../../../slack/manifest.yml")
            .lines()
            .skip_while(|l| l.trim() != heading)
            .skip(1)
            .filter(|l| !l.trim_start().starts_with('#'))
            .take_while(|l| l.trim_start().starts_with("- "))
            .map(|l| l.trim_start().trim_start_matches("- ").trim().to_string())
            .collect()
    }

    fn manifest_scopes() -> Vec<String> {
        let mut scopes = listed_under("bot:");
        scopes.sort();
        scopes
    }

    #[test]
    fn the_manifest_asks_for_the_events_and_settings_spar_uses() {
        let manifest = include_str!("../../../slack/manifest.yml");
        assert_eq!(
            listed_under("bot_events:"),
            vec!["message.channels", "message.groups"]
        );
        let hint = manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix("usage_hint:"))
            .expect("a usage hint");
        for (name, _) in crate::chat::commands::SUBCOMMANDS {
            if *name != "config" {
                assert!(hint.contains(name), "the usage hint names `{name}`: {hint}");
            }
        }
        for line in [
            "- command: /spar",
            "should_escape: true",
            "is_enabled: true",
            "socket_mode_enabled: true",
        ] {
            assert!(manifest.contains(line), "{line}");
        }
    }

    #[test]
    fn the_api_url_loses_its_trailing_slash_and_must_be_http() {
        assert_eq!(
            normalise_api_url(DEFAULT_API_URL).as_deref(),
            Ok("https://slack.com/api")
        );
        assert_eq!(
            normalise_api_url(" http://127.0.0.1:9/api// ").as_deref(),
            Ok("http://127.0.0.1:9/api")
        );
        assert!(normalise_api_url("slack.com/api").is_err());
        assert!(normalise_api_url("ftp://x").is_err());
    }
}
