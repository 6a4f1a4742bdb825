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
