//! The words members read about peer drills, loaded from `prompts/peer/`: pairing and round
//! notices (`notices.toml`) and the peer part of the combined debrief (`debrief.toml`).
//! This module fills their placeholders; it holds no prose.

use super::pairing::{Group, LeftOut, LeftOutReason};
use crate::prompt::fill;
use crate::transcript::Role;
use serde::Deserialize;

/// Prose as scenario files wrap it, on one line per paragraph.
fn reflow(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

pub const NOTICES_FILE: &str = "peer/notices.toml";
pub const DEBRIEF_FILE: &str = "peer/debrief.toml";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PeerTextError {
    #[error("the embedded file prompts/{0} is missing")]
    Missing(String),
    #[error("prompts/{file}: {message}")]
    Invalid { file: String, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Simulate {
    round: String,
    pair: String,
    trio: String,
    solo: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeftOutText {
    no_partner: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rounds {
    reminder: String,
    no_show: String,
    rematched: String,
    observer_steps_in: String,
    solo_offer: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DrillText {
    roles: String,
    observer: String,
    brief_button: String,
    antagonist_brief: String,
    rate_request: String,
    rate_button: String,
    swap_button: String,
    combined: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Notices {
    simulate: Simulate,
    left_out: LeftOutText,
    rounds: Rounds,
    drill: DrillText,
}

/// What the antagonist player's private brief is made of, from the scenario.
#[derive(Debug, Clone, Copy)]
pub struct AntagonistBrief<'a> {
    pub scenario: &'a crate::Scenario,
    pub difficulty: crate::Difficulty,
    /// The display name of the member practising against them.
    pub candidate: &'a str,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Headings {
    pub ratings: String,
    pub sentences: String,
    pub disagreements: String,
    pub agreement: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Columns {
    pub transcript: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raters {
    pub candidate: String,
    pub antagonist: String,
    pub observer: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Disagreements {
    pub flag_moment: String,
    pub flag_missed: String,
    pub shown: String,
    pub unsupported: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DebriefWords {
    pub headings: Headings,
    pub columns: Columns,
    pub raters: Raters,
    pub disagreements: Disagreements,
}

/// Every peer-drill text, loaded once.
#[derive(Debug, Clone)]
pub struct PeerText {
    notices: Notices,
    pub(crate) debrief: DebriefWords,
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, PeerTextError> {
    toml::from_str(text).map_err(|e| PeerTextError::Invalid {
        file: file.to_string(),
        message: e.to_string(),
    })
}

impl PeerText {
    /// The texts compiled into the binary.
    pub fn embedded() -> Result<PeerText, PeerTextError> {
        let load = |file: &str| {
            crate::embedded::prompt(file).ok_or_else(|| PeerTextError::Missing(file.to_string()))
        };
        PeerText::from_toml(load(NOTICES_FILE)?, load(DEBRIEF_FILE)?)
    }

    pub fn from_toml(notices: &str, debrief: &str) -> Result<PeerText, PeerTextError> {
        Ok(PeerText {
            notices: parse(NOTICES_FILE, notices)?,
            debrief: parse(DEBRIEF_FILE, debrief)?,
        })
    }

    /// The heading of round `number` (from 1) in a simulation.
    pub fn simulated_round(&self, number: usize) -> String {
        fill(
            &self.notices.simulate.round,
            &[("number", &number.to_string())],
        )
    }

    /// A group on one line, with everyone's role.
    pub fn group_line(&self, group: &Group) -> String {
        let s = &self.notices.simulate;
        let template = match (&group.antagonist, &group.observer) {
            (None, _) => &s.solo,
            (Some(_), None) => &s.pair,
            (Some(_), Some(_)) => &s.trio,
        };
        fill(
            template,
            &[
                ("candidate", &group.candidate),
                ("antagonist", group.antagonist.as_deref().unwrap_or("")),
                ("observer", group.observer.as_deref().unwrap_or("")),
            ],
        )
    }

    /// Why a member was not grouped, addressed to them.
    pub fn left_out(&self, left: &LeftOut) -> String {
        let template = match left.reason {
            LeftOutReason::NoPartner => &self.notices.left_out.no_partner,
        };
        fill(template, &[("member", &left.member)])
    }

    /// The reminder before a round; `time` is the start as the channel reads it.
    pub fn reminder(&self, time: &str, zone: &str) -> String {
        fill(
            &self.notices.rounds.reminder,
            &[("time", time), ("zone", zone)],
        )
    }

    pub fn no_show(&self, member: &str, minutes: u32) -> String {
        fill(
            &self.notices.rounds.no_show,
            &[("member", member), ("minutes", &minutes.to_string())],
        )
    }

    pub fn rematched(&self, partner: &str) -> String {
        fill(&self.notices.rounds.rematched, &[("partner", partner)])
    }

    /// A trio's observer taking the seat of `absent`, who played `role`.
    pub fn observer_steps_in(&self, absent: &str, observer: &str, role: Role) -> String {
        fill(
            &self.notices.rounds.observer_steps_in,
            &[
                ("absent", absent),
                ("observer", observer),
                ("role", role.as_str()),
            ],
        )
    }

    pub fn solo_offer(&self) -> String {
        fill(&self.notices.rounds.solo_offer, &[])
    }

    /// Who plays what in a peer drill's thread; `observer` is a trio's third member.
    pub fn roles(
        &self,
        candidate: &str,
        antagonist: &str,
        persona: &str,
        observer: Option<&str>,
    ) -> String {
        let d = &self.notices.drill;
        let mut text = fill(
            &d.roles,
            &[
                ("candidate", candidate),
                ("antagonist", antagonist),
                ("persona", persona),
            ],
        );
        if let Some(observer) = observer {
            text.push(' ');
            text.push_str(&fill(&d.observer, &[("observer", observer)]));
        }
        text
    }

    pub fn brief_button(&self) -> String {
        self.notices.drill.brief_button.clone()
    }

    /// The antagonist player's brief: the setting, the persona and what only they know.
    pub fn antagonist_brief(&self, brief: &AntagonistBrief) -> String {
        let s = brief.scenario;
        let bullets = |items: &[String]| {
            items
                .iter()
                .map(|i| format!("• {}", reflow(i)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let hidden: Vec<String> = s
            .brief
            .motives
            .iter()
            .chain(&s.brief.constraints)
            .chain(&s.brief.reveals)
            .cloned()
            .collect();
        let concede: Vec<String> = s
            .brief
            .concede_when
            .iter()
            .map(|c| c.condition.clone())
            .collect();
        let variant = s.variant(brief.difficulty);
        fill(
            &self.notices.drill.antagonist_brief,
            &[
                ("persona", &s.persona.name),
                ("role", &s.persona.role),
                ("title", &s.title),
                ("difficulty", brief.difficulty.as_str()),
                ("candidate", brief.candidate),
                ("setting", &reflow(&s.setting)),
                ("stance", &reflow(&s.persona.stance)),
                ("style", &reflow(&s.persona.style)),
                ("hidden", &bullets(&hidden)),
                ("concede", &bullets(&concede)),
                ("behaviour", &reflow(&variant.behaviour)),
                (
                    "opening",
                    &s.opening.first().map(|o| reflow(o)).unwrap_or_default(),
                ),
            ],
        )
        .trim()
        .to_string()
    }

    /// The request for ratings after a peer drill's scorecard; `raters` are the members
    /// who rate the candidate.
    pub fn rate_request(&self, candidate: &str, raters: &[&str]) -> String {
        fill(
            &self.notices.drill.rate_request,
            &[("candidate", candidate), ("raters", &raters.join(" and "))],
        )
    }

    pub fn rate_button(&self) -> String {
        self.notices.drill.rate_button.clone()
    }

    pub fn swap_button(&self) -> String {
        self.notices.drill.swap_button.clone()
    }

    pub fn combined_heading(&self) -> String {
        self.notices.drill.combined.clone()
    }

    /// How a rater is named in a debrief.
    pub(crate) fn rater(&self, member: &str, role: Role) -> String {
        let r = &self.debrief.raters;
        let template = match role {
            Role::Candidate => &r.candidate,
            Role::Antagonist => &r.antagonist,
            Role::Observer => &r.observer,
        };
        fill(template, &[("member", member)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_texts_load_and_fill_every_placeholder() {
        let text = PeerText::embedded().expect("valid peer texts");
        let trio = Group::new("m1".into(), Some("m7".into()), Some("m3".into()));
        let line = text.group_line(&trio);
        assert!(line.contains("m1") && line.contains("m7") && line.contains("m3"));
        let solo = text.group_line(&Group::new("m2".into(), None, None));
        assert!(solo.contains("m2"));
        let left = text.left_out(&LeftOut {
            member: "m9".into(),
            reason: LeftOutReason::NoPartner,
        });
        let samples = [
            line,
            solo,
            left,
            text.simulated_round(2),
            text.reminder("18:30", "Europe/Berlin"),
            text.no_show("ann", 10),
            text.rematched("bo"),
            text.observer_steps_in("ann", "cy", Role::Candidate),
            text.solo_offer(),
            text.rater("ann", Role::Observer),
            text.roles("ann", "bo", "Priya", Some("cy")),
            text.rate_request("ann", &["bo", "cy"]),
            text.antagonist_brief(&AntagonistBrief {
                scenario: crate::ScenarioLibrary::embedded()
                    .expect("library")
                    .get("latency-regression")
                    .expect("scenario"),
                difficulty: crate::Difficulty::Standard,
                candidate: "ann",
            }),
        ];
        for sample in samples {
            assert!(!sample.is_empty());
            assert!(!sample.contains('{'), "unfilled placeholder in {sample:?}");
        }
    }

    #[test]
    fn a_misspelt_key_is_named_with_its_file() {
        let notices = crate::embedded::prompt(NOTICES_FILE).expect("embedded");
        let debrief = crate::embedded::prompt(DEBRIEF_FILE).expect("embedded");
        let broken = notices.replace("solo_offer", "solo_ofer");
        let err = PeerText::from_toml(&broken, debrief).expect_err("unknown key");
        assert!(
            err.to_string().starts_with("prompts/peer/notices.toml"),
            "{err}"
        );
    }
}
