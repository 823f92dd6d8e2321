//! The private scratch areas probes work in, and the cleanup that removes them.
//!
//! Every scratch dir (`.wsl-vecprobe-XXXXXX` in a data dir or the temp dir) and every worker
//! child process is registered here, so that the normal end of a run, a timeout and Ctrl-C
//! all go through one cleanup: kill the children, remove the dirs. Nothing else is written.

use super::ScratchError;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

pub const PREFIX: &str = ".wsl-vecprobe-";

/// Create a private scratch dir inside `dir` and register it for cleanup.
pub fn create_in(dir: &Path) -> Result<PathBuf, ScratchError> {
    // make_in rather than tempdir_in: tempdir_in wraps the mkdir error with its path, which
    // drops raw_os_error(), and the probes report that errno (EROFS, ENOSPC, EACCES).
    let made = tempfile::Builder::new()
        .prefix(PREFIX)
        .make_in(dir, |p| std::fs::create_dir(p).map(|()| p.to_path_buf()));
    let failed = |e: std::io::Error| ScratchError {
        errno: e.raw_os_error().map(crate::errno::errno_name),
        message: format!("cannot create a scratch dir in {}: {e}", dir.display()),
    };
    let path = match made {
        // keep(): the handle would otherwise try to delete the path as a file.
        Ok(named) => named.keep().map_err(|e| failed(e.error))?.0,
        Err(e) => return Err(failed(e)),
    };
    DIRS.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.clone());
    Ok(path)
}

pub fn register_child(pid: u32) {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
}

pub fn unregister_child(pid: u32) {
    CHILDREN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| *p != pid);
}

/// Kill every registered child and remove every registered scratch dir (at most 1.5 s).
pub fn cleanup_all() {
    cleanup_within(Duration::from_millis(1500));
}

/// The same, waiting at most `budget` for removals. Each removal runs on its own thread, so a
/// dead mount cannot hang the exit; a dir it could not remove in time stays behind.
pub fn cleanup_within(budget: Duration) {
    let children: Vec<u32> =
        std::mem::take(&mut *CHILDREN.lock().unwrap_or_else(|e| e.into_inner()));
    for pid in children {
        kill_child(pid);
    }
    let dirs: Vec<PathBuf> = std::mem::take(&mut *DIRS.lock().unwrap_or_else(|e| e.into_inner()));
    let (tx, rx) = std::sync::mpsc::channel();
    let count = dirs.len();
    for dir in dirs {
        let tx = tx.clone();
        let _ = std::thread::Builder::new()
            .name("scratch-cleanup".into())
            .spawn(move || {
                let _ = std::fs::remove_dir_all(&dir);
                let _ = tx.send(());
            });
    }
    let deadline = std::time::Instant::now() + budget;
    for _ in 0..count {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if rx.recv_timeout(left).is_err() {
            break;
        }
    }
}

#[cfg(unix)]
fn kill_child(pid: u32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[cfg(not(unix))]
fn kill_child(pid: u32) {
    let _ = std::process::Command::new("taskkill")
        .args(["/F", "/PID", &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Ctrl-C (and SIGTERM): clean up, say so on stderr, exit 130.
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        cleanup_all();
        crate::error::warn("wsl-vecprobe: interrupted; probe areas removed");
        std::process::exit(130);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_scratch_dir_that_cannot_be_created_names_its_errno() {
        let base = tempfile::tempdir().unwrap();
        let err = create_in(&base.path().join("missing")).unwrap_err();
        let expected = if cfg!(windows) {
            "ERROR_PATH_NOT_FOUND"
        } else {
            "ENOENT"
        };
        assert_eq!(err.errno.as_deref(), Some(expected), "{}", err.message);
    }

    #[test]
    fn scratch_dirs_are_created_private_and_removed_by_cleanup() {
        let base = tempfile::tempdir().unwrap();
        let s = create_in(base.path()).unwrap();
        assert!(s.is_dir());
        assert!(s.file_name().unwrap().to_string_lossy().starts_with(PREFIX));
        std::fs::write(s.join("f"), b"x").unwrap();
        cleanup_all();
        assert!(!s.exists());
        assert_eq!(std::fs::read_dir(base.path()).unwrap().count(), 0);
    }
}
