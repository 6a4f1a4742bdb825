//! `spar history`: past drills, newest first, as a table or as JSON for scripts.

use super::emit;
use crate::cli::{HistoryArgs, ListFormat};
use crate::config::Settings;
use crate::report::{local_time, rfc3339};
use crate::store;
use anyhow::Context as _;
use spar_core::drill::Phase;
use spar_core::scoring::render::flag_name_label;
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
            let labels: Vec<String> = row.flags.iter().map(|f| flag_name_label(f)).collect();
            format!("flags: {}", labels.join(", "))
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

#[cfg(test)]
mod tests {
    use super::*;
    use spar_core::store::DrillId;

    #[test]
    fn flags_are_listed_by_the_labels_every_debrief_uses() {
        let row = HistoryRow {
            id: DrillId("d1".into()),
            scenario_id: "latency-regression".into(),
            difficulty: "standard".into(),
            mode: "solo".into(),
            phase: Phase::Debriefed,
            created_at: 0,
            started_at: None,
            duration_s: Some(200.0),
            overall: Some(48),
            flags: vec![
                "premature_escalation".into(),
                "no_shared_goal".into(),
                "a_kind_from_a_later_version".into(),
            ],
            tokens: None,
        };
        let line = text(std::slice::from_ref(&row));
        assert!(
            line.contains(
                "flags: premature escalation, missed: shared goal, a kind from a later version\n"
            ),
            "{line}"
        );
        // Scripts keep the machine names.
        assert_eq!(json(&[row])["drills"][0]["flags"][1], "no_shared_goal");
    }
}
