//! The statements every chat turn runs read through an index on PostgreSQL. The database
//! is filled like a busy deployment's (20,000 drills, 19,000 scorecards, 200,000 turns and processed events)
//! and `ANALYZE`d, and each statement is `EXPLAIN`ed as the store sends it: with realistic
//! statistics the planner *chooses* the index, which is the claim that matters (turning
//! sequential scans off would only show an index could be used). No sequential scan of
//! any table may remain, and inserts must find their conflicts through a unique index.

use super::TestDb;
use sqlx::{AssertSqlSafe, PgPool};

const SEED: [&str; 8] = [
    "INSERT INTO workspaces (platform, external_id, name, created_at) \
     SELECT 'discord', 'G' || g, 'guild', 0 FROM generate_series(1, 2000) g",
    "INSERT INTO people (platform, platform_user_id, display_name, created_at) \
     SELECT 'discord', 'u' || g, 'member', 0 FROM generate_series(1, 20000) g",
    "INSERT INTO drills (id, workspace_id, scenario_id, mode, difficulty, phase, \
     time_limit_s, max_turns, seed, created_at, clock_at, version, channel_id, thread_id) \
     SELECT 'd' || g, (SELECT MIN(id) FROM workspaces) + g % 2000, 'latency-regression', \
     'solo', 'standard', CASE WHEN g % 20 = 0 THEN 'live' ELSE 'debriefed' END, 480, 40, 7, \
     g, g, 0, 'C' || (g % 2000), 'T' || g FROM generate_series(1, 20000) g",
    "INSERT INTO participants (drill_id, person_id, role) \
     SELECT 'd' || substr(p.platform_user_id, 2), p.id, 'candidate' FROM people p",
    "INSERT INTO turns (drill_id, idx, role, at_s, text) \
     SELECT 'd' || g, i, CASE WHEN i % 2 = 0 THEN 'antagonist' ELSE 'candidate' END, \
     i * 10.0, 'a line of the drill' \
     FROM generate_series(1, 20000) g, generate_series(0, 9) i",
    "INSERT INTO scorecards (drill_id, overall, card, created_at) \
     SELECT id, 3, '{}', 0 FROM drills WHERE phase = 'debriefed'",
    "INSERT INTO processed_events (platform, event_id, processed_at) \
     SELECT 'discord', 'e' || g, g FROM generate_series(1, 200000) g",
    "ANALYZE",
];

/// What one node of a plan says about how it reads.
#[derive(Debug)]
struct Node {
    kind: String,
    relation: Option<String>,
    index: Option<String>,
    arbiters: Vec<String>,
}

fn nodes(plan: &serde_json::Value, out: &mut Vec<Node>) {
    let text = |key: &str| plan.get(key).and_then(|v| v.as_str()).map(str::to_string);
    out.push(Node {
        kind: text("Node Type").unwrap_or_default(),
        relation: text("Relation Name"),
        index: text("Index Name"),
        arbiters: plan
            .get("Conflict Arbiter Indexes")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    });
    for child in plan
        .get("Plans")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
    {
        nodes(child, out);
    }
}

async fn explain(pool: &PgPool, name: &str, sql: &str) -> Vec<Node> {
    let explain = format!("EXPLAIN (FORMAT JSON) {sql}");
    let query =
        sqlx::query_scalar::<_, sqlx::types::Json<serde_json::Value>>(AssertSqlSafe(explain));
    let drill = "d40";
    let query = match name {
        "drill in thread" => query.bind("T40").bind("discord").bind(None::<&str>),
        "drill by id" | "participants" | "turns" => query.bind(drill),
        "insert event" => query.bind("discord").bind("a-new-event").bind(300_000_i64),
        "update drill" => query
            .bind(1_000_i64)
            .bind(None::<&str>)
            .bind(None::<i64>)
            .bind(None::<i64>)
            .bind("set")
            .bind(Some(2_000_i64))
            .bind(drill)
            .bind(0_i64)
            .bind(Some("instance"))
            .bind(Some(3_000_i64)),
        "insert turn" => query
            .bind(drill)
            .bind(10_i64)
            .bind("candidate")
            .bind(100.0_f64)
            .bind("a new line")
            .bind(false)
            .bind(None::<i64>),
        "claim recovery" => query
            .bind("instance")
            .bind(3_000_i64)
            .bind(drill)
            .bind(1_000_i64),
        "prune events" => query.bind(100_i64),
        other => panic!("no sample values for the statement {other:?}; add them here"),
    };
    let sqlx::types::Json(plan) = query
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("explaining {name}: {e}"));
    let mut found = Vec::new();
    nodes(&plan[0]["Plan"], &mut found);
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_per_turn_statement_reads_through_an_index() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    // Opening migrates the database.
    db.open().await;
    let pool = PgPool::connect(&db.url).await.expect("postgres");
    for statement in SEED {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let statements = spar::store::sql::PER_TURN
        .iter()
        .copied()
        .chain([("prune events", spar::store::sql::PRUNE_EVENTS)]);
    for (name, sql) in statements {
        let plan = explain(&pool, name, sql).await;
        let scans: Vec<&Node> = plan.iter().filter(|n| n.kind == "Seq Scan").collect();
        assert!(scans.is_empty(), "{name} scans a whole table: {plan:#?}");
        let indexed = plan.iter().any(|n| n.index.is_some());
        let arbitrated = plan.iter().any(|n| !n.arbiters.is_empty());
        let insert = plan
            .iter()
            .any(|n| n.kind == "ModifyTable" && sql.trim_start().starts_with("INSERT"));
        if insert {
            assert!(
                arbitrated,
                "{name} finds its conflicts without a unique index: {plan:#?}"
            );
        } else {
            assert!(indexed, "{name} uses no index: {plan:#?}");
        }
    }
    // The statement pruning processed events uses the index added for it.
    let prune = explain(&pool, "prune events", spar::store::sql::PRUNE_EVENTS).await;
    assert!(
        prune
            .iter()
            .any(|n| n.index.as_deref() == Some("processed_events_at")),
        "{prune:#?}"
    );
    // A turn is appended by reading the largest index from the primary key.
    let insert = explain(&pool, "insert turn", spar::store::sql::INSERT_TURN).await;
    assert!(
        insert
            .iter()
            .any(|n| n.index.as_deref() == Some("turns_pkey")),
        "{insert:#?}"
    );
    let thread = explain(&pool, "drill in thread", spar::store::sql::DRILL_IN_THREAD).await;
    assert!(
        thread
            .iter()
            .any(|n| n.index.as_deref() == Some("drills_thread")),
        "{thread:#?}"
    );
    assert!(
        thread
            .iter()
            .all(|n| n.relation.as_deref() != Some("drills") || n.index.is_some()),
        "{thread:#?}"
    );
    pool.close().await;
}
