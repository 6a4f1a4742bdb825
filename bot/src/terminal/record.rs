//! Keeps a terminal drill in the store as it happens, through the engine's `Journal`:
//! each event's turns and phase in one transaction before its effects are performed,
//! then the scorecard and any model token usage.

use super::Recorder;
use crate::engine::Journal;
use anyhow::Context as _;
use spar_core::drill::{Drill, Effect, Millis};
use spar_core::scoring::Scorecard;
use spar_core::store::EpochMillis;

impl Recorder for Journal {
    async fn effects(
        &mut self,
        drill: &Drill,
        effects: &[Effect],
        now: Millis,
    ) -> anyhow::Result<()> {
        self.record(drill, effects, now as EpochMillis)
            .await
            .context("saving the drill")?;
        Ok(())
    }

    async fn scorecard(
        &mut self,
        _drill: &Drill,
        card: &Scorecard,
        now: Millis,
    ) -> anyhow::Result<()> {
        let json = serde_json::to_value(card).context("encoding the scorecard")?;
        self.save_scorecard(json, now as EpochMillis)
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
        self.record_llm_usage(
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
