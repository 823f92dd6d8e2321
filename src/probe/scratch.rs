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
/// Scratch dirs being created right now (a mkdir an abandoned setup thread is still in):
/// cleanup waits for them, within its reserve, so a late mkdir is removed too.
static IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One run's way in to `create_in`: once the run closes it, a setup thread that was
/// abandoned (and only now gets to its mkdir) creates nothing, and closing waits for a mkdir
/// already under way, so nothing is created after the run's cleanup.
#[derive(Clone, Default)]
pub struct Gate {
    state: std::sync::Arc<(
        std::sync::atomic::AtomicBool,
        std::sync::atomic::AtomicUsize,
    )>,
}

impl Gate {
    pub fn create_in(&self, dir: &Path) -> Result<PathBuf, ScratchError> {
        use std::sync::atomic::Ordering::SeqCst;
        let (closed, in_flight) = &*self.state;
        in_flight.fetch_add(1, SeqCst);
        let made = if closed.load(SeqCst) {
            Err(ScratchError {
                errno: None,
                message: "not created: the run had already ended".into(),
                own: false,
            })
        } else {
            create_in(dir)
        };
        in_flight.fetch_sub(1, SeqCst);
        made
    }

    /// No creation after this; wait (at most `limit`) for those under way.
    pub fn close(&self, limit: Duration) {
        use std::sync::atomic::Ordering::SeqCst;
        let (closed, in_flight) = &*self.state;
        closed.store(true, SeqCst);
        let until = std::time::Instant::now() + limit;
        while in_flight.load(SeqCst) > 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static CLEANUP: Mutex<()> = Mutex::new(());

pub const PREFIX: &str = ".wsl-vecprobe-";

/// A creation counted as in flight from the moment it is asked for (the agent takes one when it
/// reads a scratch request, before the thread that makes the dir is even scheduled): cleanup
/// waits for it, so a dir made just after the tool hung up is still removed.
pub struct InFlight(());

pub fn in_flight() -> InFlight {
    IN_FLIGHT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    InFlight(())
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Create a private scratch dir inside `dir` and register it for cleanup.
pub fn create_in(dir: &Path) -> Result<PathBuf, ScratchError> {
    create_named_in(dir, None)
}

/// A fresh scratch dir name (`PREFIX` and 8 random letters and digits): the tool names the
/// dir it asks the agent for, so it knows the path even if the agent dies before it answers.
pub fn fresh_name() -> String {
    let mut name = String::from(PREFIX);
    name.extend(std::iter::repeat_with(fastrand::alphanumeric).take(8));
    name
}

/// `create_in`, as `name` when one is given (a scratch dir's name, as `fresh_name` makes
/// them); a name that is taken, or not a scratch dir's, gets a random one instead.
pub fn create_named_in(dir: &Path, name: Option<&str>) -> Result<PathBuf, ScratchError> {
    let _creating = in_flight();
    // After a signal nothing new is created (the interrupt routine is removing what exists).
    let made = if interrupted() {
        Err(ScratchError {
            errno: None,
            message: "not created: the run was interrupted".into(),
            own: false,
        })
    } else {
        let named = name
            .filter(|n| n.starts_with(PREFIX) && !n.contains(['/', '\\']) && n.len() > PREFIX.len())
            .map(|n| dir.join(n))
            .and_then(|path| std::fs::create_dir(&path).map(|()| path).ok());
        named.map_or_else(|| make_in(dir), Ok)
    };
    if let Ok(path) = &made {
        DIRS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.clone());
    }
    made
}

/// Take over the removal of a scratch dir another process of this run made (an agent that
/// died before it could remove it): registered like one made here, if its name is a scratch
/// dir's. False for any other path, which is never touched.
pub fn adopt(dir: &Path) -> bool {
    let ours = dir
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with(PREFIX));
    if ours {
        DIRS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(dir.to_path_buf());
    }
    ours
}

fn make_in(dir: &Path) -> Result<PathBuf, ScratchError> {
    // make_in rather than tempdir_in: tempdir_in wraps the mkdir error with its path, which
    // drops raw_os_error(), and the probes report that errno (EROFS, ENOSPC, EACCES).
    let made = tempfile::Builder::new()
        .prefix(PREFIX)
        .make_in(dir, |p| std::fs::create_dir(p).map(|()| p.to_path_buf()));
    let failed = |e: std::io::Error| ScratchError {
        errno: e.raw_os_error().map(crate::errno::errno_name),
        message: format!(
            "cannot create a scratch dir in {}: {e}",
            crate::host::shown(dir)
        ),
        own: false,
    };
    match made {
        // keep(): the handle would otherwise try to delete the path as a file.
        Ok(named) => Ok(named.keep().map_err(|e| failed(e.error))?.0),
        Err(e) => Err(failed(e)),
    }
}

/// Spawn a child in its own process group and register it, under the lock the interrupt
/// routine takes to kill children: a child is either refused (the run was interrupted) or
/// killed by that routine, never left behind by a signal arriving between spawn and register.
pub fn spawn_child(cmd: &mut std::process::Command) -> std::io::Result<std::process::Child> {
    start_child(|| {
        let child = own_process_group(cmd).spawn()?;
        let pid = child.id();
        Ok((child, pid))
    })
}

/// Start a child with `start` (which returns it and its pid; it must make the child lead its
/// own process group) and register it, under the same lock and with the same refusal after a
/// signal as `spawn_child`. A forked worker (`platform::unix::forked`) starts this way.
pub fn start_child<T>(start: impl FnMut() -> std::io::Result<(T, u32)>) -> std::io::Result<T> {
    let mut children = CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
    if interrupted() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "not started: the run was interrupted",
        ));
    }
    // Under a task limit a start refused now may pass in a moment (spawn::retrying).
    let (child, pid) = crate::spawn::retrying(start)?;
    children.push(pid);
    Ok(child)
}

/// The run's agent (`agent`): spawned and registered like every child, but at cleanup it is
/// asked to finish (remove the scratch dirs it made) before it is killed.
pub fn spawn_agent(cmd: &mut std::process::Command) -> std::io::Result<std::process::Child> {
    let child = spawn_child(cmd)?;
    AGENT_PID.store(child.id(), std::sync::atomic::Ordering::SeqCst);
    Ok(child)
}

static AGENT_PID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A forked agent (`agent::process::fork_early`), registered once the fork is done: a fork
/// under the child-list lock would leave that lock held in the agent.
pub fn register_agent(pid: u32) {
    AGENT_PID.store(pid, std::sync::atomic::Ordering::SeqCst);
    register_child(pid);
}

pub fn register_child(pid: u32) {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
    // Started as the interrupt routine ran: it may have killed the others already.
    if interrupted() {
        kill_children();
    }
}

/// The child has been waited for: forget it, and kill what is left of its process group (a
/// grandchild a fake `python3` left running). Children are spawned as group leaders.
pub fn unregister_child(pid: u32) {
    CHILDREN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| *p != pid);
    kill_group(pid);
}

/// Kill every registered child and remove every registered scratch dir (at most 1.5 s).
pub fn cleanup_all() {
    cleanup_within(Duration::from_millis(1500));
}

/// The same, waiting at most `budget` — a reserve of its own, not what is left of the run —
/// for creations still in flight and for removals. Each removal runs on its own thread, so a
/// dead mount cannot hang the exit; a dir it could not remove in time stays behind. Safe to
/// call more than once and from several threads (the signal handler and the normal end).
/// Start the end of a run without waiting for anything: every child but the agent is killed
/// and the agent is told to remove its scratch dirs and exit. `cleanup_within` then waits.
pub fn begin_cleanup() {
    kill_children_but(AGENT_PID.load(std::sync::atomic::Ordering::SeqCst));
    super::agent::hang_up();
}

pub fn cleanup_within(budget: Duration) {
    // One cleanup at a time: the interrupt routine waits for a cleanup under way (which has
    // taken the dirs off the list) instead of exiting while it runs.
    let _one = CLEANUP.lock().unwrap_or_else(|e| e.into_inner());
    let deadline = std::time::Instant::now() + budget;
    // Every child but the agent first (map workers may be writing in its scratch dirs), then
    // the agent removes what it made and exits (killed if it cannot by the deadline).
    kill_children_but(AGENT_PID.load(std::sync::atomic::Ordering::SeqCst));
    super::agent::finish(deadline);
    // A mkdir still in flight registers its dir when it returns: wait for it (a healthy disk
    // takes microseconds), then remove everything registered.
    while IN_FLIGHT.load(std::sync::atomic::Ordering::SeqCst) > 0
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    let dirs: Vec<PathBuf> = std::mem::take(&mut *DIRS.lock().unwrap_or_else(|e| e.into_inner()));
    let (tx, rx) = std::sync::mpsc::channel();
    let count = dirs.len();
    for dir in dirs {
        let tx = tx.clone();
        let _ = std::thread::Builder::new()
            .name("scratch-cleanup".into())
            .spawn(move || {
                // A probe thread may still be writing in it: retry until it is gone.
                while std::fs::remove_dir_all(&dir).is_err()
                    && dir.exists()
                    && std::time::Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let _ = tx.send(());
            });
    }
    for _ in 0..count {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if rx.recv_timeout(left).is_err() {
            break;
        }
    }
    // A child that started while the dirs were removed.
    kill_children();
}

fn kill_children() {
    kill_children_but(0);
}

fn kill_children_but(spared: u32) {
    let children: Vec<u32> = {
        let mut all = CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
        let (spare, kill) = all.drain(..).partition(|&p| p == spared && p != 0);
        *all = spare;
        kill
    };
    for pid in children {
        kill_child(pid);
    }
}

#[cfg(unix)]
fn kill_child(pid: u32) {
    kill_group(pid);
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// SIGKILL to the process group a child leads (see `own_process_group`).
#[cfg(unix)]
fn kill_group(pid: u32) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {}

/// Make a child the leader of its own process group, so that it and everything it starts can
/// be killed together (and a terminal's Ctrl-C reaches only this tool, which then cleans up).
pub fn own_process_group(cmd: &mut std::process::Command) -> &mut std::process::Command {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd
}

#[cfg(not(unix))]
fn kill_child(pid: u32) {
    let _ = std::process::Command::new("taskkill")
        .args(["/F", "/PID", &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Ctrl-C (and SIGTERM): clean up, say so on stderr, exit 130. Installed first thing in
/// `main`, so there is no moment of a run without it.
pub fn install_interrupt_handler() {
    #[cfg(unix)]
    crate::platform::unix::signals::install(on_interrupt);
    #[cfg(not(unix))]
    {
        let _ = ctrlc::set_handler(on_interrupt);
    }
}

fn on_interrupt() {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
    cleanup_all();
    crate::error::warn("wsl-vecprobe: interrupted; probe areas removed");
    std::process::exit(crate::error::EXIT_INTERRUPTED);
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn interrupted() -> bool {
    #[cfg(unix)]
    if crate::platform::unix::signals::received() {
        return true;
    }
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// End the process with `code` — unless a signal has arrived, in which case the interrupt
/// routine (cleanup, exit 130) is left to finish: an interrupted run never exits 0.
pub fn exit(code: i32) -> ! {
    if interrupted() {
        loop {
            std::thread::park();
        }
    }
    std::process::exit(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_named_scratch_dir_gets_its_name_unless_taken_or_not_a_scratch_name() {
        let base = tempfile::tempdir().unwrap();
        let name = fresh_name();
        assert!(name.starts_with(PREFIX) && name.len() == PREFIX.len() + 8);
        assert_ne!(name, fresh_name());
        let made = create_named_in(base.path(), Some(&name)).unwrap();
        assert_eq!(made, base.path().join(&name));
        let scratch_named = |p: &Path| p.file_name().unwrap().to_string_lossy().starts_with(PREFIX);
        // Taken: another name, still a scratch dir's.
        let again = create_named_in(base.path(), Some(&name)).unwrap();
        assert_ne!(again, made);
        assert!(scratch_named(&again));
        // Not a scratch dir's name, or a path: never used as given.
        for bad in ["data", "../.wsl-vecprobe-x", ".wsl-vecprobe-a/b", PREFIX] {
            let other = create_named_in(base.path(), Some(bad)).unwrap();
            assert_eq!(other.parent(), Some(base.path()), "{bad}");
            assert!(scratch_named(&other), "{bad}");
        }
        for d in std::fs::read_dir(base.path()).unwrap().flatten() {
            std::fs::remove_dir(d.path()).unwrap();
        }
    }

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

    /// Windows: what the Ctrl-C handler does to children (tests/windows_signals.rs cannot send
    /// the event under Wine): a registered child is ended (taskkill /F) by the cleanup.
    #[cfg(windows)]
    #[test]
    fn cleanup_ends_a_registered_child() {
        // `cmd /c pause` waits for a key on a stdin that never delivers one.
        let mut child = std::process::Command::new("cmd")
            .args(["/c", "pause"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            child.try_wait().unwrap().is_none(),
            "cmd /c pause ended by itself"
        );
        register_child(child.id());
        cleanup_all();
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(5) {
                let _ = child.kill();
                panic!("the registered child outlived the cleanup");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
