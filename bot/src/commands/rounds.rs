//! `spar rounds simulate`: pairing over consecutive rounds of a made-up group, so an admin
//! can see how fair it is before trusting it with a real one. The JSON is the pairing's
//! public contract.

use super::emit;
use crate::cli::{ListFormat, RoundsCommand};
use serde::Serialize;
use spar_core::peer::{self, Pairing, text::PeerText};
use std::process::ExitCode;

pub fn run(command: RoundsCommand) -> anyhow::Result<ExitCode> {
    match command {
        RoundsCommand::Simulate {
            members,
            rounds,
            seed,
            format,
        } => {
            let pairings = peer::simulate(members, rounds, seed);
            match format {
                ListFormat::Json => {
                    emit(&format!("{}\n", serde_json::to_string(&json(&pairings))?))?
                }
                ListFormat::Text => emit(&text(&pairings)?)?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Serialize)]
struct Simulation<'a> {
    rounds: Vec<RoundJson<'a>>,
}

#[derive(Serialize)]
struct RoundJson<'a> {
    groups: Vec<GroupJson<'a>>,
    /// Present only when someone was not grouped (a group of one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    left_out: Vec<LeftOutJson<'a>>,
}

#[derive(Serialize)]
struct GroupJson<'a> {
    candidate: &'a str,
    antagonist: Option<&'a str>,
    observer: Option<&'a str>,
}

#[derive(Serialize)]
struct LeftOutJson<'a> {
    member: &'a str,
    reason: &'static str,
}

fn json(pairings: &[Pairing]) -> Simulation<'_> {
    Simulation {
        rounds: pairings
            .iter()
            .map(|p| RoundJson {
                groups: p
                    .groups
                    .iter()
                    .map(|g| GroupJson {
                        candidate: &g.candidate,
                        antagonist: g.antagonist.as_deref(),
                        observer: g.observer.as_deref(),
                    })
                    .collect(),
                left_out: p
                    .left_out
                    .iter()
                    .map(|l| LeftOutJson {
                        member: &l.member,
                        reason: l.reason.as_str(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// One block per round, one line per group.
fn text(pairings: &[Pairing]) -> anyhow::Result<String> {
    let words = PeerText::embedded()?;
    let mut out = String::new();
    for (i, pairing) in pairings.iter().enumerate() {
        out.push_str(&words.simulated_round(i + 1));
        out.push('\n');
        for group in &pairing.groups {
            out.push_str("  ");
            out.push_str(&words.group_line(group));
            out.push('\n');
        }
        for left in &pairing.left_out {
            out.push_str("  ");
            out.push_str(&words.left_out(left));
            out.push('\n');
        }
    }
    Ok(out)
}
