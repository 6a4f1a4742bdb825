//! What peer drills keep, on both backends: a channel's queue in join order, pairings that
//! take members out of the queue at once or not at all and replay into the same history,
//! schedules with their opt-ins and rounds (one round per start however many instances
//! set it up, each due round fired by one instance, a stale change refused), ratings, and
//! a round that survives a restart with everyone in it.

use super::{S, T0, TestDb, new_drill};
use chrono::{DateTime, Utc};
use spar_core::peer::{
    Entry, Group, History, Preference, Roster, RoundEvent, RoundPhase, Schedule, ScheduledRound,
    pair,
};
use spar_core::store::*;
use spar_core::{Difficulty, Role};

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

fn utc(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at).expect("a valid instant")
}

fn members(waiting: &[Waiting]) -> Vec<String> {
    waiting.iter().map(|w| w.entry.member.clone()).collect()
}

pub(super) async fn a_channels_queue_keeps_join_order_wishes_and_leavers(db: &TestDb) {
    let store = db.open().await;
    let peer = store.peer();
    let ws = discord("G1");
    for (i, who) in ["ana", "bo", "cy"].into_iter().enumerate() {
        let added = peer
            .join_queue(
                &ws,
                "C1",
                &member(who),
                &Entry::peer(who),
                T0 + i as i64 * S,
            )
            .await
            .expect("join");
        assert!(added);
    }
    // Joining again updates the wishes and keeps the place.
    let wishes = Entry {
        member: "ana".into(),
        scenario: Some("latency-regression".into()),
        difficulty: Some(Difficulty::Hostile),
        preference: Preference::SoloIfNoPartner,
    };
    let added = peer
        .join_queue(&ws, "C1", &member("ana"), &wishes, T0 + 10 * S)
        .await
        .expect("join again");
    assert!(!added);
    peer.join_queue(&ws, "C2", &member("di"), &Entry::peer("di"), T0)
        .await
        .expect("another channel");
    let queue = peer.queue(&ws, "C1").await.expect("queue");
    assert_eq!(members(&queue), vec!["ana", "bo", "cy"]);
    assert_eq!(queue[0].entry, wishes);
    assert_eq!(queue[0].person, member("ana"));
    assert!(
        peer.leave_queue(&ws, "C1", &member("bo"))
            .await
            .expect("leave")
    );
    assert!(
        !peer
            .leave_queue(&ws, "C1", &member("bo"))
            .await
            .expect("again")
    );
    assert_eq!(
        members(&peer.queue(&ws, "C1").await.expect("queue")),
        vec!["ana", "cy"]
    );
    assert_eq!(
        members(&peer.queue(&ws, "C2").await.expect("queue")),
        vec!["di"]
    );
    assert!(
        peer.queue(&discord("G2"), "C1")
            .await
            .expect("another server")
            .is_empty()
    );
}

pub(super) async fn a_pairing_takes_its_members_from_the_queue_at_once_or_not_at_all(db: &TestDb) {
    let store = db.open().await;
    let peer = store.peer();
    let ws = discord("G1");
    for who in ["ana", "bo", "cy", "di", "ed"] {
        peer.join_queue(&ws, "C1", &member(who), &Entry::peer(who), T0)
            .await
            .expect("join");
    }
    let queue = peer.queue(&ws, "C1").await.expect("queue");
    let entries: Vec<Entry> = queue.iter().map(|w| w.entry.clone()).collect();
    let first = pair(
        &entries[..4],
        &History::new(),
        7,
        spar_core::peer::OddOneOut::Trio,
    );
    peer.record_pairing(&ws, "C1", &first.groups, true, T0 + S)
        .await
        .expect("record");
    assert_eq!(
        members(&peer.queue(&ws, "C1").await.expect("queue")),
        vec!["ed"]
    );
    // A pairing made from a stale queue (someone paired it meanwhile) records nothing.
    let stale = vec![Group::new("ed".into(), Some("ana".into()), None)];
    assert!(matches!(
        peer.record_pairing(&ws, "C1", &stale, true, T0 + 2 * S)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        members(&peer.queue(&ws, "C1").await.expect("queue")),
        vec!["ed"]
    );
    // A round's record leaves the queue alone and may name people not yet seen.
    let round = vec![Group::new(
        "ana".into(),
        Some("zed".into()),
        Some("ed".into()),
    )];
    peer.record_pairing(&ws, "C1", &round, false, T0 + 3 * S)
        .await
        .expect("record a round");
    let replayed = peer.pairing_history(&ws, "C1").await.expect("history");
    assert_eq!(replayed.len(), 2);
    assert_eq!(replayed[0], first.groups);
    assert_eq!(replayed[1], round);
    let mut history = History::new();
    for groups in &replayed {
        history.record(groups);
    }
    let mut expected = History::new();
    expected.record(&first.groups);
    expected.record(&round);
    assert_eq!(history, expected, "the history rebuilds exactly");
    assert!(
        peer.pairing_history(&ws, "C2")
            .await
            .expect("another channel")
            .is_empty()
    );
}

fn thursday() -> Schedule {
    let mut schedule = Schedule::parse("thursday", "18:30", "Europe/Berlin").expect("valid");
    schedule.scenario_pool = vec!["latency-regression".into()];
    schedule
}

pub(super) async fn schedules_keep_opt_ins_and_one_round_per_start(db: &TestDb) {
    let store = db.open().await;
    let peer = store.peer();
    let ws = discord("G1");
    let schedule = peer
        .create_schedule(&ws, "C1", &thursday(), T0)
        .await
        .expect("create");
    assert_eq!(schedule.schedule, thursday());
    assert_eq!(schedule.workspace, ws);
    assert!(!schedule.paused);
    let elsewhere = peer
        .create_schedule(&discord("G2"), "C9", &thursday(), T0)
        .await
        .expect("another server's");
    assert_eq!(
        peer.schedules(&ws).await.expect("list"),
        vec![schedule.clone()]
    );
    for (i, who) in ["cy", "ana", "bo"].into_iter().enumerate() {
        assert!(
            peer.opt_in(
                schedule.id,
                &member(who),
                &Entry::peer(who),
                T0 + i as i64 * S
            )
            .await
            .expect("opt in")
        );
    }
    assert!(
        !peer
            .opt_in(schedule.id, &member("cy"), &Entry::peer("cy"), T0 + 9 * S)
            .await
            .expect("again")
    );
    assert!(
        peer.opt_out(schedule.id, &member("ana"))
            .await
            .expect("out")
    );
    assert_eq!(
        members(&peer.opted_in(schedule.id).await.expect("opted in")),
        vec!["cy", "bo"]
    );

    let start = thursday().next_start(utc(T0));
    let round = ScheduledRound::new(&thursday(), start, 5);
    let a = peer
        .add_round(schedule.id, &round, Some(T0))
        .await
        .expect("add");
    let b = peer
        .add_round(
            schedule.id,
            &ScheduledRound::new(&thursday(), start, 6),
            Some(T0),
        )
        .await
        .expect("add again");
    assert_eq!(a, b, "one round per start, whoever sets it up");
    assert_eq!(a.round, round);
    assert_eq!(
        peer.rounds_of(schedule.id).await.expect("rounds"),
        vec![a.clone()]
    );

    // A change from a stale version is refused.
    let mut reminded = round.clone();
    let history = History::new();
    let opted = [Entry::peer("cy"), Entry::peer("bo")];
    let roster = Roster {
        opted_in: &opted,
        history: &history,
    };
    reminded.handle(RoundEvent::Tick, thursday().reminder_at(start), &roster);
    assert_eq!(reminded.phase(), RoundPhase::Reminded);
    let version = peer
        .update_round(a.id, a.version, &reminded, Some(start.timestamp_millis()))
        .await
        .expect("update");
    assert!(matches!(
        peer.update_round(a.id, a.version, &round, None).await,
        Err(StoreError::Conflict(_))
    ));
    let stored = peer.round(a.id).await.expect("round");
    assert_eq!(
        (stored.round.phase(), stored.version),
        (RoundPhase::Reminded, version)
    );

    // Paused, its rounds are not fired; listed as active only when running.
    let platforms = vec!["discord".to_string()];
    assert_eq!(
        peer.active_schedules(&platforms)
            .await
            .expect("active")
            .len(),
        2
    );
    assert!(
        peer.set_schedule_paused(schedule.id, true)
            .await
            .expect("pause")
    );
    let due = start.timestamp_millis();
    assert!(
        peer.claim_due_rounds("a", &platforms, due, 60_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(
        peer.active_schedules(&platforms).await.expect("active"),
        vec![elsewhere.clone()]
    );
    peer.set_schedule_paused(schedule.id, false)
        .await
        .expect("resume");
    assert!(
        peer.claim_due_rounds("a", &["slack".to_string()], due, 60_000, 10)
            .await
            .expect("claim")
            .is_empty(),
        "an instance fires only the rounds of its platforms"
    );

    // Deleting a schedule takes its opt-ins and rounds; the drills stay.
    let engine = spar::engine::Engine::new(store.clone(), "a", &["discord"]);
    let mut drill = new_drill("cy", T0);
    drill.workspace = ws.clone();
    let drill = engine.start_drill(&drill).await.expect("drill").id;
    peer.link_round_drill(a.id, &drill).await.expect("link");
    assert_eq!(
        peer.round_of_drill(&drill)
            .await
            .expect("round")
            .map(|r| r.id),
        Some(a.id)
    );
    assert_eq!(
        peer.round_drills(a.id).await.expect("drills"),
        vec![drill.clone()]
    );
    assert!(peer.delete_schedule(schedule.id).await.expect("delete"));
    assert!(!peer.delete_schedule(schedule.id).await.expect("again"));
    assert!(matches!(
        peer.schedule(schedule.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        peer.opted_in(schedule.id)
            .await
            .expect("opted in")
            .is_empty()
    );
    assert!(peer.round_of_drill(&drill).await.expect("round").is_none());
    assert!(store.load_drill(&drill).await.is_ok());
}

pub(super) async fn two_instances_claiming_due_rounds_fire_each_once(db: &TestDb) {
    let first = db.open().await;
    let second = db.open().await;
    let ws = discord("G1");
    let schedule = first
        .peer()
        .create_schedule(&ws, "C1", &thursday(), T0)
        .await
        .expect("create");
    let start = thursday().next_start(utc(T0));
    let round = first
        .peer()
        .add_round(
            schedule.id,
            &ScheduledRound::new(&thursday(), start, 1),
            Some(T0),
        )
        .await
        .expect("add");
    let platforms = vec!["discord".to_string()];
    let (a, b) = tokio::join!(
        first
            .peer()
            .claim_due_rounds("a", &platforms, T0, 60_000, 10),
        second
            .peer()
            .claim_due_rounds("b", &platforms, T0, 60_000, 10),
    );
    let claimed = a.expect("a").len() + b.expect("b").len();
    assert_eq!(claimed, 1, "one instance fires the round");
    // Claimed and never released (the instance died): free again once the lease ends.
    assert!(
        second
            .peer()
            .claim_due_rounds("b", &platforms, T0 + 30 * S, 60_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let taken = second
        .peer()
        .claim_due_rounds("b", &platforms, T0 + 61 * S, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].id, round.id);
    second
        .peer()
        .release_round(round.id, "b")
        .await
        .expect("release");
    assert_eq!(
        first
            .peer()
            .claim_due_rounds("a", &platforms, T0 + 62 * S, 60_000, 10)
            .await
            .expect("claim")
            .len(),
        1
    );
}

pub(super) async fn a_restart_mid_round_loses_nobody(db: &TestDb) {
    let ws = discord("G1");
    let (schedule, round) = {
        let store = db.open().await;
        let peer = store.peer();
        let schedule = peer
            .create_schedule(&ws, "C1", &thursday(), T0)
            .await
            .expect("create");
        for who in ["ana", "bo", "cy"] {
            peer.opt_in(schedule.id, &member(who), &Entry::peer(who), T0)
                .await
                .expect("opt in");
        }
        let start = thursday().next_start(utc(T0));
        let stored = peer
            .add_round(
                schedule.id,
                &ScheduledRound::new(&thursday(), start, 3),
                Some(T0),
            )
            .await
            .expect("add");
        let opted: Vec<Entry> = peer
            .opted_in(schedule.id)
            .await
            .expect("opted")
            .into_iter()
            .map(|w| w.entry)
            .collect();
        let history = History::new();
        let roster = Roster {
            opted_in: &opted,
            history: &history,
        };
        let mut open = stored.round.clone();
        open.handle(RoundEvent::Tick, start, &roster);
        open.handle(
            RoundEvent::Posted {
                member: "ana".into(),
            },
            start,
            &roster,
        );
        peer.update_round(
            stored.id,
            stored.version,
            &open,
            Some(start.timestamp_millis() + 600_000),
        )
        .await
        .expect("open");
        (schedule, open)
    };
    // Another process opens the same database.
    let store = db.open().await;
    let peer = store.peer();
    let back = peer.rounds_of(schedule.id).await.expect("rounds");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].round, round, "the state machine is as it was left");
    assert_eq!(back[0].round.phase(), RoundPhase::Open);
    let grouped: Vec<&str> = back[0]
        .round
        .groups()
        .iter()
        .flat_map(Group::members)
        .collect();
    assert_eq!(
        grouped.len(),
        3,
        "everyone is still in a group: {grouped:?}"
    );
    assert_eq!(peer.opted_in(schedule.id).await.expect("opted").len(), 3);
}

pub(super) async fn ratings_are_kept_one_per_rater_and_replaced(db: &TestDb) {
    let store = db.open().await;
    let engine = spar::engine::Engine::new(store.clone(), "a", &["discord"]);
    let drill = engine
        .start_drill(&new_drill("ana", T0))
        .await
        .expect("drill")
        .id;
    let rating = |who: &str, role: Role, score: u8, sentence: Option<&str>| StoredRating {
        rater: member(who),
        role,
        scores: vec![("composure".into(), score), ("curiosity".into(), 1)],
        sentence: sentence.map(str::to_string),
        at: T0,
    };
    let peer = store.peer();
    peer.save_rating(&drill, &rating("bo", Role::Antagonist, 3, Some("Calm.")))
        .await
        .expect("rate");
    peer.save_rating(&drill, &rating("ana", Role::Candidate, 2, None))
        .await
        .expect("rate");
    peer.save_rating(
        &drill,
        &rating("bo", Role::Antagonist, 4, Some("Very calm.")),
    )
    .await
    .expect("rate again");
    let kept = peer.ratings(&drill).await.expect("ratings");
    assert_eq!(kept.len(), 2);
    assert_eq!(
        kept[0],
        rating("bo", Role::Antagonist, 4, Some("Very calm."))
    );
    assert_eq!(kept[1], rating("ana", Role::Candidate, 2, None));
    assert!(
        peer.ratings(&DrillId("none".into()))
            .await
            .expect("none")
            .is_empty()
    );
}
