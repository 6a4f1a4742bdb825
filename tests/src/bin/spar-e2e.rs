//! The `spar` command line, built inside this package so its tests can run it as a
//! process: the same one-line `main` as the real binary.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    spar::run(spar::cli::Cli::parse())
}
