//! Slack's payloads: slash commands (form-encoded over HTTP, JSON in Socket Mode), Events
//! API callbacks (`message` in and out of threads, `message_changed`, bot messages,
//! `url_verification`), interactive payloads (`block_actions`, `view_submission`), and the
//! `v0` request signature.

use super::FakeSlack;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

/// Slack's request signature: `v0=` and the hex HMAC-SHA256, keyed with the signing secret,
/// of `v0:{timestamp}:{body}`.
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// The two headers Slack signs a request with.
pub fn signature_headers(secret: &str, timestamp: &str, body: &str) -> [(&'static str, String); 2] {
    [
        ("x-slack-request-timestamp", timestamp.to_string()),
        ("x-slack-signature", sign(secret, timestamp, body)),
    ]
}

/// Copies every field of `extra` into `target` (both objects).
pub fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        for (key, value) in extra {
            target.insert(key, value);
        }
    }
}

/// A slash command invocation in both of Slack's forms.
#[derive(Clone, Debug)]
pub struct SlashCommand {
    /// The `application/x-www-form-urlencoded` body Slack POSTs to the command's URL.
    pub form: String,
    /// The `payload` of a `slash_commands` Socket Mode envelope: the same fields as JSON.
    pub payload: Value,
    pub trigger_id: String,
}

/// The body of an interactive request over HTTP: `payload=<the JSON>`, form-encoded.
pub fn form_payload(payload: &Value) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

impl FakeSlack {
    fn trigger(&self) -> String {
        let mut state = self.shared.lock();
        let id = format!(
            "{}.{}.{}",
            state.now_secs(),
            state.next_id + 1,
            uuid::Uuid::new_v4().simple()
        );
        state.next_id += 1;
        state.triggers.insert(id.clone(), false);
        id
    }

    /// A fresh `response_url` on the fake (`/hooks/{kind}/{team}/{n}/{secret}`), as Slack
    /// gives one with each command and click.
    fn response_url(&self, kind: &str) -> String {
        let mut state = self.shared.lock();
        state.next_id += 1;
        format!(
            "http://{}/hooks/{kind}/{}/{}/{}",
            state.addr,
            state.team_id,
            state.next_id,
            uuid::Uuid::new_v4().simple()
        )
    }

    fn channel_name(&self, channel: &str) -> String {
        let state = self.shared.lock();
        state
            .channels
            .get(channel)
            .map_or_else(|| channel.to_string(), |c| c.name.clone())
    }

    fn channel_type(&self, channel: &str) -> &'static str {
        match channel.chars().next() {
            Some('D') => "im",
            Some('G') => "group",
            _ => "channel",
        }
    }

    /// `user` runs `command` (e.g. `/spar`) with `text` in `channel`. The trigger id it
    /// carries opens one view.
    pub fn slash_command(
        &self,
        user: &super::SlackUser,
        channel: &str,
        command: &str,
        text: &str,
    ) -> SlashCommand {
        let trigger_id = self.trigger();
        let (team_id, app_id) = (self.team_id(), self.app_id());
        let fields: Vec<(&str, String)> = vec![
            ("token", "fake-verification-token".into()),
            ("team_id", team_id.clone()),
            ("team_domain", "fake-workspace".into()),
            ("channel_id", channel.to_string()),
            ("channel_name", self.channel_name(channel)),
            ("user_id", user.id.clone()),
            ("user_name", user.name.clone()),
            ("command", command.to_string()),
            ("text", text.to_string()),
            ("api_app_id", app_id),
            ("is_enterprise_install", "false".into()),
            ("response_url", self.response_url("commands")),
            ("trigger_id", trigger_id.clone()),
        ];
        let mut form = form_urlencoded::Serializer::new(String::new());
        let mut payload = json!({});
        for (key, value) in &fields {
            form.append_pair(key, value);
            payload[*key] = json!(value);
        }
        SlashCommand {
            form: form.finish(),
            payload,
            trigger_id,
        }
    }

    /// The `event_callback` around an event, as Slack delivers it.
    fn callback(&self, event: Value) -> Value {
        let (team_id, app_id, bot_id) = (self.team_id(), self.app_id(), self.bot().id);
        let event_time = event["event_ts"]
            .as_str()
            .and_then(|ts| ts.split('.').next())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        json!({
            "token": "fake-verification-token",
            "team_id": team_id,
            "context_team_id": team_id,
            "context_enterprise_id": null,
            "api_app_id": app_id,
            "event": event,
            "type": "event_callback",
            "event_id": format!("Ev0FAKE{}", uuid::Uuid::new_v4().simple()),
            "event_time": event_time,
            "authorizations": [{
                "enterprise_id": null,
                "team_id": team_id,
                "user_id": bot_id,
                "is_bot": true,
                "is_enterprise_install": false,
            }],
            "is_ext_shared_channel": false,
            "event_context": format!("4-fake-{}", uuid::Uuid::new_v4().simple()),
        })
    }

    /// `author` posts `text` in `channel`, in the thread of `thread_ts` if given: the
    /// `message` event callback. A bot author's message carries `bot_id`, `app_id` and
    /// `bot_profile`. The message then exists in the fake.
    pub fn message_event(
        &self,
        author: &super::SlackUser,
        channel: &str,
        text: &str,
        thread_ts: Option<&str>,
    ) -> Value {
        let mut state = self.shared.lock();
        let ts = state.new_ts();
        let mut event = json!({
            "type": "message",
            "user": author.id,
            "text": text,
            "ts": ts,
            "team": state.team_id,
            "channel": channel,
            "event_ts": ts,
            "channel_type": self.channel_type(channel),
        });
        match &author.bot_id {
            Some(bot_id) => {
                let app_id = if *author == state.bot {
                    state.app_id.clone()
                } else {
                    format!("A{}", &bot_id[1..])
                };
                event["bot_id"] = json!(bot_id);
                event["app_id"] = json!(app_id);
                event["bot_profile"] = json!({
                    "id": bot_id,
                    "deleted": false,
                    "name": author.name,
                    "updated": state.now_secs(),
                    "app_id": app_id,
                    "icons": {"image_36": "https://a.slack-edge.com/bot_36.png"},
                    "team_id": state.team_id,
                });
            }
            None => {
                event["client_msg_id"] = json!(uuid::Uuid::new_v4().to_string());
                event["blocks"] = json!([{
                    "type": "rich_text",
                    "block_id": "fake",
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]
                }]);
            }
        }
        if let Some(parent) = thread_ts {
            event["thread_ts"] = json!(parent);
            if let Some(root) = state
                .messages
                .get_mut(channel)
                .and_then(|list| list.iter_mut().find(|m| m["ts"] == json!(parent)))
            {
                event["parent_user_id"] = root["user"].clone();
                root["thread_ts"] = json!(parent);
            }
        }
        let mut stored = event.clone();
        if let Some(object) = stored.as_object_mut() {
            object.remove("event_ts");
            object.remove("channel_type");
        }
        state
            .messages
            .entry(channel.to_string())
            .or_default()
            .push(stored);
        drop(state);
        self.callback(event)
    }

    /// The edit of a message the fake holds: a `message` event with subtype
    /// `message_changed`, the new `message` and the `previous_message`.
    pub fn message_changed_event(&self, channel: &str, ts: &str, text: &str) -> Value {
        let mut state = self.shared.lock();
        let event_ts = state.new_ts();
        let message = state
            .messages
            .get_mut(channel)
            .and_then(|list| list.iter_mut().find(|m| m["ts"] == json!(ts)))
            .unwrap_or_else(|| panic!("the fake Slack has no message {ts} in {channel}"));
        let mut previous = message.clone();
        message["text"] = json!(text);
        message["edited"] = json!({"user": message["user"], "ts": event_ts});
        let mut current = message.clone();
        for m in [&mut previous, &mut current] {
            if let Some(object) = m.as_object_mut() {
                object.remove("channel");
            }
        }
        let event = json!({
            "type": "message",
            "subtype": "message_changed",
            "message": current,
            "previous_message": previous,
            "channel": channel,
            "hidden": true,
            "ts": event_ts,
            "event_ts": event_ts,
            "channel_type": self.channel_type(channel),
        });
        drop(state);
        self.callback(event)
    }

    /// `user` archives `channel`: the fake marks it archived, and Slack posts a
    /// `channel_archive` message in it (`group_archive` in a private channel), which the
    /// `message.channels` (`message.groups`) subscription delivers.
    pub fn archive_event(&self, user: &super::SlackUser, channel: &str) -> Value {
        self.archive_channel(channel);
        let mut state = self.shared.lock();
        let ts = state.new_ts();
        let subtype = if channel.starts_with('G') {
            "group_archive"
        } else {
            "channel_archive"
        };
        let event = json!({
            "type": "message",
            "subtype": subtype,
            "ts": ts,
            "user": user.id,
            "text": format!("<@{}> archived the channel", user.id),
            "channel": channel,
            "event_ts": ts,
            "channel_type": self.channel_type(channel),
        });
        let mut stored = event.clone();
        if let Some(object) = stored.as_object_mut() {
            object.remove("event_ts");
            object.remove("channel_type");
        }
        state
            .messages
            .entry(channel.to_string())
            .or_default()
            .push(stored);
        drop(state);
        self.callback(event)
    }

    /// The URL verification Slack sends when an Events API URL is set.
    pub fn url_verification(&self, challenge: &str) -> Value {
        json!({"token": "fake-verification-token", "challenge": challenge, "type": "url_verification"})
    }

    /// `user` clicks the button `action_id` (with `value`) on a message the fake holds.
    pub fn block_actions(
        &self,
        user: &super::SlackUser,
        channel: &str,
        message_ts: &str,
        action_id: &str,
        value: &str,
    ) -> Value {
        let trigger_id = self.trigger();
        let response_url = self.response_url("actions");
        let state = self.shared.lock();
        let mut message = state
            .messages
            .get(channel)
            .and_then(|list| list.iter().find(|m| m["ts"] == json!(message_ts)))
            .cloned()
            .unwrap_or_else(|| panic!("the fake Slack has no message {message_ts} in {channel}"));
        if let Some(object) = message.as_object_mut() {
            object.remove("channel");
        }
        let block_id = message["blocks"][0]["block_id"]
            .as_str()
            .unwrap_or("actions")
            .to_string();
        let action_ts = format!("{}.000100", state.now_secs());
        json!({
            "type": "block_actions",
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": state.team_id},
            "api_app_id": state.app_id,
            "token": "fake-verification-token",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": false},
            "trigger_id": trigger_id,
            "team": {"id": state.team_id, "domain": "fake-workspace"},
            "enterprise": null,
            "is_enterprise_install": false,
            "channel": {"id": channel, "name": state.channels.get(channel).map_or(channel, |c| c.name.as_str())},
            "message": message,
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [{
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": action_id, "emoji": true},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }],
        })
    }

    /// `user` submits a view the bot opened with `views.open`, with input values given as
    /// (`block_id`, `action_id`, value): a menu (`static_select`) reports the option whose
    /// value that is, which must be one it offers; any other input reports the text typed.
    pub fn view_submission(
        &self,
        user: &super::SlackUser,
        view_id: &str,
        values: &[(&str, &str, &str)],
    ) -> Value {
        let trigger_id = self.trigger();
        let state = self.shared.lock();
        let mut view = state
            .views
            .get(view_id)
            .cloned()
            .unwrap_or_else(|| panic!("the fake Slack opened no view {view_id}"));
        let mut filled = json!({});
        for (block, action, value) in values {
            let element = view["blocks"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|b| b["block_id"] == json!(block))
                .map(|b| b["element"].clone())
                .unwrap_or(Value::Null);
            filled[*block][*action] = if element["type"] == "static_select" {
                let option = element["options"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|o| o["value"] == json!(value))
                    .cloned()
                    .unwrap_or_else(|| panic!("the menu {block} offers no option {value}"));
                json!({"type": "static_select", "selected_option": option})
            } else {
                json!({"type": "plain_text_input", "value": value})
            };
        }
        view["state"] = json!({"values": filled});
        json!({
            "type": "view_submission",
            "team": {"id": state.team_id, "domain": "fake-workspace"},
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": state.team_id},
            "api_app_id": state.app_id,
            "token": "fake-verification-token",
            "trigger_id": trigger_id,
            "view": view,
            "response_urls": [],
            "is_enterprise_install": false,
            "enterprise": null,
        })
    }
}
