//! The probe interface and the one list every probe is registered in.
//!
//! A probe is a `ProbeDef`: a name, a kind (for grouping), a scope (once per host, or once
//! per data dir), a deadline, a `plan` that names the observations it will emit, and a `run`
//! that emits them into a `Sink`. The engine runs every (probe, target) job concurrently and
//! turns anything planned but not emitted by the deadline into a `timeout` observation.
//! Probes never decide verdicts; they only observe.

use crate::host::{DataDirFacts, HostFacts};
use crate::observation::Observation;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

pub mod agent;
pub mod docker;
pub mod engine;
pub mod fileops;
pub mod host_facts;
pub mod limits;
pub mod lockfiles;
pub mod locks;
pub mod loopback;
pub mod mmap;
pub mod ports;
pub mod proxy;
pub mod python;
pub mod scratch;
pub mod shared_fs;
pub mod space;
pub mod stores;
pub mod testing;
pub mod unix_socket;
pub mod worker;

/// Grouping used by the table renderer.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeKind {
    Host,
    Filesystem,
    Memory,
    Locks,
    Sockets,
    Network,
    Limits,
    Environment,
}

impl ProbeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Host => "host",
            ProbeKind::Filesystem => "filesystem",
            ProbeKind::Memory => "memory",
            ProbeKind::Locks => "locks",
            ProbeKind::Sockets => "sockets",
            ProbeKind::Network => "network",
            ProbeKind::Limits => "limits",
            ProbeKind::Environment => "environment",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Runs once per run; `dir` is None.
    Host,
    /// Runs once per `--data-dir`; `dir` is Some.
    DataDir,
    /// Observes the filesystem a data dir lives on (file operations, memory maps, locks):
    /// runs once per filesystem among the data dirs, and a dir on the same filesystem as an
    /// earlier one (`DataDir::same_filesystem_as`) gets a copy of its observations, marked
    /// with the dir they were made in (see `shared_fs`).
    Filesystem,
}

/// One planned observation: its id and target. The engine reports `timeout` for any planned
/// observation a job did not emit before its deadline.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Planned {
    pub id: String,
    pub target: String,
}

impl Planned {
    pub fn new(id: impl Into<String>, target: impl Into<String>) -> Self {
        Planned {
            id: id.into(),
            target: target.into(),
        }
    }
}

pub struct ProbeDef {
    /// Module name, e.g. `mmap`; observation ids start with it or name it in docs.
    pub name: &'static str,
    pub kind: ProbeKind,
    pub scope: Scope,
    /// This probe's own deadline (capped by the run's deadline).
    pub timeout: Duration,
    pub plan: fn(&ProbeContext, Option<&DataDir>) -> Vec<Planned>,
    pub run: fn(&ProbeContext, Option<&DataDir>, &Sink),
    /// Runs in the run's agent process (`agent`), because it makes plain filesystem calls on
    /// a data dir (or its scratch dir) that a hung mount could block for ever.
    pub in_agent: bool,
}

/// A data dir as probes see it: its facts plus the private scratch dir created in it.
#[derive(Clone, Debug)]
pub struct DataDir {
    pub facts: DataDirFacts,
    /// The private scratch dir inside the data dir, or why it could not be created.
    pub scratch: Result<PathBuf, ScratchError>,
    /// The index of an earlier data dir on the same filesystem whose `Scope::Filesystem`
    /// observations stand for this one's (None: this dir is probed itself).
    pub same_filesystem_as: Option<usize>,
}

impl DataDir {
    /// The target string observations use for this dir.
    pub fn target(&self) -> String {
        crate::host::shown(&self.facts.path)
    }
}

#[derive(Clone, Debug)]
pub struct ScratchError {
    pub errno: Option<String>,
    pub message: String,
    /// Not made because the tool could not start a thread of its own (its task limit): not a
    /// fact about the filesystem, so what depends on the dir is an `error`, never a `fail`.
    pub own: bool,
}

impl ScratchError {
    /// What an observation that needed this scratch dir is: a `fail` with the errno the
    /// filesystem gave, an `error` when the tool could not try (`own`), `skipped` without an
    /// errno.
    pub fn observation(&self, id: &str, target: &str, message: String) -> Observation {
        match &self.errno {
            Some(errno) if self.own => Observation::error(id, target, message).with_errno(errno),
            Some(errno) => Observation::fail(id, target, message).with_errno(errno),
            None => Observation::skipped(id, target, message),
        }
    }
}

/// A unix socket path a backend creates, for the path-length check.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct SocketSpec {
    pub backend: String,
    /// `data_dir` (relative to the data dir), `tmp` (relative to the temp dir), or an absolute
    /// directory (checked by `uds.socket_dir:<dir>`, not for length).
    pub base: String,
    /// The socket's name, relative to base (worst case, e.g. `tmpXXXXXXXX_<36 chars>.sock`).
    pub name: String,
}

/// What the backend catalogue asks probes to look at.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct CatalogueInputs {
    /// Default TCP ports, with the backends that use each.
    pub ports: Vec<(u16, Vec<String>)>,
    /// Lock files relative to a data dir, with the backends that use each.
    pub lock_files: Vec<(String, Vec<String>)>,
    pub sockets: Vec<SocketSpec>,
    /// Python packages whose installed versions matter.
    pub python_packages: Vec<String>,
}

/// Everything a probe may read. Shared, read-only.
pub struct ProbeContext {
    pub host: HostFacts,
    pub host_root: crate::host::HostRoot,
    pub data_dirs: Vec<DataDir>,
    pub catalogue: CatalogueInputs,
    /// The system temp dir's scratch dir (for unix sockets and workers).
    pub tmp_scratch: Result<PathBuf, ScratchError>,
    /// This binary, re-executed for probes that must run in a child process.
    pub exe: Option<PathBuf>,
    /// Deadline of the whole run.
    pub deadline: Instant,
    /// Number of loopback connects to time (default 20).
    pub connect_attempts: u32,
    pub env: fn(&str) -> Option<String>,
}

impl ProbeContext {
    /// Time left before the run's deadline (zero when passed).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// The run's `--timeout` at which every `ProbeDef::timeout` (and the limits probes derive
/// from it) holds as written. A longer run scales them up in proportion, so a loaded machine
/// given more time gets more time per probe; a shorter run keeps them (the run's deadline
/// caps them anyway).
pub const REFERENCE_RUN_TIMEOUT: Duration = Duration::from_secs(3);

/// The current run's --timeout, in ms (0: not set, the reference).
static RUN_TIMEOUT_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Record the run's --timeout, for `scaled`.
pub fn set_run_timeout(timeout: Duration) {
    RUN_TIMEOUT_MS.store(
        timeout.as_millis() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// The run's --timeout as recorded (REFERENCE_RUN_TIMEOUT when none was).
pub fn run_timeout() -> Duration {
    match RUN_TIMEOUT_MS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => REFERENCE_RUN_TIMEOUT,
        ms => Duration::from_millis(ms),
    }
}

/// A per-probe limit, scaled by the run's --timeout over REFERENCE_RUN_TIMEOUT (never below
/// the limit as written).
pub fn scaled(limit: Duration) -> Duration {
    let run = RUN_TIMEOUT_MS.load(std::sync::atomic::Ordering::Relaxed);
    let reference = REFERENCE_RUN_TIMEOUT.as_millis() as u64;
    if run <= reference {
        return limit;
    }
    limit.mul_f64(run as f64 / reference as f64)
}

/// Where a probe sends its observations: the engine's channel (tagged with the job), or, in
/// the agent, a function that writes each one out as it comes. Cheap to clone; sending after
/// the engine stopped listening (the probe was abandoned) is harmless.
#[derive(Clone)]
pub struct Sink {
    to: SinkTo,
}

#[derive(Clone)]
enum SinkTo {
    Engine(Sender<engine::Msg>, usize),
    Forward(std::sync::Arc<dyn Fn(Observation) + Send + Sync>),
}

impl Sink {
    pub fn new(tx: Sender<engine::Msg>, job: usize) -> Self {
        Sink {
            to: SinkTo::Engine(tx, job),
        }
    }
    /// A sink that hands each observation to `forward` on the emitting thread.
    pub fn forward(forward: impl Fn(Observation) + Send + Sync + 'static) -> Self {
        Sink {
            to: SinkTo::Forward(std::sync::Arc::new(forward)),
        }
    }
    /// Every observation passes here, so the tool's own exhaustion (EMFILE/ENFILE/ENOMEM) is
    /// reported as `error` whichever probe met it.
    pub fn emit(&self, obs: Observation) {
        let obs = obs.own_limits_are_not_the_hosts();
        match &self.to {
            SinkTo::Engine(tx, job) => {
                let _ = tx.send(engine::Msg::Observed(*job, Box::new(obs)));
            }
            SinkTo::Forward(forward) => forward(obs),
        }
    }
    /// The job ended: everything it observed was emitted (engine sinks only).
    pub(crate) fn done(&self) {
        if let SinkTo::Engine(tx, job) = &self.to {
            let _ = tx.send(engine::Msg::Done(*job));
        }
    }
    /// The agent running the job ended before the job did (engine sinks only).
    pub(crate) fn lost(&self) {
        if let SinkTo::Engine(tx, job) = &self.to {
            let _ = tx.send(engine::Msg::AgentGone(*job));
        }
    }
}

/// Every probe, in display order. Adding a probe means adding it here and nowhere else.
pub fn registry() -> Vec<&'static ProbeDef> {
    vec![
        &host_facts::PROBE,
        &fileops::PROBE,
        &mmap::PROBE,
        &locks::PROBE,
        &lockfiles::PROBE,
        &stores::PROBE,
        &unix_socket::PROBE,
        &ports::PROBE,
        &loopback::PROBE,
        &proxy::PROBE,
        &limits::PROBE,
        &docker::PROBE,
        &python::PROBE,
    ]
}
