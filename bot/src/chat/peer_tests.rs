//! Peer drills through the chat runtime, against the in-memory surface and a real SQLite
//! store with the time moved by hand: a trio from the queue to the combined debrief and
//! its mirror drill, and a weekly round that reminds, opens, and handles a no-show.

use super::tests::{S, T0, World, guild, invocation, member, said, world};
use super::*;
use spar_core::drill::Mode;
use spar_core::peer::{Preference, RoundPhase};
use spar_core::scenario::ScenarioLibrary;
use spar_core::scoring::DimensionName;
use spar_core::transcript::Role;

const CHANNEL: &str = "C1";

fn join(scenario: Option<&str>) -> Command {
    Command::Join {
        scenario: scenario.map(str::to_string),
        difficulty: None,
        solo_if_alone: false,
    }
}

/// Words from the scenario's hidden brief, which only the antagonist player may read.
fn hidden_words() -> String {
    let library = ScenarioLibrary::embedded().expect("library");
    let motive = &library
        .get("latency-regression")
        .expect("scenario")
        .brief
        .motives[0];
    motive
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join(" ")
}

fn all_scores(score: u8) -> Vec<(String, u8)> {
    DimensionName::ALL
        .iter()
        .map(|d| (d.as_str().to_string(), score))
        .collect()
}

impl World {
    fn threads(&self) -> Vec<String> {
        self.surface
            .shown()
            .iter()
            .filter_map(|s| match s {
                Shown::Thread { place, .. } => Some(place.thread.clone()),
                _ => None,
            })
            .collect()
    }

    async fn live_in(&self, thread: &str) -> spar_core::store::LoadedDrill {
        let record = self
            .store
            .live_drill_in("discord", thread, None)
            .await
            .expect("lookup")
            .expect("a live drill in the thread");
        self.store.load_drill(&record.id).await.expect("load")
    }

    /// Who plays `role` in the live drill of `thread`.
    async fn playing(&self, thread: &str, role: Role) -> String {
        self.live_in(thread)
            .await
            .member(role)
            .map(|m| m.person.platform_user_id.clone())
            .expect("someone plays the role")
    }

    fn told(&self, who: &str) -> Vec<String> {
        self.surface
            .shown()
            .into_iter()
            .filter_map(|s| match s {
                Shown::Told { person, text, .. } if person == who => Some(text),
                _ => None,
            })
            .collect()
    }
}

#[tokio::test]
async fn a_trio_drills_from_the_queue_to_the_combined_debrief_and_swaps_roles() {
    let w = world().await;
    for (i, who) in ["ana", "bo", "cy"].into_iter().enumerate() {
        let reply = w
            .command(
                &invocation(&format!("j{i}"), who, CHANNEL),
                join(Some("latency-regression")),
            )
            .await;
        assert!(reply.text.contains("You joined"), "{reply:?}");
    }
    let reply = w
        .command(&invocation("p1", "ana", CHANNEL), Command::Pair)
        .await;
    assert!(reply.text.contains("Paired 1 group"), "{reply:?}");
    let threads = w.threads();
    assert_eq!(threads.len(), 1, "one private thread for the trio");
    let thread = threads[0].clone();
    let drill = w.live_in(&thread).await;
    assert_eq!(drill.record.settings.mode, Mode::Peer);
    assert_eq!(drill.participants.len(), 3);
    let candidate = w.playing(&thread, Role::Candidate).await;
    let antagonist = w.playing(&thread, Role::Antagonist).await;
    let observer = w.playing(&thread, Role::Observer).await;

    // The brief is sent to the antagonist player alone and never shown in the thread.
    let secrets = w.surface.secrets();
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    assert_eq!(secrets[0].0, antagonist);
    let hidden = hidden_words();
    assert!(secrets[0].1.contains(&hidden), "{}", secrets[0].1);
    for shown in w.surface.in_thread(&thread) {
        assert!(
            !format!("{shown:?}").contains(&hidden),
            "the hidden brief leaked: {shown:?}"
        );
    }
    // The candidate's setting and goal are the thread's brief.
    assert!(
        w.surface.in_thread(&thread).iter().any(
            |s| matches!(s, Shown::Brief { scenario, .. } if scenario == "latency-regression")
        )
    );
    // The brief again, for the antagonist player only.
    let brief = w
        .runtime
        .action(
            &invocation("b1", &antagonist, &thread),
            Action::Brief(drill.record.id.clone()),
        )
        .await;
    assert!(brief.reply.private && brief.reply.text.contains(&hidden));
    let refused = w
        .runtime
        .action(
            &invocation("b2", &candidate, &thread),
            Action::Brief(drill.record.id.clone()),
        )
        .await;
    assert!(!refused.reply.text.contains(&hidden), "{:?}", refused.reply);

    // Turns: the candidate's and the antagonist player's; the observer's is a note.
    let before = w.posts(&thread).len();
    w.clock.set(T0 + 20 * S);
    w.runtime
        .message(
            "discord",
            said(
                "m1",
                &candidate,
                &thread,
                "What is driving the release date for you?",
            ),
        )
        .await;
    w.runtime
        .message(
            "discord",
            said(
                "m2",
                &antagonist,
                &thread,
                "The launch is promised to the board.",
            ),
        )
        .await;
    w.runtime
        .message(
            "discord",
            said(
                "m3",
                &observer,
                &thread,
                "Honestly I'm going to escalate this to my manager.",
            ),
        )
        .await;
    assert_eq!(
        w.posts(&thread).len(),
        before,
        "the engine never answers in a peer drill"
    );
    let turns = w.live_in(&thread).await.turns;
    let roles: Vec<Role> = turns.iter().map(|t| t.turn.role).collect();
    assert_eq!(
        roles,
        vec![Role::Candidate, Role::Antagonist, Role::Observer]
    );

    // The antagonist player may end it; the scorecard ignores the observer's note.
    w.clock.set(T0 + 60 * S);
    let end = w
        .command(&invocation("e1", &antagonist, &thread), Command::End)
        .await;
    assert!(end.text.contains("scorecard follows"), "{end:?}");
    let flags = w
        .surface
        .in_thread(&thread)
        .into_iter()
        .find_map(|s| match s {
            Shown::Scorecard { flags, .. } => Some(flags),
            _ => None,
        })
        .expect("a scorecard");
    assert!(
        !flags.contains(&"premature_escalation".to_string()),
        "the observer's note was scored: {flags:?}"
    );
    let drill_id = drill.record.id.clone();
    let offered: Vec<Action> = w
        .surface
        .buttons()
        .into_iter()
        .flat_map(|(_, actions)| actions)
        .collect();
    assert!(offered.contains(&Action::Rate(drill_id.clone())));
    assert!(offered.contains(&Action::SwapRoles(drill_id.clone())));

    // Ratings: checked, saved, and the combined debrief once everyone has rated.
    let bad = w
        .runtime
        .rate(
            &invocation("r0", &antagonist, &thread),
            &drill_id,
            &[("composure".into(), 7)],
            None,
        )
        .await;
    assert!(bad.reply.text.contains("from 0 to 4"), "{:?}", bad.reply);
    let stranger = w
        .runtime
        .rate(
            &invocation("r9", "eve", &thread),
            &drill_id,
            &all_scores(2),
            None,
        )
        .await;
    assert!(stranger.reply.text.contains("Only the people"));
    let first = w
        .runtime
        .rate(
            &invocation("r1", &antagonist, &thread),
            &drill_id,
            &all_scores(4),
            Some("Calm and curious."),
        )
        .await;
    assert!(
        first.reply.text.contains("follows once"),
        "{:?}",
        first.reply
    );
    w.runtime
        .rate(
            &invocation("r2", &observer, &thread),
            &drill_id,
            &all_scores(3),
            None,
        )
        .await;
    let last = w
        .runtime
        .rate(
            &invocation("r3", &candidate, &thread),
            &drill_id,
            &all_scores(1),
            None,
        )
        .await;
    assert!(
        last.reply.text.contains("Everyone has rated"),
        "{:?}",
        last.reply
    );
    let posts = w.posts(&thread);
    let combined = posts
        .iter()
        .position(|p| p.starts_with("Combined debrief"))
        .expect("the combined debrief");
    let body = posts[combined + 1..].join("\n");
    assert!(body.contains("Ratings (0-4)"), "{body}");
    assert!(
        body.contains("(antagonist)") && body.contains("(observer)") && body.contains("(self)")
    );
    assert!(body.contains("Calm and curious."), "{body}");
    assert_eq!(
        w.store
            .peer()
            .ratings(&drill_id)
            .await
            .expect("ratings")
            .len(),
        3
    );

    // Swap roles: the observer practises, the candidate plays the antagonist, in the
    // same thread, on another scenario; a second click starts nothing more.
    let swapped = w
        .runtime
        .action(
            &invocation("s1", &observer, &thread),
            Action::SwapRoles(drill_id.clone()),
        )
        .await;
    assert!(
        swapped.reply.text.contains("Roles swapped"),
        "{:?}",
        swapped.reply
    );
    let mirror = w.live_in(&thread).await;
    assert_ne!(mirror.record.id, drill_id);
    assert_ne!(mirror.record.settings.scenario_id, "latency-regression");
    assert_eq!(w.playing(&thread, Role::Candidate).await, observer);
    assert_eq!(w.playing(&thread, Role::Antagonist).await, candidate);
    assert_eq!(w.playing(&thread, Role::Observer).await, antagonist);
    assert_eq!(w.surface.secrets().len(), 2);
    assert_eq!(w.surface.secrets()[1].0, candidate);
    let again = w
        .runtime
        .action(
            &invocation("s2", &antagonist, &thread),
            Action::SwapRoles(drill_id.clone()),
        )
        .await;
    assert!(
        again.reply.text.contains("already started"),
        "{:?}",
        again.reply
    );
    assert_eq!(w.threads().len(), 1);
}

#[tokio::test]
async fn a_lone_member_is_told_why_and_stays_queued_and_leaving_takes_them_out() {
    let w = world().await;
    w.command(&invocation("j1", "ana", CHANNEL), join(None))
        .await;
    let reply = w
        .command(&invocation("p1", "ana", CHANNEL), Command::Pair)
        .await;
    assert!(reply.text.contains("Paired 0 groups"), "{reply:?}");
    assert!(
        w.told("ana")
            .iter()
            .any(|t| t.contains("nobody else was waiting"))
    );
    assert!(w.threads().is_empty());
    let queued = w
        .store
        .peer()
        .queue(&guild(), CHANNEL)
        .await
        .expect("queue");
    assert_eq!(queued.len(), 1, "the left out stay in the queue");
    let left = w
        .command(&invocation("l1", "ana", CHANNEL), Command::Leave)
        .await;
    assert!(left.text.contains("You left"));
    let empty = w
        .command(&invocation("p2", "ana", CHANNEL), Command::Pair)
        .await;
    assert!(empty.text.contains("Nobody is waiting"));
    // Someone who asked for a solo drill if alone gets one against the engine.
    w.command(
        &invocation("j2", "bo", CHANNEL),
        Command::Join {
            scenario: Some("latency-regression".into()),
            difficulty: Some("gentle".into()),
            solo_if_alone: true,
        },
    )
    .await;
    w.command(&invocation("p3", "bo", CHANNEL), Command::Pair)
        .await;
    let thread = w.threads().pop().expect("a thread for the solo drill");
    let drill = w.live_in(&thread).await;
    assert_eq!(drill.record.settings.mode, Mode::Solo);
    assert_eq!(drill.participants[0].person, member("bo"));
    assert_eq!(
        w.posts(&thread).len(),
        2,
        "the clock notice and the engine's opening"
    );
}

#[tokio::test]
async fn pairing_avoids_last_time_s_partners_across_queue_pairings() {
    let w = world().await;
    let mut partners = Vec::new();
    for round in 0..2 {
        for who in ["ana", "bo", "cy", "di"] {
            w.command(
                &invocation(&format!("j{round}{who}"), who, CHANNEL),
                join(Some("latency-regression")),
            )
            .await;
        }
        w.command(
            &invocation(&format!("p{round}"), "ana", CHANNEL),
            Command::Pair,
        )
        .await;
        let threads = w.threads();
        let mut these = Vec::new();
        for thread in &threads[threads.len() - 2..] {
            let drill = w.live_in(thread).await;
            let mut pair: Vec<String> = drill
                .participants
                .iter()
                .map(|m| m.person.platform_user_id.clone())
                .collect();
            pair.sort();
            these.push(pair);
            // End each drill, so the next pairing starts clean.
            let id = drill.record.id.clone();
            w.runtime
                .engine()
                .handle(
                    &id,
                    None,
                    crate::engine::Sender::System,
                    spar_core::drill::Event::Abandon,
                    T0,
                )
                .await
                .expect("abandon");
        }
        partners.push(these);
    }
    for pair in &partners[1] {
        assert!(!partners[0].contains(pair), "{partners:?}");
    }
    let history = w
        .store
        .peer()
        .pairing_history(&guild(), CHANNEL)
        .await
        .expect("history");
    assert_eq!(history.len(), 2);
}

#[tokio::test]
async fn a_weekly_round_reminds_opens_at_its_time_and_handles_a_no_show() {
    let w = world().await;
    let mut admin = invocation("c1", "ana", CHANNEL);
    admin.admin = true;
    let refused = w
        .command(
            &invocation("c0", "ana", CHANNEL),
            Command::Rounds(RoundsCommand::List),
        )
        .await;
    assert!(refused.text.contains("No rounds"), "{refused:?}");
    let not_admin = w
        .command(
            &invocation("c2", "bo", CHANNEL),
            Command::Rounds(RoundsCommand::Preview { id: None }),
        )
        .await;
    assert!(not_admin.text.contains("Only members who can manage"));
    let created = w
        .command(
            &admin,
            Command::Rounds(RoundsCommand::Create {
                weekday: "thursday".into(),
                time: "18:30".into(),
                zone: "Europe/Berlin".into(),
                drill_minutes: Some(10),
                pool: Some("latency-regression, metric-selection".into()),
            }),
        )
        .await;
    assert!(created.text.contains("Round 1 is set"), "{created:?}");
    for (i, who) in ["ana", "bo", "cy", "di"].into_iter().enumerate() {
        let reply = w
            .command(
                &invocation(&format!("o{i}"), who, CHANNEL),
                Command::Rounds(RoundsCommand::OptIn {
                    id: None,
                    difficulty: None,
                    solo_if_alone: false,
                }),
            )
            .await;
        assert!(reply.text.contains("You are in round 1"), "{reply:?}");
    }
    let schedule = w.store.peer().schedules(&guild()).await.expect("schedules")[0].clone();
    let round = w.store.peer().rounds_of(schedule.id).await.expect("rounds")[0].clone();
    let start = round.round.start().timestamp_millis();
    assert!(start > T0);

    // The preview shows the groups and opens nothing.
    let mut preview = admin.clone();
    preview.event_id = "v1".into();
    let shown = w
        .command(
            &preview,
            Command::Rounds(RoundsCommand::Preview { id: None }),
        )
        .await;
    assert_eq!(shown.text.matches("(candidate)").count(), 2, "{shown:?}");
    assert!(w.threads().is_empty());

    // Nothing happens before the reminder; then everyone opted in is reminded.
    w.runtime.fire_rounds().await;
    let remind_at = start - 30 * 60 * S;
    w.clock.set(remind_at - S);
    w.runtime.fire_rounds().await;
    assert!(w.told("bo").is_empty());
    w.clock.set(remind_at);
    w.runtime.fire_rounds().await;
    for who in ["ana", "bo", "cy", "di"] {
        assert!(
            w.told(who).iter().any(|t| t.contains("starts at 18:30")),
            "{who}: {:?}",
            w.told(who)
        );
    }
    assert!(w.threads().is_empty(), "nothing opens before the start");

    // At the start: two private threads, peer drills from the pool, the round's.
    w.clock.set(start);
    w.runtime.fire_rounds().await;
    let threads = w.threads();
    assert_eq!(threads.len(), 2);
    let round = w.store.peer().round(round.id).await.expect("round");
    assert_eq!(round.round.phase(), RoundPhase::Open);
    let mut absent = None;
    let mut stranded = None;
    for (i, thread) in threads.iter().enumerate() {
        let drill = w.live_in(thread).await;
        assert_eq!(drill.record.settings.mode, Mode::Peer);
        assert_eq!(drill.record.settings.time_limit_s, 600);
        assert!(
            ["latency-regression", "metric-selection"]
                .contains(&drill.record.settings.scenario_id.as_str())
        );
        let candidate = w.playing(thread, Role::Candidate).await;
        let antagonist = w.playing(thread, Role::Antagonist).await;
        w.clock.set(start + (60 + i as i64) * S);
        w.runtime
            .message(
                "discord",
                said(&format!("hi{i}"), &candidate, thread, "Shall we start?"),
            )
            .await;
        if i == 0 {
            w.runtime
                .message(
                    "discord",
                    said("hi-a", &antagonist, thread, "It ships next release."),
                )
                .await;
        } else {
            absent = Some((antagonist, thread.clone()));
            stranded = Some(candidate);
        }
    }
    let (absent, broken) = absent.expect("an absent member");
    let stranded = stranded.expect("a stranded member");

    // Ten minutes after the opening: the absent member is a no-show, their drill is
    // abandoned, and their partner, with nobody else free, is offered a solo drill.
    w.clock.set(start + 10 * 60 * S);
    w.runtime.fire_rounds().await;
    assert!(
        w.posts(&broken)
            .iter()
            .any(|p| p.contains("has not posted in the 10 minutes")),
        "{:?}",
        w.posts(&broken)
    );
    assert!(
        w.store
            .live_drill_in("discord", &broken, None)
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        w.told(&stranded).iter().any(|t| t.contains("solo drill")),
        "{:?}",
        w.told(&stranded)
    );
    assert!(!w.told(&absent).iter().any(|t| t.contains("solo drill")));
    let round = w.store.peer().round(round.id).await.expect("round");
    assert_eq!(round.round.phase(), RoundPhase::Settled);
    // The groups that ran are history, and next week's round is set up.
    let history = w
        .store
        .peer()
        .pairing_history(&guild(), CHANNEL)
        .await
        .expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].len(), 1);
    let rounds = w.store.peer().rounds_of(schedule.id).await.expect("rounds");
    assert_eq!(rounds.len(), 2);
    assert_eq!(
        rounds[0].round.start().timestamp_millis(),
        start + 7 * 24 * 3600 * S
    );
}

#[tokio::test]
async fn a_paused_round_opens_nothing_until_resumed_and_a_deleted_one_is_gone() {
    let w = world().await;
    let mut admin = invocation("c1", "ana", CHANNEL);
    admin.admin = true;
    w.command(
        &admin,
        Command::Rounds(RoundsCommand::Create {
            weekday: "monday".into(),
            time: "09:00".into(),
            zone: "America/New_York".into(),
            drill_minutes: None,
            pool: None,
        }),
    )
    .await;
    for who in ["ana", "bo"] {
        w.command(
            &invocation(&format!("o{who}"), who, CHANNEL),
            Command::Rounds(RoundsCommand::OptIn {
                id: Some(1),
                difficulty: None,
                solo_if_alone: false,
            }),
        )
        .await;
    }
    let start = w.store.peer().rounds_of(1).await.expect("rounds")[0]
        .round
        .start()
        .timestamp_millis();
    admin.event_id = "c2".into();
    let paused = w
        .command(&admin, Command::Rounds(RoundsCommand::Pause { id: 1 }))
        .await;
    assert!(paused.text.contains("paused"), "{paused:?}");
    w.clock.set(start);
    w.runtime.fire_rounds().await;
    assert!(w.threads().is_empty());
    admin.event_id = "c3".into();
    let resumed = w
        .command(&admin, Command::Rounds(RoundsCommand::Resume { id: 1 }))
        .await;
    assert!(resumed.text.contains("back on"), "{resumed:?}");
    let list = w
        .command(
            &invocation("l1", "bo", CHANNEL),
            Command::Rounds(RoundsCommand::List),
        )
        .await;
    assert!(list.text.contains("2 opted in"), "{list:?}");
    admin.event_id = "c4".into();
    w.command(&admin, Command::Rounds(RoundsCommand::Delete { id: 1 }))
        .await;
    assert!(
        w.store
            .peer()
            .schedules(&guild())
            .await
            .expect("s")
            .is_empty()
    );
    let gone = w
        .command(
            &invocation("o9", "bo", CHANNEL),
            Command::Rounds(RoundsCommand::OptIn {
                id: Some(1),
                difficulty: None,
                solo_if_alone: false,
            }),
        )
        .await;
    assert!(gone.text.contains("There is no round 1"), "{gone:?}");
}

#[tokio::test]
async fn members_whose_partners_did_not_come_are_paired_together_in_a_new_thread() {
    let w = world().await;
    let mut admin = invocation("c1", "ana", CHANNEL);
    admin.admin = true;
    w.command(
        &admin,
        Command::Rounds(RoundsCommand::Create {
            weekday: "friday".into(),
            time: "12:00".into(),
            zone: "Asia/Kolkata".into(),
            drill_minutes: None,
            pool: None,
        }),
    )
    .await;
    for who in ["ana", "bo", "cy", "di"] {
        w.command(
            &invocation(&format!("o{who}"), who, CHANNEL),
            Command::Rounds(RoundsCommand::OptIn {
                id: None,
                difficulty: None,
                solo_if_alone: false,
            }),
        )
        .await;
    }
    let round = w.store.peer().rounds_of(1).await.expect("rounds")[0].clone();
    let start = round.round.start().timestamp_millis();
    w.clock.set(start);
    w.runtime.fire_rounds().await;
    let opened = w.threads();
    assert_eq!(opened.len(), 2);
    // Only each pair's candidate turns up.
    let mut present = Vec::new();
    for (i, thread) in opened.iter().enumerate() {
        let candidate = w.playing(thread, Role::Candidate).await;
        w.clock.set(start + (30 + i as i64) * S);
        w.runtime
            .message(
                "discord",
                said(&format!("p{i}"), &candidate, thread, "I'm here."),
            )
            .await;
        present.push(candidate);
    }
    w.clock.set(start + 10 * 60 * S);
    w.runtime.fire_rounds().await;
    let threads = w.threads();
    assert_eq!(threads.len(), 3, "one new thread for the re-matched pair");
    let new = w.live_in(&threads[2]).await;
    let mut together: Vec<String> = new
        .participants
        .iter()
        .map(|m| m.person.platform_user_id.clone())
        .collect();
    together.sort();
    present.sort();
    assert_eq!(together, present);
    for who in &present {
        assert!(
            w.told(who)
                .iter()
                .any(|t| t.contains("you are now paired with")),
            "{who}: {:?}",
            w.told(who)
        );
    }
    for thread in &opened {
        assert!(
            w.store
                .live_drill_in("discord", thread, None)
                .await
                .expect("lookup")
                .is_none(),
            "the broken pairs' drills are over"
        );
    }
    assert_eq!(
        w.store
            .peer()
            .round_drills(round.id)
            .await
            .expect("drills")
            .len(),
        3
    );
    let history = w
        .store
        .peer()
        .pairing_history(&guild(), CHANNEL)
        .await
        .expect("history");
    assert_eq!(history, vec![vec![new_group(&new)]]);
}

fn new_group(loaded: &spar_core::store::LoadedDrill) -> spar_core::peer::Group {
    let id = |role: Role| {
        loaded
            .member(role)
            .map(|m| m.person.platform_user_id.clone())
    };
    spar_core::peer::Group::new(
        id(Role::Candidate).expect("a candidate"),
        id(Role::Antagonist),
        None,
    )
}

#[tokio::test]
async fn the_queue_is_joined_only_in_the_drill_channel_when_the_server_names_one() {
    let w = world().await;
    w.store
        .set_workspace_config(
            &guild(),
            &spar_core::store::WorkspaceConfig {
                drill_channel: Some("C9".into()),
                ..spar_core::store::WorkspaceConfig::default()
            },
        )
        .await
        .expect("config");
    let reply = w
        .command(&invocation("j1", "ana", CHANNEL), join(None))
        .await;
    assert!(reply.text.contains("<#C9>"), "{reply:?}");
    assert!(
        w.store
            .peer()
            .queue(&guild(), CHANNEL)
            .await
            .expect("queue")
            .is_empty()
    );
}

#[tokio::test]
async fn a_member_still_in_a_drill_is_not_paired_and_keeps_their_place() {
    let w = world().await;
    w.command(
        &invocation("s1", "ana", CHANNEL),
        Command::Solo {
            scenario: Some("latency-regression".into()),
            difficulty: None,
        },
    )
    .await;
    let solo_thread = w.threads().pop().expect("ana's solo drill");
    for (id, who) in [("j1", "ana"), ("j2", "bo"), ("j3", "cy")] {
        w.command(&invocation(id, who, CHANNEL), join(None)).await;
    }
    let reply = w
        .command(&invocation("p1", "bo", CHANNEL), Command::Pair)
        .await;
    assert!(reply.text.contains("Paired 1 group"), "{reply:?}");
    assert!(
        reply
            .text
            .contains(&format!("still in a drill (<#{solo_thread}>)")),
        "{reply:?}"
    );
    assert!(
        w.told("ana")
            .iter()
            .any(|t| t.contains("keeps their place"))
    );
    let queued = w
        .store
        .peer()
        .queue(&guild(), CHANNEL)
        .await
        .expect("queue");
    let names: Vec<&str> = queued
        .iter()
        .map(|q| q.person.platform_user_id.as_str())
        .collect();
    assert_eq!(names, vec!["ana"]);
}

#[tokio::test]
async fn an_opt_in_keeps_the_members_difficulty_and_solo_preference_and_rejects_a_bad_one() {
    let w = world().await;
    let mut admin = invocation("c1", "ana", CHANNEL);
    admin.admin = true;
    w.command(
        &admin,
        Command::Rounds(RoundsCommand::Create {
            weekday: "tuesday".into(),
            time: "19:00".into(),
            zone: "Europe/London".into(),
            drill_minutes: None,
            pool: None,
        }),
    )
    .await;
    let bad = w
        .command(
            &invocation("o0", "bo", CHANNEL),
            Command::Rounds(RoundsCommand::OptIn {
                id: None,
                difficulty: Some("brutal".into()),
                solo_if_alone: false,
            }),
        )
        .await;
    assert!(!bad.text.contains("You are in round"), "{bad:?}");
    assert!(w.store.peer().opted_in(1).await.expect("opted").is_empty());
    let reply = w
        .command(
            &invocation("o1", "bo", CHANNEL),
            Command::Rounds(RoundsCommand::OptIn {
                id: None,
                difficulty: Some("hostile".into()),
                solo_if_alone: true,
            }),
        )
        .await;
    assert!(reply.text.contains("you get a solo drill"), "{reply:?}");
    let opted = w.store.peer().opted_in(1).await.expect("opted");
    assert_eq!(opted.len(), 1);
    assert_eq!(opted[0].entry.difficulty, Some(Difficulty::Hostile));
    assert_eq!(opted[0].entry.preference, Preference::SoloIfNoPartner);
}
