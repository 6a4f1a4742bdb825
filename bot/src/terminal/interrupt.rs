//! Ctrl-C at the terminal. While a drill's conversation runs, the first press ends it the
//! way `/end` does, so what was said is still debriefed; a second press, or any press
//! when there is no conversation to end, leaves at once.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// The exit status of a process ended by Ctrl-C, as shells report it (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Clone, Default)]
pub struct Interrupt {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// A press now ends the conversation instead of the process.
    graceful: AtomicBool,
    pressed: AtomicBool,
    notify: Notify,
}

impl Interrupt {
    /// Starts listening for Ctrl-C on the current runtime. Until `graceful(true)`, a press
    /// leaves at once.
    pub fn listen() -> Interrupt {
        let interrupt = Interrupt::default();
        let inner = interrupt.inner.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if inner.graceful.load(Ordering::SeqCst)
                    && !inner.pressed.swap(true, Ordering::SeqCst)
                {
                    inner.notify.notify_one();
                } else {
                    // Standard output may be locked by the drill; the cursor may be mid-line.
                    let _ = writeln!(std::io::stderr());
                    std::process::exit(EXIT_INTERRUPTED);
                }
            }
        });
        interrupt
    }

    /// Whether a first press should end the conversation (true while one runs) or the
    /// process.
    pub fn graceful(&self, yes: bool) {
        self.inner.graceful.store(yes, Ordering::SeqCst);
    }

    /// Whether Ctrl-C has been pressed to end the conversation.
    pub fn pressed(&self) -> bool {
        self.inner.pressed.load(Ordering::SeqCst)
    }

    /// Resolves once Ctrl-C has been pressed to end the conversation (at once, if it was).
    pub async fn wait(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.pressed() {
                return;
            }
            notified.await;
        }
    }
}
