//! `spar scenarios list` and `spar scenarios check DIR`.

use crate::cli::ScenariosCommand;
use crate::config::Settings;
use crate::library;
use spar_core::ScenarioLibrary;
use std::process::ExitCode;

pub fn run(settings: &Settings, command: ScenariosCommand) -> anyhow::Result<ExitCode> {
    match command {
        ScenariosCommand::List => {
            let library = library::load(settings.scenarios.as_deref())?;
            super::emit(&list(&library))?;
            Ok(ExitCode::SUCCESS)
        }
        ScenariosCommand::Check { dir } => {
            let result = match &dir {
                Some(dir) => {
                    let files = library::read_dir(dir)?;
                    if files.is_empty() {
                        return Err(crate::failure::input_error(format!(
                            "{} holds no .toml scenario files",
                            dir.display()
                        )));
                    }
                    ScenarioLibrary::from_sources(
                        files.iter().map(|(p, t)| (p.as_str(), t.as_str())),
                    )
                }
                None => ScenarioLibrary::embedded(),
            };
            match result {
                Ok(library) => {
                    super::emit(&format!("{} scenarios, all valid\n", library.len()))?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for issue in &errors.0 {
                        eprintln!("{issue}");
                    }
                    eprintln!("{} problem(s) found", errors.0.len());
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}

/// One line per scenario: id, round, time limit and title.
pub fn list(library: &ScenarioLibrary) -> String {
    let width = library.iter().map(|s| s.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for s in library.iter() {
        out.push_str(&format!(
            "{:width$}  {:18}  {:>3} min  {}\n",
            s.id,
            s.round.label(),
            s.time_limit_s / 60,
            s.title
        ));
    }
    out
}
