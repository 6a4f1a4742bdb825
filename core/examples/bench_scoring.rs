//! Scoring throughput on one core, in MB of transcript text (every turn's text) per second,
//! over drills assembled from the repository's labelled cases; the same corpus `spar bench`
//! builds, so the two figures can be compared.
//!
//! Usage: `cargo run -p spar-core --release --example bench_scoring -- [MEGABYTES] [RUNS]`

use spar_core::Transcript;
use spar_core::scoring::{Scorer, eval};
use std::time::Instant;

/// Realistic drills: the labelled cases' turns, from many scenarios and styles.
const CASES: &str = include_str!("../../eval/cases.jsonl");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let megabytes: f64 = args.next().map_or(Ok(20.0), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let scorer = Scorer::embedded()?;
    let cases = eval::parse_cases(CASES)?;
    let corpus = corpus(cases.into_iter().map(|c| c.transcript).collect(), megabytes);
    let bytes: usize = corpus
        .iter()
        .flat_map(|t| &t.turns)
        .map(|t| t.text.len())
        .sum();
    let mut rates = Vec::with_capacity(runs.max(1));
    let mut cpu_rates = Vec::with_capacity(runs.max(1));
    let mut checksum = 0u64;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let cpu_start = cpu_ns();
        for transcript in &corpus {
            checksum = checksum.wrapping_add(u64::from(scorer.score(transcript).overall));
        }
        rates.push(bytes as f64 / 1e6 / start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu_start, cpu_ns()) {
            cpu_rates.push(bytes as f64 / 1e6 / ((b - a) as f64 / 1e9));
        }
    }
    cpu_rates.sort_by(f64::total_cmp);
    rates.sort_by(f64::total_cmp);
    println!(
        "scoring throughput over {} drills, {:.1} MB of turn text, {} runs on one core:",
        corpus.len(),
        bytes as f64 / 1e6,
        rates.len()
    );
    println!(
        "  min {:.1} MB/s   median {:.1} MB/s   max {:.1} MB/s   (checksum {checksum})",
        rates[0],
        rates[rates.len() / 2],
        rates[rates.len() - 1]
    );
    // On a shared machine the wall clock counts time spent waiting for a core; the thread's
    // own CPU time does not, so it is the steadier figure to compare changes by.
    if let Some(median) = cpu_rates.get(cpu_rates.len() / 2) {
        println!("  median {median:.1} MB/s of this thread's CPU time");
    }
    Ok(())
}

/// Nanoseconds this thread has run on a CPU, where Linux reports it.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Repeats the drills, stretching each to a full conversation of about 30 turns, until the
/// corpus holds `megabytes` of turn text.
fn corpus(drills: Vec<Transcript>, megabytes: f64) -> Vec<Transcript> {
    let target = (megabytes.max(0.1) * 1e6) as usize;
    let mut out = Vec::new();
    let mut total = 0;
    'fill: loop {
        for drill in &drills {
            let mut long = drill.clone();
            let mut step = long.turns.last().map_or(0.0, |t| t.at_s);
            while long.turns.len() < 30 && !drill.turns.is_empty() {
                for turn in &drill.turns {
                    step += 20.0;
                    let mut turn = turn.clone();
                    turn.at_s = step;
                    long.turns.push(turn);
                }
            }
            total += long.turns.iter().map(|t| t.text.len()).sum::<usize>();
            out.push(long);
            if total >= target {
                break 'fill;
            }
        }
        if drills.is_empty() {
            break;
        }
    }
    out
}
