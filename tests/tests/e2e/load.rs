//! `spar bench load`: the figures a deployment is sized by, in the documented JSON shape,
//! from drills that really ran through the runtime, engine and store: every turn answered
//! once, with one instance or two sharing a database.

use crate::cli::spar;
use crate::store::TestDb;

fn load(extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "bench",
        "load",
        "--drills",
        "6",
        "--turns",
        "2",
        "--llm-latency-ms",
        "20",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let run = spar(&args, "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn check(report: &serde_json::Value) {
    assert_eq!(report["drills"], 6);
    assert_eq!(report["turns"], 12);
    assert_eq!(report["errors"], 0, "{report}");
    assert!(report["think_ms"].as_u64().is_some(), "{report}");
    assert!(
        report["throughput_ratio"]
            .as_f64()
            .is_some_and(|r| r > 0.0 && r <= 1.0),
        "{report}"
    );
    for p in ["p50", "p99", "max"] {
        let own = report["overhead_ms"][p].as_f64();
        let whole = report["turn_ms"][p].as_f64();
        assert!(own.is_some_and(|ms| ms >= 0.0), "{report}");
        // A turn takes the model's 20 ms and Spar's own time besides.
        assert!(
            whole.is_some_and(|ms| ms >= 20.0 && ms >= own.unwrap_or(f64::MAX)),
            "{report}"
        );
    }
    assert!(
        report["store_round_trips_per_turn"]
            .as_f64()
            .is_some_and(|n| n > 0.0)
    );
    assert!(
        report["store_ms_per_turn"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0),
        "{report}"
    );
    // Counted from the heap while every drill waits: a number, never the run's peak.
    assert!(
        report["memory_per_drill_bytes"].as_u64().is_some(),
        "{report}"
    );
    assert!(report["peak_rss_bytes"].as_u64().is_some(), "{report}");
    // Each operation's share, so a slow turn can be traced to its query: every turn is
    // committed (the member's line, then the reply).
    let commit = &report["store_operations"]["commit"];
    assert!(
        commit["calls_per_turn"].as_f64().is_some_and(|n| n >= 2.0),
        "{report}"
    );
    assert!(
        commit["max_ms"].as_f64() >= commit["mean_ms"].as_f64(),
        "{report}"
    );
}

#[test]
fn a_load_run_on_sqlite_answers_every_turn_once_and_reports_its_figures() {
    let report = load(&["--think-ms", "0"]);
    check(&report);
    assert_eq!(report["think_ms"], 0);
}

#[test]
fn members_who_pause_between_turns_are_paced_and_the_ideal_counts_their_pauses() {
    let report = load(&["--think-ms", "40"]);
    check(&report);
    assert_eq!(report["think_ms"], 40);
    // Each drill's turns are two model replies and one pause of 20 to 60 ms: were the
    // pauses left out of the ideal, the ratio could not come near 1.
    assert!(
        report["throughput_ratio"].as_f64().is_some_and(|r| r > 0.6),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_answer_every_turn_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    let report = tokio::task::spawn_blocking(move || {
        load(&["--database", &url, "--instances", "2", "--think-ms", "10"])
    })
    .await
    .expect("the run");
    check(&report);
    assert_eq!(report["instances"], 2);
    // The run takes its members and drills away with it, so runs against one database
    // neither pile up nor see each other's drills.
    let store = db.open().await;
    let left = store
        .load_live_drills(&["bench".to_string()])
        .await
        .expect("live drills");
    assert!(
        left.is_empty(),
        "{} benchmark drills left behind",
        left.len()
    );
}
