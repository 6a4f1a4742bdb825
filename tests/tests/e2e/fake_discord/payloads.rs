//! Gateway payloads as Discord sends them: slash commands, autocomplete, components and
//! modal submits (`INTERACTION_CREATE`), and message and thread events. Building one also
//! changes the fake's world the way the event would (a message exists once created).

use super::world::{World, channel_type, id_str, snowflake, timestamp_of};
use super::{DiscordUser, FakeDiscord};
use serde_json::{Value, json};

/// What Discord's free tier allows per attachment, sent with every interaction.
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// The fields every interaction carries: ids, token, where it happened and who did it,
/// with the member's and the bot's computed permissions, as Discord sends them.
fn interaction(world: &mut World, kind: u64, user_id: u64, channel_id: u64) -> Value {
    let id = world.now_id();
    let guild = world.guild_of_channel(channel_id);
    let mut channel = world.channels.get(&channel_id).cloned().unwrap_or_else(|| {
        panic!("the fake Discord has no channel {channel_id} for an interaction")
    });
    let mut body = json!({
        "id": id_str(id),
        "application_id": id_str(world.application_id),
        "type": kind,
        "token": format!("fake-interaction-token-{id}"),
        "version": 1,
        "channel_id": id_str(channel_id),
        "locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    });
    match guild {
        Some(guild_id) => {
            let permissions = world.permissions_in(guild_id, user_id);
            let mut member = world.member_json(guild_id, user_id).unwrap_or_else(|| {
                panic!("user {user_id} is not a member of guild {guild_id} in the fake Discord")
            });
            member["permissions"] = json!(permissions.to_string());
            channel["permissions"] = json!(permissions.to_string());
            body["guild_id"] = id_str(guild_id);
            body["guild"] = json!({"id": id_str(guild_id), "locale": "en-US", "features": []});
            body["guild_locale"] = json!("en-US");
            body["member"] = member;
            body["app_permissions"] =
                json!(world.permissions_in(guild_id, world.bot.id).to_string());
            body["authorizing_integration_owners"] = json!({"0": id_str(guild_id)});
            body["context"] = json!(0);
        }
        None => {
            body["user"] = world
                .user_json(user_id)
                .unwrap_or_else(|| panic!("the fake Discord has no user {user_id}"));
            // In a DM the bot can do what a DM allows.
            body["app_permissions"] = json!("1126174785006656");
            body["authorizing_integration_owners"] = json!({"0": "0"});
            body["context"] = json!(1);
        }
    }
    body["channel"] = channel;
    body
}

/// A `/command [group] [subcommand] [options]` invocation (CHAT_INPUT, interaction type 2),
/// or with `autocomplete` the autocomplete request for it (type 4).
pub struct SlashCommand<'a> {
    fake: &'a FakeDiscord,
    user: DiscordUser,
    command: String,
    channel: Option<u64>,
    group: Option<String>,
    subcommand: Option<String>,
    options: Vec<Value>,
    resolved: Value,
    autocomplete: bool,
}

impl<'a> SlashCommand<'a> {
    pub fn subcommand(mut self, name: &str) -> Self {
        self.subcommand = Some(name.to_string());
        self
    }

    /// A subcommand group (option type 2) around the subcommand.
    pub fn group(mut self, name: &str) -> Self {
        self.group = Some(name.to_string());
        self
    }

    /// Where it is run; the fake's first channel by default. A thread or DM channel works.
    pub fn in_channel(mut self, channel_id: u64) -> Self {
        self.channel = Some(channel_id);
        self
    }

    pub fn string(self, name: &str, value: &str) -> Self {
        self.option(name, 3, json!(value))
    }

    pub fn integer(self, name: &str, value: i64) -> Self {
        self.option(name, 4, json!(value))
    }

    pub fn boolean(self, name: &str, value: bool) -> Self {
        self.option(name, 5, json!(value))
    }

    pub fn number(self, name: &str, value: f64) -> Self {
        self.option(name, 10, json!(value))
    }

    /// A user option: the id as the value, the user and member in `resolved`.
    pub fn user(mut self, name: &str, user: &DiscordUser) -> Self {
        {
            let state = self.fake.shared.lock();
            let world = &state.world;
            if let Some(json) = world.user_json(user.id) {
                self.resolved["users"][user.id.to_string()] = json;
            }
            if let Some(mut member) = world.member_json(world.default_guild, user.id) {
                if let Some(object) = member.as_object_mut() {
                    object.remove("user");
                }
                member["permissions"] = json!(
                    world
                        .permissions_in(world.default_guild, user.id)
                        .to_string()
                );
                self.resolved["members"][user.id.to_string()] = member;
            }
        }
        self.option(name, 6, id_str(user.id))
    }

    /// A channel option: the id as the value, the partial channel in `resolved`.
    pub fn channel(mut self, name: &str, channel_id: u64) -> Self {
        if let Some(channel) = self.fake.channel(channel_id) {
            let partial = json!({
                "id": channel["id"],
                "name": channel["name"],
                "type": channel["type"],
                "permissions": "0",
                "parent_id": channel["parent_id"],
                "thread_metadata": channel["thread_metadata"],
            });
            self.resolved["channels"][channel_id.to_string()] = partial;
        }
        self.option(name, 7, id_str(channel_id))
    }

    /// Makes this the autocomplete request sent while `name` is being typed: interaction
    /// type 4, with `partial` as the focused option's (string) value.
    pub fn autocomplete(mut self, name: &str, partial: &str) -> Self {
        self.autocomplete = true;
        self.options
            .push(json!({"name": name, "type": 3, "value": partial, "focused": true}));
        self
    }

    fn option(mut self, name: &str, kind: u64, value: Value) -> Self {
        self.options
            .push(json!({"name": name, "type": kind, "value": value}));
        self
    }

    /// The `INTERACTION_CREATE` payload. `data.id` is the registered command's id when the
    /// bot registered one by this name (in the guild, else globally).
    pub fn build(self) -> Value {
        let mut state = self.fake.shared.lock();
        let world = &mut state.world;
        let channel = self.channel.unwrap_or(world.default_channel);
        let kind = if self.autocomplete { 4 } else { 2 };
        let mut body = interaction(world, kind, self.user.id, channel);
        let guild = world.guild_of_channel(channel);
        let registered = guild
            .and_then(|g| world.guild_commands.get(&g))
            .and_then(|list| list.iter().find(|c| c["name"] == json!(self.command)))
            .or_else(|| {
                world
                    .global_commands
                    .iter()
                    .find(|c| c["name"] == json!(self.command))
            })
            .cloned();
        let command_id = registered
            .as_ref()
            .and_then(|c| snowflake(&c["id"]))
            .unwrap_or_else(|| world.now_id());
        let mut options = self.options;
        if let Some(sub) = self.subcommand {
            options = vec![json!({"name": sub, "type": 1, "options": options})];
        }
        if let Some(group) = self.group {
            options = vec![json!({"name": group, "type": 2, "options": options})];
        }
        let mut data = json!({
            "id": id_str(command_id),
            "name": self.command,
            "type": 1,
            "options": options,
        });
        if let Some(guild_id) = registered.as_ref().and_then(|c| snowflake(&c["guild_id"])) {
            data["guild_id"] = id_str(guild_id);
        }
        if self.resolved.as_object().is_some_and(|r| !r.is_empty()) {
            data["resolved"] = self.resolved;
        }
        body["data"] = data;
        body
    }
}

impl FakeDiscord {
    /// The bot itself, e.g. to build a message it sent.
    pub fn bot_user(&self) -> DiscordUser {
        let state = self.shared.lock();
        DiscordUser {
            id: state.world.bot.id,
            name: state.world.bot.username.clone(),
        }
    }

    /// Another bot, member of the first guild, whose messages carry `author.bot`.
    pub fn add_bot(&self, name: &str) -> DiscordUser {
        let user = self.add_member(name, super::permission::EVERYONE_DEFAULT);
        if let Some(record) = self.shared.lock().world.users.get_mut(&user.id) {
            record.bot = true;
        }
        user
    }

    /// Starts building `/command` run by `user`.
    pub fn slash_command(&self, user: &DiscordUser, command: &str) -> SlashCommand<'_> {
        SlashCommand {
            fake: self,
            user: user.clone(),
            command: command.to_string(),
            channel: None,
            group: None,
            subcommand: None,
            options: Vec::new(),
            resolved: json!({}),
            autocomplete: false,
        }
    }

    /// `user` clicks the button `custom_id` on a message the fake holds (interaction type 3).
    pub fn button_click(&self, user: &DiscordUser, message_id: u64, custom_id: &str) -> Value {
        self.component(
            user,
            message_id,
            json!({"custom_id": custom_id, "component_type": 2}),
        )
    }

    /// `user` picks `values` in the string select `custom_id` on a message.
    pub fn select(
        &self,
        user: &DiscordUser,
        message_id: u64,
        custom_id: &str,
        values: &[&str],
    ) -> Value {
        self.component(
            user,
            message_id,
            json!({"custom_id": custom_id, "component_type": 3, "values": values}),
        )
    }

    fn component(&self, user: &DiscordUser, message_id: u64, data: Value) -> Value {
        let mut state = self.shared.lock();
        let world = &mut state.world;
        let message = world
            .messages
            .get(&message_id)
            .cloned()
            .unwrap_or_else(|| panic!("the fake Discord has no message {message_id}"));
        let channel = snowflake(&message["channel_id"]).unwrap_or(0);
        let mut body = interaction(world, 3, user.id, channel);
        body["message"] = message;
        body["data"] = data;
        body
    }

    /// `user` submits the modal `custom_id` with these text inputs (`custom_id`, value),
    /// each in its own action row as Discord returns them (interaction type 5).
    pub fn modal_submit(
        &self,
        user: &DiscordUser,
        channel_id: u64,
        custom_id: &str,
        inputs: &[(&str, &str)],
    ) -> Value {
        let mut state = self.shared.lock();
        let world = &mut state.world;
        let mut body = interaction(world, 5, user.id, channel_id);
        let rows: Vec<Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, (id, value))| {
                json!({"type": 1, "id": 2 * i + 1, "components": [
                    {"type": 4, "id": 2 * i + 2, "custom_id": id, "value": value}
                ]})
            })
            .collect();
        body["data"] = json!({"custom_id": custom_id, "components": rows});
        body
    }

    /// `author` posts `content` in a channel or thread: the `MESSAGE_CREATE` payload, with
    /// `guild_id` and `member` in a guild. The message then exists in the fake.
    pub fn message_create(&self, author: &DiscordUser, channel_id: u64, content: &str) -> Value {
        let mut state = self.shared.lock();
        let world = &mut state.world;
        let author_json = world
            .user_json(author.id)
            .unwrap_or_else(|| panic!("the fake Discord has no user {}", author.id));
        let mut message = world.new_message(channel_id, &author_json, 0);
        message["content"] = json!(content);
        message["mentions"] = Value::Array(world.mentions_in(content));
        let id = snowflake(&message["id"]).unwrap_or(0);
        world.messages.insert(id, message.clone());
        gateway_message(world, message, channel_id, author.id)
    }

    /// An edit of a message the fake holds: the `MESSAGE_UPDATE` payload.
    pub fn message_update(&self, message_id: u64, content: &str) -> Value {
        let mut state = self.shared.lock();
        let world = &mut state.world;
        let edited = timestamp_of(world.now_id());
        let mentions = Value::Array(world.mentions_in(content));
        let message = world
            .messages
            .get_mut(&message_id)
            .unwrap_or_else(|| panic!("the fake Discord has no message {message_id}"));
        message["content"] = json!(content);
        message["mentions"] = mentions;
        message["edited_timestamp"] = json!(edited);
        let message = message.clone();
        let channel = snowflake(&message["channel_id"]).unwrap_or(0);
        let author = snowflake(&message["author"]["id"]).unwrap_or(0);
        gateway_message(world, message, channel, author)
    }

    /// The deletion of a message: the `MESSAGE_DELETE` payload. The message is gone.
    pub fn message_delete(&self, message_id: u64) -> Value {
        let mut state = self.shared.lock();
        let world = &mut state.world;
        let message = world
            .messages
            .remove(&message_id)
            .unwrap_or_else(|| panic!("the fake Discord has no message {message_id}"));
        let channel = snowflake(&message["channel_id"]).unwrap_or(0);
        let mut event = json!({"id": message["id"], "channel_id": message["channel_id"]});
        if let Some(guild) = world.guild_of_channel(channel) {
            event["guild_id"] = id_str(guild);
        }
        event
    }

    /// A thread archived (or unarchived) by someone else or by Discord's inactivity timer:
    /// the `THREAD_UPDATE` payload.
    pub fn thread_update_archived(&self, thread_id: u64, archived: bool) -> Value {
        let mut state = self.shared.lock();
        let world = &mut state.world;
        let stamp = timestamp_of(world.now_id());
        let thread = world
            .channels
            .get_mut(&thread_id)
            .filter(|c| channel_type::is_thread(c["type"].as_u64().unwrap_or(0)))
            .unwrap_or_else(|| panic!("the fake Discord has no thread {thread_id}"));
        thread["thread_metadata"]["archived"] = json!(archived);
        thread["thread_metadata"]["archive_timestamp"] = json!(stamp);
        thread.clone()
    }

    /// A thread deleted: the `THREAD_DELETE` payload. The thread and its messages are gone.
    pub fn thread_delete(&self, thread_id: u64) -> Value {
        let mut state = self.shared.lock();
        let world = &mut state.world;
        let thread = world
            .channels
            .remove(&thread_id)
            .unwrap_or_else(|| panic!("the fake Discord has no thread {thread_id}"));
        world
            .messages
            .retain(|_, m| snowflake(&m["channel_id"]) != Some(thread_id));
        json!({"id": thread["id"], "guild_id": thread["guild_id"], "parent_id": thread["parent_id"], "type": thread["type"]})
    }
}

/// A stored message as the gateway sends it: with `guild_id` and the author's `member`
/// (without `user`) in a guild.
fn gateway_message(world: &World, mut message: Value, channel_id: u64, author_id: u64) -> Value {
    if let Some(guild) = world.guild_of_channel(channel_id) {
        message["guild_id"] = id_str(guild);
        if let Some(mut member) = world.member_json(guild, author_id) {
            if let Some(object) = member.as_object_mut() {
                object.remove("user");
            }
            message["member"] = member;
        }
    }
    message
}
