//! `spar practice` and `spar scenarios`, driven through piped input, and on a
//! pseudo-terminal where only a terminal shows the behaviour (Ctrl-C, Ctrl-D, the
//! prompt, progress while the model thinks).

use crate::cli::{Running, spar, spar_with_env};
use crate::fake_openai::{FakeOpenAi, Reply};
use serde_json::Value;
use spar_core::ScenarioLibrary;
use std::time::Duration;

fn practice(lines: &[&str], extra: &[&str]) -> crate::cli::Run {
    let mut args = vec![
        "practice",
        "--scenario",
        "latency-regression",
        "--seed",
        "1",
    ];
    args.extend_from_slice(extra);
    let mut input = lines.join("\n");
    input.push('\n');
    spar(&args, &input)
}

/// The antagonist's lines after the opening, as printed under the persona's label.
fn antagonist_replies(stdout: &str) -> Vec<String> {
    let mut replies = Vec::new();
    let mut lines = stdout.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with('[') && line.ends_with("Dr. Priya Raman") {
            let mut text = Vec::new();
            while let Some(next) = lines.peek() {
                if !next.starts_with("    ") {
                    break;
                }
                text.push(next.trim());
                lines.next();
            }
            replies.push(text.join(" "));
        }
    }
    replies.into_iter().skip(1).collect()
}

#[test]
fn a_piped_drill_runs_to_its_debrief_at_end() {
    let run = practice(&["What is driving the release date for you?", "/end"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("The 40% latency regression"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("[0:30] You"),
        "piped runs use a 30 s pace: {}",
        run.stdout
    );
    assert!(run.stdout.contains("Debrief"), "{}", run.stdout);
    assert!(
        run.stdout.contains("What good looks like here"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("\x1b["),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn the_end_of_input_ends_the_drill_cleanly() {
    let run = practice(&["I think we should look at the numbers together."], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Drill ended."), "{}", run.stdout);
    assert!(run.stdout.contains("Debrief"), "{}", run.stdout);
}

#[test]
fn the_same_seed_and_input_give_the_same_drill() {
    let lines = ["It is slower.", "What would change your mind?", "/end"];
    // Everything but the new drill's storage id must match.
    let drill = |run: crate::cli::Run| {
        let saved = run
            .stdout
            .find("Saved as drill")
            .expect("the drill is saved");
        run.stdout[..saved].to_string()
    };
    assert_eq!(drill(practice(&lines, &[])), drill(practice(&lines, &[])));
}

#[test]
fn different_moves_get_different_kinds_of_reply() {
    let library = ScenarioLibrary::embedded().unwrap();
    let scenario = library.get("latency-regression").unwrap();
    let reply_to = |line: &str| {
        let run = practice(&[line, "/end"], &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        antagonist_replies(&run.stdout)
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    let escalation = reply_to("I'm going to escalate this to my manager.");
    let number = reply_to("On replayed traffic p99 went from 140 ms to 196 ms at 2,000 QPS.");
    let question = reply_to("Can you help me understand what is driving the release date?");
    let concede = reply_to(
        "Could we agree on the config together and run both builds on production batch sizes?",
    );
    assert!(
        scenario.lines["escalation"].contains(&escalation),
        "escalation got: {escalation}"
    );
    assert!(
        scenario.lines["methodology"].contains(&number),
        "a cited number got: {number}"
    );
    assert!(
        scenario
            .brief
            .reveals
            .iter()
            .any(|r| question.contains(r.as_str())),
        "a question got: {question}"
    );
    let concession = &scenario.brief.concede_when[0].concession;
    assert!(
        concede.starts_with(concession.as_str()),
        "a concede_when move got: {concede}"
    );
    let all = [&escalation, &number, &question, &concede];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn time_and_unknown_commands_are_answered_during_a_drill() {
    let run = practice(&["/time", "/dance", "/end"], &[]);
    assert!(
        run.stdout.contains("⏱ 8:00 left, 40 replies left."),
        "{}",
        run.stdout
    );
    let unknown = run
        .stdout
        .lines()
        .find(|l| l.contains("unknown command /dance"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(!unknown.contains('⏱'), "not a clock notice: {unknown}");
}

#[test]
fn the_turn_cap_ends_the_drill() {
    let run = practice(
        &[
            "one thing I want to say",
            "another thing to say",
            "a third thing here",
        ],
        &["--max-turns", "2"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("That was your last reply for this drill."),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("a third thing here"), "{}", run.stdout);
}

#[test]
fn the_clock_ends_a_drill_that_runs_out_of_time() {
    let lines: Vec<String> = (0..20)
        .map(|i| format!("reply number {i} about the plan"))
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let run = practice(&refs, &["--pace", "60"]);
    assert!(run.stdout.contains("2:00 left."), "{}", run.stdout);
    assert!(run.stdout.contains("Time is up."), "{}", run.stdout);
    assert!(run.stdout.contains("Debrief"), "{}", run.stdout);
}

#[test]
fn without_a_scenario_a_list_is_offered_and_a_number_picks_one() {
    let run = spar(&["practice", "--seed", "3"], "1\n/end\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Pick a scenario:"), "{}", run.stdout);
}

#[test]
fn an_unknown_scenario_exits_2_naming_the_choices() {
    let run = spar(&["practice", "--scenario", "nope"], "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown scenario \"nope\"; choose one of:"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_scenario_suggests_the_closest_ids() {
    let run = spar(&["practice", "--scenario", "latency-regresion"], "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "unknown scenario \"latency-regresion\"; did you mean latency-regression? choose one of:"
        ),
        "{}",
        run.stderr
    );
    let part = spar(&["practice", "--scenario", "latency"], "");
    assert!(
        part.stderr.contains("did you mean ") && part.stderr.contains("bleu-vs-latency or")
            || part.stderr.contains("or bleu-vs-latency?"),
        "{}",
        part.stderr
    );
}

#[test]
fn scenarios_list_shows_at_least_nine() {
    let run = spar(&["scenarios", "list"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.lines().count() >= 9, "{}", run.stdout);
    assert!(run.stdout.contains("latency-regression"));
}

#[test]
fn scenarios_check_rejects_a_broken_file_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = spar_core::embedded::prompt("scenarios/latency-regression.toml").unwrap();
    let broken = good.replacen("title = ", "colour = \"red\"\ntitle = ", 1);
    std::fs::write(dir.path().join("broken.toml"), broken).unwrap();
    let run = spar(&["scenarios", "check", dir.path().to_str().unwrap()], "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("broken.toml:2: `colour`: unknown field"),
        "{}",
        run.stderr
    );
}

#[test]
fn scenarios_check_passes_the_built_in_set() {
    let run = spar(&["scenarios", "check"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// A SQLite database and a data directory, both kept as long as the directory.
struct Place {
    dir: tempfile::TempDir,
    url: String,
    data: String,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().expect("a directory");
        let url = format!("sqlite://{}", dir.path().join("spar.db").display());
        let data = dir.path().join("data").display().to_string();
        Place { dir, url, data }
    }

    /// The environment of a terminal user `ana` whose data directory is this one.
    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("SPAR_TERMINAL_USER", "ana"),
            ("XDG_DATA_HOME", self.data.as_str()),
        ]
    }

    fn practice<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "practice",
            "--scenario",
            "latency-regression",
            "--seed",
            "1",
            "--database-url",
            self.url.as_str(),
            "--colour",
            "never",
        ];
        args.extend_from_slice(extra);
        args
    }

    fn history(&self) -> Value {
        let run = spar_with_env(
            &["history", "--format", "json", "--database-url", &self.url],
            "",
            &self.env(),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).expect("JSON")
    }

    /// The newest drill, exported as JSON.
    fn last_drill(&self) -> Value {
        let history = self.history();
        let id = history["drills"][0]["id"].as_str().expect("a drill");
        let run = spar(&["export", "--drill", id, "--database-url", &self.url], "");
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).expect("JSON")
    }
}

/// The settings that point `spar` at a local fake model.
fn model_env<'a>(fake: &'a FakeOpenAi, place: &'a Place) -> Vec<(&'a str, &'a str)> {
    let mut env = place.env();
    env.extend([
        ("SPAR_LLM_BASE_URL", fake.base_url.as_str()),
        ("SPAR_LLM_MODEL", "fake"),
        ("SPAR_LLM_API_KEY", "test-key"),
        ("SPAR_LLM_RETRY_BASE_MS", "5"),
    ]);
    env
}

#[test]
fn ctrl_c_during_a_drill_ends_it_with_its_debrief() {
    let place = Place::new();
    let mut term = Running::on_terminal(&place.practice(&[]), &place.env(), None);
    term.expect("Press Enter");
    term.type_keys("\n");
    term.expect("You › ");
    term.type_keys("What is driving the release date for you?\n");
    term.expect("You › ");
    term.type_keys("\x03");
    let run = term.finish();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("Drill ended."), "{}", run.stdout);
    assert!(run.stdout.contains("Overall: "), "{}", run.stdout);
    assert!(run.stdout.contains("Saved as drill"), "{}", run.stdout);
    assert_eq!(place.history()["drills"][0]["phase"], "debriefed");
}

#[test]
fn a_second_ctrl_c_leaves_at_once_while_the_judge_is_still_reading() {
    let place = Place::new();
    let fake = FakeOpenAi::start();
    // A judge slower than any test: only leaving at once ends this drill in time.
    fake.judge(Reply::Delay(
        Duration::from_secs(3600),
        Box::new(Reply::Content("{}".into())),
    ));
    // An opening that takes a moment, so it is still on its way when the clock starts and
    // the wait shows, however fast the machine.
    fake.stream(Reply::Delay(
        Duration::from_secs(2),
        Box::new(Reply::Stream(
            "Before you start: I need this in the release.".into(),
        )),
    ));
    let mut term = Running::on_terminal(&place.practice(&[]), &model_env(&fake, &place), None);
    term.expect("Press Enter");
    term.type_keys("\n");
    term.expect("Dr. Priya Raman is thinking…");
    term.expect("You › ");
    term.type_keys("What is driving the release date for you?\n");
    term.expect("You › ");
    term.type_keys("\x03");
    term.expect("The judge is reading the drill…");
    term.type_keys("\x03");
    let run = term.finish();
    assert_eq!(run.code, 130, "{}", run.stdout);
    assert!(!run.stdout.contains("Overall: "), "{}", run.stdout);
}

#[test]
fn progress_is_shown_on_a_terminal_only() {
    let place = Place::new();
    let fake = FakeOpenAi::start();
    let run = spar_with_env(
        &place.practice(&[]),
        "What is driving the release date for you?\n/end\n",
        &model_env(&fake, &place),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("thinking"), "{}", run.stdout);
    assert!(!run.stdout.contains("judge is reading"), "{}", run.stdout);
}

#[test]
fn ctrl_d_mid_line_starts_the_next_output_on_a_new_line() {
    let place = Place::new();
    let mut term = Running::on_terminal(&place.practice(&[]), &place.env(), None);
    term.expect("Press Enter");
    term.type_keys("\n");
    term.expect("You › ");
    term.type_keys("What would change your mind about the da\x04");
    term.expect("What would change your mind about the da");
    term.type_keys("\x04");
    let run = term.finish();
    assert_eq!(run.code, 0, "{}", run.stdout);
    let typed = run
        .stdout
        .find("What would change your mind about the da")
        .expect("the typed words are shown");
    let after = &run.stdout[typed + "What would change your mind about the da".len()..];
    assert!(after.starts_with('\n'), "{after:?}");
    assert!(after.contains("That line was cut off"), "{after}");
    let drill = place.last_drill();
    let last = &drill["turns"][drill["turns"].as_array().map_or(0, Vec::len) - 1];
    assert_eq!(last["cut_off"], true, "{drill}");
}

#[test]
fn a_line_cut_off_by_the_end_of_input_is_kept_but_credits_no_move() {
    let place = Place::new();
    let question = "What would you need to see to be convinced about the release?";
    let sent = spar_with_env(
        &place.practice(&[]),
        &format!("{question}\n/end\n"),
        &place.env(),
    );
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    let credited = place.last_drill();
    assert!(
        credited["scorecard"]["strengths"]
            .to_string()
            .contains(question),
        "sent, the question earns a strength: {credited}"
    );
    let cut = spar_with_env(&place.practice(&[]), question, &place.env());
    assert_eq!(cut.code, 0, "{}", cut.stderr);
    assert!(cut.stdout.contains(question), "{}", cut.stdout);
    let drill = place.last_drill();
    let turns = drill["turns"].as_array().expect("turns");
    let last = turns.last().expect("a turn");
    assert_eq!(
        (last["text"].as_str(), &last["cut_off"]),
        (Some(question), &Value::Bool(true))
    );
    assert!(
        !drill["scorecard"].to_string().contains(question),
        "cut off, it earns nothing: {drill}"
    );
    assert!(
        turns[..turns.len() - 1]
            .iter()
            .all(|t| t.get("cut_off").is_none()),
        "{drill}"
    );
}

#[test]
fn a_typed_turn_is_relabelled_with_the_time_it_was_recorded_at() {
    let place = Place::new();
    let mut term = Running::on_terminal(&place.practice(&["--pace", "30"]), &place.env(), None);
    term.expect("Press Enter");
    term.type_keys("\n");
    term.expect("[0:00] You › ");
    term.type_keys("What is driving the release date for you?\n");
    // The prompt said 0:00; the turn is recorded 30 s on, and its line now says so.
    term.expect("\x1b[1A\r\x1b[J");
    term.expect("[0:30] You");
    term.expect(" › What is driving the release date for you?\n");
    // A paced clock moves only when a line is typed.
    term.expect("[0:30] You › ");
    term.type_keys("/end\n");
    let run = term.finish();
    assert_eq!(run.code, 0, "{}", run.stdout);
    let drill = place.last_drill();
    assert_eq!(drill["turns"][1]["at_s"], 30.0, "{drill}");
}

/// Every `[m:ss] Dr. Priya Raman` label on the screen, in order.
fn antagonist_labels(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| {
            let label = &l[l.rfind('[')?..];
            let time = label.strip_suffix("] Dr. Priya Raman")?;
            Some(time[1..].to_string())
        })
        .collect()
}

#[test]
fn the_clock_waits_for_the_opening_and_each_label_shows_the_time_recorded() {
    let place = Place::new();
    let fake = FakeOpenAi::start();
    let slow = Duration::from_secs(4);
    fake.stream(Reply::Delay(
        slow,
        Box::new(Reply::Stream(
            "Three points on QA is not a rounding error.".into(),
        )),
    ));
    fake.stream(Reply::Delay(
        Duration::from_millis(1500),
        Box::new(Reply::Stream("The demo is the deadline.".into())),
    ));
    let mut term = Running::on_terminal(&place.practice(&[]), &model_env(&fake, &place), None);
    term.expect("Press Enter");
    term.type_keys("\n");
    term.expect("rounding error.");
    term.expect("You › ");
    term.type_keys("What is driving the release date for you?\n");
    term.expect("deadline.");
    term.expect("You › ");
    term.type_keys("/end\n");
    let run = term.finish();
    assert_eq!(run.code, 0, "{}", run.stdout);
    let drill = place.last_drill();
    let turns = drill["turns"].as_array().expect("turns");
    assert_eq!(turns[0]["at_s"], 0.0, "{drill}");
    // Typed as soon as the opening was shown: had the clock run while the model took
    // its time over the opening, the reply would come after it.
    let reply_at = turns[1]["at_s"].as_f64().expect("a time");
    assert!(reply_at < slow.as_secs_f64(), "{drill}");
    let recorded: Vec<String> = turns
        .iter()
        .filter(|t| t["role"] == "antagonist")
        .map(|t| spar_core::transcript::clock(t["at_s"].as_f64().unwrap_or(-1.0)))
        .collect();
    assert_eq!(antagonist_labels(&run.stdout), recorded, "{}", run.stdout);
}

#[test]
fn model_replies_are_wrapped_and_indented_like_scripted_ones() {
    let place = Place::new();
    let fake = FakeOpenAi::start();
    let long = "Three points on QA is not a rounding error, and I have told my VP it ships with the release, so tell me how we make that happen without rerunning a week of evals on a benchmark nobody outside your team has ever looked at.";
    fake.stream(Reply::Stream(long.into()));
    let run = spar_with_env(&place.practice(&[]), "/end\n", &model_env(&fake, &place));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let label = lines
        .iter()
        .position(|l| l.ends_with("] Dr. Priya Raman"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let body: Vec<&str> = lines[label + 1..]
        .iter()
        .take_while(|l| l.starts_with("    "))
        .copied()
        .collect();
    assert!(body.len() > 1, "{}", run.stdout);
    assert!(body.iter().all(|l| l.chars().count() <= 88), "{body:#?}");
    let words: Vec<&str> = body.iter().flat_map(|l| l.split_whitespace()).collect();
    assert_eq!(words.join(" "), long, "no word is broken or lost");
}

#[test]
fn warnings_go_to_the_log_file_and_the_screen_gets_one_notice() {
    let place = Place::new();
    let fake = FakeOpenAi::start();
    for _ in 0..3 {
        fake.stream(Reply::Status(500, None));
    }
    let mut env = model_env(&fake, &place);
    env.push(("SPAR_LLM_MAX_ATTEMPTS", "3"));
    let run = spar_with_env(
        &place.practice(&[]),
        "What is driving the release date for you?\n/end\n",
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "", "no log line on the screen");
    assert_eq!(
        run.stdout
            .matches("Something went wrong behind the scenes")
            .count(),
        1,
        "{}",
        run.stdout
    );
    let log =
        std::fs::read_to_string(place.dir.path().join("data/spar/spar.log")).expect("the log file");
    assert!(log.contains("antagonist call failed"), "{log}");
    assert!(!log.contains('\x1b'), "no colour in a file: {log}");

    // Asked for, the log goes to stderr, and without colour into a pipe.
    for _ in 0..3 {
        fake.stream(Reply::Status(500, None));
    }
    env.push(("SPAR_LOG", "warn"));
    let asked = spar_with_env(&place.practice(&[]), "/end\n", &env);
    assert!(
        asked.stderr.contains("antagonist call failed"),
        "{}",
        asked.stderr
    );
    assert!(!asked.stderr.contains('\x1b'), "{}", asked.stderr);
    assert!(!asked.stdout.contains('\x1b'), "{}", asked.stdout);
}

/// Starts a drill in a process that is then killed mid-conversation, as a closed window
/// or a crash ends it.
fn drill_left_running(place: &Place) {
    let mut running = Running::piped(&place.practice(&[]), &place.env());
    running.type_keys("What is driving the release date for you?\n");
    running.expect("Dr. Priya Raman\n");
    running.expect("Dr. Priya Raman\n");
    running.kill();
    assert_eq!(place.history()["drills"][0]["phase"], "live");
}

#[test]
fn a_drill_whose_process_died_is_ended_and_scored_as_abandoned_at_the_next_start() {
    let place = Place::new();
    drill_left_running(&place);
    let next = spar_with_env(&place.practice(&[]), "/end\n", &place.env());
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert!(
        next.stdout
            .contains("was left unfinished; it is ended as abandoned and scored"),
        "{}",
        next.stdout
    );
    let history = place.history();
    let left = &history["drills"][1];
    assert_eq!(left["phase"], "abandoned", "{history}");
    assert!(
        left["overall"].is_u64(),
        "scored on what was said: {history}"
    );
    let text = spar_with_env(&["history", "--database-url", &place.url], "", &place.env());
    assert!(text.stdout.contains("(abandoned)"), "{}", text.stdout);
    assert!(!text.stdout.contains("(live)"), "{}", text.stdout);
}

#[test]
fn a_drill_another_process_still_runs_is_left_alone() {
    let place = Place::new();
    let mut running = Running::piped(&place.practice(&[]), &place.env());
    running.type_keys("What is driving the release date for you?\n");
    running.expect("Dr. Priya Raman\n");
    running.expect("Dr. Priya Raman\n");
    let other = spar_with_env(&place.practice(&[]), "/end\n", &place.env());
    assert!(
        !other.stdout.contains("left unfinished"),
        "{}",
        other.stdout
    );
    running.type_keys("/end\n");
    let run = running.finish();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("Overall: "), "{}", run.stdout);
}

#[test]
fn a_drill_whose_process_died_can_be_taken_up_again() {
    let place = Place::new();
    drill_left_running(&place);
    let mut term = Running::on_terminal(&place.practice(&[]), &place.env(), None);
    term.expect("Take it up again? [y/N] ");
    term.type_keys("y\n");
    // What was said is shown again, and the conversation goes on.
    term.expect("What is driving the release date for you?");
    term.expect("You › ");
    term.type_keys("Could we agree on one benchmark config together?\n");
    term.expect("You › ");
    term.type_keys("/end\n");
    let run = term.finish();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("Overall: "), "{}", run.stdout);
    let history = place.history();
    let drills = history["drills"].as_array().expect("drills");
    assert_eq!(drills.len(), 1, "the same drill, not a new one: {history}");
    assert_eq!(drills[0]["phase"], "debriefed");
    let drill = place.last_drill();
    let said: Vec<&str> = drill["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .filter(|t| t["role"] == "candidate")
        .filter_map(|t| t["text"].as_str())
        .collect();
    assert_eq!(
        said,
        [
            "What is driving the release date for you?",
            "Could we agree on one benchmark config together?"
        ]
    );
}

#[test]
fn the_scenario_picker_fits_a_narrow_terminal_without_breaking_words() {
    let library = ScenarioLibrary::embedded().expect("scenarios");
    for columns in [40u16, 64] {
        let mut term = Running::on_terminal(&["practice", "--no-save"], &[], Some(columns));
        term.expect("number or id › ");
        let screen = term.screen();
        term.kill();
        let list = &screen[screen.find("Pick a scenario:").expect("the list")..];
        let list = &list[..list.find("number or id").expect("the prompt")];
        let plain: String = {
            // Colour codes take no room on the screen.
            let mut out = String::new();
            let mut chars = list.chars();
            while let Some(c) = chars.next() {
                if c == '\x1b' {
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            out
        };
        for line in plain.lines() {
            assert!(
                line.chars().count() <= usize::from(columns),
                "{columns} columns: {line:?}"
            );
        }
        let words: Vec<&str> = plain.split_whitespace().collect();
        for scenario in library.iter() {
            assert!(words.contains(&scenario.id.as_str()), "{}", scenario.id);
            for word in scenario.title.split_whitespace() {
                assert!(
                    words.contains(&word),
                    "{word:?} broken at {columns}:\n{plain}"
                );
            }
        }
    }
}

#[test]
fn an_exported_debrief_reads_as_spar_score_prints_it_with_the_people_named() {
    let place = Place::new();
    let reply = "I hear you, the quality win is real. What would you need to see to be convinced \
                 the regression matters?";
    let run = spar_with_env(
        &place.practice(&[]),
        &format!("{reply}\n/end\n"),
        &place.env(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let drill = place.last_drill();
    let id = drill["id"].as_str().expect("an id");
    let export = spar(
        &[
            "export",
            "--drill",
            id,
            "--format",
            "markdown",
            "--database-url",
            &place.url,
        ],
        "",
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    let md = export.stdout;
    // The same drill scored again prints the same debrief, laid out the same way.
    let score = spar(
        &["score", "-", "--format", "markdown"],
        &serde_json::to_string(&drill).expect("JSON"),
    );
    assert_eq!(score.code, 0, "{}", score.stderr);
    assert!(score.stdout.starts_with("## Debrief: "), "{}", score.stdout);
    assert!(md.ends_with(&score.stdout), "{md}\n---\n{}", score.stdout);
    // The people as the scenario names them: the persona, and the person practising.
    assert!(md.starts_with("# The 40% latency regression\n"), "{md}");
    assert!(md.contains("**Dr. Priya Raman** (0:00): "), "{md}");
    assert!(md.contains("**ana** ("), "{md}");
    assert!(
        !md.contains("**Antagonist**") && !md.contains("**Candidate**"),
        "{md}"
    );
    // Every dimension the drill showed has its evidence; a missed move has no empty quote.
    let curiosity = md
        .lines()
        .find(|l| l.starts_with("| curiosity |"))
        .expect("a curiosity row");
    assert!(
        curiosity.contains("What would you need to see"),
        "{curiosity}"
    );
    assert!(md.contains("- **missed: next step**\n"), "{md}");
    assert!(!md.contains("\"\"") && !md.contains("“”"), "{md}");
    assert!(
        !md.contains("no_process") && !md.contains("evidence_both_ways"),
        "{md}"
    );
}
