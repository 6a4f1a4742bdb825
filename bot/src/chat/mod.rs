//! The chat runtime every chat surface shares. A surface (Discord, Slack, or the
//! in-memory one that tests and the load benchmark use) translates its platform's
//! payloads into the runtime's calls and implements `ChatSurface` to show what the
//! runtime decides; it holds no drill logic. The runtime applies every message and
//! command to the store-backed `Engine` and performs the effects: it asks the antagonist
//! and streams its reply into one message, posts notices, debriefs, and fires timers.

pub mod commands;
#[cfg(test)]
pub(crate) mod fixtures;
mod memory;
mod peer;
pub mod runtime;
mod stream;
pub mod text;

#[cfg(test)]
mod peer_tests;
#[cfg(test)]
mod tests;

pub use commands::{
    Action, Attachment, Button, Command, ConfigChange, Invocation, Reply, RoundsCommand,
};
pub use memory::{MemorySurface, Shown};
pub use runtime::{Clock, Handled, Pending, Runtime, RuntimeOptions, WallClock};

use spar_core::Scenario;
use spar_core::judge::JudgedScorecard;
use spar_core::scenario::Difficulty;
use spar_core::store::{ChatPlace, DrillId, PersonRef};
use std::future::Future;
use std::pin::Pin;

/// What every surface operation returns: boxed, so surfaces can be held as `dyn`.
pub type SurfaceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SurfaceError>> + Send + 'a>>;

/// Why a surface could not do what the runtime asked. The variants are what the runtime
/// acts on: a missing permission is told to the person, a vanished thread ends its drill.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SurfaceError {
    /// The bot lacks a permission (Discord) or a scope (Slack); names which.
    #[error("Spar lacks the {0} permission here")]
    MissingPermission(String),
    /// The thread or channel was deleted or archived, or the bot was removed from it.
    #[error("the conversation is gone: {0}")]
    Gone(String),
    /// The platform refused for a reason the person can act on (Slack: the bot was not
    /// invited to the channel, a scope is missing); the sentence tells them what to do.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Other(String),
}

/// A message the bot posted, so it can be edited as a streamed reply grows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageRef {
    /// The channel (or Discord thread) it is in.
    pub channel: String,
    /// Its id: a Discord message id or a Slack `ts`.
    pub id: String,
}

/// A thread the surface opened for a drill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub place: ChatPlace,
    /// Whether only the invited members (and moderators) can see it.
    pub private: bool,
}

/// What a drill's opening message shows: the setting and goal for the candidate, and who
/// they are talking to. The persona's hidden brief is never in it.
#[derive(Debug, Clone, Copy)]
pub struct BriefView<'a> {
    pub scenario: &'a Scenario,
    pub difficulty: Difficulty,
    pub time_limit_s: u32,
    pub candidate: &'a PersonRef,
}

/// What a drill's debrief message shows.
#[derive(Debug, Clone, Copy)]
pub struct ScorecardView<'a> {
    pub drill: &'a DrillId,
    pub scenario: &'a Scenario,
    pub judged: &'a JudgedScorecard,
}

/// One chat platform, as the runtime needs it. Implementations translate to and from
/// their platform and nothing more.
pub trait ChatSurface: Send + Sync {
    /// `discord` or `slack`: the platform of the workspaces and people it serves.
    fn platform(&self) -> &'static str;

    /// The most characters one plain message may hold; longer text is split.
    fn message_limit(&self) -> usize;

    /// How a person clicks through to a drill's thread, for replies that point there.
    fn link(&self, workspace: &str, place: &ChatPlace) -> String;

    /// Opens a thread for a drill under `channel` and adds `members`; private unless
    /// `public` is asked for or the platform cannot make it private.
    fn open_thread<'a>(
        &'a self,
        channel: &'a str,
        title: &'a str,
        public: bool,
        members: &'a [PersonRef],
    ) -> SurfaceFuture<'a, Opened>;

    fn post<'a>(&'a self, place: &'a ChatPlace, text: &'a str) -> SurfaceFuture<'a, MessageRef>;

    fn edit<'a>(&'a self, message: &'a MessageRef, text: &'a str) -> SurfaceFuture<'a, ()>;

    /// Shows that the antagonist is composing a reply, for as long as the platform keeps
    /// such an indicator (Discord: about ten seconds, or until the next message).
    fn typing<'a>(&'a self, place: &'a ChatPlace) -> SurfaceFuture<'a, ()>;

    fn post_brief<'a>(
        &'a self,
        place: &'a ChatPlace,
        brief: BriefView<'a>,
    ) -> SurfaceFuture<'a, ()>;

    fn post_scorecard<'a>(
        &'a self,
        place: &'a ChatPlace,
        card: ScorecardView<'a>,
    ) -> SurfaceFuture<'a, ()>;

    /// Tells one person something nobody else in the thread needs to see.
    fn tell<'a>(
        &'a self,
        person: &'a PersonRef,
        place: &'a ChatPlace,
        text: &'a str,
    ) -> SurfaceFuture<'a, ()>;

    /// Posts a message with buttons under it (a peer drill's rating request and "Swap
    /// roles", the antagonist player's brief). The default posts the text alone, for a
    /// surface that cannot put buttons in a thread.
    fn post_buttons<'a>(
        &'a self,
        place: &'a ChatPlace,
        text: &'a str,
        buttons: &'a [Button],
    ) -> SurfaceFuture<'a, MessageRef> {
        let _ = buttons;
        self.post(place, text)
    }

    /// Tells one person something only they may ever read, such as the antagonist
    /// player's hidden brief: unlike `tell`, it must fail rather than fall back to showing
    /// it in the thread. The default is `tell`, for surfaces whose `tell` is always
    /// private (an ephemeral message).
    fn tell_secret<'a>(
        &'a self,
        person: &'a PersonRef,
        place: &'a ChatPlace,
        text: &'a str,
    ) -> SurfaceFuture<'a, ()> {
        self.tell(person, place, text)
    }
}
