//! What pairing remembers between rounds: who has shared a group with whom and how recently,
//! each member's last role, and who last sat a round out as the observer or in a solo drill.
//! The store keeps the groups of past rounds; replaying them through `record` rebuilds this.
//!
//! Members are numbered as they first appear, and each one's past partners are a sorted list
//! of those numbers: pairing a queue of 100,000 then reads the history with one hash lookup
//! per member rather than one per partner.

use super::pairing::Group;
use crate::transcript::Role;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};

/// A hash map with fixed keys: the core reads no random source, and nothing here depends
/// on the order a map is walked in.
pub(crate) type Map<K, V> = HashMap<K, V, BuildHasherDefault<DefaultHasher>>;

/// Two members' shared past: how many groups they were in together, and the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Met {
    pub times: u32,
    /// The round number (1 for the first recorded round) they last shared a group in.
    pub last_round: u64,
}

/// One member's past, as pairing needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberRecord {
    /// The role in the member's last group; a solo drill counts as the candidate's.
    pub last_role: Option<Role>,
    /// The round of the member's last group (0: never grouped).
    pub last_round: u64,
    /// The last round the member was the odd one out (observing a trio, or solo), so the
    /// next odd count picks someone else.
    pub sat_out_round: Option<u64>,
    pub candidate_times: u32,
    pub antagonist_times: u32,
    /// Everyone the member has shared a group with, by member number, sorted.
    met: Vec<(u32, Met)>,
}

impl MemberRecord {
    /// Whether the member sat out the last round they took part in.
    pub fn sat_out_last_time(&self) -> bool {
        self.sat_out_round.is_some_and(|r| r == self.last_round)
    }

    /// The member numbers of everyone this member has shared a group with.
    pub(crate) fn met_numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.met.iter().map(|(n, _)| *n)
    }
}

/// Pairing history for one channel (or one schedule's rounds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    rounds: u64,
    numbers: Map<String, u32>,
    members: Vec<(String, MemberRecord)>,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// How many rounds have been recorded.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }

    /// How many members have ever been grouped.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn member(&self, id: &str) -> Option<&MemberRecord> {
        self.number(id).map(|n| &self.members[n as usize].1)
    }

    /// A member's number, for reading their partners in bulk.
    pub(crate) fn number(&self, id: &str) -> Option<u32> {
        self.numbers.get(id).copied()
    }

    pub(crate) fn by_number(&self, number: u32) -> &MemberRecord {
        &self.members[number as usize].1
    }

    pub fn last_role(&self, id: &str) -> Option<Role> {
        self.member(id).and_then(|m| m.last_role)
    }

    /// Everyone a member has shared a group with.
    pub fn partners(&self, id: &str) -> impl Iterator<Item = (&str, Met)> {
        self.member(id)
            .into_iter()
            .flat_map(|r| r.met.iter())
            .map(|(n, met)| (self.members[*n as usize].0.as_str(), *met))
    }

    /// What two members have shared, if anything.
    pub fn met(&self, a: &str, b: &str) -> Option<Met> {
        let (a, b) = (self.number(a)?, self.number(b)?);
        let met = &self.by_number(a).met;
        met.binary_search_by_key(&b, |(n, _)| *n)
            .ok()
            .map(|i| met[i].1)
    }

    fn number_or_new(&mut self, id: &str) -> u32 {
        if let Some(n) = self.number(id) {
            return n;
        }
        let n = self.members.len() as u32;
        self.numbers.insert(id.to_string(), n);
        self.members.push((id.to_string(), MemberRecord::default()));
        n
    }

    /// Adds one round's groups, as they finally ran (after any re-matching).
    pub fn record(&mut self, groups: &[Group]) {
        self.rounds += 1;
        let round = self.rounds;
        for group in groups {
            let seats: Vec<(u32, Role)> = group
                .seats()
                .into_iter()
                .map(|(id, role)| (self.number_or_new(id), role))
                .collect();
            let sat_out = group.antagonist.is_none() || group.observer.is_some();
            for &(number, role) in &seats {
                let record = &mut self.members[number as usize].1;
                record.last_role = Some(role);
                record.last_round = round;
                match role {
                    Role::Candidate => record.candidate_times += 1,
                    Role::Antagonist => record.antagonist_times += 1,
                    Role::Observer => {}
                }
                let odd_one = if group.antagonist.is_none() {
                    role == Role::Candidate
                } else {
                    role == Role::Observer
                };
                if sat_out && odd_one {
                    record.sat_out_round = Some(round);
                }
                for &(other, _) in seats.iter().filter(|(o, _)| *o != number) {
                    match record.met.binary_search_by_key(&other, |(n, _)| *n) {
                        Ok(i) => {
                            record.met[i].1.times += 1;
                            record.met[i].1.last_round = round;
                        }
                        Err(i) => record.met.insert(
                            i,
                            (
                                other,
                                Met {
                                    times: 1,
                                    last_round: round,
                                },
                            ),
                        ),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(c: &str, a: &str) -> Group {
        Group::new(c.into(), Some(a.into()), None)
    }

    #[test]
    fn recording_a_round_remembers_partners_roles_and_who_sat_out() {
        let mut history = History::new();
        history.record(&[
            pair("ann", "bo"),
            Group::new("cy".into(), Some("di".into()), Some("ed".into())),
            Group::new("fay".into(), None, None),
        ]);
        history.record(&[pair("bo", "ann")]);
        assert_eq!(history.rounds(), 2);
        assert_eq!(history.len(), 6);
        assert_eq!(
            history.met("ann", "bo"),
            Some(Met {
                times: 2,
                last_round: 2
            })
        );
        assert_eq!(history.met("ed", "cy").map(|m| m.times), Some(1));
        assert_eq!(history.met("ann", "cy"), None);
        assert_eq!(history.met("ann", "nobody"), None);
        let mut seen: Vec<&str> = history.partners("ed").map(|(id, _)| id).collect();
        seen.sort_unstable();
        assert_eq!(seen, vec!["cy", "di"]);
        assert_eq!(history.last_role("ann"), Some(Role::Antagonist));
        assert_eq!(history.last_role("ed"), Some(Role::Observer));
        assert_eq!(history.last_role("fay"), Some(Role::Candidate));
        let ed = history.member("ed").expect("recorded");
        assert!(ed.sat_out_last_time());
        assert!(
            history
                .member("fay")
                .is_some_and(MemberRecord::sat_out_last_time)
        );
        assert!(
            !history
                .member("cy")
                .is_some_and(MemberRecord::sat_out_last_time)
        );
        let ann = history.member("ann").expect("recorded");
        assert_eq!((ann.candidate_times, ann.antagonist_times), (1, 1));
    }
}
