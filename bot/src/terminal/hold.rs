//! Which process is running a terminal drill. The process holds a lock on a file named
//! after the drill in the data directory for as long as it runs it; the operating system
//! lets go of the lock when the process ends however it ends, so at the next start a
//! drill whose file is there but unlocked is known to have lost its process.

use spar_core::store::DrillId;
use std::fs::File;
use std::path::{Path, PathBuf};

/// This process's hold on one drill; dropping it lets the drill go.
#[derive(Debug)]
pub struct Hold {
    path: PathBuf,
    _file: File,
}

/// What a look at a drill's lock file found.
#[derive(Debug)]
pub enum Probe {
    /// A running process holds the drill.
    Held,
    /// The file was there with nobody holding it: its process ended, and now this one
    /// holds the drill.
    Taken(Hold),
    /// No file: the drill was not started on this machine (or before drills had one).
    Unknown,
}

/// The folder of lock files, `<data dir>/spar/running`.
pub fn folder() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("spar").join("running"))
}

impl Hold {
    /// Holds a drill this process starts. `None` when the lock cannot be had (no data
    /// directory, a read-only one): the drill still runs, it just cannot be told from a
    /// dead one on another start.
    pub fn start(folder: &Path, drill: &DrillId) -> Option<Hold> {
        std::fs::create_dir_all(folder).ok()?;
        let path = path(folder, drill);
        let file = File::create(&path).ok()?;
        lock(&file).ok()?.then_some(Hold { path, _file: file })
    }

    /// Looks at the lock file of a drill found unfinished.
    pub fn probe(folder: &Path, drill: &DrillId) -> Probe {
        let path = path(folder, drill);
        let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else {
            return Probe::Unknown;
        };
        match lock(&file) {
            Ok(true) => Probe::Taken(Hold { path, _file: file }),
            Ok(false) => Probe::Held,
            Err(_) => Probe::Unknown,
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        // Removed while still locked, so nobody finds it unlocked in between.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn path(folder: &Path, drill: &DrillId) -> PathBuf {
    // Drill ids are UUIDs; anything else is made safe for a file name.
    let name: String = drill
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    folder.join(format!("{name}.lock"))
}

/// Takes the file's exclusive lock without waiting: true when taken, false when another
/// process has it.
#[cfg(unix)]
fn lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Elsewhere no lock is taken, so a drill is never taken for a dead one by its file.
#[cfg(not(unix))]
fn lock(_: &File) -> std::io::Result<bool> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_drill_is_held_and_a_let_go_one_has_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let drill = DrillId("d-1".into());
        let hold = Hold::start(dir.path(), &drill).expect("the lock is taken");
        assert!(matches!(Hold::probe(dir.path(), &drill), Probe::Held));
        drop(hold);
        assert!(matches!(Hold::probe(dir.path(), &drill), Probe::Unknown));
    }

    #[test]
    fn a_file_nobody_holds_is_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let drill = DrillId("d-2".into());
        // What a process that died leaves behind.
        std::fs::write(path(dir.path(), &drill), "").unwrap();
        let Probe::Taken(hold) = Hold::probe(dir.path(), &drill) else {
            panic!("an unheld file is taken");
        };
        assert!(matches!(Hold::probe(dir.path(), &drill), Probe::Held));
        drop(hold);
    }
}
