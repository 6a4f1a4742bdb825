//! Peer drills: members of a channel queue up and are grouped into pairs (and at most one
//! trio with an observer), swap candidate and antagonist across rounds, meet at scheduled
//! rounds, and rate each other. Everything here is pure: the seed and the time come in.

pub mod history;
mod matching;
pub mod pairing;
#[cfg(test)]
mod properties;
pub mod ratings;
pub mod round;
pub mod schedule;
mod seeded;
pub mod text;

pub use history::{History, MemberRecord, Met};
pub use pairing::{
    Entry, Group, Joined, LeftOut, LeftOutReason, OddOneOut, Pairing, Preference, Queue, pair,
    simulate,
};
pub use ratings::{CombinedDebrief, Disagreement, Evidence, Rating, RatingError};
pub use round::{Roster, RoundEffect, RoundEvent, RoundPhase, ScheduledRound};
pub use schedule::{Schedule, ScheduleError};
pub use seeded::{Seeded, round_seed};
pub use text::{AntagonistBrief, PeerText, PeerTextError};
