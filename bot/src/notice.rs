//! How a drill's notices read, in the same words on every surface.

use spar_core::drill::{EndReason, Notice};
use spar_core::transcript::clock;

/// A notice in words a candidate reads mid-conversation.
pub fn describe(notice: &Notice) -> String {
    match notice {
        Notice::Started { time_limit_s } => {
            format!("The clock is running: {}.", clock(f64::from(*time_limit_s)))
        }
        Notice::TimeWarning { seconds_left } => {
            format!("{} left.", clock(f64::from(*seconds_left)))
        }
        Notice::TimeLeft {
            seconds_left,
            candidate_turns_left,
        } => {
            format!(
                "{} left, {} replies left.",
                clock(f64::from(*seconds_left)),
                candidate_turns_left
            )
        }
        Notice::Ended(EndReason::Command) => "Drill ended.".into(),
        Notice::Ended(EndReason::TimeUp) => "Time is up.".into(),
        Notice::Ended(EndReason::TurnCap) => "That was your last reply for this drill.".into(),
        Notice::Rejected(why) => format!("Not sent: {why}."),
    }
}

/// Said once in a drill whose workspace has spent its daily token budget: the scripted
/// antagonist plays on, and the debrief is the deterministic scorecard alone when a judge
/// would have commented.
pub fn budget_spent(judged: bool) -> String {
    let judge = if judged {
        ", and the scorecard comes without the judge's commentary"
    } else {
        ""
    };
    format!(
        "Spar's model budget here is spent for today, so the scripted antagonist plays the rest of this drill{judge}. The budget renews at midnight UTC."
    )
}
