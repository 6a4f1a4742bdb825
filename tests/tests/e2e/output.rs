//! What `spar migrate`, `forget`, `stats`, `score` and `bench` print, and that a reader who stops
//! early (`spar ... | head`) is not an error for them.

use crate::cli::{spar, spar_into_closed_pipe, spar_on_terminal, spar_with_env};

/// A SQLite database in a fresh directory, kept as long as the directory.
fn database() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a directory for the database");
    let url = format!("sqlite://{}", dir.path().join("spar.db").display());
    (dir, url)
}

/// One saved drill for the terminal user `ana`.
fn drill_by_ana(url: &str) {
    let run = spar_with_env(
        &[
            "practice",
            "--scenario",
            "latency-regression",
            "--seed",
            "1",
            "--database-url",
            url,
        ],
        "What is driving the release date for you?\n/end\n",
        &[("SPAR_TERMINAL_USER", "ana")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn migrate_names_the_database_it_brought_up_to_date() {
    let (_dir, url) = database();
    let run = spar(&["migrate", "--database-url", &url], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!("database {url} (sqlite) is up to date\n")
    );
}

/// How many drills `user` has, by `spar history`.
fn drills_of(url: &str, user: &str) -> usize {
    let run = spar_with_env(
        &["history", "--format", "json", "--database-url", url],
        "",
        &[("SPAR_TERMINAL_USER", user)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    rows["drills"].as_array().map_or(0, Vec::len)
}

#[test]
fn forget_says_what_it_deleted_and_when_there_was_nothing() {
    let (_dir, url) = database();
    drill_by_ana(&url);
    let run = spar(
        &["forget", "--user", "ana", "--yes", "--database-url", &url],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "forgot terminal user ana: 1 drill(s) deleted with their transcripts and scores, \
         0 turn(s) in other people's drills blanked\n"
    );
    let again = spar(
        &["forget", "--user", "ana", "-y", "--database-url", &url],
        "",
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, "nothing is kept about terminal user ana\n");
}

#[test]
fn history_shows_your_own_drills_unless_asked_for_everyones() {
    let (_dir, url) = database();
    drill_by_ana(&url);
    let as_ana = |args: &[&str]| {
        let mut all = vec![
            "history",
            "--format",
            "json",
            "--database-url",
            url.as_str(),
        ];
        all.extend_from_slice(args);
        let run = spar_with_env(&all, "", &[("SPAR_TERMINAL_USER", "ana")]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        rows["drills"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(as_ana(&[]), 1, "her own drill");
    let as_bo = spar_with_env(
        &["history", "--format", "json", "--database-url", &url],
        "",
        &[("SPAR_TERMINAL_USER", "bo")],
    );
    let bo: serde_json::Value = serde_json::from_str(&as_bo.stdout).expect("JSON");
    assert_eq!(
        bo["drills"],
        serde_json::json!([]),
        "not someone else's drills"
    );
    assert_eq!(as_ana(&["--all"]), 1);
    let both = spar(
        &["history", "--all", "--user", "ana", "--database-url", &url],
        "",
    );
    assert_eq!(both.code, 2, "--all and --user contradict each other");
}

#[test]
fn stats_with_a_chart_says_where_the_chart_went_after_the_table() {
    let (dir, url) = database();
    drill_by_ana(&url);
    let chart = dir.path().join("scores.png");
    let chart_arg = chart.to_str().expect("a UTF-8 path");
    let run = spar_with_env(
        &["stats", "--chart", chart_arg, "--database-url", &url],
        "",
        &[("SPAR_TERMINAL_USER", "ana")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("1 scored drill(s)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with(&format!("\nchart written to {chart_arg}\n")),
        "{}",
        run.stdout
    );
    assert!(chart.is_file());
}

#[test]
fn bench_reports_its_rates_in_three_lines() {
    let run = spar(&["bench", "--megabytes", "0.1", "--runs", "1"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[0].starts_with("scoring throughput over "),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(", 1 runs on one core:"), "{}", lines[0]);
    assert!(lines[1].starts_with("  min "), "{}", lines[1]);
    assert!(lines[1].contains("(checksum "), "{}", lines[1]);
    assert!(
        lines[2].ends_with(" MB/s of this thread's CPU time"),
        "{}",
        lines[2]
    );
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let (dir, url) = database();
    drill_by_ana(&url);
    let chart = dir.path().join("scores.png");
    let chart_arg = chart.to_str().expect("a UTF-8 path");
    let commands: &[&[&str]] = &[
        &["migrate", "--database-url", &url],
        &["stats", "--chart", chart_arg, "--database-url", &url],
        &["forget", "--user", "bo", "--yes", "--database-url", &url],
        &["bench", "--megabytes", "0.1", "--runs", "1"],
        &["scenarios", "check"],
    ];
    for args in commands {
        let run = spar_into_closed_pipe(args);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "spar {args:?}");
    }
}

#[test]
fn forget_from_a_script_without_yes_deletes_nothing_and_says_how_to_confirm() {
    let (_dir, url) = database();
    drill_by_ana(&url);
    let run = spar(&["forget", "--user", "ana", "--database-url", &url], "y\n");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("pass --yes"), "{}", run.stderr);
    assert_eq!(drills_of(&url, "ana"), 1);
}

#[test]
fn forget_without_user_forgets_the_terminal_users_own_drills_and_says_whose() {
    let (_dir, url) = database();
    drill_by_ana(&url);
    let as_bo = spar_with_env(
        &["forget", "--yes", "--database-url", &url],
        "",
        &[("SPAR_TERMINAL_USER", "bo")],
    );
    assert_eq!(as_bo.code, 0, "{}", as_bo.stderr);
    assert_eq!(
        as_bo.stdout,
        "nothing is kept about terminal user bo (you)\n"
    );
    assert_eq!(
        drills_of(&url, "ana"),
        1,
        "someone else's drills are not touched"
    );
    let as_ana = spar_with_env(
        &["forget", "--yes", "--database-url", &url],
        "",
        &[("SPAR_TERMINAL_USER", "ana")],
    );
    assert_eq!(as_ana.code, 0, "{}", as_ana.stderr);
    assert!(
        as_ana
            .stdout
            .starts_with("forgot terminal user ana (you): 1 drill(s) deleted"),
        "{}",
        as_ana.stdout
    );
    assert_eq!(drills_of(&url, "ana"), 0);
}

#[test]
fn forget_on_a_terminal_asks_first_and_only_a_yes_deletes() {
    let (_dir, url) = database();
    drill_by_ana(&url);
    let env = [("SPAR_TERMINAL_USER", "ana")];
    let declined = spar_on_terminal(&["forget", "--database-url", &url], "n\n", &env);
    assert_eq!(declined.code, 0, "{}{}", declined.stdout, declined.stderr);
    assert!(
        declined.stdout.contains(
            "Forget terminal user ana (you): 1 drill(s) with their transcripts and scores"
        ),
        "{}",
        declined.stdout
    );
    assert!(
        declined.stdout.contains("nothing forgotten"),
        "{}",
        declined.stdout
    );
    assert_eq!(drills_of(&url, "ana"), 1);
    let confirmed = spar_on_terminal(&["forget", "--database-url", &url], "y\n", &env);
    assert_eq!(confirmed.code, 0, "{}", confirmed.stdout);
    assert!(
        confirmed
            .stdout
            .contains("forgot terminal user ana (you): 1 drill(s) deleted"),
        "{}",
        confirmed.stdout
    );
    assert_eq!(drills_of(&url, "ana"), 0);
}

#[test]
fn stats_with_no_scored_drills_writes_no_chart() {
    let (dir, url) = database();
    let chart = dir.path().join("scores.png");
    let chart_arg = chart.to_str().expect("a UTF-8 path");
    let run = spar(&["stats", "--chart", chart_arg, "--database-url", &url], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("no scored drills yet"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with(&format!(
            "no chart written to {chart_arg}: there are no scores to draw yet\n"
        )),
        "{}",
        run.stdout
    );
    assert!(!chart.exists());
}

#[test]
fn stats_calls_one_drill_neither_up_nor_down() {
    let (_dir, url) = database();
    drill_by_ana(&url);
    let run = spar_with_env(
        &["stats", "--format", "json", "--database-url", &url],
        "",
        &[("SPAR_TERMINAL_USER", "ana")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stats: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(stats["series"][0]["direction"], "-", "{}", run.stdout);
}

#[test]
fn score_with_an_unknown_scenario_exits_2_naming_the_known_ones() {
    let transcript = r#"{"scenario": "latency-regresion", "turns": [{"role": "candidate", "at_s": 1, "text": "What is driving the date?"}]}"#;
    let run = spar(&["score", "-"], transcript);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "standard input: unknown scenario \"latency-regresion\"; did you mean latency-regression? known"
        ),
        "{}",
        run.stderr
    );
    for id in spar_core::ScenarioLibrary::embedded()
        .expect("scenarios")
        .ids()
    {
        assert!(run.stderr.contains(id), "{id}: {}", run.stderr);
    }
    let known = transcript.replace("latency-regresion", "latency-regression");
    assert_eq!(spar(&["score", "-"], &known).code, 0);
}
