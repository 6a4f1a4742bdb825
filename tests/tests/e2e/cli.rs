//! Running the command line as a user would, and reading what it prints.

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `spar ARGS` with `stdin` piped in, isolated from the user's own settings and data.
pub fn spar(args: &[&str], stdin: &str) -> Run {
    spar_with_env(args, stdin, &[])
}

/// `spar ARGS` with `env`, in a fresh temporary home so the user's own settings and data
/// are never read; the home lives as long as the returned directory.
fn isolated(args: &[&str], env: &[(&str, &str)]) -> (Command, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("a temporary home");
    let mut command = Command::new(env!("CARGO_BIN_EXE_spar-e2e"));
    command
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"));
    for (key, value) in env {
        command.env(key, value);
    }
    (command, home)
}

/// `spar` with extra environment variables, such as `SPAR_LLM_*` for a local fake model.
pub fn spar_with_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let (mut command, _home) = isolated(args, env);
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spar starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts input");
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("spar finishes");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs `spar ARGS` writing into a pipe whose reader has already gone, as `spar ... | head`
/// does once `head` has read enough; stdout is empty in the result.
pub fn spar_into_closed_pipe(args: &[&str]) -> Run {
    // A process that exits without reading leaves us the writing end of a pipe with no
    // reader, so every write to it fails with a broken pipe, however fast `spar` is.
    let mut reader = Command::new(env!("CARGO_BIN_EXE_spar-e2e"))
        .arg("--version")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("a reader starts");
    let closed = reader.stdin.take().expect("stdin is piped");
    reader.wait().expect("the reader exits");
    let (mut command, _home) = isolated(args, &[]);
    let Output { status, stderr, .. } = command
        .stdin(Stdio::null())
        .stdout(closed)
        .stderr(Stdio::piped())
        .output()
        .expect("spar finishes");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}
