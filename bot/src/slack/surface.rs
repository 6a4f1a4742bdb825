//! `SlackSurface`: the chat runtime's operations as Slack Web API calls through
//! slack-morphism. A drill's "thread" is the `thread_ts` of the bot's first message in the
//! channel. Rate limits (HTTP 429) are waited out as `Retry-After` says; errors come back
//! as what the runtime acts on: a sentence for the person when a drill cannot start (the
//! bot not invited, an archived channel, a missing scope), a conversation that is gone.

use super::render::{self, Message};
use crate::chat::{
    BriefView, Button, ChatSurface, MessageRef, Opened, ScorecardView, SurfaceError, SurfaceFuture,
};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use slack_morphism::errors::{SlackClientApiError, SlackClientError};
use slack_morphism::prelude::*;
use spar_core::store::{ChatPlace, PersonRef};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// HTTPS to Slack, or plain HTTP to a local stand-in.
pub type Connector = SlackClientHyperConnector<HttpsConnector<HttpConnector>>;
pub type Client = SlackClient<Connector>;

/// How many times one call is tried again after Slack answers 429.
const RATE_LIMIT_RETRIES: usize = 3;
/// The longest a call waits for Slack's rate limit before giving up on it.
const LONGEST_WAIT: Duration = Duration::from_secs(60);
/// How long a member's name and admin flag are trusted before they are read again.
const PROFILE_TTL: Duration = Duration::from_secs(600);

/// What Spar reads of a member's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    /// A workspace admin or owner: may change Spar's settings.
    pub admin: bool,
}

pub struct SlackSurface {
    client: Arc<Client>,
    token: SlackApiToken,
    profiles: Mutex<HashMap<String, (Profile, Instant)>>,
}

/// The sentences a person gets when a drill cannot start where they asked.
const NOT_IN_CHANNEL: &str = "Spar isn't in this channel yet, so it can't open a drill thread here. Invite it with `/invite @Spar`, then run the command again.";
const ARCHIVED: &str =
    "This channel is archived, so no drill can start in it. Run `/spar solo` in another channel.";

/// The scope a `missing_scope` answer says was needed.
fn needed_scope(error: &SlackClientApiError) -> String {
    error
        .http_response_body
        .as_deref()
        .and_then(|body| serde_json::from_str::<serde_json::Value>(body).ok())
        .and_then(|body| body["needed"].as_str().map(str::to_string))
        .unwrap_or_else(|| "an unnamed".into())
}

/// What a failed call means for the runtime. `opening`: the call was to open a drill's
/// thread, so the person who asked is told what to do; later, the same refusals mean the
/// drill's conversation is gone.
pub(crate) fn surface_error(method: &str, error: &SlackClientError, opening: bool) -> SurfaceError {
    let SlackClientError::ApiError(api) = error else {
        return SurfaceError::Other(format!("{method}: {error}"));
    };
    match api.code.as_str() {
        "missing_scope" => {
            let scope = needed_scope(api);
            tracing::warn!(method, scope, "Spar's Slack app lacks a scope it needs");
            if opening {
                SurfaceError::Refused(format!(
                    "Spar's Slack app lacks the `{scope}` scope, so it can't open a drill thread. A workspace admin can add it under OAuth & Permissions (slack/manifest.yml lists every scope Spar uses) and reinstall the app."
                ))
            } else {
                SurfaceError::MissingPermission(format!("`{scope}` scope"))
            }
        }
        "not_in_channel" | "channel_not_found" if opening => {
            SurfaceError::Refused(NOT_IN_CHANNEL.into())
        }
        "is_archived" if opening => SurfaceError::Refused(ARCHIVED.into()),
        "not_in_channel" | "channel_not_found" | "is_archived" | "thread_not_found"
        | "message_not_found" => SurfaceError::Gone(format!("{method}: {}", api.code)),
        code => SurfaceError::Other(format!("{method}: {code}")),
    }
}

/// The thread `ts` of a place, or `None` for a place that is a channel itself (the runtime
/// tells a member something outside any drill at the channel's id as its thread).
fn thread_of(place: &ChatPlace) -> Option<&str> {
    (place.thread != place.channel).then_some(place.thread.as_str())
}

/// Runs `attempt` until Slack stops answering 429, waiting the `Retry-After` it gives (a
/// second when it gives none), at most `RATE_LIMIT_RETRIES` more times.
async fn with_retry<T, F, Fut>(method: &str, mut attempt: F) -> ClientResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ClientResult<T>>,
{
    let mut retries = 0;
    loop {
        match attempt().await {
            Err(SlackClientError::RateLimitError(limit)) if retries < RATE_LIMIT_RETRIES => {
                let wait = limit
                    .retry_after
                    .unwrap_or(Duration::from_secs(1))
                    .min(LONGEST_WAIT);
                tracing::warn!(
                    method,
                    wait_s = wait.as_secs_f64(),
                    "Slack asked Spar to slow down"
                );
                tokio::time::sleep(wait).await;
                retries += 1;
            }
            other => return other,
        }
    }
}

impl SlackSurface {
    pub fn new(client: Arc<Client>, bot_token: &str) -> SlackSurface {
        SlackSurface {
            client,
            token: SlackApiToken::new(SlackApiTokenValue::new(bot_token.to_string())),
            profiles: Mutex::new(HashMap::new()),
        }
    }

    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    fn session(&self) -> SlackClientSession<'_, Connector> {
        self.client.open_session(&self.token)
    }

    /// Checks the bot token; returns the team's name and the bot's user id.
    pub async fn auth_test(&self) -> ClientResult<SlackApiAuthTestResponse> {
        with_retry(
            "auth.test",
            || async move { self.session().auth_test().await },
        )
        .await
    }

    async fn post_message(
        &self,
        channel: &str,
        thread: Option<&str>,
        message: &Message,
        opening: bool,
    ) -> Result<String, SurfaceError> {
        let mut request =
            SlackApiChatPostMessageRequest::new(channel.to_string().into(), message.content())
                .with_unfurl_links(false)
                .with_unfurl_media(false);
        if let Some(thread) = thread {
            request = request.with_thread_ts(thread.to_string().into());
        }
        let request = &request;
        let posted = with_retry("chat.postMessage", || async move {
            self.session().chat_post_message(request).await
        })
        .await
        .map_err(|e| surface_error("chat.postMessage", &e, opening))?;
        Ok(posted.ts.0)
    }

    /// Shows `message` to `user` alone, in `channel` (and `thread`); where the bot cannot
    /// post (a channel it was not invited to), through the command's `response_url`.
    pub async fn ephemeral(
        &self,
        user: &str,
        channel: &str,
        thread: Option<&str>,
        message: &Message,
        response_url: Option<&SlackResponseUrl>,
    ) -> Result<(), SurfaceError> {
        let mut request = SlackApiChatPostEphemeralRequest::new(
            channel.to_string().into(),
            user.to_string().into(),
            message.content(),
        );
        if let Some(thread) = thread {
            request = request.with_thread_ts(thread.to_string().into());
        }
        let request = &request;
        let posted = with_retry("chat.postEphemeral", || async move {
            self.session().chat_post_ephemeral(request).await
        })
        .await;
        match (posted, response_url) {
            (Ok(_), _) => Ok(()),
            (Err(e), Some(url)) => {
                tracing::debug!(error = %e, "an ephemeral reply goes through the response URL");
                let reply = SlackApiPostWebhookMessageRequest::new(message.content());
                self.client
                    .respond_to_event(url, &reply)
                    .await
                    .map(|_| ())
                    .map_err(|e| surface_error("response_url", &e, false))
            }
            (Err(e), None) => Err(surface_error("chat.postEphemeral", &e, false)),
        }
    }

    /// Sends a file to `user` in their direct messages with Spar: Slack shows no file in
    /// a message only one person sees.
    pub async fn send_file(
        &self,
        user: &str,
        name: &str,
        bytes: &[u8],
        comment: &str,
    ) -> Result<(), SurfaceError> {
        let open = SlackApiConversationsOpenRequest::new()
            .with_users(vec![user.to_string().into()])
            .with_return_im(true);
        let open = &open;
        let dm = with_retry("conversations.open", || async move {
            self.session().conversations_open(open).await
        })
        .await
        .map_err(|e| surface_error("conversations.open", &e, false))?
        .channel
        .id;
        let ask = SlackApiFilesGetUploadUrlExternalRequest::new(name.to_string(), bytes.len());
        let ask = &ask;
        let upload = with_retry("files.getUploadURLExternal", || async move {
            self.session().get_upload_url_external(ask).await
        })
        .await
        .map_err(|e| surface_error("files.getUploadURLExternal", &e, false))?;
        let content_type = if name.ends_with(".png") {
            "image/png"
        } else {
            "text/markdown"
        };
        let put = SlackApiFilesUploadViaUrlRequest::new(
            upload.upload_url.clone(),
            bytes.to_vec(),
            content_type.into(),
        );
        let put = &put;
        with_retry("files.upload", || async move {
            self.session().files_upload_via_url(put).await
        })
        .await
        .map_err(|e| surface_error("files.upload", &e, false))?;
        let complete = SlackApiFilesCompleteUploadExternalRequest::new(vec![
            SlackApiFilesComplete::new(upload.file_id.clone()).with_title(name.to_string()),
        ])
        .with_channel_id(dm)
        .with_initial_comment(render::mrkdwn(comment));
        let complete = &complete;
        with_retry("files.completeUploadExternal", || async move {
            self.session()
                .files_complete_upload_external(complete)
                .await
        })
        .await
        .map_err(|e| surface_error("files.completeUploadExternal", &e, false))?;
        Ok(())
    }

    /// Opens a modal for the person whose click gave `trigger_id` (Slack takes it for
    /// three seconds after the click, once).
    pub async fn open_view(&self, trigger_id: &str, view: SlackView) -> Result<(), SurfaceError> {
        let request = SlackApiViewsOpenRequest::new(trigger_id.to_string().into(), view);
        let request = &request;
        with_retry("views.open", || async move {
            self.session().views_open(request).await
        })
        .await
        .map_err(|e| surface_error("views.open", &e, false))?;
        Ok(())
    }

    /// A member's name and whether they administer the workspace, read once in a while;
    /// `None` when Slack will not say (the `users:read` scope missing, a network failure).
    pub async fn profile(&self, user: &str) -> Option<Profile> {
        if let Ok(profiles) = self.profiles.lock() {
            if let Some((profile, at)) = profiles.get(user) {
                if at.elapsed() < PROFILE_TTL {
                    return Some(profile.clone());
                }
            }
        }
        let request = SlackApiUsersInfoRequest::new(user.to_string().into());
        let request = &request;
        let found = with_retry("users.info", || async move {
            self.session().users_info(request).await
        })
        .await;
        let user_info = match found {
            Ok(found) => found.user,
            Err(e) => {
                let error = surface_error("users.info", &e, false);
                tracing::warn!(%error, "could not read a member's profile");
                return None;
            }
        };
        let name = user_info
            .profile
            .as_ref()
            .and_then(|p| {
                p.display_name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .or_else(|| p.real_name.clone())
            })
            .or_else(|| user_info.real_name.clone())
            .or_else(|| user_info.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| user.to_string());
        let flags = &user_info.flags;
        let profile = Profile {
            name,
            admin: flags.is_admin == Some(true)
                || flags.is_owner == Some(true)
                || flags.is_primary_owner == Some(true),
        };
        if let Ok(mut profiles) = self.profiles.lock() {
            profiles.insert(user.to_string(), (profile.clone(), Instant::now()));
        }
        Some(profile)
    }
}

impl ChatSurface for SlackSurface {
    fn platform(&self) -> &'static str {
        render::PLATFORM
    }

    fn message_limit(&self) -> usize {
        render::MESSAGE_LIMIT
    }

    fn link(&self, _workspace: &str, place: &ChatPlace) -> String {
        render::channel_mention(&place.channel)
    }

    fn open_thread<'a>(
        &'a self,
        channel: &'a str,
        title: &'a str,
        _public: bool,
        _members: &'a [PersonRef],
    ) -> SurfaceFuture<'a, Opened> {
        Box::pin(async move {
            // Slack has no private threads: a drill's thread hangs from the bot's message in
            // the channel, and the candidate is mentioned in its brief.
            let ts = self
                .post_message(channel, None, &render::thread_root(title), true)
                .await?;
            Ok(Opened {
                place: ChatPlace {
                    channel: channel.to_string(),
                    thread: ts,
                },
                private: false,
            })
        })
    }

    fn post<'a>(&'a self, place: &'a ChatPlace, text: &'a str) -> SurfaceFuture<'a, MessageRef> {
        Box::pin(async move {
            let ts = self
                .post_message(
                    &place.channel,
                    Some(&place.thread),
                    &render::plain(text),
                    false,
                )
                .await?;
            Ok(MessageRef {
                channel: place.channel.clone(),
                id: ts,
            })
        })
    }

    fn edit<'a>(&'a self, message: &'a MessageRef, text: &'a str) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            let request = SlackApiChatUpdateRequest::new(
                message.channel.clone().into(),
                render::plain(text).content(),
                message.id.clone().into(),
            );
            let request = &request;
            with_retry("chat.update", || async move {
                self.session().chat_update(request).await
            })
            .await
            .map_err(|e| surface_error("chat.update", &e, false))?;
            Ok(())
        })
    }

    fn typing<'a>(&'a self, _place: &'a ChatPlace) -> SurfaceFuture<'a, ()> {
        // A bot has no typing indicator in Slack's Web API; the reply itself shows up as
        // soon as its first sentence is written.
        Box::pin(async { Ok(()) })
    }

    fn post_brief<'a>(
        &'a self,
        place: &'a ChatPlace,
        brief: BriefView<'a>,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            self.post_message(
                &place.channel,
                Some(&place.thread),
                &render::brief(&brief),
                false,
            )
            .await?;
            Ok(())
        })
    }

    fn post_scorecard<'a>(
        &'a self,
        place: &'a ChatPlace,
        card: ScorecardView<'a>,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            for message in render::scorecard(&card) {
                self.post_message(&place.channel, Some(&place.thread), &message, false)
                    .await?;
            }
            Ok(())
        })
    }

    fn tell<'a>(
        &'a self,
        person: &'a PersonRef,
        place: &'a ChatPlace,
        text: &'a str,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            self.ephemeral(
                &person.platform_user_id,
                &place.channel,
                thread_of(place),
                &render::plain(text),
                None,
            )
            .await
        })
    }

    fn post_buttons<'a>(
        &'a self,
        place: &'a ChatPlace,
        text: &'a str,
        buttons: &'a [Button],
    ) -> SurfaceFuture<'a, MessageRef> {
        Box::pin(async move {
            let ts = self
                .post_message(
                    &place.channel,
                    Some(&place.thread),
                    &render::with_buttons(text, buttons),
                    false,
                )
                .await?;
            Ok(MessageRef {
                channel: place.channel.clone(),
                id: ts,
            })
        })
    }

    /// An ephemeral message in the drill's thread, which only `person` sees, and nothing
    /// else: no command's `response_url`, never a post in the thread. When Slack refuses
    /// it, the button under the roles shows the brief to them instead.
    fn tell_secret<'a>(
        &'a self,
        person: &'a PersonRef,
        place: &'a ChatPlace,
        text: &'a str,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            self.ephemeral(
                &person.platform_user_id,
                &place.channel,
                thread_of(place),
                &render::plain(text),
                None,
            )
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_morphism::errors::SlackRateLimitError;

    fn api(code: &str, body: Option<&str>) -> SlackClientError {
        let mut error = SlackClientApiError::new(code.into());
        if let Some(body) = body {
            error = error.with_http_response_body(body.into());
        }
        SlackClientError::ApiError(error)
    }

    #[test]
    fn refusals_tell_the_person_what_to_do_when_a_drill_starts_and_end_it_later() {
        let refused = |code: &str| surface_error("chat.postMessage", &api(code, None), true);
        assert!(
            matches!(refused("not_in_channel"), SurfaceError::Refused(s) if s.contains("/invite @Spar"))
        );
        assert!(
            matches!(refused("channel_not_found"), SurfaceError::Refused(s) if s.contains("/invite"))
        );
        assert!(
            matches!(refused("is_archived"), SurfaceError::Refused(s) if s.contains("archived"))
        );
        for code in [
            "not_in_channel",
            "is_archived",
            "channel_not_found",
            "thread_not_found",
        ] {
            assert!(
                matches!(
                    surface_error("chat.postMessage", &api(code, None), false),
                    SurfaceError::Gone(_)
                ),
                "{code}"
            );
        }
        assert!(matches!(
            surface_error("chat.postMessage", &api("invalid_auth", None), true),
            SurfaceError::Other(_)
        ));
    }

    #[test]
    fn a_member_told_something_outside_a_drill_is_told_in_the_channel_not_a_thread() {
        let place = |channel: &str, thread: &str| ChatPlace {
            channel: channel.into(),
            thread: thread.into(),
        };
        assert_eq!(thread_of(&place("C1", "C1")), None);
        assert_eq!(
            thread_of(&place("C1", "1700000000.000100")),
            Some("1700000000.000100")
        );
    }

    #[test]
    fn a_missing_scope_is_named() {
        let missing = api(
            "missing_scope",
            Some(
                r#"{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"commands"}"#,
            ),
        );
        assert!(matches!(
            surface_error("chat.postMessage", &missing, true),
            SurfaceError::Refused(s) if s.contains("`chat:write` scope")
        ));
        assert_eq!(
            surface_error("chat.postMessage", &missing, false),
            SurfaceError::MissingPermission("`chat:write` scope".into())
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limited_call_waits_as_told_and_is_tried_again() {
        let tries = std::sync::atomic::AtomicUsize::new(0);
        let started = tokio::time::Instant::now();
        let tries = &tries;
        let answer: ClientResult<u8> = with_retry("chat.update", || async move {
            if tries.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
                Err(SlackClientError::RateLimitError(
                    SlackRateLimitError::new().with_retry_after(Duration::from_secs(3)),
                ))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(answer.ok(), Some(7));
        assert_eq!(tries.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(6),
            "3 s, twice, as Slack said"
        );

        let always =
            || async { Err::<u8, _>(SlackClientError::RateLimitError(SlackRateLimitError::new())) };
        assert!(matches!(
            with_retry("chat.update", always).await,
            Err(SlackClientError::RateLimitError(_))
        ));
    }
}
