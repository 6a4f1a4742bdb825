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
pub fn isolated(args: &[&str], env: &[(&str, &str)]) -> (Command, tempfile::TempDir) {
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

/// Runs `spar ARGS` with a pseudo-terminal as its standard input and output, as a person
/// at a keyboard runs it, typing `typed`. Uses util-linux `script`, which gives its command
/// a terminal; what the terminal showed comes back as stdout, with "\r\n" made "\n".
pub fn spar_on_terminal(args: &[&str], typed: &str, env: &[(&str, &str)]) -> Run {
    let quote = |a: &str| format!("'{}'", a.replace('\'', "'\\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_spar-e2e"));
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    let home = tempfile::tempdir().expect("a temporary home");
    let mut command = Command::new("script");
    command
        .args(["-q", "-e", "-c", &line, "/dev/null"])
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
        .expect("script (util-linux) starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(typed.as_bytes())
        .expect("the terminal accepts input");
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("script finishes");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).replace("\r\n", "\n"),
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

#[test]
fn the_help_describes_the_commands_that_exist_and_only_those() {
    let run = spar(&["--help"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("Spar: practise disagreeing with a senior person"),
        "{}",
        run.stdout
    );
    for absent in ["Slack"] {
        assert!(
            !run.stdout.contains(absent),
            "not built yet: {}",
            run.stdout
        );
    }
    for command in [
        "practice",
        "scenarios",
        "score",
        "eval",
        "bench",
        "migrate",
        "history",
        "stats",
        "export",
        "forget",
        "serve",
        "discord",
    ] {
        let listed = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{command} ")))
            .unwrap_or_else(|| panic!("{command} is not listed: {}", run.stdout));
        assert!(listed.split_whitespace().count() > 2, "{listed}");
        let help = spar(&[command, "--help"], "");
        assert_eq!(help.code, 0, "{command}: {}", help.stderr);
    }
    let forget = spar(&["forget", "--help"], "");
    assert!(forget.stdout.contains("--yes"), "{}", forget.stdout);
}
