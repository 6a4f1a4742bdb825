//! What operators rely on of the store: a stopping instance hands its drills over at once,
//! processed event ids do not pile up forever, drills are counted by phase, and a message
//! finds its drill whole in one operation.

use super::{S, T0, TestDb, asks, asks_for, drill_owed_a_reply, live_drill, new_drill};
use spar::engine::{Engine, Sender};
use spar_core::drill::{Event, Phase};
use spar_core::store::*;

pub(super) async fn a_stopping_instance_hands_its_drills_over_at_once(db: &TestDb) {
    // The leaving instance took the drill's recovery claim when it asked for the reply,
    // for a whole lease.
    let leaving = Engine::new(db.open().await, "leaving", &["terminal"]);
    let drill = live_drill(&leaving, "ana").await;
    let effects = leaving
        .handle(
            &drill,
            Some(&format!("m1-{drill}")),
            Sender::System,
            Event::CandidateSaid("Which customers see the p99?".into()),
            T0 + 10 * S,
        )
        .await
        .expect("say");
    assert_eq!(asks(&effects), 1);
    let staying = Engine::new(db.open().await, "staying", &["terminal"]);
    let recovered = staying.recover(T0 + 11 * S).await.expect("recover").drills;
    assert_eq!(
        asks_for(&recovered, &drill),
        0,
        "while the claim is held the reply is left to the asker: {recovered:?}"
    );
    // It stops with the reply still coming, and lets go.
    let released = leaving.close_and_release().await.expect("release");
    assert_eq!(released, 1);
    let recovered = staying.recover(T0 + 12 * S).await.expect("recover").drills;
    assert_eq!(
        asks_for(&recovered, &drill),
        1,
        "the other instance asks for the reply a second later, not a lease later: {recovered:?}"
    );
    // The reply the stopped instance was waiting for can no longer be stored, so the drill
    // gets one reply, the staying instance's.
    let late = leaving
        .handle(
            &drill,
            None,
            Sender::System,
            Event::AntagonistAnswered {
                text: "Mostly the EU tenants.".into(),
                seen: 3,
            },
            T0 + 13 * S,
        )
        .await;
    assert!(late.is_err(), "{late:?}");
    let loaded = staying.store().load_drill(&drill).await.expect("load");
    assert_eq!(
        loaded.turns.len(),
        2,
        "the refused reply is not stored: {:?}",
        loaded.turns
    );
}

pub(super) async fn a_released_instance_leaves_other_instances_claims_alone(db: &TestDb) {
    let drill = drill_owed_a_reply(db).await;
    let holder = Engine::new(db.open().await, "holder", &["terminal"]);
    let recovered = holder.recover(T0 + 60 * S).await.expect("recover").drills;
    assert_eq!(asks_for(&recovered, &drill), 1);
    let bystander = Engine::new(db.open().await, "bystander", &["terminal"]);
    assert_eq!(bystander.close_and_release().await.expect("release"), 0);
    let other = Engine::new(db.open().await, "other", &["terminal"]);
    let recovered = other.recover(T0 + 61 * S).await.expect("recover").drills;
    assert_eq!(
        asks_for(&recovered, &drill),
        0,
        "the holder's claim still stands: {recovered:?}"
    );
}

pub(super) async fn processed_event_ids_older_than_the_retention_are_pruned(db: &TestDb) {
    let store = db.open().await;
    let key = |id: &str| EventKey {
        platform: "discord".into(),
        event_id: id.into(),
    };
    let day = 24 * 3600 * S;
    assert!(
        store
            .mark_event_processed(&key("old"), T0 - 3 * day)
            .await
            .expect("old")
    );
    assert!(
        store
            .mark_event_processed(&key("recent"), T0 - S)
            .await
            .expect("recent")
    );
    let pruned = store.prune_events(T0 - 2 * day).await.expect("prune");
    assert_eq!(pruned, 1);
    assert!(!store.event_processed(&key("old")).await.expect("old"));
    assert!(
        store.event_processed(&key("recent")).await.expect("recent"),
        "a recent event is still recognised as a redelivery"
    );
    assert_eq!(store.prune_events(T0 - 2 * day).await.expect("again"), 0);
}

pub(super) async fn unfinished_drills_are_counted_by_phase(db: &TestDb) {
    let engine = Engine::new(db.open().await, "counting", &["terminal"]);
    let store = engine.store().clone();
    assert!(
        store
            .drills_by_phase(&["terminal".into()])
            .await
            .expect("none")
            .is_empty()
    );
    engine
        .start_drill(&new_drill("briefed", T0))
        .await
        .expect("briefing");
    live_drill(&engine, "ana").await;
    live_drill(&engine, "ben").await;
    let ended = live_drill(&engine, "cy").await;
    engine
        .handle(&ended, None, Sender::System, Event::Abandon, T0 + 5 * S)
        .await
        .expect("abandon");
    let mut counts = store
        .drills_by_phase(&["terminal".into()])
        .await
        .expect("counts");
    counts.sort_by_key(|(phase, _)| phase.as_str());
    assert_eq!(counts, vec![(Phase::Briefing, 1), (Phase::Live, 2)]);
    assert!(
        store
            .drills_by_phase(&["discord".into()])
            .await
            .expect("other")
            .is_empty(),
        "another platform's drills are not counted"
    );
}

pub(super) async fn a_message_finds_its_drill_whole_in_one_operation(db: &TestDb) {
    let store = db.open().await;
    let mut drill = new_drill("ana", T0);
    drill.workspace = WorkspaceRef {
        platform: "discord".into(),
        external_id: "G1".into(),
        name: "Study group".into(),
    };
    drill.place = Some(ChatPlace {
        channel: "C1".into(),
        thread: "T1".into(),
    });
    let record = store.create_drill(&drill).await.expect("create");
    let engine = Engine::new(store.clone(), "finding", &["discord"]);
    engine
        .handle(&record.id, None, Sender::System, Event::Start, T0)
        .await
        .expect("start");
    let found = store
        .load_live_drill_in("discord", "T1", None)
        .await
        .expect("look up")
        .expect("found");
    assert_eq!(found, store.load_drill(&record.id).await.expect("load"));
    assert_eq!(found.participants.len(), 1);
    assert!(
        store
            .load_live_drill_in("discord", "T2", None)
            .await
            .expect("look up")
            .is_none()
    );
}

/// The drill an event's commit leaves, which the runtime asks the antagonist from instead
/// of reading the drill again, is the drill the store then loads: turns, phase, clock,
/// timer and version alike.
pub(super) async fn the_drill_a_commit_leaves_is_the_drill_the_store_then_loads(db: &TestDb) {
    let store = db.open().await;
    let engine = Engine::new(store.clone(), "committing", &["terminal"]);
    let record = engine
        .start_drill(&new_drill("ana", T0))
        .await
        .expect("create");
    let loaded = store.load_drill(&record.id).await.expect("load");
    let started = engine
        .handle_loaded(loaded, None, Sender::System, Event::Start, T0)
        .await
        .expect("start");
    assert_eq!(asks(&started.effects), 1, "the opening line is asked for");
    let mut left = started.drill.expect("the start was written");
    assert_eq!(left, store.load_drill(&record.id).await.expect("load"));
    let opened = engine
        .handle_loaded(
            left,
            None,
            Sender::System,
            Event::AntagonistAnswered {
                text: "The date holds.".into(),
                seen: 0,
            },
            T0 + S / 2,
        )
        .await
        .expect("the opening line");
    left = opened.drill.expect("the opening line was written");
    assert_eq!(left, store.load_drill(&record.id).await.expect("load"));

    let ana = super::person("ana");
    let said = engine
        .say_loaded(
            left,
            Some("m1"),
            &ana,
            "What drives the date?".into(),
            T0 + S,
        )
        .await
        .expect("a turn");
    assert_eq!(asks(&said.effects), 1);
    left = said.drill.expect("the turn was written");
    assert_eq!(left, store.load_drill(&record.id).await.expect("load"));

    let answered = engine
        .handle_loaded(
            left.clone(),
            None,
            Sender::System,
            Event::AntagonistAnswered {
                text: "The launch event.".into(),
                seen: left.turns.len(),
            },
            T0 + 3 * S,
        )
        .await
        .expect("the reply");
    left = answered.drill.expect("the reply was written");
    assert_eq!(left, store.load_drill(&record.id).await.expect("load"));

    let ended = engine
        .handle_loaded(left.clone(), None, Sender::System, Event::End, T0 + 4 * S)
        .await
        .expect("the end");
    let left_after_end = ended.drill.expect("the end was written");
    assert_eq!(left_after_end.record.phase, Phase::WrapUp);
    assert_eq!(left_after_end.record.next_due_at, None);
    assert_eq!(
        left_after_end,
        store.load_drill(&record.id).await.expect("load")
    );

    // A redelivered message writes nothing, and leaves no drill to carry on from.
    let again = engine
        .say_loaded(
            left,
            Some("m1"),
            &ana,
            "What drives the date?".into(),
            T0 + S,
        )
        .await
        .expect("a redelivery");
    assert!(again.effects.is_empty());
    assert_eq!(again.drill, None);
}
