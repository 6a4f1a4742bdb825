//! Keeps a terminal drill in the store as it happens, through the same `Engine` that
//! runs chat drills: each event the terminal's drill handles is applied to the stored
//! drill and committed before its effects are performed, then the scorecard and any
//! model token usage are stored. A drill taken up again after its process ended is kept
//! the same way.

use super::Recorder;
use crate::engine::{Engine, Sender};
use anyhow::Context as _;
use spar_core::Role;
use spar_core::drill::{Drill, Effect, Event, Millis};
use spar_core::scoring::Scorecard;
use spar_core::store::{
    DrillId, EpochMillis, LoadedDrill, NewDrill, PersonId, StoredScorecard, StoredTurn,
};
use spar_core::transcript::Turn;

pub struct EngineRecorder {
    engine: Engine,
    drill: DrillId,
    /// The candidate's person id, for a cut-off line stored outside any event.
    candidate: Option<PersonId>,
}

impl EngineRecorder {
    /// Stores a new drill, in its briefing, with its participants.
    pub async fn begin(engine: Engine, new: &NewDrill) -> anyhow::Result<EngineRecorder> {
        engine
            .start_drill(new)
            .await
            .context("saving the new drill")?;
        let loaded = engine
            .store()
            .load_drill(&new.id)
            .await
            .context("reading the new drill back")?;
        Ok(EngineRecorder::resume(engine, &loaded))
    }

    /// Keeps a stored drill that this process takes up again.
    pub fn resume(engine: Engine, drill: &LoadedDrill) -> EngineRecorder {
        EngineRecorder {
            candidate: drill.member(Role::Candidate).map(|m| m.id),
            drill: drill.record.id.clone(),
            engine,
        }
    }

    pub fn drill_id(&self) -> &DrillId {
        &self.drill
    }
}

impl Recorder for EngineRecorder {
    async fn event(
        &mut self,
        _drill: &Drill,
        event: &Event,
        _effects: &[Effect],
        now: Millis,
    ) -> anyhow::Result<()> {
        self.engine
            .handle(
                &self.drill,
                None,
                Sender::System,
                event.clone(),
                now as EpochMillis,
            )
            .await
            .context("saving the drill")?;
        Ok(())
    }

    async fn cut_off(&mut self, _drill: &Drill, index: usize, turn: &Turn) -> anyhow::Result<()> {
        let turn = StoredTurn {
            index,
            turn: turn.clone(),
            author: self.candidate,
        };
        self.engine
            .store()
            .append_turn(&self.drill, &turn)
            .await
            .context("saving the line the input ended in")?;
        Ok(())
    }

    async fn scorecard(
        &mut self,
        _drill: &Drill,
        card: &Scorecard,
        now: Millis,
    ) -> anyhow::Result<()> {
        let json = serde_json::to_value(card).context("encoding the scorecard")?;
        let card = StoredScorecard::from_json(json).context("encoding the scorecard")?;
        self.engine
            .store()
            .save_scorecard(&self.drill, &card, now as EpochMillis)
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
        self.engine
            .store()
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
