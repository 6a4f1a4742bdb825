//! The fake Discord against serenity and poise themselves: what the fake sends deserializes
//! into their models, a client connects and replies through it, poise registers and answers
//! a command, and the REST routes answer and fail as Discord does.

use crate::fake_discord::{DiscordError, FakeDiscord, FakeDiscordConfig, permission};
use serde_json::{Value, json};
use serenity::all::{
    ChannelId, ChannelType, Client, ClientBuilder, CommandInteraction, Context, CreateAttachment,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateMessage, CreateThread, EditInteractionResponse, EditMessage, Event, EventHandler,
    GatewayIntents, GuildId, Http, HttpBuilder, Interaction, Message, Ready, UserId,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

fn http(fake: &FakeDiscord) -> Http {
    HttpBuilder::new(fake.token())
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build()
}

fn event(name: &str, payload: Value) -> Event {
    serde_json::from_value(json!({"t": name, "d": payload}))
        .unwrap_or_else(|e| panic!("serenity rejects the fake's {name}: {e}"))
}

/// The status and Discord error code of a failed serenity request.
fn discord_error(error: serenity::Error) -> (u16, isize) {
    match error {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(response)) => {
            (response.status_code.as_u16(), response.error.code)
        }
        other => panic!("expected an error answer from Discord, got {other:?}"),
    }
}

/// Sends every event it gets (`Ready`, messages) on to the test.
struct Relay {
    ready: mpsc::UnboundedSender<Ready>,
    messages: mpsc::UnboundedSender<Message>,
}

#[serenity::async_trait]
impl EventHandler for Relay {
    async fn ready(&self, _: Context, ready: Ready) {
        let _ = self.ready.send(ready);
    }

    async fn message(&self, ctx: Context, message: Message) {
        if message.author.bot {
            return;
        }
        let reply = format!("heard: {}", message.content);
        let _ = message.channel_id.say(&ctx.http, reply).await;
        let _ = self.messages.send(message);
    }
}

struct Running {
    ready: mpsc::UnboundedReceiver<Ready>,
    messages: mpsc::UnboundedReceiver<Message>,
}

async fn start_client(fake: &FakeDiscord, intents: GatewayIntents) -> Running {
    let (ready_tx, ready) = mpsc::unbounded_channel();
    let (messages_tx, messages) = mpsc::unbounded_channel();
    let relay = Relay {
        ready: ready_tx,
        messages: messages_tx,
    };
    let mut client: Client = ClientBuilder::new_with_http(http(fake), intents)
        .event_handler(relay)
        .await
        .expect("a serenity client");
    tokio::spawn(async move { client.start().await });
    Running { ready, messages }
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("the event arrives")
        .expect("the client is running")
}

#[tokio::test]
async fn every_payload_builder_deserializes_into_serenity_models() {
    {
        let fake = FakeDiscord::start().await;
        let alice = fake.add_member("alice", permission::EVERYONE_DEFAULT);
        let channel = fake.channel_id();

        let command = fake
            .slash_command(&alice, "spar")
            .subcommand("start")
            .string("scenario", "latency-regression")
            .integer("minutes", 10)
            .boolean("hostile", true)
            .number("weight", 0.5)
            .user("partner", &fake.owner())
            .channel("where", channel)
            .build();
        let Event::InteractionCreate(created) = event("INTERACTION_CREATE", command) else {
            panic!("not an interaction");
        };
        let Interaction::Command(command) = created.interaction else {
            panic!("not a command interaction");
        };
        assert_eq!(command.data.name, "spar");
        assert_eq!(
            command.user.id.get(),
            alice.id,
            "serenity copies the member's user"
        );
        let options = command.data.options();
        let serenity::all::ResolvedValue::SubCommand(inner) = &options[0].value else {
            panic!("not a subcommand: {options:?}");
        };
        assert_eq!(inner[0].name, "scenario");
        assert!(matches!(
            inner[0].value,
            serenity::all::ResolvedValue::String("latency-regression")
        ));
        assert!(matches!(
            inner[1].value,
            serenity::all::ResolvedValue::Integer(10)
        ));
        assert!(
            matches!(inner[4].value, serenity::all::ResolvedValue::User(..)),
            "{inner:?}"
        );
        assert!(
            matches!(inner[5].value, serenity::all::ResolvedValue::Channel(..)),
            "{inner:?}"
        );
        assert!(
            command
                .member
                .as_ref()
                .and_then(|m| m.permissions)
                .is_some()
        );
        assert!(command.app_permissions.is_some());

        let autocomplete = fake
            .slash_command(&alice, "spar")
            .subcommand("start")
            .autocomplete("scenario", "lat")
            .build();
        let Event::InteractionCreate(created) = event("INTERACTION_CREATE", autocomplete) else {
            panic!("not an interaction");
        };
        let Interaction::Autocomplete(autocomplete) = created.interaction else {
            panic!("not an autocomplete interaction");
        };
        let focused = autocomplete.data.autocomplete().expect("a focused option");
        assert_eq!((focused.name, focused.value), ("scenario", "lat"));

        let posted = fake.message_create(&alice, channel, "a message with buttons");
        let message_id: u64 = posted["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("an id");
        let Event::MessageCreate(created) = event("MESSAGE_CREATE", posted) else {
            panic!("not a message");
        };
        assert_eq!(
            created.message.guild_id,
            Some(GuildId::new(fake.guild_id()))
        );
        assert!(!created.message.author.bot);

        let click = fake.button_click(&alice, message_id, "end-drill");
        let Event::InteractionCreate(created) = event("INTERACTION_CREATE", click) else {
            panic!("not an interaction");
        };
        let Interaction::Component(click) = created.interaction else {
            panic!("not a component interaction");
        };
        assert_eq!(click.data.custom_id, "end-drill");
        assert_eq!(click.message.id.get(), message_id);

        let select = fake.select(&alice, message_id, "difficulty", &["hostile"]);
        let Event::InteractionCreate(created) = event("INTERACTION_CREATE", select) else {
            panic!("not an interaction");
        };
        assert!(matches!(created.interaction, Interaction::Component(_)));

        let submit = fake.modal_submit(&alice, channel, "reflection", &[("answer", "I listened")]);
        let Event::InteractionCreate(created) = event("INTERACTION_CREATE", submit) else {
            panic!("not an interaction");
        };
        let Interaction::Modal(modal) = created.interaction else {
            panic!("not a modal submit");
        };
        assert_eq!(modal.data.custom_id, "reflection");
        let serenity::all::ActionRowComponent::InputText(input) =
            &modal.data.components[0].components[0]
        else {
            panic!("not a text input");
        };
        assert_eq!(input.value.as_deref(), Some("I listened"));

        let bot = fake.add_bot("other-bot");
        let Event::MessageCreate(created) =
            event("MESSAGE_CREATE", fake.message_create(&bot, channel, "beep"))
        else {
            panic!("not a message");
        };
        assert!(created.message.author.bot);

        assert!(matches!(
            event("MESSAGE_UPDATE", fake.message_update(message_id, "edited")),
            Event::MessageUpdate(_)
        ));
        assert!(matches!(
            event("MESSAGE_DELETE", fake.message_delete(message_id)),
            Event::MessageDelete(_)
        ));

        let http = http(&fake);
        let thread = ChannelId::new(channel)
            .create_thread(&http, CreateThread::new("drill"))
            .await
            .expect("a thread");
        let Event::ThreadUpdate(update) = event(
            "THREAD_UPDATE",
            fake.thread_update_archived(thread.id.get(), true),
        ) else {
            panic!("not a thread update");
        };
        assert!(update.thread.thread_metadata.is_some_and(|m| m.archived));
        assert!(matches!(
            event("THREAD_DELETE", fake.thread_delete(thread.id.get())),
            Event::ThreadDelete(_)
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serenity_client_gets_ready_hears_a_message_and_replies_through_rest() {
    let fake = FakeDiscord::start().await;
    let alice = fake.add_member("alice", permission::EVERYONE_DEFAULT);
    let intents = GatewayIntents::non_privileged() | GatewayIntents::MESSAGE_CONTENT;
    let mut client = start_client(&fake, intents).await;

    let ready = next(&mut client.ready).await;
    assert_eq!(ready.user.id.get(), fake.bot_user_id());
    assert_eq!(ready.application.id.get(), fake.application_id());
    assert_eq!(ready.guilds.len(), 1);
    let identify = &fake.identifies()[0];
    assert_eq!(identify["token"], json!(format!("Bot {}", fake.token())));
    assert_eq!(identify["intents"], json!(intents.bits()));
    assert_eq!(fake.calls_matching("GET", "/gateway")[0].path, "/gateway");

    let channel = fake.channel_id();
    assert_eq!(
        fake.dispatch(
            "MESSAGE_CREATE",
            fake.message_create(&alice, channel, "hello")
        ),
        1
    );
    let heard = next(&mut client.messages).await;
    assert_eq!(heard.content, "hello");
    let reply = fake
        .wait_for_call("POST", &format!("/channels/{channel}/messages"), WAIT)
        .await;
    assert_eq!(reply.body["content"], "heard: hello");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.authorization, Some(format!("Bot {}", fake.token())));
    // The bot's own reply came back over the gateway and was ignored as a bot's message.
    assert_eq!(fake.messages_in(channel).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_message_content_intent_message_content_arrives_empty() {
    let fake = FakeDiscord::start().await;
    let alice = fake.add_member("alice", permission::EVERYONE_DEFAULT);
    let mut client = start_client(&fake, GatewayIntents::non_privileged()).await;
    next(&mut client.ready).await;

    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(&alice, fake.channel_id(), "secret"),
    );
    assert_eq!(next(&mut client.messages).await.content, "");
    let mention = format!("<@{}> hi", fake.bot_user_id());
    fake.dispatch(
        "MESSAGE_CREATE",
        fake.message_create(&alice, fake.channel_id(), &mention),
    );
    assert_eq!(
        next(&mut client.messages).await.content,
        mention,
        "a mention of the bot keeps its content"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_session_resumes_and_receives_what_it_missed() {
    let fake = FakeDiscord::start().await;
    let alice = fake.add_member("alice", permission::EVERYONE_DEFAULT);
    let intents = GatewayIntents::non_privileged() | GatewayIntents::MESSAGE_CONTENT;
    let mut client = start_client(&fake, intents).await;
    next(&mut client.ready).await;

    fake.hold_connections(true);
    fake.drop_sessions();
    let missed = fake.message_create(&alice, fake.channel_id(), "while you were away");
    assert_eq!(
        fake.dispatch("MESSAGE_CREATE", missed),
        0,
        "nobody is connected"
    );
    fake.hold_connections(false);
    fake.wait_resumed(1, WAIT).await;
    assert_eq!(
        next(&mut client.messages).await.content,
        "while you were away"
    );
    assert_eq!(fake.identifies().len(), 1, "a resume is not a new identify");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_acknowledged_and_the_session_stays_up() {
    let fake = FakeDiscord::start_with(FakeDiscordConfig {
        heartbeat_interval_ms: 100,
        ..FakeDiscordConfig::default()
    })
    .await;
    let mut client = start_client(&fake, GatewayIntents::non_privileged()).await;
    next(&mut client.ready).await;
    fake.wait_heartbeats(3, WAIT).await;
    assert_eq!(fake.identified(), 1);
    assert_eq!(fake.identifies().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_by_rest_and_the_gateway() {
    let fake = FakeDiscord::start().await;
    let wrong = HttpBuilder::new("not-the-token")
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let error = wrong.get_current_user().await.expect_err("refused");
    assert_eq!(discord_error(error), (401, 0));
    assert_eq!(fake.calls()[0].status, 401);

    let mut client = ClientBuilder::new_with_http(wrong, GatewayIntents::non_privileged())
        .await
        .expect("a serenity client");
    let ended = tokio::time::timeout(WAIT, client.start())
        .await
        .expect("the client gives up");
    assert!(
        matches!(
            ended,
            Err(serenity::Error::Gateway(
                serenity::gateway::GatewayError::InvalidAuthentication
            ))
        ),
        "{ended:?}"
    );
    assert_eq!(fake.identified(), 0);
}

/// The data poise hands commands; nothing is shared here.
struct Data;
type PoiseError = Box<dyn std::error::Error + Send + Sync>;
type PoiseContext<'a> = poise::Context<'a, Data, PoiseError>;

/// Starts a drill.
#[poise::command(slash_command)]
async fn start(
    ctx: PoiseContext<'_>,
    #[description = "Which scenario"] scenario: String,
    #[description = "How long, in minutes"] minutes: i64,
) -> Result<(), PoiseError> {
    ctx.say(format!("starting {scenario} for {minutes} minutes"))
        .await?;
    Ok(())
}

/// Drills.
#[poise::command(slash_command, subcommands("start"))]
async fn spar(_: PoiseContext<'_>) -> Result<(), PoiseError> {
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poise_registers_its_commands_in_a_guild_and_answers_an_interaction() {
    let fake = FakeDiscord::start().await;
    let alice = fake.add_member("alice", permission::EVERYONE_DEFAULT);
    let guild = GuildId::new(fake.guild_id());
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![spar()],
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                poise::builtins::register_in_guild(ctx, &framework.options().commands, guild)
                    .await?;
                Ok(Data)
            })
        })
        .build();
    let mut client = ClientBuilder::new_with_http(http(&fake), GatewayIntents::non_privileged())
        .framework(framework)
        .await
        .expect("a serenity client");
    tokio::spawn(async move { client.start().await });

    let path = format!(
        "/applications/{}/guilds/{}/commands",
        fake.application_id(),
        guild
    );
    let registered = fake.wait_for_call("PUT", &path, WAIT).await;
    assert_eq!(registered.body[0]["name"], "spar");
    assert_eq!(
        registered.body[0]["options"][0]["type"], 1,
        "start is a subcommand"
    );
    assert_eq!(registered.status, 200);
    assert!(
        !fake
            .calls_matching("GET", "/oauth2/applications/@me")
            .is_empty()
    );
    let command_id = fake.commands(Some(guild.get()))[0]["id"].clone();

    let interaction = fake
        .slash_command(&alice, "spar")
        .subcommand("start")
        .string("scenario", "latency-regression")
        .integer("minutes", 10)
        .build();
    assert_eq!(
        interaction["data"]["id"], command_id,
        "the registered command's id"
    );
    let id = interaction["id"].as_str().expect("an id").to_string();
    fake.dispatch("INTERACTION_CREATE", interaction);

    let callback = fake
        .wait_for_call("POST", &format!("/interactions/{id}/"), WAIT)
        .await;
    assert_eq!(callback.status, 204);
    assert_eq!(callback.body["type"], 4);
    assert_eq!(
        callback.body["data"]["content"],
        "starting latency-regression for 10 minutes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interaction_callbacks_webhooks_and_followups_behave_as_on_discord() {
    let fake = FakeDiscord::start().await;
    let alice = fake.add_member("alice", permission::EVERYONE_DEFAULT);
    let http = http(&fake);
    http.set_application_id(fake.application_id().into());

    let payload = fake
        .slash_command(&alice, "spar")
        .subcommand("start")
        .build();
    let interaction: CommandInteraction =
        serde_json::from_value(payload.clone()).expect("a command interaction");
    let unknown = interaction
        .create_response(&http, CreateInteractionResponse::Acknowledge)
        .await
        .expect_err("not dispatched yet");
    assert_eq!(discord_error(unknown), (404, 10062));
    fake.dispatch("INTERACTION_CREATE", payload);

    let too_early = interaction
        .get_response(&http)
        .await
        .expect_err("no response yet");
    assert_eq!(discord_error(too_early), (404, 10015));
    interaction
        .create_response(
            &http,
            CreateInteractionResponse::Defer(
                CreateInteractionResponseMessage::new().ephemeral(true),
            ),
        )
        .await
        .expect("deferred");
    let twice = interaction
        .create_response(&http, CreateInteractionResponse::Acknowledge)
        .await
        .expect_err("already acknowledged");
    assert_eq!(discord_error(twice), (400, 40060));

    let thinking = interaction
        .get_response(&http)
        .await
        .expect("the placeholder");
    assert!(
        thinking.flags.is_some_and(|f| f.bits() & 128 != 0),
        "loading"
    );
    let edited = interaction
        .edit_response(&http, EditInteractionResponse::new().content("ready"))
        .await
        .expect("edited");
    assert_eq!(edited.content, "ready");
    assert!(
        edited
            .flags
            .is_some_and(|f| f.bits() & 128 == 0 && f.bits() & 64 != 0)
    );
    let followup = interaction
        .create_followup(
            &http,
            CreateInteractionResponseFollowup::new()
                .content("and the brief")
                .add_file(CreateAttachment::bytes(b"brief text".to_vec(), "brief.txt")),
        )
        .await
        .expect("a followup");
    assert_eq!(followup.attachments[0].filename, "brief.txt");
    assert_eq!(
        followup.webhook_id.map(|w| w.get()),
        Some(fake.application_id())
    );
    let sent = fake.calls_matching("POST", &format!("/webhooks/{}/", fake.application_id()));
    assert_eq!(sent[0].files[0].bytes, b"brief text");
    interaction.delete_response(&http).await.expect("deleted");
    assert_eq!(
        discord_error(interaction.get_response(&http).await.expect_err("gone")),
        (404, 10008)
    );

    // A button on the followup answered by updating the message it is on.
    let payload = fake.button_click(&alice, followup.id.get(), "next");
    let Interaction::Component(component) =
        serde_json::from_value(payload.clone()).expect("a component")
    else {
        panic!("not a component");
    };
    fake.dispatch("INTERACTION_CREATE", payload);
    component
        .create_response(
            &http,
            CreateInteractionResponse::UpdateMessage(
                CreateInteractionResponseMessage::new().content("updated"),
            ),
        )
        .await
        .expect("updated");
    assert_eq!(
        fake.message(followup.id.get()).expect("still there")["content"],
        "updated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_routes_answer_with_discord_objects_and_errors() {
    let fake = FakeDiscord::start().await;
    let alice = fake.add_member("alice", permission::EVERYONE_DEFAULT);
    let http = Arc::new(http(&fake));
    let channel = ChannelId::new(fake.channel_id());

    let me = http.get_current_user().await.expect("the bot user");
    assert!(me.bot);
    let app = http
        .get_current_application_info()
        .await
        .expect("the application");
    assert_eq!(app.id.get(), fake.application_id());
    assert_eq!(
        http.get_bot_gateway().await.expect("gateway").url,
        fake.gateway_url()
    );
    let moderator = fake.add_member(
        "mod",
        permission::EVERYONE_DEFAULT | permission::MANAGE_MESSAGES,
    );
    let guild = http
        .get_guild(GuildId::new(fake.guild_id()))
        .await
        .expect("the guild");
    assert_eq!(
        guild.roles.len(),
        3,
        "@everyone, the bot's role and the moderator's"
    );
    let member = http
        .get_member(guild.id, UserId::new(moderator.id))
        .await
        .expect("a member");
    let permissions = member
        .roles
        .iter()
        .chain([&serenity::all::RoleId::new(guild.id.get())])
        .fold(0, |bits, role| bits | guild.roles[role].permissions.bits());
    assert_eq!(
        permissions,
        permission::EVERYONE_DEFAULT | permission::MANAGE_MESSAGES
    );
    let member = http
        .get_member(guild.id, UserId::new(fake.bot_user_id()))
        .await
        .expect("the bot's member");
    assert_eq!(member.roles.len(), 1);
    let channel_object = http.get_channel(channel).await.expect("the channel");
    assert!(channel_object.guild().is_some());

    let thread = channel
        .create_thread(
            &*http,
            CreateThread::new("drill with alice")
                .kind(ChannelType::PrivateThread)
                .invitable(false)
                .audit_log_reason("a drill starts"),
        )
        .await
        .expect("a private thread");
    assert_eq!(thread.kind, ChannelType::PrivateThread);
    assert_eq!(thread.parent_id, Some(channel));
    assert!(thread.id > channel);
    let created = &fake.calls_matching("POST", &format!("/channels/{channel}/threads"))[0];
    assert_eq!(created.audit_log_reason.as_deref(), Some("a drill starts"));
    thread
        .id
        .add_thread_member(&*http, UserId::new(alice.id))
        .await
        .expect("alice joins");
    assert_eq!(
        fake.calls_matching(
            "PUT",
            &format!("/channels/{}/thread-members/{}", thread.id, alice.id)
        )[0]
        .status,
        204
    );

    let sent = thread
        .id
        .send_message(
            &*http,
            CreateMessage::new()
                .content("your scorecard")
                .add_file(CreateAttachment::bytes(vec![137, 80, 78, 71], "scores.png")),
        )
        .await
        .expect("sent");
    assert_eq!(sent.attachments[0].filename, "scores.png");
    assert_eq!(sent.attachments[0].size, 4);
    let call = &fake.calls_matching("POST", &format!("/channels/{}/messages", thread.id))[0];
    assert_eq!(call.body["content"], "your scorecard");
    assert_eq!(call.files[0].filename, "scores.png");
    assert_eq!(call.files[0].bytes, vec![137, 80, 78, 71]);
    let edited = thread
        .id
        .edit_message(
            &*http,
            sent.id,
            EditMessage::new().content("your scorecard, revised"),
        )
        .await
        .expect("edited");
    assert!(edited.edited_timestamp.is_some());
    assert_eq!(edited.attachments.len(), 1, "an edit keeps the attachments");
    thread.id.broadcast_typing(&*http).await.expect("typing");
    thread
        .id
        .delete_message(&*http, sent.id)
        .await
        .expect("deleted");
    let gone = thread
        .id
        .delete_message(&*http, sent.id)
        .await
        .expect_err("already gone");
    assert_eq!(discord_error(gone), (404, 10008));

    let dm = UserId::new(alice.id)
        .create_dm_channel(&*http)
        .await
        .expect("a DM");
    assert_eq!(dm.recipient.id.get(), alice.id);

    fake.fail_once(
        "POST",
        &format!("/channels/{channel}/messages"),
        DiscordError::MissingPermissions,
    );
    let refused = channel.say(&*http, "hi").await.expect_err("scripted");
    assert_eq!(discord_error(refused), (403, 50013));
    channel.say(&*http, "hi").await.expect("only once");
    fake.fail_always(
        "POST",
        "/channels/",
        DiscordError::RateLimited {
            retry_after: 1.5,
            global: false,
        },
    );
    for _ in 0..2 {
        let limited = channel.say(&*http, "hi").await.expect_err("rate limited");
        // Discord's 429 body carries no `code`; serenity reports what it could not parse as -1.
        assert_eq!(discord_error(limited), (429, -1));
    }
    let limited = fake
        .calls()
        .into_iter()
        .rev()
        .find(|c| c.status == 429)
        .expect("a 429");
    assert_eq!(limited.response["retry_after"], 1.5);
    fake.clear_failures();
    let unknown = ChannelId::new(1)
        .say(&*http, "hi")
        .await
        .expect_err("no such channel");
    assert_eq!(discord_error(unknown), (404, 10003));
    let empty = http
        .send_message(channel, vec![], &json!({"content": ""}))
        .await
        .expect_err("empty");
    assert_eq!(discord_error(empty), (400, 50006));
}
