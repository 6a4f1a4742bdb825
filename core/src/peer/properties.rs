//! Properties of pairing over many rounds, checked on random queues and histories: the same
//! seed gives the same groups, everyone is grouped exactly once, at most one trio, repeats
//! only when unavoidable (against a brute force over every grouping), and roles alternate
//! wherever the group allows it.

use super::pairing::{Entry, Group, OddOneOut, Pairing, Preference, pair};
use super::{History, round_seed};
use crate::transcript::Role;
use proptest::prelude::*;

/// The fewest repeated candidate–antagonist pairs any grouping of `members` can have: one
/// member sits out (observer or solo) when the count is odd.
fn fewest_repeats(members: &[&str], history: &History) -> u32 {
    fn matchings(rest: &[&str], history: &History) -> u32 {
        let Some((&a, tail)) = rest.split_first() else {
            return 0;
        };
        (0..tail.len())
            .map(|i| {
                let mut others = tail.to_vec();
                let b = others.remove(i);
                u32::from(history.met(a, b).is_some()) + matchings(&others, history)
            })
            .min()
            .unwrap_or(0)
    }
    if members.len() % 2 == 0 {
        matchings(members, history)
    } else {
        (0..members.len())
            .map(|i| {
                let mut rest = members.to_vec();
                rest.remove(i);
                matchings(&rest, history)
            })
            .min()
            .unwrap_or(0)
    }
}

fn repeats(pairing: &Pairing, history: &History) -> u32 {
    pairing
        .groups
        .iter()
        .filter_map(|g| g.antagonist.as_deref().map(|a| (g.candidate.as_str(), a)))
        .filter(|(c, a)| history.met(c, a).is_some())
        .count() as u32
}

/// Checks one round's groups against its queue; returns a description of the first breach.
fn grouping_breach(entries: &[Entry], pairing: &Pairing) -> Option<String> {
    let mut seen: Vec<&str> = pairing.groups.iter().flat_map(Group::members).collect();
    seen.extend(pairing.left_out.iter().map(|l| l.member.as_str()));
    seen.sort_unstable();
    let mut queued: Vec<&str> = entries.iter().map(|e| e.member.as_str()).collect();
    queued.sort_unstable();
    if seen != queued {
        return Some(format!("grouped {seen:?}, queued {queued:?}"));
    }
    let odd_seats = pairing
        .groups
        .iter()
        .filter(|g| g.is_trio() || g.is_solo())
        .count();
    let trios = pairing.groups.iter().filter(|g| g.is_trio()).count();
    if trios > 1 || odd_seats > usize::from(entries.len() % 2 == 1) {
        return Some(format!(
            "{trios} trios, {odd_seats} odd seats for {}",
            entries.len()
        ));
    }
    if !pairing.left_out.is_empty() && entries.len() != 1 {
        return Some(format!("left out {:?}", pairing.left_out));
    }
    None
}

/// A member who played candidate or antagonist in both rounds swapped, unless their
/// counterpart had played the same role last time (then only one of them can swap).
fn alternation_breach(pairing: &Pairing, history: &History) -> Option<String> {
    for g in &pairing.groups {
        let Some(antagonist) = g.antagonist.as_deref() else {
            continue;
        };
        let seats = [
            (g.candidate.as_str(), Role::Candidate, antagonist),
            (antagonist, Role::Antagonist, g.candidate.as_str()),
        ];
        for (member, now, counterpart) in seats {
            let before = history.last_role(member);
            if before == Some(now) && history.last_role(counterpart) != Some(now) {
                return Some(format!("{member} plays {now} twice in {g:?}"));
            }
        }
    }
    None
}

fn members_of(pool: usize, mask: u32, solo: u32) -> Vec<Entry> {
    (0..pool)
        .filter(|i| mask & (1 << i) != 0)
        .map(|i| {
            let mut e = Entry::peer(format!("m{}", i + 1));
            if solo & (1 << i) != 0 {
                e.preference = Preference::SoloIfNoPartner;
            }
            e
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn small_groups_over_many_rounds(
        pool in 1usize..=9,
        masks in prop::collection::vec(any::<u32>(), 1..8),
        solo in any::<u32>(),
        seed in any::<u64>(),
    ) {
        let mut history = History::new();
        for (round, mask) in masks.iter().enumerate() {
            let entries = members_of(pool, *mask, solo);
            let round_seed = round_seed(seed, round as u64);
            let pairing = pair(&entries, &history, round_seed, OddOneOut::Trio);
            prop_assert_eq!(&pairing, &pair(&entries, &history, round_seed, OddOneOut::Trio));
            prop_assert_eq!(grouping_breach(&entries, &pairing), None);
            let ids: Vec<&str> = entries.iter().map(|e| e.member.as_str()).collect();
            prop_assert_eq!(repeats(&pairing, &history), fewest_repeats(&ids, &history),
                "round {} of {:?}: {:?}", round, ids, pairing.groups);
            prop_assert_eq!(alternation_breach(&pairing, &history), None);
            history.record(&pairing.groups);
        }
    }

    #[test]
    fn large_queues_group_everyone_once_and_alternate(
        pool in 10usize..400,
        rounds in 1usize..6,
        seed in any::<u64>(),
    ) {
        let entries: Vec<Entry> = (1..=pool).map(|i| Entry::peer(format!("m{i}"))).collect();
        let mut history = History::new();
        for round in 0..rounds {
            let pairing = pair(&entries, &history, round_seed(seed, round as u64), OddOneOut::Trio);
            prop_assert_eq!(grouping_breach(&entries, &pairing), None);
            // Each round adds at most two people a member has met; while everyone has at
            // least half the queue still to meet, a grouping of strangers exists (Dirac).
            if 4 * round + 4 <= pool {
                prop_assert_eq!(repeats(&pairing, &history), 0);
            }
            prop_assert_eq!(alternation_breach(&pairing, &history), None);
            history.record(&pairing.groups);
        }
    }

    #[test]
    fn re_matching_offers_the_odd_member_a_solo_drill(
        pool in 1usize..=9,
        seed in any::<u64>(),
    ) {
        let entries = members_of(pool, u32::MAX, 0);
        let pairing = pair(&entries, &History::new(), seed, OddOneOut::Solo);
        prop_assert!(pairing.left_out.is_empty());
        prop_assert!(!pairing.groups.iter().any(Group::is_trio));
        prop_assert_eq!(pairing.groups.iter().filter(|g| g.is_solo()).count(), pool % 2);
    }
}
