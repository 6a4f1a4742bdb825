//! Socket Mode: connections opened with a ticket from `apps.connections.open`, `hello` on
//! connect, each envelope delivered on one connection, acknowledgements recorded, and the
//! `disconnect` frame Slack sends before it recycles a connection.

use super::{FakeSlack, SentEnvelope, Shared, SocketAck};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

pub enum Outgoing {
    Text(String),
    /// The end of the connection with no closing handshake.
    Drop,
}

#[derive(Default)]
pub struct SocketState {
    /// Tickets handed out by `apps.connections.open` and not used yet.
    pub tickets: HashSet<String>,
    pub connections: BTreeMap<u64, mpsc::UnboundedSender<Outgoing>>,
    pub next_connection: u64,
    pub opened: usize,
    /// Which live connection gets the next envelope.
    pub turn: usize,
    pub sent: Vec<SentEnvelope>,
    pub acks: Vec<SocketAck>,
    /// Frames received that were not acknowledgements.
    pub other_frames: Vec<String>,
}

pub async fn upgrade(
    AxumState(shared): AxumState<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let ticket = params.get("ticket").cloned().unwrap_or_default();
    // A ticket opens one connection, as Slack's do.
    if !shared.lock().socket.tickets.remove(&ticket) {
        return (StatusCode::UNAUTHORIZED, "invalid ticket").into_response();
    }
    ws.on_upgrade(move |socket| serve(shared, socket))
}

async fn serve(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let connection = {
        let mut state = shared.lock();
        state.socket.next_connection += 1;
        state.socket.opened += 1;
        let id = state.socket.next_connection;
        state.socket.connections.insert(id, tx);
        let hello = json!({
            "type": "hello",
            "num_connections": state.socket.connections.len(),
            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": state.app_id},
        });
        let _ = state.socket.connections[&id].send(Outgoing::Text(hello.to_string()));
        id
    };
    shared.socket_changed.notify_waiters();
    loop {
        tokio::select! {
            outgoing = rx.recv() => match outgoing {
                Some(Outgoing::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Drop) | None => break,
            },
            // Reading also answers the client's pings with pongs.
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    received(&shared, connection, text.as_str());
                    shared.socket_changed.notify_waiters();
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    shared.lock().socket.connections.remove(&connection);
    shared.socket_changed.notify_waiters();
}

fn received(shared: &Shared, connection: u64, text: &str) {
    let mut state = shared.lock();
    let frame: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    match frame["envelope_id"].as_str() {
        Some(envelope_id) => {
            let ack = SocketAck {
                envelope_id: envelope_id.to_string(),
                payload: frame.get("payload").cloned(),
                connection,
                frame: frame.clone(),
            };
            state.socket.acks.push(ack);
        }
        None => state.socket.other_frames.push(text.to_string()),
    }
}

impl FakeSlack {
    /// How many Socket Mode connections are open now.
    pub fn connections(&self) -> usize {
        self.shared.lock().socket.connections.len()
    }

    /// How many Socket Mode connections have been opened since the fake started.
    pub fn connections_opened(&self) -> usize {
        self.shared.lock().socket.opened
    }

    /// Waits until at least `n` connections are open.
    pub async fn wait_connections(&self, n: usize, timeout: Duration) {
        self.wait_socket(
            |s| (s.connections.len() >= n).then_some(()),
            timeout,
            &format!("{n} open connections"),
        )
        .await;
    }

    /// Waits until at least `n` connections have been opened in all (reconnections count).
    pub async fn wait_connections_opened(&self, n: usize, timeout: Duration) {
        self.wait_socket(
            |s| (s.opened >= n).then_some(()),
            timeout,
            &format!("{n} connections opened"),
        )
        .await;
    }

    /// Sends an envelope of `kind` (`slash_commands`, `events_api`, `interactive`) on one
    /// open connection, taking turns between connections as Slack spreads them. Waits (up to
    /// `timeout`) for a connection if none is open. Returns the envelope id.
    pub async fn send_envelope(
        &self,
        kind: &str,
        payload: Value,
        accepts_response_payload: bool,
    ) -> String {
        let mut frame = json!({
            "envelope_id": uuid::Uuid::new_v4().to_string(),
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        });
        if kind == "events_api" {
            frame["retry_attempt"] = json!(0);
            frame["retry_reason"] = json!("");
        }
        self.send_frame(frame).await
    }

    /// Sends an `events_api` envelope as Slack redelivers an unacknowledged event:
    /// `retry_attempt` and `retry_reason` (e.g. `timeout`) set.
    pub async fn send_event_retry(&self, payload: Value, attempt: u64, reason: &str) -> String {
        let frame = json!({
            "envelope_id": uuid::Uuid::new_v4().to_string(),
            "payload": payload,
            "type": "events_api",
            "accepts_response_payload": false,
            "retry_attempt": attempt,
            "retry_reason": reason,
        });
        self.send_frame(frame).await
    }

    async fn send_frame(&self, frame: Value) -> String {
        self.wait_socket(
            |s| (!s.connections.is_empty()).then_some(()),
            Duration::from_secs(20),
            "an open connection to deliver an envelope on",
        )
        .await;
        let mut state = self.shared.lock();
        let socket = &mut state.socket;
        let ids: Vec<u64> = socket.connections.keys().copied().collect();
        let connection = ids[socket.turn % ids.len()];
        socket.turn += 1;
        let envelope_id = frame["envelope_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let _ = socket.connections[&connection].send(Outgoing::Text(frame.to_string()));
        socket.sent.push(SentEnvelope {
            envelope_id: envelope_id.clone(),
            kind: frame["type"].as_str().unwrap_or_default().to_string(),
            connection,
            frame,
        });
        envelope_id
    }

    /// Every envelope sent, in order.
    pub fn envelopes(&self) -> Vec<SentEnvelope> {
        self.shared.lock().socket.sent.clone()
    }

    /// Every acknowledgement received, in order.
    pub fn acks(&self) -> Vec<SocketAck> {
        self.shared.lock().socket.acks.clone()
    }

    /// Waits for the acknowledgement of an envelope.
    pub async fn wait_ack(&self, envelope_id: &str, timeout: Duration) -> SocketAck {
        self.wait_socket(
            |s| {
                s.acks
                    .iter()
                    .find(|a| a.envelope_id == envelope_id)
                    .cloned()
            },
            timeout,
            &format!("the acknowledgement of {envelope_id}"),
        )
        .await
    }

    /// Sends Slack's `disconnect` frame (e.g. reason `refresh_requested`) on every open
    /// connection; clients are expected to open new ones.
    pub fn disconnect(&self, reason: &str) {
        let frame =
            json!({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}});
        for connection in self.shared.lock().socket.connections.values() {
            let _ = connection.send(Outgoing::Text(frame.to_string()));
        }
    }

    /// Closes every connection without a closing handshake, as a network failure does.
    pub fn drop_connections(&self) {
        for (_, connection) in std::mem::take(&mut self.shared.lock().socket.connections) {
            let _ = connection.send(Outgoing::Drop);
        }
        self.shared.socket_changed.notify_waiters();
    }

    async fn wait_socket<T>(
        &self,
        found: impl Fn(&SocketState) -> Option<T>,
        timeout: Duration,
        what: &str,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.socket_changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(result) = found(&self.shared.lock().socket) {
                return result;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let state = self.shared.lock();
                panic!(
                    "the fake Slack did not see {what} within {timeout:?}: {} open, {} opened, acks {:?}, other frames {:?}; Web API calls: {:?}",
                    state.socket.connections.len(),
                    state.socket.opened,
                    state
                        .socket
                        .acks
                        .iter()
                        .map(|a| &a.frame)
                        .collect::<Vec<_>>(),
                    state.socket.other_frames,
                    state
                        .calls
                        .iter()
                        .map(|c| format!("{} -> {}", c.method, c.response))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}
