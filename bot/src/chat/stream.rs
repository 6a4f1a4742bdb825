//! A model's reply shown as it arrives: one message, posted with the first sentence and
//! edited as more come, at most once per interval (edits count against rate limits), with
//! the typing indicator kept up until then. The final text replaces whatever was shown.

use super::{ChatSurface, MessageRef, SurfaceError, text};
use crate::llm::ReplySink;
use spar_core::store::ChatPlace;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// What the model has produced so far; `None` until the first sentence.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Draft {
    text: String,
    /// The shown text was taken back (the model broke off or is being asked again).
    withdrawn: bool,
}

/// The `ReplySink` a model streams into; the editor watches it.
pub(super) struct StreamSink {
    draft: watch::Sender<Draft>,
}

impl ReplySink for StreamSink {
    fn text(&mut self, chunk: &str) {
        self.draft.send_modify(|d| {
            d.text.push_str(chunk);
            d.withdrawn = false;
        });
    }

    fn retract(&mut self) {
        self.draft.send_modify(|d| {
            d.text.clear();
            d.withdrawn = true;
        });
    }
}

/// What the editor left on screen.
#[derive(Debug, Default)]
pub(super) struct OnScreen {
    pub message: Option<MessageRef>,
    pub text: String,
    /// The first failure to post or edit; later updates are skipped.
    pub error: Option<SurfaceError>,
}

/// Shown in place of a reply that was taken back while a new one is produced.
const WITHDRAWN: &str = "…";

pub(super) fn channel() -> (StreamSink, watch::Receiver<Draft>) {
    let (draft, watcher) = watch::channel(Draft::default());
    (StreamSink { draft }, watcher)
}

/// Shows the draft as it grows until the sink is dropped, then returns what is on screen.
pub(super) async fn show(
    surface: &dyn ChatSurface,
    place: &ChatPlace,
    mut draft: watch::Receiver<Draft>,
    edit_interval: Duration,
    typing_interval: Duration,
) -> OnScreen {
    let mut screen = OnScreen::default();
    let limit = surface.message_limit();
    let mut last_edit: Option<Instant> = None;
    let mut typing = tokio::time::interval(typing_interval);
    loop {
        tokio::select! {
            changed = draft.changed() => {
                if changed.is_err() {
                    return screen;
                }
            }
            _ = typing.tick(), if screen.message.is_none() => {
                // The indicator is only worth keeping up until something is shown.
                let _ = surface.typing(place).await;
                continue;
            }
        }
        if let Some(at) = last_edit {
            // Let more of the reply arrive rather than edit again within the interval; the
            // sender being dropped meanwhile still shows the latest draft first.
            tokio::time::sleep_until(at + edit_interval).await;
        }
        let current = draft.borrow_and_update().clone();
        let view = if current.withdrawn && current.text.is_empty() {
            WITHDRAWN.to_string()
        } else {
            text::split(&current.text, limit)
                .into_iter()
                .next()
                .unwrap_or_default()
        };
        if view.is_empty() || view == screen.text || screen.error.is_some() {
            continue;
        }
        let outcome = match &screen.message {
            Some(message) => surface.edit(message, &view).await,
            None if current.withdrawn => Ok(()),
            None => surface.post(place, &view).await.map(|m| {
                screen.message = Some(m);
            }),
        };
        match outcome {
            Ok(()) => screen.text = view,
            Err(e) => screen.error = Some(e),
        }
        last_edit = Some(Instant::now());
    }
}

/// Makes the screen show exactly `text`: the streamed message (if any) becomes its first
/// piece and the rest follow as new messages.
pub(super) async fn finish(
    surface: &dyn ChatSurface,
    place: &ChatPlace,
    screen: OnScreen,
    text: &str,
) -> Result<(), SurfaceError> {
    if let Some(e) = screen.error {
        return Err(e);
    }
    let pieces = text::split(text, surface.message_limit());
    let mut pieces = pieces.iter();
    if let Some(message) = &screen.message {
        match pieces.next() {
            Some(first) if *first != screen.text => surface.edit(message, first).await?,
            Some(_) => {}
            None => surface.edit(message, WITHDRAWN).await?,
        }
    }
    for piece in pieces {
        surface.post(place, piece).await?;
    }
    Ok(())
}
