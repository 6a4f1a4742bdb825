//! `MemorySurface`: a chat surface that keeps what it is asked to show in memory, for the
//! runtime's tests and for load measurements that must not depend on a platform. It can
//! be told to fail the way platforms do: a missing permission, a thread that is gone.

use super::{
    Action, BriefView, Button, ChatSurface, MessageRef, Opened, ScorecardView, SurfaceError,
    SurfaceFuture,
};
use spar_core::store::{ChatPlace, PersonRef};
use std::collections::HashSet;
use std::sync::Mutex;
use tokio::sync::Notify;

/// One thing the surface was asked to show, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Thread {
        channel: String,
        title: String,
        private: bool,
        place: ChatPlace,
    },
    Post {
        message: MessageRef,
        text: String,
    },
    Edit {
        message: MessageRef,
        text: String,
    },
    Typing {
        thread: String,
    },
    Brief {
        thread: String,
        scenario: String,
    },
    Scorecard {
        thread: String,
        overall: u8,
        flags: Vec<String>,
    },
    Told {
        person: String,
        thread: String,
        text: String,
    },
}

#[derive(Default)]
struct State {
    shown: Vec<Shown>,
    next_id: u64,
    gone: HashSet<String>,
    missing_permission: Option<String>,
    /// The buttons under posted messages, by message.
    buttons: Vec<(MessageRef, Vec<Action>)>,
    /// What was told to one person only through `tell_secret`: never part of a thread.
    secrets: Vec<(String, String)>,
    /// Only counts are kept, for long runs where keeping every message would skew
    /// the memory measured.
    counting_only: bool,
    counts: Counts,
}

/// How many of each thing was shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub threads: u64,
    pub posts: u64,
    pub edits: u64,
    pub scorecards: u64,
}

pub struct MemorySurface {
    platform: &'static str,
    limit: usize,
    state: Mutex<State>,
    changed: Notify,
}

impl MemorySurface {
    pub fn new(platform: &'static str, limit: usize) -> MemorySurface {
        MemorySurface {
            platform,
            limit,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        }
    }

    /// Keeps only counts from now on.
    pub fn counting_only(self) -> MemorySurface {
        if let Ok(mut state) = self.state.lock() {
            state.counting_only = true;
        }
        self
    }

    pub fn shown(&self) -> Vec<Shown> {
        self.state
            .lock()
            .map(|s| s.shown.clone())
            .unwrap_or_default()
    }

    pub fn counts(&self) -> Counts {
        self.state.lock().map(|s| s.counts).unwrap_or_default()
    }

    /// The buttons under each message that has some, in order.
    pub fn buttons(&self) -> Vec<(MessageRef, Vec<Action>)> {
        self.state
            .lock()
            .map(|s| s.buttons.clone())
            .unwrap_or_default()
    }

    /// What each person was told through `tell_secret`: (user id, text).
    pub fn secrets(&self) -> Vec<(String, String)> {
        self.state
            .lock()
            .map(|s| s.secrets.clone())
            .unwrap_or_default()
    }

    /// Everything shown in one thread, in order.
    pub fn in_thread(&self, thread: &str) -> Vec<Shown> {
        self.shown()
            .into_iter()
            .filter(|s| match s {
                Shown::Thread { place, .. } => place.thread == thread,
                Shown::Post { message, .. } | Shown::Edit { message, .. } => {
                    message.channel == thread
                }
                Shown::Typing { thread: t }
                | Shown::Brief { thread: t, .. }
                | Shown::Scorecard { thread: t, .. }
                | Shown::Told { thread: t, .. } => t == thread,
            })
            .collect()
    }

    /// From now on, opening a thread fails for want of this permission.
    pub fn lack_permission(&self, permission: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.missing_permission = Some(permission.to_string());
        }
    }

    /// The thread was deleted: anything posted there fails.
    pub fn delete_thread(&self, thread: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.gone.insert(thread.to_string());
        }
    }

    /// Waits until `done` holds for what was shown; `None` if `within` passes first.
    pub async fn wait_for(
        &self,
        within: std::time::Duration,
        done: impl Fn(&[Shown]) -> bool,
    ) -> Option<Vec<Shown>> {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                let shown = self.shown();
                if done(&shown) {
                    return shown;
                }
                notified.await;
            }
        };
        tokio::time::timeout(within, wait).await.ok()
    }

    fn record(&self, shown: Shown) -> Result<(), SurfaceError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| SurfaceError::Other("the in-memory surface is poisoned".into()))?;
        let thread = match &shown {
            Shown::Post { message, .. } | Shown::Edit { message, .. } => Some(&message.channel),
            Shown::Typing { thread }
            | Shown::Brief { thread, .. }
            | Shown::Scorecard { thread, .. }
            | Shown::Told { thread, .. } => Some(thread),
            Shown::Thread { .. } => None,
        };
        if let Some(thread) = thread.filter(|t| state.gone.contains(*t)) {
            return Err(SurfaceError::Gone(format!("thread {thread} was deleted")));
        }
        match &shown {
            Shown::Thread { .. } => state.counts.threads += 1,
            Shown::Post { .. } => state.counts.posts += 1,
            Shown::Edit { .. } => state.counts.edits += 1,
            Shown::Scorecard { .. } => state.counts.scorecards += 1,
            _ => {}
        }
        if !state.counting_only {
            state.shown.push(shown);
        }
        drop(state);
        self.changed.notify_waiters();
        Ok(())
    }

    fn next_id(&self, prefix: &str) -> Result<String, SurfaceError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| SurfaceError::Other("the in-memory surface is poisoned".into()))?;
        state.next_id += 1;
        Ok(format!("{prefix}{}", state.next_id))
    }
}

impl ChatSurface for MemorySurface {
    fn platform(&self) -> &'static str {
        self.platform
    }

    fn message_limit(&self) -> usize {
        self.limit
    }

    fn link(&self, _workspace: &str, place: &ChatPlace) -> String {
        format!("<#{}>", place.thread)
    }

    fn open_thread<'a>(
        &'a self,
        channel: &'a str,
        title: &'a str,
        public: bool,
        _members: &'a [PersonRef],
    ) -> SurfaceFuture<'a, Opened> {
        Box::pin(async move {
            let missing = self
                .state
                .lock()
                .ok()
                .and_then(|s| s.missing_permission.clone());
            if let Some(permission) = missing {
                return Err(SurfaceError::MissingPermission(permission));
            }
            let place = ChatPlace {
                channel: channel.to_string(),
                thread: self.next_id("thread-")?,
            };
            self.record(Shown::Thread {
                channel: channel.to_string(),
                title: title.to_string(),
                private: !public,
                place: place.clone(),
            })?;
            Ok(Opened {
                place,
                private: !public,
            })
        })
    }

    fn post<'a>(&'a self, place: &'a ChatPlace, text: &'a str) -> SurfaceFuture<'a, MessageRef> {
        Box::pin(async move {
            let message = MessageRef {
                channel: place.thread.clone(),
                id: self.next_id("message-")?,
            };
            self.record(Shown::Post {
                message: message.clone(),
                text: text.to_string(),
            })?;
            crate::stopwatch::posted();
            Ok(message)
        })
    }

    fn edit<'a>(&'a self, message: &'a MessageRef, text: &'a str) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            self.record(Shown::Edit {
                message: message.clone(),
                text: text.to_string(),
            })?;
            crate::stopwatch::posted();
            Ok(())
        })
    }

    fn typing<'a>(&'a self, place: &'a ChatPlace) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            self.record(Shown::Typing {
                thread: place.thread.clone(),
            })
        })
    }

    fn post_brief<'a>(
        &'a self,
        place: &'a ChatPlace,
        brief: BriefView<'a>,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            self.record(Shown::Brief {
                thread: place.thread.clone(),
                scenario: brief.scenario.id.clone(),
            })
        })
    }

    fn post_scorecard<'a>(
        &'a self,
        place: &'a ChatPlace,
        card: ScorecardView<'a>,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            self.record(Shown::Scorecard {
                thread: place.thread.clone(),
                overall: card.judged.card.overall,
                flags: card
                    .judged
                    .card
                    .flags
                    .iter()
                    .map(|f| f.kind.as_str().to_string())
                    .collect(),
            })
        })
    }

    fn tell<'a>(
        &'a self,
        person: &'a PersonRef,
        place: &'a ChatPlace,
        text: &'a str,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            self.record(Shown::Told {
                person: person.platform_user_id.clone(),
                thread: place.thread.clone(),
                text: text.to_string(),
            })
        })
    }

    fn post_buttons<'a>(
        &'a self,
        place: &'a ChatPlace,
        text: &'a str,
        buttons: &'a [Button],
    ) -> SurfaceFuture<'a, MessageRef> {
        Box::pin(async move {
            let message = self.post(place, text).await?;
            if let Ok(mut state) = self.state.lock() {
                state.buttons.push((
                    message.clone(),
                    buttons.iter().map(|b| b.action.clone()).collect(),
                ));
            }
            Ok(message)
        })
    }

    fn tell_secret<'a>(
        &'a self,
        person: &'a PersonRef,
        _place: &'a ChatPlace,
        text: &'a str,
    ) -> SurfaceFuture<'a, ()> {
        Box::pin(async move {
            let mut state = self
                .state
                .lock()
                .map_err(|_| SurfaceError::Other("the in-memory surface is poisoned".into()))?;
            state
                .secrets
                .push((person.platform_user_id.clone(), text.to_string()));
            drop(state);
            self.changed.notify_waiters();
            Ok(())
        })
    }
}
