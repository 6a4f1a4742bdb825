//! `spar practice`: a drill in the terminal, on the embedded defaults unless configured.

use crate::antagonist::{Cast, Play, Scripted};
use crate::cli::{ColourChoice, PracticeArgs};
use crate::config::Settings;
use crate::debrief::Debriefer;
use crate::engine::Journal;
use crate::failure::input_error;
use crate::library;
use crate::llm::{LlmConfig, OpenAiAntagonist, OpenAiJudge};
use crate::terminal::style::Style;
use crate::terminal::{Clock, NoRecorder, Session};
use anyhow::Context as _;
use spar_core::antagonist::SharedLines;
use spar_core::drill::{Drill, DrillSettings, Mode};
use spar_core::scenario::{Difficulty, ScenarioLibrary};
use spar_core::scoring::Scorer;
use spar_core::store::{DrillId, EpochMillis, NewDrill, Participant, PersonRef, WorkspaceRef};
use spar_core::transcript::Role;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use tokio::io::{AsyncBufReadExt, BufReader};

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
    let scorer = Scorer::embedded().context("the built-in scoring lexicon is invalid")?;
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
    runtime.block_on(async {
        let mut input = BufReader::new(tokio::io::stdin());
        let mut out = std::io::stdout().lock();
        let scenario = match &args.scenario {
            Some(id) => library
                .get(id)
                .ok_or_else(|| unknown_scenario(id, &library))?,
            None => choose(&library, &mut input, &mut out, &style, interactive).await?,
        };
        writeln!(out, "{}", style.dim(&playing))?;
        let mut drill = Drill::new(DrillSettings {
            scenario_id: scenario.id.clone(),
            difficulty,
            mode: Mode::Solo,
            time_limit_s: scenario.time_limit_s,
            max_turns: args.max_turns,
        });
        let mut session = Session {
            scenario,
            cast: &cast,
            play: Play::default(),
            seed,
            debriefer: &debriefer,
            style,
            clock,
            interactive,
            out,
        };
        // The store opens before the drill starts, so a bad database URL costs no answers.
        let mut recorder = if args.no_save {
            None
        } else {
            let store = crate::store::open(settings.database_url.as_deref()).await?;
            let new = NewDrill {
                id: DrillId(uuid::Uuid::new_v4().to_string()),
                workspace: WorkspaceRef::terminal(),
                settings: drill.settings().clone(),
                // Kept as the same 64 bits, so the drill can be replayed with --seed.
                seed: Some(seed as i64),
                created_at: session.clock.now() as EpochMillis,
                participants: vec![Participant {
                    person: PersonRef::terminal(&settings.terminal_user),
                    role: Role::Candidate,
                }],
                place: None,
            };
            Some(Journal::begin(store, &new).await.context("saving the new drill")?)
        };
        session.brief(&drill)?;
        if interactive {
            let prompt = style.bold("Press Enter when you are ready to start the clock.");
            session.out.write_all(format!("{prompt}\n").as_bytes())?;
            session.out.flush()?;
            let mut ready = String::new();
            input.read_line(&mut ready).await?;
        }
        match &mut recorder {
            Some(recorder) => {
                session.run(&mut drill, recorder, input).await?;
                let id = recorder.drill_id();
                let note = format!("Saved as drill {id} (seed {seed}). `spar history` lists your drills; `spar export --drill {id}` shows this one.");
                write!(session.out, "\n{}", style.dim(&style.wrap(&note, "")))?;
            }
            None => {
                session.run(&mut drill, &mut NoRecorder, input).await?;
            }
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
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
async fn choose<'l, R: tokio::io::AsyncBufRead + Unpin>(
    library: &'l ScenarioLibrary,
    input: &mut R,
    out: &mut impl Write,
    style: &Style,
    interactive: bool,
) -> anyhow::Result<&'l spar_core::Scenario> {
    let scenarios: Vec<_> = library.iter().collect();
    writeln!(out, "{}", style.bold("Pick a scenario:"))?;
    for (i, s) in scenarios.iter().enumerate() {
        writeln!(
            out,
            "  {:>2}. {:26} {}",
            i + 1,
            s.id,
            style.dim(&format!("{} · {}", s.round.label(), s.title))
        )?;
    }
    loop {
        write!(out, "number or id › ")?;
        out.flush()?;
        let mut line = String::new();
        if input.read_line(&mut line).await? == 0 {
            return Err(input_error(
                "no scenario chosen (input ended); pass --scenario ID",
            ));
        }
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

/// A seed from the clock when none is given: each drill differs, yet one can be replayed
/// by passing the seed printed in its history.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
