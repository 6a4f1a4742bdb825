//! One scheduled round as a state machine: waiting → reminded → open → settled (or skipped,
//! or cancelled before it opened). `ScheduledRound::handle(event, now, roster)` returns the
//! effects the shell performs: reminders, the groups to open threads for, no-shows, and the
//! re-matching of members whose partners did not come. Time comes in as `now`; the roster
//! (who is opted in, the pairing history) is read by the shell and passed in.

use super::history::History;
use super::pairing::{Entry, Group, OddOneOut, Pairing, pair};
use super::schedule::Schedule;
use super::seeded::round_seed;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundPhase {
    /// Before the reminder.
    Waiting,
    /// Reminded; before the start.
    Reminded,
    /// Groups are drilling; members who have not posted yet may still arrive.
    Open,
    /// No-shows were handled and the groups recorded.
    Settled,
    /// The start passed by more than a drill's length before the round could open (the bot
    /// was down), so it did not run.
    Skipped,
    /// The schedule was paused or deleted before the round opened.
    Cancelled,
}

impl RoundPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            RoundPhase::Waiting => "waiting",
            RoundPhase::Reminded => "reminded",
            RoundPhase::Open => "open",
            RoundPhase::Settled => "settled",
            RoundPhase::Skipped => "skipped",
            RoundPhase::Cancelled => "cancelled",
        }
    }

    pub fn is_over(self) -> bool {
        matches!(
            self,
            RoundPhase::Settled | RoundPhase::Skipped | RoundPhase::Cancelled
        )
    }
}

/// What the shell knows when an event arrives: who is opted in (in the order they opted
/// in), and the pairing history.
#[derive(Debug, Clone, Copy)]
pub struct Roster<'a> {
    pub opted_in: &'a [Entry],
    pub history: &'a History,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundEvent {
    /// A timer set by `RoundEffect::ArmTimer` fired (or any moment the shell wants checked).
    Tick,
    /// A member wrote in their group's thread.
    Posted { member: String },
    /// The schedule was paused or deleted.
    Cancel,
}

/// What the shell must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundEffect {
    /// The round's phase changed; store it (with the round) before anything else.
    PersistPhase(RoundPhase),
    /// Call back with `RoundEvent::Tick` at this moment; replaces any earlier timer.
    ArmTimer { at: DateTime<Utc> },
    /// Remind these opted-in members that the round starts at `start`.
    Remind {
        members: Vec<String>,
        start: DateTime<Utc>,
    },
    /// Open a private thread per group and brief its members; tell the left out why.
    Open(Pairing),
    /// This member did not post in time.
    NoShow { member: String },
    /// New groups for members whose group lost people: members stranded by a no-show
    /// paired together, or the rest of a trio closing up.
    Rematch(Vec<Group>),
    /// Nobody else is free: offer this member a solo drill against the engine.
    OfferSolo { member: String },
    /// The groups as they finally ran, for the pairing history.
    Record(Vec<Group>),
}

/// One occurrence of a schedule. Serializable, so a restart resumes it where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledRound {
    /// The schedule as it stood when the round was set up.
    schedule: Schedule,
    start: DateTime<Utc>,
    seed: u64,
    phase: RoundPhase,
    opened_at: Option<DateTime<Utc>>,
    groups: Vec<Group>,
    /// Members who have posted since the round opened, sorted.
    posted: Vec<String>,
}

impl ScheduledRound {
    /// The round of `schedule` starting at `start` (from `Schedule::next_start`), paired
    /// with `seed` when it opens.
    pub fn new(schedule: &Schedule, start: DateTime<Utc>, seed: u64) -> ScheduledRound {
        ScheduledRound {
            schedule: schedule.clone(),
            start,
            seed,
            phase: RoundPhase::Waiting,
            opened_at: None,
            groups: Vec::new(),
            posted: Vec::new(),
        }
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn phase(&self) -> RoundPhase {
        self.phase
    }

    /// The groups opened at the start, as they were paired.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The schedule as it stood when the round was set up.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The groups the round would open if it opened now with this roster, scenarios
    /// included, without changing anything: what an admin's preview shows.
    pub fn preview(&self, roster: &Roster) -> Pairing {
        let mut pairing = pair(roster.opted_in, roster.history, self.seed, OddOneOut::Trio);
        self.choose_scenarios(&mut pairing.groups, 0);
        pairing
    }

    /// When members who have not posted count as no-shows (once the round is open).
    pub fn no_show_at(&self) -> Option<DateTime<Utc>> {
        self.opened_at.map(|at| at + self.no_show_after())
    }

    fn no_show_after(&self) -> Duration {
        Duration::minutes(i64::from(self.schedule.no_show_after_min))
    }

    /// Past the start by a drill's length, a round that never opened is skipped.
    fn open_until(&self) -> DateTime<Utc> {
        self.start + Duration::seconds(i64::from(self.schedule.drill_length_s.max(60)))
    }

    /// Applies one event and returns what the shell must do, in order.
    pub fn handle(
        &mut self,
        event: RoundEvent,
        now: DateTime<Utc>,
        roster: &Roster,
    ) -> Vec<RoundEffect> {
        let mut effects = Vec::new();
        let remind_at = self.schedule.reminder_at(self.start);
        match (self.phase, event) {
            (RoundPhase::Waiting | RoundPhase::Reminded, RoundEvent::Cancel) => {
                self.set_phase(RoundPhase::Cancelled, &mut effects);
            }
            (RoundPhase::Waiting | RoundPhase::Reminded, RoundEvent::Tick) => {
                if now >= self.open_until() {
                    self.set_phase(RoundPhase::Skipped, &mut effects);
                } else if now >= self.start {
                    self.open(now, roster, &mut effects);
                } else if now >= remind_at && self.phase == RoundPhase::Waiting {
                    self.set_phase(RoundPhase::Reminded, &mut effects);
                    effects.push(RoundEffect::Remind {
                        members: roster.opted_in.iter().map(|e| e.member.clone()).collect(),
                        start: self.start,
                    });
                    effects.push(RoundEffect::ArmTimer { at: self.start });
                } else {
                    let at = if self.phase == RoundPhase::Waiting {
                        remind_at
                    } else {
                        self.start
                    };
                    effects.push(RoundEffect::ArmTimer { at });
                }
            }
            (RoundPhase::Open, RoundEvent::Posted { member }) => {
                let grouped = self.groups.iter().any(|g| g.members().any(|m| m == member));
                if grouped {
                    if let Err(at) = self.posted.binary_search(&member) {
                        self.posted.insert(at, member);
                    }
                }
                // Once everyone is in, nothing is left to wait for.
                if self
                    .groups
                    .iter()
                    .flat_map(Group::members)
                    .all(|m| self.has_posted(m))
                {
                    self.settle(roster, &mut effects);
                }
            }
            (RoundPhase::Open, RoundEvent::Tick) => match self.no_show_at() {
                Some(deadline) if now < deadline => {
                    effects.push(RoundEffect::ArmTimer { at: deadline });
                }
                _ => self.settle(roster, &mut effects),
            },
            // Posts before the round opens belong to no group; a cancel after it opened
            // leaves the running drills alone; an ended round ignores everything.
            _ => {}
        }
        effects
    }

    fn set_phase(&mut self, phase: RoundPhase, effects: &mut Vec<RoundEffect>) {
        self.phase = phase;
        effects.push(RoundEffect::PersistPhase(phase));
    }

    /// Gives each group that asked for no scenario one from the schedule's pool, spread so
    /// that groups of one round tend to drill different ones.
    fn choose_scenarios(&self, groups: &mut [Group], offset: usize) {
        for (i, group) in groups.iter_mut().enumerate() {
            if group.scenario.is_none() {
                let salt = self.seed.wrapping_add((offset + i) as u64);
                group.scenario = self.schedule.pick_scenario(salt, &[]);
            }
        }
    }

    fn has_posted(&self, member: &str) -> bool {
        self.posted
            .binary_search_by(|p| p.as_str().cmp(member))
            .is_ok()
    }

    fn open(&mut self, now: DateTime<Utc>, roster: &Roster, effects: &mut Vec<RoundEffect>) {
        let mut pairing = pair(roster.opted_in, roster.history, self.seed, OddOneOut::Trio);
        self.choose_scenarios(&mut pairing.groups, 0);
        self.groups = pairing.groups.clone();
        self.opened_at = Some(now);
        self.set_phase(RoundPhase::Open, effects);
        effects.push(RoundEffect::Open(pairing));
        effects.push(RoundEffect::ArmTimer {
            at: now + self.no_show_after(),
        });
    }

    /// Marks no-shows, closes up trios, re-matches the stranded and records what ran.
    fn settle(&mut self, roster: &Roster, effects: &mut Vec<RoundEffect>) {
        self.set_phase(RoundPhase::Settled, effects);
        let mut ran = Vec::new();
        let mut reseated = Vec::new();
        let mut stranded: Vec<String> = Vec::new();
        for group in &self.groups {
            for member in group.members().filter(|m| !self.has_posted(m)) {
                effects.push(RoundEffect::NoShow {
                    member: member.to_string(),
                });
            }
            let here = |m: &str| self.has_posted(m);
            let observer = group.observer.as_deref().filter(|o| here(o));
            let Some(antagonist) = group.antagonist.as_deref() else {
                if here(&group.candidate) {
                    ran.push(group.clone());
                }
                continue;
            };
            match (here(&group.candidate), here(antagonist), observer) {
                (true, true, _) => ran.push(Group {
                    observer: observer.map(str::to_string),
                    ..group.clone()
                }),
                // A trio lost a player: the observer takes the empty seat.
                (false, true, Some(o)) => reseated.push(Group {
                    candidate: o.to_string(),
                    observer: None,
                    ..group.clone()
                }),
                (true, false, Some(o)) => reseated.push(Group {
                    antagonist: Some(o.to_string()),
                    observer: None,
                    ..group.clone()
                }),
                (true, false, None) => stranded.push(group.candidate.clone()),
                (false, true, None) => stranded.push(antagonist.to_string()),
                (false, false, Some(o)) => stranded.push(o.to_string()),
                (false, false, None) => {}
            }
        }
        let entries: Vec<Entry> = stranded
            .iter()
            .map(|m| {
                roster
                    .opted_in
                    .iter()
                    .find(|e| &e.member == m)
                    .cloned()
                    .unwrap_or_else(|| Entry::peer(m.clone()))
            })
            .collect();
        let rematch = pair(
            &entries,
            roster.history,
            round_seed(self.seed, 1),
            OddOneOut::Solo,
        );
        let (solo, mut paired): (Vec<Group>, Vec<Group>) =
            rematch.groups.into_iter().partition(Group::is_solo);
        self.choose_scenarios(&mut paired, self.groups.len());
        reseated.extend(paired);
        if !reseated.is_empty() {
            effects.push(RoundEffect::Rematch(reseated.clone()));
        }
        for group in solo {
            effects.push(RoundEffect::OfferSolo {
                member: group.candidate,
            });
        }
        ran.extend(reseated);
        effects.push(RoundEffect::Record(ran));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a valid instant")
            .with_timezone(&Utc)
    }

    fn minutes(at: DateTime<Utc>, m: i64) -> DateTime<Utc> {
        at + Duration::minutes(m)
    }

    fn peers(ids: &[&str]) -> Vec<Entry> {
        ids.iter().map(|id| Entry::peer(*id)).collect()
    }

    /// A Thursday 18:30 Berlin round, starting 2025-01-09T17:30Z, opened on time.
    fn opened(members: &[Entry], history: &History) -> (ScheduledRound, Pairing) {
        let schedule = Schedule::parse("thursday", "18:30", "Europe/Berlin").expect("valid");
        let start = schedule.next_start(utc("2025-01-06T12:00:00Z"));
        let mut round = ScheduledRound::new(&schedule, start, 7);
        let roster = Roster {
            opted_in: members,
            history,
        };
        let effects = round.handle(RoundEvent::Tick, start, &roster);
        let pairing = effects
            .iter()
            .find_map(|e| match e {
                RoundEffect::Open(p) => Some(p.clone()),
                _ => None,
            })
            .expect("the round opens at its start");
        (round, pairing)
    }

    #[test]
    fn a_round_reminds_then_opens_at_its_time_and_waits_for_no_shows() {
        let schedule = Schedule::parse("thursday", "18:30", "Europe/Berlin").expect("valid");
        let start = schedule.next_start(utc("2025-01-06T12:00:00Z"));
        let mut round = ScheduledRound::new(&schedule, start, 1);
        let members = peers(&["ann", "bo", "cy", "di"]);
        let history = History::new();
        let roster = Roster {
            opted_in: &members,
            history: &history,
        };
        assert_eq!(
            round.handle(RoundEvent::Tick, utc("2025-01-06T12:00:00Z"), &roster),
            vec![RoundEffect::ArmTimer {
                at: utc("2025-01-09T17:00:00Z")
            }]
        );
        let reminded = round.handle(RoundEvent::Tick, utc("2025-01-09T17:00:00Z"), &roster);
        assert_eq!(
            reminded,
            vec![
                RoundEffect::PersistPhase(RoundPhase::Reminded),
                RoundEffect::Remind {
                    members: vec!["ann".into(), "bo".into(), "cy".into(), "di".into()],
                    start
                },
                RoundEffect::ArmTimer { at: start },
            ]
        );
        // A timer that fires a little early re-arms; it does not open the round.
        assert_eq!(
            round.handle(RoundEvent::Tick, minutes(start, -1), &roster),
            vec![RoundEffect::ArmTimer { at: start }]
        );
        let opened = round.handle(RoundEvent::Tick, start, &roster);
        assert_eq!(opened[0], RoundEffect::PersistPhase(RoundPhase::Open));
        assert!(matches!(&opened[1], RoundEffect::Open(p) if p.groups.len() == 2));
        assert_eq!(
            opened[2],
            RoundEffect::ArmTimer {
                at: minutes(start, 10)
            }
        );
        assert_eq!(round.phase(), RoundPhase::Open);
    }

    #[test]
    fn a_partner_who_does_not_post_is_a_no_show_and_the_stranded_are_re_matched() {
        let members = peers(&["ann", "bo", "cy", "di"]);
        let history = History::new();
        let roster = Roster {
            opted_in: &members,
            history: &history,
        };
        let (mut round, pairing) = opened(&members, &history);
        let start = round.start();
        // One member of each pair posts; the other never does.
        let present: Vec<String> = pairing.groups.iter().map(|g| g.candidate.clone()).collect();
        for member in &present {
            let effects = round.handle(
                RoundEvent::Posted {
                    member: member.clone(),
                },
                minutes(start, 2),
                &roster,
            );
            assert!(effects.is_empty());
        }
        assert_eq!(
            round.handle(RoundEvent::Tick, minutes(start, 9), &roster),
            vec![RoundEffect::ArmTimer {
                at: minutes(start, 10)
            }]
        );
        let effects = round.handle(RoundEvent::Tick, minutes(start, 10), &roster);
        let no_shows: Vec<&str> = effects
            .iter()
            .filter_map(|e| match e {
                RoundEffect::NoShow { member } => Some(member.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(no_shows.len(), 2);
        assert!(no_shows.iter().all(|m| !present.iter().any(|p| p == m)));
        let rematch = effects
            .iter()
            .find_map(|e| match e {
                RoundEffect::Rematch(groups) => Some(groups.clone()),
                _ => None,
            })
            .expect("the two stranded members are paired");
        assert_eq!(rematch.len(), 1);
        let mut together: Vec<&str> = rematch[0].members().collect();
        together.sort_unstable();
        let mut expected: Vec<&str> = present.iter().map(String::as_str).collect();
        expected.sort_unstable();
        assert_eq!(together, expected);
        assert!(matches!(effects.last(), Some(RoundEffect::Record(groups)) if groups == &rematch));
        assert_eq!(round.phase(), RoundPhase::Settled);
        // A late post changes nothing.
        assert!(
            round
                .handle(
                    RoundEvent::Posted {
                        member: no_shows[0].to_string()
                    },
                    minutes(start, 11),
                    &roster
                )
                .is_empty()
        );
    }

    #[test]
    fn a_lone_stranded_member_is_offered_a_solo_drill() {
        let members = peers(&["ann", "bo", "cy", "di"]);
        let history = History::new();
        let roster = Roster {
            opted_in: &members,
            history: &history,
        };
        let (mut round, pairing) = opened(&members, &history);
        let start = round.start();
        let whole = &pairing.groups[0];
        let broken = &pairing.groups[1];
        for member in whole.members().chain([broken.candidate.as_str()]) {
            round.handle(
                RoundEvent::Posted {
                    member: member.to_string(),
                },
                minutes(start, 1),
                &roster,
            );
        }
        let effects = round.handle(RoundEvent::Tick, minutes(start, 10), &roster);
        assert!(effects.contains(&RoundEffect::NoShow {
            member: broken.antagonist.clone().expect("a pair")
        }));
        assert!(effects.contains(&RoundEffect::OfferSolo {
            member: broken.candidate.clone()
        }));
        assert!(!effects.iter().any(|e| matches!(e, RoundEffect::Rematch(_))));
        assert!(effects.contains(&RoundEffect::Record(vec![whole.clone()])));
    }

    #[test]
    fn a_trio_that_loses_a_player_closes_up_around_its_observer() {
        let members = peers(&["ann", "bo", "cy"]);
        let history = History::new();
        let roster = Roster {
            opted_in: &members,
            history: &history,
        };
        let (mut round, pairing) = opened(&members, &history);
        let trio = pairing.groups[0].clone();
        let observer = trio.observer.clone().expect("a trio");
        let antagonist = trio.antagonist.clone().expect("a trio");
        for member in [&observer, &antagonist] {
            round.handle(
                RoundEvent::Posted {
                    member: member.clone(),
                },
                minutes(round.start(), 3),
                &roster,
            );
        }
        let effects = round.handle(RoundEvent::Tick, minutes(round.start(), 10), &roster);
        let closed = Group {
            candidate: observer,
            antagonist: Some(antagonist),
            observer: None,
            ..trio.clone()
        };
        assert!(effects.contains(&RoundEffect::NoShow {
            member: trio.candidate.clone()
        }));
        assert!(effects.contains(&RoundEffect::Rematch(vec![closed.clone()])));
        assert!(effects.contains(&RoundEffect::Record(vec![closed])));
    }

    #[test]
    fn when_everyone_has_posted_the_round_settles_at_once() {
        let members = peers(&["ann", "bo"]);
        let history = History::new();
        let roster = Roster {
            opted_in: &members,
            history: &history,
        };
        let (mut round, pairing) = opened(&members, &history);
        let start = round.start();
        assert!(
            round
                .handle(
                    RoundEvent::Posted {
                        member: "ann".into()
                    },
                    minutes(start, 1),
                    &roster
                )
                .is_empty()
        );
        // Someone outside the round posting counts for nothing.
        assert!(
            round
                .handle(
                    RoundEvent::Posted {
                        member: "zed".into()
                    },
                    minutes(start, 1),
                    &roster
                )
                .is_empty()
        );
        let effects = round.handle(
            RoundEvent::Posted {
                member: "bo".into(),
            },
            minutes(start, 2),
            &roster,
        );
        assert_eq!(
            effects,
            vec![
                RoundEffect::PersistPhase(RoundPhase::Settled),
                RoundEffect::Record(pairing.groups)
            ]
        );
    }

    #[test]
    fn a_round_the_bot_missed_is_skipped_and_a_cancelled_one_never_opens() {
        let schedule = Schedule::parse("thursday", "18:30", "Europe/Berlin").expect("valid");
        let start = schedule.next_start(utc("2025-01-06T12:00:00Z"));
        let members = peers(&["ann", "bo"]);
        let history = History::new();
        let roster = Roster {
            opted_in: &members,
            history: &history,
        };
        let mut late = ScheduledRound::new(&schedule, start, 1);
        // Down through the reminder but back within the drill's length: open late, and
        // count no-shows from the opening.
        let effects = late.handle(RoundEvent::Tick, minutes(start, 5), &roster);
        assert!(effects.iter().any(|e| matches!(e, RoundEffect::Open(_))));
        assert_eq!(late.no_show_at(), Some(minutes(start, 15)));
        let mut missed = ScheduledRound::new(&schedule, start, 1);
        assert_eq!(
            missed.handle(RoundEvent::Tick, minutes(start, 15), &roster),
            vec![RoundEffect::PersistPhase(RoundPhase::Skipped)]
        );
        let mut cancelled = ScheduledRound::new(&schedule, start, 1);
        assert_eq!(
            cancelled.handle(RoundEvent::Cancel, minutes(start, -60), &roster),
            vec![RoundEffect::PersistPhase(RoundPhase::Cancelled)]
        );
        assert!(
            cancelled
                .handle(RoundEvent::Tick, start, &roster)
                .is_empty()
        );
    }

    #[test]
    fn groups_that_asked_for_nothing_drill_from_the_schedule_s_pool() {
        let mut schedule = Schedule::parse("thursday", "18:30", "Europe/Berlin").expect("valid");
        schedule.scenario_pool = vec!["latency-regression".into(), "metric-selection".into()];
        let start = schedule.next_start(utc("2025-01-06T12:00:00Z"));
        let mut round = ScheduledRound::new(&schedule, start, 4);
        let mut members = peers(&["ann", "bo", "cy", "di"]);
        members[0].scenario = Some("product-priority".into());
        members[1].scenario = Some("product-priority".into());
        let history = History::new();
        let roster = Roster {
            opted_in: &members,
            history: &history,
        };
        round.handle(RoundEvent::Tick, start, &roster);
        let mut scenarios: Vec<&str> = round
            .groups()
            .iter()
            .filter_map(|g| g.scenario.as_deref())
            .collect();
        scenarios.sort_unstable();
        assert_eq!(scenarios.len(), 2);
        for s in scenarios {
            assert!(
                ["latency-regression", "metric-selection", "product-priority"].contains(&s),
                "{s}"
            );
        }
        let asked = round
            .groups()
            .iter()
            .find(|g| g.members().any(|m| m == "ann"))
            .expect("ann is grouped");
        assert_eq!(asked.scenario.as_deref(), Some("product-priority"));
    }

    #[test]
    fn a_preview_shows_the_groups_the_round_then_opens() {
        let mut schedule = Schedule::parse("thursday", "18:30", "Europe/Berlin").expect("valid");
        schedule.scenario_pool = vec!["latency-regression".into()];
        let start = schedule.next_start(utc("2025-01-06T12:00:00Z"));
        let mut round = ScheduledRound::new(&schedule, start, 11);
        let members = peers(&["ann", "bo", "cy", "di", "ed"]);
        let history = History::new();
        let roster = Roster {
            opted_in: &members,
            history: &history,
        };
        let preview = round.preview(&roster);
        assert_eq!(
            round.phase(),
            RoundPhase::Waiting,
            "a preview changes nothing"
        );
        let effects = round.handle(RoundEvent::Tick, start, &roster);
        assert!(effects.contains(&RoundEffect::Open(preview)));
    }

    #[test]
    fn a_round_survives_a_restart_as_stored() {
        let members = peers(&["ann", "bo"]);
        let history = History::new();
        let (round, _) = opened(&members, &history);
        let stored = serde_json::to_string(&round).expect("serializable");
        let back: ScheduledRound = serde_json::from_str(&stored).expect("readable");
        assert_eq!(back, round);
    }
}
