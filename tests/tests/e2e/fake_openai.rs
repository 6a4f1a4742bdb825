//! A local stand-in for an OpenAI-compatible chat-completions server, speaking the real
//! wire format (JSON answers, SSE streams with a final `usage` chunk and `[DONE]`), with
//! scripted faults. It runs on its own thread and runtime so tests can drive the `spar`
//! process synchronously, and records every request body for assertions.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A streamed reply, one chunk per word, then `finish_reason`, `usage` and `[DONE]`.
    Stream(String),
    /// A non-streamed reply whose message content is this text (the judge's JSON).
    Content(String),
    /// An error status, with an optional `Retry-After` header.
    Status(u16, Option<&'static str>),
    /// Waits this long before answering as `then` does.
    Delay(Duration, Box<Reply>),
    /// A streamed reply whose words arrive this far apart, as from a model generating them.
    Paced(String, Duration),
    /// A stream that starts with this text, then sends a chunk that is not JSON.
    Malformed(String),
    /// A stream that sends this text and drops the connection before finishing.
    Cut(String),
}

#[derive(Default)]
struct Script {
    /// Answers to streaming requests (the antagonist), in order.
    stream: VecDeque<Reply>,
    /// Answers to non-streaming requests (the judge), in order.
    plain: VecDeque<Reply>,
    requests: Vec<Value>,
    /// Refuse a system message anywhere but first, as llama.cpp and several open models'
    /// chat templates do.
    system_first_only: bool,
}

pub struct FakeOpenAi {
    pub base_url: String,
    script: Arc<Mutex<Script>>,
}

impl FakeOpenAi {
    /// Starts the fake on 127.0.0.1 on a free port. With nothing queued, streaming requests
    /// get a numbered in-character line and the judge an empty but valid verdict.
    pub fn start() -> FakeOpenAi {
        let script = Arc::new(Mutex::new(Script::default()));
        let state = script.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime for the fake");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a free port");
                tx.send(listener.local_addr().expect("bound address"))
                    .expect("the test is waiting");
                let app = Router::new()
                    .route("/v1/chat/completions", post(completions))
                    .with_state(state);
                axum::serve(listener, app).await.expect("the fake serves");
            });
        });
        let addr = rx.recv().expect("the fake started");
        FakeOpenAi {
            base_url: format!("http://{addr}/v1"),
            script,
        }
    }

    pub fn stream(&self, reply: Reply) -> &Self {
        self.script.lock().expect("script").stream.push_back(reply);
        self
    }

    pub fn judge(&self, reply: Reply) -> &Self {
        self.script.lock().expect("script").plain.push_back(reply);
        self
    }

    /// From now on, answer a request with a system message after the first message as a
    /// server whose chat template rejects it does: HTTP 400, nothing generated.
    pub fn system_first_only(&self) -> &Self {
        self.script.lock().expect("script").system_first_only = true;
        self
    }

    /// Every request body received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.script.lock().expect("script").requests.clone()
    }

    /// The bodies of streaming (antagonist) requests.
    pub fn antagonist_requests(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["stream"] == json!(true))
            .collect()
    }

    pub fn judge_requests(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["stream"] != json!(true))
            .collect()
    }
}

async fn completions(State(script): State<Arc<Mutex<Script>>>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let streaming = request["stream"] == json!(true);
    let prompt_tokens = (body.len() / 4) as u64;
    let late_system = request["messages"].as_array().is_some_and(|m| {
        m.iter()
            .skip(1)
            .any(|m| m["role"].as_str() == Some("system"))
    });
    let reply = {
        let mut script = script.lock().expect("script");
        let refused = script.system_first_only && late_system;
        script.requests.push(request);
        if refused {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": {"message": "System message must be at the beginning.", "type": "invalid_request_error", "param": null, "code": null}})),
            )
                .into_response();
        }
        let n = script.requests.len();
        let queued = if streaming {
            script.stream.pop_front()
        } else {
            script.plain.pop_front()
        };
        queued.unwrap_or_else(|| {
            if streaming {
                Reply::Stream(format!(
                    "Reply {n}: I still want the production p99 before I move on this."
                ))
            } else {
                Reply::Content(r#"{"commentary": "", "adjustments": [], "findings": []}"#.into())
            }
        })
    };
    answer(reply, prompt_tokens).await
}

async fn answer(mut reply: Reply, prompt_tokens: u64) -> Response {
    while let Reply::Delay(wait, then) = reply {
        tokio::time::sleep(wait).await;
        reply = *then;
    }
    match reply {
        Reply::Stream(text) => {
            let mut body: String = deltas(&text).concat();
            body.push_str(&finish(prompt_tokens, &text));
            sse(Body::from(body))
        }
        Reply::Paced(text, gap) => {
            use futures::StreamExt as _;
            let mut events = deltas(&text);
            events.push(finish(prompt_tokens, &text));
            let paced = futures::stream::iter(events).then(move |event| async move {
                tokio::time::sleep(gap).await;
                Ok::<_, std::io::Error>(event)
            });
            sse(Body::from_stream(paced))
        }
        Reply::Malformed(text) => {
            let mut body: String = deltas(&text).concat();
            body.push_str("data: {\"id\": \"chatcmpl-fake\", \"choices\": [{\"delta\": \n\n");
            body.push_str(&finish(prompt_tokens, &text));
            sse(Body::from(body))
        }
        Reply::Cut(text) => {
            use futures::StreamExt as _;
            let chunks: Vec<Result<String, std::io::Error>> =
                deltas(&text).into_iter().map(Ok).collect();
            // The headers and words go out first, as from a real server that dies
            // mid-reply; then the connection drops.
            let drop = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Err(std::io::Error::other("connection dropped"))
            });
            sse(Body::from_stream(futures::stream::iter(chunks).chain(drop)))
        }
        Reply::Content(content) => {
            let completion_tokens = (content.len() / 4) as u64;
            axum::Json(json!({
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": "fake",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop"
                }],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens
                }
            }))
            .into_response()
        }
        Reply::Status(code, retry_after) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({"error": {"message": "scripted failure", "type": "server_error", "param": null, "code": null}});
            let mut response = (status, axum::Json(body)).into_response();
            if let Some(wait) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static(wait));
            }
            response
        }
        Reply::Delay(..) => unreachable!("delays are unwrapped above"),
    }
}

fn chunk(choices: Value, usage: Value) -> String {
    let chunk = json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "fake",
        "choices": choices,
        "usage": usage,
    });
    format!("data: {chunk}\n\n")
}

/// One SSE event per word, as a model streams tokens.
fn deltas(text: &str) -> Vec<String> {
    let mut events = vec![chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
        Value::Null,
    )];
    for word in text.split_inclusive(' ') {
        events.push(chunk(
            json!([{"index": 0, "delta": {"content": word}, "finish_reason": null}]),
            Value::Null,
        ));
    }
    events
}

fn finish(prompt_tokens: u64, text: &str) -> String {
    let completion_tokens = (text.len() / 4) as u64;
    let mut out = chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        Value::Null,
    );
    out.push_str(&chunk(
        json!([]),
        json!({
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens
        }),
    ));
    out.push_str("data: [DONE]\n\n");
    out
}

fn sse(body: Body) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
