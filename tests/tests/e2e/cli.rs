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

/// `spar` with extra environment variables, such as `SPAR_LLM_*` for a local fake model.
pub fn spar_with_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
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
