//! `spar practice`: a drill in the terminal, on the embedded defaults unless configured.

use crate::antagonist::{Cast, Play, Scripted};
use crate::cli::{ColourChoice, PracticeArgs};
use crate::config::Settings;
use crate::debrief::Debriefer;
use crate::engine::Engine;
use crate::failure::input_error;
use crate::library;
use crate::llm::{LlmConfig, OpenAiAntagonist, OpenAiJudge};
use crate::terminal::hold::{self, Hold};
use crate::terminal::input::{self, Input};
use crate::terminal::interrupt::{self, Interrupt};
use crate::terminal::record::EngineRecorder;
use crate::terminal::style::Style;
use crate::terminal::{Begin, Clock, NoRecorder, Recorder as _, Session, recover};
use anyhow::Context as _;
use spar_core::antagonist::SharedLines;
use spar_core::drill::{Drill, DrillSettings, Event, Millis, Mode};
use spar_core::scenario::{Difficulty, ScenarioLibrary};
use spar_core::scoring::Scorer;
use spar_core::store::{DrillId, EpochMillis, NewDrill, Participant, PersonRef, WorkspaceRef};
use spar_core::transcript::Role;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use textwrap::core::display_width;
use tokio::sync::mpsc::UnboundedReceiver;

pub fn run(settings: &Settings, args: PracticeArgs) -> anyhow::Result<ExitCode> {
    let library = library::load(settings.scenarios.as_deref())?;
    let difficulty: Difficulty = args
        .difficulty
        .parse()
        .map_err(|e| input_error(format!("{e}")))?;
    if args.max_turns == 0 {
        return Err(input_error("--max-turns must be at least 1"));
    }
    let interactive = std::io::stdin().is_terminal();
    let stdout_tty = std::io::stdout().is_terminal();
    let style = Style {
        colour: match args.colour {
            ColourChoice::Always => true,
            ColourChoice::Never => false,
            ColourChoice::Auto => stdout_tty,
        },
        width: if stdout_tty {
            textwrap::termwidth().min(100)
        } else {
            88
        },
    };
    let clock = match args.pace {
        Some(pace) if pace.is_finite() && pace >= 0.0 => Clock::paced(pace),
        Some(_) => return Err(input_error("--pace must be a number of seconds, 0 or more")),
        None if interactive => Clock::Wall,
        None => Clock::paced(30.0),
    };
    let seed = args.seed.unwrap_or_else(clock_seed);
    // The scorer reads the people of the user's own scenarios too.
    let scorer = Scorer::embedded()
        .and_then(|s| s.with_scenarios(&library))
        .context("the built-in scoring lexicon is invalid")?;
    let shared = SharedLines::embedded().context("the built-in antagonist lines are invalid")?;
    let scripted = Scripted::new(shared, scorer.clone(), "/end");
    let llm = LlmConfig::from_settings(&settings.llm)?;
    let (cast, judge, playing) = match &llm {
        Some(config) => {
            let model = OpenAiAntagonist::new(config).context("setting up the model antagonist")?;
            let judge = OpenAiJudge::new(config).context("setting up the debrief judge")?;
            let playing = format!(
                "Antagonist: model {} at {}; debrief judged by {}.",
                config.model, config.base_url, config.judge_model
            );
            (Cast::with_model(scripted, model), Some(judge), playing)
        }
        None => (
            Cast::scripted(scripted),
            None,
            "Antagonist: scripted (offline). Set SPAR_LLM_MODEL to use a model.".to_string(),
        ),
    };

    let debriefer = Debriefer::new(scorer, judge);
    let runtime = super::runtime()?;
    let outcome = runtime.block_on(async {
        let interrupt = Interrupt::listen();
        let mut input = input::spawn(std::io::BufReader::new(std::io::stdin()));
        let mut out = std::io::stdout().lock();
        // The store opens before anything is asked, so a bad database URL costs no answers.
        let engine = if args.no_save {
            None
        } else {
            let store = crate::store::open(settings.database_url.as_deref()).await?;
            let owner = format!("terminal:{}", std::process::id());
            Some(Engine::new(store, owner, &["terminal"]))
        };
        let me = PersonRef::terminal(&settings.terminal_user);
        let folder = hold::folder();
        let mut resumed = None;
        if let Some(engine) = &engine {
            let now = clock.now() as EpochMillis;
            let orphans = recover::find(engine, &me, folder.as_deref(), now).await?;
            for orphan in orphans {
                let take_up = resumed.is_none()
                    && interactive
                    && orphan.resumable(now)
                    && library.get(&orphan.drill.record.settings.scenario_id).is_some()
                    && offer(&orphan, &mut input, &mut out, &style).await?;
                if take_up {
                    resumed = Some(orphan);
                    continue;
                }
                let overall =
                    recover::abandon(engine, debriefer.scorer(), &orphan, now).await?;
                let record = &orphan.drill.record;
                let scored = overall.map_or_else(
                    || "nothing was said in it, so there is nothing to score".to_string(),
                    |o| format!("scored on what was said: overall {o}"),
                );
                let note = format!(
                    "Your {} drill of {} was left unfinished; it is ended as abandoned and {scored}. `spar history` shows it.",
                    record.settings.scenario_id,
                    crate::report::local_time(record.started_at.unwrap_or(record.created_at)),
                );
                out.write_all(style.note(&note).as_bytes())?;
            }
        }
        let (scenario, mut drill, seed, begin) = match &resumed {
            Some(orphan) => {
                let record = &orphan.drill.record;
                let scenario = library
                    .get(&record.settings.scenario_id)
                    .ok_or_else(|| unknown_scenario(&record.settings.scenario_id, &library))?;
                let (drill, effects) = Drill::resume(
                    record.settings.clone(),
                    record.phase,
                    record.started_at.map(|t| t as Millis),
                    orphan.drill.plain_turns(),
                    clock.now(),
                );
                let seed = record.seed.map_or_else(clock_seed, |s| s as u64);
                (scenario, drill, seed, Begin::Resumed(effects))
            }
            None => {
                let scenario = match &args.scenario {
                    Some(id) => library
                        .get(id)
                        .ok_or_else(|| unknown_scenario(id, &library))?,
                    None => choose(&library, &mut input, &mut out, &style, interactive).await?,
                };
                let drill = Drill::new(DrillSettings {
                    scenario_id: scenario.id.clone(),
                    difficulty,
                    mode: Mode::Solo,
                    time_limit_s: scenario.time_limit_s,
                    max_turns: args.max_turns,
                });
                (scenario, drill, seed, Begin::New)
            }
        };
        writeln!(out, "{}", style.dim(&playing))?;
        let mut session = Session {
            scenario,
            cast: &cast,
            play: Play::default(),
            seed,
            debriefer: &debriefer,
            style,
            clock,
            interactive,
            terminal: stdout_tty,
            interrupt: interrupt.clone(),
            out,
        };
        let mut kept = match (engine, resumed) {
            (None, _) => None,
            (Some(engine), Some(orphan)) => {
                let hold = match orphan.hold {
                    Some(hold) => Some(hold),
                    None => folder
                        .as_deref()
                        .and_then(|f| Hold::start(f, &orphan.drill.record.id)),
                };
                Some((EngineRecorder::resume(engine, &orphan.drill), hold))
            }
            (Some(engine), None) => {
                let new = NewDrill {
                    id: DrillId(uuid::Uuid::new_v4().to_string()),
                    workspace: WorkspaceRef::terminal(),
                    settings: drill.settings().clone(),
                    // Kept as the same 64 bits, so the drill can be replayed with --seed.
                    seed: Some(seed as i64),
                    created_at: session.clock.now() as EpochMillis,
                    participants: vec![Participant {
                        person: me.clone(),
                        role: Role::Candidate,
                    }],
                    place: None,
                };
                let hold = folder.as_deref().and_then(|f| Hold::start(f, &new.id));
                Some((EngineRecorder::begin(engine, &new).await?, hold))
            }
        };
        session.brief(&drill)?;
        if let Begin::Resumed(_) = begin {
            session.replay(&drill)?;
        } else if interactive {
            let prompt = style.bold("Press Enter when you are ready to start the clock.");
            session.out.write_all(format!("{prompt}\n").as_bytes())?;
            session.out.flush()?;
            // A drill nobody started is dropped, not left waiting.
            interrupt.graceful(true);
            let stop = tokio::select! {
                got = input.recv() => match got {
                    Some(Input::Line(_)) => None,
                    // Input ended before the drill started.
                    _ => Some(ExitCode::SUCCESS),
                },
                () = interrupt.wait() => Some(ExitCode::from(interrupt::EXIT_INTERRUPTED as u8)),
            };
            interrupt.graceful(false);
            if let Some(code) = stop {
                if let Some((recorder, _)) = &mut kept {
                    let now = session.clock.now();
                    let effects = drill.handle(Event::Abandon, now);
                    recorder.event(&drill, &Event::Abandon, &effects, now).await?;
                }
                writeln!(session.out)?;
                return anyhow::Ok(code);
            }
        }
        match &mut kept {
            Some((recorder, _hold)) => {
                session.run(&mut drill, recorder, &mut input, begin).await?;
                let id = recorder.drill_id();
                let note = format!("Saved as drill {id} (seed {seed}). `spar history` lists your drills; `spar export --drill {id}` shows this one.");
                write!(session.out, "\n{}", style.dim(&style.wrap(&note, "")))?;
            }
            None => {
                session
                    .run(&mut drill, &mut NoRecorder, &mut input, begin)
                    .await?;
            }
        }
        session.out.flush()?;
        anyhow::Ok(ExitCode::SUCCESS)
    });
    // The thread reading standard input may be waiting for a line that never comes.
    runtime.shutdown_background();
    outcome
}

/// Offers to take up an unfinished drill again; true when the user says yes.
async fn offer(
    orphan: &recover::Orphan,
    input: &mut UnboundedReceiver<Input>,
    out: &mut impl Write,
    style: &Style,
) -> anyhow::Result<bool> {
    let record = &orphan.drill.record;
    let said = orphan
        .drill
        .turns
        .iter()
        .filter(|t| t.turn.role == Role::Candidate)
        .count();
    let question = format!(
        "Your {} drill of {} was left unfinished after {said} of your replies. Take it up again? [y/N] ",
        record.settings.scenario_id,
        crate::report::local_time(record.started_at.unwrap_or(record.created_at)),
    );
    write!(out, "{}", style.bold(&question))?;
    out.flush()?;
    Ok(match input.recv().await {
        Some(Input::Line(answer)) => {
            matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
        }
        _ => false,
    })
}

/// An unknown id, with the ids it most looks like and the whole list.
fn unknown_scenario(id: &str, library: &ScenarioLibrary) -> anyhow::Error {
    let closest = library.closest(id);
    let guess = match closest.as_slice() {
        [] => String::new(),
        [one] => format!("did you mean {one}? "),
        [first @ .., last] => format!("did you mean {} or {last}? ", first.join(", ")),
    };
    input_error(format!(
        "unknown scenario {id:?}; {guess}choose one of: {}",
        library.ids().join(", ")
    ))
}

/// Offers the scenarios as a numbered list and reads a number or an id.
async fn choose<'l>(
    library: &'l ScenarioLibrary,
    input: &mut UnboundedReceiver<Input>,
    out: &mut impl Write,
    style: &Style,
    interactive: bool,
) -> anyhow::Result<&'l spar_core::Scenario> {
    let scenarios: Vec<_> = library.iter().collect();
    writeln!(out, "{}", style.bold("Pick a scenario:"))?;
    write!(out, "{}", picker(&scenarios, style))?;
    loop {
        write!(out, "number or id › ")?;
        out.flush()?;
        let line = match input.recv().await {
            Some(Input::Line(line) | Input::Fragment(line)) => line,
            Some(Input::End) | None => {
                return Err(input_error(
                    "no scenario chosen (input ended); pass --scenario ID",
                ));
            }
        };
        let choice = line.trim();
        let picked = choice
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| scenarios.get(i).copied())
            .or_else(|| library.get(choice));
        match picked {
            Some(s) => return Ok(s),
            None if interactive => writeln!(
                out,
                "{}",
                style.warning(&format!("{choice:?} is not on the list"))
            )?,
            None => return Err(unknown_scenario(choice, library)),
        }
    }
}

/// The numbered list of scenarios, fitted to the width: each title wraps between words
/// under itself, or, when the ids leave it too little room, goes under its id.
fn picker(scenarios: &[&spar_core::Scenario], style: &Style) -> String {
    let id_width = scenarios
        .iter()
        .map(|s| display_width(&s.id))
        .max()
        .unwrap_or(0);
    let width = style.width.max(20);
    // "  12. " + the id column + a space.
    let lead = 6 + id_width + 1;
    let beside = width.saturating_sub(lead) >= 24;
    let mut out = String::new();
    for (i, s) in scenarios.iter().enumerate() {
        let about = format!("{} · {}", s.round.label(), s.title);
        let (first, indent, room) = if beside {
            (
                format!("  {:>2}. {:id_width$} ", i + 1, s.id),
                " ".repeat(lead),
                width - lead,
            )
        } else {
            (
                format!("  {:>2}. {}\n", i + 1, s.id),
                " ".repeat(6),
                width - 6,
            )
        };
        let options = textwrap::Options::new(room)
            .word_separator(textwrap::WordSeparator::AsciiSpace)
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
            .break_words(false);
        for (n, part) in textwrap::wrap(&about, options).iter().enumerate() {
            let lead = if n == 0 && beside { &first } else { &indent };
            if n == 0 && !beside {
                out.push_str(&first);
            }
            out.push_str(&format!("{lead}{}\n", style.dim(part)));
        }
    }
    out
}

/// A seed from the clock when none is given: each drill differs, yet one can be replayed
/// by passing the seed printed in its history.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
