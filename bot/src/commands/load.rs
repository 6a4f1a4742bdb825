//! `spar bench load`: many concurrent chat drills through the real chat runtime, engine
//! and store, with an in-memory chat surface, an antagonist that answers after a fixed
//! latency, as a model would, and members who pause to think and type between a reply
//! and their next message. It reports how close turns per second come to what a system
//! bound only by the model and the members would reach, Spar's own time per turn (message
//! in to antagonist asked, and line ready to reply posted), store operations per turn,
//! the heap a waiting drill holds, and errors: turns not answered exactly once.

use super::emit;
use crate::antagonist::{Cast, Scripted};
use crate::chat::runtime::Message;
use crate::chat::{Clock, Command, Invocation, MemorySurface, Runtime, RuntimeOptions, WallClock};
use crate::cli::{ListFormat, LoadArgs};
use crate::debrief::Debriefer;
use crate::engine::Engine;
use crate::failure::input_error;
use crate::stopwatch::{self, Lap};
use crate::store::{Observed, OperationTime, PoolOptions, Tally};
use anyhow::Context as _;
use futures::StreamExt as _;
use spar_core::antagonist::SharedLines;
use spar_core::drill::Phase;
use spar_core::peer::Seeded;
use spar_core::scoring::Scorer;
use spar_core::store::{PersonRef, Store, WorkspaceRef};
use spar_core::transcript::Role;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The surface's platform: drills the benchmark makes are told apart from real ones.
const PLATFORM: &str = "bench";

/// How many drills are opened at once before the turns begin.
const OPENING_AT_ONCE: usize = 64;

/// What candidates say, in turn: real moves of different lengths, so the scripted
/// antagonist and the engine do their ordinary work.
const LINES: [&str; 6] = [
    "What is driving the release date for you?",
    "Our replay of a day of production traffic puts p99 at 196 ms against a 150 ms budget.",
    "We both want users to get the quality win without a slower product.",
    "What would you need to see to be convinced the regression is real?",
    "If the fused kernel gets p99 under budget, I'd back shipping it.",
    "Could we agree the benchmark config together and canary it on 1% of traffic with a rollback rule?",
];

pub fn run(args: &LoadArgs) -> anyhow::Result<ExitCode> {
    if args.drills == 0 || args.turns == 0 {
        return Err(input_error("--drills and --turns must be at least 1"));
    }
    if !(1..=2).contains(&args.instances) {
        return Err(input_error("--instances must be 1 or 2"));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(measure(args))?;
    match args.format {
        ListFormat::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report.json())?
        ))?,
        ListFormat::Text => emit(&report.text())?,
    }
    Ok(ExitCode::SUCCESS)
}

struct Report {
    drills: usize,
    turns: usize,
    instances: usize,
    backend: &'static str,
    latency: Duration,
    think: Duration,
    /// Every drill's time from its first message to its last reply, added up.
    took: Duration,
    /// The same, had every turn taken exactly the model's latency: each drill's members'
    /// pauses plus its turns times the latency, added up.
    ideal: Duration,
    /// Spar's own time per turn: from the message entering the runtime to the antagonist
    /// being asked, plus from its line being ready to the reply being posted.
    overhead_ms: Vec<f64>,
    /// Each turn end to end, from the message in to the reply posted, the model's time
    /// and any waiting included.
    turn_ms: Vec<f64>,
    store_operations: u64,
    store_time: Duration,
    /// The turns' store operations by name.
    by_operation: Vec<(&'static str, OperationTime)>,
    memory_per_drill: Option<u64>,
    peak_rss: Option<u64>,
    errors: usize,
}

impl Report {
    /// Turns per second against the most a system bound only by the model and the members
    /// could do: each drill's turns back to back, every reply taking exactly the model's
    /// latency and every pause the member's. Summed over drills, so one slow drill
    /// counts for what it lost, not for the whole run.
    fn throughput_ratio(&self) -> f64 {
        if self.took.is_zero() {
            return 0.0;
        }
        self.ideal.as_secs_f64() / self.took.as_secs_f64()
    }

    /// The three operations with the longest single call: where a slow turn waited.
    fn slowest(&self) -> String {
        let mut by_max = self.by_operation.clone();
        by_max.sort_by_key(|(_, time)| std::cmp::Reverse(time.max_micros));
        let shown: Vec<String> = by_max
            .iter()
            .take(3)
            .map(|(name, time)| {
                format!(
                    "{name} mean {:.2} ms, max {:.1} ms, {} of {} over 100 ms",
                    time.micros as f64 / time.calls.max(1) as f64 / 1000.0,
                    time.max_micros as f64 / 1000.0,
                    time.slow,
                    time.calls
                )
            })
            .collect();
        if shown.is_empty() {
            "none".into()
        } else {
            shown.join("; ")
        }
    }

    fn per_turn(&self, x: f64) -> f64 {
        x / self.turns.max(1) as f64
    }

    fn json(&self) -> serde_json::Value {
        let spread = |samples: &[f64]| {
            serde_json::json!({
                "p50": round(percentile(samples, 50.0), 3),
                "p99": round(percentile(samples, 99.0), 3),
                "max": round(percentile(samples, 100.0), 3),
            })
        };
        serde_json::json!({
            "drills": self.drills,
            "turns": self.turns,
            "instances": self.instances,
            "backend": self.backend,
            "llm_latency_ms": self.latency.as_millis() as u64,
            "think_ms": self.think.as_millis() as u64,
            "throughput_ratio": round(self.throughput_ratio(), 4),
            "overhead_ms": spread(&self.overhead_ms),
            "turn_ms": spread(&self.turn_ms),
            "store_round_trips_per_turn": round(self.per_turn(self.store_operations as f64), 2),
            "store_ms_per_turn": round(self.per_turn(self.store_time.as_secs_f64() * 1000.0), 3),
            "store_operations": self
                .by_operation
                .iter()
                .map(|(name, time)| {
                    let mean = time.micros as f64 / time.calls.max(1) as f64 / 1000.0;
                    let calls = self.per_turn(time.calls as f64);
                    (name.to_string(), serde_json::json!({
                        "calls_per_turn": round(calls, 3),
                        "mean_ms": round(mean, 3),
                        "max_ms": round(time.max_micros as f64 / 1000.0, 3),
                        "over_100ms": time.slow,
                    }))
                })
                .collect::<serde_json::Map<_, _>>(),
            "memory_per_drill_bytes": self.memory_per_drill,
            "peak_rss_bytes": self.peak_rss,
            "errors": self.errors,
        })
    }

    fn text(&self) -> String {
        let mib = |b: Option<u64>| {
            b.map_or("n/a".to_string(), |b| {
                format!("{:.1} MiB", b as f64 / 1048576.0)
            })
        };
        let pauses = if self.think.is_zero() {
            "no pause between turns (lockstep)".to_string()
        } else {
            format!(
                "members pause {:.1} s on average between turns",
                self.think.as_secs_f64()
            )
        };
        format!(
            "{} concurrent drills, {} turns, {} instance(s) on {}, model latency {} ms, {}:\n  \
             throughput {:.1}% of the ideal bound by the model and the members\n  \
             Spar's own time per turn (message in to antagonist asked, and line ready to \
             reply posted): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n  \
             each turn end to end (message in to reply posted, model included): \
             p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n  \
             store operations per turn: {:.2} (each one transaction), {:.2} ms of store time\n  \
             slowest store operations: {}\n  \
             heap held per waiting drill: {}; peak resident memory {}\n  \
             errors: {}\n",
            self.drills,
            self.turns,
            self.instances,
            self.backend,
            self.latency.as_millis(),
            pauses,
            100.0 * self.throughput_ratio(),
            percentile(&self.overhead_ms, 50.0),
            percentile(&self.overhead_ms, 99.0),
            percentile(&self.overhead_ms, 100.0),
            percentile(&self.turn_ms, 50.0),
            percentile(&self.turn_ms, 99.0),
            percentile(&self.turn_ms, 100.0),
            self.per_turn(self.store_operations as f64),
            self.per_turn(self.store_time.as_secs_f64() * 1000.0),
            self.slowest(),
            self.memory_per_drill.map_or("n/a".to_string(), |b| format!(
                "{:.1} KiB",
                b as f64 / 1024.0
            )),
            mib(self.peak_rss),
            self.errors,
        )
    }
}

/// The `p`th percentile (nearest rank) of `samples`; 0 when there are none.
fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// How one turn's time was spent, from the moments its stopwatch recorded.
struct Spent {
    own_ms: f64,
    turn_ms: f64,
}

impl Spent {
    /// `None` for a turn whose antagonist was never asked or whose reply was never posted.
    fn of(entered: Instant, lap: &Lap) -> Option<Spent> {
        let (asked, answered, posted) = (lap.asked?, lap.answered?, lap.posted?);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        Some(Spent {
            own_ms: ms(asked.saturating_duration_since(entered))
                + ms(posted.saturating_duration_since(answered)),
            turn_ms: ms(posted.saturating_duration_since(entered)),
        })
    }
}

/// One member's drill as the benchmark saw it.
struct Played {
    /// When each message went in, and what its stopwatch recorded.
    laps: Vec<(Instant, Lap)>,
    /// From the first message to the last reply.
    took: Duration,
    /// What that would have been with every reply taking exactly the model's latency.
    ideal: Duration,
}

/// A member's pause before a message: between half and one and a half times `mean`.
fn pause(rng: &mut Seeded, mean: Duration) -> Duration {
    let micros = u64::try_from(mean.as_micros()).unwrap_or(u64::MAX);
    if micros == 0 {
        return Duration::ZERO;
    }
    let spread = rng.below(usize::try_from(micros).unwrap_or(usize::MAX)) as u64;
    Duration::from_micros(micros / 2 + spread)
}

fn round(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

/// Peak resident memory, from `/proc/self/status` (Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// Bytes the process's heap holds now, when the counting allocator is installed.
///
/// What a waiting drill holds is read from this count, not from resident memory: after a
/// burst of turns resident memory still holds the burst's freed buffers (an allocator
/// keeps freed pages for reuse), and its peak measures the busiest moment, not what a
/// drill holds while it waits. The count is exact for Rust's allocations; it leaves out
/// what C libraries allocate themselves (SQLite's page cache, bounded per connection),
/// which the peak resident memory still shows.
fn live_heap() -> Option<i64> {
    let counted = || stats_alloc::INSTRUMENTED_SYSTEM.stats();
    let before = counted();
    let probe = std::hint::black_box(vec![0u8; 64]);
    let during = counted();
    drop(probe);
    if during.allocations == before.allocations {
        // Another allocator is installed (a test binary of its own): nothing is counted.
        return None;
    }
    // A reallocation's growth is counted as allocated and its shrinking as freed.
    let now = counted();
    let allocated = i64::try_from(now.bytes_allocated).ok()?;
    let freed = i64::try_from(now.bytes_deallocated).ok()?;
    Some(allocated - freed)
}

async fn measure(args: &LoadArgs) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir().context("a temporary directory for the benchmark database")?;
    let url = match &args.database {
        Some(url) => url.clone(),
        None => crate::store::sqlite_url(&dir.path().join("bench.db")),
    };
    let pool = PoolOptions {
        max_connections: args.pool,
        ..PoolOptions::default()
    };
    let latency = Duration::from_millis(args.llm_latency_ms);
    let think = Duration::from_millis(args.think_ms);
    let tally = Arc::new(Tally::default());
    let scorer = Scorer::embedded().context("the built-in scoring lexicon is invalid")?;
    let shared = SharedLines::embedded().context("the built-in antagonist lines are invalid")?;
    let surface = Arc::new(MemorySurface::new(PLATFORM, 2000).counting_only());
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut instances = Vec::new();
    let mut backend = "sqlite";
    for i in 0..args.instances {
        let store = crate::store::open_with(Some(&url), pool).await?;
        backend = store.backend();
        let store: Arc<dyn Store> = Arc::new(Observed::new(store, tally.clone()));
        let options = RuntimeOptions {
            edit_interval: Duration::ZERO,
            // Long enough that no drill times out while the benchmark runs.
            time_limit_s: Some(24 * 3600),
            max_turns: u32::try_from(args.turns + 1).unwrap_or(u32::MAX),
            ..RuntimeOptions::default()
        };
        instances.push(Arc::new(Runtime::new(
            Engine::new(store, format!("bench-{run}-{i}"), &[PLATFORM]),
            vec![surface.clone()],
            crate::library::load(None)?,
            Cast::paced(
                Scripted::new(shared.clone(), scorer.clone(), "/spar end"),
                latency,
            ),
            Debriefer::new(scorer.clone(), None),
            Arc::new(WallClock) as Arc<dyn Clock>,
            options,
        )));
    }
    let workspace = WorkspaceRef {
        platform: PLATFORM.into(),
        external_id: format!("bench-{run}"),
        name: "load benchmark".into(),
    };
    let invocation = |drill: usize, id: String| Invocation {
        event_id: id,
        person: PersonRef {
            platform: PLATFORM.into(),
            platform_user_id: format!("member-{drill}"),
            display_name: format!("member {drill}"),
        },
        workspace: workspace.clone(),
        channel: "channel".into(),
        thread: None,
        parent_channel: None,
        admin: false,
    };

    // What the benchmark keeps of every turn is set aside before the heap is first read,
    // so that the heap's growth is the drills' alone.
    let expected = args.drills * args.turns;
    let mut overhead_ms = Vec::with_capacity(expected);
    let mut turn_ms = Vec::with_capacity(expected);
    let baseline = live_heap();

    // Open every drill (its opening line included) before the clock starts, a few at a
    // time: opening is not what is measured, and ten thousand at once would wait longer
    // for a pooled connection than a connection may be waited for.
    futures::stream::iter(0..args.drills)
        .for_each_concurrent(OPENING_AT_ONCE, |drill| {
            let runtime = instances[0].clone();
            let inv = invocation(drill, format!("{run}-solo-{drill}"));
            async move {
                let handled = runtime
                    .command(
                        &inv,
                        Command::Solo {
                            scenario: Some("latency-regression".into()),
                            difficulty: None,
                        },
                    )
                    .await;
                if let Some(pending) = handled.then {
                    runtime.perform(pending).await;
                }
            }
        })
        .await;
    let threads: Vec<(String, usize)> = instances[0]
        .engine()
        .store()
        .load_live_drills(&[PLATFORM.to_string()])
        .await?
        .iter()
        .filter(|d| d.record.workspace_external_id == workspace.external_id)
        .filter_map(|d| {
            let place = d.record.place.as_ref()?;
            let member = d.candidate()?.platform_user_id.strip_prefix("member-")?;
            Some((place.thread.clone(), member.parse().ok()?))
        })
        .collect();
    let opened = threads.len();
    let opened_operations = tally.operations();
    let opened_time = tally.time();
    tally.restart_by_operation();

    // The turns: every member writes, waits for the reply, pauses, and writes again.
    let per_drill = args.turns;
    let mut turns = tokio::task::JoinSet::new();
    for (thread, drill) in threads {
        let instances = instances.clone();
        let run = run.clone();
        let author = invocation(drill, String::new()).person;
        let mut rng = Seeded::new(args.seed ^ (drill as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        turns.spawn(async move {
            // First messages are spread over one pause, as members arrive at their own
            // moments; with no pause, every drill starts at once.
            let arrival = if think.is_zero() {
                Duration::ZERO
            } else {
                pause(&mut rng, think * 2) / 2
            };
            tokio::time::sleep(arrival).await;
            let first = Instant::now();
            let mut paused = Duration::ZERO;
            let mut laps = Vec::with_capacity(per_drill);
            for turn in 0..per_drill {
                if turn > 0 {
                    let thought = pause(&mut rng, think);
                    paused += thought;
                    tokio::time::sleep(thought).await;
                }
                let message = Message {
                    event_id: format!("{run}-{drill}-{turn}"),
                    author: author.clone(),
                    from_bot: false,
                    thread: thread.clone(),
                    channel: None,
                    text: LINES[(drill + turn) % LINES.len()].into(),
                };
                let entered = Instant::now();
                // Every instance gets every message, as every session of a bot does.
                let handled = instances
                    .iter()
                    .map(|runtime| runtime.message(PLATFORM, message.clone()));
                let (_, lap) = stopwatch::time(futures::future::join_all(handled)).await;
                laps.push((entered, lap));
            }
            Played {
                laps,
                took: first.elapsed(),
                ideal: paused + latency * u32::try_from(per_drill).unwrap_or(u32::MAX),
            }
        });
    }
    let mut unanswered = 0;
    let mut took = Duration::ZERO;
    let mut ideal = Duration::ZERO;
    while let Some(done) = turns.join_next().await {
        let played = done.context("a drill's task failed")?;
        took += played.took;
        ideal += played.ideal;
        for (entered, lap) in &played.laps {
            match Spent::of(*entered, lap) {
                Some(spent) => {
                    overhead_ms.push(spent.own_ms);
                    turn_ms.push(spent.turn_ms);
                }
                None => unanswered += 1,
            }
        }
    }
    drop(turns);
    let turn_operations = tally.operations() - opened_operations;
    let turn_time = tally.time().saturating_sub(opened_time);
    let by_operation = tally.by_operation();

    // Every drill now waits for its member's next message: what the heap holds beyond
    // the baseline is what the waiting drills hold.
    let waiting = live_heap();
    let peak = peak_rss();

    // Every turn answered exactly once: the candidate's turns each followed by one reply.
    let mut errors = args.drills.saturating_sub(opened) * args.turns;
    for drill in instances[0]
        .engine()
        .store()
        .load_live_drills(&[PLATFORM.to_string()])
        .await?
        .iter()
        .filter(|d| d.record.workspace_external_id == workspace.external_id)
    {
        let said = |role| drill.turns.iter().filter(|t| t.turn.role == role).count();
        let candidate = said(Role::Candidate);
        let antagonist = said(Role::Antagonist);
        if drill.record.phase != Phase::Live
            || candidate != args.turns
            || antagonist != args.turns + 1
        {
            errors += candidate
                .abs_diff(args.turns)
                .max(antagonist.abs_diff(args.turns + 1))
                .max(1);
        }
    }

    // The benchmark's members and their drills go, so runs against one database neither
    // pile up nor see each other's drills.
    let store = instances[0].engine().store().clone();
    let forgotten: Vec<_> = futures::stream::iter(0..args.drills)
        .map(|drill| {
            let store = store.clone();
            async move {
                store
                    .forget_person(PLATFORM, &format!("member-{drill}"))
                    .await
            }
        })
        .buffer_unordered(OPENING_AT_ONCE)
        .collect()
        .await;
    if let Some(Err(failed)) = forgotten.into_iter().find(Result::is_err) {
        return Err(failed).context("removing the benchmark's drills");
    }

    Ok(Report {
        drills: args.drills,
        turns: overhead_ms.len() + unanswered,
        instances: args.instances,
        backend,
        latency,
        think,
        took,
        ideal,
        overhead_ms,
        turn_ms,
        store_operations: turn_operations,
        store_time: turn_time,
        by_operation,
        memory_per_drill: match (baseline, waiting) {
            (Some(before), Some(after)) => {
                Some(u64::try_from(after - before).unwrap_or(0) / args.drills as u64)
            }
            _ => None,
        },
        peak_rss: peak,
        errors: errors + unanswered + tally.failures() as usize,
    })
}
