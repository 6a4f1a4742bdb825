//! Measures the embedded scorer: micro-F1 on labelled drill files, and with `--receptiveness`
//! the Spearman rho of `overall` with human ratings (even ids fitted, odd ids held out).
//!
//! Usage: `cargo run -p spar-core --release --example eval_scoring -- [--receptiveness] FILE...`

use spar_core::scoring::{Scorer, eval};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scorer = Scorer::embedded()?;
    let mut receptiveness = false;
    for arg in std::env::args().skip(1) {
        if arg == "--receptiveness" {
            receptiveness = true;
            continue;
        }
        let text = std::fs::read_to_string(&arg).map_err(|e| format!("reading {arg}: {e}"))?;
        if receptiveness {
            print!("{arg}: {}", eval::receptiveness(&scorer, &text)?);
        } else {
            let cases = eval::parse_cases(&text).map_err(|e| format!("{arg}: {e}"))?;
            println!("{} cases from {arg}", cases.len());
            print!("{}", eval::evaluate(&scorer, &cases));
        }
    }
    Ok(())
}
