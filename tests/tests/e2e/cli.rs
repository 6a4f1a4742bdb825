//! Running the command line as a user would, and reading what it prints.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

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
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    // A command that fails before reading its input closes it: that is its answer.
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "stdin accepts input"
        );
    }
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

/// A `spar` still running, that a test types into as a person does, waiting to see
/// something on the screen before typing on: on a pseudo-terminal (util-linux `script`
/// gives it one), where Ctrl-C typed reaches it as SIGINT as from a keyboard, or on pipes.
pub struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    screen: Arc<(Mutex<Vec<u8>>, Condvar)>,
    /// How much of the screen `expect` has already matched.
    seen: usize,
    _home: tempfile::TempDir,
}

/// How long `Running::expect` waits for text before failing the test, so a broken
/// program fails rather than hangs; a working one shows it long before.
const PATIENCE: Duration = Duration::from_secs(120);

impl Running {
    /// Starts `spar ARGS` on a terminal `columns` wide (80 when `None`), with `env`.
    pub fn on_terminal(args: &[&str], env: &[(&str, &str)], columns: Option<u16>) -> Running {
        let quote = |a: &str| format!("'{}'", a.replace('\'', "'\\''"));
        // `exec`, so the shell leaves and Ctrl-C reaches spar alone.
        let mut line = format!(
            "stty cols {} rows 40; exec {}",
            columns.unwrap_or(80),
            quote(env!("CARGO_BIN_EXE_spar-e2e"))
        );
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
        Running::spawn(command, home)
    }

    /// Starts `spar ARGS` with `env`, its input and output pipes.
    pub fn piped(args: &[&str], env: &[(&str, &str)]) -> Running {
        let (command, home) = isolated(args, env);
        Running::spawn(command, home)
    }

    fn spawn(mut command: Command, home: tempfile::TempDir) -> Running {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the program starts");
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let screen = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let shared = screen.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            loop {
                let read = stdout.read(&mut buffer).unwrap_or(0);
                let (bytes, arrived) = &*shared;
                let mut bytes = bytes.lock().expect("the screen");
                if read == 0 {
                    bytes.push(0);
                    arrived.notify_all();
                    return;
                }
                bytes.extend_from_slice(&buffer[..read]);
                arrived.notify_all();
            }
        });
        Running {
            stdin: child.stdin.take(),
            child,
            screen,
            seen: 0,
            _home: home,
        }
    }

    /// Everything shown so far, with the terminal's "\r\n" made "\n".
    pub fn screen(&self) -> String {
        let bytes = self.screen.0.lock().expect("the screen");
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).replace("\r\n", "\n")
    }

    /// Waits until `text` shows on the screen after what was last expected.
    pub fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        let (bytes, arrived) = &*self.screen;
        let mut guard = bytes.lock().expect("the screen");
        loop {
            let end = guard.iter().position(|&b| b == 0);
            let shown =
                String::from_utf8_lossy(&guard[..end.unwrap_or(guard.len())]).replace("\r\n", "\n");
            if let Some(at) = shown.get(self.seen..).and_then(|rest| rest.find(text)) {
                self.seen += at + text.len();
                return;
            }
            let now = Instant::now();
            assert!(
                end.is_none() && now < deadline,
                "{text:?} never showed; the screen:\n{shown}"
            );
            guard = arrived
                .wait_timeout(guard, deadline - now)
                .expect("the screen")
                .0;
        }
    }

    /// Types `keys` (Enter is "\n", Ctrl-C "\x03", Ctrl-D "\x04").
    pub fn type_keys(&mut self, keys: &str) {
        let stdin = self.stdin.as_mut().expect("the keyboard is attached");
        stdin
            .write_all(keys.as_bytes())
            .expect("the terminal takes keys");
        stdin.flush().expect("the terminal takes keys");
    }

    /// Kills the process the way a crash or a closed window does, without its knowing,
    /// and waits until it is gone.
    pub fn kill(mut self) -> String {
        self.child.kill().expect("the process can be killed");
        self.child.wait().expect("the process ends");
        self.screen()
    }

    /// Waits for the program to exit; gives its exit code and the whole screen.
    pub fn finish(mut self) -> Run {
        let deadline = Instant::now() + PATIENCE;
        {
            // The screen ends when the program exits and the terminal closes.
            let (bytes, arrived) = &*self.screen;
            let mut guard = bytes.lock().expect("the screen");
            while !guard.contains(&0) {
                let now = Instant::now();
                assert!(
                    now < deadline,
                    "spar never exited:\n{}",
                    String::from_utf8_lossy(&guard)
                );
                guard = arrived
                    .wait_timeout(guard, deadline - now)
                    .expect("the screen")
                    .0;
            }
        }
        drop(self.stdin.take());
        let status = self.child.wait().expect("script exits");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: self.screen(),
            stderr: String::new(),
        }
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
    let serve = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("serve "))
        .unwrap_or_default();
    assert!(
        serve.contains("Discord") && serve.contains("Slack"),
        "{serve}"
    );
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
