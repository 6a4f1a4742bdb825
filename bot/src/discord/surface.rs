//! `DiscordSurface`: the chat runtime's operations as Discord REST calls through
//! serenity's `Http`. Errors come back as what the runtime acts on: a missing permission
//! named as Discord's settings name it, a thread that is gone.

use super::render;
use crate::chat::{
    BriefView, Button, ChatSurface, MessageRef, Opened, ScorecardView, SurfaceError, SurfaceFuture,
};
use poise::serenity_prelude as serenity;
use serenity::{
    ChannelId, ChannelType, CreateAllowedMentions, CreateMessage, CreateThread, EditMessage,
    MessageId, UserId,
};
use spar_core::store::{ChatPlace, PersonRef};
use std::sync::Arc;

pub struct DiscordSurface {
    http: Arc<serenity::Http>,
}

/// Discord's JSON error codes Spar acts on.
mod code {
    pub const UNKNOWN_CHANNEL: isize = 10003;
    pub const UNKNOWN_MESSAGE: isize = 10008;
    pub const MISSING_ACCESS: isize = 50001;
    pub const CANNOT_DM: isize = 50007;
    pub const MISSING_PERMISSIONS: isize = 50013;
    pub const THREAD_ARCHIVED: isize = 50083;
    pub const THREAD_LOCKED: isize = 160005;
}

/// The Discord error code of a failed request, if it was one.
fn code_of(error: &serenity::Error) -> Option<isize> {
    match error {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(response)) => {
            Some(response.error.code)
        }
        _ => None,
    }
}

/// What a failed call means for the runtime. `permission` names what the call needed,
/// in the words of Discord's permission settings.
fn surface_error(error: serenity::Error, permission: &str) -> SurfaceError {
    match code_of(&error) {
        Some(code::MISSING_PERMISSIONS) => SurfaceError::MissingPermission(permission.into()),
        Some(code::MISSING_ACCESS) => SurfaceError::MissingPermission("View Channel".into()),
        Some(
            code::UNKNOWN_CHANNEL
            | code::UNKNOWN_MESSAGE
            | code::THREAD_ARCHIVED
            | code::THREAD_LOCKED,
        ) => SurfaceError::Gone(error.to_string()),
        _ => SurfaceError::Other(error.to_string()),
    }
}

fn channel(id: &str) -> Result<ChannelId, SurfaceError> {
    id.parse::<u64>()
        .ok()
        .filter(|&id| id != 0)
        .map(ChannelId::new)
        .ok_or_else(|| SurfaceError::Other(format!("{id:?} is not a Discord channel id")))
}

fn user(person: &PersonRef) -> Result<UserId, SurfaceError> {
    person
        .platform_user_id
        .parse::<u64>()
        .ok()
        .filter(|&id| id != 0)
        .map(UserId::new)
        .ok_or_else(|| {
            SurfaceError::Other(format!(
                "{:?} is not a Discord user id",
                person.platform_user_id
            ))
        })
}

/// Nobody is pinged by what Spar posts: an antagonist's line or a quote could hold
/// `@everyone`.
fn quiet() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

impl DiscordSurface {
    pub fn new(http: Arc<serenity::Http>) -> DiscordSurface {
        DiscordSurface { http }
    }

    async fn create_thread(
        &self,
        parent: ChannelId,
        title: &str,
        kind: ChannelType,
    ) -> Result<serenity::GuildChannel, serenity::Error> {
        let mut thread = CreateThread::new(title)
            .kind(kind)
            .auto_archive_duration(serenity::AutoArchiveDuration::OneDay);
        if kind == ChannelType::PrivateThread {
            // Only the candidate and moderators belong in a private drill.
            thread = thread.invitable(false);
        }
        parent.create_thread(&*self.http, thread).await
    }
}

impl ChatSurface for DiscordSurface {
    fn platform(&self) -> &'static str {
        "discord"
    }

    fn message_limit(&self) -> usize {
        render::MESSAGE_LIMIT
    }

    fn link(&self, _workspace: &str, place: &ChatPlace) -> String {
        format!("<#{}>", place.thread)
    }

    fn open_thread<'a>(
        &'a self,
        channel_id: &'a str,
        title: &'a str,
        public: bool,
        members: &'a [PersonRef],
    ) -> SurfaceFuture<'a, Opened> {
        Box::pin(async move {
            let parent = channel(channel_id)?;
            // Private where the server allows it, public otherwise.
            let (thread, private) = if public {
                let thread = self
                    .create_thread(parent, title, ChannelType::PublicThread)
                    .await
                    .map_err(|e| surface_error(e, "Create Public Threads"))?;
                (thread, false)
            } else {
                match self
                    .create_thread(parent, title, ChannelType::PrivateThread)
                    .await
                {
                    Ok(thread) => (thread, true),
                    Err(e) if code_of(&e) == Some(code::MISSING_PERMISSIONS) => {
                        tracing::info!(error = %e, "no private thread here; opening a public one");
                        let thread = self
                            .create_thread(parent, title, ChannelType::PublicThread)
                            .await
                            .map_err(|e| {
                                surface_error(e, "Create Private Threads or Create Public Threads")
                            })?;
                        (thread, false)
                    }
                    Err(e) => return Err(surface_error(e, "Create Private Threads")),
                }
            };
            for member in members {
                thread
                    .id
                    .add_thread_member(&*self.http, user(member)?)
                    .await
                    .map_err(|e| surface_error(e, "Manage Threads"))?;
            }
            Ok(Opened {
                place: ChatPlace {
                    channel: parent.get().to_string(),
                    thread: thread.id.get().to_string(),
                },
                private,
            })
        })
    }

    fn post<'a>(&'a self, place: &'a ChatPlace, text: &'a str) -> SurfaceFuture<'a, MessageRef> {
        Box::pin(async move {
            let thread = channel(&place.thread)?;
            let sent = thread
                .send_message(
                    &*self.http,
                    CreateMessage::new().content(text).allowed_mentions(quiet()),
                )
                .await
                .map_err(|e| surface_error(e, "Send Messages in Threads"))?;
            Ok(MessageRef {
                channel: place.thread.clone(),
                id: sent.id.get().to_string(),
            })
        })
    }

    fn edit<'a>(&'a self, message: &'a MessageRef, text: &'a str) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            let id = message
                .id
                .parse::<u64>()
                .ok()
                .filter(|&id| id != 0)
                .map(MessageId::new)
                .ok_or_else(|| {
                    SurfaceError::Other(format!("{:?} is not a message id", message.id))
                })?;
            channel(&message.channel)?
                .edit_message(
                    &*self.http,
                    id,
                    EditMessage::new().content(text).allowed_mentions(quiet()),
                )
                .await
                .map_err(|e| surface_error(e, "Send Messages in Threads"))?;
            Ok(())
        })
    }

    fn typing<'a>(&'a self, place: &'a ChatPlace) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            channel(&place.thread)?
                .broadcast_typing(&*self.http)
                .await
                .map_err(|e| surface_error(e, "Send Messages in Threads"))
        })
    }

    fn post_brief<'a>(
        &'a self,
        place: &'a ChatPlace,
        brief: BriefView<'a>,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            let embed = render::brief(&brief).build();
            channel(&place.thread)?
                .send_message(
                    &*self.http,
                    CreateMessage::new()
                        .content(format!(
                            "<@{}>, your drill starts now. Type your replies here.",
                            brief.candidate.platform_user_id
                        ))
                        .embed(embed)
                        // The candidate is pinged once, so the thread shows up for them.
                        .allowed_mentions(quiet().users(user(brief.candidate).ok())),
                )
                .await
                .map_err(|e| surface_error(e, "Embed Links"))?;
            Ok(())
        })
    }

    fn post_scorecard<'a>(
        &'a self,
        place: &'a ChatPlace,
        card: ScorecardView<'a>,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            let thread = channel(&place.thread)?;
            let messages = render::scorecard(&card);
            let last = messages.len().saturating_sub(1);
            for (i, embeds) in messages.iter().enumerate() {
                let mut message = CreateMessage::new()
                    .embeds(embeds.iter().map(render::Embed::build).collect())
                    .allowed_mentions(quiet());
                if i == last {
                    message = message.components(vec![render::scorecard_buttons(&card)]);
                }
                thread
                    .send_message(&*self.http, message)
                    .await
                    .map_err(|e| surface_error(e, "Embed Links"))?;
            }
            Ok(())
        })
    }

    fn tell<'a>(
        &'a self,
        person: &'a PersonRef,
        place: &'a ChatPlace,
        text: &'a str,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            let id = user(person)?;
            let direct = async {
                let dm = id.create_dm_channel(&*self.http).await?;
                dm.id
                    .send_message(
                        &*self.http,
                        CreateMessage::new().content(text).allowed_mentions(quiet()),
                    )
                    .await
            }
            .await;
            match direct {
                Ok(_) => Ok(()),
                // Direct messages are closed for this member: say it in the thread, to them.
                Err(e) => {
                    if code_of(&e) != Some(code::CANNOT_DM) {
                        tracing::info!(error = %e, "a private notice could not be sent directly");
                    }
                    channel(&place.thread)?
                        .send_message(
                            &*self.http,
                            CreateMessage::new()
                                .content(format!("<@{}> {text}", person.platform_user_id))
                                .allowed_mentions(quiet().users([id])),
                        )
                        .await
                        .map_err(|e| surface_error(e, "Send Messages in Threads"))?;
                    Ok(())
                }
            }
        })
    }

    fn post_buttons<'a>(
        &'a self,
        place: &'a ChatPlace,
        text: &'a str,
        buttons: &'a [Button],
    ) -> SurfaceFuture<'a, MessageRef> {
        Box::pin(async move {
            let thread = channel(&place.thread)?;
            let sent = thread
                .send_message(
                    &*self.http,
                    CreateMessage::new()
                        .content(crate::chat::text::clip(text, render::MESSAGE_LIMIT))
                        .components(vec![render::buttons(buttons)])
                        .allowed_mentions(quiet()),
                )
                .await
                .map_err(|e| surface_error(e, "Send Messages in Threads"))?;
            Ok(MessageRef {
                channel: place.thread.clone(),
                id: sent.id.get().to_string(),
            })
        })
    }

    /// A direct message and nothing else: a member whose direct messages are closed reads
    /// it through the button under the roles, which answers only them.
    fn tell_secret<'a>(
        &'a self,
        person: &'a PersonRef,
        _place: &'a ChatPlace,
        text: &'a str,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            let id = user(person)?;
            let dm = id
                .create_dm_channel(&*self.http)
                .await
                .map_err(|e| surface_error(e, "Send Messages"))?;
            for piece in crate::chat::text::split(text, render::MESSAGE_LIMIT) {
                dm.id
                    .send_message(
                        &*self.http,
                        CreateMessage::new()
                            .content(piece)
                            .allowed_mentions(quiet()),
                    )
                    .await
                    .map_err(|e| surface_error(e, "Send Messages"))?;
            }
            Ok(())
        })
    }
}
