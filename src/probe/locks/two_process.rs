//! The two-process lock checks (Unix and Windows): one child holds every lock the checks
//! need (`lock-hold KIND FILE [KIND FILE]…`, each on its own file, which the child opens
//! itself) and this process tries each one against it, then again once the child has exited.
//! A forked holder inherits none of this process's descriptors (`platform::unix::forked`
//! closes them), so the two never share an open file description. One holder per data dir,
//! not one per check: the proof is the same (another process holds the lock), and a process
//! start is most of what a lock check costs.

use super::IDS;
use crate::observation::{Observation, Status};
#[cfg(unix)]
use crate::platform::unix::locks::{LockCall, is_contention, try_lock_exclusive, unlock};
#[cfg(windows)]
use crate::platform::windows::locks::{LockCall, is_contention, try_lock_exclusive, unlock};
use crate::probe::Sink;
use crate::probe::worker::WorkerProcess;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Child side: take every `KIND FILE` lock, say `locked` or `error ERRNO MESSAGE` for each,
/// in order, on `out`, and hold what it took until `input` reaches EOF.
pub(super) fn hold(args: &[OsString], input: &mut dyn Read, out: &mut dyn Write) -> i32 {
    // One write per line (a forked holder's `out` is an unbuffered pipe), flushed: the
    // parent waits for each answer before it tries that lock.
    let mut say = |line: &str| {
        let _ = out
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| out.flush());
    };
    if args.is_empty() || !args.len().is_multiple_of(2) {
        say("error EINVAL usage: lock-hold KIND FILE [KIND FILE]...");
        return 2;
    }
    let mut calls = Vec::new();
    for pair in args.chunks(2) {
        let Some(call) = LockCall::from_name(&pair[0].to_string_lossy()) else {
            say(&format!(
                "error EINVAL unknown lock kind {}",
                pair[0].to_string_lossy()
            ));
            return 2;
        };
        calls.push((call, &pair[1]));
    }
    let mut held = Vec::new();
    let mut failed = false;
    for (call, path) in calls {
        match take(call, Path::new(path)) {
            Ok(file) => {
                say("locked");
                held.push(file);
            }
            Err(line) => {
                say(&line);
                failed = true;
            }
        }
    }
    if !held.is_empty() {
        let mut buf = [0u8; 64];
        loop {
            match input.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
    drop(held);
    i32::from(failed)
}

fn take(call: LockCall, path: &Path) -> Result<File, String> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| format!("error {} open: {e}", crate::errno::io_error_name(&e)))?;
    try_lock_exclusive(&file, call).map_err(|e| {
        format!(
            "error {} {}: {e}",
            crate::errno::io_error_name(&e),
            call.syscall()
        )
    })?;
    Ok(file)
}

/// One check: the lock the holder takes, the one this process tries, on a file of its own.
struct Check {
    id: &'static str,
    held: LockCall,
    tried: LockCall,
    path: PathBuf,
}

impl Check {
    /// `lock.<call>`: the same call held and tried; `lock.flock_fcntl_conflict`: flock held,
    /// fcntl tried.
    fn is_exclusion(&self) -> bool {
        self.held == self.tried
    }
}

fn checks(scratch: &Path) -> Vec<Check> {
    let same = |id, call: LockCall| Check {
        id,
        held: call,
        tried: call,
        path: scratch.join(format!("lock-{}", call.name())),
    };
    vec![
        same(IDS[0], LockCall::Flock),
        same(IDS[1], LockCall::Fcntl),
        same(IDS[2], LockCall::Ofd),
        Check {
            id: IDS[3],
            held: LockCall::Flock,
            tried: LockCall::Fcntl,
            path: scratch.join("lock-conflict"),
        },
    ]
}

fn open_rw(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// Parent side: one holder for every check, this process's attempts against it.
pub(super) fn run_all(exe: &Path, scratch: &Path, target: &str, deadline: Instant, sink: &Sink) {
    let start = Instant::now();
    let mut ready: Vec<(Check, File)> = Vec::new();
    for check in checks(scratch) {
        if check.held == LockCall::Ofd && cfg!(not(target_os = "linux")) {
            sink.emit(Observation::skipped(
                check.id,
                target,
                if cfg!(windows) {
                    "open-file-description locks (F_OFD_SETLK) are Linux-only; a LockFileEx lock already belongs to its handle (lock.fcntl)"
                } else {
                    "F_OFD_SETLK is Linux-only"
                },
            ));
            continue;
        }
        match open_rw(&check.path) {
            Ok(own) => ready.push((check, own)),
            Err(e) => sink.emit(
                Observation::from_io_error(check.id, target, "create the lock file", &e)
                    .elapsed_since(start),
            ),
        }
    }
    if ready.is_empty() {
        return;
    }
    let mut args: Vec<OsString> = Vec::new();
    for (check, _) in &ready {
        args.push(check.held.name().into());
        args.push(check.path.as_os_str().to_owned());
    }
    let mut holder = match WorkerProcess::spawn(exe, "lock-hold", &args) {
        Ok(h) => h,
        Err(e) => {
            for (check, _) in &ready {
                let mut o = Observation::from_io_error(
                    check.id,
                    target,
                    "could not start the lock-holder process",
                    &e,
                );
                o.status = Status::Error;
                sink.emit(o.elapsed_since(start));
            }
            return;
        }
    };
    let holder_pid = holder.pid();
    // The holder's answer for each check, in order; a check it did not lock ends here.
    let mut held: Vec<(Check, File)> = Vec::new();
    let mut pending = ready.into_iter();
    for (check, own) in pending.by_ref() {
        match holder_answer(&mut holder, deadline, check.id, target) {
            Ok(()) => held.push((check, own)),
            Err(o) => {
                let ended = o.status != Status::Fail;
                sink.emit(o.with("holder_pid", holder_pid).elapsed_since(start));
                if ended {
                    // The holder is gone or out of time: no answer will come for the rest.
                    break;
                }
            }
        }
    }
    for (check, _) in pending {
        sink.emit(
            Observation::timeout(
                check.id,
                target,
                "the lock-holder process did not answer for this lock before the deadline",
            )
            .with("holder_pid", holder_pid)
            .elapsed_since(start),
        );
    }
    let attempts: Vec<io::Result<()>> = held
        .iter()
        .map(|(check, own)| {
            let attempt = try_lock_exclusive(own, check.tried);
            if attempt.is_ok() {
                let _ = unlock(own, check.tried);
            }
            attempt
        })
        .collect();
    holder.wait(deadline);
    for ((check, own), attempt) in held.iter().zip(attempts) {
        let o = if check.is_exclusion() {
            exclusion(check, own, attempt, target, holder_pid)
        } else {
            conflict(check, attempt, target, holder_pid)
        };
        sink.emit(o.with("holder_pid", holder_pid).elapsed_since(start));
    }
}

/// The holder's line for one lock: Ok when it holds it, else the observation to report.
fn holder_answer(
    holder: &mut WorkerProcess,
    deadline: Instant,
    id: &str,
    target: &str,
) -> Result<(), Box<Observation>> {
    match holder.read_line(deadline) {
        Some(line) if line == "locked" => Ok(()),
        Some(line) if line.starts_with("error ") => {
            let rest = &line["error ".len()..];
            let (errno, message) = rest.split_once(' ').unwrap_or((rest, ""));
            let o = Observation::fail(
                id,
                target,
                format!("the holder process could not take the lock: {message}"),
            );
            Err(Box::new(o.with_errno(errno)))
        }
        Some(line) => Err(Box::new(Observation::error(
            id,
            target,
            format!("unexpected reply from the lock-holder process: {line:?}"),
        ))),
        None if Instant::now() >= deadline => Err(Box::new(Observation::timeout(
            id,
            target,
            "the lock-holder process did not answer before the deadline",
        ))),
        None => {
            let exit = holder.wait(deadline);
            Err(Box::new(Observation::error(
                id,
                target,
                format!("the lock-holder process ended without answering ({exit:?})"),
            )))
        }
    }
}

/// `lock.<call>`: our non-blocking attempt while the holder held the lock must be refused,
/// and granted once the holder has exited.
fn exclusion(
    check: &Check,
    own: &File,
    attempt: io::Result<()>,
    target: &str,
    holder_pid: u32,
) -> Observation {
    let call = check.tried;
    let id = check.id;
    let after = try_lock_exclusive(own, call);
    if after.is_ok() {
        // The result is ignored on purpose: Wine 8 answers a whole-file unlock with
        // ERROR_LOCK_VIOLATION although it released the lock (WineHQ bug 59711), and
        // release is what `after` just proved anyway.
        let _ = unlock(own, call);
    }
    let syscall = call.syscall();
    let o = match (&attempt, &after) {
        (Err(e), _) if !is_contention(e) => {
            let what =
                format!("{syscall} in a second process, while pid {holder_pid} held the lock");
            let mut o = Observation::from_io_error(id, target, &what, e);
            o.values.insert("excludes".into(), serde_json::Value::Null);
            o
        }
        (Ok(()), _) => Observation::fail(
            id,
            target,
            format!("{syscall} succeeded in both processes and does not exclude"),
        )
        .with("excludes", false),
        (Err(e), Ok(())) => {
            let refused = crate::errno::io_error_name(e);
            Observation::pass(id, target, format!("a second process's {syscall} was refused ({refused}) while pid {holder_pid} held it, and granted after release"))
                .with("excludes", true)
                .with("refused_with", refused)
        }
        (Err(e), Err(after_err)) => {
            let what = format!(
                "{syscall} was refused ({}) while pid {holder_pid} held it, and still refused after the holder exited",
                crate::errno::io_error_name(e)
            );
            Observation::from_io_error(id, target, &what, after_err).with("excludes", true)
        }
    };
    o.with("acquired_after_release", after.is_ok())
}

/// How the conflict check names the held and the tried lock, and what a refusal means.
#[cfg(unix)]
const CONFLICT_NAMES: (&str, &str, &str) = (
    "flock(LOCK_EX)",
    "fcntl(F_SETLK)",
    "flock and POSIX locks conflict here (as on 9p, which converts flock to a POSIX lock)",
);
#[cfg(windows)]
const CONFLICT_NAMES: (&str, &str, &str) = (
    "a whole-file LockFileEx",
    "a byte-range LockFileEx",
    "whole-file and byte-range locks are one mechanism on Windows (LockFileEx), so they conflict",
);

/// `lock.flock_fcntl_conflict`: the holder held flock(LOCK_EX); was our fcntl(F_SETLK)
/// refused? (On Windows: a whole-file LockFileEx held, a byte-range LockFileEx tried.)
fn conflict(check: &Check, attempt: io::Result<()>, target: &str, holder_pid: u32) -> Observation {
    let id = check.id;
    let (flock, fcntl, conflicting) = CONFLICT_NAMES;
    match attempt {
        Ok(()) => Observation::pass(id, target, format!("{fcntl} was granted while pid {holder_pid} held {flock}: the two lock families are independent here")).with("conflict", false),
        Err(e) if is_contention(&e) => {
            let name = crate::errno::io_error_name(&e);
            Observation::pass(id, target, format!("{fcntl} was refused ({name}) while pid {holder_pid} held {flock}: {conflicting}"))
                .with("conflict", true)
                .with("refused_with", name)
        }
        Err(e) => {
            let what = format!("{fcntl} while pid {holder_pid} held {flock}; the conflict could not be observed");
            Observation::from_io_error(id, target, &what, &e).with("conflict", serde_json::Value::Null)
        }
    }
}
