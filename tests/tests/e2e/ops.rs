//! What an operator relies on when running `spar serve`: logs a shipper can read, and a
//! bad logging setting refused at start rather than silently ignored.

use crate::cli::spar_with_env;
use crate::discord::{Served, connected, sqlite_url, start_drill, wait_for_lines};
use crate::fake_discord::{FakeDiscord, permission};

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
