//! Probe `mmap`: memory-mapped file behaviour in each data dir (private map, shared write +
//! msync + read(), Qdrant's two-map check, map of a grown file, ftruncate under a map, and a
//! 256 KiB fill that raises SIGBUS when the disk cannot back it).
//!
//! Every check runs in a child process (`mmap SCRATCH`: a fork of the agent on Unix,
//! `__worker mmap SCRATCH` on Windows; see `worker`), so a SIGBUS kills the child, never the
//! tool. The child prints `begin <id>` before each check and `obs <json>` after it;
//! the parent turns that transcript — and how the child ended — into observations.

use super::worker::{WorkerExit, WorkerProcess};
use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::observation::{Observation, Status};
use std::time::{Duration, Instant};
use transcript::Transcript;

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
    let _turn = super::space::take_turn(super::space::turn_key(&ctx.data_dirs, dir), deadline);
    let mut transcript = Transcript::new(&target);
    // A check that dies by a signal (SIGBUS) fails with it; a fresh worker then resumes at the
    // next check, so one crash does not hide what the other checks would observe.
    let mut resume_at: Option<&'static str> = None;
    loop {
        let mut args = vec![scratch.clone().into_os_string()];
        args.extend(resume_at.map(std::ffi::OsString::from));
        let mut worker = match WorkerProcess::spawn(exe, "mmap", &args) {
            Ok(w) => w,
            Err(e) => {
                for id in IDS.iter().copied().filter(|id| transcript.is_pending(id)) {
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
        if let Some(crashed) = transcript.crashed_check(&end) {
            sink.emit(crashed);
            if let Some(next) = transcript.next_pending() {
                resume_at = Some(next);
                continue;
            }
            return;
        }
        transcript
            .finish(&end)
            .into_iter()
            .for_each(|o| sink.emit(o));
        return;
    }
}

/// Entry point of the child process (`__worker mmap SCRATCH_DIR [RESUME_AT]`).
pub fn worker_main(args: &[std::ffi::OsString]) -> i32 {
    if args.is_empty() {
        eprintln!("wsl-vecprobe: worker mmap needs a scratch dir");
        return 2;
    }
    run_worker(args, &mut std::io::stdout())
}

/// The worker (`SCRATCH_DIR [RESUME_AT]`), writing its transcript to `out` (in a forked child:
/// its raw stdout descriptor, never std's locked `stdout()`).
pub fn run_worker(args: &[std::ffi::OsString], out: &mut dyn std::io::Write) -> i32 {
    let Some(dir) = args.first() else {
        return 2;
    };
    let resume_at = args.get(1).map(|a| a.to_string_lossy().into_owned());
    run_checks(std::path::Path::new(dir), resume_at.as_deref(), out)
}

#[cfg(any(unix, windows))]
fn run_checks(dir: &std::path::Path, resume_at: Option<&str>, out: &mut dyn std::io::Write) -> i32 {
    let target = crate::host::shown(dir);
    let start_index = resume_at
        .and_then(|r| checks::CHECKS.iter().position(|(id, _)| *id == r))
        .unwrap_or(0);
    for (id, check) in checks::CHECKS.iter().skip(start_index) {
        if writeln!(out, "begin {id}")
            .and_then(|_| out.flush())
            .is_err()
        {
            return 3;
        }
        let start = Instant::now();
        let obs = match check(dir) {
            Ok(p) => {
                let mut o = Observation::pass(*id, &target, p.message);
                o.values = p.values;
                o
            }
            Err(f) => {
                let mut o = Observation::fail(*id, &target, f.message);
                o.errno = f.errno;
                if f.precondition {
                    o.status = Status::Error;
                }
                o
            }
        }
        .elapsed_since(start);
        remove_check_files(dir);
        let Ok(json) = serde_json::to_string(&obs) else {
            return 3;
        };
        if writeln!(out, "obs {json}")
            .and_then(|_| out.flush())
            .is_err()
        {
            return 3;
        }
    }
    0
}

#[cfg(not(any(unix, windows)))]
fn run_checks(
    _dir: &std::path::Path,
    _resume_at: Option<&str>,
    _out: &mut dyn std::io::Write,
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
    fn lines_of_a_real_run(dir: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        assert_eq!(run_checks(dir, None, &mut out), 0);
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    #[cfg(any(unix, windows))]
    #[test]
    fn a_real_in_process_run_passes_every_check_and_is_retargeted_to_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let lines = lines_of_a_real_run(dir.path());
        assert_eq!(lines.len(), 2 * IDS.len());
        let mut t = Transcript::new("/data");
        let obs: Vec<Observation> = lines.iter().flat_map(|l| t.line(l)).collect();
        assert!(t.finish(&WorkerExit::Code(0)).is_empty());
        assert_eq!(obs.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), IDS);
        for o in &obs {
            assert_eq!(o.status, Status::Pass, "{o:?}");
            assert_eq!(o.target, "/data");
        }
        assert_eq!(obs[5].values["bytes"], 256 * 1024);
        // The worker removes its files after each check.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(any(unix, windows))]
    #[test]
    fn ids_match_the_checks_the_worker_runs() {
        let run: Vec<&str> = checks::CHECKS.iter().map(|(id, _)| *id).collect();
        assert_eq!(run, IDS);
    }
}
