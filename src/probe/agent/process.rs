//! The agent process itself, from the tool's side: how it is started and how it ends. It is
//! spawned from the tool's binary (`__worker agent`) — or, on Linux at the very start of a
//! `check`, forked from the tool (`fork_early`): the fork spares the new process its exec,
//! which costs a dynamic load, page faults over the binary and glibc's start-up (about 1.2 ms
//! of CPU on the 2-vCPU VM of `reports/benchmarks.md`, where a whole run takes 20).
//!
//! At the end its stdin closes and it is waited for (`end`); an agent that died before that
//! left its scratch dirs, which a fresh agent takes over and removes (`adopt_left_dirs`).
//!
//! A fork is only safe while no other thread can hold a lock the child will need: the tool
//! forks its agent before it starts any thread but the signal thread, which holds none, and
//! never under the scratch module's child-list lock (it is registered after the fork).

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The name the agent gives itself (its `comm`, 15 bytes at most): how `ps` and the tests
/// tell it from the tool, whose command line a forked agent shares.
pub const AGENT_NAME: &str = "vecprobe-agent";

/// A started agent: the process, and the tool's ends of its stdin and stdout.
pub(super) struct Started {
    pub process: AgentProcess,
    pub stdin: File,
    pub stdout: File,
}

/// The agent's process, spawned or forked.
pub(super) enum AgentProcess {
    Spawned(std::process::Child),
    #[cfg(target_os = "linux")]
    Forked(crate::platform::unix::forked::ForkedChild),
}

impl AgentProcess {
    pub fn id(&self) -> u32 {
        match self {
            AgentProcess::Spawned(c) => c.id(),
            #[cfg(target_os = "linux")]
            AgentProcess::Forked(c) => c.id(),
        }
    }

    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match self {
            AgentProcess::Spawned(c) => c.try_wait(),
            #[cfg(target_os = "linux")]
            AgentProcess::Forked(c) => c.try_wait(),
        }
    }

    pub fn kill(&mut self) -> io::Result<()> {
        match self {
            AgentProcess::Spawned(c) => c.kill(),
            #[cfg(target_os = "linux")]
            AgentProcess::Forked(c) => c.kill(),
        }
    }

    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        match self {
            AgentProcess::Spawned(c) => c.wait(),
            #[cfg(target_os = "linux")]
            AgentProcess::Forked(c) => c.wait(),
        }
    }
}

/// Spawn the agent from the tool's binary `exe` (`__worker agent`), registered like every
/// child of the run.
pub(super) fn spawn(exe: &Path) -> io::Result<Started> {
    let mut child = crate::probe::scratch::spawn_agent(
        Command::new(exe)
            .args(["__worker", "agent"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(io::Error::other("the agent's pipes were not made"));
    };
    #[cfg(unix)]
    let (stdin, stdout) = (
        File::from(std::os::fd::OwnedFd::from(stdin)),
        File::from(std::os::fd::OwnedFd::from(stdout)),
    );
    #[cfg(windows)]
    let (stdin, stdout) = (
        File::from(std::os::windows::io::OwnedHandle::from(stdin)),
        File::from(std::os::windows::io::OwnedHandle::from(stdout)),
    );
    Ok(Started {
        process: AgentProcess::Spawned(child),
        stdin,
        stdout,
    })
}

/// Fork the agent from this process (Linux). The caller guarantees what the module doc says:
/// no thread but the signal thread has started yet.
#[cfg(target_os = "linux")]
pub(super) fn fork_early() -> io::Result<Started> {
    use crate::platform::unix::forked::fork_worker;
    let (child, pipes) = fork_worker(super::serve::serve_forked)?;
    crate::probe::scratch::register_agent(child.id());
    Ok(Started {
        process: AgentProcess::Forked(child),
        stdin: pipes.stdin,
        stdout: pipes.stdout,
    })
}

/// Give the agent process its name (Linux: its `comm`; elsewhere names are not settable).
pub(super) fn name_this_process() {
    #[cfg(target_os = "linux")]
    {
        let name = std::ffi::CString::new(AGENT_NAME).unwrap_or_default();
        // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
        unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
    }
}

/// The run's agent died before it removed `dirs` (the scratch dirs it made): a fresh agent,
/// spawned from `exe`, takes them over (`adopt`) and removes them as it exits, by
/// `deadline`. An exec, not a fork: this process has threads by now. Only paths named like a
/// scratch dir are taken over; one already gone costs nothing.
pub(super) fn adopt_left_dirs(exe: &Path, dirs: &[std::path::PathBuf], deadline: Instant) {
    let Ok(agent) = super::Agent::start(exe) else {
        return;
    };
    for dir in dirs {
        let path = super::ospath::encode(dir);
        if let Some(req) = agent.request(serde_json::json!({ "op": "adopt", "path": path })) {
            let _ = req.next(deadline);
        }
    }
    end(&agent, deadline);
}

/// Close `agent`'s stdin, wait until `deadline` for it to exit, then kill it.
pub(super) fn end(agent: &super::Agent, deadline: Instant) {
    agent.end_input();
    let Some(mut child) = agent.child.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    // Its stdout closes as it exits: wait for that, then for the exit itself (moments later).
    let routes = agent.pending.lock().unwrap_or_else(|e| e.into_inner());
    let left = deadline.saturating_duration_since(Instant::now());
    drop(
        agent
            .gone
            .wait_timeout_while(routes, left, |r| r.is_some())
            .unwrap_or_else(|e| e.into_inner()),
    );
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            crate::probe::scratch::unregister_child(agent.pid);
            return;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    let _ = child.kill();
    crate::probe::scratch::unregister_child(agent.pid);
    // Reaped on a thread of its own: a child killed inside a filesystem request may take
    // until the request ends to go; the tool does not wait for that.
    let _ = std::thread::Builder::new()
        .name("agent-reaper".into())
        .spawn(move || {
            let _ = child.wait();
        });
}
