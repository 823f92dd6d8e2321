//! Probe `mmap`: memory-mapped file behaviour in each data dir (private map, shared write +
//! msync + read(), Qdrant's two-map check, map of a grown file, ftruncate under a map, and a
//! 256 KiB fill that raises SIGBUS when the disk cannot back it).
//!
//! Every check runs in a child process (`mmap SCRATCH [ID...]`: a fork of the agent on Unix,
//! `__worker mmap SCRATCH [ID...]` on Windows; see `worker`), so a SIGBUS kills the child,
//! never the tool. The child prints `begin <id>` before each check and `obs <json>` after it;
//! the parent turns that transcript — and how the child ended — into observations.
//!
//! The checks run side by side, each on a thread of the worker (their `msync`s then wait for
//! the disk together, not in turn), unless the filesystem is short of room for all of them
//! at once (`space`). A worker that dies by a signal inside several checks at once cannot
//! say which one raised it: those checks are run again one at a time (`ID...`), where a
//! signal names its check.

use super::worker::{WorkerExit, WorkerProcess};
use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::observation::{Observation, Status};
use std::time::{Duration, Instant};
use transcript::{Crash, Transcript};

mod transcript;

#[cfg(unix)]
use crate::platform::unix::mmap as checks;
#[cfg(windows)]
use crate::platform::windows::mmap as checks;

pub static PROBE: ProbeDef = ProbeDef {
    name: "mmap",
    kind: ProbeKind::Memory,
    scope: Scope::Filesystem,
    timeout: Duration::from_millis(1500),
    plan,
    run,
    in_agent: true,
};

/// The observations, in the order the worker runs them.
pub const IDS: [&str; 6] = [
    "mmap.private",
    "mmap.shared_rw",
    "mmap.two_map",
    "mmap.grown_ro",
    "mmap.truncate_mapped",
    "mmap.fill",
];

fn plan(_ctx: &ProbeContext, dir: Option<&DataDir>) -> Vec<Planned> {
    super::worker::plan_on_dir(&IDS, dir)
}

fn run(ctx: &ProbeContext, dir: Option<&DataDir>, sink: &Sink) {
    let Some(dir) = dir else { return };
    let target = dir.target();
    let Some((scratch, exe)) =
        super::worker::prerequisites(ctx, dir, &IDS, "mmap checks run in a child process", sink)
    else {
        return;
    };
    let deadline = super::worker::probe_deadline(ctx, PROBE.timeout);
    let turn_key = super::space::turn_key(&ctx.data_dirs, dir);
    let mut side_by_side = turn_key.is_none();
    let _turn = super::space::take_turn(turn_key, deadline);
    let mut transcript = Transcript::new(&target);
    // A check that dies by a signal (SIGBUS) fails with it; a fresh worker then runs the
    // checks left, one at a time, so one crash does not hide what the others would observe.
    loop {
        let mut args = vec![scratch.clone().into_os_string()];
        if !side_by_side {
            args.extend(
                transcript
                    .pending()
                    .into_iter()
                    .map(std::ffi::OsString::from),
            );
        }
        transcript.worker_started(side_by_side);
        let mut worker = match WorkerProcess::spawn(exe, "mmap", &args) {
            Ok(w) => w,
            Err(e) => {
                for id in transcript.pending() {
                    let mut o = Observation::from_io_error(
                        id,
                        &target,
                        "could not start the mmap worker process",
                        &e,
                    );
                    o.status = Status::Error;
                    sink.emit(o);
                }
                return;
            }
        };
        while let Some(line) = worker.read_line(deadline) {
            transcript
                .line(&line)
                .into_iter()
                .for_each(|o| sink.emit(o));
        }
        let end = if Instant::now() >= deadline {
            WorkerExit::TimedOut
        } else {
            worker.wait(deadline)
        };
        drop(worker);
        // A check killed by SIGBUS leaves its file (on a full disk, the last free pages):
        // remove it before the next worker, or another probe, needs that room.
        remove_check_files(scratch);
        match transcript.crash(&end) {
            Crash::In(crashed) => sink.emit(crashed),
            Crash::Unattributed => {}
            Crash::None => {
                transcript
                    .finish(&end)
                    .into_iter()
                    .for_each(|o| sink.emit(o));
                return;
            }
        }
        if transcript.pending().is_empty() {
            return;
        }
        side_by_side = false;
    }
}

/// Entry point of the child process (`__worker mmap SCRATCH_DIR [ID...]`).
pub fn worker_main(args: &[std::ffi::OsString]) -> i32 {
    if args.is_empty() {
        eprintln!("wsl-vecprobe: worker mmap needs a scratch dir");
        return 2;
    }
    run_worker(args, &mut std::io::stdout())
}

/// The worker (`SCRATCH_DIR [ID...]`: every check side by side, or the checks named, one at
/// a time), writing its transcript to `out` (in a forked child: its raw stdout descriptor,
/// never std's locked `stdout()`).
pub fn run_worker(args: &[std::ffi::OsString], out: &mut (dyn std::io::Write + Send)) -> i32 {
    let Some(dir) = args.first() else {
        return 2;
    };
    let named: Vec<String> = args[1..]
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let one_at_a_time = (!named.is_empty()).then_some(named.as_slice());
    run_checks(std::path::Path::new(dir), one_at_a_time, out)
}

#[cfg(any(unix, windows))]
type Check = (&'static str, checks::CheckFn);

/// Run the checks named in `one_at_a_time`, in the workers' order, or every check side by
/// side (None). Exit code 3: the transcript could not be written.
#[cfg(any(unix, windows))]
fn run_checks(
    dir: &std::path::Path,
    one_at_a_time: Option<&[String]>,
    out: &mut (dyn std::io::Write + Send),
) -> i32 {
    let target = crate::host::shown(dir);
    let Some(named) = one_at_a_time else {
        return side_by_side(dir, &target, out);
    };
    for check in checks::CHECKS
        .iter()
        .filter(|(id, _)| named.iter().any(|n| n == id))
    {
        if !report(out, &format!("begin {}", check.0)) {
            return 3;
        }
        let obs = observe(dir, &target, check);
        remove_check_files(dir);
        if !report(out, &obs) {
            return 3;
        }
    }
    0
}

/// Every check on a thread of its own (on this one when no thread can be had), its files
/// removed once all are done.
#[cfg(any(unix, windows))]
fn side_by_side(dir: &std::path::Path, target: &str, out: &mut (dyn std::io::Write + Send)) -> i32 {
    let out = std::sync::Mutex::new(out);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let run = |check: &Check| {
        let write = |line: &str| {
            let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
            if !report(&mut **out, line) {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        };
        write(&format!("begin {}", check.0));
        let obs = observe(dir, target, check);
        write(&obs);
    };
    std::thread::scope(|s| {
        for check in checks::CHECKS {
            let started = std::thread::Builder::new()
                .name("mmap-check".into())
                .spawn_scoped(s, || run(check));
            if started.is_err() {
                run(check);
            }
        }
    });
    remove_check_files(dir);
    if failed.load(std::sync::atomic::Ordering::Relaxed) {
        3
    } else {
        0
    }
}

/// One check's observation, as the transcript's `obs <json>` line.
#[cfg(any(unix, windows))]
fn observe(dir: &std::path::Path, target: &str, (id, check): &Check) -> String {
    let start = Instant::now();
    let obs = match check(dir) {
        Ok(p) => {
            let mut o = Observation::pass(*id, target, p.message);
            o.values = p.values;
            o
        }
        Err(f) => {
            let mut o = Observation::fail(*id, target, f.message);
            o.errno = f.errno;
            if f.precondition {
                o.status = Status::Error;
            }
            o
        }
    }
    .elapsed_since(start);
    match serde_json::to_string(&obs) {
        Ok(json) => format!("obs {json}"),
        Err(_) => String::new(),
    }
}

/// Write one transcript line and flush it; false when it could not be written.
#[cfg(any(unix, windows))]
fn report(out: &mut (dyn std::io::Write + Send), line: &str) -> bool {
    !line.is_empty() && writeln!(out, "{line}").and_then(|_| out.flush()).is_ok()
}

#[cfg(not(any(unix, windows)))]
fn run_checks(
    _dir: &std::path::Path,
    _one_at_a_time: Option<&[String]>,
    _out: &mut (dyn std::io::Write + Send),
) -> i32 {
    2
}

/// The checks' files (`mmap-*`) are removed after each check so a small filesystem is not
/// filled by earlier checks before `mmap.fill` runs.
#[cfg(any(unix, windows))]
fn remove_check_files(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("mmap-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Status;

    #[test]
    fn plans_every_id_and_skips_each_without_an_executable_or_a_scratch_dir() {
        crate::probe::testing::assert_skips_without_executable_or_scratch(&PROBE, &IDS);
    }

    #[cfg(any(unix, windows))]
    fn lines_of_a_real_run(dir: &std::path::Path, one_at_a_time: Option<&[String]>) -> Vec<String> {
        let mut out = Vec::new();
        assert_eq!(run_checks(dir, one_at_a_time, &mut out), 0);
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    #[cfg(any(unix, windows))]
    #[test]
    fn a_real_in_process_run_passes_every_check_and_is_retargeted_to_the_data_dir() {
        let all: Vec<String> = IDS.iter().map(|id| id.to_string()).collect();
        for one_at_a_time in [None, Some(all.as_slice())] {
            let dir = tempfile::tempdir().unwrap();
            let lines = lines_of_a_real_run(dir.path(), one_at_a_time);
            assert_eq!(lines.len(), 2 * IDS.len());
            let mut t = Transcript::new("/data");
            t.worker_started(one_at_a_time.is_none());
            let mut obs: Vec<Observation> = lines.iter().flat_map(|l| t.line(l)).collect();
            assert!(t.finish(&WorkerExit::Code(0)).is_empty());
            if one_at_a_time.is_none() {
                // Side by side they end in any order.
                obs.sort_by_key(|o| IDS.iter().position(|id| *id == o.id));
            }
            assert_eq!(obs.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), IDS);
            for o in &obs {
                assert_eq!(o.status, Status::Pass, "{o:?}");
                assert_eq!(o.target, "/data");
            }
            assert_eq!(obs[5].values["bytes"], 256 * 1024);
            // The worker removes its files.
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }

    #[cfg(any(unix, windows))]
    #[test]
    fn one_at_a_time_only_the_checks_named_run_in_the_workers_order() {
        let dir = tempfile::tempdir().unwrap();
        let named = vec![IDS[4].to_string(), IDS[1].to_string()];
        let lines = lines_of_a_real_run(dir.path(), Some(&named));
        let begun: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("begin "))
            .collect();
        assert_eq!(begun, [IDS[1], IDS[4]]);
    }

    #[cfg(any(unix, windows))]
    #[test]
    fn ids_match_the_checks_the_worker_runs() {
        let run: Vec<&str> = checks::CHECKS.iter().map(|(id, _)| *id).collect();
        assert_eq!(run, IDS);
    }
}
