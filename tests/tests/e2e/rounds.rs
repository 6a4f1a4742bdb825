//! `spar rounds simulate`: the pairing's public contract, run as the real binary.

use crate::cli::spar;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn simulate(args: &[&str]) -> Value {
    let mut all = vec!["rounds", "simulate"];
    all.extend_from_slice(args);
    let run = spar(&all, "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON out")
}

fn name(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

#[test]
fn simulate_json_has_the_documented_shape_and_groups_everyone_once_a_round() {
    let out = simulate(&[
        "--members",
        "13",
        "--rounds",
        "3",
        "--seed",
        "7",
        "--format",
        "json",
    ]);
    let rounds = out["rounds"].as_array().expect("rounds");
    assert_eq!(rounds.len(), 3);
    let everyone: BTreeSet<String> = (1..=13).map(|i| format!("m{i}")).collect();
    let mut last_role: BTreeMap<String, &str> = BTreeMap::new();
    let mut partners: BTreeSet<(String, String)> = BTreeSet::new();
    for round in rounds {
        let groups = round["groups"].as_array().expect("groups");
        let mut seen = BTreeSet::new();
        let mut trios = 0;
        let mut roles = BTreeMap::new();
        for group in groups {
            let fields: BTreeSet<&str> = group
                .as_object()
                .expect("a group object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                fields,
                BTreeSet::from(["candidate", "antagonist", "observer"])
            );
            let candidate = name(&group["candidate"]).expect("a candidate");
            let antagonist = name(&group["antagonist"]).expect("an antagonist player");
            if let Some(observer) = name(&group["observer"]) {
                trios += 1;
                assert!(seen.insert(observer));
            } else {
                assert!(group["observer"].is_null());
            }
            let pair = if candidate < antagonist {
                (candidate.clone(), antagonist.clone())
            } else {
                (antagonist.clone(), candidate.clone())
            };
            // Thirteen members over three rounds: everyone still has most of the group to
            // meet, so no pair repeats.
            assert!(partners.insert(pair), "a repeated pair in {round}");
            assert!(seen.insert(candidate.clone()));
            assert!(seen.insert(antagonist.clone()));
            roles.insert(candidate, "candidate");
            roles.insert(antagonist, "antagonist");
        }
        assert_eq!(seen, everyone);
        assert_eq!(trios, 1, "thirteen members make one trio");
        // Whoever was candidate plays the antagonist next, and the
        // other way round, unless both in a pair played the same role last time.
        let swapped = roles
            .iter()
            .filter(|(m, role)| last_role.get(*m).is_some_and(|before| before != *role))
            .count();
        let kept = roles
            .iter()
            .filter(|(m, role)| last_role.get(*m).is_some_and(|before| before == *role))
            .count();
        assert!(kept <= swapped, "{kept} kept their role, {swapped} swapped");
        last_role = roles;
    }
}

#[test]
fn the_same_seed_prints_the_same_rounds_and_another_seed_other_ones() {
    let args = [
        "--members",
        "12",
        "--rounds",
        "3",
        "--seed",
        "5",
        "--format",
        "json",
    ];
    assert_eq!(simulate(&args), simulate(&args));
    let other = [
        "--members",
        "12",
        "--rounds",
        "3",
        "--seed",
        "6",
        "--format",
        "json",
    ];
    assert_ne!(simulate(&args), simulate(&other));
}

#[test]
fn simulate_text_lists_each_round_with_roles_and_says_why_someone_is_left_out() {
    let run = spar(
        &["rounds", "simulate", "--members", "3", "--rounds", "2"],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert_eq!(lines[0], "round 1");
    assert!(lines[1].contains("(candidate)") && lines[1].contains("observing"));
    assert_eq!(lines[2], "round 2");
    let alone = spar(
        &["rounds", "simulate", "--members", "1", "--rounds", "1"],
        "",
    );
    assert!(
        alone.stdout.contains("m1: nobody else was waiting"),
        "{}",
        alone.stdout
    );
    let json = simulate(&["--members", "1", "--rounds", "1", "--format", "json"]);
    assert_eq!(json["rounds"][0]["groups"], Value::Array(vec![]));
    assert_eq!(json["rounds"][0]["left_out"][0]["reason"], "no_partner");
}

#[test]
fn simulate_needs_members_and_rounds() {
    let run = spar(&["rounds", "simulate", "--rounds", "2"], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--members"), "{}", run.stderr);
}
