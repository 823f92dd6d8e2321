//! Child processes for probes whose failure is a signal (SIGBUS from a mapped file) or that
//! need a second process (a lock held by someone else). On Unix the child is a fork of this
//! process (the agent) that runs the worker's function and exits, without exec'ing the binary
//! again (`platform::unix::forked`); elsewhere the binary re-executes itself with the hidden
//! `__worker NAME ARGS…` subcommand (which Unix keeps, for running a worker by hand). Either
//! way the child talks over stdout lines, the parent reads them with deadlines and kills the
//! child when time is up.

use super::{DataDir, Planned, ProbeContext, Sink};
use crate::observation::Observation;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The workers this binary can run as a child, by name (`__worker NAME ARGS…`).
pub fn dispatch(name: &str, args: &[OsString]) -> i32 {
    match name {
        "mmap" => super::mmap::worker_main(args),
        "lock-hold" => super::locks::worker_main(args),
        "agent" => super::agent::serve::worker_main(args),
        _ => {
            crate::error::warn(&format!("wsl-vecprobe: unknown worker `{name}`"));
            2
        }
    }
}

/// A probe's worker, by name, in a forked child: on the child's own stdin and stdout
/// descriptors, never std's locked `stdin()`/`stdout()` (see `platform::unix::forked`).
#[cfg(unix)]
fn run_forked(
    name: &str,
    args: &[OsString],
    io: &mut crate::platform::unix::forked::ChildIo,
) -> i32 {
    match name {
        "mmap" => super::mmap::run_worker(args, &mut io.stdout),
        "lock-hold" => super::locks::hold_locks(args, &mut io.stdin, &mut io.stdout),
        _ => 2,
    }
}

/// How a worker ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerExit {
    Code(i32),
    /// Killed by a signal, by name (`SIGBUS`).
    Signal(String),
    /// Did not end before the deadline; it was killed.
    TimedOut,
}

#[cfg(unix)]
type Child = crate::platform::unix::forked::ForkedChild;
#[cfg(unix)]
type ChildInput = std::fs::File;
#[cfg(not(unix))]
type Child = std::process::Child;
#[cfg(not(unix))]
type ChildInput = std::process::ChildStdin;

pub struct WorkerProcess {
    child: Child,
    stdin: Option<ChildInput>,
    lines: Receiver<String>,
    pid: u32,
}

impl WorkerProcess {
    /// Start worker `name` with `args` and piped stdin/stdout: a fork of this process on Unix
    /// (`exe` is not run), `exe __worker name args…` elsewhere. Registered for cleanup, in a
    /// process group of its own.
    pub fn spawn(exe: &Path, name: &str, args: &[OsString]) -> std::io::Result<Self> {
        #[cfg(unix)]
        let (mut child, stdin, stdout) = {
            let _ = exe;
            let (child, pipes) = super::scratch::start_child(|| {
                let forked =
                    crate::platform::unix::forked::fork_worker(|io| run_forked(name, args, io))?;
                let pid = forked.0.id();
                Ok((forked, pid))
            })?;
            (child, Some(pipes.stdin), pipes.stdout)
        };
        #[cfg(not(unix))]
        let (mut child, stdin, stdout) = {
            use std::process::{Command, Stdio};
            let mut child = super::scratch::spawn_child(
                Command::new(exe)
                    .arg("__worker")
                    .arg(name)
                    .args(args)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null()),
            )?;
            let stdout = child.stdout.take().expect("piped stdout");
            let stdin = child.stdin.take();
            (child, stdin, stdout)
        };
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = crate::spawn::thread("worker-lines", move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        if let Err(e) = reader {
            let _ = child.kill();
            let _ = child.wait();
            super::scratch::unregister_child(pid);
            return Err(e);
        }
        Ok(WorkerProcess {
            child,
            stdin,
            lines: rx,
            pid,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The next stdout line, or None at EOF or when `until` passes.
    pub fn read_line(&mut self, until: Instant) -> Option<String> {
        let left = until.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left.max(Duration::from_millis(1))) {
            Ok(l) => Some(l),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// All remaining stdout lines until EOF or `until`.
    pub fn read_all(&mut self, until: Instant) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(l) = self.read_line(until) {
            out.push(l);
        }
        out
    }

    pub fn send_line(&mut self, line: &str) -> std::io::Result<()> {
        match self.stdin.as_mut() {
            Some(s) => {
                writeln!(s, "{line}")?;
                s.flush()
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "stdin closed",
            )),
        }
    }

    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Wait for the child until `until`; kill it if it is still running then.
    pub fn wait(&mut self, until: Instant) -> WorkerExit {
        self.close_stdin();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    super::scratch::unregister_child(self.pid);
                    return exit_of(status);
                }
                Ok(None) => {}
                Err(_) => break,
            }
            if Instant::now() >= until {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        super::scratch::unregister_child(self.pid);
        WorkerExit::TimedOut
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        super::scratch::unregister_child(self.pid);
    }
}

#[cfg(unix)]
fn exit_of(status: std::process::ExitStatus) -> WorkerExit {
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = status.signal() {
        let name = nix::sys::signal::Signal::try_from(sig)
            .map(|s| s.as_str().to_string())
            .unwrap_or(format!("signal {sig}"));
        return WorkerExit::Signal(name);
    }
    WorkerExit::Code(status.code().unwrap_or(-1))
}

#[cfg(not(unix))]
fn exit_of(status: std::process::ExitStatus) -> WorkerExit {
    WorkerExit::Code(status.code().unwrap_or(-1))
}

/// Time kept back from the engine's deadline so a child-process probe reports its own
/// timeouts (with what the child was doing) instead of having them lost.
const DEADLINE_MARGIN: Duration = Duration::from_millis(30);

/// The deadline a child-process probe works to: its own timeout, capped by the run's, less
/// the margin.
pub fn probe_deadline(ctx: &ProbeContext, timeout: Duration) -> Instant {
    (Instant::now() + super::scaled(timeout))
        .min(ctx.deadline)
        .checked_sub(DEADLINE_MARGIN)
        .unwrap_or(ctx.deadline)
}

/// The plan of a probe that runs in child processes on a data dir: every id, on the dir.
pub fn plan_on_dir(ids: &[&str], dir: Option<&DataDir>) -> Vec<Planned> {
    dir.map(|d| ids.iter().map(|id| Planned::new(*id, d.target())).collect())
        .unwrap_or_default()
}

/// What a child-process probe needs before it can observe anything: the data dir's scratch
/// dir and this executable. When either is missing, every id is emitted `skipped` with the
/// reason (and the scratch errno), and None is returned. `needs` completes "not run: …"
/// (`mmap checks run in a child process`).
pub fn prerequisites<'a>(
    ctx: &'a ProbeContext,
    dir: &'a DataDir,
    ids: &[&str],
    needs: &str,
    sink: &Sink,
) -> Option<(&'a PathBuf, &'a PathBuf)> {
    let target = dir.target();
    let skip_all = |message: String, errno: Option<String>| {
        for id in ids {
            let mut o = Observation::skipped(*id, &target, message.clone());
            o.errno = errno.clone();
            sink.emit(o);
        }
    };
    let scratch = match &dir.scratch {
        Ok(p) => p,
        Err(e) => {
            skip_all(
                format!("not run: no scratch dir in the data dir ({})", e.message),
                e.errno.clone(),
            );
            return None;
        }
    };
    let Some(exe) = &ctx.exe else {
        skip_all(
            format!("not run: {needs} and this executable's path is unknown"),
            None,
        );
        return None;
    };
    if cfg!(not(any(unix, windows))) {
        skip_all("not implemented on this OS yet".into(), None);
        return None;
    }
    Some((scratch, exe))
}
