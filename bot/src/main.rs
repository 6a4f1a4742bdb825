//! The `spar` binary: parses the command line and hands over to the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    spar::run(spar::cli::Cli::parse())
}
