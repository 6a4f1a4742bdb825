//! The moments of one turn that split Spar's own time from the model's: the antagonist
//! asked, its line ready, the reply posted. The paced cast and the in-memory surface
//! record them into the task that drives the turn, when that task holds a stopwatch
//! (`spar bench load` does); elsewhere recording costs one failed task-local look-up.

use std::cell::Cell;
use std::time::Instant;

/// What one turn's task has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lap {
    /// When the antagonist was first asked for the turn's line.
    pub asked: Option<Instant>,
    /// When its last line was ready.
    pub answered: Option<Instant>,
    /// When the last message was posted or edited.
    pub posted: Option<Instant>,
}

tokio::task_local! {
    static LAP: Cell<Lap>;
}

/// Runs `turn` with a fresh stopwatch, and returns what it recorded with its output.
pub async fn time<F: std::future::Future>(turn: F) -> (F::Output, Lap) {
    LAP.scope(Cell::new(Lap::default()), async {
        let output = turn.await;
        (output, LAP.with(Cell::get))
    })
    .await
}

fn record(change: impl FnOnce(&mut Lap)) {
    let _ = LAP.try_with(|lap| {
        let mut now = lap.get();
        change(&mut now);
        lap.set(now);
    });
}

/// The antagonist is asked now; a second ask in the same turn keeps the first moment.
pub fn asked() {
    let now = Instant::now();
    record(|lap| {
        lap.asked.get_or_insert(now);
    });
}

/// The antagonist's line is ready now.
pub fn answered() {
    let now = Instant::now();
    record(|lap| lap.answered = Some(now));
}

/// A message was posted (or edited) now.
pub fn posted() {
    let now = Instant::now();
    record(|lap| lap.posted = Some(now));
}
