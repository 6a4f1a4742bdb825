//! How a failed command reaches the user: one short sentence on stderr and an exit code
//! that tells scripts whether the input was at fault.

use std::process::ExitCode;

/// A problem with what the user gave us (a file, an argument, a scenario); exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// An `InputError` as the `anyhow::Error` that commands return.
pub fn input_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InputError(message.into()))
}

/// Prints the error chain as one line and picks the exit code.
pub fn report(error: &anyhow::Error) -> ExitCode {
    let input = error.chain().any(|e| e.is::<InputError>());
    let message = error
        .chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ");
    eprintln!("spar: {message}");
    tracing::debug!(error = ?error, "command failed");
    if input {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}
