//! `spar export --drill ID`: one drill's transcript with its scorecard, as JSON whose
//! `scenario` and `turns` are the transcript format of `spar score` (so an export can be
//! scored again), or as Markdown to read or share.

use super::emit;
use crate::cli::{ExportArgs, ExportFormat};
use crate::config::Settings;
use crate::store;
use serde_json::Value;
use spar_core::Scenario;
use spar_core::scoring::Scorecard;
use spar_core::scoring::render::{escape_markdown, render_markdown};
use spar_core::store::{DrillId, LoadedDrill, PersonId, StoreError, StoredTurn};
use spar_core::transcript::{Role, clock};
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

/// The drill to read or share: who took part, named as the scenario names them, the
/// transcript, then the scorecard exactly as `spar score --format markdown` prints it.
pub fn markdown(drill: &LoadedDrill, scenario: Option<&Scenario>) -> String {
    let record = &drill.record;
    let mut out = String::new();
    let title = scenario.map_or(record.settings.scenario_id.as_str(), |s| s.title.as_str());
    let _ = writeln!(out, "# {}\n", escape_markdown(title));
    let _ = writeln!(
        out,
        "Drill `{}` · `{}` · {} · {} · {}\n",
        record.id,
        record.settings.scenario_id,
        record.settings.difficulty,
        record.settings.mode.as_str(),
        super::history::local_time(record.started_at.unwrap_or(record.created_at))
    );
    let names = Names::of(drill, scenario);
    if let Some(persona) = scenario.map(|s| &s.persona) {
        let _ = writeln!(
            out,
            "{} with {}, {}.\n",
            escape_markdown(&names.candidate),
            escape_markdown(&persona.name),
            escape_markdown(&persona.role)
        );
    }
    let _ = writeln!(out, "## Transcript\n");
    if drill.turns.is_empty() {
        let _ = writeln!(out, "_No turns._\n");
    }
    for stored in &drill.turns {
        let turn = &stored.turn;
        // A line the input cut off was typed but never sent; it is kept, and says so.
        let cut = if turn.cut_off {
            " _(cut off, not sent)_"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "**{}** ({}): {}{cut}\n",
            escape_markdown(&names.of_turn(stored)),
            clock(turn.at_s),
            escape_markdown(&turn.text)
        );
    }
    match &drill.scorecard {
        None => {
            let _ = writeln!(out, "## Debrief\n\n_Not scored._");
        }
        Some(stored) => match serde_json::from_value::<Scorecard>(stored.json.clone()) {
            Ok(card) => out.push_str(&render_markdown(&card)),
            // Kept by a version whose scorecard this one cannot read: shown as kept, not lost.
            Err(e) => {
                let json = serde_json::to_string_pretty(&stored.json).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "## Debrief\n\n_This scorecard could not be read ({e}); here it is as kept:_\n\n```json\n{json}\n```"
                );
            }
        },
    }
    out
}

/// What each person in the transcript is called: the antagonist by the persona's name (and
/// whoever played it, in a peer drill), everyone else by their own name.
struct Names {
    candidate: String,
    antagonist: String,
    people: Vec<(PersonId, String)>,
}

impl Names {
    fn of(drill: &LoadedDrill, scenario: Option<&Scenario>) -> Names {
        let name = |role: Role| drill.member(role).map(|m| m.person.display_name.clone());
        let persona = scenario.map(|s| s.persona.name.clone());
        let antagonist = match (persona, name(Role::Antagonist)) {
            (Some(persona), Some(player)) => format!("{persona} ({player})"),
            (Some(persona), None) => persona,
            (None, Some(player)) => player,
            (None, None) => capitalised(Role::Antagonist.as_str()),
        };
        Names {
            candidate: name(Role::Candidate)
                .unwrap_or_else(|| capitalised(Role::Candidate.as_str())),
            antagonist,
            people: drill
                .participants
                .iter()
                .map(|m| (m.id, m.person.display_name.clone()))
                .collect(),
        }
    }

    fn of_turn(&self, stored: &StoredTurn) -> String {
        match stored.turn.role {
            Role::Antagonist => self.antagonist.clone(),
            Role::Candidate => self.candidate.clone(),
            Role::Observer => stored
                .author
                .as_ref()
                .and_then(|a| self.people.iter().find(|(id, _)| id == a))
                .map_or_else(
                    || capitalised(Role::Observer.as_str()),
                    |(_, name)| name.clone(),
                ),
        }
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
