//! The fake Slack against slack-morphism itself: payloads deserialize into its models, its
//! Socket Mode listener connects (twice), receives envelopes and acknowledges them, its Web
//! API client gets Slack's answers and errors, and `sign` agrees with its verifier.

use crate::fake_slack::{FakeSlack, SlackChannelKind, SlackError, sign};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use slack_morphism::signature_verifier::SlackEventSignatureVerifier;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const WAIT: Duration = Duration::from_secs(20);

type Connector = SlackClientHyperConnector<HttpConnector>;

fn client(fake: &FakeSlack) -> Arc<SlackClient<Connector>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let connector = SlackClientHyperConnector::with_connector(HttpConnector::new())
        .with_slack_api_url(&fake.api_url());
    Arc::new(SlackClient::new(connector))
}

fn token(value: String) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue::new(value))
}

fn api_error(result: Result<impl std::fmt::Debug, SlackClientError>) -> String {
    match result {
        Err(SlackClientError::ApiError(error)) => error.code,
        other => panic!("expected a Slack API error, got {other:?}"),
    }
}

#[tokio::test]
async fn every_payload_builder_deserializes_into_slack_morphism_models() {
    let fake = FakeSlack::start().await;
    let alice = fake.alice();
    let channel = fake.channel_id();

    let command = fake.slash_command(&alice, &channel, "/spar", "start latency-regression");
    let event: SlackCommandEvent =
        serde_json::from_value(command.payload.clone()).expect("a command");
    assert_eq!(event.text.as_deref(), Some("start latency-regression"));
    assert_eq!(event.user_id.0, alice.id);
    let form: Vec<(String, String)> = form_urlencoded::parse(command.form.as_bytes())
        .into_owned()
        .collect();
    assert!(form.contains(&("command".to_string(), "/spar".to_string())));

    let root = fake.message_event(&alice, &channel, "first", None);
    let root_ts = root["event"]["ts"].as_str().expect("a ts").to_string();
    let reply = fake.message_event(&alice, &channel, "second", Some(&root_ts));
    let SlackPushEvent::EventCallback(callback) =
        serde_json::from_value(reply).expect("a push event")
    else {
        panic!("not an event callback");
    };
    let SlackEventCallbackBody::Message(message) = callback.event else {
        panic!("not a message event");
    };
    assert_eq!(message.origin.thread_ts.map(|t| t.0), Some(root_ts.clone()));
    assert_eq!(
        message.content.and_then(|c| c.text).as_deref(),
        Some("second")
    );

    let other_bot = fake.add_bot("other-bot");
    let bot_message = fake.message_event(&other_bot, &channel, "beep", None);
    let SlackPushEvent::EventCallback(callback) =
        serde_json::from_value(bot_message).expect("a push event")
    else {
        panic!("not an event callback");
    };
    let SlackEventCallbackBody::Message(message) = callback.event else {
        panic!("not a message event");
    };
    assert_eq!(message.sender.bot_id.map(|b| b.0), other_bot.bot_id);

    let changed = fake.message_changed_event(&channel, &root_ts, "first, edited");
    let SlackPushEvent::EventCallback(callback) =
        serde_json::from_value(changed).expect("a push event")
    else {
        panic!("not an event callback");
    };
    let SlackEventCallbackBody::Message(message) = callback.event else {
        panic!("not a message event");
    };
    assert_eq!(message.subtype, Some(SlackMessageEventType::MessageChanged));
    assert_eq!(
        message
            .message
            .and_then(|m| m.content)
            .and_then(|c| c.text)
            .as_deref(),
        Some("first, edited")
    );

    let verification =
        fake.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    assert!(matches!(
        serde_json::from_value(verification).expect("a push event"),
        SlackPushEvent::UrlVerification(_)
    ));

    let session_client = client(&fake);
    let bot_token = token(fake.bot_token());
    let session = session_client.open_session(&bot_token);
    let posted = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            channel.clone().into(),
            SlackMessageContent::new()
                .with_text("pick one".into())
                .with_blocks(vec![
                    SlackActionsBlock::new(vec![
                        SlackBlockButtonElement::new(pt!("End"))
                            .with_action_id("end".into())
                            .into(),
                    ])
                    .into(),
                ]),
        ))
        .await
        .expect("posted");
    let click = fake.block_actions(&alice, &channel, &posted.ts.0, "end", "now");
    let SlackInteractionEvent::BlockActions(click) =
        serde_json::from_value(click).expect("an interaction")
    else {
        panic!("not block actions");
    };
    assert_eq!(click.actions.expect("actions")[0].action_id.0, "end");

    let opened = session
        .views_open(&SlackApiViewsOpenRequest::new(
            command.trigger_id.clone().into(),
            SlackView::Modal(
                SlackModalView::new(pt!("Reflection"), vec![])
                    .with_callback_id("reflection".into())
                    .with_private_metadata("drill-7".into()),
            ),
        ))
        .await
        .expect("a view");
    let submission = fake.view_submission(
        &alice,
        &opened.view.state_params.id.0,
        &[("answer", "text", "I listened")],
    );
    let SlackInteractionEvent::ViewSubmission(submission) =
        serde_json::from_value(submission).expect("an interaction")
    else {
        panic!("not a view submission");
    };
    let SlackView::Modal(modal) = submission.view.view else {
        panic!("not a modal");
    };
    assert_eq!(modal.private_metadata.as_deref(), Some("drill-7"));
    let values = submission.view.state_params.state.expect("state").values;
    assert_eq!(
        values[&"answer".into()][&"text".into()].value.as_deref(),
        Some("I listened")
    );
}

#[test]
fn sign_agrees_with_slack_morphisms_verifier() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        .to_string();
    let body = "token=x&team_id=T1&command=%2Fspar&text=start";
    let signature = sign("8f742231b10e8888abcd99yyyzzz85a5", &now, body);
    let verifier = SlackEventSignatureVerifier::new(&"8f742231b10e8888abcd99yyyzzz85a5".into());
    assert!(verifier.verify(&signature, body, &now).is_ok());
    assert!(
        verifier
            .verify(&signature, "token=x&text=tampered", &now)
            .is_err()
    );
    assert!(signature.starts_with("v0=") && signature.len() == 3 + 64);
}

/// What the listener's callbacks reach: the fake's channel, to reply in.
struct Reply {
    bot_token: SlackApiToken,
}

async fn on_command(
    event: SlackCommandEvent,
    _client: Arc<SlackClient<Connector>>,
    _state: SlackClientEventsUserState,
) -> UserCallbackResult<SlackCommandEventResponse> {
    let text = format!("starting {}", event.text.unwrap_or_default());
    Ok(SlackCommandEventResponse::new(
        SlackMessageContent::new().with_text(text),
    ))
}

async fn on_push(
    event: SlackPushEventCallback,
    client: Arc<SlackClient<Connector>>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    let SlackEventCallbackBody::Message(message) = event.event else {
        return Ok(());
    };
    if message.sender.bot_id.is_some() {
        return Ok(());
    }
    let token = {
        let storage = state.read().await;
        storage
            .get_user_state::<Reply>()
            .expect("the reply state")
            .bot_token
            .clone()
    };
    let channel = message.origin.channel.expect("a channel");
    let thread = message.origin.thread_ts.unwrap_or(message.origin.ts);
    let text = message.content.and_then(|c| c.text).unwrap_or_default();
    client
        .open_session(&token)
        .chat_post_message(
            &SlackApiChatPostMessageRequest::new(
                channel,
                SlackMessageContent::new().with_text(format!("heard: {text}")),
            )
            .with_thread_ts(thread),
        )
        .await?;
    Ok(())
}

async fn on_interaction(
    _event: SlackInteractionEvent,
    _client: Arc<SlackClient<Connector>>,
    _state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_mode_listener_connects_twice_and_acknowledges_each_envelope() {
    let fake = FakeSlack::start().await;
    let alice = fake.alice();
    let channel = fake.channel_id();
    let client = client(&fake);
    let environment = Arc::new(
        SlackClientEventsListenerEnvironment::new(client.clone()).with_user_state(Reply {
            bot_token: token(fake.bot_token()),
        }),
    );
    let callbacks = SlackSocketModeListenerCallbacks::new()
        .with_command_events(on_command)
        .with_push_events(on_push)
        .with_interaction_events(on_interaction);
    // Two connections as by default, without the default 5 s wait before the second.
    let config = SlackClientSocketModeConfig::new().with_initial_backoff_in_seconds(0);
    let listener = SlackClientSocketModeListener::new(&config, environment, callbacks);
    listener
        .listen_for(&token(fake.app_token()))
        .await
        .expect("listening");
    listener.start().await;

    fake.wait_connections(2, WAIT).await;
    let opens = fake.calls_to("apps.connections.open");
    assert_eq!(opens.len(), 2);
    assert_eq!(opens[0].token, Some(fake.app_token()));

    let command = fake.slash_command(&alice, &channel, "/spar", "latency-regression");
    let first = fake
        .send_envelope("slash_commands", command.payload, true)
        .await;
    let ack = fake.wait_ack(&first, WAIT).await;
    assert_eq!(
        ack.payload.expect("a response payload")["text"],
        "starting latency-regression"
    );

    let said = fake.message_event(&alice, &channel, "my opening line", None);
    let root_ts = said["event"]["ts"].as_str().expect("a ts").to_string();
    let second = fake.send_envelope("events_api", said, false).await;
    let ack = fake.wait_ack(&second, WAIT).await;
    assert!(ack.payload.is_none());
    let envelopes = fake.envelopes();
    assert_ne!(
        envelopes[0].connection, envelopes[1].connection,
        "one envelope per connection, in turns"
    );
    let posted = fake.wait_for_call("chat.postMessage", WAIT).await;
    assert_eq!(posted.args["thread_ts"], json!(root_ts));
    assert_eq!(posted.args["text"], "heard: my opening line");
    assert_eq!(posted.token, Some(fake.bot_token()));

    let retried = fake.message_event(&alice, &channel, "again", None);
    let third = fake.send_event_retry(retried, 1, "timeout").await;
    fake.wait_ack(&third, WAIT).await;
    assert_eq!(fake.envelopes()[2].frame["retry_attempt"], 1);

    let reply_ts = posted.response["ts"].as_str().expect("a ts").to_string();
    let click = fake.block_actions(&alice, &channel, &reply_ts, "end", "now");
    let fourth = fake.send_envelope("interactive", click, false).await;
    assert!(fake.wait_ack(&fourth, WAIT).await.payload.is_none());

    fake.disconnect("refresh_requested");
    fake.wait_connections_opened(3, WAIT).await;
    listener.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_api_answers_and_fails_as_slack_does() {
    let fake = FakeSlack::start().await;
    let alice = fake.alice();
    let client = client(&fake);
    let bot = token(fake.bot_token());
    let session = client.open_session(&bot);
    let general: SlackChannelId = fake.channel_id().into();

    let me = session.auth_test().await.expect("auth.test");
    assert_eq!(me.user_id.0, fake.bot().id);
    assert_eq!(me.bot_id.map(|b| b.0), fake.bot().bot_id);
    let wrong_token = token("xoxb-wrong".into());
    let wrong = client.open_session(&wrong_token);
    assert_eq!(api_error(wrong.auth_test().await), "invalid_auth");
    let app_token = token(fake.app_token());
    let app = client.open_session(&app_token);
    assert_eq!(api_error(app.auth_test().await), "not_allowed_token_type");

    let posted = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            general.clone(),
            SlackMessageContent::new().with_text("hello".into()),
        ))
        .await
        .expect("posted");
    assert_eq!(posted.message.sender.bot_id.map(|b| b.0), fake.bot().bot_id);
    let reply = session
        .chat_post_message(
            &SlackApiChatPostMessageRequest::new(
                general.clone(),
                SlackMessageContent::new().with_text("in thread".into()),
            )
            .with_thread_ts(posted.ts.clone()),
        )
        .await
        .expect("a reply");
    assert_eq!(reply.message.origin.thread_ts, Some(posted.ts.clone()));
    assert!(reply.ts.0 > posted.ts.0);
    let empty = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            general.clone(),
            SlackMessageContent::new(),
        ))
        .await;
    assert_eq!(api_error(empty), "no_text");

    let updated = session
        .chat_update(&SlackApiChatUpdateRequest::new(
            general.clone(),
            SlackMessageContent::new().with_text("hello, edited".into()),
            posted.ts.clone(),
        ))
        .await
        .expect("updated");
    assert_eq!(
        updated.message.content.text.as_deref(),
        Some("hello, edited")
    );
    session
        .chat_post_ephemeral(&SlackApiChatPostEphemeralRequest::new(
            general.clone(),
            alice.id.clone().into(),
            SlackMessageContent::new().with_text("only you".into()),
        ))
        .await
        .expect("ephemeral");
    session
        .chat_delete(&SlackApiChatDeleteRequest::new(
            general.clone(),
            posted.ts.clone(),
        ))
        .await
        .expect("deleted");
    let gone = session
        .chat_delete(&SlackApiChatDeleteRequest::new(
            general.clone(),
            posted.ts.clone(),
        ))
        .await;
    assert_eq!(api_error(gone), "message_not_found");

    let info = session
        .conversations_info(&SlackApiConversationsInfoRequest::new(general.clone()))
        .await
        .expect("info");
    assert_eq!(info.channel.name.as_deref(), Some("general"));
    let user = session
        .users_info(&SlackApiUsersInfoRequest::new(alice.id.clone().into()))
        .await
        .expect("a user");
    assert_eq!(user.user.name.as_deref(), Some("alice"));

    let outside: SlackChannelId = fake
        .add_channel("random", SlackChannelKind::Public { member: false })
        .into();
    let refused = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            outside.clone(),
            SlackMessageContent::new().with_text("hi".into()),
        ))
        .await;
    assert_eq!(api_error(refused), "not_in_channel");
    let joined = session
        .conversations_join(&SlackApiConversationsJoinRequest::new(outside.clone()))
        .await
        .expect("joined");
    assert_eq!(joined.channel.flags.is_member, Some(true));
    session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            outside.clone(),
            SlackMessageContent::new().with_text("hi".into()),
        ))
        .await
        .expect("posted after joining");
    fake.archive_channel(&outside.0);
    let archived = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            outside.clone(),
            SlackMessageContent::new().with_text("hi".into()),
        ))
        .await;
    assert_eq!(api_error(archived), "is_archived");
    let unknown = session
        .conversations_info(&SlackApiConversationsInfoRequest::new("C404".into()))
        .await;
    assert_eq!(api_error(unknown), "channel_not_found");

    fake.fail_once(
        "chat.postMessage",
        SlackError::MissingScope {
            needed: "chat:write".into(),
        },
    );
    let scope = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            general.clone(),
            SlackMessageContent::new().with_text("x".into()),
        ))
        .await;
    assert_eq!(api_error(scope), "missing_scope");
    assert_eq!(
        fake.calls_to("chat.postMessage")
            .last()
            .expect("recorded")
            .response["needed"],
        "chat:write"
    );
    fake.fail_once(
        "chat.postMessage",
        SlackError::RateLimited {
            retry_after_secs: 3,
        },
    );
    match session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            general.clone(),
            SlackMessageContent::new().with_text("x".into()),
        ))
        .await
    {
        Err(SlackClientError::RateLimitError(limit)) => {
            assert_eq!(limit.retry_after, Some(Duration::from_secs(3)));
        }
        other => panic!("expected a rate limit error, got {other:?}"),
    }

    let command = fake.slash_command(&alice, &fake.channel_id(), "/spar", "");
    let modal = || {
        SlackApiViewsOpenRequest::new(
            command.trigger_id.clone().into(),
            SlackView::Modal(SlackModalView::new(pt!("Reflection"), vec![])),
        )
    };
    session.views_open(&modal()).await.expect("a view");
    assert_eq!(
        api_error(session.views_open(&modal()).await),
        "exchanged_trigger_id"
    );

    let bytes = vec![137u8, 80, 78, 71, 13, 10];
    let upload = session
        .get_upload_url_external(&SlackApiFilesGetUploadUrlExternalRequest::new(
            "scores.png".into(),
            bytes.len(),
        ))
        .await
        .expect("an upload URL");
    session
        .files_upload_via_url(&SlackApiFilesUploadViaUrlRequest::new(
            upload.upload_url.clone(),
            bytes.clone(),
            "image/png".into(),
        ))
        .await
        .expect("uploaded");
    let done = session
        .files_complete_upload_external(
            &SlackApiFilesCompleteUploadExternalRequest::new(vec![SlackApiFilesComplete::new(
                upload.file_id.clone(),
            )])
            .with_channel_id(general.clone())
            .with_initial_comment("your scores".into()),
        )
        .await
        .expect("shared");
    assert_eq!(done.files[0].id, upload.file_id);
    assert_eq!(fake.file_bytes(&upload.file_id.0), Some(bytes));
    let shared = fake.messages_in(&general.0);
    assert_eq!(
        shared.last().expect("the file message")["text"],
        "your scores"
    );

    // A form-encoded call, as other clients send them, is recorded the same way.
    let form = "token=xoxb-fake-bot-token&channel=".to_string() + &general.0 + "&text=from+a+form";
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, axum::body::Body>(HttpConnector::new());
    let request = axum::http::Request::post(format!("{}/chat.postMessage", fake.api_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(form))
        .expect("a request");
    let response = http.request(request).await.expect("an answer");
    assert_eq!(response.status(), 200);
    let call: Value = fake
        .calls_to("chat.postMessage")
        .last()
        .expect("recorded")
        .args
        .clone();
    assert_eq!(call["text"], "from a form");
    assert_eq!(
        fake.calls_to("chat.postMessage")
            .last()
            .expect("recorded")
            .response["ok"],
        true
    );
}

#[tokio::test]
async fn direct_messages_response_urls_block_limits_and_archiving_behave_as_slack_does() {
    let fake = FakeSlack::start().await;
    let alice = fake.alice();
    let general = fake.channel_id();
    let session_client = client(&fake);
    let bot_token = token(fake.bot_token());
    let session = session_client.open_session(&bot_token);

    // conversations.open: the same direct-message conversation every time.
    let open = SlackApiConversationsOpenRequest::new().with_users(vec![alice.id.clone().into()]);
    let first = session.conversations_open(&open).await.expect("opened");
    let again = session
        .conversations_open_full(&open)
        .await
        .expect("opened");
    assert_eq!(first.channel.id, again.channel.id);
    assert_eq!(again.already_open, Some(true));
    assert_eq!(fake.im_of(&alice), Some(first.channel.id.0.clone()));
    let nobody = SlackApiConversationsOpenRequest::new().with_users(vec!["U0NOBODY".into()]);
    assert_eq!(
        api_error(session.conversations_open(&nobody).await),
        "user_not_found"
    );

    // A command's response_url takes a message, as slack-morphism sends it.
    let command = fake.slash_command(&alice, &general, "/spar", "history");
    let event: SlackCommandEvent = serde_json::from_value(command.payload).expect("a command");
    session_client
        .respond_to_event(
            &event.response_url,
            &SlackApiPostWebhookMessageRequest::new(
                SlackMessageContent::new().with_text("only for you".into()),
            ),
        )
        .await
        .expect("answered");
    let hooked = fake.calls_to("response_url");
    assert_eq!(hooked.len(), 1);
    assert_eq!(hooked[0].args["text"], "only for you");
    assert_eq!(hooked[0].args["url"], event.response_url.0.as_str());

    // Block Kit's limits: 50 blocks, 3,000 characters in a section.
    let post = |blocks: Vec<SlackBlock>| {
        SlackApiChatPostMessageRequest::new(
            general.clone().into(),
            SlackMessageContent::new()
                .with_text("x".into())
                .with_blocks(blocks),
        )
    };
    let section = |n: usize| -> SlackBlock {
        SlackSectionBlock::new()
            .with_text(md!("a".repeat(n)))
            .into()
    };
    session
        .chat_post_message(&post(vec![section(3000); 50]))
        .await
        .expect("at the limits");
    assert_eq!(
        api_error(
            session
                .chat_post_message(&post(vec![section(10); 51]))
                .await
        ),
        "invalid_blocks"
    );
    assert_eq!(
        api_error(session.chat_post_message(&post(vec![section(3001)])).await),
        "invalid_blocks"
    );

    // Archiving: the message Slack posts, as slack-morphism reads it; then nothing posts.
    let archived = fake.archive_event(&alice, &general);
    let SlackPushEvent::EventCallback(callback) =
        serde_json::from_value(archived).expect("a push event")
    else {
        panic!("not an event callback");
    };
    let SlackEventCallbackBody::Message(message) = callback.event else {
        panic!("not a message event");
    };
    assert_eq!(message.subtype, Some(SlackMessageEventType::ChannelArchive));
    assert_eq!(message.origin.channel.map(|c| c.0), Some(general.clone()));
    assert_eq!(
        api_error(session.chat_post_message(&post(vec![section(3)])).await),
        "is_archived"
    );
    let private = fake.add_channel("team", SlackChannelKind::Private);
    let archived = fake.archive_event(&alice, &private);
    assert_eq!(archived["event"]["subtype"], "group_archive");
}
