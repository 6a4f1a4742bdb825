//! Loads the scenario library: the embedded scenarios plus a user's directory.

use crate::failure::input_error;
use anyhow::Context as _;
use spar_core::ScenarioLibrary;
use std::path::Path;

/// Reads every `*.toml` in `dir`, sorted by name, as `(path, text)`.
pub fn read_dir(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        input_error(format!(
            "cannot read scenario directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| input_error(format!("cannot read {}: {e}", path.display())))?;
            files.push((path.display().to_string(), text));
        }
    }
    files.sort();
    Ok(files)
}

/// The embedded scenarios, overridden or extended by `dir` when given.
pub fn load(dir: Option<&Path>) -> anyhow::Result<ScenarioLibrary> {
    let mut library = ScenarioLibrary::embedded().context("the built-in scenarios are invalid")?;
    if let Some(dir) = dir {
        let files = read_dir(dir)?;
        library
            .add_sources(files.iter().map(|(p, t)| (p.as_str(), t.as_str())))
            .map_err(|e| input_error(e.to_string()))?;
    }
    Ok(library)
}
