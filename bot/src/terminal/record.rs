//! Keeps a terminal drill in the store as it happens: each turn before the antagonist
//! answers it, each phase change, and the scorecard.

use super::Recorder;
use anyhow::Context as _;
use spar_core::drill::{Drill, Effect, Millis, Phase};
use spar_core::scoring::Scorecard;
use spar_core::store::{
    Committed, DrillId, DrillUpdate, EpochMillis, NewDrill, Participant, PersonId, PersonRef,
    Store, StoredScorecard, StoredTurn, WorkspaceRef,
};
use spar_core::transcript::Role;
use std::sync::Arc;

pub struct StoreRecorder {
    store: Arc<dyn Store>,
    drill: DrillId,
    candidate: PersonId,
    version: i64,
}

impl StoreRecorder {
    /// Stores the new drill, with the terminal user as its candidate.
    pub async fn create(
        store: Arc<dyn Store>,
        user: &str,
        drill: &Drill,
        seed: u64,
        now: EpochMillis,
    ) -> anyhow::Result<StoreRecorder> {
        let person = PersonRef::terminal(user);
        let id = DrillId(uuid::Uuid::new_v4().to_string());
        let new = NewDrill {
            id: id.clone(),
            workspace: WorkspaceRef::terminal(),
            settings: drill.settings().clone(),
            // Stored as the same 64 bits, so the drill can be replayed with --seed.
            seed: Some(seed as i64),
            created_at: now,
            participants: vec![Participant {
                person: person.clone(),
                role: Role::Candidate,
            }],
        };
        let record = store
            .create_drill(&new)
            .await
            .context("saving the new drill")?;
        let candidate = store
            .ensure_person(&person)
            .await
            .context("saving the candidate")?;
        Ok(StoreRecorder {
            store,
            drill: id,
            candidate,
            version: record.version,
        })
    }

    pub fn drill_id(&self) -> &DrillId {
        &self.drill
    }
}

impl Recorder for StoreRecorder {
    async fn effect(&mut self, drill: &Drill, effect: &Effect, now: Millis) -> anyhow::Result<()> {
        let mut update = DrillUpdate {
            drill: self.drill.clone(),
            expected_version: self.version,
            at: now as EpochMillis,
            ..DrillUpdate::default()
        };
        match effect {
            Effect::PersistTurn { index, turn } => {
                let author = (turn.role == Role::Candidate).then_some(self.candidate);
                update.turns.push(StoredTurn {
                    index: *index,
                    turn: turn.clone(),
                    author,
                });
            }
            Effect::PersistPhase(phase) => {
                update.phase = Some(*phase);
                if *phase == Phase::Live {
                    update.started_at = drill.started_at().map(|t| t as EpochMillis);
                    update.ends_at = drill.deadline().map(|t| t as EpochMillis);
                }
            }
            // The terminal keeps its own timer: a drill left behind by a closed terminal is
            // not one a bot instance should wake up.
            Effect::ArmTimer { .. }
            | Effect::AskAntagonist
            | Effect::Notify(_)
            | Effect::Debrief => return Ok(()),
        }
        match self
            .store
            .commit(&update)
            .await
            .context("saving the drill")?
        {
            Committed::Applied { version } => self.version = version,
            // Only platform events carry ids, and a terminal drill has none to repeat.
            Committed::Duplicate => {}
        }
        Ok(())
    }

    async fn scorecard(
        &mut self,
        _drill: &Drill,
        card: &Scorecard,
        now: Millis,
    ) -> anyhow::Result<()> {
        let json = serde_json::to_value(card).context("encoding the scorecard")?;
        let stored = StoredScorecard::from_json(json).context("reading the scorecard")?;
        self.store
            .save_scorecard(&self.drill, &stored, now as EpochMillis)
            .await
            .context("saving the scorecard")?;
        Ok(())
    }

    async fn llm_usage(
        &mut self,
        _drill: &Drill,
        model: &str,
        prompt_tokens: u32,
        completion_tokens: u32,
        now: Millis,
    ) -> anyhow::Result<()> {
        self.store
            .record_llm_usage(
                &self.drill,
                model,
                i64::from(prompt_tokens),
                i64::from(completion_tokens),
                now as EpochMillis,
            )
            .await
            .context("saving model token usage")?;
        Ok(())
    }
}
