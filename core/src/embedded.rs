//! The prompt and scenario files compiled into Spar (see `core/build.rs`).

include!(concat!(env!("OUT_DIR"), "/prompts.rs"));

/// The embedded scenario files, as `(file name, text)`.
pub static SCENARIOS: std::sync::LazyLock<Vec<(&'static str, &'static str)>> =
    std::sync::LazyLock::new(|| {
        PROMPTS
            .iter()
            .filter_map(|(path, text)| path.strip_prefix("scenarios/").map(|name| (name, *text)))
            .collect()
    });

/// One embedded prompt file by its path under `prompts/`.
pub fn prompt(path: &str) -> Option<&'static str> {
    PROMPTS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}
