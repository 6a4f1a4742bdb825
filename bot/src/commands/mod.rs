//! One module per subcommand; each takes the settings and its arguments and returns an
//! exit code.

pub mod practice;
pub mod scenarios;
