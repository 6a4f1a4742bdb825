//! The `spar` command line, built inside this package so its tests can run it as a
//! process: the same one-line `main` as the real binary.

use clap::Parser;
use std::process::ExitCode;

/// The system allocator, counting the bytes it hands out and takes back, so `spar bench
/// load` can tell what a waiting drill holds. A binary chooses its allocator; a library
/// only reads the counts, and reports none where another allocator is installed.
#[global_allocator]
static ALLOCATOR: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

fn main() -> ExitCode {
    spar::run(spar::cli::Cli::parse())
}
