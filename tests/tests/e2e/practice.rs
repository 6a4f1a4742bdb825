//! `spar practice` and `spar scenarios`, driven through piped input.

use crate::cli::spar;
use spar_core::ScenarioLibrary;

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
        run.stdout.contains("8:00 left, 40 replies left."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("unknown command /dance"),
        "{}",
        run.stdout
    );
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
