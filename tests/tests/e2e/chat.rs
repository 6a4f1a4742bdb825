//! The chat runtime with a model antagonist served by the local OpenAI-compatible fake:
//! a reply streams into one message, edited as it grows but not once per sentence, with
//! the typing indicator until it starts; a model that stops answering hands over to the
//! scripted antagonist with a note, and the judge is not asked again.

use crate::fake_openai::{FakeOpenAi, Reply};
use spar::antagonist::{Cast, Scripted};
use spar::chat::{
    Clock, Command, Invocation, MemorySurface, Runtime, RuntimeOptions, Shown, WallClock,
};
use spar::config::{LlmSettings, Secret};
use spar::debrief::Debriefer;
use spar::engine::Engine;
use spar::llm::{LlmConfig, OpenAiAntagonist, OpenAiJudge};
use spar_core::ScenarioLibrary;
use spar_core::antagonist::SharedLines;
use spar_core::scoring::Scorer;
use spar_core::store::{PersonRef, WorkspaceRef};
use std::sync::Arc;
use std::time::Duration;

struct World {
    runtime: Arc<Runtime>,
    surface: Arc<MemorySurface>,
    _dir: tempfile::TempDir,
}

async fn world(fake: &FakeOpenAi, edit_interval: Duration) -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("dir");
    let store = spar::store::open(Some(&spar::store::sqlite_url(&dir.path().join("spar.db"))))
        .await
        .expect("store");
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
    let surface = Arc::new(MemorySurface::new("discord", 2000));
    let runtime = Runtime::new(
        Engine::new(store, "test", &["discord"]),
        vec![surface.clone()],
        ScenarioLibrary::embedded().expect("library"),
        Cast::with_model(scripted, OpenAiAntagonist::new(&config).expect("model")),
        Debriefer::new(scorer, Some(OpenAiJudge::new(&config).expect("judge"))),
        Arc::new(WallClock) as Arc<dyn Clock>,
        RuntimeOptions {
            edit_interval,
            typing_interval: Duration::from_millis(100),
            ..RuntimeOptions::default()
        },
    );
    World {
        runtime: Arc::new(runtime),
        surface,
        _dir: dir,
    }
}

fn invocation(id: &str) -> Invocation {
    Invocation {
        event_id: id.into(),
        person: PersonRef {
            platform: "discord".into(),
            platform_user_id: "42".into(),
            display_name: "Ana".into(),
        },
        workspace: WorkspaceRef {
            platform: "discord".into(),
            external_id: "G1".into(),
            name: "G".into(),
        },
        channel: "C1".into(),
        thread: None,
        parent_channel: None,
        admin: false,
    }
}

const REPLY: &str = "That's the number I keep hearing. The batch size matters here. \
    We profiled at one. Your replay used production traffic. So the gap is real. \
    Tell me what you want to run.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_reply_streams_into_one_message_edited_as_it_grows() {
    let fake = FakeOpenAi::start();
    fake.stream(Reply::Paced(REPLY.into(), Duration::from_millis(60)));
    let w = world(&fake, Duration::from_millis(700)).await;
    let handled = w
        .runtime
        .command(
            &invocation("i1"),
            Command::Solo {
                scenario: Some("latency-regression".into()),
                difficulty: None,
            },
        )
        .await;
    w.runtime.perform(handled.then.expect("the opening")).await;
    let shown = w.surface.shown();
    let first_post = shown
        .iter()
        .position(|s| matches!(s, Shown::Post { text, .. } if !text.starts_with('⏱')))
        .expect("the reply was posted");
    assert!(
        shown[..first_post]
            .iter()
            .any(|s| matches!(s, Shown::Typing { .. })),
        "typing is shown before the reply starts: {shown:#?}"
    );
    let Shown::Post { message, text } = &shown[first_post] else {
        unreachable!()
    };
    assert!(REPLY.starts_with(text.as_str()), "{text}");
    let edits: Vec<&String> = shown
        .iter()
        .filter_map(|s| match s {
            Shown::Edit { message: m, text } if m == message => Some(text),
            _ => None,
        })
        .collect();
    let sentences = REPLY.matches(". ").count() + 1;
    assert!(!edits.is_empty(), "the message grows: {shown:#?}");
    assert!(
        1 + edits.len() < sentences,
        "{} updates for {sentences} sentences: edits are spaced, not one per sentence",
        1 + edits.len()
    );
    assert_eq!(
        edits.last().map(|t| t.as_str()),
        Some(REPLY),
        "it ends whole"
    );
    let posts_of_reply = shown
        .iter()
        .filter(|s| matches!(s, Shown::Post { text, .. } if !text.starts_with('⏱')))
        .count();
    assert_eq!(posts_of_reply, 1, "one message, edited: {shown:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_stops_answering_hands_over_with_a_note_and_is_not_asked_to_judge() {
    let fake = FakeOpenAi::start();
    fake.stream(Reply::Status(503, None));
    let w = world(&fake, Duration::ZERO).await;
    let handled = w
        .runtime
        .command(
            &invocation("i1"),
            Command::Solo {
                scenario: Some("latency-regression".into()),
                difficulty: None,
            },
        )
        .await;
    w.runtime.perform(handled.then.expect("the opening")).await;
    let posts: Vec<String> = w
        .surface
        .shown()
        .into_iter()
        .filter_map(|s| match s {
            Shown::Post { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert!(
        posts
            .iter()
            .any(|p| p.contains("the scripted antagonist takes over")),
        "{posts:#?}"
    );
    assert_eq!(
        posts.len(),
        3,
        "the clock, the note and the scripted opening: {posts:#?}"
    );
    let thread = w
        .surface
        .shown()
        .iter()
        .find_map(|s| match s {
            Shown::Thread { place, .. } => Some(place.thread.clone()),
            _ => None,
        })
        .expect("thread");
    w.runtime
        .message(
            "discord",
            spar::chat::runtime::Message {
                event_id: "m1".into(),
                author: invocation("x").person,
                from_bot: false,
                thread: thread.clone(),
                channel: None,
                text: "What would you need to see to be convinced?".into(),
            },
        )
        .await;
    let end = Invocation {
        channel: thread,
        ..invocation("i2")
    };
    let handled = w.runtime.command(&end, Command::End).await;
    w.runtime.perform(handled.then.expect("the debrief")).await;
    assert!(
        w.surface
            .shown()
            .iter()
            .any(|s| matches!(s, Shown::Scorecard { .. }))
    );
    assert_eq!(
        fake.antagonist_requests().len(),
        1,
        "asked once, then scripted"
    );
    assert!(
        fake.judge_requests().is_empty(),
        "a model that failed in the drill is not asked to judge it"
    );
}
