//! A workspace's daily token budget in the chat runtime, with the model played by the
//! local OpenAI-compatible fake: once the day's tokens reach the budget, running and new
//! drills go on with the scripted antagonist, each drill says so once (also when another
//! instance takes it over), the judge is not asked, a workspace's own budget wins over the
//! instance's default, and a settings change with a budget lands whole or not at all.

use crate::fake_openai::FakeOpenAi;
use crate::store::TestDb;
use spar::antagonist::{Cast, Scripted};
use spar::chat::runtime::Message;
use spar::chat::{
    Clock, Command, ConfigChange, Invocation, MemorySurface, Reply, Runtime, RuntimeOptions, Shown,
};
use spar::config::{LlmSettings, Secret};
use spar::debrief::Debriefer;
use spar::engine::Engine;
use spar::llm::{LlmConfig, OpenAiAntagonist, OpenAiJudge};
use spar_core::ScenarioLibrary;
use spar_core::antagonist::SharedLines;
use spar_core::scoring::Scorer;
use spar_core::store::{EpochMillis, PersonRef, Store, UtcDay, WorkspaceConfig, WorkspaceRef};
use std::sync::Arc;
use std::time::Duration;

/// Mid-morning UTC, far from midnight, so every drill of a test falls on one day.
const NOW: EpochMillis = 1_800_000_000_000;

/// The runtime's clock, held still: no timer fires and the day never turns.
struct Still;

impl Clock for Still {
    fn now(&self) -> EpochMillis {
        NOW
    }
}

struct World {
    runtime: Runtime,
    surface: Arc<MemorySurface>,
    store: Arc<dyn Store>,
}

async fn world(fake: &FakeOpenAi, default_budget: Option<u64>, db: &TestDb) -> World {
    let store = db.open().await;
    let surface = Arc::new(MemorySurface::new("discord", 2000));
    instance(fake, default_budget, store, surface, "test")
}

/// One instance of the bot: its own runtime, named `owner`, on a store and a chat surface
/// other instances may share.
fn instance(
    fake: &FakeOpenAi,
    default_budget: Option<u64>,
    store: Arc<dyn Store>,
    surface: Arc<MemorySurface>,
    owner: &str,
) -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = LlmConfig::from_settings(&LlmSettings {
        base_url: Some(fake.base_url.clone()),
        api_key: Secret::new("k"),
        model: Some("fake".into()),
        max_attempts: Some(1),
        retry_base_ms: Some(1),
        timeout_s: Some(5.0),
        ..LlmSettings::default()
    })
    .expect("settings")
    .expect("a model");
    let scorer = Scorer::embedded().expect("scorer");
    let scripted = Scripted::new(
        SharedLines::embedded().expect("lines"),
        scorer.clone(),
        "/spar end",
    );
    let runtime = Runtime::new(
        Engine::new(store.clone(), owner, &["discord"]),
        vec![surface.clone()],
        ScenarioLibrary::embedded().expect("library"),
        Cast::with_model(scripted, OpenAiAntagonist::new(&config).expect("model")),
        Debriefer::new(scorer, Some(OpenAiJudge::new(&config).expect("judge"))),
        Arc::new(Still) as Arc<dyn Clock>,
        RuntimeOptions {
            edit_interval: Duration::ZERO,
            typing_interval: Duration::from_millis(100),
            daily_token_budget: default_budget,
            ..RuntimeOptions::default()
        },
    );
    World {
        runtime,
        surface,
        store,
    }
}

fn guild() -> WorkspaceRef {
    WorkspaceRef {
        platform: "discord".into(),
        external_id: "G1".into(),
        name: "G".into(),
    }
}

fn member(id: &str) -> PersonRef {
    PersonRef {
        platform: "discord".into(),
        platform_user_id: id.into(),
        display_name: format!("Member {id}"),
    }
}

fn invocation(id: &str, who: &str, channel: &str) -> Invocation {
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

impl World {
    /// Runs a command and performs what it set going.
    async fn command(&self, inv: &Invocation, command: Command) -> Reply {
        let handled = self.runtime.command(inv, command).await;
        if let Some(then) = handled.then {
            self.runtime.perform(then).await;
        }
        handled.reply
    }

    /// Starts `who`'s solo drill and returns its thread.
    async fn solo(&self, id: &str, who: &str) -> String {
        let reply = self
            .command(
                &invocation(id, who, "C1"),
                Command::Solo {
                    scenario: Some("latency-regression".into()),
                    difficulty: None,
                },
            )
            .await;
        assert!(reply.text.contains("Your drill is ready"), "{reply:?}");
        self.surface
            .shown()
            .iter()
            .rev()
            .find_map(|s| match s {
                Shown::Thread { place, .. } => Some(place.thread.clone()),
                _ => None,
            })
            .expect("a thread was opened")
    }

    async fn say(&self, id: &str, who: &str, thread: &str, text: &str) {
        self.runtime
            .message(
                "discord",
                Message {
                    event_id: id.into(),
                    author: member(who),
                    from_bot: false,
                    thread: thread.into(),
                    channel: None,
                    text: text.into(),
                },
            )
            .await;
    }

    fn posts(&self, thread: &str) -> Vec<String> {
        self.surface
            .in_thread(thread)
            .into_iter()
            .filter_map(|s| match s {
                Shown::Post { text, .. } => Some(text),
                _ => None,
            })
            .collect()
    }

    fn budget_notices(&self, thread: &str) -> usize {
        self.posts(thread)
            .iter()
            .filter(|p| p.contains("model budget here is spent"))
            .count()
    }

    async fn tokens_today(&self) -> u64 {
        let workspace = self.store.ensure_workspace(&guild()).await.expect("guild");
        self.store
            .tokens_on(workspace, UtcDay::of(NOW))
            .await
            .expect("tokens")
            .used
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_budget_a_drill_goes_on_scripted_and_says_so_once_and_new_drills_start_scripted() {
    let fake = FakeOpenAi::start();
    let db = TestDb::sqlite().await;
    // Any one model reply costs more than this, so the opening spends the day's budget.
    let w = world(&fake, Some(50), &db).await;
    let thread = w.solo("i1", "ana").await;
    assert_eq!(fake.antagonist_requests().len(), 1, "the model opens");
    let spent = w.tokens_today().await;
    assert!(spent >= 50, "the opening's tokens are counted: {spent}");
    assert_eq!(
        w.budget_notices(&thread),
        0,
        "the opening was within budget"
    );

    let before = w.posts(&thread).len();
    w.say("m1", "ana", &thread, "Which batch size did you profile at?")
        .await;
    w.say(
        "m2",
        "ana",
        &thread,
        "Can we rerun it on production traffic?",
    )
    .await;
    w.say("m3", "ana", &thread, "What would convince you either way?")
        .await;
    assert_eq!(
        fake.antagonist_requests().len(),
        1,
        "the model is not asked again"
    );
    assert_eq!(
        w.budget_notices(&thread),
        1,
        "one notice for the drill, not one per turn: {:#?}",
        w.posts(&thread)
    );
    assert_eq!(
        w.posts(&thread).len(),
        before + 1 + 3,
        "the notice, and every turn answered by the scripted antagonist"
    );
    assert_eq!(w.tokens_today().await, spent, "nothing more was spent");

    let end = invocation("i2", "ana", &thread);
    w.command(&end, Command::End).await;
    assert!(
        w.surface
            .in_thread(&thread)
            .iter()
            .any(|s| matches!(s, Shown::Scorecard { .. })),
        "the drill is scored"
    );
    assert!(
        fake.judge_requests().is_empty(),
        "over the budget, the judge is not asked"
    );

    // A drill started over the budget opens scripted and says so, once.
    let second = w.solo("i3", "bo").await;
    w.say("m4", "bo", &second, "Which batch size did you profile at?")
        .await;
    assert_eq!(fake.antagonist_requests().len(), 1);
    assert_eq!(w.budget_notices(&second), 1, "{:#?}", w.posts(&second));
    assert_eq!(
        w.budget_notices(&thread),
        1,
        "the first drill hears nothing more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_own_budget_wins_over_the_default() {
    let fake = FakeOpenAi::start();
    let db = TestDb::sqlite().await;
    let w = world(&fake, Some(50), &db).await;
    let mut admin = invocation("i0", "ana", "C1");
    admin.admin = true;
    let reply = w
        .command(
            &admin,
            Command::Config(ConfigChange {
                token_budget: Some(1_000_000),
                ..ConfigChange::default()
            }),
        )
        .await;
    assert!(reply.text.contains("1000000 tokens"), "{reply:?}");
    let thread = w.solo("i1", "ana").await;
    w.say("m1", "ana", &thread, "Which batch size did you profile at?")
        .await;
    w.say(
        "m2",
        "ana",
        &thread,
        "Can we rerun it on production traffic?",
    )
    .await;
    assert_eq!(fake.antagonist_requests().len(), 3, "the model plays on");
    assert_eq!(w.budget_notices(&thread), 0);
    w.command(&invocation("i2", "ana", &thread), Command::End)
        .await;
    assert_eq!(fake.judge_requests().len(), 1, "and judges the drill");
    let mut admin = invocation("i3", "ana", "C1");
    admin.admin = true;
    let stats = w.command(&admin, Command::Stats).await;
    let spent = w.tokens_today().await;
    assert!(
        stats.text.contains(&format!("{spent} of 1000000 tokens")),
        "{stats:?}"
    );
}

/// Runs each named test body against SQLite and PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::TestDb::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

on_both_backends!(
    an_instance_taking_over_a_drill_over_the_budget_does_not_say_so_again,
    a_settings_change_that_fails_changes_neither_the_budget_nor_the_rest,
);

async fn an_instance_taking_over_a_drill_over_the_budget_does_not_say_so_again(db: &TestDb) {
    let fake = FakeOpenAi::start();
    // Any one model reply costs more than this, so the opening spends the day's budget.
    let first = world(&fake, Some(50), db).await;
    let thread = first.solo("i1", "ana").await;
    first
        .say("m1", "ana", &thread, "Which batch size did you profile at?")
        .await;
    assert_eq!(
        first.budget_notices(&thread),
        1,
        "the first instance tells the thread: {:#?}",
        first.posts(&thread)
    );

    // The first instance stops; another, on the same store and chat, takes the drill over
    // with nothing of it in memory.
    let (store, surface) = (first.store.clone(), first.surface.clone());
    drop(first);
    let second = instance(&fake, Some(50), store, surface, "second");
    let before = second.posts(&thread).len();
    second
        .say(
            "m2",
            "ana",
            &thread,
            "Can we rerun it on production traffic?",
        )
        .await;
    assert_eq!(
        second.posts(&thread).len(),
        before + 1,
        "the second instance answers the turn: {:#?}",
        second.posts(&thread)
    );
    assert_eq!(
        second.budget_notices(&thread),
        1,
        "and does not tell the thread again: {:#?}",
        second.posts(&thread)
    );
    assert_eq!(
        fake.antagonist_requests().len(),
        1,
        "the drill stays with the scripted antagonist"
    );
}

async fn a_settings_change_that_fails_changes_neither_the_budget_nor_the_rest(db: &TestDb) {
    let fake = FakeOpenAi::start();
    let w = world(&fake, None, db).await;
    // The database refuses one channel, so the change fails after the budget is in it.
    db.refuse_drill_channel("C-refused").await;
    let mut admin = invocation("i1", "ana", "C1");
    admin.admin = true;
    let change = |channel: &str| {
        Command::Config(ConfigChange {
            drill_channel: Some(Some(channel.into())),
            token_budget: Some(70_000),
            ..ConfigChange::default()
        })
    };
    let reply = w.command(&admin, change("C-refused")).await;
    assert!(reply.text.contains("nothing was changed"), "{reply:?}");
    assert_eq!(
        w.store.workspace_config(&guild()).await.expect("config"),
        WorkspaceConfig::default(),
        "neither the budget nor the channel was kept"
    );

    let reply = w.command(&admin, change("C2")).await;
    assert!(reply.text.contains("70000 tokens"), "{reply:?}");
    let config = w.store.workspace_config(&guild()).await.expect("config");
    assert_eq!(
        (config.drill_channel.as_deref(), config.token_budget),
        (Some("C2"), Some(70_000))
    );
}
