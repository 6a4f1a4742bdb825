//! The queue and its pairing. Members join a channel's queue; pairing splits them into pairs,
//! with one trio (candidate, antagonist, observer) when the count is odd, or a solo drill
//! against the engine for the odd member if they asked for one. Nobody is left out without a
//! reason they are told.
//!
//! What pairing optimises, in order:
//! 1. Everyone is grouped (a lone member who wants a peer is the only one left out).
//! 2. As few candidate–antagonist pairs as possible are members who shared a group before: a
//!    maximum matching over the members who have not met (see `matching`), so a pair repeats
//!    only when no grouping of the same members avoids it. An observer is not a partner; the
//!    trio is chosen so the observer meets new people where possible.
//! 3. Roles alternate: whoever was candidate last time plays the antagonist, and the other
//!    way round, within every group that allows it (two former candidates cannot both swap).
//!    The matching starts from former candidates paired with former antagonists, so most
//!    groups allow it.
//! 4. The odd seat rotates: it goes first to someone who asked for a solo drill, then to
//!    someone who did not sit out their last round.
//!
//! Chance enters only through the seed: the same queue, history and seed always give the
//! same groups.

use super::history::{History, Map, MemberRecord};
use super::matching::{Acquaintances, Matcher, NONE};
use super::seeded::Seeded;
use crate::scenario::Difficulty;
use crate::transcript::Role;
use serde::{Deserialize, Serialize};

/// How far the greedy start looks for a fresh partner before leaving the rest to the
/// matching; a few steps find one in any queue where most members are strangers.
const LOOKAHEAD: usize = 8;

/// What a member wants if no peer is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preference {
    /// Peers only: wait in the queue rather than drill alone.
    #[default]
    PeerOnly,
    /// A solo drill against the engine if there is no partner (and rather than observing).
    SoloIfNoPartner,
}

/// One member waiting in a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The member's platform user id.
    pub member: String,
    /// The scenario they asked to practise, if any; a group uses its candidate's choice.
    pub scenario: Option<String>,
    pub difficulty: Option<Difficulty>,
    pub preference: Preference,
}

impl Entry {
    /// A member with no scenario or difficulty in mind who waits for a peer.
    pub fn peer(member: impl Into<String>) -> Entry {
        Entry {
            member: member.into(),
            scenario: None,
            difficulty: None,
            preference: Preference::PeerOnly,
        }
    }
}

/// A group that drills together: a pair, a trio with an observer, or one member alone
/// against the engine (no antagonist player).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub candidate: String,
    /// The peer playing the antagonist; `None` when the engine plays it (a solo drill).
    pub antagonist: Option<String>,
    pub observer: Option<String>,
    /// The scenario asked for by the candidate (else the antagonist, else the observer);
    /// `None` leaves the choice to the channel's pool.
    pub scenario: Option<String>,
    pub difficulty: Option<Difficulty>,
}

impl Group {
    pub fn new(candidate: String, antagonist: Option<String>, observer: Option<String>) -> Group {
        Group {
            candidate,
            antagonist,
            observer,
            scenario: None,
            difficulty: None,
        }
    }

    /// Each member with their role, candidate first.
    pub fn seats(&self) -> Vec<(&str, Role)> {
        let mut seats = vec![(self.candidate.as_str(), Role::Candidate)];
        if let Some(a) = &self.antagonist {
            seats.push((a.as_str(), Role::Antagonist));
        }
        if let Some(o) = &self.observer {
            seats.push((o.as_str(), Role::Observer));
        }
        seats
    }

    pub fn members(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.candidate.as_str())
            .chain(self.antagonist.as_deref())
            .chain(self.observer.as_deref())
    }

    pub fn is_solo(&self) -> bool {
        self.antagonist.is_none()
    }

    pub fn is_trio(&self) -> bool {
        self.observer.is_some()
    }

    /// The mirror drill after the debrief: the candidate plays the antagonist, and the
    /// antagonist player practises. In a trio the observer practises next, the candidate
    /// plays the antagonist and the antagonist player observes, so everyone's turn comes.
    /// The scenario is left for the caller to choose anew; a solo drill has no mirror.
    pub fn swapped(&self) -> Option<Group> {
        let antagonist = self.antagonist.clone()?;
        let (candidate, observer) = match &self.observer {
            Some(observer) => (observer.clone(), Some(antagonist)),
            None => (antagonist, None),
        };
        Some(Group {
            candidate,
            antagonist: Some(self.candidate.clone()),
            observer,
            scenario: None,
            difficulty: self.difficulty,
        })
    }

    pub fn role_of(&self, member: &str) -> Option<Role> {
        self.seats()
            .into_iter()
            .find(|(m, _)| *m == member)
            .map(|(_, r)| r)
    }
}

/// Why a member was not put in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftOutReason {
    /// Nobody else was waiting, and the member asked for peers only; they stay queued.
    NoPartner,
}

impl LeftOutReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LeftOutReason::NoPartner => "no_partner",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    pub member: String,
    pub reason: LeftOutReason,
}

/// What one pairing decided: the groups, in queue order of their earliest member, and
/// everyone not grouped with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pairing {
    pub groups: Vec<Group>,
    pub left_out: Vec<LeftOut>,
}

/// What happens to the odd member when the count is odd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OddOneOut {
    /// They observe a trio, or drill solo if they asked for that; a lone member who wants
    /// a peer is left out. For pairing a queue or a round.
    Trio,
    /// They are offered a solo drill whatever they asked: for re-matching members whose
    /// partners did not show up, who have already waited.
    Solo,
}

/// A channel's queue, in the order members joined.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Queue {
    entries: Vec<Entry>,
}

/// What `Queue::join` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    Added,
    /// The member was already queued; their scenario, difficulty and preference changed.
    Updated,
}

impl Queue {
    pub fn new() -> Queue {
        Queue::default()
    }

    /// A queue from stored entries; a member listed twice keeps their first place.
    pub fn from_entries(entries: Vec<Entry>) -> Queue {
        let mut queue = Queue::new();
        for entry in entries {
            if !queue.contains(&entry.member) {
                queue.entries.push(entry);
            }
        }
        queue
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains(&self, member: &str) -> bool {
        self.entries.iter().any(|e| e.member == member)
    }

    /// Adds a member at the back, or updates their wishes and keeps their place.
    pub fn join(&mut self, entry: Entry) -> Joined {
        match self.entries.iter_mut().find(|e| e.member == entry.member) {
            Some(existing) => {
                *existing = entry;
                Joined::Updated
            }
            None => {
                self.entries.push(entry);
                Joined::Added
            }
        }
    }

    /// Removes a member; false if they were not queued.
    pub fn leave(&mut self, member: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.member != member);
        self.entries.len() != before
    }

    /// Pairs everyone queued. Grouped members leave the queue; the left out stay in it.
    pub fn pair(&mut self, history: &History, seed: u64) -> Pairing {
        let pairing = pair(&self.entries, history, seed, OddOneOut::Trio);
        self.entries
            .retain(|e| pairing.left_out.iter().any(|l| l.member == e.member));
        pairing
    }
}

/// One queued member as pairing sees them.
struct Seat<'a> {
    entry: &'a Entry,
    record: Option<&'a MemberRecord>,
}

impl Seat<'_> {
    fn last_role(&self) -> Option<Role> {
        self.record.and_then(|r| r.last_role)
    }

    fn sat_out_last_time(&self) -> bool {
        self.record.is_some_and(MemberRecord::sat_out_last_time)
    }

    fn candidate_times(&self) -> u32 {
        self.record.map_or(0, |r| r.candidate_times)
    }

    fn wants_solo(&self) -> bool {
        self.entry.preference == Preference::SoloIfNoPartner
    }
}

/// A group by seat numbers until the end, when it gets names and a setting.
struct Seating {
    /// The earliest queue place among its members, which orders the groups.
    first: usize,
    candidate: usize,
    antagonist: Option<usize>,
    observer: Option<usize>,
}

impl Seating {
    fn group(&self, seats: &[Seat]) -> Group {
        let name = |v: usize| seats[v].entry.member.clone();
        let wishes = || {
            [Some(self.candidate), self.antagonist, self.observer]
                .into_iter()
                .flatten()
                .map(|v| seats[v].entry)
        };
        Group {
            candidate: name(self.candidate),
            antagonist: self.antagonist.map(name),
            observer: self.observer.map(name),
            scenario: wishes().find_map(|e| e.scenario.clone()),
            difficulty: wishes().find_map(|e| e.difficulty),
        }
    }
}

/// Groups `entries` (a member listed twice counts once) avoiding earlier partners and
/// alternating roles, as the module describes. Deterministic for a seed.
pub fn pair(entries: &[Entry], history: &History, seed: u64, odd: OddOneOut) -> Pairing {
    // Queue places by history number, so partners are found without hashing their names.
    let mut place_of = vec![NONE; history.len()];
    let mut newcomers: Map<&str, ()> = Map::default();
    let mut seats: Vec<Seat> = Vec::with_capacity(entries.len());
    for entry in entries {
        let number = history.number(&entry.member);
        match number {
            Some(h) if place_of[h as usize] != NONE => continue,
            Some(h) => place_of[h as usize] = seats.len() as u32,
            None if newcomers.insert(&entry.member, ()).is_some() => continue,
            None => {}
        }
        seats.push(Seat {
            entry,
            record: number.map(|h| history.by_number(h)),
        });
    }
    let n = seats.len();
    let mut pairing = Pairing::default();
    if n == 1 {
        if odd == OddOneOut::Solo || seats[0].wants_solo() {
            pairing.groups.push(
                Seating {
                    first: 0,
                    candidate: 0,
                    antagonist: None,
                    observer: None,
                }
                .group(&seats),
            );
        } else {
            pairing.left_out.push(LeftOut {
                member: seats[0].entry.member.clone(),
                reason: LeftOutReason::NoPartner,
            });
        }
        return pairing;
    }
    if n == 0 {
        return pairing;
    }

    let mut met = Acquaintances::with_capacity(n);
    for seat in &seats {
        met.push(
            seat.record
                .into_iter()
                .flat_map(MemberRecord::met_numbers)
                .map(|h| place_of[h as usize])
                .filter(|&v| v != NONE),
        );
    }
    let mut rng = Seeded::new(seed);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut position = vec![0; n];
    for (i, &v) in order.iter().enumerate() {
        position[v] = i;
    }
    let mut matcher = Matcher::new(met);
    greedy_start(&mut matcher, &order, &seats);
    matcher.maximize();

    let odd_one = if n % 2 == 1 {
        let tiers: [&dyn Fn(&Seat) -> bool; 3] = [
            &|s| s.wants_solo() && !s.sat_out_last_time(),
            &|s| !s.sat_out_last_time(),
            &|_| true,
        ];
        tiers.iter().find_map(|tier| {
            let eligible: Vec<bool> = seats.iter().map(tier).collect();
            matcher.seat_one_of(&eligible)
        })
    } else {
        None
    };

    let mut pairs: Vec<(usize, usize)> = order
        .iter()
        .filter_map(|&v| matcher.mate(v).filter(|&w| w < n && v < w).map(|w| (v, w)))
        .collect();
    pairs.sort_by_key(|&(a, b)| position[a].min(position[b]));
    pairs.extend(pair_stranded(
        matcher.unmatched(),
        &position,
        &seats,
        history,
    ));

    let mut seatings: Vec<Seating> = pairs
        .iter()
        .map(|&(a, b)| {
            let (candidate, antagonist) = roles(a, b, &seats, &mut rng);
            Seating {
                first: a.min(b),
                candidate,
                antagonist: Some(antagonist),
                observer: None,
            }
        })
        .collect();
    if let Some(u) = odd_one {
        if odd == OddOneOut::Solo || seats[u].wants_solo() {
            seatings.push(Seating {
                first: u,
                candidate: u,
                antagonist: None,
                observer: None,
            });
        } else {
            // The observer joins the pair with the fewest people they have met, the first
            // such in the shuffled order.
            let known = |x: usize| u32::from(!matcher.fresh(u, x));
            let best = (0..pairs.len()).min_by_key(|&i| known(pairs[i].0) + known(pairs[i].1));
            if let Some(seating) = best.map(|i| &mut seatings[i]) {
                seating.first = seating.first.min(u);
                seating.observer = Some(u);
            }
        }
    }
    seatings.sort_by_key(|s| s.first);
    pairing.groups = seatings.iter().map(|s| s.group(&seats)).collect();
    pairing
}

/// Pairs the members the matching left over. Each has met every other one already, so
/// each is paired, in shuffled order, with the one they met longest ago.
fn pair_stranded(
    mut stranded: Vec<usize>,
    position: &[usize],
    seats: &[Seat],
    history: &History,
) -> Vec<(usize, usize)> {
    stranded.sort_by_key(|&v| std::cmp::Reverse(position[v]));
    let mut pairs = Vec::new();
    while let Some(a) = stranded.pop() {
        // Past a few thousand, choosing costs more than it is worth; no real group strands
        // that many.
        let pick = if stranded.len() > 4096 {
            stranded.len().checked_sub(1)
        } else {
            stranded
                .iter()
                .enumerate()
                .min_by_key(|&(i, &b)| {
                    let met = history.met(&seats[a].entry.member, &seats[b].entry.member);
                    let when = met.map_or((0, 0), |m| (m.last_round, m.times));
                    // The earliest in shuffled order among equals: the list runs backwards.
                    (when, std::cmp::Reverse(i))
                })
                .map(|(i, _)| i)
        };
        let Some(pick) = pick else { break };
        pairs.push((a, stranded.remove(pick)));
    }
    pairs
}

/// Pairs `members` people named `m1`…`mN`, all peers only, over `rounds` consecutive rounds
/// with history carried between them: what `spar rounds simulate` shows an admin.
pub fn simulate(members: usize, rounds: usize, seed: u64) -> Vec<Pairing> {
    let entries: Vec<Entry> = (1..=members)
        .map(|i| Entry::peer(format!("m{i}")))
        .collect();
    let mut history = History::new();
    (0..rounds)
        .map(|round| {
            let pairing = pair(
                &entries,
                &history,
                super::round_seed(seed, round as u64),
                OddOneOut::Trio,
            );
            history.record(&pairing.groups);
            pairing
        })
        .collect()
}

/// Which of `a` and `b` plays the candidate and which the antagonist, so that each swaps the
/// role they last played; when both played the same one, the member who has been candidate
/// less often gets the candidate's seat.
fn roles(a: usize, b: usize, seats: &[Seat], rng: &mut Seeded) -> (usize, usize) {
    use Role::{Antagonist, Candidate};
    match (seats[a].last_role(), seats[b].last_role()) {
        (Some(Candidate), Some(Candidate)) | (Some(Antagonist), Some(Antagonist)) => {}
        (Some(Candidate), _) | (_, Some(Antagonist)) => return (b, a),
        (_, Some(Candidate)) | (Some(Antagonist), _) => return (a, b),
        _ => {}
    }
    let a_first = match seats[a].candidate_times().cmp(&seats[b].candidate_times()) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => rng.coin(),
    };
    if a_first { (a, b) } else { (b, a) }
}

/// Matches former candidates with former antagonists first, then everyone left, each with
/// the first stranger a few places on in the shuffled order. The matching finishes the job.
fn greedy_start(matcher: &mut Matcher, order: &[usize], seats: &[Seat]) {
    let of_role = |role: Role| -> Vec<usize> {
        order
            .iter()
            .copied()
            .filter(|&v| seats[v].last_role() == Some(role))
            .collect()
    };
    let candidates = of_role(Role::Candidate);
    let antagonists = of_role(Role::Antagonist);
    let mut from = 0;
    for &c in &candidates {
        while from < antagonists.len() && !matcher.is_free(antagonists[from]) {
            from += 1;
        }
        let partner = antagonists[from.min(antagonists.len())..]
            .iter()
            .copied()
            .filter(|&a| matcher.is_free(a))
            .take(LOOKAHEAD)
            .find(|&a| matcher.fresh(c, a));
        if let Some(a) = partner {
            matcher.join(c, a);
        }
    }
    let rest: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&v| matcher.is_free(v))
        .collect();
    let mut from = 0;
    for (i, &v) in rest.iter().enumerate() {
        if !matcher.is_free(v) {
            continue;
        }
        from = from.max(i + 1);
        while from < rest.len() && !matcher.is_free(rest[from]) {
            from += 1;
        }
        let partner = rest[from.min(rest.len())..]
            .iter()
            .copied()
            .filter(|&w| matcher.is_free(w))
            .take(LOOKAHEAD)
            .find(|&w| matcher.fresh(v, w));
        if let Some(w) = partner {
            matcher.join(v, w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pairing: &Pairing) -> Vec<(String, Option<String>, Option<String>)> {
        pairing
            .groups
            .iter()
            .map(|g| {
                (
                    g.candidate.clone(),
                    g.antagonist.clone(),
                    g.observer.clone(),
                )
            })
            .collect()
    }

    fn peers(ids: &[&str]) -> Vec<Entry> {
        ids.iter().map(|id| Entry::peer(*id)).collect()
    }

    fn partners(g: &Group) -> (String, String) {
        let a = g.antagonist.clone().expect("a pair");
        let c = g.candidate.clone();
        if c < a { (c, a) } else { (a, c) }
    }

    #[test]
    fn members_who_met_are_not_paired_again_while_strangers_are_waiting() {
        let mut history = History::new();
        history.record(&[
            Group::new("ann".into(), Some("bo".into()), None),
            Group::new("cy".into(), Some("di".into()), None),
        ]);
        for seed in 0..20 {
            let pairing = pair(
                &peers(&["ann", "bo", "cy", "di"]),
                &history,
                seed,
                OddOneOut::Trio,
            );
            for g in &pairing.groups {
                let p = partners(g);
                assert!(p != ("ann".into(), "bo".into()) && p != ("cy".into(), "di".into()));
            }
        }
    }

    #[test]
    fn last_time_s_candidate_plays_the_antagonist() {
        let mut history = History::new();
        history.record(&[
            Group::new("ann".into(), Some("bo".into()), None),
            Group::new("cy".into(), Some("di".into()), None),
        ]);
        let pairing = pair(
            &peers(&["ann", "bo", "cy", "di"]),
            &history,
            3,
            OddOneOut::Trio,
        );
        for g in &pairing.groups {
            assert!(["bo", "di"].contains(&g.candidate.as_str()), "{g:?}");
            assert!(
                g.antagonist
                    .as_deref()
                    .is_some_and(|a| ["ann", "cy"].contains(&a))
            );
        }
    }

    #[test]
    fn a_lone_member_is_told_why_or_drills_solo_if_they_asked_to() {
        let alone = pair(&peers(&["ann"]), &History::new(), 1, OddOneOut::Trio);
        assert!(alone.groups.is_empty());
        assert_eq!(
            alone.left_out,
            vec![LeftOut {
                member: "ann".into(),
                reason: LeftOutReason::NoPartner
            }]
        );
        let mut entry = Entry::peer("ann");
        entry.preference = Preference::SoloIfNoPartner;
        let solo = pair(&[entry], &History::new(), 1, OddOneOut::Trio);
        assert!(solo.left_out.is_empty());
        assert_eq!(names(&solo), vec![("ann".into(), None, None)]);
        let offered = pair(&peers(&["ann"]), &History::new(), 1, OddOneOut::Solo);
        assert_eq!(names(&offered), vec![("ann".into(), None, None)]);
        assert!(pair(&[], &History::new(), 1, OddOneOut::Trio) == Pairing::default());
    }

    #[test]
    fn an_odd_count_makes_one_trio_unless_someone_would_rather_drill_solo() {
        let trio = pair(
            &peers(&["a", "b", "c", "d", "e"]),
            &History::new(),
            9,
            OddOneOut::Trio,
        );
        assert_eq!(trio.groups.len(), 2);
        assert_eq!(trio.groups.iter().filter(|g| g.is_trio()).count(), 1);
        let mut entries = peers(&["a", "b", "c", "d", "e"]);
        entries[3].preference = Preference::SoloIfNoPartner;
        let solo = pair(&entries, &History::new(), 9, OddOneOut::Trio);
        assert_eq!(solo.groups.len(), 3);
        assert!(!solo.groups.iter().any(Group::is_trio));
        let alone: Vec<&Group> = solo.groups.iter().filter(|g| g.is_solo()).collect();
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].candidate, "d");
    }

    #[test]
    fn the_observer_seat_rotates() {
        let mut history = History::new();
        let mut observers = Vec::new();
        for round in 0..3 {
            let pairing = pair(&peers(&["a", "b", "c"]), &history, round, OddOneOut::Trio);
            let trio = &pairing.groups[0];
            observers.push(trio.observer.clone().expect("a trio"));
            history.record(&pairing.groups);
        }
        observers.sort();
        assert_eq!(observers, vec!["a", "b", "c"]);
    }

    #[test]
    fn swapping_roles_lets_the_antagonist_practise_and_turns_a_trio_round() {
        let mut pair = Group::new("ann".into(), Some("bo".into()), None);
        pair.scenario = Some("latency-regression".into());
        let mirror = pair.swapped().expect("a pair has a mirror");
        assert_eq!(
            (mirror.candidate.as_str(), mirror.antagonist.as_deref()),
            ("bo", Some("ann"))
        );
        assert_eq!(mirror.scenario, None);
        let trio = Group::new("ann".into(), Some("bo".into()), Some("cy".into()));
        let turned = trio.swapped().expect("a trio has a mirror");
        assert_eq!(turned.role_of("cy"), Some(Role::Candidate));
        assert_eq!(turned.role_of("ann"), Some(Role::Antagonist));
        assert_eq!(turned.role_of("bo"), Some(Role::Observer));
        assert_eq!(Group::new("ann".into(), None, None).swapped(), None);
    }

    #[test]
    fn the_same_seed_gives_the_same_groups_and_another_seed_other_ones() {
        let ids: Vec<String> = (1..=40).map(|i| format!("m{i}")).collect();
        let entries: Vec<Entry> = ids.iter().map(Entry::peer).collect();
        let history = History::new();
        let a = pair(&entries, &history, 42, OddOneOut::Trio);
        assert_eq!(a, pair(&entries, &history, 42, OddOneOut::Trio));
        assert_ne!(a, pair(&entries, &history, 43, OddOneOut::Trio));
    }

    #[test]
    fn a_group_practises_its_candidate_s_scenario() {
        let mut ann = Entry::peer("ann");
        ann.scenario = Some("latency-regression".into());
        ann.difficulty = Some(Difficulty::Hostile);
        let mut bo = Entry::peer("bo");
        bo.scenario = Some("metric-selection".into());
        let mut history = History::new();
        history.record(&[Group::new("bo".into(), Some("ann".into()), None)]);
        let pairing = pair(&[ann, bo], &history, 0, OddOneOut::Trio);
        let g = &pairing.groups[0];
        assert_eq!(g.candidate, "ann");
        assert_eq!(g.scenario.as_deref(), Some("latency-regression"));
        assert_eq!(g.difficulty, Some(Difficulty::Hostile));
    }

    #[test]
    fn the_queue_keeps_places_updates_wishes_and_keeps_only_the_left_out_after_pairing() {
        let mut queue = Queue::new();
        assert_eq!(queue.join(Entry::peer("ann")), Joined::Added);
        assert_eq!(queue.join(Entry::peer("bo")), Joined::Added);
        let mut again = Entry::peer("ann");
        again.difficulty = Some(Difficulty::Gentle);
        assert_eq!(queue.join(again), Joined::Updated);
        assert_eq!(queue.entries()[0].difficulty, Some(Difficulty::Gentle));
        assert!(queue.leave("bo"));
        assert!(!queue.leave("bo"));
        let pairing = queue.pair(&History::new(), 1);
        assert_eq!(pairing.left_out.len(), 1);
        assert_eq!(queue.len(), 1);
        queue.join(Entry::peer("cy"));
        let pairing = queue.pair(&History::new(), 1);
        assert_eq!(pairing.groups.len(), 1);
        assert!(queue.is_empty());
        let dup = Queue::from_entries(peers(&["x", "y", "x"]));
        assert_eq!(dup.len(), 2);
    }
}
