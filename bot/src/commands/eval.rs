//! `spar eval`: measures the scorer against labelled drills, against human receptiveness
//! ratings, or against whole drills written to a tier, and prints the figures.

use crate::cli::EvalArgs;
use crate::commands::score::read_input;
use crate::failure::input_error;
use anyhow::Context as _;
use spar_core::scoring::{Scorer, eval, fit};
use std::process::ExitCode;

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let scorer = Scorer::embedded().context("the built-in scoring lexicon is invalid")?;
    let name = args.file.display().to_string();
    let text = read_input(&args.file)?;
    if args.fit_receptiveness {
        let fit = fit::fit_receptiveness(&scorer, &text)
            .map_err(|e| input_error(format!("{name}: {e}")))?;
        let mut report = format!("{fit}\n");
        if let Some(out) = &args.write_model {
            std::fs::write(out, fit.model_toml())
                .map_err(|e| input_error(format!("cannot write {}: {e}", out.display())))?;
            report.push_str(&format!("wrote the model to {}\n", out.display()));
        }
        super::emit(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.receptiveness {
        let report =
            eval::receptiveness(&scorer, &text).map_err(|e| input_error(format!("{name}: {e}")))?;
        super::emit(&report.to_string())?;
        if let Some(min) = args.min_rho
            && report.odd_rho < min
        {
            eprintln!(
                "odd-id rho {:.3} is below the required {min}",
                report.odd_rho
            );
            return Ok(ExitCode::from(1));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.tiers {
        let cases = eval::parse_tiers(&text).map_err(|e| input_error(format!("{name}: {e}")))?;
        let report = eval::tiers(&scorer, &cases);
        super::emit(&format!("{} drills from {name}\n{report}", cases.len()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let cases = eval::parse_cases(&text).map_err(|e| input_error(format!("{name}: {e}")))?;
    let report = eval::evaluate(&scorer, &cases);
    super::emit(&format!("{} cases from {name}\n{report}", cases.len()))?;
    if let Some(min) = args.min_f1
        && report.micro_f1 < min
    {
        eprintln!(
            "micro-F1 {:.3} is below the required {min}",
            report.micro_f1
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
