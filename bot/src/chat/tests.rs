//! The chat runtime against the in-memory surface and a real SQLite store, with the time
//! moved by hand: a solo drill from `/spar solo` to its scorecard, and the bad situations
//! a chat drill meets.

use super::*;
use crate::antagonist::{Cast, Scripted};
use crate::debrief::Debriefer;
use crate::engine::Engine;
use spar_core::antagonist::SharedLines;
use spar_core::drill::Phase;
use spar_core::scoring::Scorer;
use spar_core::store::{EpochMillis, PersonRef, Store, WorkspaceConfig, WorkspaceRef};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub(super) const T0: EpochMillis = 1_800_000_000_000;
pub(super) const S: EpochMillis = 1000;

pub(super) struct ManualClock(pub(super) AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> EpochMillis {
        self.0.load(Ordering::SeqCst)
    }
}

impl ManualClock {
    pub(super) fn set(&self, at: EpochMillis) {
        self.0.store(at, Ordering::SeqCst);
    }
}

pub(super) struct World {
    pub(super) runtime: Runtime,
    pub(super) surface: Arc<MemorySurface>,
    pub(super) clock: Arc<ManualClock>,
    pub(super) store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

pub(super) async fn world() -> World {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = crate::store::sqlite_url(&dir.path().join("spar.db"));
    let store = crate::store::open(Some(&url)).await.expect("the store");
    let surface = Arc::new(MemorySurface::new("discord", 2000));
    let clock = Arc::new(ManualClock(AtomicI64::new(T0)));
    World {
        runtime: runtime(store.clone(), surface.clone(), clock.clone()),
        surface,
        clock,
        store,
        _dir: dir,
    }
}

fn runtime(store: Arc<dyn Store>, surface: Arc<MemorySurface>, clock: Arc<ManualClock>) -> Runtime {
    let scorer = Scorer::embedded().expect("scorer");
    let shared = SharedLines::embedded().expect("lines");
    Runtime::new(
        Engine::new(store, "test-instance", &["discord"]),
        vec![surface],
        ScenarioLibrary::embedded().expect("library"),
        Cast::scripted(Scripted::new(shared, scorer.clone(), "/spar end")),
        Debriefer::new(scorer, None),
        clock,
        RuntimeOptions {
            edit_interval: Duration::ZERO,
            ..RuntimeOptions::default()
        },
    )
}

use spar_core::scenario::ScenarioLibrary;

pub(super) fn member(id: &str) -> PersonRef {
    PersonRef {
        platform: "discord".into(),
        platform_user_id: id.into(),
        display_name: format!("Member {id}"),
    }
}

pub(super) fn guild() -> WorkspaceRef {
    WorkspaceRef {
        platform: "discord".into(),
        external_id: "G1".into(),
        name: "Study group".into(),
    }
}

pub(super) fn invocation(id: &str, who: &str, channel: &str) -> Invocation {
    Invocation {
        event_id: id.into(),
        person: member(who),
        workspace: guild(),
        channel: channel.into(),
        thread: None,
        parent_channel: None,
        admin: false,
    }
}

fn solo(scenario: &str) -> Command {
    Command::Solo {
        scenario: Some(scenario.into()),
        difficulty: None,
    }
}

pub(super) fn said(id: &str, who: &str, thread: &str, text: &str) -> runtime::Message {
    runtime::Message {
        event_id: id.into(),
        author: member(who),
        from_bot: false,
        thread: thread.into(),
        channel: None,
        text: text.into(),
    }
}

impl World {
    /// Runs a command and performs what it set going; returns the reply's text.
    pub(super) async fn command(&self, inv: &Invocation, command: Command) -> Reply {
        let handled = self.runtime.command(inv, command).await;
        if let Some(then) = handled.then {
            self.runtime.perform(then).await;
        }
        handled.reply
    }

    pub(super) async fn at(&self, at: EpochMillis) {
        self.clock.set(at);
        for pending in self.runtime.fire_timers().await {
            self.runtime.perform(pending).await;
        }
    }

    fn thread(&self) -> String {
        self.surface
            .shown()
            .iter()
            .find_map(|s| match s {
                Shown::Thread { place, .. } => Some(place.thread.clone()),
                _ => None,
            })
            .expect("a thread was opened")
    }

    pub(super) fn posts(&self, thread: &str) -> Vec<String> {
        self.surface
            .in_thread(thread)
            .into_iter()
            .filter_map(|s| match s {
                Shown::Post { text, .. } => Some(text),
                _ => None,
            })
            .collect()
    }
}

#[tokio::test]
async fn a_solo_drill_runs_from_the_command_to_its_scorecard() {
    let w = world().await;
    let reply = w
        .command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    assert!(reply.private);
    let thread = w.thread();
    assert!(reply.text.contains(&format!("<#{thread}>")), "{reply:?}");
    let opening = w.surface.in_thread(&thread);
    assert!(
        matches!(&opening[..], [Shown::Thread { private: true, .. }, Shown::Brief { scenario, .. }, ..] if scenario == "latency-regression"),
        "{opening:?}"
    );
    let posts = w.posts(&thread);
    assert_eq!(
        posts.len(),
        2,
        "the clock notice and the antagonist's opening: {posts:?}"
    );
    assert!(posts[0].contains("The clock is running: 8:00"));

    w.clock.set(T0 + 40 * S);
    w.runtime
        .message(
            "discord",
            said(
                "m1",
                "ana",
                &thread,
                "Honestly I'm going to escalate this to my manager.",
            ),
        )
        .await;
    assert_eq!(w.posts(&thread).len(), 3, "the candidate is answered");
    // A stranger, a bot and a message elsewhere are not turns.
    w.runtime
        .message("discord", said("m2", "eve", &thread, "I'll answer for her"))
        .await;
    let mut bot = said("m3", "ana", &thread, "a bot's echo");
    bot.from_bot = true;
    w.runtime.message("discord", bot).await;
    w.runtime
        .message("discord", said("m4", "ana", "another-thread", "hello?"))
        .await;
    assert_eq!(w.posts(&thread).len(), 3);
    // The same message delivered twice is one turn.
    w.runtime
        .message(
            "discord",
            said(
                "m1",
                "ana",
                &thread,
                "Honestly I'm going to escalate this to my manager.",
            ),
        )
        .await;
    assert_eq!(w.posts(&thread).len(), 3);

    w.at(T0 + 360 * S).await;
    assert!(
        w.posts(&thread)
            .last()
            .is_some_and(|p| p.contains("2:00 left"))
    );
    w.at(T0 + 450 * S).await;
    assert!(
        w.posts(&thread)
            .last()
            .is_some_and(|p| p.contains("0:30 left"))
    );

    w.clock.set(T0 + 455 * S);
    w.runtime
        .message(
            "discord",
            said(
                "m5",
                "ana",
                &thread,
                "What is driving the release date for you?",
            ),
        )
        .await;
    let mut end = invocation("i2", "ana", &thread);
    end.event_id = "i2".into();
    let reply = w.command(&end, Command::End).await;
    assert!(reply.text.contains("scorecard follows"), "{reply:?}");
    let card = w
        .surface
        .in_thread(&thread)
        .into_iter()
        .find_map(|s| match s {
            Shown::Scorecard { flags, .. } => Some(flags),
            _ => None,
        });
    assert!(
        card.is_some_and(|flags| flags.contains(&"premature_escalation".to_string())),
        "the scorecard flags the escalation"
    );
    let drill = w
        .store
        .load_live_drills(&["discord".into()])
        .await
        .expect("live");
    assert!(drill.is_empty(), "the drill is over");
    let history = w
        .store
        .history(Some(&member("ana")))
        .await
        .expect("history");
    assert_eq!(history[0].phase, Phase::Debriefed);
    assert!(history[0].overall.is_some());
    // `/spar history` names the flags as the scorecard does.
    let listed = w
        .command(&invocation("i3", "ana", "C1"), Command::History)
        .await;
    assert!(
        listed.text.contains("premature escalation"),
        "{}",
        listed.text
    );
    assert!(!listed.text.contains('_'), "{}", listed.text);
}

#[tokio::test]
async fn time_up_ends_the_drill_with_its_scorecard() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let thread = w.thread();
    w.clock.set(T0 + 30 * S);
    w.runtime
        .message(
            "discord",
            said(
                "m1",
                "ana",
                &thread,
                "Can we agree on one benchmark config?",
            ),
        )
        .await;
    w.at(T0 + 480 * S).await;
    let shown = w.surface.in_thread(&thread);
    assert!(w.posts(&thread).iter().any(|p| p.contains("Time is up")));
    assert!(
        matches!(shown.last(), Some(Shown::Scorecard { .. })),
        "{shown:?}"
    );
}

#[tokio::test]
async fn a_second_solo_while_one_is_live_points_to_the_live_thread() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let thread = w.thread();
    let reply = w
        .command(&invocation("i2", "ana", "C1"), solo("talent-allocation"))
        .await;
    assert!(
        reply.text.contains("already have a drill running"),
        "{reply:?}"
    );
    assert!(reply.text.contains(&thread));
    let threads = w
        .surface
        .shown()
        .iter()
        .filter(|s| matches!(s, Shown::Thread { .. }))
        .count();
    assert_eq!(threads, 1);
}

#[tokio::test]
async fn an_unknown_scenario_is_answered_with_close_matches_and_nothing_opens() {
    let w = world().await;
    let reply = w
        .command(&invocation("i1", "ana", "C1"), solo("latency-regresion"))
        .await;
    assert!(reply.private);
    assert!(reply.text.contains("`latency-regression`"), "{reply:?}");
    assert!(w.surface.shown().is_empty());
    let reply = w
        .command(
            &invocation("i2", "ana", "C1"),
            Command::Solo {
                scenario: Some("latency-regression".into()),
                difficulty: Some("brutal".into()),
            },
        )
        .await;
    assert!(
        reply.text.contains("gentle, standard or hostile"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn a_missing_permission_is_named_and_nothing_is_stored() {
    let w = world().await;
    w.surface.lack_permission("Create Private Threads");
    let reply = w
        .command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    assert!(reply.text.contains("Create Private Threads"), "{reply:?}");
    assert!(
        w.store
            .history(Some(&member("ana")))
            .await
            .expect("history")
            .is_empty()
    );
}

#[tokio::test]
async fn a_member_over_the_daily_limit_is_told_and_may_not_start_another() {
    let w = world().await;
    w.store
        .set_workspace_config(
            &guild(),
            &WorkspaceConfig {
                daily_limit: Some(1),
                ..WorkspaceConfig::default()
            },
        )
        .await
        .expect("config");
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let thread = w.thread();
    w.command(&invocation("i2", "ana", &thread), Command::End)
        .await;
    let reply = w
        .command(&invocation("i3", "ana", "C1"), solo("latency-regression"))
        .await;
    assert!(reply.private, "only the member is told: {reply:?}");
    assert!(reply.text.contains("daily limit of 1"), "{reply:?}");
    assert!(reply.text.contains("midnight UTC"), "{reply:?}");
    assert_eq!(
        w.surface
            .shown()
            .iter()
            .filter(|s| matches!(s, Shown::Thread { .. }))
            .count(),
        1,
        "no second thread opens"
    );
    // Another member has their own count; the next day the first starts again.
    let reply = w
        .command(&invocation("i4", "bo", "C1"), solo("latency-regression"))
        .await;
    assert!(reply.text.contains("Your drill is ready"), "{reply:?}");
    w.clock.set(T0 + 24 * 3600 * S);
    let reply = w
        .command(&invocation("i5", "ana", "C1"), solo("latency-regression"))
        .await;
    assert!(reply.text.contains("Your drill is ready"), "{reply:?}");
}

#[tokio::test]
async fn a_deleted_thread_abandons_its_drill_and_keeps_it() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let thread = w.thread();
    w.surface.delete_thread(&thread);
    w.clock.set(T0 + 20 * S);
    w.runtime
        .message(
            "discord",
            said("m1", "ana", &thread, "What drives the date?"),
        )
        .await;
    let history = w
        .store
        .history(Some(&member("ana")))
        .await
        .expect("history");
    assert_eq!(history.len(), 1, "the drill is kept");
    assert_eq!(history[0].phase, Phase::Abandoned);
}

#[tokio::test]
async fn an_archived_thread_abandons_its_drill() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let thread = w.thread();
    w.runtime.thread_gone("discord", &thread, None).await;
    let history = w
        .store
        .history(Some(&member("ana")))
        .await
        .expect("history");
    assert_eq!(history[0].phase, Phase::Abandoned);
}

#[tokio::test]
async fn an_archived_channel_abandons_the_drills_in_it_and_only_those() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    w.command(&invocation("i2", "bo", "C2"), solo("latency-regression"))
        .await;
    w.runtime.channel_gone("discord", "C1").await;
    let phase = |who: &'static str| {
        let store = w.store.clone();
        async move {
            let history = store.history(Some(&member(who))).await.expect("history");
            assert_eq!(history.len(), 1, "{who}'s drill is kept");
            history[0].phase
        }
    };
    assert_eq!(phase("ana").await, Phase::Abandoned);
    assert_ne!(
        phase("bo").await,
        Phase::Abandoned,
        "another channel's drill runs on"
    );
}

#[tokio::test]
async fn an_oversized_message_is_refused_privately_and_is_not_a_turn() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let thread = w.thread();
    let before = w.posts(&thread).len();
    w.runtime
        .message(
            "discord",
            said("m1", "ana", &thread, &"why ".repeat(20_000)),
        )
        .await;
    let told = w
        .surface
        .in_thread(&thread)
        .into_iter()
        .find_map(|s| match s {
            Shown::Told { person, text, .. } => Some((person, text)),
            _ => None,
        });
    assert!(
        told.as_ref()
            .is_some_and(|(who, text)| who == "ana" && text.contains("at most 64 KiB")),
        "{told:?}"
    );
    assert_eq!(w.posts(&thread).len(), before, "nothing is answered");
}

#[tokio::test]
async fn a_restarted_instance_answers_the_turn_its_predecessor_never_did() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let thread = w.thread();
    let drill = w
        .store
        .live_drill_in("discord", &thread, None)
        .await
        .expect("lookup")
        .expect("the drill");
    // The turn is committed, then the instance dies before asking the antagonist.
    w.runtime
        .engine()
        .say(
            &drill.id,
            Some("m1"),
            &member("ana"),
            "Which batch size?".into(),
            T0 + 10 * S,
        )
        .await
        .expect("the turn");
    let before = w.posts(&thread).len();
    // The next instance's clock is past the lease the first one took with the turn.
    let clock = Arc::new(ManualClock(AtomicI64::new(T0 + 400 * S)));
    let next = runtime(w.store.clone(), w.surface.clone(), clock);
    for pending in next.recover().await {
        next.perform(pending).await;
    }
    assert_eq!(
        w.posts(&thread).len(),
        before + 1,
        "the owed reply is posted"
    );
}

#[tokio::test]
async fn forgetting_asks_first_and_then_deletes_the_members_drills() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let reply = w
        .command(&invocation("i2", "ana", "C1"), Command::Forget)
        .await;
    assert_eq!(reply.buttons.len(), 1);
    assert!(reply.buttons[0].danger);
    assert_eq!(
        w.store
            .history(Some(&member("ana")))
            .await
            .expect("h")
            .len(),
        1
    );
    let handled = w
        .runtime
        .action(&invocation("i3", "ana", "C1"), Action::ForgetConfirmed)
        .await;
    assert!(
        handled.reply.text.contains("Deleted 1 drills"),
        "{:?}",
        handled.reply
    );
    assert!(
        w.store
            .history(Some(&member("ana")))
            .await
            .expect("h")
            .is_empty()
    );
}

#[tokio::test]
async fn only_admins_change_the_settings() {
    let w = world().await;
    let change = ConfigChange {
        daily_limit: Some(3),
        ..ConfigChange::default()
    };
    let reply = w
        .command(
            &invocation("i1", "ana", "C1"),
            Command::Config(change.clone()),
        )
        .await;
    assert!(
        reply.text.contains("Only members who can manage"),
        "{reply:?}"
    );
    let mut admin = invocation("i2", "ana", "C1");
    admin.admin = true;
    let reply = w.command(&admin, Command::Config(change)).await;
    assert!(reply.text.contains("3 drills"), "{reply:?}");
    assert_eq!(
        w.store
            .workspace_config(&guild())
            .await
            .expect("config")
            .daily_limit,
        Some(3)
    );
}

#[tokio::test]
async fn the_transcript_button_sends_the_drill_as_a_file_to_its_people_only() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let thread = w.thread();
    let drill = w
        .store
        .live_drill_in("discord", &thread, None)
        .await
        .expect("lookup")
        .expect("drill")
        .id;
    let mine = w
        .runtime
        .action(
            &invocation("i2", "ana", &thread),
            Action::Transcript(drill.clone()),
        )
        .await;
    let file = mine.reply.file.expect("a file");
    assert!(file.name.ends_with(".md"));
    assert!(String::from_utf8_lossy(&file.bytes).contains("## Transcript"));
    let theirs = w
        .runtime
        .action(&invocation("i3", "eve", &thread), Action::Transcript(drill))
        .await;
    assert!(theirs.reply.file.is_none());
}

#[tokio::test]
async fn an_admin_sets_the_servers_token_budget_and_zero_returns_to_the_default() {
    let w = world().await;
    let mut admin = invocation("i1", "ana", "C1");
    admin.admin = true;
    let reply = w
        .command(&admin, Command::Config(ConfigChange::default()))
        .await;
    assert!(
        reply
            .text
            .contains("model tokens per day for the server: none"),
        "{reply:?}"
    );
    let reply = w
        .command(
            &admin,
            Command::Config(ConfigChange {
                token_budget: Some(50_000),
                ..ConfigChange::default()
            }),
        )
        .await;
    assert!(reply.text.contains("50000 tokens"), "{reply:?}");
    assert_eq!(
        w.store
            .workspace_config(&guild())
            .await
            .expect("config")
            .token_budget,
        Some(50_000)
    );
    w.command(
        &admin,
        Command::Config(ConfigChange {
            token_budget: Some(0),
            ..ConfigChange::default()
        }),
    )
    .await;
    assert_eq!(
        w.store
            .workspace_config(&guild())
            .await
            .expect("config")
            .token_budget,
        None
    );
    let reply = w
        .command(
            &invocation("i2", "bo", "C1"),
            Command::Config(ConfigChange {
                token_budget: Some(1),
                ..ConfigChange::default()
            }),
        )
        .await;
    assert!(
        reply.text.contains("Only members who can manage"),
        "{reply:?}"
    );
    assert_eq!(
        w.store
            .workspace_config(&guild())
            .await
            .expect("config")
            .token_budget,
        None
    );
}

#[tokio::test]
async fn a_config_change_with_a_budget_and_other_settings_lands_whole() {
    let w = world().await;
    let mut admin = invocation("i1", "ana", "C1");
    admin.admin = true;
    let reply = w
        .command(
            &admin,
            Command::Config(ConfigChange {
                drill_channel: Some(Some("C9".into())),
                daily_limit: Some(2),
                token_budget: Some(70_000),
                ..ConfigChange::default()
            }),
        )
        .await;
    assert!(reply.text.contains("70000 tokens"), "{reply:?}");
    assert_eq!(
        w.store.workspace_config(&guild()).await.expect("config"),
        WorkspaceConfig {
            drill_channel: Some("C9".into()),
            daily_limit: Some(2),
            token_budget: Some(70_000),
            ..WorkspaceConfig::default()
        }
    );
    // A later change of one setting keeps the others, the budget among them.
    w.command(
        &admin,
        Command::Config(ConfigChange {
            public_threads: Some(true),
            ..ConfigChange::default()
        }),
    )
    .await;
    let config = w.store.workspace_config(&guild()).await.expect("config");
    assert!(config.public_threads);
    assert_eq!(
        (config.token_budget, config.daily_limit),
        (Some(70_000), Some(2))
    );
}

#[tokio::test]
async fn stats_show_an_admin_the_servers_tokens_and_drills_today_and_nobody_else() {
    let w = world().await;
    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    let thread = w.thread();
    let drill = w
        .store
        .live_drill_in("discord", &thread, None)
        .await
        .expect("lookup")
        .expect("drill");
    // Yesterday's spending is not today's.
    for (prompt, completion, at) in [(800, 200, T0), (5_000, 0, T0 - 24 * 3600 * S)] {
        w.store
            .record_llm_usage(&drill.id, "fake", prompt, completion, at)
            .await
            .expect("usage");
    }
    w.store
        .set_workspace_config(
            &guild(),
            &WorkspaceConfig {
                token_budget: Some(4_000),
                ..WorkspaceConfig::default()
            },
        )
        .await
        .expect("budget");
    let mut admin = invocation("i2", "bo", "C1");
    admin.admin = true;
    let reply = w.command(&admin, Command::Stats).await;
    assert!(reply.private);
    assert!(
        reply
            .text
            .contains("1000 of 4000 tokens (25%); 1 drills started"),
        "{reply:?}"
    );
    let reply = w
        .command(&invocation("i3", "bo", "C1"), Command::Stats)
        .await;
    assert!(!reply.text.contains("tokens"), "{reply:?}");

    w.store
        .set_workspace_config(
            &guild(),
            &WorkspaceConfig {
                token_budget: Some(1_000),
                ..WorkspaceConfig::default()
            },
        )
        .await
        .expect("budget");
    let mut admin = invocation("i4", "bo", "C1");
    admin.admin = true;
    let reply = w.command(&admin, Command::Stats).await;
    assert!(
        reply
            .text
            .contains("1000 of 1000 tokens: the budget is spent"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn the_clock_forgets_event_ids_past_their_retention_and_counts_drills_by_phase() {
    let w = world().await;
    let key = |id: &str| spar_core::store::EventKey {
        platform: "discord".into(),
        event_id: id.into(),
    };
    let retention = RuntimeOptions::default().event_retention;
    let retention_ms = EpochMillis::try_from(retention.as_millis()).expect("fits");
    w.store
        .mark_event_processed(&key("old"), T0 - retention_ms - S)
        .await
        .expect("old");
    w.store
        .mark_event_processed(&key("recent"), T0 - retention_ms + S)
        .await
        .expect("recent");
    assert_eq!(w.runtime.prune_events().await, 1);
    assert!(!w.store.event_processed(&key("old")).await.expect("old"));
    assert!(
        w.store
            .event_processed(&key("recent"))
            .await
            .expect("recent")
    );

    w.command(&invocation("i1", "ana", "C1"), solo("latency-regression"))
        .await;
    w.runtime.sample_drills().await;
    let text = w.runtime.metrics().render();
    assert!(text.contains("spar_drills{phase=\"live\"} 1"), "{text}");
    assert!(text.contains("spar_drills{phase=\"briefing\"} 0"), "{text}");
    assert!(text.contains("spar_drills{phase=\"wrap_up\"} 0"), "{text}");
}
