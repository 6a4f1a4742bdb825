//! Refits the receptiveness weights in `prompts/scoring/receptiveness.toml` on the even ids of a
//! receptiveness file and prints the lines to paste. Odd ids are never read here: they are
//! held out for `spar eval`.
//!
//! Usage: `cargo run -p spar-core --release --example fit_receptiveness -- receptiveness.jsonl`

use spar_core::scoring::Scorer;
use spar_core::scoring::eval::fit_receptiveness;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: fit_receptiveness RECEPTIVENESS.jsonl")?;
    let jsonl = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    let scorer = Scorer::embedded()?;
    let fit = fit_receptiveness(&scorer, &jsonl)?;
    println!("{fit}");
    Ok(())
}
