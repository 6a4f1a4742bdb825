//! A peer drill run by `spar serve` against the local fake Discord: three members join a
//! channel's queue and are paired into one private thread as candidate, antagonist player
//! and observer. The hidden brief reaches the antagonist player by direct message and
//! never the thread, the observer's message is not scored, each member rates through the
//! two-modal form, the combined debrief shows the ratings, and "Swap roles" starts the
//! mirror drill in the same thread.

use crate::discord::{Served, WAIT, connected, posts, sqlite_url, text, wait_for_post};
use crate::fake_discord::{DiscordCall, DiscordUser, FakeDiscord, permission};
use serde_json::Value;
use spar_core::ScenarioLibrary;
use spar_core::scoring::DimensionName;

/// Words from the scenario's hidden brief, which only the antagonist player may read.
fn hidden_words() -> String {
    let library = ScenarioLibrary::embedded().expect("library");
    library
        .get("latency-regression")
        .expect("scenario")
        .brief
        .motives[0]
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The interaction callbacks the bot answered, in order.
fn callbacks(calls: &[DiscordCall]) -> Vec<Value> {
    calls
        .iter()
        .filter(|c| c.is("POST", "/interactions/") && c.status < 300)
        .map(|c| c.body.clone())
        .collect()
}

/// Dispatches an interaction and waits for the bot's callback to it.
async fn interact(fake: &FakeDiscord, payload: Value) -> Value {
    let before = callbacks(&fake.calls()).len();
    fake.dispatch("INTERACTION_CREATE", payload);
    fake.wait_for(|calls| callbacks(calls).get(before).cloned(), WAIT)
        .await
}

/// Waits until `n` follow-ups (the answers to deferred interactions) have been sent.
async fn followups(fake: &FakeDiscord, n: usize) -> Vec<Value> {
    let webhook = format!("/webhooks/{}/", fake.application_id());
    fake.wait_for(
        |calls| {
            let sent: Vec<Value> = calls
                .iter()
                .filter(|c| (c.is("POST", &webhook) || c.is("PATCH", &webhook)) && c.status < 300)
                .map(|c| c.body.clone())
                .collect();
            (sent.len() >= n).then_some(sent)
        },
        WAIT,
    )
    .await
}

/// The button ids under a message or interaction answer.
fn button_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().into_iter().flatten())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .collect()
}

/// One member's rating through both modals: four scores, then three and a sentence.
async fn rate(
    fake: &FakeDiscord,
    who: &DiscordUser,
    thread: u64,
    request: u64,
    drill: &str,
    score: &str,
    sentence: &str,
) {
    let opened = interact(
        fake,
        fake.button_click(who, request, &format!("spar:rate:{drill}")),
    )
    .await;
    assert_eq!(opened["type"], 9, "a modal: {opened}");
    let asked: Vec<&str> = opened["data"]["components"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|row| row["components"][0]["custom_id"].as_str())
        .collect();
    assert_eq!(asked.len(), 4, "{opened}");
    let first: Vec<(&str, &str)> = asked.iter().map(|id| (*id, score)).collect();
    let answered = interact(
        fake,
        fake.modal_submit(who, thread, &format!("spar:rating1:{drill}"), &first),
    )
    .await;
    assert_eq!(
        answered["data"]["flags"], 64,
        "only they see it: {answered}"
    );
    let next = button_ids(&answered["data"]);
    assert_eq!(next.len(), 1, "{answered}");
    let holder = fake
        .messages_in(thread)
        .into_iter()
        .find(|m| button_ids(m) == next)
        .and_then(|m| m["id"].as_str().and_then(|id| id.parse::<u64>().ok()))
        .expect("the answer with the Continue button");
    let second = interact(fake, fake.button_click(who, holder, &next[0])).await;
    assert_eq!(second["type"], 9, "the second modal: {second}");
    let modal_id = second["data"]["custom_id"]
        .as_str()
        .expect("its id")
        .to_string();
    let mut inputs: Vec<(&str, &str)> = DimensionName::ALL[4..]
        .iter()
        .map(|d| (d.as_str(), score))
        .collect();
    inputs.push(("sentence", sentence));
    let deferred = interact(fake, fake.modal_submit(who, thread, &modal_id, &inputs)).await;
    assert_eq!(deferred["type"], 5, "{deferred}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_trio_drills_rates_and_swaps_roles_in_a_private_thread() {
    let fake = FakeDiscord::start().await;
    let people = [
        fake.add_member("ana", permission::EVERYONE_DEFAULT),
        fake.add_member("bo", permission::EVERYONE_DEFAULT),
        fake.add_member("cy", permission::EVERYONE_DEFAULT),
    ];
    let dir = tempfile::tempdir().expect("dir");
    let url = sqlite_url(&dir);
    let _serve = Served::start(&fake, &url, &[("SPAR_DRILL_TIME_LIMIT_S", "300")]);
    connected(&fake, 1).await;

    for (i, who) in people.iter().enumerate() {
        fake.dispatch(
            "INTERACTION_CREATE",
            fake.slash_command(who, "spar")
                .subcommand("join")
                .string("scenario", "latency-regression")
                .build(),
        );
        let answered = followups(&fake, i + 1).await;
        assert!(
            answered[i]["content"]
                .as_str()
                .is_some_and(|c| c.contains("You joined")),
            "{}",
            answered[i]
        );
    }
    fake.dispatch(
        "INTERACTION_CREATE",
        fake.slash_command(&people[0], "spar")
            .subcommand("pair")
            .build(),
    );
    let created = fake
        .wait_for_call(
            "POST",
            &format!("/channels/{}/threads", fake.channel_id()),
            WAIT,
        )
        .await;
    assert_eq!(created.body["type"], 12, "a private thread");
    let thread: u64 = created.response["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("the thread's id");
    for who in &people {
        fake.wait_for_call(
            "PUT",
            &format!("/channels/{thread}/thread-members/{}", who.id),
            WAIT,
        )
        .await;
    }
    let paired = followups(&fake, 4).await;
    assert!(
        paired[3]["content"]
            .as_str()
            .is_some_and(|c| c.contains("Paired 1 group") && c.contains("observing")),
        "{}",
        paired[3]
    );

    // Who plays what: the brief pings the candidate; the antagonist player gets a DM.
    let brief = wait_for_post(&fake, thread, "the brief", |p| {
        p["embeds"][0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("40% regression"))
    })
    .await;
    let candidate = people
        .iter()
        .find(|p| text(&brief).contains(&format!("<@{}>", p.id)))
        .expect("the candidate is pinged")
        .clone();
    let dm = fake
        .wait_for_call("POST", "/users/@me/channels", WAIT)
        .await;
    let antagonist = people
        .iter()
        .find(|p| dm.body["recipient_id"].as_str() == Some(&p.id.to_string()))
        .expect("the antagonist player gets a direct message")
        .clone();
    let observer = people
        .iter()
        .find(|p| p.id != candidate.id && p.id != antagonist.id)
        .expect("the third member observes")
        .clone();
    let dm_channel = dm.response["id"]
        .as_str()
        .expect("a DM channel")
        .to_string();
    let hidden = hidden_words();
    let secret = fake
        .wait_for_call("POST", &format!("/channels/{dm_channel}/messages"), WAIT)
        .await;
    let mut told = String::new();
    for call in fake.calls_matching("POST", &format!("/channels/{dm_channel}/messages")) {
        told.push_str(call.body["content"].as_str().unwrap_or_default());
    }
    assert!(told.contains(&hidden), "{}", secret.body);
    let roles = wait_for_post(&fake, thread, "the roles", |p| {
        text(p).contains("plays") && text(p).contains("observes")
    })
    .await;
    assert!(
        button_ids(&roles)
            .iter()
            .any(|id| id.starts_with("spar:brief:")),
        "{roles}"
    );
    wait_for_post(&fake, thread, "the clock", |p| {
        text(p).contains("The clock is running: 5:00")
    })
    .await;

    // Turns: the candidate's and the antagonist player's; the observer's is a note.
    for (who, said) in [
        (&candidate, "What is driving the release date for you?"),
        (&antagonist, "The board was promised this launch."),
        (
            &observer,
            "Honestly I'm going to escalate this to my manager.",
        ),
    ] {
        fake.dispatch("MESSAGE_CREATE", fake.message_create(who, thread, said));
    }
    // Messages are applied concurrently and a peer drill answers none of them, so the
    // store says when all three are kept; then the candidate ends the drill.
    let store = spar::store::open(Some(&url)).await.expect("the store");
    let kept = async {
        loop {
            let live = store
                .live_drill_in("discord", &thread.to_string(), None)
                .await
                .expect("lookup");
            if let Some(drill) = live {
                let loaded = store.load_drill(&drill.id).await.expect("load");
                if loaded.turns.len() == 3 {
                    return loaded;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    let loaded = tokio::time::timeout(WAIT, kept)
        .await
        .expect("the three messages are kept");
    let roles: Vec<spar_core::Role> = loaded.turns.iter().map(|t| t.turn.role).collect();
    for role in [
        spar_core::Role::Candidate,
        spar_core::Role::Antagonist,
        spar_core::Role::Observer,
    ] {
        assert!(roles.contains(&role), "{roles:?}");
    }
    let end = fake
        .slash_command(&candidate, "spar")
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
    let flagged: Vec<String> = card["embeds"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["fields"].as_array().into_iter().flatten())
        .filter_map(|f| f["name"].as_str().map(str::to_string))
        .collect();
    assert!(
        !flagged.iter().any(|f| f.contains("Premature escalation")),
        "the observer's note was scored: {flagged:?}"
    );
    let request = wait_for_post(&fake, thread, "the rating request", |p| {
        button_ids(p).iter().any(|id| id.starts_with("spar:rate:"))
    })
    .await;
    let ids = button_ids(&request);
    let drill = ids[0]
        .strip_prefix("spar:rate:")
        .expect("the drill in the button")
        .to_string();
    assert!(ids.contains(&format!("spar:swap:{drill}")), "{ids:?}");
    let request_id: u64 = fake
        .calls_matching("POST", &format!("/channels/{thread}/messages"))
        .into_iter()
        .find(|c| button_ids(&c.body).contains(&ids[0]))
        .and_then(|c| c.response["id"].as_str().and_then(|id| id.parse().ok()))
        .expect("the request's message id");

    // Everyone rates; the last rating brings the combined debrief.
    rate(
        &fake,
        &antagonist,
        thread,
        request_id,
        &drill,
        "4",
        "Calm and curious throughout.",
    )
    .await;
    rate(&fake, &observer, thread, request_id, &drill, "3", "").await;
    rate(
        &fake,
        &candidate,
        thread,
        request_id,
        &drill,
        "2",
        "I rushed the ending.",
    )
    .await;
    let heading = wait_for_post(&fake, thread, "the combined debrief", |p| {
        text(p).starts_with("Combined debrief")
    })
    .await;
    assert!(!text(&heading).is_empty());
    let combined = fake
        .wait_for(
            |calls| {
                let all: Vec<String> = crate::discord::posts_in(calls, thread)
                    .iter()
                    .map(|p| text(p).to_string())
                    .collect();
                let from = all.iter().position(|t| t.starts_with("Combined debrief"))?;
                let body = all[from + 1..].join("\n");
                body.contains("I rushed the ending.").then_some(body)
            },
            WAIT,
        )
        .await;
    assert!(combined.contains("Ratings (0-4)"), "{combined}");
    assert!(
        combined.contains("Calm and curious throughout."),
        "{combined}"
    );
    assert!(combined.contains("(antagonist)") && combined.contains("(observer)"));
    assert!(combined.contains("(self)"), "{combined}");

    // Swap roles: the mirror drill in the same thread, the observer practising now and
    // the former candidate sent the hidden brief.
    let briefs_before = posts(&fake, thread)
        .iter()
        .filter(|p| p["embeds"][0]["description"].is_string())
        .count();
    let swapped = interact(
        &fake,
        fake.button_click(&observer, request_id, &format!("spar:swap:{drill}")),
    )
    .await;
    assert_eq!(swapped["type"], 5, "{swapped}");
    let mirror = wait_for_post(&fake, thread, "the mirror drill's brief", |p| {
        text(p).contains(&format!("<@{}>", observer.id)) && p["embeds"][0]["title"].is_string()
    })
    .await;
    assert!(mirror["embeds"][0]["title"].is_string());
    assert!(
        posts(&fake, thread)
            .iter()
            .filter(|p| p["embeds"][0]["description"].is_string())
            .count()
            > briefs_before
    );
    let second_dm = fake
        .wait_for(
            |calls| {
                calls
                    .iter()
                    .filter(|c| c.is("POST", "/users/@me/channels"))
                    .find(|c| c.body["recipient_id"].as_str() == Some(&candidate.id.to_string()))
                    .cloned()
            },
            WAIT,
        )
        .await;
    assert!(second_dm.status < 300);
    assert_eq!(
        fake.calls_matching("POST", &format!("/channels/{}/threads", fake.channel_id()))
            .len(),
        1,
        "the mirror drill stays in the group's thread"
    );
    // Nothing posted in the thread ever held the hidden brief.
    for post in posts(&fake, thread) {
        assert!(
            !post.to_string().contains(&hidden),
            "the hidden brief leaked into the thread: {post}"
        );
    }
}
