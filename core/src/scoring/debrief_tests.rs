//! The debrief agrees with itself: over every drill of the development set (all of `eval/`
//! but the holdout), strengths quote sentences that make their move, the summary never asks
//! for a move the strengths show and names a strongest dimension only when a move shows it,
//! a line cut off before it was sent changes nothing, and every label reads as words.

use super::*;

static SCORER: std::sync::LazyLock<Result<Scorer, LexiconError>> =
    std::sync::LazyLock::new(Scorer::embedded);

fn scorer() -> &'static Scorer {
    match &*SCORER {
        Ok(s) => s,
        Err(e) => panic!("the embedded scoring data must load: {e}"),
    }
}

/// Every transcript of the development set, with its id. The holdout stays out: nothing is
/// measured or tuned on it but the scorer's recall.
fn dev_set() -> Vec<(String, Transcript)> {
    let files = [
        ("cases", include_str!("../../../eval/cases.jsonl")),
        ("chat-1", include_str!("../../../eval/chat-1.jsonl")),
        ("chat-2", include_str!("../../../eval/chat-2.jsonl")),
        ("formal-1", include_str!("../../../eval/formal-1.jsonl")),
        ("formal-2", include_str!("../../../eval/formal-2.jsonl")),
        ("phrasings", include_str!("../../../eval/phrasings.jsonl")),
        ("tiers-1", include_str!("../../../eval/tiers-1.jsonl")),
    ];
    let mut out = Vec::new();
    for (file, text) in files {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: serde_json::Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => panic!("eval/{file}.jsonl line {}: {e}", i + 1),
            };
            let id = value["id"].as_str().unwrap_or("?").to_string();
            match Transcript::from_value(&value) {
                Ok(t) => out.push((format!("{file}/{id}"), t)),
                Err(e) => panic!("eval/{file}.jsonl line {}: {e}", i + 1),
            }
        }
    }
    assert!(
        out.len() > 900,
        "the development set has {} drills",
        out.len()
    );
    out
}

fn scored() -> Vec<(String, Transcript, Scorecard)> {
    dev_set()
        .into_iter()
        .map(|(id, t)| {
            let card = scorer().score(&t);
            (id, t, card)
        })
        .collect()
}

fn has(signals: Signals, kind: Move) -> bool {
    match kind {
        Move::Question => signals.question,
        Move::Acknowledgement => signals.acknowledges,
        Move::SharedGoal => signals.shared_goal,
        Move::AsksOtherEvidence => signals.asks_other_evidence,
        Move::OwnEvidence => signals.states_own_evidence,
        Move::Process => signals.proposes_process,
        Move::ConditionalJointEscalation => signals.conditional_joint_escalation,
    }
}

#[test]
fn every_strength_quotes_a_sentence_of_its_turn_that_makes_its_move() {
    let mut checked = 0;
    for (id, t, card) in scored() {
        let mut kinds = Vec::new();
        for s in &card.strengths {
            let kind = s.kind.unwrap_or_else(|| panic!("{id}: {s:?} has no kind"));
            assert!(!kinds.contains(&kind), "{id}: {kind:?} credited twice");
            kinds.push(kind);
            assert_eq!(s.label, kind.label(), "{id}");
            let turn = s.turn.and_then(|n| t.turns.get(n - 1));
            let turn = turn.unwrap_or_else(|| panic!("{id}: {s:?} names no turn"));
            assert!(
                turn.role == crate::transcript::Role::Candidate && !turn.cut_off,
                "{id}: {s:?}"
            );
            assert_eq!(s.at_s, Some(turn.at_s), "{id}");
            assert!(turn.text.contains(&s.quote), "{id}: {s:?} not in {turn:?}");
            let scenario = t.scenario.as_deref().unwrap_or("");
            assert!(
                has(scorer().signals_in(&s.quote, scenario), kind),
                "{id}: {:?} does not make the move {kind:?}",
                s.quote
            );
            checked += 1;
        }
        let times: Vec<usize> = card.strengths.iter().filter_map(|s| s.turn).collect();
        assert!(times.is_sorted(), "{id}: strengths out of order {times:?}");
    }
    assert!(checked > 1000, "only {checked} strengths checked");
}

#[test]
fn a_plan_is_quoted_for_the_plan_not_for_the_goal_that_mentions_it() {
    let goal = "I'd love the QA gain to reach users, but our replay at 2,000 QPS puts p99 at 196 ms against the 150 ms SLO.";
    let plan = "I'd propose a 5% canary with an automatic rollback if p99 crosses 155.";
    let t = Transcript {
        scenario: Some("latency-regression".into()),
        turns: vec![
            crate::transcript::Turn {
                role: crate::transcript::Role::Antagonist,
                at_s: 0.0,
                text: "Per my note to the VP, xattn-v3 is in the release.".into(),
                cut_off: false,
            },
            crate::transcript::Turn {
                role: crate::transcript::Role::Candidate,
                at_s: 40.0,
                text: format!("Hi Priya, thanks for the heads-up. {goal} {plan}"),
                cut_off: false,
            },
        ],
    };
    let card = scorer().score(&t);
    let quote = |kind: Move| {
        card.strengths
            .iter()
            .find(|s| s.kind == Some(kind))
            .map(|s| s.quote.as_str())
    };
    assert_eq!(quote(Move::Process), Some(plan), "{:#?}", card.strengths);
    assert_eq!(quote(Move::SharedGoal), Some(goal), "{:#?}", card.strengths);

    // A measurement said while naming the goal and asking, then the plan in a turn of its own.
    let said = |role, at_s, text: &str| crate::transcript::Turn {
        role,
        at_s,
        text: text.into(),
        cut_off: false,
    };
    use crate::transcript::Role::{Antagonist, Candidate};
    // The next step a debrief quotes: the sentence its process strength stands on.
    let quotes_as_next_step = |t: &Transcript, plan: &str| {
        let card = scorer().score(t);
        let process = card
            .strengths
            .iter()
            .find(|s| s.kind == Some(Move::Process));
        assert_eq!(
            process.map(|s| s.quote.as_str()),
            Some(plan),
            "{:#?}",
            card.strengths
        );
    };
    let plan = "Let's agree one benchmark config together, production batch sizes on the same v5e pool, run both builds this week, and decide Friday on those numbers.";
    let t = Transcript {
        scenario: Some("latency-regression".into()),
        turns: vec![
            said(Antagonist, 0.0, "It's going in the release."),
            said(
                Candidate,
                60.0,
                "We both want the quality win to reach users without the assistant feeling slower. My replay at 2,000 QPS puts p99 at 196 ms against a 150 ms budget. What would you need to see to believe that regression is real?",
            ),
            said(Antagonist, 61.0, "Batch size 1, one host."),
            said(Candidate, 150.0, plan),
        ],
    };
    quotes_as_next_step(&t, plan);

    // An early offer, then the plan it grew into, which also says what would change the
    // speaker's mind: the plan is what the next step quotes.
    let plan = "Could we agree on a shared benchmark this week, then a 5% canary with a rollback rule: if p99 stays over 150 for an hour we roll back?";
    let t = Transcript {
        scenario: Some("latency-regression".into()),
        turns: vec![
            said(Antagonist, 0.0, "It's going in the release."),
            said(
                Candidate,
                30.0,
                "What would you need to see to believe the regression is real? I'm happy to run it on a config you choose.",
            ),
            said(Antagonist, 31.0, "We profiled it at batch size 1."),
            said(Candidate, 90.0, plan),
        ],
    };
    quotes_as_next_step(&t, plan);
}

#[test]
fn strengths_share_a_sentence_only_when_no_other_sentence_makes_the_move() {
    let at = |turn| Moment {
        turn,
        at_s: turn as f64 * 10.0,
    };
    let credit = |kind, turn, quote: &str, others| Credit {
        kind,
        at: at(turn),
        quote: quote.into(),
        others,
        move_others: 0,
    };
    let credits = [
        credit(
            Move::SharedGoal,
            2,
            "We both want it fast; a canary would do.",
            1,
        ),
        credit(
            Move::Process,
            2,
            "We both want it fast; a canary would do.",
            1,
        ),
        credit(Move::Acknowledgement, 2, "Fair point.", 0),
        credit(Move::Process, 4, "Let's run a 5% canary on Friday.", 0),
        credit(Move::Question, 6, "Why Friday?", 0),
        credit(Move::Question, 6, "Why not Monday?", 0),
    ];
    let quoted: Vec<(Move, String)> = strengths(&credits)
        .into_iter()
        .map(|s| (s.kind.unwrap_or(Move::Question), s.quote))
        .collect();
    assert_eq!(
        quoted,
        vec![
            (
                Move::SharedGoal,
                "We both want it fast; a canary would do.".into()
            ),
            (Move::Acknowledgement, "Fair point.".into()),
            (Move::Process, "Let's run a 5% canary on Friday.".into()),
            (Move::Question, "Why Friday?".into()),
        ]
    );
    // With nothing else to quote, two moves of one sentence both quote it.
    let alone = strengths(&credits[..2]);
    assert_eq!(alone.len(), 2);
    assert_eq!(alone[0].quote, alone[1].quote);
    // Of two sentences doing only this, the one from the turn most about it.
    let mut busy = credit(Move::Process, 2, "My replay puts p99 at 196 ms.", 0);
    busy.move_others = 2;
    let plan = credit(Move::Process, 4, "Let's agree one benchmark config.", 0);
    let chosen = strengths(&[busy, plan]);
    assert_eq!(chosen[0].quote, "Let's agree one benchmark config.");
}

/// Words that ask for a move, written here apart from the advice so the test does not
/// check the advice against itself.
fn asks_for(kind: Move) -> &'static [&'static str] {
    match kind {
        Move::Question => &["ask about their reasoning", "ask what is driving"],
        Move::Acknowledgement => &["understand or accept", "credit what is real"],
        Move::SharedGoal => &["goal"],
        Move::AsksOtherEvidence => &["change their mind", "convince them"],
        Move::OwnEvidence => &["change your own mind", "convince you", "would move you"],
        Move::Process => &["next step", "shared test", "benchmark", "decision rule"],
        Move::ConditionalJointEscalation => &["joint, conditional"],
    }
}

fn next_time(summary: &str) -> &str {
    summary.rsplit("Next time").next().unwrap_or("")
}

#[test]
fn next_time_never_asks_for_a_move_the_strengths_list_shows() {
    let mut advised = 0;
    for (id, _, card) in scored() {
        assert!(card.summary.contains("Next time"), "{id}: {}", card.summary);
        let advice = next_time(&card.summary).to_lowercase();
        for s in &card.strengths {
            let Some(kind) = s.kind else { continue };
            for words in asks_for(kind) {
                assert!(
                    !advice.contains(words),
                    "{id}: \"{}\" asks for {kind:?}, which the strengths show: {:?}",
                    card.summary,
                    s.quote
                );
            }
        }
        advised += 1;
    }
    assert!(advised > 900);
}

#[test]
fn a_drill_that_made_every_move_is_not_told_to_make_one_again() {
    let tiers = match eval::parse_tiers(include_str!("../../../eval/tiers-1.jsonl")) {
        Ok(t) => t,
        Err(e) => panic!("eval/tiers-1.jsonl must parse: {e}"),
    };
    let strong = tiers
        .iter()
        .map(|c| scorer().score(&c.transcript))
        .find(|card| card.flags.is_empty() && card.strengths.len() >= 6)
        .expect("a strong tier drill with every move and no flag");
    assert!(
        strong.summary.ends_with(&scorer().feedback.summary.keep),
        "{}",
        strong.summary
    );
}

/// The dimension the summary names as strongest, if any.
fn strongest(card: &Scorecard) -> Option<DimensionName> {
    DimensionName::ALL.into_iter().find(|d| {
        let score = card
            .dimensions
            .iter()
            .find(|x| x.name == *d)
            .map_or(0, |x| x.score)
            .to_string();
        card.summary.contains(&feedback::fill(
            &scorer().feedback.summary.strongest,
            &[("dimension", d.label()), ("score", &score)],
        ))
    })
}

#[test]
fn the_strongest_dimension_is_named_only_for_a_move_the_drill_shows() {
    let (mut named, mut unnamed) = (0, 0);
    for (id, _, card) in scored() {
        let shown: Vec<DimensionName> = card
            .strengths
            .iter()
            .filter_map(|s| s.kind)
            .flat_map(|m| m.dimensions().iter().copied())
            .collect();
        match strongest(&card) {
            Some(d) => {
                named += 1;
                assert!(shown.contains(&d), "{id}: {d} named, shown {shown:?}");
                let score = |n: DimensionName| {
                    card.dimensions
                        .iter()
                        .find(|x| x.name == n)
                        .map_or(0, |x| x.score)
                };
                assert!(
                    shown.iter().all(|&o| score(o) <= score(d)),
                    "{id}: {d} is not the strongest of {shown:?}"
                );
            }
            None => {
                unnamed += 1;
                assert!(
                    card.summary
                        .contains(&scorer().feedback.summary.no_strength),
                    "{id}: {}",
                    card.summary
                );
                assert!(
                    shown
                        .iter()
                        .all(|&d| card.dimensions.iter().any(|x| x.name == d && x.score == 0)),
                    "{id}: {shown:?} shown but no dimension named: {}",
                    card.summary
                );
            }
        }
    }
    assert!(named > 100 && unnamed > 10, "{named} named, {unnamed} not");
    // One quiet sentence shows nothing to be strong at, whatever composure's bar says.
    let quiet = Transcript::from_json(
        r#"{"turns":[{"role":"antagonist","at_s":0,"text":"It ships Friday."},
                     {"role":"candidate","at_s":20,"text":"Okay."}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let card = scorer().score(&quiet);
    assert_eq!(strongest(&card), None, "{}", card.summary);
}

#[test]
fn a_line_cut_off_before_it_was_sent_changes_nothing_in_any_debrief() {
    // Every good move at once, typed and never sent.
    let fragment = "I hear you, and we both want users to get the win. What would you need to see \
                    to be convinced? If the fused kernel keeps p99 under 150 I'll back it. Let's \
                    run both builds on the canary this week and decide Friday on the numbers";
    for (id, t, card) in scored().into_iter().step_by(3) {
        let mut cut = t.clone();
        let at_s = cut.turns.last().map_or(0.0, |t| t.at_s) + 5.0;
        cut.turns.push(crate::transcript::Turn {
            role: crate::transcript::Role::Candidate,
            at_s,
            text: fragment.into(),
            cut_off: true,
        });
        assert_eq!(scorer().score(&cut), card, "{id}");
    }
}

#[test]
fn every_label_reads_as_words_and_names_one_thing() {
    let mut seen = std::collections::BTreeSet::new();
    let flags = FlagKind::ALL.map(FlagKind::label);
    let dims = DimensionName::ALL.map(DimensionName::label);
    let moves = Move::ALL.map(Move::label);
    for label in flags.iter().chain(&dims).chain(&moves) {
        assert!(!label.trim().is_empty());
        assert!(!label.contains('_'), "{label:?}");
        assert!(seen.insert(label.to_string()), "{label:?} names two things");
    }
    for kind in FlagKind::ALL {
        let label = kind.label();
        if kind.is_missed_move() {
            let what = label.strip_prefix("missed: ");
            assert!(
                what.is_some_and(|w| !w.starts_with("no ")),
                "{kind}: {label:?}"
            );
        } else {
            assert!(!label.starts_with("missed"), "{kind}: {label:?}");
        }
    }
}

#[test]
fn rendered_debriefs_use_the_labels_and_never_the_machine_names() {
    let machine: Vec<&str> = FlagKind::ALL
        .iter()
        .map(|k| k.as_str())
        .chain(DimensionName::ALL.iter().map(|d| d.as_str()))
        .filter(|n| n.contains('_'))
        .collect();
    for (id, _, card) in scored().into_iter().step_by(7) {
        for text in [render::render_text(&card), render::render_markdown(&card)] {
            for name in &machine {
                assert!(!text.contains(name), "{id}: {name} in\n{text}");
                assert!(
                    !text.contains(&name.replace('_', " ")) || !name.starts_with("no_"),
                    "{id}: {name} spelled out in\n{text}"
                );
            }
            assert!(!text.contains("missed no"), "{id}:\n{text}");
            for flag in &card.flags {
                assert!(text.contains(flag.kind.label()), "{id}: {}", flag.kind);
            }
            for d in &card.dimensions {
                assert!(text.contains(d.name.label()), "{id}: {}", d.name);
            }
        }
    }
}

#[test]
fn markdown_fills_the_evidence_column_and_shows_no_empty_quote() {
    let mut rows = 0;
    for (id, _, card) in scored().into_iter().step_by(5) {
        let md = render::render_markdown(&card);
        assert!(!md.contains("\"\""), "{id}: an empty quote in\n{md}");
        for d in &card.dimensions {
            let row = md
                .lines()
                .find(|l| l.starts_with(&format!("| {} |", d.name.label())))
                .unwrap_or_else(|| panic!("{id}: no row for {}\n{md}", d.name));
            let evidence = row.rsplit('|').nth(1).unwrap_or("").trim();
            assert_eq!(evidence.is_empty(), d.evidence.is_empty(), "{id}: {row}");
            rows += usize::from(!evidence.is_empty());
        }
        for flag in card.flags.iter().filter(|f| f.kind.is_missed_move()) {
            let line = format!("- **{}**\n", flag.kind.label());
            assert!(md.contains(&line), "{id}: {line:?} in\n{md}");
        }
    }
    assert!(rows > 50, "only {rows} evidence cells filled");
}

#[test]
fn strengths_kept_as_lines_by_older_scorecards_still_read() {
    let old = serde_json::json!({
        "overall": 70, "flags": [], "dimensions": [], "summary": "s", "notes": [],
        "strengths": ["Named a shared goal: \"We both want it to land.\"", "Stayed calm"]
    });
    let card: Scorecard = serde_json::from_value(old).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(card.strengths[0].kind, Some(Move::SharedGoal));
    assert_eq!(card.strengths[0].quote, "We both want it to land.");
    assert_eq!(
        (card.strengths[1].kind, card.strengths[1].label.as_str()),
        (None, "Stayed calm")
    );
    let text = render::render_text(&card);
    assert!(
        text.contains("Named a shared goal: \"We both want it to land.\""),
        "{text}"
    );
    assert!(text.contains("Stayed calm\n"), "{text}");
}
