//! `spar history`: past drills, newest first, as a table or as JSON for scripts.

use super::emit;
use crate::cli::{HistoryArgs, ListFormat};
use crate::config::Settings;
use crate::report::{local_time, rfc3339};
use crate::store;
use anyhow::Context as _;
use spar_core::drill::Phase;
use spar_core::store::HistoryRow;
use spar_core::transcript::clock;
use std::process::ExitCode;

pub fn run(settings: &Settings, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let store = store::open(settings.database_url.as_deref()).await?;
        let person = args.who.person(&settings.terminal_user);
        let rows = store
            .history(person.as_ref())
            .await
            .context("reading the history")?;
        match args.format {
            ListFormat::Text => emit(&text(&rows))?,
            ListFormat::Json => emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&json(&rows))?
            ))?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// One line per drill: date, id, scenario, difficulty, duration, score, flags, tokens.
pub fn text(rows: &[HistoryRow]) -> String {
    if rows.is_empty() {
        return "no drills yet; `spar practice` starts one\n".into();
    }
    let mut out = String::new();
    for row in rows {
        let overall = match (row.overall, row.phase) {
            // A drill whose process ended before its debrief is scored on what was said.
            (Some(o), Phase::Abandoned) => format!("overall {o} (abandoned)"),
            (Some(o), _) => format!("overall {o}"),
            (None, phase) => format!("({})", phase.as_str()),
        };
        let flags = if row.flags.is_empty() {
            "no flags".to_string()
        } else {
            format!("flags: {}", row.flags.join(", "))
        };
        let tokens = row
            .tokens
            .map(|t| format!("  {t} tokens"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}  {}  {}  {}  {}  {}  {}{}\n",
            local_time(row.started_at.unwrap_or(row.created_at)),
            row.id,
            row.scenario_id,
            row.difficulty,
            row.duration_s.map_or_else(|| "-".into(), clock),
            overall,
            flags,
            tokens
        ));
    }
    out
}

/// `{"drills":[{"id", "scenario", "started_at", "overall", "flags", …}]}`, newest first.
pub fn json(rows: &[HistoryRow]) -> serde_json::Value {
    let drills = rows
        .iter()
        .map(|row| {
            serde_json::json!({
                "id": row.id.as_str(),
                "scenario": row.scenario_id,
                "difficulty": row.difficulty,
                "mode": row.mode,
                "phase": row.phase.as_str(),
                "started_at": rfc3339(row.started_at.unwrap_or(row.created_at)),
                "duration_s": row.duration_s,
                "overall": row.overall,
                "flags": row.flags,
                "tokens": row.tokens,
            })
        })
        .collect::<Vec<_>>();
    serde_json::json!({ "drills": drills })
}
