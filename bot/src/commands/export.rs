//! `spar export --drill ID`: one drill's transcript with its scorecard, as JSON whose
//! `scenario` and `turns` are the transcript format of `spar score` (so an export can be
//! scored again), or as Markdown to read or share.

use super::emit;
use crate::cli::{ExportArgs, ExportFormat};
use crate::config::Settings;
use crate::store;
use serde_json::Value;
use spar_core::store::{DrillId, LoadedDrill, StoreError};
use spar_core::transcript::clock;
use std::fmt::Write as _;
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
            ExportFormat::Markdown => emit(&markdown(&drill))?,
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
            super::history::rfc3339(record.started_at.unwrap_or(record.created_at)).into(),
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

pub fn markdown(drill: &LoadedDrill) -> String {
    let record = &drill.record;
    let mut out = String::new();
    let _ = writeln!(out, "# Drill {}\n", record.id);
    let _ = writeln!(
        out,
        "Scenario **{}**, {}, {} — {}\n",
        record.settings.scenario_id,
        record.settings.difficulty,
        record.settings.mode.as_str(),
        super::history::local_time(record.started_at.unwrap_or(record.created_at))
    );
    let _ = writeln!(out, "## Transcript\n");
    if drill.turns.is_empty() {
        let _ = writeln!(out, "_No turns._\n");
    }
    for stored in &drill.turns {
        let turn = &stored.turn;
        let _ = writeln!(
            out,
            "**{}** ({}): {}\n",
            capitalised(turn.role.as_str()),
            clock(turn.at_s),
            turn.text
        );
    }
    let Some(card) = &drill.scorecard else {
        let _ = writeln!(out, "## Scorecard\n\n_Not scored._");
        return out;
    };
    let card = &card.json;
    let _ = writeln!(out, "## Scorecard\n");
    if let Some(overall) = card.get("overall") {
        let _ = writeln!(out, "Overall: **{overall}**\n");
    }
    if let Some(summary) = card.get("summary").and_then(Value::as_str) {
        let _ = writeln!(out, "{summary}\n");
    }
    let dimensions = card.get("dimensions").and_then(Value::as_array);
    if let Some(dimensions) = dimensions.filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "| Dimension | Score | Evidence |\n|---|---|---|");
        for d in dimensions {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                field(d, "name"),
                d.get("score").map(ToString::to_string).unwrap_or_default(),
                field(d, "evidence")
            );
        }
        out.push('\n');
    }
    let flags = card.get("flags").and_then(Value::as_array);
    if let Some(flags) = flags.filter(|f| !f.is_empty()) {
        let _ = writeln!(out, "### Flags\n");
        for f in flags {
            let at = f
                .get("at_s")
                .and_then(Value::as_f64)
                .map(|s| format!(" at {}", clock(s)))
                .unwrap_or_default();
            let turn = f
                .get("turn")
                .and_then(Value::as_i64)
                .map(|t| format!(" (turn {t}{at})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- **{}**{turn}: “{}”",
                field(f, "kind"),
                field(f, "quote")
            );
            let why = field(f, "why");
            if !why.is_empty() {
                let _ = writeln!(out, "  {why}");
            }
            let instead = field(f, "try_instead");
            if !instead.is_empty() {
                let _ = writeln!(out, "  Try instead: {instead}");
            }
        }
        out.push('\n');
    }
    let strengths = card.get("strengths").and_then(Value::as_array);
    if let Some(strengths) = strengths.filter(|s| !s.is_empty()) {
        let _ = writeln!(out, "### Strengths\n");
        for s in strengths {
            let _ = writeln!(
                out,
                "- {}",
                s.as_str().map_or_else(|| s.to_string(), String::from)
            );
        }
        out.push('\n');
    }
    out
}

fn field<'v>(value: &'v Value, name: &str) -> &'v str {
    value.get(name).and_then(Value::as_str).unwrap_or("")
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
