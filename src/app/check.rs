//! The `check` and `host` pipelines: validate input, identify the host, run the probes under
//! one deadline, judge every backend, build the report. `run_check` is the pure-ish core the
//! tests and the benchmark call.

use super::prepare::{join_by, not_reached_scratch, prepare_dirs, timed_out_scratch};
use super::{AppResult, print_report, validate};
use crate::catalogue::profile::Profile;
use crate::catalogue::rules::{self, Verdict};
use crate::cli::{CheckArgs, HostArgs};
use crate::error::{EXIT_OK, EXIT_REQUIRED_FAILED, InputError, input};
use crate::host::{self, DataDirFacts, HostInputs, HostRoot};
use crate::observation::Observation;
use crate::probe::{self, DataDir, ProbeContext, ScratchError, scratch};
use crate::report::{self, Report, ReportInputs};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The least time a data dir's stat/statfs/mkdir is given before it may be called hung: a
/// healthy disk answers in well under a millisecond, so a dir silent for this long did not
/// answer a bounded stat that had time to answer.
pub const HUNG_AFTER: Duration = Duration::from_millis(100);
/// Time kept for removing the scratch dirs at the end, whatever the deadline left: a
/// healthy removal takes milliseconds; only a hung one waits this long.
pub const CLEANUP_RESERVE: Duration = Duration::from_millis(1000);
/// How long `host` may take in all (it has no --timeout).
const HOST_BUDGET: Duration = Duration::from_secs(3);

/// The share of a run's budget for touching the data dirs (validation, stat, statfs, mkdir):
/// a quarter, so that a hung mount leaves the probes of everything else their time, but never
/// less than HUNG_AFTER.
fn setup_share(timeout: Duration) -> Duration {
    (timeout / 4).max(HUNG_AFTER)
}

/// When the probes of a run that started at `start` must be done: its --timeout less a little
/// kept for judging, rendering and cleanup.
fn probe_deadline(start: Instant, timeout: Duration) -> Instant {
    let margin = (timeout / 10).min(Duration::from_millis(100));
    start + timeout.saturating_sub(margin)
}

/// Recorded observations to judge instead of probing (`--replay`).
#[derive(Deserialize, Debug, Clone)]
pub struct Replay {
    pub observations: Vec<Observation>,
    #[serde(default)]
    pub elapsed_ms: f64,
}

pub struct CheckOptions {
    pub root: HostRoot,
    pub data_dirs: Vec<PathBuf>,
    pub profiles: Vec<Profile>,
    pub timeout: Duration,
    pub connect_attempts: u32,
    pub replay: Option<Replay>,
    pub env: fn(&str) -> Option<String>,
    /// The binary re-executed for child-process probes (default: this executable).
    pub exe: Option<PathBuf>,
    /// When the command started, if before `run_check` (validation counts against the
    /// timeout); None: now.
    pub started: Option<Instant>,
    /// The host's facts, when collected already (by `probe_deadline(started, timeout)`, from
    /// the same root and environment); None: collected here.
    pub host: Option<host::HostFacts>,
}

pub struct CheckOutcome {
    pub report: Report,
    /// The scratch areas' removal, still under way when the report is ready.
    pub cleanup: Cleanup,
}

/// The removal of a run's scratch areas (and the end of its agent), running beside whatever
/// comes after the probes; it is over once this is waited for or dropped.
pub struct Cleanup(Option<std::thread::JoinHandle<()>>);

impl Cleanup {
    pub fn wait(mut self) {
        if let Some(removal) = self.0.take() {
            let _ = removal.join();
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(removal) = self.0.take() {
            let _ = removal.join();
        }
    }
}

pub(super) fn command(args: &CheckArgs) -> AppResult {
    // The whole command, validation included, runs inside --timeout.
    let start = Instant::now();
    let exe = std::env::current_exe().ok();
    // On the live host the agent answers the first question (validating the data dirs) and
    // does every filesystem call after it: start it now, before any thread of this run (it
    // is forked then, see `agent::start_early`), so it is ready when the first question
    // comes. (A --host-root may be a recording, which needs no agent: it is started on first
    // use, as before.)
    crate::probe::agent::begin_run();
    if args.common.host_root.is_none()
        && let Some(exe) = &exe
    {
        crate::probe::agent::start_early(exe);
    }
    // The catalogue loads and the data dirs are checked on threads of their own while the host
    // is described: none needs another's answer. Errors are still reported in the order of
    // the inputs: the catalogue, --require, --host-root, the data dirs.
    let extra = args.profiles.clone();
    let catalogue = crate::spawn::thread_once("catalogue", move || {
        crate::catalogue::load_catalogue(&extra)
    });
    let root = validate::host_root(args.common.host_root.as_deref());
    let validated_by = start + setup_share(args.timeout).min(args.timeout / 2);
    let dirs = root.as_ref().ok().and_then(|root| {
        let (given, recorded) = (args.common.data_dirs.clone(), root.is_recorded());
        crate::spawn::thread_once("check-dirs", move || {
            validate::data_dirs(&given, recorded, validated_by)
        })
        .ok()
    });
    // Meanwhile the host is described here.
    let host = root.as_ref().ok().map(|root| {
        collect_host(
            &root
                .clone()
                .with_deadline(probe_deadline(start, args.timeout)),
            host::real_env,
        )
    });
    let profiles = catalogue
        .ok()
        .and_then(|loading| loading.join().ok())
        .unwrap_or_else(|| crate::catalogue::load_catalogue(&args.profiles))?;
    let known: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
    validate::required_ids(&args.require, &known)?;
    let root = root?;
    let data_dirs = dirs
        .and_then(|checking| checking.join().ok())
        .unwrap_or_else(|| {
            validate::data_dirs(&args.common.data_dirs, root.is_recorded(), validated_by)
        })?;
    let host = host.unwrap_or_else(|| collect_host(&root, host::real_env));
    let replay = args.replay.as_deref().map(read_replay).transpose()?;
    let CheckOutcome { report, cleanup } = run_check(CheckOptions {
        root,
        data_dirs,
        profiles,
        timeout: args.timeout,
        connect_attempts: args.connect_attempts,
        replay,
        env: host::real_env,
        exe,
        started: Some(start),
        host: Some(host),
    });
    let report = finish(report, args.common.redact);
    print_report(&report, args.common.format, args.verbose);
    // The report is out while the scratch areas are removed; the command ends after both.
    cleanup.wait();
    Ok(exit_code(&report, &args.require, args.strict))
}

pub(super) fn host_command(args: &HostArgs) -> AppResult {
    let start = Instant::now();
    let deadline = start + HOST_BUDGET;
    // The data dirs' facts come from the agent on a live host: forked now, as in `check`.
    if args.common.host_root.is_none()
        && let Some(exe) = super::dirfacts::tool_exe()
    {
        crate::probe::agent::start_early(&exe);
    }
    let root = validate::host_root(args.common.host_root.as_deref())?;
    // A recorded host has no current directory; without --data-dir, `host` describes the
    // host alone (check, which judges data dirs, refuses that instead).
    let data_dirs = if root.is_recorded() && args.common.data_dirs.is_empty() {
        Vec::new()
    } else {
        validate::data_dirs(
            &args.common.data_dirs,
            root.is_recorded(),
            start + HOST_BUDGET / 4,
        )?
    };
    let root = root.with_deadline(deadline);
    let facts = collect_host(&root, host::real_env);
    let dirs: Vec<DataDirFacts> = prepare_dirs(&root, &data_dirs, deadline, None)
        .into_iter()
        .map(|p| p.facts)
        .collect();
    let report = report::build(ReportInputs {
        command: "host",
        host: &facts,
        data_dirs: &dirs,
        observations: Vec::new(),
        backends: Vec::new(),
        timeout_ms: 0,
        elapsed_ms: start.elapsed().as_secs_f64() * 1000.0,
        host_root: root.is_recorded().then(|| host::shown(root.base())),
    });
    let report = finish(report, args.common.redact);
    print_report(&report, args.common.format, false);
    Ok(EXIT_OK)
}

fn finish(report: Report, redact: bool) -> Report {
    if redact {
        report::redact::redact(&report, &report::redact::Identity::current())
    } else {
        report
    }
}

/// Host facts. A recorded host is described by its files alone: this process's environment
/// (WSL_*, CI variables, `container`) belongs to the machine running the tool, not to the
/// recording, so it is not consulted.
fn collect_host(root: &HostRoot, env: fn(&str) -> Option<String>) -> host::HostFacts {
    let no_env: fn(&str) -> Option<String> = |_| None;
    let env = if root.is_recorded() { no_env } else { env };
    host::collect(&HostInputs {
        root,
        env: &env,
        run_wslinfo: !root.is_recorded(),
    })
}

fn read_replay(path: &std::path::Path) -> Result<Replay, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| input(format!("cannot read --replay `{}`: {e}", host::shown(path))))?;
    serde_json::from_str(&text).map_err(|e| {
        input(format!(
            "--replay `{}` is not a recorded observation file: {e}",
            host::shown(path)
        ))
    })
}

/// Identify, probe, judge. Never fails: what cannot be observed is reported as such.
pub fn run_check(opts: CheckOptions) -> CheckOutcome {
    crate::probe::agent::begin_run();
    let start = opts.started.unwrap_or_else(Instant::now);
    let deadline = probe_deadline(start, opts.timeout);
    let root = opts.root.clone().with_deadline(deadline);
    let facts = match opts.host {
        Some(facts) => facts,
        None => collect_host(&root, opts.env),
    };
    // The data dirs get a share of what validation left.
    let left = opts.timeout.saturating_sub(start.elapsed());
    let setup_started = Instant::now();
    let setup_deadline = (Instant::now() + setup_share(left)).min(deadline);
    let probing = opts.replay.is_none();
    let gate = scratch::Gate::default();
    // The temp dir's scratch is made by the agent when there is one, like the data dirs': the
    // agent removes it even when the tool is killed outright (it sees its stdin close).
    let agent = (!root.is_recorded())
        .then(|| opts.exe.as_deref().and_then(crate::probe::agent::get))
        .flatten();
    let tmp_scratch = probing.then(|| {
        let (tmp, gate) = (std::env::temp_dir(), gate.clone());
        crate::spawn::thread("tmp-scratch", move || match agent {
            Some(agent) => agent
                .make_scratch(&tmp, setup_deadline)
                .unwrap_or_else(|| Err(timed_out_scratch())),
            None => gate.create_in(&tmp),
        })
    });
    let prepared = prepare_dirs(
        &root,
        &opts.data_dirs,
        setup_deadline,
        probing.then_some(&gate),
    );
    let dir_facts: Vec<DataDirFacts> = prepared.iter().map(|p| p.facts.clone()).collect();
    let dir_targets: Vec<String> = dir_facts.iter().map(|d| host::shown(&d.path)).collect();
    let inputs = crate::catalogue::inputs::probe_inputs(&opts.profiles);

    let (observations, elapsed_ms, cleanup) = match (opts.replay, tmp_scratch) {
        (Some(replay), _) => (replay.observations, replay.elapsed_ms, None),
        (None, tmp) => {
            let tmp_scratch = match tmp {
                Some(Err(e)) => Some(Err(ScratchError {
                    errno: Some(crate::errno::io_error_name(&e)),
                    message: format!("not created: {e}"),
                    own: crate::spawn::is_own(&e),
                })),
                Some(Ok(t)) => join_by(t, setup_deadline),
                None => None,
            };
            let tmp_scratch = tmp_scratch.unwrap_or_else(|| {
                Err(if setup_deadline >= setup_started + HUNG_AFTER {
                    timed_out_scratch()
                } else {
                    not_reached_scratch()
                })
            });
            probe::set_run_timeout(opts.timeout);
            let ctx = Arc::new(ProbeContext {
                host: facts.clone(),
                host_root: root.clone(),
                data_dirs: probe::shared_fs::grouped(
                    prepared
                        .into_iter()
                        .map(|p| {
                            let dir = DataDir {
                                facts: p.facts,
                                scratch: p.scratch.unwrap_or_else(|| Err(timed_out_scratch())),
                                same_filesystem_as: None,
                            };
                            (dir, p.device)
                        })
                        .collect(),
                ),
                catalogue: inputs,
                tmp_scratch,
                exe: opts.exe.clone(),
                deadline,
                connect_attempts: opts.connect_attempts,
                env: opts.env,
            });
            let obs = probe::engine::run(ctx, &probe::registry());
            let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
            // Removal has its own reserve: it never depends on the time left. It runs while
            // the backends are judged, and is over before this returns.
            scratch::begin_cleanup();
            let remove = move || {
                gate.close(CLEANUP_RESERVE / 2);
                scratch::cleanup_within(CLEANUP_RESERVE);
            };
            let cleanup = crate::spawn::thread_once("cleanup", remove.clone())
                .map_err(|_| remove())
                .ok();
            (obs, elapsed_ms, cleanup)
        }
    };
    let backends = rules::evaluate(&opts.profiles, &observations, &facts, &dir_targets);
    let report = report::build(ReportInputs {
        command: "check",
        host: &facts,
        data_dirs: &dir_facts,
        observations,
        backends,
        timeout_ms: opts.timeout.as_millis() as u64,
        elapsed_ms,
        host_root: opts
            .root
            .is_recorded()
            .then(|| host::shown(opts.root.base())),
    });
    CheckOutcome {
        report,
        cleanup: Cleanup(cleanup),
    }
}

/// 1 when a `--require`d backend is blocked (or, with `--strict`, anything but viable).
pub fn exit_code(report: &Report, require: &[String], strict: bool) -> i32 {
    let mut failed = Vec::new();
    for id in require {
        for b in report.backends.iter().filter(|b| &b.id == id) {
            let bad = match b.verdict {
                Verdict::Blocked => true,
                Verdict::Degraded | Verdict::Unknown => strict,
                Verdict::Viable => false,
            };
            if bad {
                let dir = b
                    .data_dir
                    .as_deref()
                    .map(|d| format!(" in {d}"))
                    .unwrap_or_default();
                failed.push(format!(
                    "{id}{dir} is {}: {}",
                    b.verdict.as_str(),
                    b.evidence
                ));
            }
        }
    }
    if failed.is_empty() {
        return EXIT_OK;
    }
    for f in &failed {
        crate::error::warn(&format!("wsl-vecprobe: error: required backend {f}"));
    }
    EXIT_REQUIRED_FAILED
}
