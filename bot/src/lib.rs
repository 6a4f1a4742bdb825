//! Spar's adapters and commands: the terminal, storage and the LLM, each translating
//! between the outside world and the pure domain in `spar-core`.

pub mod antagonist;
pub mod chart;
pub mod chat;
pub mod cli;
pub mod commands;
pub mod config;
pub mod debrief;
pub mod discord;
pub mod engine;
pub mod failure;
pub mod library;
pub mod llm;
pub mod metrics;
pub mod notice;
pub mod ops;
pub mod report;
pub mod slack;
pub mod stopwatch;
pub mod store;
pub mod terminal;

use cli::{Cli, Command};
use std::process::ExitCode;

/// Runs one command and turns its outcome into an exit code: 0 on success, 2 for input
/// the user can fix (a bad file, an unknown scenario), 1 for everything else.
pub fn run(cli: Cli) -> ExitCode {
    // reqwest and sqlx's TLS need a process-wide crypto provider chosen before first use;
    // a second install (tests calling run twice) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = match config::Settings::load(&cli) {
        Ok(s) => s,
        Err(e) => return failure::report(&e),
    };
    if let Err(e) = config::init_tracing(&settings, matches!(cli.command, Command::Serve(_))) {
        return failure::report(&e);
    }
    let outcome = match cli.command {
        Command::Practice(args) => commands::practice::run(&settings, args),
        Command::Scenarios(cmd) => commands::scenarios::run(&settings, cmd),
        Command::Score { file, format } => commands::score::run(&settings, &file, format),
        Command::Eval(args) => commands::eval::run(args),
        Command::Bench {
            megabytes,
            runs,
            what,
        } => match what {
            None => commands::bench::run(megabytes, runs),
            Some(cli::BenchCommand::Pairing {
                members,
                history,
                runs,
            }) => commands::bench::pairing(members, history, runs),
            Some(cli::BenchCommand::Load(args)) => commands::load::run(&args),
        },
        Command::Rounds(command) => commands::rounds::run(command),
        Command::Migrate => commands::migrate::run(&settings),
        Command::History(args) => commands::history::run(&settings, &args),
        Command::Stats(args) => commands::stats::run(&settings, &args),
        Command::Export(args) => commands::export::run(&settings, &args),
        Command::Forget(args) => commands::forget::run(&settings, &args),
        Command::Serve(args) => commands::serve::run(&settings, &args),
        Command::Discord(cli::DiscordCommand::InviteUrl { client_id }) => {
            commands::emit(&format!("{}\n", discord::invite_url(client_id)))
                .map(|()| ExitCode::SUCCESS)
        }
    };
    match outcome {
        Ok(code) => code,
        Err(e) => failure::report(&e),
    }
}
