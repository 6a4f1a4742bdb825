//! The REST API under `/api/v10`: every request is recorded, scripted failures are applied,
//! then the route answers as Discord does, with its objects, status codes and error codes.

use super::world::{
    InteractionRecord, World, channel_type, id_str, merge, snowflake, timestamp_of,
};
use super::{DiscordCall, DiscordError, Shared, State, UploadedFile};
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// Discord's limit on message content, in characters.
const MAX_CONTENT: usize = 2000;
const MAX_EMBEDS: usize = 10;
/// Flags a client may set on a message it sends: SUPPRESS_EMBEDS, EPHEMERAL,
/// SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2.
const SETTABLE_FLAGS: u64 = 4 | 64 | 4096 | 32768;
const EPHEMERAL: u64 = 64;
const LOADING: u64 = 128;

/// What the fake answers.
pub struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    fn ok(body: Value) -> Reply {
        Reply::json(200, body)
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
            headers: Vec::new(),
        }
    }

    fn error(status: u16, code: u64, message: &str) -> Reply {
        Reply::json(status, json!({"message": message, "code": code}))
    }

    /// 400 Invalid Form Body, with the field and Discord's validation code.
    fn invalid_form(field: &str, code: &str, message: &str) -> Reply {
        Reply::json(
            400,
            json!({
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": {field: {"_errors": [{"code": code, "message": message}]}}
            }),
        )
    }

    fn not_found() -> Reply {
        Reply::error(404, 0, "404: Not Found")
    }
}

impl DiscordError {
    fn reply(&self) -> Reply {
        match self {
            DiscordError::MissingPermissions => Reply::error(403, 50013, "Missing Permissions"),
            DiscordError::MissingAccess => Reply::error(403, 50001, "Missing Access"),
            DiscordError::UnknownChannel => Reply::error(404, 10003, "Unknown Channel"),
            DiscordError::UnknownMessage => Reply::error(404, 10008, "Unknown Message"),
            DiscordError::UnknownInteraction => Reply::error(404, 10062, "Unknown interaction"),
            DiscordError::ServerError => Reply::error(500, 0, "500: Internal Server Error"),
            DiscordError::Json {
                status,
                code,
                message,
            } => Reply::error(*status, *code, message),
            DiscordError::RateLimited {
                retry_after,
                global,
            } => {
                let mut reply = Reply::json(
                    429,
                    json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": global}),
                );
                reply.headers = vec![
                    ("retry-after", format!("{}", retry_after.ceil() as u64)),
                    ("x-ratelimit-limit", "5".into()),
                    ("x-ratelimit-remaining", "0".into()),
                    ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
                    ("x-ratelimit-bucket", "fake-bucket".into()),
                    (
                        "x-ratelimit-scope",
                        if *global { "global" } else { "user" }.into(),
                    ),
                ];
                if *global {
                    reply.headers.push(("x-ratelimit-global", "true".into()));
                }
                reply
            }
        }
    }
}

pub async fn handle(AxumState(shared): AxumState<Arc<Shared>>, request: Request) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let headers = request.headers().clone();
    let (body, files) = read_body(request, &headers).await;
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    let path = uri
        .path()
        .strip_prefix("/api/v10")
        .unwrap_or(uri.path())
        .to_string();
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut call = DiscordCall {
        method: method.as_str().to_string(),
        path: path.clone(),
        query,
        authorization: header_text("authorization"),
        audit_log_reason: header_text("x-audit-log-reason").map(|r| {
            percent_encoding::percent_decode_str(&r)
                .decode_utf8_lossy()
                .into_owned()
        }),
        body,
        files,
        status: 0,
        response: Value::Null,
    };
    let reply = {
        let mut state = shared.lock();
        let reply = if !uri.path().starts_with("/api/v10/") {
            Reply::not_found()
        } else if path != "/gateway"
            && call.authorization.as_deref() != Some(&format!("Bot {}", state.world.token))
        {
            Reply::error(401, 0, "401: Unauthorized")
        } else if let Some(error) = state.scripted_failure(&call) {
            error.reply()
        } else {
            route(&mut state, &method, &call)
        };
        call.status = reply.status;
        call.response = reply.body.clone().unwrap_or(Value::Null);
        state.calls.push(call);
        reply
    };
    shared.calls_changed.notify_waiters();
    respond(reply)
}

fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match reply.body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => (status, Body::empty()).into_response(),
    };
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The JSON body, or a multipart body's `payload_json` and files; other text fields of a
/// multipart body are added to the JSON as strings.
async fn read_body(request: Request, headers: &HeaderMap) -> (Value, Vec<UploadedFile>) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        let mut body = json!({});
        let mut files = Vec::new();
        let Ok(mut multipart) = Multipart::from_request(request, &()).await else {
            return (Value::Null, files);
        };
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_string();
            let filename = field.file_name().map(str::to_string);
            let part_type = field.content_type().map(str::to_string);
            let bytes = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            match filename {
                Some(filename) => files.push(UploadedFile {
                    field: name,
                    filename,
                    content_type: part_type,
                    bytes,
                }),
                None if name == "payload_json" => {
                    let payload: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    merge(&mut body, payload);
                }
                None => {
                    body[name] = Value::String(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
        (body, files)
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (body, Vec::new())
    }
}

impl State {
    fn scripted_failure(&mut self, call: &DiscordCall) -> Option<DiscordError> {
        let index = self.failures.iter().position(|f| {
            (f.method == "*" || call.is(&f.method, &f.path_prefix))
                && call.path.starts_with(&f.path_prefix)
        })?;
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

    /// `MESSAGE_CREATE` for a message the bot made, with the guild fields the gateway adds.
    fn echo_message(&mut self, event: &str, message: &Value) {
        if message["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0 {
            return;
        }
        let mut payload = message.clone();
        let channel = snowflake(&message["channel_id"]).unwrap_or(0);
        if let Some(guild) = self.world.guild_of_channel(channel) {
            payload["guild_id"] = id_str(guild);
            if let Some(mut member) = self.world.member_json(guild, self.world.bot.id) {
                if let Some(object) = member.as_object_mut() {
                    object.remove("user");
                }
                payload["member"] = member;
            }
        }
        self.send_echo(event, payload);
    }
}

fn route(state: &mut State, method: &Method, call: &DiscordCall) -> Reply {
    let segments: Vec<&str> = call.path.trim_matches('/').split('/').collect();
    let body = &call.body;
    let app = state.world.application_id.to_string();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => Reply::ok(json!({"url": format!("ws://{}/gateway", state.addr)})),
        ("GET", ["gateway", "bot"]) => Reply::ok(json!({
            "url": format!("ws://{}/gateway", state.addr),
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        })),
        ("GET", ["users", "@me"]) => Reply::ok(state.world.current_user_json()),
        ("GET", ["oauth2", "applications", "@me"]) => Reply::ok(state.world.application_json()),
        ("POST", ["users", "@me", "channels"]) => open_dm(&mut state.world, body),
        (_, ["applications", a, ..]) if *a != app => Reply::error(403, 50001, "Missing Access"),
        (_, ["applications", _, "commands"]) => commands(state, method, None, body),
        (_, ["applications", _, "commands", id]) => command(state, method, None, id, body),
        (_, ["applications", _, "guilds", guild, "commands"]) => match guild_id(state, guild) {
            Ok(guild) => commands(state, method, Some(guild), body),
            Err(reply) => reply,
        },
        (_, ["applications", _, "guilds", guild, "commands", id]) => match guild_id(state, guild) {
            Ok(guild) => command(state, method, Some(guild), id, body),
            Err(reply) => reply,
        },
        ("POST", ["interactions", id, token, "callback"]) => callback(state, id, token, call),
        (_, ["webhooks", a, token, rest @ ..]) => webhook(state, method, a, token, rest, call),
        ("GET", ["channels", id]) => with_channel(state, id, |_, channel| Reply::ok(channel)),
        ("PATCH", ["channels", id]) => modify_channel(state, id, body),
        ("DELETE", ["channels", id]) => delete_channel(state, id),
        ("POST", ["channels", id, "threads"]) => create_thread(state, id, body),
        ("GET", ["channels", id, "thread-members"]) => thread_members(state, id),
        ("PUT", ["channels", id, "thread-members", user]) => add_thread_member(state, id, user),
        ("POST", ["channels", id, "typing"]) => with_channel(state, id, |_, _| Reply::no_content()),
        ("GET", ["channels", id, "messages"]) => list_messages(state, id, call),
        ("POST", ["channels", id, "messages"]) => create_message(state, id, call),
        ("GET", ["channels", id, "messages", mid]) => {
            with_message(state, id, mid, |_, _, message| Reply::ok(message))
        }
        ("PATCH", ["channels", id, "messages", mid]) => edit_message(state, id, mid, call),
        ("DELETE", ["channels", id, "messages", mid]) => delete_message(state, id, mid),
        ("GET", ["guilds", id]) => match guild_id(state, id) {
            Ok(guild) => Reply::ok(state.world.guilds[&guild].json()),
            Err(reply) => reply,
        },
        ("GET", ["guilds", id, "roles"]) => match guild_id(state, id) {
            Ok(guild) => Reply::ok(state.world.guilds[&guild].json()["roles"].clone()),
            Err(reply) => reply,
        },
        ("GET", ["guilds", id, "channels"]) => match guild_id(state, id) {
            Ok(guild) => {
                let channels: Vec<Value> = state.world.guilds[&guild]
                    .channels
                    .iter()
                    .filter_map(|c| state.world.channels.get(c).cloned())
                    .collect();
                Reply::ok(Value::Array(channels))
            }
            Err(reply) => reply,
        },
        ("GET", ["guilds", id, "members", user]) => match guild_id(state, id) {
            Ok(guild) => {
                let member = user
                    .parse()
                    .ok()
                    .and_then(|u| state.world.member_json(guild, u));
                match member {
                    Some(member) => Reply::ok(member),
                    None => Reply::error(404, 10007, "Unknown Member"),
                }
            }
            Err(reply) => reply,
        },
        _ => Reply::not_found(),
    }
}

fn guild_id(state: &State, raw: &str) -> Result<u64, Reply> {
    raw.parse()
        .ok()
        .filter(|id| state.world.guilds.contains_key(id))
        .ok_or_else(|| Reply::error(404, 10004, "Unknown Guild"))
}

fn with_channel(state: &mut State, raw: &str, f: impl FnOnce(&mut State, Value) -> Reply) -> Reply {
    match raw
        .parse()
        .ok()
        .and_then(|id: u64| state.world.channels.get(&id).cloned())
    {
        Some(channel) => f(state, channel),
        None => Reply::error(404, 10003, "Unknown Channel"),
    }
}

fn with_message(
    state: &mut State,
    channel: &str,
    message: &str,
    f: impl FnOnce(&mut State, u64, Value) -> Reply,
) -> Reply {
    with_channel(state, channel, |state, channel| {
        let channel_id = snowflake(&channel["id"]);
        let found = message
            .parse()
            .ok()
            .and_then(|id: u64| state.world.messages.get(&id).map(|m| (id, m.clone())))
            .filter(|(_, m)| snowflake(&m["channel_id"]) == channel_id);
        match found {
            Some((id, message)) => f(state, id, message),
            None => Reply::error(404, 10008, "Unknown Message"),
        }
    })
}

fn open_dm(world: &mut World, body: &Value) -> Reply {
    let Some(user) = snowflake(&body["recipient_id"]).and_then(|id| world.user_json(id)) else {
        return Reply::error(400, 50033, "Invalid Recipient(s)");
    };
    let user_id = snowflake(&user["id"]).unwrap_or(0);
    if let Some(channel) = world.dm_channels.get(&user_id) {
        return Reply::ok(world.channels[channel].clone());
    }
    let id = world.now_id();
    let channel = json!({
        "id": id_str(id),
        "type": channel_type::DM,
        "last_message_id": null,
        "flags": 0,
        "recipients": [user],
    });
    world.channels.insert(id, channel.clone());
    world.dm_channels.insert(user_id, id);
    Reply::ok(channel)
}

// --- application commands -------------------------------------------------------------------

fn commands(state: &mut State, method: &Method, guild: Option<u64>, body: &Value) -> Reply {
    let world = &mut state.world;
    match method.as_str() {
        "GET" => Reply::ok(Value::Array(command_list(world, guild).clone())),
        "PUT" => {
            let Some(requested) = body.as_array() else {
                return Reply::invalid_form("_", "BASE_TYPE_ARRAY", "Must be an array.");
            };
            let mut registered = Vec::new();
            for (i, wanted) in requested.iter().enumerate() {
                if let Err(reply) = validate_command(wanted, &format!("{i}")) {
                    return reply;
                }
                let existing = find_command(command_list(world, guild), wanted).cloned();
                registered.push(command_object(world, guild, wanted, existing.as_ref()));
            }
            *command_list(world, guild) = registered.clone();
            Reply::ok(Value::Array(registered))
        }
        "POST" => {
            if let Err(reply) = validate_command(body, "") {
                return reply;
            }
            let existing = find_command(command_list(world, guild), body).cloned();
            let created = command_object(world, guild, body, existing.as_ref());
            let list = command_list(world, guild);
            list.retain(|c| c["id"] != created["id"]);
            list.push(created.clone());
            Reply::json(if existing.is_some() { 200 } else { 201 }, created)
        }
        _ => Reply::error(405, 0, "405: Method Not Allowed"),
    }
}

fn command(
    state: &mut State,
    method: &Method,
    guild: Option<u64>,
    id: &str,
    body: &Value,
) -> Reply {
    let world = &mut state.world;
    let list = command_list(world, guild);
    let Some(index) = list.iter().position(|c| c["id"] == json!(id)) else {
        return Reply::error(404, 10063, "Unknown application command");
    };
    match method.as_str() {
        "GET" => Reply::ok(list[index].clone()),
        "DELETE" => {
            list.remove(index);
            Reply::no_content()
        }
        "PATCH" => {
            let mut updated = list[index].clone();
            merge(&mut updated, body.clone());
            let version = world.now_id();
            updated["version"] = id_str(version);
            command_list(world, guild)[index] = updated.clone();
            Reply::ok(updated)
        }
        _ => Reply::error(405, 0, "405: Method Not Allowed"),
    }
}

fn command_list(world: &mut World, guild: Option<u64>) -> &mut Vec<Value> {
    match guild {
        None => &mut world.global_commands,
        Some(id) => world.guild_commands.entry(id).or_default(),
    }
}

fn find_command<'a>(list: &'a [Value], wanted: &Value) -> Option<&'a Value> {
    let kind = wanted["type"].as_u64().unwrap_or(1);
    list.iter()
        .find(|c| c["name"] == wanted["name"] && c["type"].as_u64() == Some(kind))
}

/// Discord's checks on a command: a lowercase name of 1-32 characters, and for slash
/// commands a description of 1-100 characters; at most 25 options.
fn validate_command(command: &Value, at: &str) -> Result<(), Reply> {
    let field = |name: &str| {
        if at.is_empty() {
            name.to_string()
        } else {
            format!("{at}.{name}")
        }
    };
    let name = command["name"].as_str().unwrap_or("");
    if name.is_empty() || name.chars().count() > 32 || name != name.to_lowercase() {
        return Err(Reply::invalid_form(
            &field("name"),
            "APPLICATION_COMMAND_INVALID_NAME",
            "Command name is invalid",
        ));
    }
    let kind = command["type"].as_u64().unwrap_or(1);
    let description = command["description"].as_str().unwrap_or("");
    if kind == 1 && (description.is_empty() || description.chars().count() > 100) {
        return Err(Reply::invalid_form(
            &field("description"),
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 100 in length.",
        ));
    }
    if command["options"].as_array().is_some_and(|o| o.len() > 25) {
        return Err(Reply::invalid_form(
            &field("options"),
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.",
        ));
    }
    Ok(())
}

/// The command object Discord stores: the request's fields, an id kept across overwrites
/// of the same name, a fresh version, and the defaults Discord fills in.
fn command_object(
    world: &mut World,
    guild: Option<u64>,
    wanted: &Value,
    existing: Option<&Value>,
) -> Value {
    let id = existing
        .and_then(|c| snowflake(&c["id"]))
        .unwrap_or_else(|| world.now_id());
    let version = world.now_id();
    let mut command = json!({
        "id": id_str(id),
        "application_id": id_str(world.application_id),
        "version": id_str(version),
        "default_member_permissions": null,
        "type": 1,
        "name": wanted["name"],
        "name_localizations": null,
        "description": wanted["description"].as_str().unwrap_or(""),
        "description_localizations": null,
        "integration_types": [0],
        "contexts": null,
        "nsfw": false,
    });
    match guild {
        Some(g) => command["guild_id"] = id_str(g),
        None => command["dm_permission"] = json!(true),
    }
    merge(&mut command, wanted.clone());
    command["id"] = id_str(id);
    command["version"] = id_str(version);
    command
}

// --- interactions -----------------------------------------------------------------------------

fn callback(state: &mut State, id: &str, token: &str, call: &DiscordCall) -> Reply {
    let Some(interaction_id) = id.parse().ok().filter(|i: &u64| {
        state
            .world
            .interactions
            .get(i)
            .is_some_and(|r| r.token == token)
    }) else {
        return Reply::error(404, 10062, "Unknown interaction");
    };
    let record = &state.world.interactions[&interaction_id];
    if record.acknowledged.is_some() {
        return Reply::error(400, 40060, "Interaction has already been acknowledged.");
    }
    let kind = record.kind;
    let body = &call.body;
    let Some(response_type) = body["type"].as_u64() else {
        return Reply::invalid_form("type", "BASE_TYPE_REQUIRED", "This field is required");
    };
    // Which callbacks each interaction type accepts.
    let allowed = match kind {
        2 => [4, 5, 9].contains(&response_type),
        3 => [4, 5, 6, 7, 9].contains(&response_type),
        4 => response_type == 8,
        5 => {
            [4, 5, 6, 7].contains(&response_type)
                && (response_type < 6 || record.source_message.is_some())
        }
        _ => response_type == 1,
    };
    if !allowed {
        return Reply::invalid_form(
            "type",
            "INTERACTION_RESPONSE_TYPE_INVALID",
            "Interaction response type is invalid for this interaction",
        );
    }
    let data = &body["data"];
    let original = match response_type {
        4 | 5 => {
            let mut flags = data["flags"].as_u64().unwrap_or(0) & SETTABLE_FLAGS;
            if response_type == 5 {
                flags = (flags & EPHEMERAL) | LOADING;
            }
            let message_type = if kind == 2 { 20 } else { 0 };
            let mut message = interaction_message(state, interaction_id, message_type);
            if response_type == 4 {
                if let Err(reply) = validate_message(data, &call.files, true) {
                    return reply;
                }
                apply_message(&state.world, &mut message, data, &call.files, false);
            }
            message["flags"] = json!(flags);
            let message_id = snowflake(&message["id"]).unwrap_or(0);
            state.world.messages.insert(message_id, message.clone());
            state.echo_message("MESSAGE_CREATE", &message);
            Some(message_id)
        }
        6 | 7 => {
            let source = state.world.interactions[&interaction_id].source_message;
            let updated = source
                .filter(|_| response_type == 7)
                .and_then(|id| state.world.messages.get(&id).cloned().map(|m| (id, m)));
            if let Some((message_id, mut message)) = updated {
                if let Err(reply) = validate_message(data, &call.files, false) {
                    return reply;
                }
                apply_message(&state.world, &mut message, data, &call.files, true);
                message["edited_timestamp"] = json!(timestamp_of(state.world.now_id()));
                state.world.messages.insert(message_id, message.clone());
                state.echo_message("MESSAGE_UPDATE", &message);
            }
            source
        }
        8 => {
            if data["choices"].as_array().is_none_or(|c| c.len() > 25) {
                return Reply::invalid_form(
                    "data.choices",
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 25 or fewer in length.",
                );
            }
            None
        }
        9 => {
            let components = data["components"].as_array().map_or(0, Vec::len);
            if data["custom_id"].as_str().is_none()
                || data["title"].as_str().is_none()
                || !(1..=5).contains(&components)
            {
                return Reply::invalid_form(
                    "data",
                    "MODAL_INVALID",
                    "A modal needs a custom_id, a title and 1 to 5 components",
                );
            }
            None
        }
        _ => None,
    };
    let record = state
        .world
        .interactions
        .get_mut(&interaction_id)
        .expect("looked up above");
    record.acknowledged = Some(response_type);
    record.original = original;
    if call
        .query
        .iter()
        .any(|(k, v)| k == "with_response" && v == "true")
    {
        let message = original.and_then(|m| state.world.messages.get(&m).cloned());
        return Reply::ok(json!({
            "interaction": {
                "id": id_str(interaction_id),
                "type": kind,
                "response_message_id": original.map(id_str),
                "response_message_loading": response_type == 5,
                "response_message_ephemeral": message.as_ref().is_some_and(|m| m["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0),
            },
            "resource": {"type": response_type, "message": message},
        }));
    }
    Reply::no_content()
}

/// A message sent through an interaction's webhook: by the bot, with the interaction's
/// metadata attached.
fn interaction_message(state: &mut State, interaction_id: u64, message_type: u64) -> Value {
    let world = &mut state.world;
    let record: &InteractionRecord = &world.interactions[&interaction_id];
    let channel = record.channel_id;
    let owners = match record.guild_id {
        Some(guild) => json!({"0": id_str(guild)}),
        None => json!({"1": record.user["id"]}),
    };
    let mut metadata = json!({
        "id": id_str(interaction_id),
        "type": record.kind,
        "user": record.user,
        "authorizing_integration_owners": owners,
    });
    match record.kind {
        2 => {
            metadata["name"] = json!(record.name);
            metadata["command_type"] = json!(1);
        }
        3 => metadata["interacted_message_id"] = json!(record.source_message.map(id_str)),
        _ => metadata = Value::Null,
    }
    let legacy = json!({"id": id_str(interaction_id), "type": record.kind, "name": record.name, "user": record.user});
    let author = world.bot.json();
    let mut message = world.new_message(channel, &author, message_type);
    message["webhook_id"] = id_str(world.application_id);
    message["application_id"] = id_str(world.application_id);
    if !metadata.is_null() {
        message["interaction_metadata"] = metadata;
        message["interaction"] = legacy;
    }
    message
}

fn webhook(
    state: &mut State,
    method: &Method,
    app: &str,
    token: &str,
    rest: &[&str],
    call: &DiscordCall,
) -> Reply {
    let interaction = state
        .world
        .interaction_tokens
        .get(token)
        .copied()
        .filter(|_| *app == state.world.application_id.to_string())
        .filter(|id| state.world.interactions[id].acknowledged.is_some());
    let Some(interaction_id) = interaction else {
        return Reply::error(404, 10015, "Unknown Webhook");
    };
    match (method.as_str(), rest) {
        ("POST", []) => {
            if let Err(reply) = validate_message(&call.body, &call.files, true) {
                return reply;
            }
            let mut message = interaction_message(state, interaction_id, 0);
            apply_message(&state.world, &mut message, &call.body, &call.files, false);
            message["flags"] = json!(call.body["flags"].as_u64().unwrap_or(0) & SETTABLE_FLAGS);
            let id = snowflake(&message["id"]).unwrap_or(0);
            state.world.messages.insert(id, message.clone());
            if let Some(record) = state.world.interactions.get_mut(&interaction_id) {
                record.followups.push(id);
            }
            state.echo_message("MESSAGE_CREATE", &message);
            Reply::ok(message)
        }
        (_, ["messages", which]) => {
            let record = &state.world.interactions[&interaction_id];
            let target = if *which == "@original" {
                record.original
            } else {
                which
                    .parse()
                    .ok()
                    .filter(|id| record.followups.contains(id) || record.original == Some(*id))
            };
            let Some(message_id) = target.filter(|id| state.world.messages.contains_key(id)) else {
                return Reply::error(404, 10008, "Unknown Message");
            };
            match method.as_str() {
                "GET" => Reply::ok(state.world.messages[&message_id].clone()),
                "PATCH" => edit_stored(state, message_id, call),
                "DELETE" => {
                    remove_message(state, message_id);
                    Reply::no_content()
                }
                _ => Reply::error(405, 0, "405: Method Not Allowed"),
            }
        }
        _ => Reply::not_found(),
    }
}

// --- channels and threads ---------------------------------------------------------------------

fn create_thread(state: &mut State, parent: &str, body: &Value) -> Reply {
    with_channel(state, parent, |state, parent| {
        let parent_type = parent["type"].as_u64().unwrap_or(0);
        if parent_type != channel_type::GUILD_TEXT
            && parent_type != channel_type::GUILD_ANNOUNCEMENT
        {
            return Reply::error(400, 50024, "Cannot execute action on this channel type");
        }
        let name = body["name"].as_str().unwrap_or("");
        if name.is_empty() || name.chars().count() > 100 {
            return Reply::invalid_form(
                "name",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            );
        }
        let kind = if parent_type == channel_type::GUILD_ANNOUNCEMENT {
            channel_type::ANNOUNCEMENT_THREAD
        } else {
            // Discord's default in API v10 is a private thread.
            body["type"]
                .as_u64()
                .unwrap_or(channel_type::PRIVATE_THREAD)
        };
        if !channel_type::is_thread(kind) {
            return Reply::invalid_form(
                "type",
                "BASE_TYPE_CHOICES",
                "Value must be one of {10, 11, 12}.",
            );
        }
        let archive = body["auto_archive_duration"].as_u64().unwrap_or(4320);
        if ![60, 1440, 4320, 10080].contains(&archive) {
            return Reply::invalid_form(
                "auto_archive_duration",
                "BASE_TYPE_CHOICES",
                "Value must be one of {60, 1440, 4320, 10080}.",
            );
        }
        let id = state.world.now_id();
        let now = timestamp_of(id);
        let bot = state.world.bot.id;
        let mut metadata = json!({
            "archived": false,
            "auto_archive_duration": archive,
            "archive_timestamp": now,
            "locked": false,
            "create_timestamp": now,
        });
        if kind == channel_type::PRIVATE_THREAD {
            metadata["invitable"] = json!(body["invitable"].as_bool().unwrap_or(true));
        }
        let thread = json!({
            "id": id_str(id),
            "type": kind,
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": id_str(bot),
            "name": name,
            "last_message_id": null,
            "rate_limit_per_user": body["rate_limit_per_user"].as_u64().unwrap_or(0),
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "flags": 0,
            "thread_metadata": metadata,
        });
        state.world.channels.insert(id, thread.clone());
        state.world.thread_members.insert(id, vec![bot]);
        let mut created = thread.clone();
        created["member"] =
            json!({"id": id_str(id), "user_id": id_str(bot), "join_timestamp": now, "flags": 1});
        let mut event = created.clone();
        event["newly_created"] = json!(true);
        state.send_echo("THREAD_CREATE", event);
        Reply::json(201, created)
    })
}

fn thread_members(state: &mut State, thread: &str) -> Reply {
    with_channel(state, thread, |state, channel| {
        let id = snowflake(&channel["id"]).unwrap_or(0);
        let members: Vec<Value> = state
            .world
            .thread_members
            .get(&id)
            .into_iter()
            .flatten()
            .map(|user| json!({"id": id_str(id), "user_id": id_str(*user), "join_timestamp": channel["thread_metadata"]["create_timestamp"], "flags": 0}))
            .collect();
        Reply::ok(Value::Array(members))
    })
}

fn add_thread_member(state: &mut State, thread: &str, user: &str) -> Reply {
    with_channel(state, thread, |state, channel| {
        if !channel_type::is_thread(channel["type"].as_u64().unwrap_or(0)) {
            return Reply::error(400, 50024, "Cannot execute action on this channel type");
        }
        if channel["thread_metadata"]["archived"] == json!(true) {
            return Reply::error(400, 50083, "Thread is archived");
        }
        let thread_id = snowflake(&channel["id"]).unwrap_or(0);
        let guild = snowflake(&channel["guild_id"]).unwrap_or(0);
        let Some(user_id) = user
            .parse::<u64>()
            .ok()
            .filter(|u| state.world.member_json(guild, *u).is_some())
        else {
            return Reply::error(404, 10007, "Unknown Member");
        };
        let members = state.world.thread_members.entry(thread_id).or_default();
        if !members.contains(&user_id) {
            members.push(user_id);
            let count = members.len();
            if let Some(thread) = state.world.channels.get_mut(&thread_id) {
                thread["member_count"] = json!(count.min(50));
            }
            let added = json!({
                "id": id_str(thread_id),
                "guild_id": id_str(guild),
                "member_count": count,
                "added_members": [{
                    "id": id_str(thread_id),
                    "user_id": id_str(user_id),
                    "join_timestamp": timestamp_of(state.world.now_id()),
                    "flags": 0,
                    "member": state.world.member_json(guild, user_id),
                    "presence": null,
                }],
            });
            state.send_echo("THREAD_MEMBERS_UPDATE", added);
        }
        Reply::no_content()
    })
}

fn modify_channel(state: &mut State, raw: &str, body: &Value) -> Reply {
    with_channel(state, raw, |state, mut channel| {
        let id = snowflake(&channel["id"]).unwrap_or(0);
        let is_thread = channel_type::is_thread(channel["type"].as_u64().unwrap_or(0));
        for field in ["name", "topic", "rate_limit_per_user", "nsfw"] {
            if let Some(value) = body.get(field) {
                channel[field] = value.clone();
            }
        }
        if is_thread {
            for field in ["archived", "locked", "auto_archive_duration", "invitable"] {
                if let Some(value) = body.get(field) {
                    channel["thread_metadata"][field] = value.clone();
                }
            }
            if body.get("archived").is_some() {
                channel["thread_metadata"]["archive_timestamp"] =
                    json!(timestamp_of(state.world.now_id()));
            }
        }
        state.world.channels.insert(id, channel.clone());
        state.send_echo(
            if is_thread {
                "THREAD_UPDATE"
            } else {
                "CHANNEL_UPDATE"
            },
            channel.clone(),
        );
        Reply::ok(channel)
    })
}

fn delete_channel(state: &mut State, raw: &str) -> Reply {
    with_channel(state, raw, |state, channel| {
        let id = snowflake(&channel["id"]).unwrap_or(0);
        state.world.channels.remove(&id);
        state
            .world
            .messages
            .retain(|_, m| snowflake(&m["channel_id"]) != Some(id));
        if channel_type::is_thread(channel["type"].as_u64().unwrap_or(0)) {
            let event = json!({"id": channel["id"], "guild_id": channel["guild_id"], "parent_id": channel["parent_id"], "type": channel["type"]});
            state.send_echo("THREAD_DELETE", event);
        } else {
            state.send_echo("CHANNEL_DELETE", channel.clone());
        }
        Reply::ok(channel)
    })
}

// --- messages ---------------------------------------------------------------------------------

fn list_messages(state: &mut State, raw: &str, call: &DiscordCall) -> Reply {
    let limit = call
        .query
        .iter()
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(50usize)
        .clamp(1, 100);
    with_channel(state, raw, |state, channel| {
        let id = snowflake(&channel["id"]);
        let newest_first: Vec<Value> = state
            .world
            .messages
            .values()
            .rev()
            .filter(|m| snowflake(&m["channel_id"]) == id)
            .take(limit)
            .cloned()
            .collect();
        Reply::ok(Value::Array(newest_first))
    })
}

fn create_message(state: &mut State, raw: &str, call: &DiscordCall) -> Reply {
    with_channel(state, raw, |state, mut channel| {
        let channel_id = snowflake(&channel["id"]).unwrap_or(0);
        if let Err(reply) = validate_message(&call.body, &call.files, true) {
            return reply;
        }
        if channel["thread_metadata"]["archived"] == json!(true) {
            if channel["thread_metadata"]["locked"] == json!(true) {
                return Reply::error(400, 50083, "Thread is archived");
            }
            // A message in an archived thread that is not locked unarchives it.
            channel["thread_metadata"]["archived"] = json!(false);
            state.world.channels.insert(channel_id, channel.clone());
            state.send_echo("THREAD_UPDATE", channel);
        }
        let author = state.world.bot.json();
        let reference = snowflake(&call.body["message_reference"]["message_id"]);
        let mut message = state.world.new_message(
            channel_id,
            &author,
            if reference.is_some() { 19 } else { 0 },
        );
        apply_message(&state.world, &mut message, &call.body, &call.files, false);
        message["flags"] =
            json!(call.body["flags"].as_u64().unwrap_or(0) & (SETTABLE_FLAGS & !EPHEMERAL));
        if let Some(nonce) = call.body.get("nonce") {
            message["nonce"] = nonce.clone();
        }
        if let Some(referenced) = reference {
            let Some(original) = state.world.messages.get(&referenced).cloned() else {
                return Reply::invalid_form(
                    "message_reference",
                    "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                    "Unknown message",
                );
            };
            message["message_reference"] = json!({
                "type": 0,
                "message_id": id_str(referenced),
                "channel_id": original["channel_id"],
                "guild_id": state.world.guild_of_channel(channel_id).map(id_str),
            });
            message["referenced_message"] = original;
        }
        let id = snowflake(&message["id"]).unwrap_or(0);
        state.world.messages.insert(id, message.clone());
        state.echo_message("MESSAGE_CREATE", &message);
        Reply::ok(message)
    })
}

fn edit_message(state: &mut State, channel: &str, message: &str, call: &DiscordCall) -> Reply {
    with_message(state, channel, message, |state, id, message| {
        if snowflake(&message["author"]["id"]) != Some(state.world.bot.id)
            && call.body.get("content").is_some()
        {
            return Reply::error(403, 50005, "Cannot edit a message authored by another user");
        }
        edit_stored(state, id, call)
    })
}

fn edit_stored(state: &mut State, id: u64, call: &DiscordCall) -> Reply {
    if let Err(reply) = validate_message(&call.body, &call.files, false) {
        return reply;
    }
    let Some(mut message) = state.world.messages.get(&id).cloned() else {
        return Reply::error(404, 10008, "Unknown Message");
    };
    apply_message(&state.world, &mut message, &call.body, &call.files, true);
    let flags = message["flags"].as_u64().unwrap_or(0);
    if flags & LOADING != 0 {
        // The first edit of a deferred response replaces the "thinking" placeholder.
        message["flags"] = json!(flags & !LOADING);
    } else {
        message["edited_timestamp"] = json!(timestamp_of(state.world.now_id()));
    }
    state.world.messages.insert(id, message.clone());
    state.echo_message("MESSAGE_UPDATE", &message);
    Reply::ok(message)
}

fn delete_message(state: &mut State, channel: &str, message: &str) -> Reply {
    with_message(state, channel, message, |state, id, _| {
        remove_message(state, id);
        Reply::no_content()
    })
}

fn remove_message(state: &mut State, id: u64) {
    let Some(message) = state.world.messages.remove(&id) else {
        return;
    };
    if message["flags"].as_u64().unwrap_or(0) & EPHEMERAL != 0 {
        return;
    }
    let channel = snowflake(&message["channel_id"]).unwrap_or(0);
    let mut event = json!({"id": message["id"], "channel_id": message["channel_id"]});
    if let Some(guild) = state.world.guild_of_channel(channel) {
        event["guild_id"] = id_str(guild);
    }
    state.send_echo("MESSAGE_DELETE", event);
}

/// Discord's checks on a message body: content of at most 2000 characters, at most ten
/// embeds, and (when creating) something to send.
fn validate_message(body: &Value, files: &[UploadedFile], creating: bool) -> Result<(), Reply> {
    let content = body["content"].as_str().unwrap_or("");
    if content.chars().count() > MAX_CONTENT {
        return Err(Reply::invalid_form(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        ));
    }
    let embeds = body["embeds"].as_array().map_or(0, Vec::len);
    if embeds > MAX_EMBEDS {
        return Err(Reply::invalid_form(
            "embeds",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 10 or fewer in length.",
        ));
    }
    let has = |field: &str| body[field].as_array().is_some_and(|a| !a.is_empty());
    let empty = content.trim().is_empty()
        && embeds == 0
        && files.is_empty()
        && !has("components")
        && !has("sticker_ids")
        && body["poll"].is_null();
    if creating && empty {
        return Err(Reply::error(400, 50006, "Cannot send an empty message"));
    }
    Ok(())
}

/// Applies a message body (create or edit) to a stored message: content and its mentions,
/// embeds, components, and attachments built from the uploaded files.
fn apply_message(
    world: &World,
    message: &mut Value,
    body: &Value,
    files: &[UploadedFile],
    editing: bool,
) {
    if let Some(content) = body["content"].as_str() {
        message["content"] = json!(content);
        message["mentions"] = Value::Array(world.mentions_in(content));
    }
    if let Some(embeds) = body["embeds"].as_array() {
        let embeds: Vec<Value> = embeds
            .iter()
            .map(|e| {
                let mut embed = e.clone();
                if embed.get("type").is_none() {
                    embed["type"] = json!("rich");
                }
                embed
            })
            .collect();
        message["embeds"] = Value::Array(embeds);
    }
    if let Some(components) = body.get("components").filter(|c| c.is_array()) {
        message["components"] = components.clone();
    }
    if body.get("tts").is_some() && !editing {
        message["tts"] = body["tts"].clone();
    }
    let channel = message["channel_id"].as_str().unwrap_or("0").to_string();
    let existing: Vec<Value> = message["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut next_id = snowflake(&message["id"]).unwrap_or(0);
    let mut uploaded = |index: usize, described: &Value| -> Option<Value> {
        let file = files
            .iter()
            .find(|f| f.field == format!("files[{index}]"))?;
        next_id += 1;
        let url = format!(
            "https://cdn.discordapp.com/attachments/{channel}/{next_id}/{}",
            file.filename
        );
        let mut attachment = json!({
            "id": id_str(next_id),
            "filename": file.filename,
            "size": file.bytes.len(),
            "url": url,
            "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
            "content_type": file.content_type,
        });
        if let Some(description) = described.get("description") {
            attachment["description"] = description.clone();
        }
        Some(attachment)
    };
    let attachments: Vec<Value> = match body["attachments"].as_array() {
        // The list names what to keep (existing ids) and what each `files[n]` is (id n).
        Some(listed) => listed
            .iter()
            .filter_map(|a| {
                let id = snowflake(&a["id"])?;
                existing
                    .iter()
                    .find(|e| snowflake(&e["id"]) == Some(id))
                    .cloned()
                    .or_else(|| uploaded(id as usize, a))
            })
            .collect(),
        None => {
            let mut kept = if editing {
                existing.clone()
            } else {
                Vec::new()
            };
            kept.extend((0..files.len()).filter_map(|i| uploaded(i, &Value::Null)));
            kept
        }
    };
    message["attachments"] = Value::Array(attachments);
}
