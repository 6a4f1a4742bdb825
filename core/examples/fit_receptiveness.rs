//! Refits the receptiveness model on the even ids of a receptiveness file: prints the lines to
//! paste into `prompts/scoring/receptiveness.toml` and, given a second path, writes the fitted
//! word weights file there. Odd ids are never read here: they are held out for `spar eval`.
//!
//! Usage: `cargo run -p spar-core --release --example fit_receptiveness -- receptiveness.jsonl
//! [prompts/scoring/receptiveness_words.toml]`

use spar_core::scoring::Scorer;
use spar_core::scoring::eval::fit_receptiveness;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: fit_receptiveness RECEPTIVENESS.jsonl [WORDS.toml]")?;
    let jsonl = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    let scorer = Scorer::embedded()?;
    let fit = fit_receptiveness(&scorer, &jsonl)?;
    println!("{fit}");
    if let Some(out) = args.next() {
        std::fs::write(&out, fit.words_toml()).map_err(|e| format!("writing {out}: {e}"))?;
        println!("# wrote {} word weights to {out}", fit.words.len());
    }
    Ok(())
}
