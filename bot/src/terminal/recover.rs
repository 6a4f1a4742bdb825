//! Drills of the terminal's user that no process runs any more (the terminal was closed,
//! the process was killed). The next `spar practice` finds them, so none stays live
//! forever: each is ended as abandoned and scored on what was said, unless the user
//! chooses to take one up again.

use super::hold::{Hold, Probe};
use crate::engine::{Engine, RECOVERY_LEASE, Sender};
use anyhow::Context as _;
use spar_core::Transcript;
use spar_core::drill::{Event, Phase};
use spar_core::scoring::Scorer;
use spar_core::store::{EpochMillis, LoadedDrill, PersonRef, StoredScorecard};
use std::path::Path;

/// How long a briefing with no lock file to tell by may wait for its candidate before it
/// counts as left: nobody reads a brief for a day.
const BRIEFING_PATIENCE_MS: i64 = 24 * 60 * 60 * 1000;

/// An unfinished drill that no process runs, now held by this one.
#[derive(Debug)]
pub struct Orphan {
    pub drill: LoadedDrill,
    /// This process's hold on it, when it has a lock file on this machine.
    pub hold: Option<Hold>,
}

impl Orphan {
    /// Whether the conversation can go on: it had started and time is left.
    pub fn resumable(&self, now: EpochMillis) -> bool {
        let record = &self.drill.record;
        record.phase == Phase::Live && record.ends_at.is_some_and(|end| end > now + 1000)
    }
}

/// `user`'s unfinished terminal drills that no process runs. A drill with a lock file
/// on this machine is judged by its lock; one without (started elsewhere on a shared
/// database) only once it is past any time a running process could still need, and then
/// only if this process wins its recovery claim, so two starting together take it once.
pub async fn find(
    engine: &Engine,
    user: &PersonRef,
    folder: Option<&Path>,
    now: EpochMillis,
) -> anyhow::Result<Vec<Orphan>> {
    let store = engine.store();
    let live = store
        .load_live_drills(&["terminal".to_string()])
        .await
        .context("looking for unfinished drills")?;
    let mut orphans = Vec::new();
    for drill in live {
        let mine = drill.candidate().is_some_and(|c| {
            c.platform == user.platform && c.platform_user_id == user.platform_user_id
        });
        if !mine || drill.record.phase.is_over() {
            continue;
        }
        let probe = folder.map_or(Probe::Unknown, |f| Hold::probe(f, &drill.record.id));
        let hold = match probe {
            Probe::Held => continue,
            Probe::Taken(hold) => Some(hold),
            Probe::Unknown => {
                let lease = i64::try_from(RECOVERY_LEASE.as_millis()).unwrap_or(i64::MAX);
                let record = &drill.record;
                let past = match record.phase {
                    Phase::Briefing => record.created_at.saturating_add(BRIEFING_PATIENCE_MS),
                    _ => record
                        .ends_at
                        .unwrap_or(record.created_at)
                        .saturating_add(lease),
                };
                if now < past
                    || !store
                        .claim_recovery(&record.id, engine.owner(), now, lease)
                        .await
                        .context("claiming an unfinished drill")?
                {
                    continue;
                }
                None
            }
        };
        // Read again now it is held: it may have finished in between.
        let drill = store
            .load_drill(&drill.record.id)
            .await
            .context("reading an unfinished drill")?;
        if !drill.record.phase.is_over() {
            orphans.push(Orphan { drill, hold });
        }
    }
    orphans.sort_by_key(|o| std::cmp::Reverse(o.drill.record.created_at));
    Ok(orphans)
}

/// Ends an orphan as abandoned and scores what the candidate said in it, if anything.
/// Gives the overall score, when there was something to score.
pub async fn abandon(
    engine: &Engine,
    scorer: &Scorer,
    orphan: &Orphan,
    now: EpochMillis,
) -> anyhow::Result<Option<u8>> {
    let id = &orphan.drill.record.id;
    engine
        .handle(id, None, Sender::System, Event::Abandon, now)
        .await
        .context("ending an unfinished drill")?;
    let drill = &orphan.drill;
    let transcript = Transcript {
        scenario: Some(drill.record.settings.scenario_id.clone()),
        turns: drill.plain_turns(),
    };
    if transcript.candidate_turns().next().is_none() {
        return Ok(None);
    }
    let card = scorer.score(&transcript);
    let json = serde_json::to_value(&card).context("encoding the scorecard")?;
    let stored = StoredScorecard::from_json(json).context("encoding the scorecard")?;
    engine
        .store()
        .save_scorecard(id, &stored, now)
        .await
        .context("saving the scorecard of an unfinished drill")?;
    Ok(Some(stored.overall))
}
