//! Maximum matching on the graph of queued members who have not met, by Edmonds' blossom
//! algorithm. Edges are implicit (two members are adjacent unless history says they met),
//! because the graph of strangers in a large queue is nearly complete. One extra vertex, the
//! odd seat, stands for the observer's or solo place when the count is odd: it is adjacent to
//! whoever is eligible for it, so the matching decides who sits out without giving up a
//! fresh pair for it.
//!
//! Searches look for an unmatched neighbour of every vertex they reach before walking its
//! whole neighbourhood: in a dense graph that ends a search within a step or two, which is
//! what keeps a queue of 100,000 fast.

use std::collections::VecDeque;

pub(crate) const NONE: u32 = u32::MAX;

/// Each member's earlier partners as sorted member indices, all in one list: a queue of
/// 100,000 then costs two allocations, not one per member.
#[derive(Debug, Clone)]
pub(crate) struct Acquaintances {
    starts: Vec<usize>,
    known: Vec<u32>,
}

impl Acquaintances {
    pub(crate) fn with_capacity(members: usize) -> Acquaintances {
        let mut starts = Vec::with_capacity(members + 1);
        starts.push(0);
        Acquaintances {
            starts,
            known: Vec::new(),
        }
    }

    /// Adds the next member, with the indices of the members they have met.
    pub(crate) fn push(&mut self, partners: impl Iterator<Item = u32>) {
        let start = self.known.len();
        self.known.extend(partners);
        self.known[start..].sort_unstable();
        self.starts.push(self.known.len());
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn of(&self, member: usize) -> &[u32] {
        &self.known[self.starts[member]..self.starts[member + 1]]
    }
}

pub(crate) struct Matcher {
    met: Acquaintances,
    /// Who may take the odd seat (vertex `met.len()`); all false while it is closed.
    seat: Vec<bool>,
    /// Each vertex's partner, or `NONE`.
    mate: Vec<u32>,
    /// Unmatched members; refreshed before each pass.
    exposed: Vec<u32>,
    // The alternating tree of the current search; only vertices listed in `tree` are dirty.
    parent: Vec<u32>,
    base: Vec<u32>,
    outer: Vec<bool>,
    in_tree: Vec<bool>,
    tree: Vec<u32>,
    queue: VecDeque<u32>,
    // Marks by stamp, so no search clears a whole array.
    lca_mark: Vec<u32>,
    lca_stamp: u32,
    blossom_mark: Vec<u32>,
    blossom_stamp: u32,
}

impl Matcher {
    pub(crate) fn new(met: Acquaintances) -> Matcher {
        let n = met.len();
        let v = n + 1;
        Matcher {
            met,
            seat: vec![false; n],
            mate: vec![NONE; v],
            exposed: Vec::new(),
            parent: vec![NONE; v],
            base: (0..v as u32).collect(),
            outer: vec![false; v],
            in_tree: vec![false; v],
            tree: Vec::new(),
            queue: VecDeque::new(),
            lca_mark: vec![0; v],
            lca_stamp: 0,
            blossom_mark: vec![0; v],
            blossom_stamp: 0,
        }
    }

    fn members(&self) -> usize {
        self.met.len()
    }

    /// Whether `a` and `b` have never met (or one is the odd seat and the other may take it).
    pub(crate) fn fresh(&self, a: usize, b: usize) -> bool {
        let n = self.members();
        if a == b {
            false
        } else if a == n {
            self.seat[b]
        } else if b == n {
            self.seat[a]
        } else {
            self.met.of(a).binary_search(&(b as u32)).is_err()
        }
    }

    pub(crate) fn mate(&self, v: usize) -> Option<usize> {
        let m = self.mate[v];
        (m != NONE).then_some(m as usize)
    }

    pub(crate) fn is_free(&self, v: usize) -> bool {
        self.mate[v] == NONE
    }

    /// Matches two free members directly (the greedy start).
    pub(crate) fn join(&mut self, a: usize, b: usize) {
        debug_assert!(self.is_free(a) && self.is_free(b) && a != b);
        self.mate[a] = b as u32;
        self.mate[b] = a as u32;
    }

    /// Members still unmatched.
    pub(crate) fn unmatched(&self) -> Vec<usize> {
        (0..self.members()).filter(|&v| self.is_free(v)).collect()
    }

    /// Grows the matching of members until no augmenting path is left: it is then maximum,
    /// so every pair of members still unmatched has met before.
    pub(crate) fn maximize(&mut self) {
        self.exposed = (0..self.members() as u32)
            .filter(|&v| self.mate[v as usize] == NONE)
            .collect();
        let mut failed = vec![false; self.members()];
        loop {
            self.exposed.retain(|&x| self.mate[x as usize] == NONE);
            let mut live = self.exposed.iter().filter(|&&x| !failed[x as usize]);
            let (Some(&root), Some(_)) = (live.next(), live.next()) else {
                break;
            };
            // A vertex with no augmenting path now never gets one later (Edmonds), so each
            // is searched from at most once.
            match self.search(root as usize) {
                Some(end) => self.augment(end),
                None => failed[root as usize] = true,
            }
        }
        self.clear_tree();
    }

    /// Opens the odd seat to `eligible` members and tries to fill it without losing a pair.
    /// Returns who took it, or `None` if none of them can (the seat closes again).
    pub(crate) fn seat_one_of(&mut self, eligible: &[bool]) -> Option<usize> {
        let seat = self.members();
        if !eligible.iter().any(|&e| e) || self.mate[seat] != NONE {
            return self.mate(seat);
        }
        self.seat.copy_from_slice(eligible);
        self.exposed = (0..self.members() as u32)
            .filter(|&v| self.mate[v as usize] == NONE)
            .collect();
        let found = self.search(seat);
        if let Some(end) = found {
            self.augment(end);
        }
        self.clear_tree();
        self.seat.fill(false);
        self.mate(seat)
    }

    fn vertices(&self) -> usize {
        self.members() + 1
    }

    fn enter(&mut self, v: usize) {
        if !self.in_tree[v] {
            self.in_tree[v] = true;
            self.tree.push(v as u32);
        }
    }

    fn clear_tree(&mut self) {
        for &v in &self.tree {
            let v = v as usize;
            self.parent[v] = NONE;
            self.base[v] = v as u32;
            self.outer[v] = false;
            self.in_tree[v] = false;
        }
        self.tree.clear();
        self.queue.clear();
    }

    /// An unmatched member outside the tree adjacent to `v`, if any.
    fn exposed_neighbour(&self, v: usize, root: usize) -> Option<usize> {
        self.exposed
            .iter()
            .map(|&x| x as usize)
            .find(|&x| x != root && self.mate[x] == NONE && !self.in_tree[x] && self.fresh(v, x))
    }

    /// Labels `v` outer and, if it already touches an unmatched vertex, returns that end.
    fn grow(&mut self, v: usize, root: usize) -> Option<usize> {
        self.enter(v);
        self.outer[v] = true;
        self.queue.push_back(v as u32);
        let end = self.exposed_neighbour(v, root)?;
        self.parent[end] = v as u32;
        self.enter(end);
        Some(end)
    }

    /// Breadth-first search for an augmenting path from `root`; returns its other end,
    /// with `parent` and `mate` describing the path.
    fn search(&mut self, root: usize) -> Option<usize> {
        self.clear_tree();
        if let Some(end) = self.grow(root, root) {
            return Some(end);
        }
        while let Some(v) = self.queue.pop_front() {
            let v = v as usize;
            for to in 0..self.vertices() {
                if self.base[v] == self.base[to] || self.mate[v] == to as u32 || !self.fresh(v, to)
                {
                    continue;
                }
                let to_mate = self.mate[to];
                let to_is_outer =
                    to == root || (to_mate != NONE && self.parent[to_mate as usize] != NONE);
                if to_is_outer {
                    if let Some(end) = self.contract(v, to, root) {
                        return Some(end);
                    }
                } else if self.parent[to] == NONE {
                    self.parent[to] = v as u32;
                    self.enter(to);
                    if to_mate == NONE {
                        return Some(to);
                    }
                    if let Some(end) = self.grow(to_mate as usize, root) {
                        return Some(end);
                    }
                }
            }
        }
        None
    }

    /// Shrinks the odd cycle closed by the edge `v`–`to` into one blossom.
    fn contract(&mut self, v: usize, to: usize, root: usize) -> Option<usize> {
        let base = self.common_base(v, to);
        self.blossom_stamp += 1;
        self.mark_path(v, base, to);
        self.mark_path(to, base, v);
        let mut i = 0;
        while i < self.tree.len() {
            let u = self.tree[i] as usize;
            i += 1;
            if self.blossom_mark[self.base[u] as usize] == self.blossom_stamp {
                self.base[u] = base as u32;
                if !self.outer[u] {
                    if let Some(end) = self.grow(u, root) {
                        return Some(end);
                    }
                }
            }
        }
        None
    }

    /// The base of the lowest common ancestor of `a` and `b` in the tree.
    fn common_base(&mut self, a: usize, b: usize) -> usize {
        self.lca_stamp += 1;
        let mut a = a;
        loop {
            a = self.base[a] as usize;
            self.lca_mark[a] = self.lca_stamp;
            if self.mate[a] == NONE {
                break;
            }
            a = self.parent[self.mate[a] as usize] as usize;
        }
        let mut b = b;
        loop {
            b = self.base[b] as usize;
            if self.lca_mark[b] == self.lca_stamp {
                return b;
            }
            b = self.parent[self.mate[b] as usize] as usize;
        }
    }

    fn mark_path(&mut self, mut v: usize, base: usize, mut child: usize) {
        while self.base[v] as usize != base {
            let m = self.mate[v] as usize;
            self.blossom_mark[self.base[v] as usize] = self.blossom_stamp;
            self.blossom_mark[self.base[m] as usize] = self.blossom_stamp;
            self.parent[v] = child as u32;
            child = m;
            v = self.parent[m] as usize;
        }
    }

    fn augment(&mut self, end: usize) {
        let mut v = end as u32;
        while v != NONE {
            let pv = self.parent[v as usize];
            let next = self.mate[pv as usize];
            self.mate[v as usize] = pv;
            self.mate[pv as usize] = v;
            v = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The complement of `edges` among `n` members, as `met` lists.
    fn met_from(n: usize, met_pairs: &[(u32, u32)]) -> Acquaintances {
        let mut met = Acquaintances::with_capacity(n);
        for v in 0..n as u32 {
            met.push(met_pairs.iter().filter_map(|&(a, b)| {
                if a == v {
                    Some(b)
                } else if b == v {
                    Some(a)
                } else {
                    None
                }
            }));
        }
        met
    }

    fn matched_pairs(m: &Matcher) -> usize {
        (0..m.members())
            .filter(|&v| m.mate(v).is_some_and(|w| w > v && w < m.members()))
            .count()
    }

    #[test]
    fn a_path_through_a_blossom_is_found() {
        // Fresh edges: a triangle 0-1-2 with a tail 2-3 and 0-4, greedily matched 1-2 and
        // nothing else, so 3 and 4 need the path 4-0-(blossom)-2-3.
        let n = 5;
        let fresh = [(0, 1), (1, 2), (0, 2), (2, 3), (0, 4)];
        let mut met_pairs = Vec::new();
        for a in 0..n as u32 {
            for b in a + 1..n as u32 {
                if !fresh.contains(&(a, b)) {
                    met_pairs.push((a, b));
                }
            }
        }
        let mut m = Matcher::new(met_from(n, &met_pairs));
        m.join(1, 2);
        m.maximize();
        assert_eq!(matched_pairs(&m), 2);
        for v in 0..n {
            if let Some(w) = m.mate(v) {
                assert!(m.fresh(v, w), "{v}-{w} is not a fresh edge");
            }
        }
    }

    #[test]
    fn the_odd_seat_goes_to_an_eligible_member_without_losing_a_pair() {
        // Five members, nobody has met: two pairs and one seat, which only 3 may take.
        let mut m = Matcher::new(met_from(5, &[]));
        m.join(3, 4);
        m.join(0, 1);
        m.maximize();
        let mut eligible = vec![false; 5];
        eligible[3] = true;
        assert_eq!(m.seat_one_of(&eligible), Some(3));
        assert_eq!(matched_pairs(&m), 2);
    }

    #[test]
    fn nobody_eligible_leaves_the_seat_empty() {
        let mut m = Matcher::new(met_from(3, &[]));
        m.maximize();
        assert_eq!(m.seat_one_of(&[false; 3]), None);
        assert_eq!(m.seat_one_of(&[true; 3]).map(|v| v < 3), Some(true));
    }
}
