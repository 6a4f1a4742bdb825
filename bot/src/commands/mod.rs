//! One module per subcommand; each takes the settings and its arguments and returns an
//! exit code.

// Commands write through `emit`, so a reader that stopped early is never a panic.
#![deny(clippy::print_stdout)]

pub mod bench;
pub mod eval;
pub mod export;
pub mod forget;
pub mod history;
pub mod load;
pub mod migrate;
pub mod practice;
pub mod rounds;
pub mod scenarios;
pub mod score;
pub mod serve;
pub mod stats;

/// The async runtime a command runs its storage and network work on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Runtime::new().context("starting the async runtime")
}

/// Writes a command's output; a reader that stopped early (`| head`) is not an error.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing to standard output"))
        }
        _ => Ok(()),
    }
}
