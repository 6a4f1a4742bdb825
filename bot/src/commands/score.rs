//! `spar score FILE|-`: the debrief scorecard of a transcript, as JSON, text or markdown.

use crate::cli::Format;
use crate::config::Settings;
use crate::failure::input_error;
use crate::library;
use anyhow::Context as _;
use spar_core::Transcript;
use spar_core::scoring::{Scorer, render};
use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

/// Transcripts larger than this are refused rather than read into memory.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a whole input file, or standard input for `-`, refusing oversized input.
pub fn read_input(path: &Path) -> anyhow::Result<String> {
    let name = path.display();
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| input_error(format!("cannot read {name}: {e}")))?;
        file.take(MAX_INPUT_BYTES + 1).read_to_string(&mut text)
    };
    read.map_err(|e| input_error(format!("cannot read {name}: {e}")))?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(input_error(format!(
            "{name} is larger than {} MiB",
            MAX_INPUT_BYTES / (1024 * 1024)
        )));
    }
    Ok(text)
}

pub fn run(settings: &Settings, file: &Path, format: Format) -> anyhow::Result<ExitCode> {
    let text = read_input(file)?;
    let name = if file == Path::new("-") {
        "standard input".to_string()
    } else {
        file.display().to_string()
    };
    let transcript =
        Transcript::from_json(&text).map_err(|e| input_error(format!("{name}: {e}")))?;
    // A transcript names its scenario so its debrief can be read against it; a name that
    // matches none is a mistake in the file, not something to score past. The scorer knows
    // the people of the user's own scenarios too, so an appeal to someone a scenario names
    // as above the candidate reads as escalation there as well.
    let library = library::load(settings.scenarios.as_deref())?;
    if let Some(id) = &transcript.scenario {
        if library.get(id).is_none() {
            let closest = library.closest(id);
            let guess = if closest.is_empty() {
                String::new()
            } else {
                format!("did you mean {}? ", closest.join(" or "))
            };
            return Err(input_error(format!(
                "{name}: unknown scenario {id:?}; {guess}known scenarios: {}",
                library.ids().join(", ")
            )));
        }
    }
    let scorer = Scorer::embedded()
        .and_then(|s| s.with_scenarios(&library))
        .context("the built-in scoring lexicon is invalid")?;
    let card = scorer.score(&transcript);
    let output = match format {
        Format::Json => {
            serde_json::to_string_pretty(&card).context("writing the scorecard as JSON")? + "\n"
        }
        Format::Text => render::render_text(&card),
        Format::Markdown => render::render_markdown(&card),
    };
    super::emit(&output)?;
    Ok(ExitCode::SUCCESS)
}
