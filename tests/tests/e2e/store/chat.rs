//! What chat surfaces need of the store and the engine: a drill is found by its thread
//! and its candidate, an instance only takes on drills of the platforms it serves, every
//! event is checked against who sent it, and one failing drill in a sweep costs the
//! others nothing.

use super::{Interleaved, S, T0, TestDb, asks, new_drill};
use spar::engine::{Engine, EngineError, Sender};
use spar_core::Role;
use spar_core::drill::{Event, Mode, Phase};
use spar_core::store::*;
use std::sync::Arc;

fn discord(guild: &str) -> WorkspaceRef {
    WorkspaceRef {
        platform: "discord".into(),
        external_id: guild.into(),
        name: "Study group".into(),
    }
}

fn member(id: &str) -> PersonRef {
    PersonRef {
        platform: "discord".into(),
        platform_user_id: id.into(),
        display_name: format!("member {id}"),
    }
}

/// A Discord drill in thread `thread` of channel C1, with the given people and parts.
fn chat_drill(thread: &str, mode: Mode, people: &[(&str, Role)]) -> NewDrill {
    let mut drill = new_drill("unused", T0 - 60 * S);
    drill.workspace = discord("G1");
    drill.settings.mode = mode;
    drill.participants = people
        .iter()
        .map(|(id, role)| Participant {
            person: member(id),
            role: *role,
        })
        .collect();
    drill.place = Some(ChatPlace {
        channel: "C1".into(),
        thread: thread.into(),
    });
    drill
}

async fn started(engine: &Engine, drill: &NewDrill) -> DrillId {
    let record = engine.start_drill(drill).await.expect("create");
    engine
        .handle(&record.id, None, Sender::System, Event::Start, T0)
        .await
        .expect("start");
    record.id
}

pub(super) async fn a_chat_drill_is_found_by_its_thread_and_by_its_candidate(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["discord"]);
    let store = engine.store().clone();
    let drill = started(
        &engine,
        &chat_drill("T1", Mode::Solo, &[("ana", Role::Candidate)]),
    )
    .await;
    let found = store
        .live_drill_in("discord", "T1", None)
        .await
        .expect("lookup")
        .expect("the drill in its thread");
    assert_eq!(found.id, drill);
    assert_eq!(
        found.place,
        Some(ChatPlace {
            channel: "C1".into(),
            thread: "T1".into()
        })
    );
    assert_eq!(found.workspace_external_id, "G1");
    assert!(
        store
            .live_drill_in("discord", "T1", Some("C1"))
            .await
            .expect("lookup")
            .is_some()
    );
    for (platform, thread, channel) in [
        ("discord", "T1", Some("C2")),
        ("discord", "T2", None),
        ("slack", "T1", None),
    ] {
        assert!(
            store
                .live_drill_in(platform, thread, channel)
                .await
                .expect("lookup")
                .is_none(),
            "{platform} {thread} {channel:?}"
        );
    }
    let mine = store
        .live_drill_of(&discord("G1"), &member("ana"))
        .await
        .expect("lookup");
    assert_eq!(mine.map(|r| r.id), Some(drill.clone()));
    assert!(
        store
            .live_drill_of(&discord("G2"), &member("ana"))
            .await
            .expect("lookup")
            .is_none(),
        "a drill in another guild is not this one's"
    );
    engine
        .handle(&drill, None, Sender::System, Event::Abandon, T0 + S)
        .await
        .expect("abandon");
    assert!(
        store
            .live_drill_in("discord", "T1", None)
            .await
            .expect("lookup")
            .is_none(),
        "an ended drill no longer answers in its thread"
    );
    assert!(
        store
            .live_drill_of(&discord("G1"), &member("ana"))
            .await
            .expect("lookup")
            .is_none()
    );
}

pub(super) async fn a_members_drills_are_counted_for_the_daily_limit(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["discord"]);
    let store = engine.store().clone();
    for (i, created) in [T0 - 30 * 3600 * S, T0 - 3600 * S, T0]
        .into_iter()
        .enumerate()
    {
        let mut drill = chat_drill(&format!("T{i}"), Mode::Solo, &[("ana", Role::Candidate)]);
        drill.created_at = created;
        engine.start_drill(&drill).await.expect("create");
    }
    let today = T0 - 20 * 3600 * S;
    assert_eq!(
        store
            .drills_since(&discord("G1"), &member("ana"), today)
            .await
            .expect("count"),
        2
    );
    assert_eq!(
        store
            .drills_since(&discord("G1"), &member("bo"), today)
            .await
            .expect("count"),
        0
    );
}

pub(super) async fn a_workspace_keeps_what_its_admins_chose(db: &TestDb) {
    let store = db.open().await;
    assert_eq!(
        store
            .workspace_config(&discord("G1"))
            .await
            .expect("defaults"),
        WorkspaceConfig::default(),
        "a workspace nobody configured has the defaults"
    );
    let chosen = WorkspaceConfig {
        drill_channel: Some("C9".into()),
        public_threads: true,
        default_difficulty: Some(spar_core::Difficulty::Hostile),
        daily_limit: Some(3),
        token_budget: Some(20_000),
    };
    store
        .set_workspace_config(&discord("G1"), &chosen)
        .await
        .expect("set");
    assert_eq!(
        store.workspace_config(&discord("G1")).await.expect("read"),
        chosen
    );
    assert_eq!(
        store.workspace_config(&discord("G2")).await.expect("read"),
        WorkspaceConfig::default(),
        "another guild's settings are its own"
    );
}

pub(super) async fn a_stranger_cannot_speak_in_a_drill_and_two_observers_stay_two_people(
    db: &TestDb,
) {
    let engine = Engine::new(db.open().await, "a", &["discord"]);
    let drill = started(
        &engine,
        &chat_drill(
            "T1",
            Mode::Peer,
            &[
                ("cand", Role::Candidate),
                ("lead", Role::Antagonist),
                ("obs1", Role::Observer),
                ("obs2", Role::Observer),
            ],
        ),
    )
    .await;
    let stranger = engine
        .say(
            &drill,
            Some("m0"),
            &member("eve"),
            "I am the candidate".into(),
            T0 + S,
        )
        .await;
    assert!(
        matches!(stranger, Err(EngineError::NotParticipant { .. })),
        "{stranger:?}"
    );
    for (id, who, text) in [
        ("m1", "lead", "It ships."),
        ("m2", "cand", "What drives the date?"),
        ("m3", "obs1", "good question"),
        ("m4", "obs2", "agreed"),
    ] {
        engine
            .say(&drill, Some(id), &member(who), text.into(), T0 + 2 * S)
            .await
            .unwrap_or_else(|e| panic!("{who}: {e}"));
    }
    let observer_as_candidate = engine
        .handle(
            &drill,
            Some("m5"),
            Sender::Person(&member("obs1")),
            Event::CandidateSaid("speaking for them".into()),
            T0 + 3 * S,
        )
        .await;
    assert!(
        matches!(observer_as_candidate, Err(EngineError::NotAllowed { .. })),
        "{observer_as_candidate:?}"
    );
    let candidate_ticking = engine
        .handle(
            &drill,
            None,
            Sender::Person(&member("cand")),
            Event::Tick,
            T0 + 3 * S,
        )
        .await;
    assert!(
        matches!(candidate_ticking, Err(EngineError::NotAllowed { .. })),
        "{candidate_ticking:?}"
    );
    let loaded = engine.store().load_drill(&drill).await.expect("load");
    let said: Vec<(Role, String, String)> = loaded
        .turns
        .iter()
        .map(|t| {
            let author = loaded
                .participants
                .iter()
                .find(|m| Some(m.id) == t.author)
                .map(|m| m.person.platform_user_id.clone())
                .unwrap_or_default();
            (t.turn.role, author, t.turn.text.clone())
        })
        .collect();
    assert_eq!(
        said,
        vec![
            (Role::Antagonist, "lead".into(), "It ships.".into()),
            (
                Role::Candidate,
                "cand".into(),
                "What drives the date?".into()
            ),
            (Role::Observer, "obs1".into(), "good question".into()),
            (Role::Observer, "obs2".into(), "agreed".into()),
        ]
    );
}

pub(super) async fn a_person_cannot_speak_for_the_engines_antagonist(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["discord"]);
    let drill = started(
        &engine,
        &chat_drill(
            "T1",
            Mode::Solo,
            &[("cand", Role::Candidate), ("lead", Role::Antagonist)],
        ),
    )
    .await;
    let spoofed = engine
        .say(
            &drill,
            Some("m1"),
            &member("lead"),
            "Fine, ship nothing.".into(),
            T0 + S,
        )
        .await;
    assert!(
        matches!(spoofed, Err(EngineError::NotAllowed { .. })),
        "{spoofed:?}"
    );
    let spoofed = engine
        .handle(
            &drill,
            Some("m2"),
            Sender::Person(&member("cand")),
            Event::AntagonistSaid("You win.".into()),
            T0 + S,
        )
        .await;
    assert!(
        matches!(spoofed, Err(EngineError::NotAllowed { .. })),
        "{spoofed:?}"
    );
}

pub(super) async fn an_instance_takes_on_only_the_drills_of_the_platforms_it_serves(db: &TestDb) {
    let terminal = Engine::new(db.open().await, "terminal", &["terminal"]);
    let discord_setup = Engine::new(db.open().await, "setup", &["discord"])
        .with_recovery_lease(std::time::Duration::ZERO);
    let terminal_drill = terminal
        .start_drill(&new_drill("ana", T0 - 60 * S))
        .await
        .expect("terminal drill")
        .id;
    terminal
        .handle(&terminal_drill, None, Sender::System, Event::Start, T0)
        .await
        .expect("start");
    let chat = started(
        &discord_setup,
        &chat_drill("T1", Mode::Solo, &[("bo", Role::Candidate)]),
    )
    .await;
    // Both owe the antagonist's opening and have a timer due at the two-minute mark.
    let discord = Engine::new(db.open().await, "discord", &["discord"]);
    let recovered = discord.recover(T0 + 400 * S).await.expect("recover");
    let ids: Vec<_> = recovered.drills.iter().map(|d| d.drill.clone()).collect();
    assert_eq!(ids, vec![chat.clone()], "never the terminal's drill");
    let fired = discord.fire_due_timers(T0 + 460 * S).await.expect("fire");
    let ids: Vec<_> = fired.drills.iter().map(|d| d.drill.clone()).collect();
    assert_eq!(ids, vec![chat]);
    let terminal_record = terminal
        .store()
        .load_drill(&terminal_drill)
        .await
        .expect("load")
        .record;
    assert_eq!(terminal_record.phase, Phase::Live);
}

pub(super) async fn a_drill_failing_in_a_sweep_costs_the_others_nothing(db: &TestDb) {
    let setup = Engine::new(db.open().await, "setup", &["discord"]);
    let mut ids = Vec::new();
    for (thread, who) in [("T1", "ana"), ("T2", "bo")] {
        ids.push(
            started(
                &setup,
                &chat_drill(thread, Mode::Solo, &[(who, Role::Candidate)]),
            )
            .await,
        );
    }
    // Between the first drill's tick and the second's, the second drill's candidate is
    // forgotten: its drill is gone when its turn in the sweep comes.
    let store = db.open().await;
    let interleaved = Interleaved::new(db.open().await, move || async move {
        store.forget_person("discord", "bo").await.expect("forget");
    });
    let engine = Engine::new(Arc::new(interleaved), "sweeper", &["discord"]);
    let fired = engine
        .fire_due_timers(T0 + 361 * S)
        .await
        .expect("the sweep");
    assert_eq!(fired.drills.len(), 1, "{fired:?}");
    assert_eq!(fired.drills[0].drill, ids[0]);
    assert!(asks(&fired.drills[0].effects) <= 1);
    assert_eq!(fired.failures.len(), 1, "{fired:?}");
    assert_eq!(fired.failures[0].drill, ids[1]);
}

pub(super) async fn a_workspaces_tokens_and_drills_are_counted_per_utc_day_with_its_budget(
    db: &TestDb,
) {
    let engine = Engine::new(db.open().await, "a", &["discord"]);
    let store = engine.store().clone();
    let today = UtcDay::of(T0);
    let yesterday = UtcDay(today.0 - 1);
    let create = |thread: &str, guild: &str, created_at: i64| {
        let mut drill = chat_drill(thread, Mode::Solo, &[("ana", Role::Candidate)]);
        drill.workspace = discord(guild);
        drill.created_at = created_at;
        drill
    };
    let old = engine
        .start_drill(&create("T0", "G1", yesterday.start() + 3600 * S))
        .await
        .expect("create")
        .id;
    let first = engine
        .start_drill(&create("T1", "G1", today.start()))
        .await
        .expect("create")
        .id;
    engine
        .start_drill(&create("T2", "G1", T0))
        .await
        .expect("create");
    let elsewhere = engine
        .start_drill(&create("T3", "G2", T0))
        .await
        .expect("create")
        .id;
    let usage = [
        // Yesterday's, up to its last millisecond.
        (&old, 1000, 500, yesterday.start() + 3600 * S),
        (&old, 40, 2, today.start() - 1),
        // Today's: the antagonist's turns, and the judge of yesterday's drill today.
        (&first, 100, 20, today.start()),
        (&first, 30, 5, T0),
        (&old, 7, 3, T0),
        // Another guild's spending is its own.
        (&elsewhere, 900, 99, T0),
    ];
    for (drill, prompt, completion, at) in usage {
        store
            .record_llm_usage(drill, "fake", prompt, completion, at)
            .await
            .expect("usage");
    }
    let g1 = store.ensure_workspace(&discord("G1")).await.expect("G1");
    let g2 = store.ensure_workspace(&discord("G2")).await.expect("G2");
    assert_eq!(
        store.tokens_on(g1, today).await.expect("today"),
        TokenDay {
            used: 100 + 20 + 30 + 5 + 7 + 3,
            budget: None
        }
    );
    assert_eq!(
        store
            .tokens_on(g1, yesterday)
            .await
            .expect("yesterday")
            .used,
        1000 + 500 + 40 + 2
    );
    assert_eq!(store.tokens_on(g2, today).await.expect("G2").used, 999);
    assert_eq!(
        store
            .tokens_on(g1, UtcDay(today.0 + 1))
            .await
            .expect("empty"),
        TokenDay::default(),
        "a day nothing was spent on"
    );
    assert_eq!(store.drills_on(g1, today).await.expect("drills"), 2);
    assert_eq!(store.drills_on(g1, yesterday).await.expect("drills"), 1);
    assert_eq!(store.drills_on(g2, today).await.expect("drills"), 1);

    // A drill is marked over its budget once, whoever marks it, and loads with the mark.
    assert_eq!(
        store
            .load_drill(&first)
            .await
            .expect("load")
            .record
            .over_budget_at,
        None
    );
    assert!(store.mark_over_budget(&first, T0).await.expect("mark"));
    assert!(
        !store.mark_over_budget(&first, T0 + S).await.expect("again"),
        "marked before"
    );
    assert_eq!(
        store
            .load_drill(&first)
            .await
            .expect("load")
            .record
            .over_budget_at,
        Some(T0)
    );
    assert_eq!(
        store
            .load_drill(&old)
            .await
            .expect("load")
            .record
            .over_budget_at,
        None,
        "another drill is not marked"
    );

    let budget_of = async |guild: &str, budget: Option<u64>| {
        store
            .set_workspace_config(
                &discord(guild),
                &WorkspaceConfig {
                    token_budget: budget,
                    ..WorkspaceConfig::default()
                },
            )
            .await
            .expect("set a budget");
        store
            .workspace_config(&discord(guild))
            .await
            .expect("read")
            .token_budget
    };
    assert_eq!(
        store
            .workspace_config(&discord("G1"))
            .await
            .expect("none")
            .token_budget,
        None
    );
    assert_eq!(budget_of("G1", Some(5000)).await, Some(5000));
    assert_eq!(
        store.tokens_on(g1, today).await.expect("today").budget,
        Some(5000)
    );
    assert_eq!(store.tokens_on(g2, today).await.expect("G2").budget, None);
    // A guild nobody has seen yet can be given a budget before its first drill.
    assert_eq!(budget_of("G3", Some(10)).await, Some(10));
    assert_eq!(budget_of("G1", None).await, None);
}
