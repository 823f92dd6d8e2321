//! The `check` and `host` pipelines: validate input, identify the host, run the probes under
//! one deadline, judge every backend, build the report. `run_check` is the pure-ish core the
//! tests and the benchmark call.

use super::{AppResult, print, render, validate};
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

/// How long validating one data dir may take before it is given the benefit of the doubt.
const VALIDATE_LIMIT: Duration = Duration::from_millis(500);

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
}

pub struct CheckOutcome {
    pub report: Report,
}

pub(super) fn command(args: &CheckArgs) -> AppResult {
    let profiles = crate::catalogue::load_catalogue(&args.profiles)?;
    let known: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
    validate::required_ids(&args.require, &known)?;
    let root = validate::host_root(args.common.host_root.as_deref())?;
    let data_dirs =
        validate::data_dirs(&args.common.data_dirs, root.is_recorded(), VALIDATE_LIMIT)?;
    let replay = args.replay.as_deref().map(read_replay).transpose()?;
    scratch::install_interrupt_handler();
    let outcome = run_check(CheckOptions {
        root,
        data_dirs,
        profiles,
        timeout: args.timeout,
        connect_attempts: args.connect_attempts,
        replay,
        env: host::real_env,
        exe: std::env::current_exe().ok(),
    });
    let report = finish(outcome.report, args.common.redact);
    print(&render(&report, args.common.format, args.verbose));
    Ok(exit_code(&report, &args.require, args.strict))
}

pub(super) fn host_command(args: &HostArgs) -> AppResult {
    let root = validate::host_root(args.common.host_root.as_deref())?;
    let data_dirs =
        validate::data_dirs(&args.common.data_dirs, root.is_recorded(), VALIDATE_LIMIT)?;
    let start = Instant::now();
    let facts = collect_host(&root, host::real_env);
    let deadline = start + Duration::from_secs(3);
    let dirs: Vec<DataDirFacts> = data_dirs
        .iter()
        .map(|d| bounded_dir_facts(&root, d, deadline))
        .collect();
    let report = report::build(ReportInputs {
        command: "host",
        host: &facts,
        data_dirs: &dirs,
        observations: Vec::new(),
        backends: Vec::new(),
        timeout_ms: 0,
        elapsed_ms: start.elapsed().as_secs_f64() * 1000.0,
        host_root: root
            .is_recorded()
            .then(|| root.base().display().to_string()),
    });
    let report = finish(report, args.common.redact);
    print(&render(&report, args.common.format, false));
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
        .map_err(|e| input(format!("cannot read --replay `{}`: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        input(format!(
            "--replay `{}` is not a recorded observation file: {e}",
            path.display()
        ))
    })
}

/// Identify, probe, judge. Never fails: what cannot be observed is reported as such.
pub fn run_check(opts: CheckOptions) -> CheckOutcome {
    let start = Instant::now();
    // Keep a little of the budget for judging, rendering and cleanup.
    let margin = (opts.timeout / 10).min(Duration::from_millis(100));
    let deadline = start + opts.timeout.saturating_sub(margin);
    let facts = collect_host(&opts.root, opts.env);
    // Touching the data dirs (stat, statfs, mkdir of the scratch dir) gets a quarter of the
    // budget, so that a hung mount leaves the probes of everything else their time.
    let setup_deadline = (start + opts.timeout / 4).min(deadline);
    let dir_facts: Vec<DataDirFacts> = opts
        .data_dirs
        .iter()
        .map(|d| bounded_dir_facts(&opts.root, d, setup_deadline))
        .collect();
    let dir_targets: Vec<String> = dir_facts
        .iter()
        .map(|d| d.path.display().to_string())
        .collect();
    let inputs = crate::catalogue::inputs::probe_inputs(&opts.profiles);

    let (observations, elapsed_ms) = match opts.replay {
        Some(replay) => (replay.observations, replay.elapsed_ms),
        None => {
            let ctx = Arc::new(ProbeContext {
                host: facts.clone(),
                host_root: opts.root.clone(),
                data_dirs: dir_facts
                    .iter()
                    .map(|f| DataDir {
                        facts: f.clone(),
                        scratch: bounded_scratch(f, setup_deadline),
                    })
                    .collect(),
                catalogue: inputs,
                tmp_scratch: bounded_create(std::env::temp_dir(), setup_deadline),
                exe: opts.exe.clone(),
                deadline,
                connect_attempts: opts.connect_attempts,
                env: opts.env,
            });
            let obs = probe::engine::run(ctx, &probe::registry());
            let hard_deadline = start + opts.timeout;
            scratch::cleanup_within(
                hard_deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(50)),
            );
            (obs, start.elapsed().as_secs_f64() * 1000.0)
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
            .then(|| opts.root.base().display().to_string()),
    });
    CheckOutcome { report }
}

/// One data dir's facts, or — when its filesystem does not answer before the deadline (a dead
/// mount) — what is known without it, saying so.
fn bounded_dir_facts(root: &HostRoot, given: &std::path::Path, deadline: Instant) -> DataDirFacts {
    let (root2, given2) = (root.clone(), given.to_path_buf());
    let limit = deadline.saturating_duration_since(Instant::now());
    if let Some(Some(f)) = crate::bounded::within(limit, move || {
        host::collect_data_dirs(&root2, &[given2]).pop()
    }) {
        return f;
    }
    DataDirFacts {
        given: given.display().to_string(),
        path: host::absolute(given),
        exists: false,
        is_dir: false,
        writable: None,
        filesystem: host::FsFacts::did_not_answer(),
    }
}

/// A private scratch dir in the data dir, unless the dir does not exist on this machine or
/// its filesystem does not answer in time.
fn bounded_scratch(f: &DataDirFacts, deadline: Instant) -> Result<PathBuf, ScratchError> {
    if !f.filesystem.answered() {
        return Err(timed_out_scratch());
    }
    if !f.exists {
        return Err(ScratchError {
            errno: None,
            message: "the data dir does not exist on this machine (recorded host); probes on it are skipped".into(),
        });
    }
    bounded_create(f.path.clone(), deadline)
}

fn bounded_create(dir: PathBuf, deadline: Instant) -> Result<PathBuf, ScratchError> {
    let limit = deadline.saturating_duration_since(Instant::now());
    crate::bounded::within(limit, move || scratch::create_in(&dir))
        .unwrap_or_else(|| Err(timed_out_scratch()))
}

fn timed_out_scratch() -> ScratchError {
    ScratchError {
        errno: Some("ETIMEDOUT".into()),
        message: "the filesystem did not answer before the deadline (a dead or hung mount?)".into(),
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
        eprintln!("wsl-vecprobe: error: required backend {f}");
    }
    EXIT_REQUIRED_FAILED
}
