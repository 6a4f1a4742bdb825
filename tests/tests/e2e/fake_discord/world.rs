//! What the fake Discord knows: users, guilds, roles, channels, messages, commands and
//! interactions, and how each is written as the JSON object Discord returns for it.

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds from the Unix epoch to Discord's (2015-01-01), the origin of snowflakes.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// The permission bits the fake reasons about; the values are Discord's.
pub mod permission {
    pub const CREATE_INSTANT_INVITE: u64 = 1 << 0;
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const ADD_REACTIONS: u64 = 1 << 6;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    pub const USE_EXTERNAL_EMOJIS: u64 = 1 << 18;
    pub const CHANGE_NICKNAME: u64 = 1 << 26;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    pub const MANAGE_THREADS: u64 = 1 << 34;
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    pub const CREATE_PRIVATE_THREADS: u64 = 1 << 36;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    /// Every permission Discord defines today; what ADMINISTRATOR grants.
    pub const ALL: u64 = (1 << 51) - 1;

    /// What a new server gives `@everyone`.
    pub const EVERYONE_DEFAULT: u64 = CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | MENTION_EVERYONE
        | USE_EXTERNAL_EMOJIS
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | CREATE_PRIVATE_THREADS
        | SEND_MESSAGES_IN_THREADS;

    /// What a bot that runs drills in private threads is usually invited with.
    pub const BOT_DEFAULT: u64 = EVERYONE_DEFAULT | MANAGE_MESSAGES | MANAGE_THREADS;
}

/// Gateway intent bits, as Discord numbers them.
pub mod intent {
    pub const GUILDS: u64 = 1 << 0;
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
    pub const GUILD_MESSAGE_TYPING: u64 = 1 << 11;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    pub const DIRECT_MESSAGE_REACTIONS: u64 = 1 << 13;
    pub const DIRECT_MESSAGE_TYPING: u64 = 1 << 14;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
}

/// Channel type numbers.
pub mod channel_type {
    pub const GUILD_TEXT: u64 = 0;
    pub const DM: u64 = 1;
    pub const GUILD_ANNOUNCEMENT: u64 = 5;
    pub const ANNOUNCEMENT_THREAD: u64 = 10;
    pub const PUBLIC_THREAD: u64 = 11;
    pub const PRIVATE_THREAD: u64 = 12;

    pub fn is_thread(kind: u64) -> bool {
        matches!(kind, ANNOUNCEMENT_THREAD | PUBLIC_THREAD | PRIVATE_THREAD)
    }
}

/// Snowflakes that increase within a fake and carry the time they were made, as Discord's do.
#[derive(Default)]
pub struct Snowflakes {
    last: u64,
}

impl Snowflakes {
    pub fn next(&mut self) -> u64 {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let candidate = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
        self.last = candidate.max(self.last + 1);
        self.last
    }
}

/// The ISO 8601 time a snowflake was made, as Discord writes timestamps.
pub fn timestamp_of(id: u64) -> String {
    let ms = (id >> 22) + DISCORD_EPOCH_MS;
    let time = chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or_default();
    time.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

pub fn id_str(id: u64) -> Value {
    Value::String(id.to_string())
}

/// Reads a snowflake that Discord writes as a string (or a client sent as a number).
pub fn snowflake(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: u64,
    pub username: String,
    pub bot: bool,
}

impl UserRecord {
    pub fn json(&self) -> Value {
        let mut user = json!({
            "id": id_str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": if self.bot { Value::Null } else { Value::String(self.username.clone()) },
            "avatar": null,
            "public_flags": 0,
            "flags": 0,
            "banner": null,
            "accent_color": null,
            "avatar_decoration_data": null,
            "collectibles": null,
            "primary_guild": null,
        });
        if self.bot {
            user["bot"] = json!(true);
        }
        user
    }
}

pub struct RoleRecord {
    pub id: u64,
    pub name: String,
    pub permissions: u64,
    pub position: u64,
    /// The bot user this role is managed for (the integration role Discord makes on invite).
    pub bot_id: Option<u64>,
}

impl RoleRecord {
    pub fn json(&self) -> Value {
        let mut role = json!({
            "id": id_str(self.id),
            "name": self.name,
            "description": null,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "hoist": false,
            "icon": null,
            "unicode_emoji": null,
            "position": self.position,
            "permissions": self.permissions.to_string(),
            "managed": self.bot_id.is_some(),
            "mentionable": false,
            "flags": 0,
        });
        if let Some(bot) = self.bot_id {
            role["tags"] = json!({"bot_id": id_str(bot)});
        }
        role
    }
}

pub struct MemberRecord {
    pub user_id: u64,
    pub roles: Vec<u64>,
    pub joined_at: String,
}

pub struct GuildRecord {
    pub id: u64,
    pub name: String,
    pub owner_id: u64,
    /// `@everyone` first (its id is the guild's), then the rest in position order.
    pub roles: Vec<RoleRecord>,
    pub members: BTreeMap<u64, MemberRecord>,
    pub channels: Vec<u64>,
    pub joined_at: String,
}

impl GuildRecord {
    /// A member's guild-level permissions: `@everyone` and each of their roles, with
    /// ADMINISTRATOR (or ownership) granting everything, as Discord computes them.
    pub fn permissions_of(&self, user_id: u64) -> u64 {
        if user_id == self.owner_id {
            return permission::ALL;
        }
        let Some(member) = self.members.get(&user_id) else {
            return 0;
        };
        let mut bits = 0;
        for role in &self.roles {
            if role.id == self.id || member.roles.contains(&role.id) {
                bits |= role.permissions;
            }
        }
        if bits & permission::ADMINISTRATOR != 0 {
            permission::ALL
        } else {
            bits
        }
    }

    pub fn member_json(&self, user: &UserRecord) -> Option<Value> {
        let member = self.members.get(&user.id)?;
        Some(json!({
            "user": user.json(),
            "nick": null,
            "avatar": null,
            "banner": null,
            "roles": member.roles.iter().map(|r| id_str(*r)).collect::<Vec<_>>(),
            "joined_at": member.joined_at,
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": null,
            "unusual_dm_activity_until": null,
        }))
    }

    /// The guild object of `GET /guilds/{id}`.
    pub fn json(&self) -> Value {
        json!({
            "id": id_str(self.id),
            "name": self.name,
            "icon": null,
            "icon_hash": null,
            "splash": null,
            "discovery_splash": null,
            "owner_id": id_str(self.owner_id),
            "afk_channel_id": null,
            "afk_timeout": 300,
            "widget_enabled": false,
            "widget_channel_id": null,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": self.roles.iter().map(RoleRecord::json).collect::<Vec<_>>(),
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "application_id": null,
            "system_channel_id": null,
            "system_channel_flags": 0,
            "rules_channel_id": null,
            "max_presences": null,
            "max_members": 500_000,
            "vanity_url_code": null,
            "description": null,
            "banner": null,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": null,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "stickers": [],
            "premium_progress_bar_enabled": false,
            "safety_alerts_channel_id": null,
            "incidents_data": null,
        })
    }
}

pub struct InteractionRecord {
    pub id: u64,
    pub token: String,
    /// Interaction type: 2 command, 3 component, 4 autocomplete, 5 modal submit.
    pub kind: u64,
    pub channel_id: u64,
    pub guild_id: Option<u64>,
    pub user: Value,
    pub name: Option<String>,
    /// The message a component (or a modal opened from one) is attached to.
    pub source_message: Option<u64>,
    /// The callback type that acknowledged it, once one did.
    pub acknowledged: Option<u64>,
    /// The message `@original` refers to.
    pub original: Option<u64>,
    pub followups: Vec<u64>,
}

/// Everything the fake Discord holds; one lock guards it all.
pub struct World {
    pub ids: Snowflakes,
    pub token: String,
    pub application_id: u64,
    pub bot: UserRecord,
    pub owner_id: u64,
    pub users: BTreeMap<u64, UserRecord>,
    pub guilds: BTreeMap<u64, GuildRecord>,
    pub default_guild: u64,
    pub default_channel: u64,
    /// Channel objects as Discord returns them (guild channels carry `guild_id`).
    pub channels: BTreeMap<u64, Value>,
    /// Every message, by id, in its latest state.
    pub messages: BTreeMap<u64, Value>,
    pub dm_channels: HashMap<u64, u64>,
    pub global_commands: Vec<Value>,
    pub guild_commands: BTreeMap<u64, Vec<Value>>,
    pub interactions: HashMap<u64, InteractionRecord>,
    pub interaction_tokens: HashMap<String, u64>,
    /// The user ids in each thread.
    pub thread_members: HashMap<u64, Vec<u64>>,
}

impl World {
    pub fn new(config: &super::FakeDiscordConfig) -> World {
        let mut ids = Snowflakes::default();
        let application_id = ids.next();
        let bot = UserRecord {
            // A bot user's id is its application's id.
            id: application_id,
            username: config.bot_name.clone(),
            bot: true,
        };
        let owner = UserRecord {
            id: ids.next(),
            username: "owner".into(),
            bot: false,
        };
        let mut world = World {
            ids,
            token: config.token.clone(),
            application_id,
            owner_id: owner.id,
            users: BTreeMap::new(),
            guilds: BTreeMap::new(),
            default_guild: 0,
            default_channel: 0,
            channels: BTreeMap::new(),
            messages: BTreeMap::new(),
            dm_channels: HashMap::new(),
            global_commands: Vec::new(),
            guild_commands: BTreeMap::new(),
            interactions: HashMap::new(),
            interaction_tokens: HashMap::new(),
            thread_members: HashMap::new(),
            bot: bot.clone(),
        };
        world.users.insert(bot.id, bot);
        world.users.insert(owner.id, owner);
        let guild = world.add_guild(&config.guild_name, config.bot_permissions);
        world.default_guild = guild;
        world.default_channel = world.add_text_channel(guild, &config.channel_name);
        world
    }

    pub fn now_id(&mut self) -> u64 {
        self.ids.next()
    }

    /// A guild the bot was invited to: `@everyone`, the bot's managed role, the owner and the bot.
    pub fn add_guild(&mut self, name: &str, bot_permissions: u64) -> u64 {
        let id = self.ids.next();
        let bot_role = self.ids.next();
        let joined_at = timestamp_of(id);
        let mut members = BTreeMap::new();
        for (user_id, roles) in [(self.owner_id, vec![]), (self.bot.id, vec![bot_role])] {
            members.insert(
                user_id,
                MemberRecord {
                    user_id,
                    roles,
                    joined_at: joined_at.clone(),
                },
            );
        }
        self.guilds.insert(
            id,
            GuildRecord {
                id,
                name: name.to_string(),
                owner_id: self.owner_id,
                roles: vec![
                    RoleRecord {
                        id,
                        name: "@everyone".into(),
                        permissions: permission::EVERYONE_DEFAULT,
                        position: 0,
                        bot_id: None,
                    },
                    RoleRecord {
                        id: bot_role,
                        name: self.bot.username.clone(),
                        permissions: bot_permissions,
                        position: 1,
                        bot_id: Some(self.bot.id),
                    },
                ],
                members,
                channels: Vec::new(),
                joined_at,
            },
        );
        id
    }

    pub fn add_text_channel(&mut self, guild_id: u64, name: &str) -> u64 {
        let id = self.ids.next();
        let position = self.guilds.get(&guild_id).map_or(0, |g| g.channels.len());
        let channel = json!({
            "id": id_str(id),
            "type": channel_type::GUILD_TEXT,
            "guild_id": id_str(guild_id),
            "position": position,
            "permission_overwrites": [],
            "name": name,
            "topic": null,
            "nsfw": false,
            "last_message_id": null,
            "rate_limit_per_user": 0,
            "parent_id": null,
            "flags": 0,
        });
        self.channels.insert(id, channel);
        if let Some(guild) = self.guilds.get_mut(&guild_id) {
            guild.channels.push(id);
        }
        id
    }

    /// A user, and if `guild_id` is given a member there with a role carrying `permissions`
    /// (beyond `@everyone`'s) when those are not already `@everyone`'s.
    pub fn add_user(&mut self, name: &str, guild: Option<(u64, u64)>) -> u64 {
        let id = self.ids.next();
        self.users.insert(
            id,
            UserRecord {
                id,
                username: name.to_string(),
                bot: false,
            },
        );
        if let Some((guild_id, permissions)) = guild {
            let role_id = self.ids.next();
            if let Some(guild) = self.guilds.get_mut(&guild_id) {
                let mut roles = Vec::new();
                if permissions != permission::EVERYONE_DEFAULT {
                    let position = guild.roles.len() as u64;
                    guild.roles.push(RoleRecord {
                        id: role_id,
                        name: format!("{name}'s role"),
                        permissions,
                        position,
                        bot_id: None,
                    });
                    roles.push(role_id);
                }
                guild.members.insert(
                    id,
                    MemberRecord {
                        user_id: id,
                        roles,
                        joined_at: timestamp_of(id),
                    },
                );
            }
        }
        id
    }

    pub fn user_json(&self, id: u64) -> Option<Value> {
        self.users.get(&id).map(UserRecord::json)
    }

    pub fn guild_of_channel(&self, channel_id: u64) -> Option<u64> {
        self.channels
            .get(&channel_id)
            .and_then(|c| snowflake(&c["guild_id"]))
    }

    /// A member's permissions in a channel. The fake keeps no overwrites, so a thread or
    /// channel grants what the guild grants.
    pub fn permissions_in(&self, guild_id: u64, user_id: u64) -> u64 {
        self.guilds
            .get(&guild_id)
            .map_or(0, |g| g.permissions_of(user_id))
    }

    /// The member object of an interaction or `MESSAGE_CREATE`: with `user` and `permissions`
    /// for interactions, without `user` for messages.
    pub fn member_json(&self, guild_id: u64, user_id: u64) -> Option<Value> {
        let guild = self.guilds.get(&guild_id)?;
        let user = self.users.get(&user_id)?;
        guild.member_json(user)
    }

    /// The `GUILD_CREATE` payload: the guild with its channels, threads, roles and members.
    pub fn guild_create_json(&self, guild_id: u64) -> Option<Value> {
        let guild = self.guilds.get(&guild_id)?;
        let mut body = guild.json();
        let mut channels = Vec::new();
        let mut threads = Vec::new();
        for channel in self.channels.values() {
            if snowflake(&channel["guild_id"]) != Some(guild_id) {
                continue;
            }
            let kind = channel["type"].as_u64().unwrap_or(0);
            if channel_type::is_thread(kind) {
                threads.push(channel.clone());
            } else {
                // Discord leaves `guild_id` out of the channels inside a guild object.
                let mut channel = channel.clone();
                if let Some(object) = channel.as_object_mut() {
                    object.remove("guild_id");
                }
                channels.push(channel);
            }
        }
        let members: Vec<Value> = guild
            .members
            .keys()
            .filter_map(|id| self.users.get(id).and_then(|u| guild.member_json(u)))
            .collect();
        let extra = json!({
            "joined_at": guild.joined_at,
            "large": false,
            "unavailable": false,
            "member_count": members.len(),
            "voice_states": [],
            "members": members,
            "channels": channels,
            "threads": threads,
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "lazy": true,
        });
        merge(&mut body, extra);
        Some(body)
    }

    pub fn application_json(&self) -> Value {
        json!({
            "id": id_str(self.application_id),
            "name": self.bot.username,
            "icon": null,
            "description": "",
            "summary": "",
            "type": null,
            "hook": true,
            "bot_public": true,
            "bot_require_code_grant": false,
            "verify_key": "0".repeat(64),
            "flags": 0,
            "owner": self.user_json(self.owner_id),
            "team": null,
            "bot": self.bot.json(),
            "redirect_uris": [],
            "interactions_endpoint_url": null,
            "role_connections_verification_url": null,
            "tags": [],
            "install_params": null,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": self.guilds.len(),
        })
    }

    /// `GET /users/@me` for the bot: the user object with the fields only its owner sees.
    pub fn current_user_json(&self) -> Value {
        let mut user = self.bot.json();
        merge(
            &mut user,
            json!({"verified": true, "mfa_enabled": false, "locale": "en-US", "email": null, "premium_type": 0}),
        );
        user
    }

    /// A message as Discord stores it; the REST handler and the payload builders fill in
    /// content, embeds, attachments and the rest.
    pub fn new_message(&mut self, channel_id: u64, author: &Value, kind: u64) -> Value {
        let id = self.ids.next();
        let mut message = json!({
            "type": kind,
            "content": "",
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "timestamp": timestamp_of(id),
            "edited_timestamp": null,
            "flags": 0,
            "components": [],
            "id": id_str(id),
            "channel_id": id_str(channel_id),
            "author": author,
            "pinned": false,
            "mention_everyone": false,
            "tts": false,
        });
        if let Some(channel) = self.channels.get_mut(&channel_id) {
            channel["last_message_id"] = id_str(id);
            if channel_type::is_thread(channel["type"].as_u64().unwrap_or(0)) {
                let count = channel["message_count"].as_u64().unwrap_or(0);
                message["position"] = json!(count);
                channel["message_count"] = json!(count + 1);
                channel["total_message_sent"] = json!(count + 1);
            }
        }
        message
    }

    /// The users `<@id>` mentions in `content` name, as Discord lists them in `mentions`.
    pub fn mentions_in(&self, content: &str) -> Vec<Value> {
        let mut found = Vec::new();
        let mut rest = content;
        while let Some(start) = rest.find("<@") {
            rest = &rest[start + 2..];
            let digits: String = rest
                .trim_start_matches('!')
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let user = digits.parse::<u64>().ok().and_then(|id| self.user_json(id));
            if let Some(user) = user.filter(|u| !found.contains(u)) {
                found.push(user);
            }
        }
        found
    }
}

impl World {
    /// Remembers an interaction being dispatched, so its callback and webhook are accepted.
    pub fn register_interaction(&mut self, data: &Value) {
        let (Some(id), Some(token)) = (snowflake(&data["id"]), data["token"].as_str()) else {
            return;
        };
        let user = if data["member"]["user"].is_object() {
            data["member"]["user"].clone()
        } else {
            data["user"].clone()
        };
        let record = InteractionRecord {
            id,
            token: token.to_string(),
            kind: data["type"].as_u64().unwrap_or(0),
            channel_id: snowflake(&data["channel_id"]).unwrap_or(0),
            guild_id: snowflake(&data["guild_id"]),
            user,
            name: data["data"]["name"].as_str().map(str::to_string),
            source_message: snowflake(&data["message"]["id"]),
            acknowledged: None,
            original: None,
            followups: Vec::new(),
        };
        self.interaction_tokens.insert(token.to_string(), id);
        self.interactions.insert(id, record);
    }
}

/// Copies every field of `extra` into `target` (both objects).
pub fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        for (key, value) in extra {
            target.insert(key, value);
        }
    }
}

pub fn object() -> Value {
    Value::Object(Map::new())
}
