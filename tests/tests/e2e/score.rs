//! `spar score` and `spar eval`: the scorecard contract other tools rely on, and the
//! scorer's measured accuracy.

use crate::cli::{spar, spar_with_env};
use std::path::PathBuf;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

/// The shared evaluation data sits beside the repository; where it is absent (a lone
/// checkout) the tests that need it say so and stop.
fn shared(name: &str) -> Option<PathBuf> {
    let path = repo("../shared/eval").join(name);
    if path.exists() {
        Some(path)
    } else {
        println!("skipped: {} is not present", path.display());
        None
    }
}

const ESCALATION: &str = r#"{"scenario":"latency-regression","turns":[
  {"role":"antagonist","at_s":0,"text":"It ships next release."},
  {"role":"candidate","at_s":42.5,"text":"I'm going to escalate this to my manager."}]}"#;

#[test]
fn score_json_has_the_documented_shape() {
    let run = spar(&["score", "-", "--format", "json"], ESCALATION);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let card: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON out");
    assert!(card["overall"].as_u64().is_some_and(|o| o <= 100));
    let flag = card["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "premature_escalation")
        .expect("flagged");
    assert_eq!(flag["turn"], 2);
    assert_eq!(flag["at_s"], 42.5);
    assert_eq!(flag["quote"], "I'm going to escalate this to my manager.");
    assert!(flag["why"].as_str().is_some_and(|w| !w.is_empty()));
    assert!(flag["try_instead"].as_str().is_some_and(|w| !w.is_empty()));
    let missed = card["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "no_process")
        .expect("missed move");
    assert!(missed["turn"].is_null() && missed["at_s"].is_null() && missed["quote"].is_null());
    assert_eq!(card["dimensions"].as_array().unwrap().len(), 7);
    assert!(card["summary"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn score_text_shows_timestamps_and_markdown_is_markdown() {
    let text = spar(&["score", "-"], ESCALATION);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("0:42"), "{}", text.stdout);
    let md = spar(&["score", "-", "--format", "markdown"], ESCALATION);
    assert!(md.stdout.starts_with('#'), "{}", md.stdout);
}

#[test]
fn bad_transcripts_exit_2_with_where_the_problem_is() {
    let cases = [
        (
            r#"{"turns":[{"role":"antagonist","at_s":0,"text":"a"},{"role":"candidate","at_s":40,"text":"b"},{"role":"candidate","at_s":12,"text":"c"}]}"#,
            "turn 3: at_s 12 is earlier than turn 2's 40",
        ),
        (
            "{\n\"turns\": [\n\n  {\"role\": }\n]}",
            "not JSON at line 4 column 12",
        ),
        (
            r#"{"turns":[{"role":"judge","at_s":0,"text":"a"}]}"#,
            "turn 1: unknown role \"judge\"",
        ),
        (
            r#"{"turns":[{"role":"candidate","at_s":-3,"text":"a"}]}"#,
            "turn 1: at_s -3",
        ),
        (r#"[1,2]"#, "must be a JSON object"),
    ];
    for (input, message) in cases {
        let run = spar(&["score", "-"], input);
        assert_eq!(run.code, 2, "{input}");
        assert!(run.stderr.contains(message), "{input}: {}", run.stderr);
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "one sentence: {}",
            run.stderr
        );
    }
}

#[test]
fn a_missing_file_exits_2_naming_it() {
    let run = spar(&["score", "/no/such/transcript.json"], "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("/no/such/transcript.json"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_scorer_meets_its_f1_target_on_our_labelled_drills() {
    let cases = repo("eval/cases.jsonl");
    let run = spar_with_env(
        &["eval", cases.to_str().unwrap(), "--min-f1", "0.9"],
        "",
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("micro-F1"), "{}", run.stdout);
}

/// Cases written from the flag definitions alone, without reading the scorer, in every
/// scenario and register; what they exposed was fixed with general rules, and they keep it so.
#[test]
fn the_scorer_holds_on_cases_written_without_reading_it() {
    let cases = repo("eval/phrasings.jsonl");
    let run = spar_with_env(
        &["eval", cases.to_str().unwrap(), "--min-f1", "0.95"],
        "",
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Sets written by independent writers in chat register (`chat-1`, `chat-2`), formal register
/// (`formal-1`, `formal-2`) and as whole drills of three tiers (`tiers-1`, whose flags are
/// labelled too), measured when they arrived and then tuned on with general rules; they keep
/// those rules from slipping.
#[test]
fn the_scorer_holds_on_the_independent_chat_and_formal_sets_it_was_tuned_on() {
    for set in [
        "eval/chat-1.jsonl",
        "eval/formal-1.jsonl",
        "eval/tiers-1.jsonl",
        "eval/chat-2.jsonl",
        "eval/formal-2.jsonl",
    ] {
        let cases = repo(set);
        let run = spar_with_env(
            &["eval", cases.to_str().unwrap(), "--min-f1", "0.95"],
            "",
            &[],
        );
        assert_eq!(run.code, 0, "{set}: {}{}", run.stdout, run.stderr);
    }
}

#[test]
fn the_scorer_meets_its_f1_target_on_the_shared_chat_dev_set() {
    let Some(dev) = shared("chat_dev.jsonl") else {
        return;
    };
    let run = spar_with_env(
        &["eval", dev.to_str().unwrap(), "--min-f1", "0.95"],
        "",
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Cases written from the flag definitions alone and never used to tune the scorer: how it
/// does on phrasings nobody wrote its patterns for. 0.849 when they were added; the floor keeps
/// later changes from trading generality away.
#[test]
fn the_scorer_generalises_to_cases_it_was_never_tuned_on() {
    let cases = repo("eval/holdout.jsonl");
    let run = spar_with_env(
        &["eval", cases.to_str().unwrap(), "--min-f1", "0.8"],
        "",
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn the_scorer_meets_its_f1_target_on_the_shared_dev_set() {
    let Some(dev) = shared("dev.jsonl") else {
        return;
    };
    let run = spar_with_env(
        &["eval", dev.to_str().unwrap(), "--min-f1", "0.95"],
        "",
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_malformed_eval_file_names_its_line() {
    let run = spar(
        &["eval", "-"],
        "{\"id\":\"a\",\"turns\":[],\"expect\":{}}\nnot json\n",
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
}

/// The model is fitted on even ids only; odd ids are held out, and must reach 0.45.
#[test]
fn the_scorer_meets_its_receptiveness_target_on_held_out_ids() {
    let Some(rows) = shared("receptiveness.jsonl") else {
        return;
    };
    let run = spar_with_env(
        &[
            "eval",
            "--receptiveness",
            rows.to_str().unwrap(),
            "--min-rho",
            "0.45",
        ],
        "",
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("odd ids (held out)"), "{}", run.stdout);
}

#[test]
fn a_receptiveness_fit_writes_a_model_the_scorer_reads() {
    let mut rows = String::new();
    for id in 0..60 {
        let (text, rating) = if id % 3 == 0 {
            (
                "You never listen and this is a stupid plan.",
                -1.0 - f64::from(id) / 100.0,
            )
        } else {
            (
                "I see your point, and I appreciate the work.",
                1.0 + f64::from(id) / 100.0,
            )
        };
        rows.push_str(&format!(
            "{{\"id\": {id}, \"text\": \"{text}\", \"receptive\": {rating}}}\n"
        ));
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("model.toml");
    let run = spar(
        &[
            "eval",
            "--fit-receptiveness",
            "-",
            "--write-model",
            out.to_str().unwrap(),
        ],
        &rows,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("out-of-fold even rho"),
        "{}",
        run.stdout
    );
    let model = std::fs::read_to_string(&out).expect("the model was written");
    assert!(model.contains("[weights.opening]") && model.contains("[terms.whole]"));
    let parsed = spar_core::scoring::receptiveness::ReceptivenessModel::from_toml(&model)
        .expect("the written model parses");
    assert!(
        parsed
            .terms
            .iter()
            .any(|t| t.phrase == "appreciate" && t.weight > 0.0)
    );
}

#[test]
fn a_receptiveness_fit_of_a_broken_file_exits_2() {
    let run = spar(
        &["eval", "--fit-receptiveness", "-"],
        "{\"id\": 0, \"text\": 5}\n",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("line 1"), "{}", run.stderr);
}

/// A drill typed in Discord and Slack: mentions, channels, links, emoji and shortcodes,
/// emphasis, a quoted line, a zero-width space, shorthand and a run of short messages.
const CHAT_DRILL: &str = r#"{"scenario":"latency-regression","turns":[
  {"role":"antagonist","at_s":0,"text":"xattn-v3 ships thurs. pls dont start w/ the p99 thing"},
  {"role":"candidate","at_s":25,"text":"*congrats* on the +3.1 :tada: we both want ppl getting smarter answers w/o the app feeling laggy, right?"},
  {"role":"candidate","at_s":28,"text":"> dont start w/ the p99 thing\nnot trying to block u, i promise 🙏 what would it take for u to be ok w/ a smaller batch"},
  {"role":"antagonist","at_s":70,"text":"a prod-traffic run on real hosts. not ur laptop"},
  {"role":"candidate","at_s":110,"text":"fair. if the fused kernel holds p99 under 150 on that run im good w/ it shipping"},
  {"role":"candidate","at_s":114,"text":"canary 5% thurs w/ auto\u200b-rollback if p99 > 150 for 10 min, we review fri 10am? <#C42|serving-oncall> has the dashboard: <https://dash.example.com/p99|p99 panel>"}]}"#;

#[test]
fn score_reads_a_chat_drill_as_a_person_would() {
    let run = spar(&["score", "-", "--format", "json"], CHAT_DRILL);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let card: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON out");
    // Every move was made, in chat shorthand: no missed move and nothing harmful.
    assert_eq!(
        card["flags"].as_array().map(Vec::len),
        Some(0),
        "{}",
        run.stdout
    );
    assert!(
        card["overall"].as_u64().is_some_and(|o| o >= 75),
        "{}",
        run.stdout
    );
    // Strengths quote the text as typed, markup and all.
    let strengths = card["strengths"].to_string();
    assert!(
        strengths.contains("*congrats* on the +3.1 :tada:"),
        "{strengths}"
    );
}

#[test]
fn score_finds_an_appeal_upwards_made_by_mention_and_quotes_it_as_typed() {
    let drill = r#"{"scenario":"latency-regression","turns":[
      {"role":"antagonist","at_s":0,"text":"xattn-v3 ships thurs. pls dont start w/ the p99 thing"},
      {"role":"candidate","at_s":20,"text":"<@U03KMGR1> can u jump in here and make the call?"},
      {"role":"candidate","at_s":23,"text":"im go\u200bing over ur head on this one tbh"}]}"#;
    let run = spar(&["score", "-", "--format", "json"], drill);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let card: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON out");
    let flag = card["flags"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["kind"] == "premature_escalation"))
        .unwrap_or_else(|| panic!("flagged: {}", run.stdout));
    assert_eq!(flag["turn"], 2);
    assert_eq!(
        flag["quote"],
        "<@U03KMGR1> can u jump in here and make the call?"
    );
    // The two messages are one move: one flag, not two.
    let count = card["flags"].as_array().map_or(0, |f| {
        f.iter()
            .filter(|f| f["kind"] == "premature_escalation")
            .count()
    });
    assert_eq!(count, 1, "{}", run.stdout);
}
