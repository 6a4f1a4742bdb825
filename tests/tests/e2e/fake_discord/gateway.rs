//! The gateway: Hello, Identify and READY, heartbeats, Resume with replay, Invalid Session,
//! the close codes Discord uses, and dispatches filtered by each session's intents.

use super::world::{id_str, intent, snowflake};
use super::{Shared, State};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State as AxumState};
use axum::response::IntoResponse as _;
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// How many dispatches a session keeps for a Resume to replay.
const REPLAY_LIMIT: usize = 1000;

/// What the fake sends down one connection.
pub enum Outgoing {
    Text(String),
    /// A close frame with Discord's code and reason, then the end of the connection.
    Close(u16, &'static str),
    /// The end of the connection with no closing handshake.
    Drop,
}

pub struct Session {
    pub id: String,
    pub token: String,
    pub intents: u64,
    pub seq: u64,
    /// The dispatches sent (or held while disconnected), for replay on Resume.
    pub sent: Vec<(u64, String)>,
    /// The connection it is attached to now, if any.
    pub connection: Option<u64>,
}

#[derive(Default)]
pub struct GatewayState {
    pub sessions: Vec<Session>,
    pub connections: HashMap<u64, mpsc::UnboundedSender<Outgoing>>,
    pub next_connection: u64,
    pub identifies: Vec<Value>,
    pub heartbeats: usize,
    pub resumed: usize,
    /// While set, new connections are refused, as a gateway that is down refuses them.
    pub holding: bool,
}

impl GatewayState {
    pub fn live_sessions(&self) -> usize {
        self.sessions
            .iter()
            .filter(|s| s.connection.is_some())
            .count()
    }

    pub fn drop_connections(&mut self) {
        for (_, connection) in self.connections.drain() {
            let _ = connection.send(Outgoing::Drop);
        }
        for session in &mut self.sessions {
            session.connection = None;
        }
    }

    pub fn invalidate(&mut self) {
        self.sessions.clear();
    }

    fn send(&self, connection: u64, frame: Outgoing) {
        if let Some(tx) = self.connections.get(&connection) {
            let _ = tx.send(frame);
        }
    }
}

impl State {
    /// Sends a dispatch to each session whose intents admit it; see `FakeDiscord::dispatch`.
    pub(crate) fn dispatch(&mut self, event: &str, data: Value) -> usize {
        let bot_id = self.world.bot.id;
        let mut delivered = 0;
        let gateway = &mut self.gateway;
        for session in &mut gateway.sessions {
            let Some(payload) = admitted(event, &data, session.intents, bot_id) else {
                continue;
            };
            session.seq += 1;
            let frame = json!({"op": 0, "t": event, "s": session.seq, "d": payload}).to_string();
            session.sent.push((session.seq, frame.clone()));
            if session.sent.len() > REPLAY_LIMIT {
                session.sent.remove(0);
            }
            let live = session.connection.and_then(|c| gateway.connections.get(&c));
            if live.is_some_and(|tx| tx.send(Outgoing::Text(frame)).is_ok()) {
                delivered += 1;
            }
        }
        delivered
    }

    /// A dispatch caused by the bot's own REST call, sent only while echo is on.
    pub(crate) fn send_echo(&mut self, event: &str, data: Value) {
        if self.echo {
            self.dispatch(event, data);
        }
    }
}

/// The payload a session with `intents` receives for `event`, or `None` if its intents
/// exclude the event. Without MESSAGE_CONTENT, guild messages from others that do not
/// mention the bot arrive with empty content, embeds, attachments and components.
fn admitted(event: &str, data: &Value, intents: u64, bot_id: u64) -> Option<Value> {
    let in_guild = !data["guild_id"].is_null();
    let needed = match event {
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" | "MESSAGE_DELETE_BULK" => {
            if in_guild {
                intent::GUILD_MESSAGES
            } else {
                intent::DIRECT_MESSAGES
            }
        }
        "MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE" => {
            if in_guild {
                intent::GUILD_MESSAGE_REACTIONS
            } else {
                intent::DIRECT_MESSAGE_REACTIONS
            }
        }
        "TYPING_START" => {
            if in_guild {
                intent::GUILD_MESSAGE_TYPING
            } else {
                intent::DIRECT_MESSAGE_TYPING
            }
        }
        "GUILD_MEMBER_ADD" | "GUILD_MEMBER_UPDATE" | "GUILD_MEMBER_REMOVE" => intent::GUILD_MEMBERS,
        e if e.starts_with("GUILD_") || e.starts_with("CHANNEL_") || e.starts_with("THREAD_") => {
            intent::GUILDS
        }
        _ => 0,
    };
    if intents & needed != needed {
        return None;
    }
    let mut payload = data.clone();
    let is_message = matches!(event, "MESSAGE_CREATE" | "MESSAGE_UPDATE");
    if is_message && in_guild && intents & intent::MESSAGE_CONTENT == 0 {
        let from_bot = snowflake(&data["author"]["id"]) == Some(bot_id);
        let mentions_bot = data["mentions"]
            .as_array()
            .is_some_and(|m| m.iter().any(|u| snowflake(&u["id"]) == Some(bot_id)));
        if !from_bot && !mentions_bot {
            for (field, empty) in [
                ("content", json!("")),
                ("embeds", json!([])),
                ("attachments", json!([])),
                ("components", json!([])),
            ] {
                if payload.get(field).is_some() {
                    payload[field] = empty;
                }
            }
            if let Some(object) = payload.as_object_mut() {
                object.remove("poll");
            }
        }
    }
    Some(payload)
}

pub async fn upgrade(
    AxumState(shared): AxumState<Arc<Shared>>,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    let query = query.unwrap_or_default();
    if shared.lock().gateway.holding {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    ws.on_upgrade(move |socket| serve(shared, socket, query))
}

async fn serve(shared: Arc<Shared>, mut socket: WebSocket, query: String) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let connection = {
        let mut state = shared.lock();
        state.gateway.next_connection += 1;
        let id = state.gateway.next_connection;
        state.gateway.connections.insert(id, tx.clone());
        let hello = json!({
            "op": 10, "t": null, "s": null,
            "d": {"heartbeat_interval": state.heartbeat_interval_ms, "_trace": ["[\"fake-gateway\"]"]}
        });
        let _ = tx.send(Outgoing::Text(hello.to_string()));
        // Only JSON without transport compression is spoken; Discord closes on a bad encoding.
        if query.contains("encoding=etf") || query.contains("compress=") {
            let _ = tx.send(Outgoing::Close(4002, "Error while decoding payload."));
        }
        id
    };
    let mut session: Option<String> = None;
    loop {
        tokio::select! {
            outgoing = rx.recv() => match outgoing {
                Some(Outgoing::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break;
                }
                Some(Outgoing::Drop) | None => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let mut state = shared.lock();
                    received(&mut state, connection, &mut session, text.as_str());
                    drop(state);
                    shared.gateway_changed.notify_waiters();
                }
                Some(Ok(Message::Binary(_))) => {
                    let _ = tx.send(Outgoing::Close(4002, "Error while decoding payload."));
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let mut state = shared.lock();
    state.gateway.connections.remove(&connection);
    for s in &mut state.gateway.sessions {
        if s.connection == Some(connection) {
            s.connection = None;
        }
    }
    drop(state);
    shared.gateway_changed.notify_waiters();
}

/// Handles one frame from a client.
fn received(state: &mut State, connection: u64, session: &mut Option<String>, text: &str) {
    let close = |state: &State, code, reason| {
        state
            .gateway
            .send(connection, Outgoing::Close(code, reason))
    };
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return close(state, 4002, "Error while decoding payload.");
    };
    let op = frame["op"].as_u64();
    match op {
        Some(1) => {
            state.gateway.heartbeats += 1;
            let ack = json!({"op": 11, "t": null, "s": null, "d": null}).to_string();
            state.gateway.send(connection, Outgoing::Text(ack));
        }
        Some(2) => {
            if session.is_some() {
                return close(state, 4005, "Already authenticated.");
            }
            let d = &frame["d"];
            state.gateway.identifies.push(d.clone());
            let token = d["token"].as_str().unwrap_or_default();
            if token.trim_start_matches("Bot ") != state.world.token {
                return close(state, 4004, "Authentication failed.");
            }
            let Some(intents) = d["intents"].as_u64() else {
                return close(state, 4013, "Invalid intent(s).");
            };
            let id = uuid::Uuid::new_v4().simple().to_string();
            state.gateway.sessions.push(Session {
                id: id.clone(),
                token: token.to_string(),
                intents,
                seq: 0,
                sent: Vec::new(),
                connection: Some(connection),
            });
            *session = Some(id.clone());
            let ready = ready_payload(state, &id, d["shard"].clone());
            send_to_session(state, &id, "READY", ready);
            if intents & intent::GUILDS != 0 {
                let guilds: Vec<Value> = (state.world.guilds.keys())
                    .filter_map(|g| state.world.guild_create_json(*g))
                    .collect();
                for guild in guilds {
                    send_to_session(state, &id, "GUILD_CREATE", guild);
                }
            }
        }
        Some(6) => {
            let d = &frame["d"];
            let wanted = d["session_id"].as_str().unwrap_or_default();
            let token = d["token"].as_str().unwrap_or_default();
            let after = d["seq"].as_u64().unwrap_or(0);
            let found = state.gateway.sessions.iter_mut().find(|s| {
                s.id == wanted
                    && s.token.trim_start_matches("Bot ") == token.trim_start_matches("Bot ")
            });
            match found {
                Some(resumed) => {
                    resumed.connection = Some(connection);
                    let replay: Vec<String> = resumed
                        .sent
                        .iter()
                        .filter(|(seq, _)| *seq > after)
                        .map(|(_, frame)| frame.clone())
                        .collect();
                    let id = resumed.id.clone();
                    for frame in replay {
                        state.gateway.send(connection, Outgoing::Text(frame));
                    }
                    *session = Some(id.clone());
                    state.gateway.resumed += 1;
                    send_to_session(
                        state,
                        &id,
                        "RESUMED",
                        json!({"_trace": ["[\"fake-gateway\"]"]}),
                    );
                }
                None => {
                    let invalid = json!({"op": 9, "t": null, "s": null, "d": false}).to_string();
                    state.gateway.send(connection, Outgoing::Text(invalid));
                }
            }
        }
        // Presence, voice state and member requests are accepted and not acted on.
        Some(3 | 4 | 8 | 31) if session.is_some() => {}
        Some(3 | 4 | 8 | 31) => close(state, 4003, "Not authenticated."),
        _ => close(state, 4001, "Unknown opcode."),
    }
}

fn send_to_session(state: &mut State, session_id: &str, event: &str, data: Value) {
    let Some(session) = state
        .gateway
        .sessions
        .iter_mut()
        .find(|s| s.id == session_id)
    else {
        return;
    };
    session.seq += 1;
    let frame = json!({"op": 0, "t": event, "s": session.seq, "d": data}).to_string();
    session.sent.push((session.seq, frame.clone()));
    if let Some(connection) = session.connection {
        state.gateway.send(connection, Outgoing::Text(frame));
    }
}

fn ready_payload(state: &State, session_id: &str, shard: Value) -> Value {
    let world = &state.world;
    let guilds: Vec<Value> = world
        .guilds
        .keys()
        .map(|id| json!({"id": id_str(*id), "unavailable": true}))
        .collect();
    let shard = if shard.is_array() {
        shard
    } else {
        json!([0, 1])
    };
    json!({
        "v": 10,
        "user_settings": {},
        "user": world.current_user_json(),
        "guilds": guilds,
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": format!("ws://{}/gateway", state.addr),
        "shard": shard,
        "application": {"id": id_str(world.application_id), "flags": 0},
        "private_channels": [],
        "presences": [],
        "relationships": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
        "auth": {},
        "_trace": ["[\"fake-gateway\"]"],
    })
}
