//! What an operator relies on when running `spar serve`: logs a shipper can read, and a
//! bad logging setting refused at start rather than silently ignored.

use crate::cli::spar_with_env;
use crate::discord::{
    Served, connected, sqlite_url, start_drill, wait_for_lines, wait_for_lines_within,
};
use crate::fake_discord::{FakeDiscord, permission};
use crate::fake_openai::{FakeOpenAi, Reply};

#[test]
fn an_invalid_log_filter_or_format_is_refused_at_start() {
    let run = spar_with_env(&["scenarios", "list"], "", &[("SPAR_LOG", "spar=[")]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("SPAR_LOG \"spar=[\" is not a log filter"),
        "{}",
        run.stderr
    );
    let run = spar_with_env(&["scenarios", "list"], "", &[("SPAR_LOG_FORMAT", "xml")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("SPAR_LOG_FORMAT \"xml\" must be text or json"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_one_json_object_a_line_naming_the_drill_guild_and_channel() {
    let fake = FakeDiscord::start().await;
    let ana = fake.add_member("ana", permission::EVERYONE_DEFAULT);
    let dir = tempfile::tempdir().expect("dir");
    let served = Served::start(
        &fake,
        &sqlite_url(&dir),
        &[("SPAR_LOG_FORMAT", "json"), ("SPAR_LOG", "spar=info")],
    );
    connected(&fake, 1).await;
    let thread = start_drill(&fake, &ana).await;
    // The antagonist's opening is posted after "antagonist answered" is logged.
    wait_for_lines(&fake, thread, 1).await;
    let lines = std::fs::read_to_string(&served.log).expect("the log");
    let parsed: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let answered = parsed
        .iter()
        .find(|l| l["fields"]["message"] == "antagonist answered")
        .unwrap_or_else(|| panic!("{lines}"));
    let span = &answered["span"];
    assert_eq!(span["platform"], "discord", "{answered}");
    assert_eq!(span["workspace"], fake.guild_id().to_string(), "{answered}");
    assert_eq!(span["channel"], thread.to_string(), "{answered}");
    assert!(
        span["drill"].as_str().is_some_and(|d| d.len() == 36),
        "{answered}"
    );
    assert!(!lines.contains(&fake.token()), "no token in the logs");
    assert!(
        !lines.contains("three points on QA") && !lines.contains("latency doc"),
        "no drill text at info"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_runs_the_shard_range_it_is_given() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let _served = Served::start(
        &fake,
        &sqlite_url(&dir),
        &[("SPAR_DISCORD_SHARDS", "2-3/4")],
    );
    fake.wait_identified(2, std::time::Duration::from_secs(30))
        .await;
    let mut shards: Vec<serde_json::Value> = fake
        .identifies()
        .iter()
        .map(|identify| identify["shard"].clone())
        .collect();
    shards.sort_by_key(|s| s[0].as_u64());
    assert_eq!(
        shards,
        vec![serde_json::json!([2, 4]), serde_json::json!([3, 4])]
    );
}

#[test]
fn a_malformed_shard_range_is_refused_with_its_form() {
    let run = spar_with_env(
        &["serve"],
        "",
        &[
            ("SPAR_DISCORD_TOKEN", "t"),
            ("SPAR_DISCORD_SHARDS", "4-2/8"),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("FIRST-LAST/TOTAL"), "{}", run.stderr);
}

/// A free port on 127.0.0.1 for a server the test starts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `GET path` over plain HTTP/1.0: the status and the body.
async fn get(port: u16, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut stream = loop {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(stream) => break stream,
            // The server is still starting.
            Err(_) if std::time::Instant::now() < deadline => tokio::task::yield_now().await,
            Err(e) => panic!("nothing listens on {port}: {e}"),
        }
    };
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .expect("request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_and_readiness_are_served_and_readiness_follows_the_gateway() {
    let fake = FakeDiscord::start().await;
    let ana = fake.add_member("ana", permission::EVERYONE_DEFAULT);
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _served = Served::start_with_args(&fake, &sqlite_url(&dir), &[], &["--metrics", &addr]);
    connected(&fake, 1).await;
    assert_eq!(get(port, "/healthz").await, (200, "ok\n".to_string()));
    let (status, body) = get(port, "/readyz").await;
    assert_eq!(
        (status, body.as_str()),
        (200, "database: ok\ndiscord: ok\n")
    );

    let thread = start_drill(&fake, &ana).await;
    wait_for_lines(&fake, thread, 1).await;
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(&ana, thread, "What is driving the date for you?"),
    );
    wait_for_lines(&fake, thread, 2).await;
    let (status, metrics) = get(port, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("spar_turns_total{platform=\"discord\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("spar_antagonist_seconds_count{player=\"scripted\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("spar_store_seconds_count{operation=\"commit\"}"),
        "{metrics}"
    );

    // The gateway goes away: the process is alive but not ready.
    fake.hold_connections(true);
    fake.drop_sessions();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, body) = get(port, "/readyz").await;
        if status == 503 {
            assert!(body.contains("discord: not ready"), "{body}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still ready: {body}");
        tokio::task::yield_now().await;
    }
    assert_eq!(get(port, "/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_stopped_mid_drill_exits_cleanly_and_the_other_answers_the_next_turn() {
    let Some(db) = crate::store::TestDb::postgres().await else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let model = FakeOpenAi::start();
    let ana = fake.add_member("ana", permission::EVERYONE_DEFAULT);
    let llm = [
        ("SPAR_LLM_BASE_URL", model.base_url.as_str()),
        ("SPAR_LLM_MODEL", "fake"),
        ("SPAR_LLM_MAX_ATTEMPTS", "1"),
    ];
    let mut a = Served::start(&fake, &db.url, &llm);
    let _b = Served::start(&fake, &db.url, &llm);
    connected(&fake, 2).await;
    let thread = start_drill(&fake, &ana).await;
    wait_for_lines(&fake, thread, 1).await;
    // The reply to the next turn takes a few seconds: it is still being written when one
    // instance is told to stop.
    model.stream(Reply::Delay(
        std::time::Duration::from_secs(3),
        Box::new(Reply::Stream(
            "Fair question. The demo is the real deadline.".into(),
        )),
    ));
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(&ana, thread, "What is driving the date for you?"),
    );
    model_asked(&model, 2).await;
    let status = tokio::task::spawn_blocking(move || {
        let status = a.terminate(std::time::Duration::from_secs(30));
        (a, status)
    })
    .await
    .expect("stopping");
    let (_a, status) = status;
    assert!(
        status.is_some_and(|s| s.success()),
        "a stopped instance exits cleanly and in time: {status:?}"
    );
    // Whichever instance took that turn, it is answered, and the next one too.
    wait_for_lines(&fake, thread, 2).await;
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(
            &ana,
            thread,
            "Could we agree on the benchmark config together?",
        ),
    );
    wait_for_lines(&fake, thread, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_stopped_with_a_reply_still_coming_hands_the_drill_over_at_once() {
    let Some(db) = crate::store::TestDb::postgres().await else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let model = FakeOpenAi::start();
    let ana = fake.add_member("ana", permission::EVERYONE_DEFAULT);
    // Each model request may take ten minutes, so a drill's recovery claim lasts half an
    // hour: without the claim handed over, nobody else would answer within this test.
    let llm = [
        ("SPAR_LLM_BASE_URL", model.base_url.as_str()),
        ("SPAR_LLM_MODEL", "fake"),
        ("SPAR_LLM_MAX_ATTEMPTS", "1"),
        ("SPAR_LLM_TIMEOUT_S", "600"),
    ];
    let a = Served::start(&fake, &db.url, &llm);
    let b = Served::start(&fake, &db.url, &llm);
    connected(&fake, 2).await;
    let thread = start_drill(&fake, &ana).await;
    wait_for_lines(&fake, thread, 1).await;
    // The reply to the next turn is still being written long after a stop's grace period.
    model.stream(Reply::Delay(
        std::time::Duration::from_secs(3600),
        Box::new(Reply::Stream("Too late to matter.".into())),
    ));
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(&ana, thread, "What is driving the date for you?"),
    );
    model_asked(&model, 2).await;
    // The instance that asked holds the drill's recovery claim; stop that one.
    let pool = sqlx::PgPool::connect(&db.url).await.expect("postgres");
    let holder: Option<String> =
        sqlx::query_scalar("SELECT recovery_owner FROM drills WHERE phase = 'live'")
            .fetch_one(&pool)
            .await
            .expect("the drill");
    pool.close().await;
    let (mut stopping, _staying) = if holder.is_some() && holder == a.owner() {
        (a, b)
    } else {
        assert!(holder.is_some() && holder == b.owner(), "{holder:?}");
        (b, a)
    };
    let status = tokio::task::spawn_blocking(move || {
        stopping.terminate(std::time::Duration::from_secs(120))
    })
    .await
    .expect("stopping");
    assert!(
        status.is_some_and(|s| s.success()),
        "a stopped instance exits cleanly after its grace period: {status:?}"
    );
    // The candidate carries on; the other instance answers at its next recovery sweep,
    // not when the stopped one's half-hour claim would have run out.
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(&ana, thread, "Could we agree on the benchmark config?"),
    );
    wait_for_lines_within(&fake, thread, 2, std::time::Duration::from_secs(120)).await;
    let posts = crate::discord::posts(&fake, thread);
    assert!(
        !posts
            .iter()
            .any(|p| crate::discord::text(p).contains("Too late to matter")),
        "the stopped instance's reply is never posted: {posts:#?}"
    );
}

/// Waits until the model has been asked for `n` lines (the opening included).
async fn model_asked(model: &FakeOpenAi, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while model.antagonist_requests().len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "the model was not asked"
        );
        tokio::task::yield_now().await;
    }
}

#[test]
fn a_database_pool_size_or_timeout_that_cannot_work_is_refused_at_start() {
    let token = ("SPAR_DISCORD_TOKEN", "not-a-real-token");
    let run = spar_with_env(&["serve"], "", &[token, ("SPAR_DATABASE_POOL_SIZE", "0")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("SPAR_DATABASE_POOL_SIZE (database_pool_size) is \"0\"; it must be a whole number from 1 to 1000 connections"),
        "{}",
        run.stderr
    );
    let run = spar_with_env(
        &["serve"],
        "",
        &[token, ("SPAR_DATABASE_ACQUIRE_TIMEOUT_S", "0")],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("SPAR_DATABASE_ACQUIRE_TIMEOUT_S (database_acquire_timeout_s) is \"0\""),
        "{}",
        run.stderr
    );
    let run = spar_with_env(
        &["serve"],
        "",
        &[token, ("SPAR_DATABASE_POOL_SIZE", "lots")],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("SPAR_DATABASE_POOL_SIZE (database_pool_size) is \"lots\""),
        "{}",
        run.stderr
    );
}
