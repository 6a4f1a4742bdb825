//! The pure domain of Spar: scenarios, the drill state machine, the scripted antagonist,
//! the debrief scorer, and the prompts and checks for an LLM antagonist and judge. Nothing
//! here performs I/O or reads a clock; adapters in the `spar` crate feed events in and carry
//! effects out.

pub mod antagonist;
pub mod drill;
pub mod embedded;
pub mod judge;
pub mod normalise;
pub mod peer;
pub mod phrases;
pub mod prompt;
pub mod scenario;
pub mod scoring;
pub mod store;
pub mod transcript;

pub use scenario::{Difficulty, Round, Scenario, ScenarioLibrary};
pub use transcript::{Role, Transcript, Turn};
