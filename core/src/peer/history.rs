//! What pairing remembers between rounds: who has shared a group with whom and how recently,
//! each member's last role, and who last sat a round out as the observer or in a solo drill.
//! The store keeps the groups of past rounds; replaying them through `record` rebuilds this.

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
    met: Map<String, Met>,
}

impl MemberRecord {
    /// Everyone this member has shared a group with.
    pub fn met(&self) -> impl Iterator<Item = (&str, Met)> {
        self.met.iter().map(|(id, met)| (id.as_str(), *met))
    }

    /// Whether the member sat out the last round they took part in.
    pub fn sat_out_last_time(&self) -> bool {
        self.sat_out_round.is_some_and(|r| r == self.last_round)
    }
}

/// Pairing history for one channel (or one schedule's rounds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    rounds: u64,
    members: Map<String, MemberRecord>,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// How many rounds have been recorded.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }

    pub fn member(&self, id: &str) -> Option<&MemberRecord> {
        self.members.get(id)
    }

    pub fn last_role(&self, id: &str) -> Option<Role> {
        self.members.get(id).and_then(|m| m.last_role)
    }

    /// What two members have shared, if anything.
    pub fn met(&self, a: &str, b: &str) -> Option<Met> {
        self.members.get(a).and_then(|m| m.met.get(b)).copied()
    }

    /// Adds one round's groups, as they finally ran (after any re-matching).
    pub fn record(&mut self, groups: &[Group]) {
        self.rounds += 1;
        let round = self.rounds;
        for group in groups {
            let seats = group.seats();
            let sat_out = group.antagonist.is_none() || group.observer.is_some();
            for &(id, role) in &seats {
                let record = self.members.entry(id.to_string()).or_default();
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
                for &(other, _) in &seats {
                    if other != id {
                        let met = record.met.entry(other.to_string()).or_insert(Met {
                            times: 0,
                            last_round: round,
                        });
                        met.times += 1;
                        met.last_round = round;
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
        assert_eq!(
            history.met("ann", "bo"),
            Some(Met {
                times: 2,
                last_round: 2
            })
        );
        assert_eq!(history.met("ed", "cy").map(|m| m.times), Some(1));
        assert_eq!(history.met("ann", "cy"), None);
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
