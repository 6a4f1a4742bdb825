//! `spar bench`: scoring throughput on one core, in MB of transcript text per second,
//! over drills assembled from the repository's labelled cases.

use super::emit;
use anyhow::Context as _;
use spar_core::Transcript;
use spar_core::scoring::{Scorer, eval};
use std::process::ExitCode;
use std::time::Instant;

/// Realistic drills: the labelled cases' turns, from many scenarios and styles.
const CASES: &str = include_str!("../../../eval/cases.jsonl");

pub fn run(megabytes: f64, runs: usize) -> anyhow::Result<ExitCode> {
    let scorer = Scorer::embedded().context("the built-in scoring lexicon is invalid")?;
    let cases = eval::parse_cases(CASES).context("reading the built-in benchmark drills")?;
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
            cpu_rates.push(bytes as f64 / 1e6 / (b.saturating_sub(a).max(1) as f64 / 1e9));
        }
    }
    rates.sort_by(f64::total_cmp);
    cpu_rates.sort_by(f64::total_cmp);
    let mut report = format!(
        "scoring throughput over {} drills, {:.1} MB of turn text, {} runs on one core:\n",
        corpus.len(),
        bytes as f64 / 1e6,
        rates.len()
    );
    report.push_str(&format!(
        "  min {:.1} MB/s   median {:.1} MB/s   max {:.1} MB/s   (checksum {checksum})\n",
        rates[0],
        rates[rates.len() / 2],
        rates[rates.len() - 1]
    ));
    // Wall time swings with whatever else the machine runs; this thread's own CPU time
    // does much less, so both are shown.
    if let Some(median) = cpu_rates.get(cpu_rates.len() / 2) {
        report.push_str(&format!(
            "  median {median:.1} MB/s of this thread's CPU time\n"
        ));
    }
    emit(&report)?;
    Ok(ExitCode::SUCCESS)
}

/// Nanoseconds this thread has run on a CPU, where Linux reports it.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Repeats the drills, stretching each to a full conversation of about 30 turns, until
/// the corpus holds `megabytes` of turn text.
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

/// `spar bench pairing`: the time to pair `members` queued members on one core, after
/// `history` rounds among them (the rounds are paired first and not timed).
pub fn pairing(members: usize, history: usize, runs: usize) -> anyhow::Result<ExitCode> {
    use spar_core::peer::{Entry, History, OddOneOut, pair, round_seed};
    let entries: Vec<Entry> = (1..=members)
        .map(|i| Entry::peer(format!("m{i}")))
        .collect();
    let mut past = History::new();
    for round in 0..history {
        let groups = pair(
            &entries,
            &past,
            round_seed(1, round as u64),
            OddOneOut::Trio,
        )
        .groups;
        past.record(&groups);
    }
    let mut wall = Vec::with_capacity(runs.max(1));
    let mut cpu = Vec::with_capacity(runs.max(1));
    let mut groups = 0;
    for run in 0..runs.max(1) {
        let seed = round_seed(2, run as u64);
        let start = Instant::now();
        let cpu_start = cpu_ns();
        let pairing = pair(&entries, &past, seed, OddOneOut::Trio);
        wall.push(start.elapsed().as_secs_f64() * 1e3);
        if let (Some(a), Some(b)) = (cpu_start, cpu_ns()) {
            cpu.push(b.saturating_sub(a) as f64 / 1e6);
        }
        groups = pairing.groups.len();
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let mut report = format!(
        "pairing {members} queued members with {history} rounds of history into {groups} groups, {} runs on one core:\n",
        wall.len()
    );
    report.push_str(&format!(
        "  min {:.1} ms   median {:.1} ms   max {:.1} ms\n",
        wall[0],
        wall[wall.len() / 2],
        wall[wall.len() - 1]
    ));
    if let Some(median) = cpu.get(cpu.len() / 2) {
        report.push_str(&format!(
            "  median {median:.1} ms of this thread's CPU time\n"
        ));
    }
    emit(&report)?;
    Ok(ExitCode::SUCCESS)
}
