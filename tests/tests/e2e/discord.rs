//! `spar serve` as a Discord bot, run as a process against the local fake Discord: the
//! calls a solo drill makes from `/spar solo` to its scorecard, what a stranger and a bot
//! get (nothing), a restart in the middle of a drill, and two instances on one PostgreSQL
//! answering each turn exactly once.

use crate::cli::isolated;
use crate::fake_discord::{DiscordCall, DiscordUser, FakeDiscord, permission};
use crate::store::TestDb;
use serde_json::Value;
use std::process::{Child, Stdio};
use std::time::Duration;

pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A running `spar serve`, stopped when dropped; its log is printed if a test fails.
pub struct Served {
    child: Child,
    pub log: std::path::PathBuf,
    /// What it printed on standard output (the name it claims drills under, among others).
    pub out: std::path::PathBuf,
    _home: tempfile::TempDir,
}

impl Served {
    pub fn start(fake: &FakeDiscord, database_url: &str, extra: &[(&str, &str)]) -> Served {
        Served::start_with_args(fake, database_url, extra, &[])
    }

    /// `spar serve ARGS` with `extra` in its environment.
    pub fn start_with_args(
        fake: &FakeDiscord,
        database_url: &str,
        extra: &[(&str, &str)],
        args: &[&str],
    ) -> Served {
        let token = fake.token();
        let api = fake.base_url();
        let guild = fake.guild_id().to_string();
        let mut env = vec![
            ("SPAR_DISCORD_TOKEN", token.as_str()),
            ("SPAR_DISCORD_API_URL", api.as_str()),
            ("SPAR_DISCORD_DEV_GUILD", guild.as_str()),
            ("DATABASE_URL", database_url),
            ("SPAR_LOG", "spar=debug,serenity=warn,poise=warn"),
        ];
        env.extend_from_slice(extra);
        let mut argv = vec!["serve"];
        argv.extend_from_slice(args);
        let (mut command, home) = isolated(&argv, &env);
        let log = home.path().join("serve.log");
        let file = std::fs::File::create(&log).expect("a log file");
        let out = home.path().join("serve.out");
        let stdout = std::fs::File::create(&out).expect("an output file");
        let child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(file)
            .spawn()
            .expect("spar serve starts");
        Served {
            child,
            log,
            out,
            _home: home,
        }
    }

    /// The name this instance claims drills under, once it has said it is serving.
    pub fn owner(&self) -> Option<String> {
        let out = std::fs::read_to_string(&self.out).ok()?;
        let rest = &out[out.find(" as spar-")? + 4..];
        Some(rest.split(';').next()?.to_string())
    }

    /// Asks the process to stop as a supervisor does (SIGTERM) and waits for it to exit,
    /// at most `within`; its exit status, or `None` if it did not stop in time.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::yield_now();
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- spar serve's log ---\n{log}");
        }
    }
}

pub fn sqlite_url(dir: &tempfile::TempDir) -> String {
    spar::store::sqlite_url(&dir.path().join("spar.db"))
}

/// The messages the bot posted in `channel`, in order.
pub(crate) fn posts(fake: &FakeDiscord, channel: u64) -> Vec<Value> {
    posts_in(&fake.calls(), channel)
}

/// The same, from calls already in hand (inside `wait_for`, which holds the fake's lock).
pub(crate) fn posts_in(calls: &[DiscordCall], channel: u64) -> Vec<Value> {
    let path = format!("/channels/{channel}/messages");
    calls
        .iter()
        .filter(|c| c.is("POST", &path) && c.status < 300)
        .map(|c| c.body.clone())
        .collect()
}

/// Waits until the antagonist has spoken `n` lines in `thread`.
pub async fn wait_for_lines(fake: &FakeDiscord, thread: u64, n: usize) {
    wait_for_lines_within(fake, thread, n, WAIT).await;
}

/// The same, waiting at most `timeout`.
pub async fn wait_for_lines_within(fake: &FakeDiscord, thread: u64, n: usize, timeout: Duration) {
    fake.wait_for(
        |calls| (lines(&posts_in(calls, thread)).len() >= n).then_some(()),
        timeout,
    )
    .await;
}

pub(crate) fn text(post: &Value) -> &str {
    post["content"].as_str().unwrap_or_default()
}

pub(crate) async fn wait_for_post(
    fake: &FakeDiscord,
    channel: u64,
    what: &str,
    found: impl Fn(&Value) -> bool,
) -> Value {
    let path = format!("/channels/{channel}/messages");
    let found = &found;
    let _ = what;
    fake.wait_for(
        |calls: &[DiscordCall]| {
            calls
                .iter()
                .filter(|c| c.is("POST", &path) && c.status < 300)
                .find(|c| found(&c.body))
                .map(|c| c.body.clone())
        },
        WAIT,
    )
    .await
}

/// Waits until the bot is connected and its commands are registered in the guild.
pub async fn connected(fake: &FakeDiscord, instances: usize) {
    fake.wait_identified(instances, WAIT).await;
    let path = format!(
        "/applications/{}/guilds/{}/commands",
        fake.application_id(),
        fake.guild_id()
    );
    fake.wait_for_calls("PUT", &path, instances, WAIT).await;
}

/// `/spar solo scenario:latency-regression` by `who`; returns the drill's thread id.
pub async fn start_drill(fake: &FakeDiscord, who: &DiscordUser) -> u64 {
    let interaction = fake
        .slash_command(who, "spar")
        .subcommand("solo")
        .string("scenario", "latency-regression")
        .build();
    fake.dispatch("INTERACTION_CREATE", interaction);
    let created = fake
        .wait_for_call(
            "POST",
            &format!("/channels/{}/threads", fake.channel_id()),
            WAIT,
        )
        .await;
    created.response["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("the thread's id")
}

/// The antagonist's lines: the bot's posts that are neither notices nor the brief.
fn lines(posts: &[Value]) -> Vec<String> {
    posts
        .iter()
        .filter(|p| p["embeds"].as_array().is_none_or(Vec::is_empty))
        .map(|p| text(p).to_string())
        .filter(|t| !t.starts_with('⏱') && !t.starts_with("<@"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_solo_drill_runs_from_slash_command_to_scorecard_embed() {
    let fake = FakeDiscord::start().await;
    let ana = fake.add_member("ana", permission::EVERYONE_DEFAULT);
    let eve = fake.add_member("eve", permission::EVERYONE_DEFAULT);
    let dir = tempfile::tempdir().expect("dir");
    let _serve = Served::start(
        &fake,
        &sqlite_url(&dir),
        &[("SPAR_DRILL_TIME_LIMIT_S", "32")],
    );
    connected(&fake, 1).await;

    let thread = start_drill(&fake, &ana).await;
    // Answered at once (deferred, only for her), then told where her drill is.
    let callback = fake.wait_for_call("POST", "/interactions/", WAIT).await;
    assert_eq!(callback.body["type"], 5, "deferred: {}", callback.body);
    assert_eq!(callback.body["data"]["flags"], 64, "ephemeral");
    let created = fake
        .calls_matching("POST", &format!("/channels/{}/threads", fake.channel_id()))
        .remove(0);
    assert_eq!(created.body["type"], 12, "a private thread");
    fake.wait_for_call(
        "PUT",
        &format!("/channels/{thread}/thread-members/{}", ana.id),
        WAIT,
    )
    .await;
    let brief = wait_for_post(&fake, thread, "the brief", |p| {
        p["embeds"][0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("40% regression"))
    })
    .await;
    assert!(text(&brief).contains(&format!("<@{}>", ana.id)));
    // The deferred answer is completed by a follow-up (or an edit of the original).
    let webhook = format!("/webhooks/{}/", fake.application_id());
    let reply = fake
        .wait_for(
            |calls| {
                calls
                    .iter()
                    .find(|c| c.is("POST", &webhook) || c.is("PATCH", &webhook))
                    .cloned()
            },
            WAIT,
        )
        .await;
    assert_eq!(reply.body["flags"], 64, "only she sees it");
    assert!(
        reply.body["content"]
            .as_str()
            .is_some_and(|c| c.contains(&format!("<#{thread}>"))),
        "{}",
        reply.body
    );
    wait_for_post(&fake, thread, "the clock", |p| {
        text(p).contains("The clock is running: 0:32")
    })
    .await;
    let opening = wait_for_post(&fake, thread, "the opening", |p| {
        !text(p).is_empty() && !text(p).starts_with('⏱') && !text(p).starts_with("<@")
    })
    .await;
    assert!(!text(&opening).is_empty());

    // Her turn is answered; a stranger's message and another bot's are not turns.
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(&eve, thread, "Let me answer for her, I know the numbers."),
    );
    let bot = fake.add_bot("helper-bot");
    fake.dispatch("MESSAGE_CREATE", fake.message_create(&bot, thread, "beep"));
    let delivered = fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(
            &ana,
            thread,
            "Honestly I'm going to escalate this to my manager.",
        ),
    );
    assert_eq!(delivered, 1);
    wait_for_lines(&fake, thread, 2).await;
    // The warning at thirty seconds left.
    wait_for_post(&fake, thread, "the warning", |p| {
        text(p).contains("0:30 left")
    })
    .await;

    let end = fake
        .slash_command(&ana, "spar")
        .subcommand("end")
        .in_channel(thread)
        .build();
    fake.dispatch("INTERACTION_CREATE", end);
    let card = wait_for_post(&fake, thread, "the scorecard", |p| {
        p["embeds"][0]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Debrief"))
    })
    .await;
    let fields: Vec<&str> = card["embeds"][0]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(
        fields.iter().any(|f| f.ends_with("Premature escalation")),
        "the escalation is flagged with its time: {fields:?}"
    );
    assert!(fields.contains(&"Dimensions"));
    let buttons: Vec<&str> = card["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["label"].as_str())
        .collect();
    assert_eq!(buttons, vec!["Full transcript", "Drill again"]);
    assert_eq!(
        lines(&posts(&fake, thread)).len(),
        2,
        "the opening and one reply: nothing for the stranger or the bot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_bot_carries_on_the_drill_in_its_thread() {
    let fake = FakeDiscord::start().await;
    let ana = fake.add_member("ana", permission::EVERYONE_DEFAULT);
    let dir = tempfile::tempdir().expect("dir");
    let url = sqlite_url(&dir);
    let mut first = Served::start(&fake, &url, &[]);
    connected(&fake, 1).await;
    let thread = start_drill(&fake, &ana).await;
    wait_for_lines(&fake, thread, 1).await;
    first.stop();
    fake.drop_sessions();

    let _second = Served::start(&fake, &url, &[]);
    fake.wait_identified(1, WAIT).await;
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(&ana, thread, "What is driving the release date for you?"),
    );
    wait_for_lines(&fake, thread, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_answer_each_turn_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let ana = fake.add_member("ana", permission::EVERYONE_DEFAULT);
    let limit = [("SPAR_DRILL_TIME_LIMIT_S", "33")];
    let _a = Served::start(&fake, &db.url, &limit);
    let _b = Served::start(&fake, &db.url, &limit);
    connected(&fake, 2).await;
    let thread = start_drill(&fake, &ana).await;
    wait_for_lines(&fake, thread, 1).await;
    for (i, said) in [
        "What is driving the release date for you?",
        "Could we agree the benchmark config together?",
        "If the fused kernel gets p99 under budget, I'd back it.",
    ]
    .into_iter()
    .enumerate()
    {
        // Both instances get every message, as two sessions of one bot do.
        fake.dispatch("MESSAGE_CREATE", fake.message_create(&ana, thread, said));
        wait_for_lines(&fake, thread, i + 2).await;
    }
    // Both clocks run; the thirty-second warning is given once.
    wait_for_post(&fake, thread, "the warning", |p| {
        text(p).contains("0:30 left")
    })
    .await;
    let end = fake
        .slash_command(&ana, "spar")
        .subcommand("end")
        .in_channel(thread)
        .build();
    fake.dispatch("INTERACTION_CREATE", end);
    wait_for_post(&fake, thread, "the scorecard", |p| {
        p["embeds"][0]["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Debrief"))
    })
    .await;
    let posts = posts(&fake, thread);
    assert_eq!(
        lines(&posts).len(),
        4,
        "one opening and one reply per turn: {posts:#?}"
    );
    let warnings = posts
        .iter()
        .filter(|p| text(p).contains("0:30 left"))
        .count();
    assert_eq!(warnings, 1);
    let cards = posts
        .iter()
        .filter(|p| {
            p["embeds"][0]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Debrief"))
        })
        .count();
    assert_eq!(cards, 1, "one scorecard");
}

#[test]
fn serve_with_nothing_configured_names_what_to_set() {
    let run = crate::cli::spar(&["serve"], "");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("SPAR_DISCORD_TOKEN"), "{}", run.stderr);
}

#[test]
fn the_invite_url_asks_for_the_bot_and_commands_scopes_and_exactly_spars_permissions() {
    let run = crate::cli::spar(&["discord", "invite-url", "--client-id", "123456"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let url = run.stdout.trim();
    assert!(
        url.starts_with("https://discord.com/oauth2/authorize?client_id=123456&"),
        "{url}"
    );
    assert!(url.contains("scope=bot%20applications.commands"), "{url}");
    // View Channel, Send Messages, Embed Links, Attach Files, Create Public Threads, Create
    // Private Threads, Send Messages in Threads.
    let expected =
        (1u64 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 35) | (1 << 36) | (1 << 38);
    assert!(url.ends_with(&format!("permissions={expected}")), "{url}");
}
