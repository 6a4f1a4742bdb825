//! `spar export --drill ID`: one drill's transcript with its scorecard, as JSON whose
//! `scenario` and `turns` are the transcript format of `spar score` (so an export can be
//! scored again), or as Markdown to read or share.

use super::emit;
use crate::cli::{ExportArgs, ExportFormat};
use crate::config::Settings;
use crate::report::{markdown, rfc3339};
use crate::store;
use serde_json::Value;
use spar_core::store::{DrillId, LoadedDrill, StoreError};
use std::process::ExitCode;

pub fn run(settings: &Settings, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let store = store::open(settings.database_url.as_deref()).await?;
        let drill = match store.load_drill(&DrillId(args.drill.clone())).await {
            Ok(drill) => drill,
            Err(StoreError::NotFound(_)) => {
                return Err(crate::failure::input_error(format!(
                    "no drill has the id {}; `spar history` lists them",
                    args.drill
                )));
            }
            Err(e) => return Err(anyhow::Error::new(e).context("reading the drill")),
        };
        match args.format {
            ExportFormat::Json => emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&json(&drill))?
            ))?,
            ExportFormat::Markdown => {
                let library = crate::library::load(settings.scenarios.as_deref())?;
                emit(&markdown(
                    &drill,
                    library.get(&drill.record.settings.scenario_id),
                ))?
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The transcript (`scenario`, `turns`) plus the drill's facts and its scorecard.
pub fn json(drill: &LoadedDrill) -> Value {
    let record = &drill.record;
    let transcript = spar_core::Transcript {
        scenario: Some(record.settings.scenario_id.clone()),
        turns: drill.plain_turns(),
    };
    let mut value = serde_json::to_value(&transcript).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("id".into(), record.id.as_str().into());
        map.insert(
            "difficulty".into(),
            record.settings.difficulty.as_str().into(),
        );
        map.insert("mode".into(), record.settings.mode.as_str().into());
        map.insert("phase".into(), record.phase.as_str().into());
        map.insert(
            "started_at".into(),
            rfc3339(record.started_at.unwrap_or(record.created_at)).into(),
        );
        map.insert(
            "scorecard".into(),
            drill
                .scorecard
                .as_ref()
                .map_or(Value::Null, |s| s.json.clone()),
        );
    }
    value
}
