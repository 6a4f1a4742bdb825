//! The Web API: each method checks its token and arguments and answers as Slack does, with
//! `ok: true` and the objects slack-morphism's response structs read, or `ok: false` and
//! Slack's error code.

use super::{ChannelKindRecord, ChannelRecord, FileRecord, Shared, SlackCall, SlackError, State};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Form fields Slack parses as JSON.
const JSON_FIELDS: [&str; 6] = [
    "blocks",
    "attachments",
    "view",
    "files",
    "metadata",
    "options",
];
/// Slack truncates longer text; the API refuses it outright.
const MAX_TEXT: usize = 40_000;

enum Answer {
    Json(StatusCode, Value, Option<u64>),
    Text(StatusCode, String),
}

fn ok(body: Value) -> Answer {
    let mut body = body;
    body["ok"] = json!(true);
    Answer::Json(StatusCode::OK, body, None)
}

fn err(code: &str) -> Answer {
    Answer::Json(StatusCode::OK, json!({"ok": false, "error": code}), None)
}

impl SlackError {
    fn answer(&self) -> Answer {
        match self {
            SlackError::Api(code) => err(code),
            SlackError::MissingScope { needed } => Answer::Json(
                StatusCode::OK,
                json!({"ok": false, "error": "missing_scope", "needed": needed, "provided": "chat:write,commands"}),
                None,
            ),
            SlackError::RateLimited { retry_after_secs } => Answer::Json(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"ok": false, "error": "ratelimited"}),
                Some(*retry_after_secs),
            ),
            SlackError::Http(status) => Answer::Text(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                "upstream error".into(),
            ),
        }
    }
}

fn respond_answer(answer: &Answer) -> Response {
    match answer {
        Answer::Json(status, body, retry_after) => {
            let mut response = (*status, axum::Json(body.clone())).into_response();
            if let Some(value) =
                retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Answer::Text(status, text) => (*status, text.clone()).into_response(),
    }
}

/// Query and body arguments as one JSON object (JSON bodies as sent; form fields as strings,
/// with the ones Slack reads as JSON parsed).
fn arguments(query: Option<&str>, content_type: Option<&str>, body: &[u8]) -> Value {
    let mut args = Map::new();
    let mut add_form = |bytes: &[u8]| {
        for (key, value) in form_urlencoded::parse(bytes) {
            let parsed = if JSON_FIELDS.contains(&key.as_ref()) {
                serde_json::from_str(&value).unwrap_or(Value::String(value.to_string()))
            } else {
                Value::String(value.into_owned())
            };
            args.insert(key.into_owned(), parsed);
        }
    };
    add_form(query.unwrap_or("").as_bytes());
    if content_type.is_some_and(|t| t.starts_with("application/json")) {
        if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) {
            args.extend(fields);
        }
    } else {
        add_form(body);
    }
    Value::Object(args)
}

fn text_of(args: &Value, field: &str) -> Option<String> {
    match &args[field] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub async fn method(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(method): Path<String>,
    http_method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let args = arguments(query.as_deref(), content_type.as_deref(), &body);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| text_of(&args, "token"));
    let delay = shared.lock().delays.get(&method).copied();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let answer = {
        let mut state = shared.lock();
        let answer = match authorize(&state, &method, token.as_deref()) {
            Some(refused) => refused,
            None => match state.scripted_failure(&method) {
                Some(error) => error.answer(),
                None => call(&mut state, &method, &args),
            },
        };
        let (status, response) = match &answer {
            Answer::Json(status, body, _) => (status.as_u16(), body.clone()),
            Answer::Text(status, _) => (status.as_u16(), Value::Null),
        };
        state.calls.push(SlackCall {
            method,
            http_method: http_method.to_string(),
            token,
            content_type,
            args,
            bytes: Vec::new(),
            status,
            response,
        });
        answer
    };
    shared.calls_changed.notify_waiters();
    respond_answer(&answer)
}

/// Slack's token checks: none, a wrong one, or the wrong kind for the method.
fn authorize(state: &State, method: &str, token: Option<&str>) -> Option<Answer> {
    let Some(token) = token else {
        return Some(err("not_authed"));
    };
    let wants_app_token = method == "apps.connections.open";
    let (right, other) = if wants_app_token {
        (&state.config.app_token, &state.config.bot_token)
    } else {
        (&state.config.bot_token, &state.config.app_token)
    };
    if token == right {
        None
    } else if token == other {
        Some(err("not_allowed_token_type"))
    } else {
        Some(err("invalid_auth"))
    }
}

/// The answer to one method, given valid credentials.
fn call(state: &mut State, method: &str, args: &Value) -> Answer {
    match method {
        "auth.test" => ok(json!({
            "url": "https://fake-workspace.slack.com/",
            "team": state.config.team_name,
            "user": state.bot.name,
            "team_id": state.team_id,
            "user_id": state.bot.id,
            "bot_id": state.bot.bot_id,
            "is_enterprise_install": false,
        })),
        "apps.connections.open" => {
            let ticket = uuid::Uuid::new_v4().to_string();
            state.socket.tickets.insert(ticket.clone());
            ok(
                json!({"url": format!("ws://{}/socket?ticket={ticket}&app_id={}", state.addr, state.app_id)}),
            )
        }
        "chat.postMessage" => post_message(state, args),
        "chat.update" => update_message(state, args),
        "chat.delete" => delete_message(state, args),
        "chat.postEphemeral" => post_ephemeral(state, args),
        "conversations.info" => match channel(state, args) {
            Ok(record) => ok(json!({"channel": channel_json(state, record)})),
            Err(answer) => answer,
        },
        "conversations.join" => join(state, args),
        "conversations.open" => open_im(state, args),
        "users.info" => match text_of(args, "user").and_then(|id| state.users.get(&id)) {
            Some(user) => ok(json!({"user": user_json(state, user)})),
            None => err("user_not_found"),
        },
        "views.open" => open_view(state, args),
        "files.getUploadURLExternal" => upload_url(state, args),
        "files.completeUploadExternal" => complete_upload(state, args),
        _ => err("unknown_method"),
    }
}

fn channel<'a>(state: &'a State, args: &Value) -> Result<&'a ChannelRecord, Answer> {
    text_of(args, "channel")
        .or_else(|| text_of(args, "channel_id"))
        .and_then(|id| state.channels.get(&id))
        .ok_or_else(|| err("channel_not_found"))
}

/// Where the bot may post: a channel that exists, is not archived and that it is in.
fn postable(state: &State, args: &Value) -> Result<String, Answer> {
    let record = channel(state, args)?;
    if record.is_archived {
        return Err(err("is_archived"));
    }
    if !record.is_member {
        return Err(err("not_in_channel"));
    }
    Ok(record.id.clone())
}

/// The text, blocks or attachments a message needs; Slack refuses a message with none.
fn content(args: &Value) -> Result<Value, Answer> {
    let text = args["text"].as_str().unwrap_or("");
    if text.chars().count() > MAX_TEXT {
        return Err(err("msg_too_long"));
    }
    let has = |field: &str| args[field].as_array().is_some_and(|a| !a.is_empty());
    if text.is_empty() && !has("blocks") && !has("attachments") {
        return Err(err("no_text"));
    }
    if let Some(problem) = args["blocks"].as_array().and_then(|b| invalid_blocks(b)) {
        return Err(Answer::Json(
            StatusCode::OK,
            json!({"ok": false, "error": "invalid_blocks", "errors": [problem], "response_metadata": {"messages": [format!("[ERROR] {problem}")]}}),
            None,
        ));
    }
    let mut content = json!({"text": text});
    for field in ["blocks", "attachments", "metadata"] {
        if !args[field].is_null() {
            content[field] = args[field].clone();
        }
    }
    Ok(content)
}

/// Slack's Block Kit limits for a message: at most 50 blocks, a section's text at most
/// 3,000 characters, a header's 150, a context's elements' 3,000, a button's label 75.
/// The first one broken, as Slack words it, or `None`.
fn invalid_blocks(blocks: &[Value]) -> Option<String> {
    if blocks.len() > 50 {
        return Some("no more than 50 items allowed [json-pointer:/blocks]".into());
    }
    let chars = |v: &Value| v.as_str().map_or(0, |t| t.chars().count());
    for (i, block) in blocks.iter().enumerate() {
        let too_long = |what: &str, limit: usize, v: &Value| {
            (chars(v) > limit).then(|| {
                format!(
                    "must be less than {} characters [json-pointer:/blocks/{i}/{what}]",
                    limit + 1
                )
            })
        };
        let problem = match block["type"].as_str() {
            Some("section") => too_long("text/text", 3000, &block["text"]["text"]),
            Some("header") => too_long("text/text", 150, &block["text"]["text"]),
            Some("context") => block["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|e| too_long("elements/text", 3000, &e["text"])),
            Some("actions") => block["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|e| too_long("elements/text/text", 75, &e["text"]["text"])),
            Some("divider" | "rich_text" | "image" | "input" | "file") => None,
            other => Some(format!(
                "unsupported type: {other:?} [json-pointer:/blocks/{i}/type]"
            )),
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

fn bot_profile(state: &State) -> Value {
    json!({
        "id": state.bot.bot_id,
        "deleted": false,
        "name": state.bot.name,
        "updated": state.now_secs(),
        "app_id": state.app_id,
        "icons": {"image_36": "https://a.slack-edge.com/bot_36.png", "image_48": "https://a.slack-edge.com/bot_48.png", "image_72": "https://a.slack-edge.com/bot_72.png"},
        "team_id": state.team_id,
    })
}

fn post_message(state: &mut State, args: &Value) -> Answer {
    let channel = match postable(state, args) {
        Ok(channel) => channel,
        Err(answer) => return answer,
    };
    let content = match content(args) {
        Ok(content) => content,
        Err(answer) => return answer,
    };
    let ts = state.new_ts();
    let mut message = json!({
        "type": "message",
        "user": state.bot.id,
        "bot_id": state.bot.bot_id,
        "app_id": state.app_id,
        "ts": ts,
        "team": state.team_id,
        "bot_profile": bot_profile(state),
    });
    super::payloads::merge(&mut message, content);
    if let Some(parent) = text_of(args, "thread_ts") {
        let replies = state.messages.entry(channel.clone()).or_default();
        match replies.iter_mut().find(|m| m["ts"] == json!(parent)) {
            Some(root) => {
                root["thread_ts"] = json!(parent);
                root["reply_count"] = json!(root["reply_count"].as_u64().unwrap_or(0) + 1);
                message["parent_user_id"] = root["user"].clone();
            }
            None => return err("thread_not_found"),
        }
        message["thread_ts"] = json!(parent);
    }
    let mut stored = message.clone();
    stored["channel"] = json!(channel);
    state
        .messages
        .entry(channel.clone())
        .or_default()
        .push(stored);
    ok(json!({"channel": channel, "ts": ts, "message": message}))
}

fn stored_message<'a>(state: &'a mut State, channel: &str, ts: &str) -> Option<&'a mut Value> {
    state
        .messages
        .get_mut(channel)?
        .iter_mut()
        .find(|m| m["ts"] == json!(ts))
}

fn update_message(state: &mut State, args: &Value) -> Answer {
    let channel = match channel(state, args) {
        Ok(record) => record.id.clone(),
        Err(answer) => return answer,
    };
    let content = match content(args) {
        Ok(content) => content,
        Err(answer) => return answer,
    };
    let ts = text_of(args, "ts").unwrap_or_default();
    let bot = state.bot.id.clone();
    let edited_ts = state.new_ts();
    let Some(message) = stored_message(state, &channel, &ts) else {
        return err("message_not_found");
    };
    if message["user"] != json!(bot) {
        return err("cant_update_message");
    }
    super::payloads::merge(message, content);
    message["edited"] = json!({"user": bot, "ts": edited_ts});
    let mut updated = message.clone();
    if let Some(object) = updated.as_object_mut() {
        object.remove("channel");
    }
    let text = updated["text"].clone();
    ok(json!({"channel": channel, "ts": ts, "text": text, "message": updated}))
}

fn delete_message(state: &mut State, args: &Value) -> Answer {
    let channel = match channel(state, args) {
        Ok(record) => record.id.clone(),
        Err(answer) => return answer,
    };
    let ts = text_of(args, "ts").unwrap_or_default();
    let bot = state.bot.id.clone();
    let Some(list) = state.messages.get_mut(&channel) else {
        return err("message_not_found");
    };
    let Some(index) = list.iter().position(|m| m["ts"] == json!(ts)) else {
        return err("message_not_found");
    };
    if list[index]["user"] != json!(bot) {
        return err("cant_delete_message");
    }
    list.remove(index);
    ok(json!({"channel": channel, "ts": ts}))
}

fn post_ephemeral(state: &mut State, args: &Value) -> Answer {
    if let Err(answer) = postable(state, args) {
        return answer;
    }
    if let Err(answer) = content(args) {
        return answer;
    }
    if text_of(args, "user").is_none_or(|u| !state.users.contains_key(&u)) {
        return err("user_not_found");
    }
    let ts = state.new_ts();
    ok(json!({"message_ts": ts}))
}

/// The direct-message conversation between the bot and one user, opened if there was
/// none: `{"channel": {"id": ...}}`, the whole channel with `return_im`.
fn open_im(state: &mut State, args: &Value) -> Answer {
    let users: Vec<String> = match &args["users"] {
        Value::String(list) => list.split(',').map(|u| u.trim().to_string()).collect(),
        Value::Array(list) => list
            .iter()
            .filter_map(|u| u.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let [user] = users.as_slice() else {
        // Several users open a group conversation, which the bot never needs.
        return err(if users.is_empty() {
            "users_list_not_supplied"
        } else {
            "not_allowed_token_type"
        });
    };
    if !state.users.contains_key(user) {
        return err("user_not_found");
    }
    let existing = state
        .channels
        .values()
        .find(|c| matches!(&c.kind, ChannelKindRecord::Im { user: u } if u == user));
    let (id, already_open) = match existing {
        Some(record) => (record.id.clone(), true),
        None => {
            let id = state.new_id('D');
            let created = state.now_secs();
            state.channels.insert(
                id.clone(),
                ChannelRecord {
                    id: id.clone(),
                    name: user.clone(),
                    kind: ChannelKindRecord::Im { user: user.clone() },
                    is_archived: false,
                    is_member: true,
                    created,
                },
            );
            (id, false)
        }
    };
    let channel = if args["return_im"] == json!(true) || args["return_im"] == json!("true") {
        channel_json(state, &state.channels[&id])
    } else {
        json!({"id": id})
    };
    let mut body = json!({"channel": channel});
    if already_open {
        body["no_op"] = json!(true);
        body["already_open"] = json!(true);
    }
    ok(body)
}

fn join(state: &mut State, args: &Value) -> Answer {
    let id = match channel(state, args) {
        Ok(record) => record.id.clone(),
        Err(answer) => return answer,
    };
    let Some(record) = state.channels.get_mut(&id) else {
        return err("channel_not_found");
    };
    if !matches!(record.kind, ChannelKindRecord::Public) {
        return err("method_not_supported_for_channel_type");
    }
    if record.is_archived {
        return err("is_archived");
    }
    let already = std::mem::replace(&mut record.is_member, true);
    let record = &state.channels[&id];
    let mut body = json!({"channel": channel_json(state, record)});
    if already {
        body["warning"] = json!("already_in_channel");
        body["response_metadata"] = json!({"warnings": ["already_in_channel"]});
    }
    ok(body)
}

fn open_view(state: &mut State, args: &Value) -> Answer {
    let Some(trigger) = text_of(args, "trigger_id") else {
        return err("invalid_arguments");
    };
    match state.triggers.get_mut(&trigger) {
        None => return err("invalid_trigger_id"),
        Some(true) => return err("exchanged_trigger_id"),
        Some(used) => *used = true,
    }
    let view = &args["view"];
    let title = view["title"]["text"].as_str().unwrap_or("");
    let blocks = view["blocks"].as_array().map_or(0, Vec::len);
    if view["type"] != json!("modal") || title.is_empty() {
        return err("invalid_arguments");
    }
    if title.chars().count() > 24 || blocks > 100 {
        return Answer::Json(
            StatusCode::OK,
            json!({"ok": false, "error": "invalid_arguments", "response_metadata": {"messages": ["[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"]}}),
            None,
        );
    }
    let id = state.new_id('V');
    let mut stored = json!({
        "id": id,
        "team_id": state.team_id,
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "state": {"values": {}},
        "hash": format!("{}.fakehash", state.now_secs()),
        "clear_on_close": false,
        "notify_on_close": false,
        "close": null,
        "submit": null,
        "previous_view_id": null,
        "root_view_id": id,
        "app_id": state.app_id,
        "external_id": "",
        "app_installed_team_id": state.team_id,
        "bot_id": state.bot.bot_id,
    });
    super::payloads::merge(&mut stored, view.clone());
    stored["id"] = json!(id);
    state.views.insert(id, stored.clone());
    ok(json!({"view": stored}))
}

fn upload_url(state: &mut State, args: &Value) -> Answer {
    let (Some(filename), Some(length)) = (
        text_of(args, "filename"),
        text_of(args, "length").and_then(|l| l.parse::<u64>().ok()),
    ) else {
        return err("invalid_arguments");
    };
    let id = state.new_id('F');
    state.files.insert(
        id.clone(),
        FileRecord {
            id: id.clone(),
            filename,
            length,
            bytes: None,
            content_type: None,
            shared: false,
        },
    );
    ok(json!({"upload_url": format!("http://{}/upload/v1/{id}", state.addr), "file_id": id}))
}

fn complete_upload(state: &mut State, args: &Value) -> Answer {
    let Some(wanted) = args["files"].as_array().cloned() else {
        return err("invalid_arguments");
    };
    let channel = match text_of(args, "channel_id") {
        Some(_) => match postable(state, args) {
            Ok(channel) => Some(channel),
            Err(answer) => return answer,
        },
        None => None,
    };
    let mut files = Vec::new();
    for entry in &wanted {
        let id = entry["id"].as_str().unwrap_or("");
        let Some(file) = state.files.get(id).filter(|f| f.bytes.is_some()) else {
            return err("file_not_found");
        };
        let title = entry["title"]
            .as_str()
            .unwrap_or(&file.filename)
            .to_string();
        files.push(file_json(state, file, &title));
    }
    for file in &wanted {
        if let Some(record) = state.files.get_mut(file["id"].as_str().unwrap_or("")) {
            record.shared = channel.is_some();
        }
    }
    if let Some(channel) = channel {
        let ts = state.new_ts();
        let mut message = json!({
            "type": "message",
            "subtype": "file_share",
            "text": args["initial_comment"].as_str().unwrap_or(""),
            "files": files,
            "upload": true,
            "user": state.bot.id,
            "bot_id": state.bot.bot_id,
            "ts": ts,
            "channel": channel,
        });
        if let Some(thread) = text_of(args, "thread_ts") {
            message["thread_ts"] = json!(thread);
        }
        state.messages.entry(channel).or_default().push(message);
    }
    ok(json!({"files": files}))
}

fn file_json(state: &State, file: &FileRecord, title: &str) -> Value {
    let extension = file
        .filename
        .rsplit('.')
        .next()
        .unwrap_or("")
        .to_lowercase();
    json!({
        "id": file.id,
        "created": state.now_secs(),
        "timestamp": state.now_secs(),
        "name": file.filename,
        "title": title,
        "mimetype": file.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
        "filetype": extension,
        "pretty_type": extension.to_uppercase(),
        "user": state.bot.id,
        "user_team": state.team_id,
        "editable": false,
        "size": file.bytes.as_ref().map_or(file.length, |b| b.len() as u64),
        "mode": "hosted",
        "is_external": false,
        "external_type": "",
        "is_public": false,
        "public_url_shared": false,
        "display_as_bot": false,
        "username": "",
        "url_private": format!("https://files.slack.com/files-pri/{}-{}/{}", state.team_id, file.id, file.filename),
        "url_private_download": format!("https://files.slack.com/files-pri/{}-{}/download/{}", state.team_id, file.id, file.filename),
        "permalink": format!("https://fake-workspace.slack.com/files/{}/{}/{}", state.bot.id, file.id, file.filename),
        "comments_count": 0,
        "is_starred": false,
        "has_rich_preview": false,
        "file_access": "visible",
    })
}

pub fn channel_json(state: &State, record: &ChannelRecord) -> Value {
    match &record.kind {
        ChannelKindRecord::Im { user } => json!({
            "id": record.id,
            "created": record.created,
            "is_archived": false,
            "is_im": true,
            "is_org_shared": false,
            "context_team_id": state.team_id,
            "updated": record.created * 1000,
            "user": user,
            "is_user_deleted": false,
            "priority": 0,
        }),
        kind => {
            let private = matches!(kind, ChannelKindRecord::Private);
            json!({
                "id": record.id,
                "name": record.name,
                "is_channel": !private,
                "is_group": private,
                "is_im": false,
                "is_mpim": false,
                "is_private": private,
                "created": record.created,
                "is_archived": record.is_archived,
                "is_general": record.name == "general",
                "unlinked": 0,
                "name_normalized": record.name,
                "is_shared": false,
                "is_org_shared": false,
                "is_pending_ext_shared": false,
                "pending_shared": [],
                "context_team_id": state.team_id,
                "updated": record.created * 1000,
                "parent_conversation": null,
                "creator": state.bot.id,
                "is_ext_shared": false,
                "shared_team_ids": [state.team_id],
                "pending_connected_team_ids": [],
                "is_member": record.is_member,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "previous_names": [],
            })
        }
    }
}

pub fn user_json(state: &State, user: &super::SlackUser) -> Value {
    let mut profile = json!({
        "title": "",
        "phone": "",
        "skype": "",
        "real_name": user.name,
        "real_name_normalized": user.name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "fields": null,
        "status_text": "",
        "status_emoji": "",
        "status_expiration": 0,
        "avatar_hash": "g0fake",
        "first_name": user.name,
        "last_name": "",
        "image_24": "https://a.slack-edge.com/avatar_24.png",
        "image_48": "https://a.slack-edge.com/avatar_48.png",
        "image_72": "https://a.slack-edge.com/avatar_72.png",
        "team": state.team_id,
    });
    if let Some(bot_id) = &user.bot_id {
        profile["bot_id"] = json!(bot_id);
        profile["api_app_id"] = json!(state.app_id);
    }
    json!({
        "id": user.id,
        "team_id": state.team_id,
        "name": user.name,
        "deleted": false,
        "color": "9f69e7",
        "real_name": user.name,
        "tz": "Europe/London",
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "profile": profile,
        "is_admin": state.admins.contains(&user.id),
        "is_owner": false,
        "is_primary_owner": false,
        "is_restricted": false,
        "is_ultra_restricted": false,
        "is_bot": user.bot_id.is_some(),
        "is_app_user": false,
        "updated": state.now_secs(),
        "is_email_confirmed": user.bot_id.is_none(),
        "who_can_share_contact_card": "EVERYONE",
    })
}

/// The upload URL `files.getUploadURLExternal` handed out: takes the bytes (raw or as a
/// multipart form) and answers `OK - <length>` as text, as Slack's file servers do.
pub async fn upload(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(file): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let answer = {
        let mut state = shared.lock();
        let answer = match state.files.get_mut(&file) {
            Some(record) => {
                record.bytes = Some(body.to_vec());
                record.content_type = content_type.clone();
                Answer::Text(StatusCode::OK, format!("OK - {}", body.len()))
            }
            None => Answer::Text(StatusCode::NOT_FOUND, "file not found".into()),
        };
        let status = match &answer {
            Answer::Text(status, _) | Answer::Json(status, _, _) => status.as_u16(),
        };
        state.calls.push(SlackCall {
            method: "files.upload".into(),
            http_method: "POST".into(),
            token,
            content_type,
            args: json!({"file_id": file}),
            bytes: body.to_vec(),
            status,
            response: Value::Null,
        });
        answer
    };
    shared.calls_changed.notify_waiters();
    respond_answer(&answer)
}

/// A command's or a click's `response_url`: takes the JSON message Slack shows for it and
/// answers `ok` as text, as Slack's hooks do. Each URL takes at most five messages.
pub async fn respond(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let args = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let answer = {
        let mut state = shared.lock();
        let url = format!("http://{}/hooks/{path}", state.addr);
        let used = state
            .calls
            .iter()
            .filter(|c| c.method == "response_url" && c.args["url"] == json!(url))
            .count();
        let answer = if !args.is_object() {
            Answer::Text(StatusCode::BAD_REQUEST, "invalid_payload".into())
        } else if used >= 5 {
            Answer::Text(StatusCode::NOT_FOUND, "used_url".into())
        } else if args["text"].as_str().unwrap_or("").is_empty()
            && args["blocks"].as_array().is_none_or(Vec::is_empty)
        {
            Answer::Text(StatusCode::BAD_REQUEST, "no_text".into())
        } else {
            Answer::Text(StatusCode::OK, "ok".into())
        };
        let status = match &answer {
            Answer::Text(status, _) | Answer::Json(status, _, _) => status.as_u16(),
        };
        let mut recorded = args.clone();
        if recorded.is_object() {
            recorded["url"] = json!(url);
        }
        state.calls.push(SlackCall {
            method: "response_url".into(),
            http_method: "POST".into(),
            token: None,
            content_type,
            args: recorded,
            bytes: body.to_vec(),
            status,
            response: Value::Null,
        });
        answer
    };
    shared.calls_changed.notify_waiters();
    match answer {
        Answer::Text(status, text) => {
            (status, [(header::CONTENT_TYPE, "text/html")], text).into_response()
        }
        json => respond_answer(&json),
    }
}
