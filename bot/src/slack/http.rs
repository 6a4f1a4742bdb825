//! Slack over HTTP, for deployments behind a load balancer: `/slack/commands`,
//! `/slack/interactions` and `/slack/events` (its URL verification included), each request
//! checked against Slack's `v0` signature before anything else, and `/healthz`. A request
//! that is unsigned, wrongly signed or more than five minutes from now is answered 401 and
//! changes nothing. What a request asks is then `SlackApp`'s, as in Socket Mode.

use super::SlackApp;
use crate::config::Secret;
use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{KeyInit as _, Mac as _};
use slack_morphism::prelude::*;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// How far a request's timestamp may be from now, either way: Slack's advice, so that a
/// captured request cannot be replayed later.
pub const MAX_SKEW_S: i64 = 5 * 60;

/// Why a request was not accepted as Slack's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error("no signature or timestamp")]
    Missing,
    #[error("the timestamp is more than five minutes from now")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks Slack's `v0` signature: `v0=` and the hex HMAC-SHA256, keyed with the signing
/// secret, of `v0:{timestamp}:{body}`, compared in constant time; and the timestamp within
/// `MAX_SKEW_S` of `now_s`.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_s: i64,
) -> Result<(), Unverified> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(Unverified::Missing);
    };
    let at: i64 = timestamp.trim().parse().map_err(|_| Unverified::Missing)?;
    if (now_s - at).abs() > MAX_SKEW_S {
        return Err(Unverified::Stale);
    }
    let given = signature
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Unverified::Mismatch)?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| Unverified::Mismatch)?;
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| Unverified::Mismatch)
}

#[derive(Clone)]
struct Served {
    app: Arc<SlackApp>,
    secret: Arc<Secret>,
}

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The 401 for anything not signed by Slack, or `None` when the request is Slack's.
fn refuse(served: &Served, path: &str, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    match verify(
        served.secret.expose(),
        header(headers, "x-slack-request-timestamp"),
        header(headers, "x-slack-signature"),
        body,
        now_s(),
    ) {
        Ok(()) => None,
        Err(why) => {
            tracing::warn!(path, %why, "a request not signed by Slack was refused");
            Some(
                (
                    StatusCode::UNAUTHORIZED,
                    "the request is not signed by Slack",
                )
                    .into_response(),
            )
        }
    }
}

fn bad_request(what: &str, error: impl std::fmt::Display) -> Response {
    tracing::warn!(%error, "a signed request could not be read as {what}");
    (StatusCode::BAD_REQUEST, format!("not {what}")).into_response()
}

/// A form body as a JSON object of strings, for slack-morphism's models.
fn form(body: &[u8]) -> serde_json::Value {
    serde_json::Value::Object(
        form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect(),
    )
}

async fn commands(State(served): State<Served>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = refuse(&served, "/slack/commands", &headers, &body) {
        return refused;
    }
    let event: SlackCommandEvent = match serde_json::from_value(form(&body)) {
        Ok(event) => event,
        Err(e) => return bad_request("a slash command", e),
    };
    match served.app.command(event).await {
        Some(message) => axum::Json(
            SlackCommandEventResponse::new(message.content())
                .with_response_type(SlackMessageResponseType::Ephemeral),
        )
        .into_response(),
        // An empty 200 acknowledges and shows nothing; the answer follows.
        None => StatusCode::OK.into_response(),
    }
}

async fn interactions(State(served): State<Served>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = refuse(&served, "/slack/interactions", &headers, &body) {
        return refused;
    }
    let payload = form(&body)["payload"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    match serde_json::from_str::<SlackInteractionEvent>(&payload) {
        // An empty 200, or a submitted form's fields to fix.
        Ok(event) => served.app.interaction(event).into_response(),
        Err(e) => bad_request("an interaction", e),
    }
}

async fn events(State(served): State<Served>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = refuse(&served, "/slack/events", &headers, &body) {
        return refused;
    }
    if let Some(retry) = header(&headers, "x-slack-retry-num") {
        // The event id is the engine's event key: a delivery already applied changes nothing.
        tracing::debug!(
            retry,
            reason = header(&headers, "x-slack-retry-reason").unwrap_or_default(),
            "Slack delivered an event again"
        );
    }
    match serde_json::from_slice::<SlackPushEvent>(&body) {
        Ok(SlackPushEvent::UrlVerification(verification)) => {
            axum::Json(serde_json::json!({"challenge": verification.challenge})).into_response()
        }
        Ok(SlackPushEvent::EventCallback(callback)) => {
            served.app.event(callback).await;
            StatusCode::OK.into_response()
        }
        Ok(SlackPushEvent::AppRateLimited(limited)) => {
            tracing::warn!(minute = ?limited.minute_rate_limited, "Slack is holding back events: too many for Spar's app this minute");
            StatusCode::OK.into_response()
        }
        Err(e) => bad_request("an event", e),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

/// The routes, with `app` answering what a verified request asks.
pub fn router(app: Arc<SlackApp>, signing_secret: Secret) -> axum::Router {
    axum::Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .route("/slack/events", post(events))
        .route("/healthz", get(healthz))
        .with_state(Served {
            app,
            secret: Arc::new(signing_secret),
        })
}

/// Serves until the listener fails.
pub async fn serve(
    app: Arc<SlackApp>,
    listener: tokio::net::TcpListener,
    signing_secret: Secret,
) -> anyhow::Result<()> {
    axum::serve(listener, router(app, signing_secret))
        .await
        .context("the Slack HTTP endpoint stopped")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's own example from its request-signing documentation.
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const TIMESTAMP: &str = "1531420618";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const AT: i64 = 1_531_420_618;

    #[test]
    fn slacks_documented_example_verifies() {
        assert_eq!(
            verify(
                SECRET,
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY.as_bytes(),
                AT
            ),
            Ok(())
        );
    }

    #[test]
    fn a_wrong_missing_or_stale_signature_is_refused() {
        let check = |ts: Option<&str>, sig: Option<&str>, body: &str, now: i64| {
            verify(SECRET, ts, sig, body.as_bytes(), now)
        };
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(
            check(Some(TIMESTAMP), Some(SIGNATURE), &tampered, AT),
            Err(Unverified::Mismatch)
        );
        assert_eq!(
            verify(
                "another-secret",
                Some(TIMESTAMP),
                Some(SIGNATURE),
                BODY.as_bytes(),
                AT
            ),
            Err(Unverified::Mismatch)
        );
        for bad in [
            "v0=zz",
            "v1=a2114d57",
            "",
            "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        ] {
            assert_eq!(
                check(Some(TIMESTAMP), Some(bad), BODY, AT),
                Err(Unverified::Mismatch),
                "{bad}"
            );
        }
        assert_eq!(
            check(None, Some(SIGNATURE), BODY, AT),
            Err(Unverified::Missing)
        );
        assert_eq!(
            check(Some(TIMESTAMP), None, BODY, AT),
            Err(Unverified::Missing)
        );
        assert_eq!(
            check(Some("soon"), Some(SIGNATURE), BODY, AT),
            Err(Unverified::Missing)
        );
        // Five minutes either way is accepted; a second more is not.
        assert_eq!(
            check(Some(TIMESTAMP), Some(SIGNATURE), BODY, AT + MAX_SKEW_S),
            Ok(())
        );
        assert_eq!(
            check(Some(TIMESTAMP), Some(SIGNATURE), BODY, AT - MAX_SKEW_S),
            Ok(())
        );
        assert_eq!(
            check(Some(TIMESTAMP), Some(SIGNATURE), BODY, AT + MAX_SKEW_S + 1),
            Err(Unverified::Stale)
        );
        assert_eq!(
            check(Some(TIMESTAMP), Some(SIGNATURE), BODY, AT - MAX_SKEW_S - 1),
            Err(Unverified::Stale)
        );
    }
}
