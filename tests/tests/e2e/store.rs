//! The store's guarantees, proven on both backends: turns are appended once and in order,
//! a restart loses nothing, a redelivered event is applied once, two engines on one
//! database never both fire a timer, both apply an event or both ask for a reply owed
//! after a restart, and forgetting a person leaves nothing of theirs. Every test runs
//! against a fresh SQLite file and a fresh PostgreSQL database (`SPAR_TEST_POSTGRES_URL`;
//! skipped, with a note, when unset).

use spar::engine::{DrillEffects, Engine, Sender};
use spar_core::drill::{DrillSettings, Effect, Event, Mode, Phase};
use spar_core::store::*;
use spar_core::{Difficulty, Role, Turn};
use sqlx::AssertSqlSafe;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Barrier;

mod chat;
mod interleave;
mod operations;
mod peer;
mod plans;
use chat::*;
use interleave::Interleaved;
use operations::*;
use peer::*;

const T0: i64 = 1_800_000_000_000;
const S: i64 = 1000;

enum Backend {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

/// A fresh database for one test, removed when the test ends.
pub struct TestDb {
    pub url: String,
    backend: Backend,
}

impl TestDb {
    pub(crate) async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = spar::store::sqlite_url(&dir.path().join("spar.db"));
        TestDb {
            url,
            backend: Backend::Sqlite(dir),
        }
    }

    /// A new database on the server named by `SPAR_TEST_POSTGRES_URL`, or `None` (with a
    /// note on stdout) when the variable is unset. Set but unreachable fails the test.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("SPAR_TEST_POSTGRES_URL") else {
            println!("skipped: SPAR_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("spar_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("SPAR_TEST_POSTGRES_URL is set but unreachable: {e}"));
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&admin)
            .await
            .expect("creating the test database");
        admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        Some(TestDb {
            url: format!("{base}/{name}"),
            backend: Backend::Postgres { admin_url, name },
        })
    }

    /// Opens the store as a bot process would; call again to simulate a restart or a
    /// second instance.
    pub(crate) async fn open(&self) -> Arc<dyn Store> {
        spar::store::open(Some(&self.url))
            .await
            .expect("opening the store")
    }

    /// Makes the database refuse any workspace setting drills to start in `channel`, with
    /// a trigger the store knows nothing of: a way to make a store write fail midway.
    pub(crate) async fn refuse_drill_channel(&self, channel: &str) {
        // The channel is the test's own constant, quoted as SQL text.
        let channel = channel.replace('\'', "''");
        match self.backend {
            Backend::Sqlite(_) => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.expect("sqlite");
                sqlx::query(AssertSqlSafe(format!(
                    "CREATE TRIGGER refuse_channel BEFORE UPDATE ON workspaces \
                     WHEN NEW.drill_channel = '{channel}' \
                     BEGIN SELECT RAISE(ABORT, 'this channel is refused'); END"
                )))
                .execute(&pool)
                .await
                .expect("a trigger");
                pool.close().await;
            }
            Backend::Postgres { .. } => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("postgres");
                for statement in [
                    format!(
                        "CREATE FUNCTION refuse_channel() RETURNS trigger AS $$ BEGIN \
                         IF NEW.drill_channel = '{channel}' THEN \
                         RAISE EXCEPTION 'this channel is refused'; END IF; \
                         RETURN NEW; END $$ LANGUAGE plpgsql"
                    ),
                    "CREATE TRIGGER refuse_channel BEFORE UPDATE ON workspaces \
                     FOR EACH ROW EXECUTE FUNCTION refuse_channel()"
                        .to_string(),
                ] {
                    sqlx::query(AssertSqlSafe(statement))
                        .execute(&pool)
                        .await
                        .expect("a trigger");
                }
                pool.close().await;
            }
        }
    }

    /// Counts rows with raw SQL, bypassing the store, to see what is really kept.
    async fn count(&self, sql: &'static str, bind: &str) -> i64 {
        match self.backend {
            Backend::Sqlite(_) => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.expect("sqlite");
                let n = sqlx::query_scalar(sql)
                    .bind(bind)
                    .fetch_one(&pool)
                    .await
                    .expect(sql);
                pool.close().await;
                n
            }
            Backend::Postgres { .. } => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("postgres");
                let n = sqlx::query_scalar(sql)
                    .bind(bind)
                    .fetch_one(&pool)
                    .await
                    .expect(sql);
                pool.close().await;
                n
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Backend::Postgres { admin_url, name } = &self.backend else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot block on itself.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Runtime::new() else {
                return;
            };
            runtime.block_on(async {
                if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
                    let _ = sqlx::query(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Runs each named test body against SQLite and PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_turn_appended_twice_is_stored_once_and_turns_keep_their_order,
    a_different_turn_at_a_stored_index_or_a_gap_is_a_conflict,
    a_phase_change_from_a_stale_version_is_a_conflict,
    a_candidate_turn_is_committed_before_the_antagonist_is_asked,
    after_a_restart_live_drills_come_back_with_their_turns_and_a_rearmed_timer,
    a_redelivered_event_is_applied_once,
    two_engines_racing_the_same_event_apply_it_once,
    two_engines_racing_different_events_lose_no_turn,
    two_engines_answering_the_same_turn_store_one_reply,
    two_engines_firing_due_timers_fire_each_drill_once,
    a_claimed_timer_is_taken_over_only_after_its_lease_expires,
    a_recovery_claim_is_taken_over_only_after_its_lease_expires,
    two_instances_recovering_together_ask_for_each_owed_reply_once,
    a_second_recovery_within_the_lease_asks_for_nothing,
    a_recovery_whose_instance_crashed_is_taken_over_once_its_lease_expires,
    an_instance_starting_while_a_reply_is_in_flight_leaves_it_to_the_asker,
    a_recovery_that_loses_a_race_to_a_candidate_turn_leaves_the_reply_to_whoever_asked,
    a_recovery_that_loses_a_race_to_a_reply_and_a_new_turn_leaves_the_new_reply_to_whoever_asked,
    a_recovery_that_loses_a_race_still_asks_for_the_reply_nobody_else_asked_for,
    a_recovery_that_loses_a_race_to_the_deadline_leaves_the_debrief_to_whoever_ended_it,
    a_recovery_that_loses_a_race_still_debriefs_a_drill_that_ended_before_its_claim,
    a_timer_that_fired_moves_to_the_next_warning_and_clears_when_the_drill_ends,
    forgetting_a_person_leaves_nothing_of_theirs,
    history_lists_drills_newest_first_with_scores_flags_and_tokens,
    scores_come_back_oldest_first_with_their_dimensions,
    an_export_can_be_read_back_as_a_transcript,
    a_redelivered_platform_event_id_is_recognised,
    a_chat_drill_is_found_by_its_thread_and_by_its_candidate,
    a_members_drills_are_counted_for_the_daily_limit,
    a_workspace_keeps_what_its_admins_chose,
    a_workspaces_tokens_and_drills_are_counted_per_utc_day_with_its_budget,
    a_stranger_cannot_speak_in_a_drill_and_two_observers_stay_two_people,
    a_person_cannot_speak_for_the_engines_antagonist,
    an_instance_takes_on_only_the_drills_of_the_platforms_it_serves,
    a_drill_failing_in_a_sweep_costs_the_others_nothing,
    a_channels_queue_keeps_join_order_wishes_and_leavers,
    a_pairing_takes_its_members_from_the_queue_at_once_or_not_at_all,
    schedules_keep_opt_ins_and_one_round_per_start,
    two_instances_claiming_due_rounds_fire_each_once,
    a_restart_mid_round_loses_nobody,
    ratings_are_kept_one_per_rater_and_replaced,
    a_stopping_instance_hands_its_drills_over_at_once,
    a_released_instance_leaves_other_instances_claims_alone,
    processed_event_ids_older_than_the_retention_are_pruned,
    unfinished_drills_are_counted_by_phase,
    a_message_finds_its_drill_whole_in_one_operation,
    the_drill_a_commit_leaves_is_the_drill_the_store_then_loads,
);

/// The platforms the store tests' drills are on.
fn terminal() -> Vec<String> {
    vec!["terminal".to_string()]
}

fn person(id: &str) -> PersonRef {
    PersonRef {
        platform: "terminal".into(),
        platform_user_id: id.into(),
        display_name: id.into(),
    }
}

fn new_drill(candidate: &str, created_at: i64) -> NewDrill {
    NewDrill {
        id: DrillId(uuid::Uuid::new_v4().to_string()),
        workspace: WorkspaceRef::terminal(),
        settings: DrillSettings {
            scenario_id: "latency-regression".into(),
            difficulty: Difficulty::Standard,
            mode: Mode::Solo,
            time_limit_s: 480,
            max_turns: 40,
        },
        seed: Some(7),
        created_at,
        participants: vec![Participant {
            person: person(candidate),
            role: Role::Candidate,
        }],
        place: None,
    }
}

fn turn(index: usize, role: Role, at_s: f64, text: &str) -> StoredTurn {
    StoredTurn {
        index,
        turn: Turn {
            role,
            at_s,
            text: text.into(),
            cut_off: false,
        },
        author: None,
    }
}

fn scorecard(overall: u8, flags: &[&str], curiosity: u8) -> StoredScorecard {
    StoredScorecard::from_json(serde_json::json!({
        "overall": overall,
        "flags": flags.iter().enumerate().map(|(i, k)| serde_json::json!({
            "kind": k, "turn": i + 2, "at_s": 10.0 * (i as f64 + 1.0),
            "quote": "q", "why": "w", "try_instead": "t"
        })).collect::<Vec<_>>(),
        "dimensions": [
            {"name": "curiosity", "score": curiosity, "evidence": "asked why"},
            {"name": "composure", "score": 2, "evidence": "calm"}
        ],
        "strengths": ["stayed on the data"],
        "summary": "Held the line.",
        "notes": []
    }))
    .expect("a valid scorecard")
}

/// A drill started at T0 with the antagonist's opening line stored.
async fn live_drill(engine: &Engine, candidate: &str) -> DrillId {
    let drill = engine
        .start_drill(&new_drill(candidate, T0 - 60 * S))
        .await
        .expect("create");
    engine
        .handle(&drill.id, None, Sender::System, Event::Start, T0)
        .await
        .expect("start");
    engine
        .handle(
            &drill.id,
            None,
            Sender::System,
            Event::AntagonistSaid("The date holds.".into()),
            T0 + 2 * S,
        )
        .await
        .expect("opener");
    drill.id
}

fn asks(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| **e == Effect::AskAntagonist)
        .count()
}

async fn a_turn_appended_twice_is_stored_once_and_turns_keep_their_order(db: &TestDb) {
    let store = db.open().await;
    let drill = store
        .create_drill(&new_drill("ana", T0))
        .await
        .expect("create");
    let first = turn(0, Role::Antagonist, 0.0, "It ships Friday.");
    let second = turn(1, Role::Candidate, 12.5, "What drives the date?");
    store.append_turn(&drill.id, &first).await.expect("first");
    store.append_turn(&drill.id, &second).await.expect("second");
    store
        .append_turn(&drill.id, &first)
        .await
        .expect("the same turn again is a no-op");
    let loaded = store.load_drill(&drill.id).await.expect("load");
    assert_eq!(loaded.turns, vec![first, second]);
}

async fn a_different_turn_at_a_stored_index_or_a_gap_is_a_conflict(db: &TestDb) {
    let store = db.open().await;
    let drill = store
        .create_drill(&new_drill("ana", T0))
        .await
        .expect("create");
    store
        .append_turn(&drill.id, &turn(0, Role::Antagonist, 0.0, "It ships."))
        .await
        .expect("first");
    let changed = store
        .append_turn(&drill.id, &turn(0, Role::Antagonist, 0.0, "It slips."))
        .await;
    assert!(
        matches!(changed, Err(StoreError::Conflict(_))),
        "{changed:?}"
    );
    let gap = store
        .append_turn(&drill.id, &turn(3, Role::Candidate, 5.0, "skipped ahead"))
        .await;
    assert!(matches!(gap, Err(StoreError::Conflict(_))), "{gap:?}");
    assert_eq!(
        store.load_drill(&drill.id).await.expect("load").turns.len(),
        1
    );
}

async fn a_phase_change_from_a_stale_version_is_a_conflict(db: &TestDb) {
    let store = db.open().await;
    let drill = store
        .create_drill(&new_drill("ana", T0))
        .await
        .expect("create");
    let version = store
        .set_phase(&drill.id, Phase::Live, Some(T0), drill.version)
        .await
        .expect("first change");
    assert_eq!(version, drill.version + 1);
    let stale = store
        .set_phase(&drill.id, Phase::Abandoned, None, drill.version)
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let loaded = store.load_drill(&drill.id).await.expect("load");
    assert_eq!(loaded.record.phase, Phase::Live);
    assert_eq!(loaded.record.ends_at, Some(T0 + 480 * S));
}

async fn a_candidate_turn_is_committed_before_the_antagonist_is_asked(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["terminal"]);
    let drill = live_drill(&engine, "ana").await;
    let effects = engine
        .handle(
            &drill,
            Some("m1"),
            Sender::System,
            Event::CandidateSaid("What drives the date?".into()),
            T0 + 10 * S,
        )
        .await
        .expect("say");
    assert_eq!(asks(&effects), 1);
    // By the time the adapter sees AskAntagonist, another process can read the turn.
    let other = db.open().await;
    let loaded = other.load_drill(&drill).await.expect("load");
    let last = loaded.turns.last().expect("a turn");
    assert_eq!(
        (last.turn.role, last.turn.text.as_str()),
        (Role::Candidate, "What drives the date?")
    );
    assert!(
        last.author.is_some(),
        "the candidate's turn names its author"
    );
}

async fn after_a_restart_live_drills_come_back_with_their_turns_and_a_rearmed_timer(db: &TestDb) {
    let drill = {
        let engine = Engine::new(db.open().await, "before", &["terminal"]);
        let drill = live_drill(&engine, "ana").await;
        engine
            .handle(
                &drill,
                Some("m1"),
                Sender::System,
                Event::CandidateSaid("Can we look at p99?".into()),
                T0 + 10 * S,
            )
            .await
            .expect("say");
        drill
        // The process dies here, with the antagonist's reply still owed.
    };
    let engine = Engine::new(db.open().await, "after", &["terminal"]);
    let recovered = engine.recover(T0 + 400 * S).await.expect("recover").drills;
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].drill, drill);
    assert_eq!(
        asks(&recovered[0].effects),
        1,
        "the reply owed is asked for"
    );
    assert!(
        recovered[0].effects.contains(&Effect::ArmTimer {
            at: 1_800_000_450_000
        }),
        "the timer is re-armed at the thirty-second warning: {:?}",
        recovered[0].effects
    );
    let loaded = engine.store().load_drill(&drill).await.expect("load");
    assert_eq!(loaded.record.next_due_at, Some(T0 + 450 * S));
    assert_eq!(loaded.record.phase, Phase::Live);
    let texts: Vec<_> = loaded.turns.iter().map(|t| t.turn.text.as_str()).collect();
    assert_eq!(texts, vec!["The date holds.", "Can we look at p99?"]);
    // The platform redelivers the message it never saw acknowledged.
    let again = engine
        .handle(
            &drill,
            Some("m1"),
            Sender::System,
            Event::CandidateSaid("Can we look at p99?".into()),
            T0 + 401 * S,
        )
        .await
        .expect("redelivery");
    assert!(again.is_empty());
    assert_eq!(
        engine
            .store()
            .load_drill(&drill)
            .await
            .expect("load")
            .turns
            .len(),
        2,
        "nothing duplicated"
    );
}

async fn a_redelivered_event_is_applied_once(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["terminal"]);
    let drill = live_drill(&engine, "ana").await;
    let say = || Event::CandidateSaid("Which customers see it?".into());
    let first = engine
        .handle(&drill, Some("evt-1"), Sender::System, say(), T0 + 10 * S)
        .await
        .expect("first");
    let second = engine
        .handle(&drill, Some("evt-1"), Sender::System, say(), T0 + 11 * S)
        .await
        .expect("second");
    assert_eq!(asks(&first), 1);
    assert!(second.is_empty());
    let loaded = engine.store().load_drill(&drill).await.expect("load");
    assert_eq!(loaded.turns.len(), 2);
}

async fn two_engines_racing_the_same_event_apply_it_once(db: &TestDb) {
    let a = Arc::new(Engine::new(db.open().await, "a", &["terminal"]));
    let b = Arc::new(Engine::new(db.open().await, "b", &["terminal"]));
    for round in 0..5 {
        let drill = live_drill(&a, "ana").await;
        let barrier = Arc::new(Barrier::new(2));
        let event_id = format!("evt-{round}");
        let tasks = [a.clone(), b.clone()].map(|engine| {
            let (barrier, drill, event_id) = (barrier.clone(), drill.clone(), event_id.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                engine
                    .handle(
                        &drill,
                        Some(&event_id),
                        Sender::System,
                        Event::CandidateSaid("Where does the p99 come from?".into()),
                        T0 + 10 * S,
                    )
                    .await
            })
        });
        let mut asked = 0;
        for task in tasks {
            asked += asks(&task.await.expect("task").expect("handle"));
        }
        assert_eq!(asked, 1, "exactly one engine asks for the reply");
        let loaded = a.store().load_drill(&drill).await.expect("load");
        assert_eq!(loaded.turns.len(), 2, "the turn is stored once");
        assert_eq!(
            loaded.record.version, 3,
            "created, started, opener, one event"
        );
    }
}

async fn two_engines_answering_the_same_turn_store_one_reply(db: &TestDb) {
    let a = Arc::new(Engine::new(db.open().await, "a", &["terminal"]));
    let b = Arc::new(Engine::new(db.open().await, "b", &["terminal"]));
    for round in 0..5 {
        let drill = live_drill(&a, "ana").await;
        a.handle(
            &drill,
            None,
            Sender::System,
            Event::CandidateSaid("Which batch size?".into()),
            T0 + 10 * S,
        )
        .await
        .expect("candidate turn");
        // Both instances believe they owe the reply (say both recovered the drill after a
        // restart) and deliver different lines, as separate platform events.
        let barrier = Arc::new(Barrier::new(2));
        let tasks = [("a", a.clone()), ("b", b.clone())].map(|(name, engine)| {
            let (barrier, drill) = (barrier.clone(), drill.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                engine
                    .handle(
                        &drill,
                        Some(&format!("reply-{round}-{name}")),
                        Sender::System,
                        Event::AntagonistSaid(format!("Reply from {name}.")),
                        T0 + 12 * S,
                    )
                    .await
            })
        });
        for task in tasks {
            task.await.expect("task").expect("handle");
        }
        let loaded = a.store().load_drill(&drill).await.expect("load");
        let replies = loaded
            .turns
            .iter()
            .filter(|t| t.turn.role == Role::Antagonist)
            .count();
        assert_eq!(
            replies, 2,
            "the opener and exactly one reply to the candidate's turn"
        );
    }
}

async fn two_engines_racing_different_events_lose_no_turn(db: &TestDb) {
    let a = Arc::new(Engine::new(db.open().await, "a", &["terminal"]));
    let b = Arc::new(Engine::new(db.open().await, "b", &["terminal"]));
    let drill = live_drill(&a, "ana").await;
    let barrier = Arc::new(Barrier::new(2));
    let tasks = [("a", a.clone()), ("b", b.clone())].map(|(name, engine)| {
        let (barrier, drill) = (barrier.clone(), drill.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            let mut asked = 0;
            for i in 0..5 {
                let effects = engine
                    .handle(
                        &drill,
                        Some(&format!("{name}-{i}")),
                        Sender::System,
                        Event::CandidateSaid(format!("{name} says {i}")),
                        T0 + 10 * S,
                    )
                    .await
                    .expect("handle");
                asked += asks(&effects);
            }
            asked
        })
    });
    let mut asked = 0;
    for task in tasks {
        asked += task.await.expect("task");
    }
    assert_eq!(asked, 1, "one reply is owed for the whole run of turns");
    let loaded = a.store().load_drill(&drill).await.expect("load");
    assert_eq!(loaded.turns.len(), 11);
    let indexes: Vec<usize> = loaded.turns.iter().map(|t| t.index).collect();
    assert_eq!(indexes, (0..11).collect::<Vec<_>>());
}

async fn two_engines_firing_due_timers_fire_each_drill_once(db: &TestDb) {
    let a = Arc::new(Engine::new(db.open().await, "a", &["terminal"]));
    let b = Arc::new(Engine::new(db.open().await, "b", &["terminal"]));
    let mut drills = Vec::new();
    for _ in 0..8 {
        drills.push(live_drill(&a, "ana").await);
    }
    let due = T0 + 360 * S;
    let barrier = Arc::new(Barrier::new(2));
    let tasks = [a.clone(), b.clone()].map(|engine| {
        let barrier = barrier.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            engine.fire_due_timers(due).await
        })
    });
    let mut fired = Vec::new();
    for task in tasks {
        fired.extend(task.await.expect("task").expect("fire").drills);
    }
    let mut ids: Vec<_> = fired.iter().map(|f| f.drill.clone()).collect();
    ids.sort();
    let mut expected = drills.clone();
    expected.sort();
    assert_eq!(ids, expected, "every drill fired, none twice");
    for f in &fired {
        assert!(
            f.effects.iter().any(|e| matches!(e, Effect::Notify(_))),
            "the two-minute warning is given: {:?}",
            f.effects
        );
    }
    assert!(
        a.fire_due_timers(due)
            .await
            .expect("again")
            .drills
            .is_empty()
    );
    assert!(
        b.fire_due_timers(due)
            .await
            .expect("again")
            .drills
            .is_empty()
    );
}

async fn a_claimed_timer_is_taken_over_only_after_its_lease_expires(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["terminal"]);
    let drill = live_drill(&engine, "ana").await;
    let store = engine.store();
    let due = T0 + 360 * S;
    let claimed = store
        .claim_due_timers("crashed", &terminal(), due, 30 * S, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .claim_due_timers("other", &terminal(), due + S, 30 * S, 10)
            .await
            .expect("claim")
            .is_empty(),
        "a live claim is respected"
    );
    let taken = store
        .claim_due_timers("other", &terminal(), due + 30 * S, 30 * S, 10)
        .await
        .expect("claim");
    assert_eq!(taken, vec![DueTimer { drill, due_at: due }]);
}

async fn a_recovery_claim_is_taken_over_only_after_its_lease_expires(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["terminal"])
        // Its own requests (the opener) claim nothing, so the claims below start free.
        .with_recovery_lease(Duration::ZERO);
    let drill = live_drill(&engine, "ana").await;
    let store = engine.store();
    let claim = |owner: &'static str, now: i64| {
        let drill = drill.clone();
        async move {
            store
                .claim_recovery(&drill, owner, now, 30 * S)
                .await
                .expect("claim")
        }
    };
    assert!(claim("crashed", T0).await, "an unclaimed drill is claimed");
    assert!(
        !claim("other", T0 + 29 * S).await,
        "a live claim is respected"
    );
    assert!(
        !claim("crashed", T0 + 29 * S).await,
        "even by its own holder, so one instance recovering twice asks once"
    );
    assert!(
        claim("other", T0 + 30 * S).await,
        "an expired claim is taken over"
    );
    assert!(
        !claim("crashed", T0 + 31 * S).await,
        "and is then the new holder's"
    );
    let missing = store
        .claim_recovery(&DrillId("no-such-drill".into()), "other", T0, 30 * S)
        .await
        .expect("claim");
    assert!(!missing, "a missing drill is never claimed");
}

/// A live drill whose candidate spoke at 0:10 and whose instance died before asking the
/// antagonist for the reply, or before it came.
async fn drill_owed_a_reply(db: &TestDb) -> DrillId {
    // Asking took the recovery claim until 0:15; the recoveries below all come later.
    let crashed = Engine::new(db.open().await, "crashed", &["terminal"])
        .with_recovery_lease(Duration::from_secs(5));
    let drill = live_drill(&crashed, "ana").await;
    let effects = crashed
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
    drill
}

/// How many times `recovered` asks for `drill`'s reply.
fn asks_for(recovered: &[DrillEffects], drill: &DrillId) -> usize {
    recovered
        .iter()
        .filter(|r| r.drill == *drill)
        .map(|r| asks(&r.effects))
        .sum()
}

fn debriefs(effects: &[Effect]) -> usize {
    effects.iter().filter(|e| **e == Effect::Debrief).count()
}

async fn two_instances_recovering_together_ask_for_each_owed_reply_once(db: &TestDb) {
    let mut drills = Vec::new();
    for _ in 0..5 {
        drills.push(drill_owed_a_reply(db).await);
    }
    // A rolling deploy: two instances, each with its own connections, start at once.
    let a = Engine::new(db.open().await, "a", &["terminal"]);
    let b = Engine::new(db.open().await, "b", &["terminal"]);
    let (from_a, from_b) = tokio::join!(a.recover(T0 + 60 * S), b.recover(T0 + 60 * S));
    let recovered: Vec<DrillEffects> = from_a
        .expect("a recovers")
        .drills
        .into_iter()
        .chain(from_b.expect("b recovers").drills)
        .collect();
    for drill in &drills {
        assert_eq!(
            asks_for(&recovered, drill),
            1,
            "exactly one instance asks for drill {drill}'s reply: {recovered:?}"
        );
    }
}

async fn a_second_recovery_within_the_lease_asks_for_nothing(db: &TestDb) {
    let drill = drill_owed_a_reply(db).await;
    let first = Engine::new(db.open().await, "first", &["terminal"]);
    let recovered = first.recover(T0 + 60 * S).await.expect("recover").drills;
    assert_eq!(
        asks_for(&recovered, &drill),
        1,
        "the reply owed is asked for"
    );
    // Another instance starts a few seconds later, while the reply is still coming.
    let second = Engine::new(db.open().await, "second", &["terminal"]);
    let recovered = second.recover(T0 + 65 * S).await.expect("recover").drills;
    assert_eq!(asks_for(&recovered, &drill), 0, "{recovered:?}");
    // Nor does the first instance ask again if it recovers once more.
    let recovered = first.recover(T0 + 66 * S).await.expect("recover").drills;
    assert_eq!(asks_for(&recovered, &drill), 0, "{recovered:?}");
    // The reply arrives and is kept: the drill moved on in the meantime.
    first
        .handle(
            &drill,
            Some("reply-1"),
            Sender::System,
            Event::AntagonistSaid("Mostly the EU tenants.".into()),
            T0 + 70 * S,
        )
        .await
        .expect("reply");
    let loaded = first.store().load_drill(&drill).await.expect("load");
    assert_eq!(loaded.turns.len(), 3);
}

async fn an_instance_starting_while_a_reply_is_in_flight_leaves_it_to_the_asker(db: &TestDb) {
    let live = Engine::new(db.open().await, "live", &["terminal"]);
    let drill = live_drill(&live, "ana").await;
    let effects = live
        .handle(
            &drill,
            Some(&format!("m1-{drill}")),
            Sender::System,
            Event::CandidateSaid("Which customers see the p99?".into()),
            T0 + 10 * S,
        )
        .await
        .expect("say");
    assert_eq!(asks(&effects), 1, "the live instance asks for the reply");
    // Another instance starts two seconds later, while that reply is being written.
    let starting = Engine::new(db.open().await, "starting", &["terminal"]);
    let recovered = starting.recover(T0 + 12 * S).await.expect("recover").drills;
    assert_eq!(asks_for(&recovered, &drill), 0, "{recovered:?}");
    // Had the live instance died with the request, the reply is asked for once its
    // claim runs out.
    let lease = i64::try_from(spar::engine::RECOVERY_LEASE.as_millis()).expect("fits");
    let recovered = starting
        .recover(T0 + 10 * S + lease)
        .await
        .expect("recover")
        .drills;
    assert_eq!(asks_for(&recovered, &drill), 1, "{recovered:?}");
}

async fn a_recovery_whose_instance_crashed_is_taken_over_once_its_lease_expires(db: &TestDb) {
    let drill = drill_owed_a_reply(db).await;
    let lease = Duration::from_secs(60);
    let first = Engine::new(db.open().await, "first", &["terminal"]).with_recovery_lease(lease);
    let recovered = first.recover(T0 + 20 * S).await.expect("recover").drills;
    assert_eq!(asks_for(&recovered, &drill), 1);
    // The first instance dies before the reply comes; the next one must not wait forever.
    let next = Engine::new(db.open().await, "next", &["terminal"]).with_recovery_lease(lease);
    let recovered = next.recover(T0 + 80 * S - 1).await.expect("recover").drills;
    assert_eq!(asks_for(&recovered, &drill), 0, "the lease still runs");
    let recovered = next.recover(T0 + 80 * S).await.expect("recover").drills;
    assert_eq!(
        asks_for(&recovered, &drill),
        1,
        "the lease ran out, so the reply is asked for again"
    );
}

/// Recovers every drill at `now` through a store on which `race` (another instance, live
/// all along) runs between recovery's load and its first commit, so that commit meets a
/// conflict and recovery retries on what the race left. Returns what recovery returned
/// and what the race did.
async fn recover_losing_a_race<T, F>(
    db: &TestDb,
    now: i64,
    race: impl FnOnce(Arc<Engine>) -> F + Send + 'static,
) -> (Vec<DrillEffects>, T)
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let live = Arc::new(Engine::new(db.open().await, "live", &["terminal"]));
    let raced = Arc::new(Mutex::new(None));
    let store = Interleaved::new(db.open().await, {
        let raced = raced.clone();
        move || async move {
            let outcome = race(live).await;
            *raced.lock().expect("lock") = Some(outcome);
        }
    });
    let recovering = Engine::new(Arc::new(store), "recovering", &["terminal"]);
    let recovered = recovering.recover(now).await.expect("recover").drills;
    let raced = raced
        .lock()
        .expect("lock")
        .take()
        .expect("the race ran before recovery's commit");
    (recovered, raced)
}

async fn a_recovery_that_loses_a_race_to_a_candidate_turn_leaves_the_reply_to_whoever_asked(
    db: &TestDb,
) {
    let setup = Engine::new(db.open().await, "setup", &["terminal"])
        // Its own requests (the opener) claim nothing, so the claims below start free.
        .with_recovery_lease(Duration::ZERO);
    // The antagonist spoke last, so no reply is owed when recovery claims the drill.
    let drill = live_drill(&setup, "ana").await;
    let (recovered, theirs) = recover_losing_a_race(db, T0 + 31 * S, {
        let drill = drill.clone();
        // The candidate speaks; the live instance takes the turn and asks for the reply.
        move |live| async move {
            live.handle(
                &drill,
                Some("m1"),
                Sender::System,
                Event::CandidateSaid("What does the trace say?".into()),
                T0 + 30 * S,
            )
            .await
            .expect("the candidate's turn")
        }
    })
    .await;
    assert_eq!(asks(&theirs), 1, "the live instance asked for the reply");
    assert_eq!(
        asks_for(&recovered, &drill),
        0,
        "recovery, retried after the conflict, does not ask again: {recovered:?}"
    );
    assert!(
        recovered.iter().any(|r| r.drill == drill),
        "recovery still completed: {recovered:?}"
    );
}

async fn a_recovery_that_loses_a_race_to_a_reply_and_a_new_turn_leaves_the_new_reply_to_whoever_asked(
    db: &TestDb,
) {
    let drill = drill_owed_a_reply(db).await;
    let (recovered, theirs) = recover_losing_a_race(db, T0 + 31 * S, {
        let drill = drill.clone();
        // The owed reply arrives after all, the candidate answers it, and the live
        // instance asks for the next reply.
        move |live| async move {
            live.handle(
                &drill,
                Some("r1"),
                Sender::System,
                Event::AntagonistSaid("Mostly the EU tenants.".into()),
                T0 + 20 * S,
            )
            .await
            .expect("the reply");
            live.handle(
                &drill,
                Some("m2"),
                Sender::System,
                Event::CandidateSaid("Since when?".into()),
                T0 + 30 * S,
            )
            .await
            .expect("the candidate's turn")
        }
    })
    .await;
    assert_eq!(
        asks(&theirs),
        1,
        "the live instance asked for the new reply"
    );
    assert_eq!(
        asks_for(&recovered, &drill),
        0,
        "the reply recovery claimed was given, so it asks for none: {recovered:?}"
    );
}

async fn a_recovery_that_loses_a_race_still_asks_for_the_reply_nobody_else_asked_for(db: &TestDb) {
    let drill = drill_owed_a_reply(db).await;
    let (recovered, theirs) = recover_losing_a_race(db, T0 + 31 * S, {
        let drill = drill.clone();
        // The candidate speaks again while the reply is owed; with a reply pending, the
        // live instance asks for none.
        move |live| async move {
            live.handle(
                &drill,
                Some("m2"),
                Sender::System,
                Event::CandidateSaid("Hello?".into()),
                T0 + 30 * S,
            )
            .await
            .expect("the candidate's turn")
        }
    })
    .await;
    assert_eq!(asks(&theirs), 0, "the live instance asked for nothing");
    assert_eq!(
        asks_for(&recovered, &drill),
        1,
        "so recovery asks, or the drill would wait forever: {recovered:?}"
    );
    let loaded = db.open().await.load_drill(&drill).await.expect("load");
    assert_eq!(loaded.turns.len(), 3, "the opener and both candidate turns");
}

async fn a_recovery_that_loses_a_race_to_the_deadline_leaves_the_debrief_to_whoever_ended_it(
    db: &TestDb,
) {
    let drill = drill_owed_a_reply(db).await;
    let deadline = T0 + 480 * S;
    let (recovered, theirs) = recover_losing_a_race(db, deadline, move |live| async move {
        // The live instance's timer fires at the deadline and ends the drill first.
        live.fire_due_timers(deadline).await.expect("fire").drills
    })
    .await;
    let theirs: usize = theirs
        .iter()
        .filter(|f| f.drill == drill)
        .map(|f| debriefs(&f.effects))
        .sum();
    assert_eq!(theirs, 1, "the instance that ended the drill debriefs it");
    let ours: usize = recovered
        .iter()
        .filter(|r| r.drill == drill)
        .map(|r| debriefs(&r.effects))
        .sum();
    assert_eq!(ours, 0, "recovery does not debrief it again: {recovered:?}");
    let loaded = db.open().await.load_drill(&drill).await.expect("load");
    assert_eq!(loaded.record.phase, Phase::WrapUp);
}

async fn a_recovery_that_loses_a_race_still_debriefs_a_drill_that_ended_before_its_claim(
    db: &TestDb,
) {
    let drill = drill_owed_a_reply(db).await;
    // Ending it claimed the drill until 0:25, for the debrief that never came.
    let crashed = Engine::new(db.open().await, "crashed", &["terminal"])
        .with_recovery_lease(Duration::from_secs(5));
    let ended = crashed
        .handle(&drill, Some("end"), Sender::System, Event::End, T0 + 20 * S)
        .await
        .expect("end");
    // The instance that ended the drill died before debriefing it.
    assert_eq!(debriefs(&ended), 1);
    let (recovered, theirs) = recover_losing_a_race(db, T0 + 60 * S, {
        let drill = drill.clone();
        // A late message is refused, which still moves the drill's version on.
        move |live| async move {
            live.handle(
                &drill,
                Some("late"),
                Sender::System,
                Event::CandidateSaid("One more thing.".into()),
                T0 + 30 * S,
            )
            .await
            .expect("the late message")
        }
    })
    .await;
    assert_eq!(debriefs(&theirs), 0);
    let ours: usize = recovered
        .iter()
        .filter(|r| r.drill == drill)
        .map(|r| debriefs(&r.effects))
        .sum();
    assert_eq!(ours, 1, "the debrief owed is still given: {recovered:?}");
}

async fn a_timer_that_fired_moves_to_the_next_warning_and_clears_when_the_drill_ends(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["terminal"]);
    let drill = live_drill(&engine, "ana").await;
    engine
        .handle(
            &drill,
            None,
            Sender::System,
            Event::CandidateSaid("hello".into()),
            T0 + 5 * S,
        )
        .await
        .expect("say");
    let fired = engine
        .fire_due_timers(T0 + 360 * S)
        .await
        .expect("fire")
        .drills;
    assert_eq!(fired.len(), 1);
    let record = engine
        .store()
        .load_drill(&drill)
        .await
        .expect("load")
        .record;
    assert_eq!(record.next_due_at, Some(T0 + 450 * S));
    engine.fire_due_timers(T0 + 450 * S).await.expect("fire");
    let ended = engine
        .fire_due_timers(T0 + 480 * S)
        .await
        .expect("fire")
        .drills;
    assert!(ended[0].effects.contains(&Effect::Debrief));
    let record = engine
        .store()
        .load_drill(&drill)
        .await
        .expect("load")
        .record;
    assert_eq!(record.phase, Phase::WrapUp);
    assert_eq!(record.next_due_at, None);
}

async fn forgetting_a_person_leaves_nothing_of_theirs(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["terminal"]);
    let store = engine.store().clone();
    // Alice practises; her drill is scored, costs tokens, and gets feedback.
    let hers = live_drill(&engine, "alice").await;
    engine
        .handle(
            &hers,
            None,
            Sender::System,
            Event::CandidateSaid("alice-said: p99 is up".into()),
            T0 + 9 * S,
        )
        .await
        .expect("say");
    store
        .save_scorecard(&hers, &scorecard(3, &["defensive"], 2), T0 + 500 * S)
        .await
        .expect("score");
    store
        .record_llm_usage(&hers, "m", 100, 20, T0)
        .await
        .expect("usage");
    store
        .add_peer_feedback(&hers, &person("bob"), Some(&person("alice")), "nice", T0)
        .await
        .expect("feedback");
    // Bob practises with Alice observing and speaking; she leaves him feedback.
    let mut his_new = new_drill("bob", T0);
    his_new.participants.push(Participant {
        person: person("alice"),
        role: Role::Observer,
    });
    let his = engine.start_drill(&his_new).await.expect("create").id;
    engine
        .handle(&his, None, Sender::System, Event::Start, T0)
        .await
        .expect("start");
    engine
        .handle(
            &his,
            None,
            Sender::System,
            Event::ObserverSaid("alice-said: watch the tone".into()),
            T0 + S,
        )
        .await
        .expect("observe");
    engine
        .handle(
            &his,
            None,
            Sender::System,
            Event::CandidateSaid("bob-said: fine".into()),
            T0 + 2 * S,
        )
        .await
        .expect("say");
    store
        .add_peer_feedback(
            &his,
            &person("alice"),
            Some(&person("bob")),
            "alice-said: good",
            T0,
        )
        .await
        .expect("feedback");
    let peer = store.peer();
    peer.join_queue(
        &WorkspaceRef::terminal(),
        "C1",
        &person("alice"),
        &spar_core::peer::Entry::peer("alice"),
        T0,
    )
    .await
    .expect("queue");
    peer.record_pairing(
        &WorkspaceRef::terminal(),
        "C0",
        &[spar_core::peer::Group::new(
            "bob".into(),
            Some("alice".into()),
            None,
        )],
        false,
        T0,
    )
    .await
    .expect("history");
    peer.save_rating(
        &his,
        &StoredRating {
            rater: person("alice"),
            role: Role::Observer,
            scores: vec![("composure".into(), 3)],
            sentence: None,
            at: T0,
        },
    )
    .await
    .expect("rating");
    let alice_id = store.ensure_person(&person("alice")).await.expect("id");

    let forgotten = store
        .forget_person("terminal", "alice")
        .await
        .expect("forget");
    assert!(forgotten.person_found);
    assert_eq!(forgotten.drills, 1);
    assert_eq!(forgotten.turns_redacted, 1);

    let id = alice_id.to_string();
    let checks: [(&'static str, &str); 14] = [
        (
            "SELECT COUNT(*) FROM people WHERE platform_user_id = $1",
            "alice",
        ),
        (
            "SELECT COUNT(*) FROM participants WHERE CAST(person_id AS TEXT) = $1",
            &id,
        ),
        (
            "SELECT COUNT(*) FROM turns WHERE CAST(author_id AS TEXT) = $1",
            &id,
        ),
        (
            "SELECT COUNT(*) FROM turns WHERE text LIKE $1",
            "%alice-said%",
        ),
        (
            "SELECT COUNT(*) FROM peer_feedback WHERE CAST(from_person_id AS TEXT) = $1 OR CAST(to_person_id AS TEXT) = $1",
            &id,
        ),
        (
            "SELECT COUNT(*) FROM peer_queue WHERE CAST(person_id AS TEXT) = $1",
            &id,
        ),
        (
            "SELECT COUNT(*) FROM peer_pairing_groups WHERE CAST(antagonist_id AS TEXT) = $1",
            &id,
        ),
        (
            "SELECT COUNT(*) FROM peer_ratings WHERE CAST(rater_id AS TEXT) = $1",
            &id,
        ),
        ("SELECT COUNT(*) FROM drills WHERE id = $1", hers.as_str()),
        (
            "SELECT COUNT(*) FROM turns WHERE drill_id = $1",
            hers.as_str(),
        ),
        (
            "SELECT COUNT(*) FROM scorecards WHERE drill_id = $1",
            hers.as_str(),
        ),
        (
            "SELECT COUNT(*) FROM scorecard_flags WHERE drill_id = $1",
            hers.as_str(),
        ),
        (
            "SELECT COUNT(*) FROM scorecard_dimensions WHERE drill_id = $1",
            hers.as_str(),
        ),
        (
            "SELECT COUNT(*) FROM llm_usage WHERE drill_id = $1",
            hers.as_str(),
        ),
    ];
    for (sql, bind) in checks {
        assert_eq!(db.count(sql, bind).await, 0, "{sql} [{bind}]");
    }
    // Bob's drill keeps its shape; only Alice's words are gone from it.
    let his_loaded = store.load_drill(&his).await.expect("bob's drill");
    assert_eq!(his_loaded.turns.len(), 2);
    assert_eq!(his_loaded.turns[0].turn.text, "");
    assert_eq!(his_loaded.participants.len(), 1);
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM turns WHERE text LIKE $1",
            "%bob-said%"
        )
        .await,
        1
    );
}

async fn history_lists_drills_newest_first_with_scores_flags_and_tokens(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["terminal"]);
    let store = engine.store().clone();
    let older = live_drill(&engine, "ana").await;
    store
        .save_scorecard(&older, &scorecard(2, &["defensive", "folded"], 1), T0)
        .await
        .expect("score");
    store
        .record_llm_usage(&older, "m", 100, 20, T0)
        .await
        .expect("usage");
    store
        .record_llm_usage(&older, "m", 30, 5, T0)
        .await
        .expect("usage");
    let newer = engine
        .start_drill(&new_drill("ana", T0 + 3600 * S))
        .await
        .expect("create")
        .id;
    engine
        .handle(&newer, None, Sender::System, Event::Start, T0 + 3600 * S)
        .await
        .expect("start");
    let someone_else = live_drill(&engine, "bob").await;

    let rows = store.history(Some(&person("ana"))).await.expect("history");
    let json = spar::commands::history::json(&rows);
    let drills = json["drills"].as_array().expect("drills");
    assert_eq!(drills.len(), 2, "only ana's drills");
    assert_eq!(drills[0]["id"], newer.as_str());
    assert_eq!(drills[0]["overall"], serde_json::Value::Null);
    assert_eq!(drills[1]["id"], older.as_str());
    assert_eq!(drills[1]["scenario"], "latency-regression");
    assert_eq!(drills[1]["overall"], 2);
    assert_eq!(
        drills[1]["flags"],
        serde_json::json!(["defensive", "folded"])
    );
    assert_eq!(drills[1]["tokens"], 155);
    assert_eq!(drills[1]["started_at"], "2027-01-15T08:00:00Z");
    let everyone = store.history(None).await.expect("history");
    assert!(everyone.iter().any(|r| r.id == someone_else));
    assert!(spar::commands::history::text(&rows).contains("flags: defensive, folded"));
}

async fn scores_come_back_oldest_first_with_their_dimensions(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["terminal"]);
    let store = engine.store().clone();
    for (i, overall) in [1u8, 3, 2].into_iter().enumerate() {
        let id = engine
            .start_drill(&new_drill("ana", T0 + i as i64 * 3600 * S))
            .await
            .expect("create")
            .id;
        store
            .save_scorecard(&id, &scorecard(overall, &[], overall), T0)
            .await
            .expect("score");
    }
    let points = store.score_series(None).await.expect("series");
    let overall: Vec<u8> = points.iter().map(|p| p.overall).collect();
    assert_eq!(overall, vec![1, 3, 2]);
    assert_eq!(
        points[1].dimensions,
        vec![("curiosity".to_string(), 3), ("composure".to_string(), 2)]
    );
    let chart = tempfile::tempdir().expect("dir");
    let path = chart.path().join("scores.png");
    spar::chart::draw_scores(&points, &path).expect("chart");
    let bytes = std::fs::read(&path).expect("png");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG file");
}

async fn an_export_can_be_read_back_as_a_transcript(db: &TestDb) {
    let engine = Engine::new(db.open().await, "a", &["terminal"]);
    let drill = live_drill(&engine, "ana").await;
    engine
        .handle(
            &drill,
            None,
            Sender::System,
            Event::CandidateSaid("Show me the trace.".into()),
            T0 + 20 * S,
        )
        .await
        .expect("say");
    let loaded = engine.store().load_drill(&drill).await.expect("load");
    let card = spar_core::scoring::Scorer::embedded()
        .expect("scorer")
        .score(&spar_core::Transcript {
            scenario: Some("latency-regression".into()),
            turns: loaded.plain_turns(),
        });
    engine
        .store()
        .save_scorecard(
            &drill,
            &StoredScorecard::from_json(serde_json::to_value(&card).expect("json"))
                .expect("a scorecard"),
            T0,
        )
        .await
        .expect("score");
    let loaded = engine.store().load_drill(&drill).await.expect("load");
    let json = spar::commands::export::json(&loaded);
    let transcript = spar_core::Transcript::from_value(&json).expect("a transcript");
    assert_eq!(transcript.scenario.as_deref(), Some("latency-regression"));
    assert_eq!(transcript.turns.len(), 2);
    assert_eq!(transcript.turns[1].at_s, 20.0);
    assert_eq!(json["scorecard"]["overall"], card.overall);
    let library = spar_core::ScenarioLibrary::embedded().expect("library");
    let markdown = spar::report::markdown(&loaded, library.get("latency-regression"));
    assert!(
        markdown.contains("**ana** (0:20): Show me the trace."),
        "{markdown}"
    );
    assert!(
        markdown.ends_with(&spar_core::scoring::render::render_markdown(&card)),
        "{markdown}"
    );
    // A scorecard this version cannot read is shown as it was kept, not dropped.
    engine
        .store()
        .save_scorecard(&drill, &scorecard(3, &["defensive"], 3), T0)
        .await
        .expect("score");
    let loaded = engine.store().load_drill(&drill).await.expect("load");
    let markdown = spar::report::markdown(&loaded, None);
    assert!(markdown.contains("\"defensive\""), "{markdown}");
    assert!(
        markdown.contains("**ana** (0:20): Show me the trace."),
        "{markdown}"
    );
}

async fn a_redelivered_platform_event_id_is_recognised(db: &TestDb) {
    let store = db.open().await;
    let event = EventKey {
        platform: "slack".into(),
        event_id: "Ev123".into(),
    };
    assert!(!store.event_processed(&event).await.expect("check"));
    assert!(store.mark_event_processed(&event, T0).await.expect("first"));
    assert!(
        !store
            .mark_event_processed(&event, T0 + S)
            .await
            .expect("again")
    );
    assert!(store.event_processed(&event).await.expect("check"));
}

#[tokio::test]
async fn a_corrupt_database_file_gives_one_sentence_naming_it() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("x.db");
    std::fs::write(&path, vec![0x5a_u8; 8192]).expect("garbage");
    let url = spar::store::sqlite_url(&path);
    let error = match spar::store::open(Some(&url)).await {
        Ok(_) => panic!("a corrupt file opened"),
        Err(e) => format!("{e:#}"),
    };
    assert_eq!(
        error,
        format!("cannot open database {url}: file is not a database")
    );
}

#[tokio::test]
async fn an_unreachable_postgres_gives_one_sentence_naming_it_without_the_password() {
    let url = "postgres://spar:hunter2@127.0.0.1:1/spar";
    let error = match spar::store::open(Some(url)).await {
        Ok(_) => panic!("port 1 answered"),
        Err(e) => format!("{e:#}"),
    };
    assert_eq!(
        error,
        "cannot open database postgres://spar:***@127.0.0.1:1/spar: connection refused"
    );
}

#[tokio::test]
async fn a_url_of_another_kind_is_refused_with_what_is_expected() {
    let error = match spar::store::open(Some("mysql://x/y")).await {
        Ok(_) => panic!("mysql opened"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        error.contains("must start with sqlite:// or postgres://"),
        "{error}"
    );
}
