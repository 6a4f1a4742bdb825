//! A peer drill run by `spar serve --slack-http` against the local fake Slack, every
//! request signed as Slack signs it: two members `/spar join` a channel's queue and
//! `/spar pair` opens their thread. The hidden brief reaches the antagonist player as an
//! ephemeral message in the thread (`chat.postEphemeral`) and never as a post; both turns
//! are kept; after the scorecard each member rates through the modal (`views.open` with the
//! click's `trigger_id`, then `view_submission`, a missing score shown under its field),
//! the combined debrief follows, and "Swap roles" starts the mirror drill in the thread.

use crate::fake_slack::{FakeSlack, SlackCall, SlackUser};
use crate::slack::{
    App, WAIT, in_thread, is_scorecard, posts, text, wait_for_scorecard, wait_for_thread,
};
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

/// The action ids of the buttons under a posted message.
fn button_ids(call: &SlackCall) -> Vec<String> {
    call.args["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().into_iter().flatten())
        .filter_map(|e| e["action_id"].as_str().map(str::to_string))
        .collect()
}

/// The first ephemeral message for `who` whose text passes `wanted`, waited for.
async fn ephemeral_for(
    fake: &FakeSlack,
    who: &SlackUser,
    wanted: impl Fn(&str) -> bool,
) -> SlackCall {
    fake.wait_for(
        |calls| {
            calls
                .iter()
                .find(|c| {
                    c.method == "chat.postEphemeral"
                        && c.response["ok"] == true
                        && c.args["user"] == who.id.as_str()
                        && wanted(text(c))
                })
                .cloned()
        },
        WAIT,
    )
    .await
}

/// The rating request a drill's scorecard is followed by: where it is, and its Rate button.
struct Request<'a> {
    channel: &'a str,
    ts: &'a str,
    rate: &'a str,
}

/// `who` clicks "Rate" under the request and submits the modal with every dimension at
/// `score` and `sentence`.
async fn rate(app: &App, who: &SlackUser, request: &Request<'_>, score: &str, sentence: &str) {
    let fake = &app.fake;
    let click = fake.block_actions(who, request.channel, request.ts, request.rate, request.rate);
    let trigger = click["trigger_id"].as_str().expect("a trigger").to_string();
    let clicked = app.interact(&click).await;
    assert_eq!((clicked.status, clicked.body.as_str()), (200, ""));
    let opened = fake.wait_for_view(&trigger, WAIT).await;
    assert_eq!(opened.response["ok"], true, "{}", opened.response);
    let view = opened.response["view"]["id"]
        .as_str()
        .expect("a view id")
        .to_string();
    let mut values: Vec<(&str, &str, &str)> = DimensionName::ALL
        .iter()
        .map(|d| (d.as_str(), "score", score))
        .collect();
    values.push(("sentence", "text", sentence));
    let submitted = app
        .interact(&fake.view_submission(who, &view, &values))
        .await;
    assert_eq!(
        (submitted.status, submitted.body.as_str()),
        (200, ""),
        "an empty answer closes the modal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_pair_drills_rates_in_a_modal_and_swaps_roles_over_signed_http() {
    let app = App::over_http().await;
    let fake = &app.fake;
    let people = [fake.alice(), fake.add_user("bob")];
    let channel = fake.channel_id();

    for who in &people {
        let joined = app.ask_late(who, &channel, "join latency-regression").await;
        assert!(joined.contains("You joined"), "{joined}");
    }
    let paired = app.ask_late(&people[0], &channel, "pair").await;
    assert!(paired.contains("Paired 1 group"), "{paired}");
    let thread = wait_for_thread(fake, &channel, 0).await;

    // The brief mentions the candidate; the other member plays the antagonist and is sent
    // the hidden brief in the thread, as a message only they see.
    let brief = fake
        .wait_for(
            |calls| {
                in_thread(calls, &thread)
                    .into_iter()
                    .find(|c| text(c).starts_with("<@"))
                    .cloned()
            },
            WAIT,
        )
        .await;
    let candidate = people
        .iter()
        .find(|p| text(&brief).starts_with(&format!("<@{}>", p.id)))
        .expect("the candidate is mentioned")
        .clone();
    let antagonist = people
        .iter()
        .find(|p| p.id != candidate.id)
        .expect("a partner")
        .clone();
    let hidden = hidden_words();
    let secret = ephemeral_for(fake, &antagonist, |t| t.contains(&hidden)).await;
    assert_eq!(secret.args["channel"], channel.as_str());
    assert_eq!(
        secret.args["thread_ts"],
        thread.as_str(),
        "in the drill's thread"
    );
    let roles = fake
        .wait_for(
            |calls| {
                in_thread(calls, &thread)
                    .into_iter()
                    .find(|c| text(c).contains("hidden brief"))
                    .cloned()
            },
            WAIT,
        )
        .await;
    let brief_button = button_ids(&roles)
        .into_iter()
        .find(|id| id.starts_with("spar:brief:"))
        .expect("the roles carry the brief button");

    // The brief button shows it again to the antagonist player only; the candidate is
    // told it is not theirs.
    let roles_ts = roles.response["ts"].as_str().expect("a ts");
    for who in [&antagonist, &candidate] {
        let click = fake.block_actions(who, &channel, roles_ts, &brief_button, &brief_button);
        assert_eq!(app.interact(&click).await.status, 200);
    }
    let again = fake
        .wait_for(
            |calls| {
                let shown: Vec<&SlackCall> = calls
                    .iter()
                    .filter(|c| c.method == "chat.postEphemeral" && text(c).contains(&hidden))
                    .collect();
                (shown.len() >= 2).then(|| shown[1].clone())
            },
            WAIT,
        )
        .await;
    assert_eq!(again.args["user"], antagonist.id.as_str());
    ephemeral_for(fake, &candidate, |t| {
        t.contains("Only the member playing the antagonist")
    })
    .await;

    // Both members' messages are turns, stored before each delivery is acknowledged.
    for (who, said) in [
        (&candidate, "What is driving the release date for you?"),
        (&antagonist, "The board was promised this launch."),
    ] {
        app.say(who, &channel, &thread, said).await;
    }
    let store = app.store().await;
    let drill = store
        .live_drill_in("slack", &thread, Some(&channel))
        .await
        .expect("a lookup")
        .expect("the drill is live");
    let loaded = store.load_drill(&drill.id).await.expect("the drill");
    let roles_said: Vec<spar_core::Role> = loaded.turns.iter().map(|t| t.turn.role).collect();
    assert_eq!(
        roles_said,
        vec![spar_core::Role::Candidate, spar_core::Role::Antagonist]
    );

    let ended = app.ask(&candidate, &channel, "end").await;
    assert_eq!(ended, "Drill ended; the scorecard follows in the thread.");
    wait_for_scorecard(fake, &thread).await;
    let request = fake
        .wait_for(
            |calls| {
                in_thread(calls, &thread)
                    .into_iter()
                    .find(|c| button_ids(c).iter().any(|id| id.starts_with("spar:rate:")))
                    .cloned()
            },
            WAIT,
        )
        .await;
    let ids = button_ids(&request);
    assert_eq!(
        ids,
        vec![
            format!("spar:rate:{}", drill.id),
            format!("spar:swap:{}", drill.id)
        ]
    );
    let request_ts = request.response["ts"].as_str().expect("a ts").to_string();

    // A submission missing a score is answered in the modal, under the field, and saves
    // nothing; then each member rates.
    let click = fake.block_actions(&antagonist, &channel, &request_ts, &ids[0], &ids[0]);
    let trigger = click["trigger_id"].as_str().expect("a trigger").to_string();
    assert_eq!(app.interact(&click).await.status, 200);
    let opened = fake.wait_for_view(&trigger, WAIT).await;
    assert_eq!(opened.args["view"]["title"]["text"], "Rate the drill");
    let view = opened.response["view"]["id"].as_str().expect("a view");
    let partial: Vec<(&str, &str, &str)> = DimensionName::ALL[1..]
        .iter()
        .map(|d| (d.as_str(), "score", "3"))
        .collect();
    let refused = app
        .interact(&fake.view_submission(&antagonist, view, &partial))
        .await;
    assert_eq!(refused.status, 200);
    let refused = refused.json();
    assert_eq!(refused["response_action"], "errors", "{refused}");
    assert!(
        refused["errors"][DimensionName::ALL[0].as_str()].is_string(),
        "{refused}"
    );
    assert!(
        store
            .peer()
            .ratings(&drill.id)
            .await
            .expect("ratings")
            .is_empty()
    );

    let request = Request {
        channel: &channel,
        ts: &request_ts,
        rate: &ids[0],
    };
    rate(
        &app,
        &antagonist,
        &request,
        "4",
        "Calm and curious throughout.",
    )
    .await;
    let saved = ephemeral_for(fake, &antagonist, |t| {
        t.starts_with("Thanks, your rating is saved")
    })
    .await;
    assert_eq!(saved.args["thread_ts"], thread.as_str());
    rate(&app, &candidate, &request, "2", "I rushed the ending.").await;
    let combined = fake
        .wait_for(
            |calls| {
                let all: Vec<String> = in_thread(calls, &thread)
                    .iter()
                    .map(|c| text(c).to_string())
                    .collect();
                let from = all.iter().position(|t| t.starts_with("Combined debrief"))?;
                let body = all[from + 1..].join("\n");
                body.contains("I rushed the ending.").then_some(body)
            },
            WAIT,
        )
        .await;
    assert!(
        combined.contains("Calm and curious throughout."),
        "{combined}"
    );
    assert!(combined.contains("(self)"), "{combined}");

    // Swap roles: the mirror drill in the same thread; the former candidate now plays the
    // antagonist and is sent the hidden brief, only them.
    let click = fake.block_actions(&antagonist, &channel, &request_ts, &ids[1], &ids[1]);
    assert_eq!(app.interact(&click).await.status, 200);
    ephemeral_for(fake, &antagonist, |t| t.starts_with("Roles swapped")).await;
    let mirror = fake
        .wait_for(
            |calls| {
                in_thread(calls, &thread)
                    .into_iter()
                    .find(|c| text(c).starts_with(&format!("<@{}>", antagonist.id)))
                    .cloned()
            },
            WAIT,
        )
        .await;
    assert_eq!(mirror.args["blocks"][1]["type"], "header");
    let secret = ephemeral_for(fake, &candidate, |t| t.starts_with("You play")).await;
    assert_eq!(secret.args["thread_ts"], thread.as_str());

    let calls = fake.calls();
    let roots = posts(&calls)
        .into_iter()
        .filter(|c| c.args["thread_ts"].is_null())
        .count();
    assert_eq!(roots, 1, "the mirror drill stays in the pair's thread");
    assert!(
        !in_thread(&calls, &thread)
            .iter()
            .any(|c| is_scorecard(c) && c.args.to_string().contains(&hidden)),
        "no scorecard quotes the hidden brief"
    );
    for call in calls.iter().filter(|c| {
        c.method == "chat.postMessage" || c.method == "chat.update" || c.method == "response_url"
    }) {
        assert!(
            !call.args.to_string().contains(&hidden),
            "the hidden brief was posted where others read it: {}",
            call.args
        );
    }
}
