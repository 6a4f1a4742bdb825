//! `spar serve` as a Slack app, run as a process against the local fake Slack: a solo drill
//! from `/spar solo` to its Block Kit scorecard over signed HTTP and the same drill over
//! Socket Mode, requests that are unsigned, stale or replayed (nothing posted), the bad
//! situations a member is answered about (the bot not invited, a missing scope, an archived
//! channel, an unknown scenario or subcommand, a rate limit), the stats chart uploaded to the
//! member's direct messages, a late answer through the command's `response_url`, a channel
//! archived under a running drill, weekly rounds set up by a workspace admin, and a long
//! scorecard continued in a second message within Block Kit's limits.
//! `slack_peer.rs` runs a peer drill.

use crate::cli::isolated;
use crate::fake_slack::{
    FakeSlack, SlackCall, SlackChannelKind, SlackError, SlackUser, signature_headers,
};
use axum::body::Body;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A running `spar serve`, stopped when dropped; its log is printed if a test fails.
pub(crate) struct Served {
    child: Child,
    log: std::path::PathBuf,
    /// What it printed when it started serving.
    banner: String,
    _stdout: std::io::BufReader<std::process::ChildStdout>,
    _home: tempfile::TempDir,
}

impl Served {
    /// `spar serve` for the fake's workspace: `http` serves Slack's HTTP endpoints on a
    /// port of its choosing; otherwise Socket Mode.
    pub(crate) async fn start(fake: &FakeSlack, database_url: &str, http: bool) -> Served {
        let (bot, app, secret) = (fake.bot_token(), fake.app_token(), fake.signing_secret());
        // A trailing slash, as the documented default has; `serve` normalises it.
        let api = format!("{}/", fake.api_url());
        let mut env = vec![
            ("SPAR_SLACK_BOT_TOKEN", bot.as_str()),
            ("SPAR_SLACK_API_URL", api.as_str()),
            ("DATABASE_URL", database_url),
            ("SPAR_LOG", "spar=debug,slack_morphism=warn"),
        ];
        let args: &[&str] = if http {
            env.push(("SPAR_SLACK_SIGNING_SECRET", secret.as_str()));
            &["serve", "--slack-http", "127.0.0.1:0"]
        } else {
            env.push(("SPAR_SLACK_APP_TOKEN", app.as_str()));
            &["serve"]
        };
        let (mut command, home) = isolated(args, &env);
        let log = home.path().join("serve.log");
        let file = std::fs::File::create(&log).expect("a log file");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(file)
            .spawn()
            .expect("spar serve starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (banner, stdout) = tokio::task::spawn_blocking(move || {
            let mut reader = std::io::BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            (line, reader)
        })
        .await
        .expect("the banner is read");
        let served = Served {
            child,
            log,
            banner,
            _stdout: stdout,
            _home: home,
        };
        assert!(
            served.banner.starts_with("Spar is serving Slack"),
            "spar serve did not start: {:?}\n{}",
            served.banner,
            std::fs::read_to_string(&served.log).unwrap_or_default()
        );
        served
    }

    /// The address the HTTP endpoints listen at, from the banner.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.banner
            .split("over HTTP at ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in {:?}", self.banner))
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- spar serve's log ---\n{}", self.log());
        }
    }
}

/// A workspace on the fake Slack with `spar serve` running for it on a fresh SQLite file:
/// where the tests here start. Signing, sending and acknowledging are done here, so a test
/// says only what its members do and what it expects.
pub(crate) struct App {
    pub(crate) fake: FakeSlack,
    pub(crate) served: Served,
    /// The database `spar serve` keeps its drills in, for tests that look inside.
    pub(crate) url: String,
    _dir: tempfile::TempDir,
}

impl App {
    /// Serving Slack's HTTP endpoints, every request signed as Slack signs it.
    pub(crate) async fn over_http() -> App {
        App::start(true).await
    }

    /// Connected over Socket Mode.
    pub(crate) async fn over_socket_mode() -> App {
        App::start(false).await
    }

    async fn start(http: bool) -> App {
        let fake = FakeSlack::start().await;
        let dir = tempfile::tempdir().expect("dir");
        let url = sqlite_url(&dir);
        let served = Served::start(&fake, &url, http).await;
        App {
            fake,
            served,
            url,
            _dir: dir,
        }
    }

    /// Where the HTTP endpoints listen.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.served.addr()
    }

    /// `/spar <text>` from `who` in `channel`, signed.
    pub(crate) async fn command(&self, who: &SlackUser, channel: &str, text: &str) -> Answer {
        command(&self.fake, self.addr(), who, channel, text).await
    }

    /// The answer to `/spar <text>`, on the acknowledgement, for `who` alone.
    pub(crate) async fn ask(&self, who: &SlackUser, channel: &str, text: &str) -> String {
        answered(&self.command(who, channel, text).await)
    }

    /// The answer to `/spar <text>`, on the acknowledgement or in the ephemeral message
    /// that follows it.
    pub(crate) async fn ask_late(&self, who: &SlackUser, channel: &str, text: &str) -> String {
        answer_of(&self.fake, &self.command(who, channel, text).await, who).await
    }

    /// An Events API callback, signed.
    pub(crate) async fn event(&self, callback: &Value) -> Answer {
        event(&self.fake, self.addr(), callback).await
    }

    /// A click or a submitted view, signed.
    pub(crate) async fn interact(&self, payload: &Value) -> Answer {
        let form = crate::fake_slack::form_payload(payload);
        send(
            self.addr(),
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            &form,
            &signed(&self.fake, &form),
        )
        .await
    }

    /// `who` writes `text` in `thread`; returns the event, once its delivery was
    /// acknowledged.
    pub(crate) async fn say(
        &self,
        who: &SlackUser,
        channel: &str,
        thread: &str,
        text: &str,
    ) -> Value {
        let message = self.fake.message_event(who, channel, text, Some(thread));
        assert_eq!(self.event(&message).await.status, 200);
        message
    }

    /// `who` starts a solo drill in `channel`; returns its thread once the antagonist's
    /// opening is posted there.
    pub(crate) async fn solo(&self, who: &SlackUser, channel: &str) -> String {
        let before = posts(&self.fake.calls())
            .into_iter()
            .filter(|c| c.args["channel"] == channel && c.args["thread_ts"].is_null())
            .count();
        let ready = self.ask(who, channel, "solo latency-regression").await;
        assert!(ready.starts_with("Your drill is ready"), "{ready}");
        let thread = wait_for_thread(&self.fake, channel, before).await;
        wait_for_lines(&self.fake, &thread, 1).await;
        thread
    }

    /// The candidate turns stored for the drill in `thread`.
    pub(crate) async fn candidate_turns(&self, channel: &str, thread: &str) -> usize {
        candidate_turns(&self.url, channel, thread).await
    }

    /// The store `spar serve` uses, opened beside it.
    pub(crate) async fn store(&self) -> std::sync::Arc<dyn spar_core::store::Store> {
        spar::store::open(Some(&self.url)).await.expect("the store")
    }
}

pub(crate) fn sqlite_url(dir: &tempfile::TempDir) -> String {
    spar::store::sqlite_url(&dir.path().join("spar.db"))
}

pub(crate) fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An HTTP answer: status and body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// POSTs `body` to the bot with `headers`, as Slack would.
pub(crate) async fn send(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &str,
    headers: &[(&str, String)],
) -> Answer {
    request(
        axum::http::Method::POST,
        addr,
        path,
        content_type,
        body,
        headers,
    )
    .await
}

async fn request(
    method: axum::http::Method,
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &str,
    headers: &[(&str, String)],
) -> Answer {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Body>(HttpConnector::new());
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = client
        .request(
            request
                .body(Body::from(body.to_string()))
                .expect("a request"),
        )
        .await
        .expect("the bot answers");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(Body::new(response.into_body()), usize::MAX)
        .await
        .expect("a body");
    Answer {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Signed now with the fake's secret, exactly as Slack signs.
pub(crate) fn signed(fake: &FakeSlack, body: &str) -> Vec<(&'static str, String)> {
    signature_headers(&fake.signing_secret(), &now_s().to_string(), body).to_vec()
}

pub(crate) async fn command(
    fake: &FakeSlack,
    addr: SocketAddr,
    who: &SlackUser,
    channel: &str,
    text: &str,
) -> Answer {
    let form = fake.slash_command(who, channel, "/spar", text).form;
    send(
        addr,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &form,
        &signed(fake, &form),
    )
    .await
}

pub(crate) async fn event(fake: &FakeSlack, addr: SocketAddr, callback: &Value) -> Answer {
    let body = callback.to_string();
    send(
        addr,
        "/slack/events",
        "application/json",
        &body,
        &signed(fake, &body),
    )
    .await
}

/// The text of a command's answer.
pub(crate) fn answered(answer: &Answer) -> String {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let json = answer.json();
    assert_eq!(
        json["response_type"], "ephemeral",
        "only the asker sees it: {json}"
    );
    json["text"].as_str().unwrap_or_default().to_string()
}

/// A command's answer: with the acknowledgement when it came in time, else the ephemeral
/// message that follows it.
pub(crate) async fn answer_of(fake: &FakeSlack, answer: &Answer, who: &SlackUser) -> String {
    assert_eq!(answer.status, 200, "{}", answer.body);
    if !answer.body.is_empty() {
        return answered(answer);
    }
    let late = fake
        .wait_for(
            |calls| {
                calls
                    .iter()
                    .find(|c| c.method == "chat.postEphemeral" && c.args["user"] == who.id.as_str())
                    .cloned()
            },
            WAIT,
        )
        .await;
    text(&late).to_string()
}

/// The bot's successful posts, in order.
pub(crate) fn posts(calls: &[SlackCall]) -> Vec<&SlackCall> {
    calls
        .iter()
        .filter(|c| c.method == "chat.postMessage" && c.response["ok"] == true)
        .collect()
}

/// The posts in a drill's thread.
pub(crate) fn in_thread<'a>(calls: &'a [SlackCall], thread: &str) -> Vec<&'a SlackCall> {
    posts(calls)
        .into_iter()
        .filter(|c| c.args["thread_ts"] == thread)
        .collect()
}

pub(crate) fn text(call: &SlackCall) -> &str {
    call.args["text"].as_str().unwrap_or_default()
}

pub(crate) fn first_block_text(call: &SlackCall) -> &str {
    call.args["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap_or_default()
}

pub(crate) fn is_scorecard(call: &SlackCall) -> bool {
    call.args["blocks"][0]["type"] == "header" && first_block_text(call).starts_with("Debrief")
}

/// The antagonist's lines: posts in the thread that are neither the brief, a notice nor the
/// scorecard.
fn lines(calls: &[SlackCall], thread: &str) -> Vec<String> {
    in_thread(calls, thread)
        .into_iter()
        .filter(|c| !text(c).starts_with("<@"))
        .filter(|c| !text(c).starts_with('⏱') && !is_scorecard(c))
        .map(|c| text(c).to_string())
        .collect()
}

async fn wait_for_lines(fake: &FakeSlack, thread: &str, n: usize) {
    fake.wait_for(
        |calls| (lines(calls, thread).len() >= n).then_some(()),
        WAIT,
    )
    .await;
}

/// Waits for the thread a drill opened in `channel` (the bot's first message there after
/// `after` posts) and returns its `ts`.
pub(crate) async fn wait_for_thread(fake: &FakeSlack, channel: &str, after: usize) -> String {
    let root = fake
        .wait_for(
            |calls| {
                posts(calls)
                    .into_iter()
                    .filter(|c| c.args["channel"] == channel && c.args["thread_ts"].is_null())
                    .nth(after)
                    .cloned()
            },
            WAIT,
        )
        .await;
    root.response["ts"].as_str().expect("a ts").to_string()
}

pub(crate) async fn wait_for_scorecard(fake: &FakeSlack, thread: &str) -> SlackCall {
    fake.wait_for(
        |calls| {
            in_thread(calls, thread)
                .into_iter()
                .find(|c| is_scorecard(c))
                .cloned()
        },
        WAIT,
    )
    .await
}

/// The candidate turns stored for the drill in `thread`.
async fn candidate_turns(database_url: &str, channel: &str, thread: &str) -> usize {
    let store = spar::store::open(Some(database_url))
        .await
        .expect("the store");
    let drill = store
        .live_drill_in("slack", thread, Some(channel))
        .await
        .expect("a lookup")
        .expect("the drill is live");
    let loaded = store.load_drill(&drill.id).await.expect("the drill");
    loaded
        .plain_turns()
        .iter()
        .filter(|t| t.role == spar_core::transcript::Role::Candidate)
        .count()
}

/// The scorecard's checks: Block Kit with the header, the escalation flagged with its
/// time, bars, and the two buttons last.
pub(crate) fn check_scorecard(card: &SlackCall) {
    let blocks = card.args["blocks"].as_array().expect("blocks");
    assert!(blocks.len() <= 50);
    let sections: Vec<&str> = blocks
        .iter()
        .filter(|b| b["type"] == "section")
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    assert!(sections[0].starts_with("*Overall "), "{sections:?}");
    assert!(
        sections
            .iter()
            .any(|s| s.contains(" · Premature escalation*")),
        "the escalation is flagged with its time: {sections:?}"
    );
    assert!(sections.iter().any(|s| s.starts_with("*Dimensions*")));
    assert!(sections.iter().all(|s| s.chars().count() <= 3000));
    let last = blocks.last().expect("a last block");
    assert_eq!(last["type"], "actions");
    let labels: Vec<&str> = last["elements"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    assert_eq!(labels, vec!["Full transcript", "Drill again"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_solo_drill_runs_over_signed_http_from_slash_command_to_block_kit_scorecard() {
    let app = App::over_http().await;
    let fake = &app.fake;
    let alice = fake.alice();
    let eve = fake.add_user("eve");
    let channel = fake.channel_id();

    let health = request(
        axum::http::Method::GET,
        app.addr(),
        "/healthz",
        "text/plain",
        "",
        &[],
    )
    .await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let challenge = fake.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    let verified = app.event(&challenge).await;
    assert_eq!(verified.status, 200);
    assert_eq!(
        verified.json()["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );

    // Answered with the acknowledgement, only for her, pointing at the channel.
    let ready = app.ask(&alice, &channel, "solo latency-regression").await;
    assert!(ready.contains(&format!("<#{channel}>")), "{ready}");
    assert!(ready.starts_with("Your drill is ready"), "{ready}");
    let thread = wait_for_thread(fake, &channel, 0).await;
    let calls = fake.calls();
    let root = posts(&calls)[0];
    assert!(
        text(root).contains("alice"),
        "the thread is named for her: {}",
        text(root)
    );
    assert_eq!(root.token.as_deref(), Some(fake.bot_token().as_str()));
    let brief = fake
        .wait_for(
            |calls| {
                in_thread(calls, &thread)
                    .into_iter()
                    .find(|c| text(c).starts_with(&format!("<@{}>", alice.id)))
                    .cloned()
            },
            WAIT,
        )
        .await;
    assert_eq!(brief.args["blocks"][1]["type"], "header");
    assert!(brief.args["blocks"].to_string().contains("40% regression"));
    wait_for_lines(fake, &thread, 1).await;
    let clock = fake
        .wait_for(
            |calls| {
                in_thread(calls, &thread)
                    .into_iter()
                    .find(|c| text(c).starts_with("⏱ The clock is running"))
                    .cloned()
            },
            WAIT,
        )
        .await;
    assert_eq!(
        clock.args["blocks"][0]["type"], "section",
        "posts carry blocks"
    );

    // A stranger's reply, another bot's and an edit are not turns; hers is answered.
    app.say(
        &eve,
        &channel,
        &thread,
        "Let me answer for her, I know the numbers.",
    )
    .await;
    let bot = fake.add_bot("helper-bot");
    app.say(&bot, &channel, &thread, "beep").await;
    let turn = app
        .say(
            &alice,
            &channel,
            &thread,
            "Honestly I'm going to escalate this to my manager.",
        )
        .await;
    let turn_ts = turn["event"]["ts"].as_str().expect("a ts").to_string();
    let edited = fake.message_changed_event(&channel, &turn_ts, "I mean, let's talk.");
    assert_eq!(app.event(&edited).await.status, 200);
    wait_for_lines(fake, &thread, 2).await;
    assert_eq!(
        app.candidate_turns(&channel, &thread).await,
        1,
        "only her line is a turn"
    );

    // `/spar end` in the channel ends her drill there.
    let ended = app.ask(&alice, &channel, "end").await;
    assert_eq!(ended, "Drill ended; the scorecard follows in the thread.");
    let card = wait_for_scorecard(fake, &thread).await;
    check_scorecard(&card);
    assert_eq!(
        lines(&fake.calls(), &thread).len(),
        2,
        "the opening and one reply: nothing for the stranger, the bot or the edit"
    );

    // A colleague's "Drill again" on her scorecard opens a drill of the same scenario for
    // them, and tells them so, only them.
    let card_ts = card.response["ts"].as_str().expect("a ts");
    let again = card.args["blocks"]
        .as_array()
        .and_then(|b| b.last())
        .and_then(|b| b["elements"][1]["action_id"].as_str())
        .expect("the button's id")
        .to_string();
    assert!(again.starts_with("spar:again:"), "{again}");
    let click = fake.block_actions(&eve, &channel, card_ts, &again, &again);
    assert_eq!(app.interact(&click).await.status, 200);
    let told = fake
        .wait_for(
            |calls| {
                calls
                    .iter()
                    .find(|c| {
                        c.method == "chat.postEphemeral"
                            && text(c).starts_with("Your drill is ready")
                    })
                    .cloned()
            },
            WAIT,
        )
        .await;
    assert_eq!(told.args["user"], eve.id.as_str());
    assert_eq!(told.args["thread_ts"], thread.as_str(), "where she clicked");
    wait_for_thread(fake, &channel, 1).await;
    let calls = fake.calls();
    let roots: Vec<&str> = posts(&calls)
        .into_iter()
        .filter(|c| c.args["thread_ts"].is_null())
        .map(text)
        .collect();
    assert!(
        roots[1].ends_with("eve"),
        "the new drill is hers: {roots:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_stale_and_replayed_requests_post_nothing() {
    let app = App::over_http().await;
    let (fake, addr) = (&app.fake, app.addr());
    let alice = fake.alice();
    let channel = fake.channel_id();

    // A slash command with a wrong signature, a stale timestamp, or none: 401, no drill.
    let form = fake.slash_command(&alice, &channel, "/spar", "solo").form;
    let forged = signature_headers("not-the-secret", &now_s().to_string(), &form).to_vec();
    let stale =
        signature_headers(&fake.signing_secret(), &(now_s() - 301).to_string(), &form).to_vec();
    for (what, headers) in [
        ("forged", forged),
        ("stale", stale),
        ("unsigned", Vec::new()),
    ] {
        let answer = send(
            addr,
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &form,
            &headers,
        )
        .await;
        assert_eq!(answer.status, 401, "{what}: {}", answer.body);
    }
    // Signed, then tampered with.
    let mut headers = signed(fake, &form);
    let tampered = form.replace("solo", "stats");
    assert_eq!(
        send(
            addr,
            "/slack/commands",
            "application/x-www-form-urlencoded",
            &tampered,
            &headers
        )
        .await
        .status,
        401
    );
    headers.clear();

    let thread = app.solo(&alice, &channel).await;

    // Her turn, delivered with a bad signature and a stale one, is refused; then delivered.
    let turn = fake.message_event(
        &alice,
        &channel,
        "What is driving the release date for you?",
        Some(&thread),
    );
    let body = turn.to_string();
    let forged = signature_headers("not-the-secret", &now_s().to_string(), &body).to_vec();
    let stale =
        signature_headers(&fake.signing_secret(), &(now_s() - 400).to_string(), &body).to_vec();
    for headers in [forged, stale] {
        assert_eq!(
            send(addr, "/slack/events", "application/json", &body, &headers)
                .await
                .status,
            401
        );
    }
    let verification = fake.url_verification("challenge-x").to_string();
    assert_eq!(
        send(
            addr,
            "/slack/events",
            "application/json",
            &verification,
            &[]
        )
        .await
        .status,
        401
    );
    assert_eq!(
        app.candidate_turns(&channel, &thread).await,
        0,
        "nothing was applied"
    );

    assert_eq!(app.event(&turn).await.status, 200);
    // The delivery is acknowledged once the turn is stored.
    assert_eq!(app.candidate_turns(&channel, &thread).await, 1);
    wait_for_lines(fake, &thread, 2).await;

    // Slack delivers it again: acknowledged, and nothing changes.
    let mut retry = signed(fake, &body);
    retry.push(("x-slack-retry-num", "1".into()));
    retry.push(("x-slack-retry-reason", "http_timeout".into()));
    assert_eq!(
        send(addr, "/slack/events", "application/json", &body, &retry)
            .await
            .status,
        200
    );
    assert_eq!(
        app.candidate_turns(&channel, &thread).await,
        1,
        "the retry is not a second turn"
    );

    // Her next turn is answered once; the replay added no line before it.
    app.say(
        &alice,
        &channel,
        &thread,
        "Could we agree the benchmark config together?",
    )
    .await;
    wait_for_lines(fake, &thread, 3).await;
    assert_eq!(app.candidate_turns(&channel, &thread).await, 2);
    app.ask(&alice, &channel, "end").await;
    wait_for_scorecard(fake, &thread).await;
    let calls = fake.calls();
    assert_eq!(
        lines(&calls, &thread).len(),
        3,
        "one line per turn and the opening"
    );
    let roots = posts(&calls)
        .into_iter()
        .filter(|c| c.args["thread_ts"].is_null())
        .count();
    assert_eq!(roots, 1, "the refused commands opened no drill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_solo_drill_runs_over_socket_mode_through_the_same_code() {
    let app = App::over_socket_mode().await;
    let fake = &app.fake;
    let alice = fake.alice();
    let eve = fake.add_user("eve");
    let channel = fake.channel_id();
    assert!(
        app.served.banner.contains("over Socket Mode"),
        "{}",
        app.served.banner
    );
    fake.wait_connections(2, WAIT).await;
    assert_eq!(
        fake.calls_to("apps.connections.open")[0].token.as_deref(),
        Some(fake.app_token().as_str())
    );

    let solo = fake.slash_command(&alice, &channel, "/spar", "solo latency-regression");
    let envelope = fake
        .send_envelope("slash_commands", solo.payload, true)
        .await;
    let ack = fake.wait_ack(&envelope, WAIT).await;
    let payload = ack
        .payload
        .expect("the answer rides on the acknowledgement");
    assert_eq!(payload["response_type"], "ephemeral");
    assert!(
        payload["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Your drill is ready")),
        "{payload}"
    );
    let thread = wait_for_thread(fake, &channel, 0).await;
    wait_for_lines(fake, &thread, 1).await;

    let stranger = fake.message_event(&eve, &channel, "Let me answer for her.", Some(&thread));
    let sent = fake.send_envelope("events_api", stranger, false).await;
    fake.wait_ack(&sent, WAIT).await;
    let turn = fake.message_event(
        &alice,
        &channel,
        "Honestly I'm going to escalate this to my manager.",
        Some(&thread),
    );
    let sent = fake.send_envelope("events_api", turn.clone(), false).await;
    fake.wait_ack(&sent, WAIT).await;
    // Acknowledged once stored.
    assert_eq!(app.candidate_turns(&channel, &thread).await, 1);
    wait_for_lines(fake, &thread, 2).await;
    let again = fake.send_event_retry(turn, 1, "timeout").await;
    fake.wait_ack(&again, WAIT).await;
    assert_eq!(
        app.candidate_turns(&channel, &thread).await,
        1,
        "a redelivery is not a turn"
    );

    let end = fake.slash_command(&alice, &channel, "/spar", "end");
    let envelope = fake
        .send_envelope("slash_commands", end.payload, true)
        .await;
    let ack = fake.wait_ack(&envelope, WAIT).await;
    assert_eq!(
        ack.payload.expect("an answer")["text"],
        "Drill ended; the scorecard follows in the thread."
    );
    let card = wait_for_scorecard(fake, &thread).await;
    check_scorecard(&card);
    assert_eq!(
        lines(&fake.calls(), &thread).len(),
        2,
        "nothing for the stranger or the redelivery"
    );

    // Clicks and forms go through the same code: a rating form opens with the click's
    // trigger, and a form missing a score is answered on its acknowledgement.
    let card_ts = card.response["ts"].as_str().expect("a ts");
    let drill = card.args["blocks"]
        .as_array()
        .and_then(|b| b.last())
        .and_then(|b| b["elements"][1]["action_id"].as_str())
        .and_then(|id| id.strip_prefix("spar:again:"))
        .expect("the drill behind the buttons")
        .to_string();
    let rate = format!("spar:rate:{drill}");
    let click = fake.block_actions(&alice, &channel, card_ts, &rate, &rate);
    let trigger = click["trigger_id"].as_str().expect("a trigger").to_string();
    let sent = fake.send_envelope("interactive", click, false).await;
    fake.wait_ack(&sent, WAIT).await;
    let opened = fake.wait_for_view(&trigger, WAIT).await;
    let view = opened.response["view"]["id"].as_str().expect("a view");
    let submission = fake.view_submission(&alice, view, &[("sentence", "text", "Calm.")]);
    let sent = fake.send_envelope("interactive", submission, true).await;
    let ack = fake.wait_ack(&sent, WAIT).await;
    let payload = ack
        .payload
        .expect("the fields to fix ride on the acknowledgement");
    assert_eq!(payload["response_action"], "errors", "{payload}");
    assert_eq!(
        payload["errors"].as_object().map(serde_json::Map::len),
        Some(spar_core::scoring::DimensionName::ALL.len()),
        "every score is missing: {payload}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_situations_are_answered_not_dropped() {
    let app = App::over_http().await;
    let fake = &app.fake;
    let alice = fake.alice();
    let general = fake.channel_id();

    let outside = fake.add_channel("random", SlackChannelKind::Public { member: false });
    let said = app.ask(&alice, &outside, "solo").await;
    assert!(said.contains("Invite it with `/invite @Spar`"), "{said}");

    let archived = fake.add_channel("old-team", SlackChannelKind::Public { member: true });
    fake.archive_channel(&archived);
    let said = app.ask(&alice, &archived, "solo").await;
    assert!(said.contains("archived"), "{said}");

    fake.fail_once(
        "chat.postMessage",
        SlackError::MissingScope {
            needed: "chat:write".into(),
        },
    );
    let said = app.ask(&alice, &general, "solo").await;
    assert!(said.contains("`chat:write` scope"), "{said}");

    let said = app.ask(&alice, &general, "solo latency-regresion").await;
    assert!(
        said.contains("Did you mean `latency-regression`?"),
        "{said}"
    );
    let said = app.ask(&alice, &general, "dance").await;
    assert!(
        said.starts_with("`/spar dance` is not a Spar command."),
        "{said}"
    );
    assert!(said.contains("`/spar solo`"), "{said}");
    let said = app.ask(&alice, &general, "solo a b c").await;
    assert!(said.contains("one word too many"), "{said}");

    // The peer commands are answered the same way: an unknown scenario; a pair in a channel
    // Spar was not invited to is told how to invite it, and keeps its place in the queue.
    let said = app
        .ask_late(&alice, &general, "join latency-regresion")
        .await;
    assert!(
        said.contains("Did you mean `latency-regression`?"),
        "{said}"
    );
    let bob = fake.add_user("bob");
    for who in [&alice, &bob] {
        let said = app.ask_late(who, &outside, "join").await;
        assert!(said.contains("You joined"), "{said}");
    }
    let said = app.ask_late(&alice, &outside, "pair").await;
    assert!(said.contains("Invite it with `/invite @Spar`"), "{said}");
    assert!(said.contains("keep their places"), "{said}");
    let store = app.store().await;
    let workspace = spar_core::store::WorkspaceRef {
        platform: "slack".into(),
        external_id: fake.team_id(),
        name: "fake-workspace".into(),
    };
    let waiting = store
        .peer()
        .queue(&workspace, &outside)
        .await
        .expect("the queue");
    assert_eq!(waiting.len(), 2, "both still wait");
    assert!(
        posts(&fake.calls()).is_empty(),
        "nothing was posted for any of them"
    );

    // A rate-limited post is tried again when Slack says, and the drill opens.
    fake.fail_once(
        "chat.postMessage",
        SlackError::RateLimited {
            retry_after_secs: 1,
        },
    );
    let said = app
        .ask_late(&alice, &general, "solo latency-regression")
        .await;
    assert!(said.starts_with("Your drill is ready"), "{said}");
    let statuses: Vec<(u16, bool)> = fake
        .calls_to("chat.postMessage")
        .iter()
        .map(|c| (c.status, c.response["ok"] == true))
        .collect();
    let limited = statuses.iter().position(|s| s.0 == 429).expect("the 429");
    assert_eq!(statuses[limited + 1], (200, true), "{statuses:?}");

    let log = app.served.log();
    assert!(
        log.contains("lacks a scope") && log.contains("chat:write"),
        "{log}"
    );
}

#[test]
fn serve_names_the_slack_settings_it_is_missing() {
    let none = crate::cli::spar(&["serve"], "");
    assert_eq!(none.code, 2, "{}", none.stderr);
    for name in [
        "SPAR_SLACK_BOT_TOKEN",
        "SPAR_SLACK_APP_TOKEN",
        "SPAR_SLACK_SIGNING_SECRET",
        "--slack-http",
    ] {
        assert!(none.stderr.contains(name), "{name}: {}", none.stderr);
    }
    let bot_only = crate::cli::spar_with_env(&["serve"], "", &[("SPAR_SLACK_BOT_TOKEN", "xoxb-1")]);
    assert_eq!(bot_only.code, 2, "{}", bot_only.stderr);
    assert!(
        bot_only
            .stderr
            .contains("set SPAR_SLACK_APP_TOKEN for Socket Mode"),
        "{}",
        bot_only.stderr
    );
    let unsigned = crate::cli::spar_with_env(
        &["serve", "--slack-http", "127.0.0.1:0"],
        "",
        &[("SPAR_SLACK_BOT_TOKEN", "xoxb-1")],
    );
    assert_eq!(unsigned.code, 2, "{}", unsigned.stderr);
    assert!(
        unsigned.stderr.contains("needs SPAR_SLACK_SIGNING_SECRET"),
        "{}",
        unsigned.stderr
    );
    let bad_url = crate::cli::spar_with_env(
        &["serve"],
        "",
        &[
            ("SPAR_SLACK_BOT_TOKEN", "xoxb-1"),
            ("SPAR_SLACK_APP_TOKEN", "xapp-1"),
            ("SPAR_SLACK_API_URL", "slack.com/api"),
        ],
    );
    assert_eq!(bad_url.code, 2, "{}", bad_url.stderr);
    assert!(
        bad_url.stderr.contains("SPAR_SLACK_API_URL"),
        "{}",
        bad_url.stderr
    );
}

/// Runs a short solo drill for `who` in `channel` to its scorecard; returns its thread.
async fn short_drill(app: &App, who: &SlackUser, channel: &str) -> String {
    let thread = app.solo(who, channel).await;
    app.say(
        who,
        channel,
        &thread,
        "What is driving the release date for you?",
    )
    .await;
    wait_for_lines(&app.fake, &thread, 2).await;
    app.ask(who, channel, "end").await;
    wait_for_scorecard(&app.fake, &thread).await;
    thread
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stats_chart_arrives_as_a_png_in_the_members_direct_messages() {
    let app = App::over_http().await;
    let fake = &app.fake;
    let alice = fake.alice();
    let channel = fake.channel_id();
    short_drill(&app, &alice, &channel).await;

    let stats = app.command(&alice, &channel, "stats").await;
    let answer = stats.json();
    assert!(
        answer
            .to_string()
            .contains("`spar-progress.png` follows in your direct messages"),
        "{answer}"
    );
    let complete = fake
        .wait_for_call("files.completeUploadExternal", WAIT)
        .await;
    assert_eq!(complete.response["ok"], true, "{}", complete.response);
    let opened = fake.calls_to("conversations.open");
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].args["users"], serde_json::json!([alice.id]));
    let dm = fake.im_of(&alice).expect("a direct-message conversation");
    assert_eq!(
        complete.args["channel_id"],
        dm.as_str(),
        "to her, not the channel"
    );
    let asked = &fake.calls_to("files.getUploadURLExternal")[0];
    assert_eq!(asked.args["filename"], "spar-progress.png");
    let file = complete.args["files"][0]["id"].as_str().expect("a file id");
    let bytes = fake.file_bytes(file).expect("the upload arrived");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert_eq!(
        asked.args["length"],
        bytes.len().to_string().as_str(),
        "the announced length is the uploaded one"
    );
    let shared = fake.messages_in(&dm);
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0]["subtype"], "file_share");
    assert!(
        fake.messages_in(&channel)
            .iter()
            .all(|m| m["subtype"] != "file_share"),
        "nothing was shared in the channel"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_answer_where_spar_cannot_post_goes_through_the_response_url() {
    let app = App::over_http().await;
    let fake = &app.fake;
    let alice = fake.alice();
    let outside = fake.add_channel("random", SlackChannelKind::Public { member: false });

    // Slack is slow to say who she is, so the answer misses the acknowledgement; Spar is
    // not in the channel, so it cannot post there and answers at the command's URL.
    fake.delay("users.info", Duration::from_secs(3));
    let form = fake.slash_command(&alice, &outside, "/spar", "join");
    let response_url = form.payload["response_url"]
        .as_str()
        .expect("a response URL")
        .to_string();
    let acknowledged = send(
        app.addr(),
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &form.form,
        &signed(fake, &form.form),
    )
    .await;
    assert_eq!(
        (acknowledged.status, acknowledged.body.as_str()),
        (200, ""),
        "acknowledged in time, with nothing yet"
    );
    let hooked = fake.wait_for_call("response_url", WAIT).await;
    assert_eq!(hooked.args["url"], response_url.as_str());
    assert_eq!(hooked.status, 200);
    assert_ne!(
        hooked.args["response_type"], "in_channel",
        "a response URL's message is only hers unless it says otherwise"
    );
    assert!(
        text(&hooked).contains("You joined"),
        "her place in the queue, answered: {}",
        hooked.args
    );
    let tried = fake.calls_to("chat.postEphemeral");
    assert_eq!(tried.len(), 1, "the ephemeral message was tried first");
    assert_eq!(tried[0].response["error"], "not_in_channel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archiving_the_channel_abandons_its_drill_and_keeps_it() {
    let app = App::over_http().await;
    let fake = &app.fake;
    let alice = fake.alice();
    let channel = fake.channel_id();

    let thread = app.solo(&alice, &channel).await;
    app.say(
        &alice,
        &channel,
        &thread,
        "What is driving the release date for you?",
    )
    .await;
    wait_for_lines(fake, &thread, 2).await;
    let store = app.store().await;
    let drill = store
        .live_drill_in("slack", &thread, Some(&channel))
        .await
        .expect("a lookup")
        .expect("live");

    let archived = fake.archive_event(&alice, &channel);
    assert_eq!(app.event(&archived).await.status, 200);
    let kept = store
        .load_drill(&drill.id)
        .await
        .expect("the drill is kept");
    assert_eq!(kept.record.phase, spar_core::drill::Phase::Abandoned);
    assert_eq!(
        kept.turns
            .iter()
            .filter(|t| t.turn.role == spar_core::Role::Candidate)
            .count(),
        1,
        "with what she said"
    );

    // In the archived channel she is told why no drill starts; elsewhere she is free to
    // drill again.
    let said = app.ask(&alice, &channel, "solo").await;
    assert!(said.contains("archived"), "{said}");
    let other = fake.add_channel("drills", SlackChannelKind::Public { member: true });
    let ready = app.ask(&alice, &other, "solo latency-regression").await;
    assert!(ready.starts_with("Your drill is ready"), "{ready}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_rounds_are_set_up_by_a_workspace_admin_and_joined_by_members() {
    let app = App::over_http().await;
    let fake = &app.fake;
    let alice = fake.alice();
    let bob = fake.add_user("bob");
    fake.make_admin(&alice);
    let channel = fake.channel_id();
    let ask = |who: &SlackUser, text: &'static str| {
        let (app, channel, who) = (&app, channel.clone(), who.clone());
        async move { app.ask_late(&who, &channel, text).await }
    };

    let said = ask(&bob, "rounds create monday 18:30 Europe/Berlin").await;
    assert!(said.starts_with("Only members who can manage"), "{said}");
    let said = ask(&alice, "rounds create monday 18:30 Europe/Nowhere").await;
    assert!(said.contains("Europe/Nowhere"), "the zone is named: {said}");
    let said = ask(
        &alice,
        "rounds create monday 18:30 Europe/Berlin minutes:20 pool:latency-regression",
    )
    .await;
    assert!(
        said.starts_with("Round 1 is set: every Monday at 18:30 (Europe/Berlin)"),
        "{said}"
    );
    assert!(
        said.contains("20-minute drills") && said.contains("latency-regression"),
        "{said}"
    );
    let said = ask(&bob, "rounds optin").await;
    assert!(said.starts_with("You are in round 1:"), "{said}");
    let said = ask(&bob, "rounds list").await;
    assert!(said.contains("1 opted in"), "{said}");
    let said = ask(&alice, "rounds pause 1").await;
    assert!(said.starts_with("Round 1 is paused"), "{said}");
    let said = ask(&alice, "rounds pause soon").await;
    assert!(said.contains("by its number"), "{said}");
    assert!(
        posts(&fake.calls()).is_empty(),
        "setting up a round posts nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_scorecard_continues_in_a_second_message_that_slack_accepts() {
    use spar::chat::{ChatSurface, ScorecardView};
    use spar_core::scoring::{Dimension, DimensionName, Flag, FlagKind, Scorecard};

    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeSlack::start().await;
    let client = spar::slack::client(&fake.api_url()).expect("a client");
    let surface = spar::slack::SlackSurface::new(client, &fake.bot_token());
    let opened = surface
        .open_thread(&fake.channel_id(), "Spar · a long drill", false, &[])
        .await
        .expect("a thread");
    let scenario = spar_core::ScenarioLibrary::embedded()
        .expect("library")
        .get("latency-regression")
        .expect("scenario")
        .clone();
    // Sixty timed flags, each quoting a long line: more sections than one message holds,
    // and quotes longer than a section takes.
    let card = Scorecard {
        overall: 31,
        flags: (0..60)
            .map(|i| Flag {
                kind: FlagKind::Defensiveness,
                turn: Some(i + 1),
                at_s: Some(i as f64 * 5.0),
                quote: Some(format!(
                    "That is not my fault <!here> {}",
                    "and ".repeat(800)
                )),
                why: "It answers a question nobody asked.".into(),
                try_instead: "Ask what they saw.".into(),
            })
            .collect(),
        dimensions: DimensionName::ALL
            .iter()
            .map(|&name| Dimension {
                name,
                score: 1,
                evidence: vec![],
            })
            .collect(),
        strengths: vec![],
        summary: "Defensive throughout.".into(),
        notes: vec![],
    };
    let judged = spar_core::judge::JudgedScorecard::unjudged(card, None);
    let drill = spar_core::store::DrillId("d-long".into());
    surface
        .post_scorecard(
            &opened.place,
            ScorecardView {
                drill: &drill,
                scenario: &scenario,
                judged: &judged,
            },
        )
        .await
        .expect("Slack takes every part");

    let calls = fake.calls();
    let parts = in_thread(&calls, &opened.place.thread);
    assert!(parts.len() >= 2, "{} messages", parts.len());
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.method == "chat.postMessage" && c.response["ok"] != true)
            .count(),
        0,
        "the fake refuses blocks past Slack's limits, and refused none"
    );
    assert!(is_scorecard(parts[0]));
    for (i, part) in parts.iter().enumerate() {
        let blocks = part.args["blocks"].as_array().expect("blocks");
        assert!(blocks.len() <= 50);
        if i > 0 {
            assert!(
                blocks[0]["elements"][0]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("(continued)")),
                "{}",
                blocks[0]
            );
        }
        let has_buttons = blocks.iter().any(|b| b["type"] == "actions");
        assert_eq!(
            has_buttons,
            i == parts.len() - 1,
            "the buttons come once, last"
        );
    }
    let shown: String = parts.iter().map(|p| p.args["blocks"].to_string()).collect();
    assert_eq!(
        shown.matches("Defensiveness*").count(),
        60,
        "every flag is shown"
    );
    assert!(!shown.contains("<!here>"), "a quote mentions nobody");
}
