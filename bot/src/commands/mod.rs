//! One module per subcommand; each takes the settings and its arguments and returns an
//! exit code.

pub mod bench;
pub mod eval;
pub mod export;
pub mod forget;
pub mod history;
pub mod migrate;
pub mod practice;
pub mod scenarios;
pub mod score;
pub mod stats;

/// The async runtime a command runs its storage and network work on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Runtime::new().context("starting the async runtime")
}
