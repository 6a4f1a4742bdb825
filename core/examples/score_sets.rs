//! Runs the scorer over labelled sets without the bot binary, for iterating on the scoring
//! data quickly: `cargo run -p spar-core --release --example score_sets -- FILE...` prints
//! each set's report; `--tiers FILE` scores whole drills by tier; `--cards FILE` prints every
//! case's scorecard as a JSON line (to compare two builds' scores); `--explain SCENARIO` shows
//! what each sentence of each line of input was read as; `--bench MB` times scoring
//! the same corpus `spar bench` builds. `spar eval` and `spar bench` stay the reported way.

use spar_core::Transcript;
use spar_core::scoring::{Scorer, eval};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scorer = Scorer::embedded()?;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tiers" => {
                let file = args.next().ok_or("--tiers needs a file")?;
                let cases = eval::parse_tiers(&std::fs::read_to_string(&file)?)?;
                println!("{file}\n{}", eval::tiers(&scorer, &cases));
            }
            "--cards" => {
                let file = args.next().ok_or("--cards needs a file")?;
                for case in eval::parse_cases(&std::fs::read_to_string(&file)?)? {
                    let card = scorer.score(&case.transcript);
                    println!("{} {}", case.id, serde_json::to_string(&card)?);
                }
            }
            "--signals" => {
                // Each line of standard input read as one utterance.
                for line in std::io::stdin().lines() {
                    let line = line?;
                    println!("{:?}\n  {line}", scorer.signals(&line));
                }
            }
            "--explain" => {
                // Each line of standard input read as one utterance in the scenario named, or
                // none ("-"): every sentence, the families found in it, and the signals set.
                let scenario = args.next().ok_or("--explain needs a scenario id or -")?;
                let scenario = (scenario != "-").then_some(scenario.as_str());
                for line in std::io::stdin().lines() {
                    for (sentence, families, signals) in scorer.explain(&line?, scenario) {
                        let shown = format!("{signals:?}");
                        let on: Vec<&str> = shown
                            .split([',', '{', '}'])
                            .filter_map(|f| f.trim().strip_suffix(": true"))
                            .collect();
                        println!("{sentence}\n    families: {families:?}\n    signals: {on:?}");
                    }
                    println!();
                }
            }
            "--bench" => {
                let megabytes: f64 = args.next().ok_or("--bench needs megabytes")?.parse()?;
                bench(&scorer, megabytes)?;
            }
            file => {
                let cases = eval::parse_cases(&std::fs::read_to_string(file)?)?;
                println!("{file}\n{}", eval::evaluate(&scorer, &cases));
            }
        }
    }
    Ok(())
}

/// The drills `spar bench` scores: the labelled cases, each stretched to about 30 turns.
fn bench(scorer: &Scorer, megabytes: f64) -> Result<(), Box<dyn std::error::Error>> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/cases.jsonl"))?;
    let drills: Vec<Transcript> = eval::parse_cases(&text)?
        .into_iter()
        .map(|c| c.transcript)
        .collect();
    let target = (megabytes * 1e6) as usize;
    let mut corpus = Vec::new();
    let mut total = 0;
    'fill: loop {
        for drill in &drills {
            let mut long = drill.clone();
            let mut step = long.turns.last().map_or(0.0, |t| t.at_s);
            while long.turns.len() < 30 {
                for turn in &drill.turns {
                    step += 20.0;
                    let mut turn = turn.clone();
                    turn.at_s = step;
                    long.turns.push(turn);
                }
            }
            total += long.turns.iter().map(|t| t.text.len()).sum::<usize>();
            corpus.push(long);
            if total >= target {
                break 'fill;
            }
        }
    }
    for _ in 0..5 {
        let start = Instant::now();
        let cpu = cpu_ns();
        let mut checksum = 0u64;
        for drill in &corpus {
            checksum = checksum.wrapping_add(u64::from(scorer.score(drill).overall));
        }
        let rate = total as f64 / 1e6 / start.elapsed().as_secs_f64();
        let cpu_rate = total as f64 * 1e3 / (cpu_ns() - cpu).max(1) as f64;
        println!("{rate:.1} MB/s wall, {cpu_rate:.1} MB/s cpu (checksum {checksum})");
    }
    Ok(())
}

/// Nanoseconds this thread has run on a CPU.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
