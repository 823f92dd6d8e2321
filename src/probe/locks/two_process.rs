//! The two-process lock checks (Unix and Windows): the child that holds a lock (`__worker lock-hold`)
//! and the parent's attempts against it, one thread per check.

use super::IDS;
use crate::observation::{Observation, Status};
#[cfg(unix)]
use crate::platform::unix::locks::{LockCall, is_contention, try_lock_exclusive, unlock};
#[cfg(windows)]
use crate::platform::windows::locks::{LockCall, is_contention, try_lock_exclusive, unlock};
use crate::probe::Sink;
use crate::probe::worker::WorkerProcess;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;
use std::time::Instant;

/// Child side: take the lock, say so, hold it until stdin reaches EOF.
pub(super) fn hold(args: &[std::ffi::OsString]) -> i32 {
    let (Some(kind), Some(path)) = (args.first(), args.get(1)) else {
        println!("error EINVAL usage: lock-hold KIND FILE");
        return 2;
    };
    let Some(call) = LockCall::from_name(&kind.to_string_lossy()) else {
        println!("error EINVAL unknown lock kind {}", kind.to_string_lossy());
        return 2;
    };
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) => {
            println!("error {} open: {e}", crate::errno::io_error_name(&e));
            return 1;
        }
    };
    if let Err(e) = try_lock_exclusive(&file, call) {
        println!(
            "error {} {}: {e}",
            crate::errno::io_error_name(&e),
            call.syscall()
        );
        return 1;
    }
    println!("locked");
    let mut stdin = std::io::stdin();
    let mut buf = [0u8; 64];
    while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
    drop(file);
    0
}

/// Parent side: every check at once, each on its own thread.
pub(super) fn run_all(exe: &Path, scratch: &Path, target: &str, deadline: Instant, sink: &Sink) {
    std::thread::scope(|s| {
        for call in [LockCall::Flock, LockCall::Fcntl, LockCall::Ofd] {
            s.spawn(move || {
                if call == LockCall::Ofd && cfg!(not(target_os = "linux")) {
                    sink.emit(Observation::skipped(
                        IDS[2],
                        target,
                        "F_OFD_SETLK is Linux-only",
                    ));
                    return;
                }
                sink.emit(exclusion(exe, scratch, call, target, deadline));
            });
        }
        s.spawn(|| sink.emit(flock_fcntl_conflict(exe, scratch, target, deadline)));
    });
}

fn open_rw(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// Start a child that holds `call` on `path`. Err is the observation to report instead.
fn start_holder(
    exe: &Path,
    call: LockCall,
    path: &Path,
    deadline: Instant,
    id: &str,
    target: &str,
) -> Result<WorkerProcess, Box<Observation>> {
    let args = [call.name().into(), path.as_os_str().to_owned()];
    let mut holder = WorkerProcess::spawn(exe, "lock-hold", &args).map_err(|e| {
        let mut o =
            Observation::from_io_error(id, target, "could not start the lock-holder process", &e);
        o.status = Status::Error;
        Box::new(o)
    })?;
    let pid = holder.pid();
    match holder.read_line(deadline) {
        Some(line) if line == "locked" => Ok(holder),
        Some(line) if line.starts_with("error ") => {
            let rest = &line["error ".len()..];
            let (errno, message) = rest.split_once(' ').unwrap_or((rest, ""));
            let o = Observation::fail(
                id,
                target,
                format!("the holder process could not take the lock: {message}"),
            );
            Err(Box::new(o.with_errno(errno).with("holder_pid", pid)))
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

/// `lock.<call>`: a child holds the lock; our non-blocking attempt must be refused, and
/// granted once the child has exited.
fn exclusion(
    exe: &Path,
    scratch: &Path,
    call: LockCall,
    target: &str,
    deadline: Instant,
) -> Observation {
    let start = Instant::now();
    let id = format!("lock.{}", call.name());
    let path = scratch.join(format!("lock-{}", call.name()));
    let own = match open_rw(&path) {
        Ok(f) => f,
        Err(e) => {
            return Observation::from_io_error(&id, target, "create the lock file", &e)
                .elapsed_since(start);
        }
    };
    let mut holder = match start_holder(exe, call, &path, deadline, &id, target) {
        Ok(h) => h,
        Err(o) => return o.elapsed_since(start),
    };
    let holder_pid = holder.pid();
    let attempt = try_lock_exclusive(&own, call);
    if attempt.is_ok() {
        let _ = unlock(&own, call);
    }
    holder.wait(deadline);
    let after = try_lock_exclusive(&own, call);
    if after.is_ok() {
        // The result is ignored on purpose: Wine 8 answers a whole-file unlock with
        // ERROR_LOCK_VIOLATION although it released the lock (WineHQ bug 59711), and
        // release is what `after` just proved anyway.
        let _ = unlock(&own, call);
    }
    let syscall = call.syscall();
    let o = match (&attempt, &after) {
        (Err(e), _) if !is_contention(e) => {
            let what =
                format!("{syscall} in a second process, while pid {holder_pid} held the lock");
            let mut o = Observation::from_io_error(&id, target, &what, e);
            o.values.insert("excludes".into(), serde_json::Value::Null);
            o
        }
        (Ok(()), _) => Observation::fail(
            &id,
            target,
            format!("{syscall} succeeded in both processes and does not exclude"),
        )
        .with("excludes", false),
        (Err(e), Ok(())) => {
            let refused = crate::errno::io_error_name(e);
            Observation::pass(&id, target, format!("a second process's {syscall} was refused ({refused}) while pid {holder_pid} held it, and granted after release"))
                .with("excludes", true)
                .with("refused_with", refused)
        }
        (Err(e), Err(after_err)) => {
            let what = format!(
                "{syscall} was refused ({}) while pid {holder_pid} held it, and still refused after the holder exited",
                crate::errno::io_error_name(e)
            );
            Observation::from_io_error(&id, target, &what, after_err).with("excludes", true)
        }
    };
    o.with("holder_pid", holder_pid)
        .with("acquired_after_release", after.is_ok())
        .elapsed_since(start)
}

/// How the conflict check names the held and the tried lock.
#[cfg(unix)]
const CONFLICT_NAMES: (&str, &str) = ("flock(LOCK_EX)", "fcntl(F_SETLK)");
#[cfg(windows)]
const CONFLICT_NAMES: (&str, &str) = ("a whole-file LockFileEx", "a byte-range LockFileEx");

/// `lock.flock_fcntl_conflict`: a child holds flock(LOCK_EX); is our fcntl(F_SETLK) refused?
/// (On Windows: a whole-file LockFileEx held, a byte-range LockFileEx tried.)
fn flock_fcntl_conflict(
    exe: &Path,
    scratch: &Path,
    target: &str,
    deadline: Instant,
) -> Observation {
    let start = Instant::now();
    let id = IDS[3];
    let path = scratch.join("lock-conflict");
    let own = match open_rw(&path) {
        Ok(f) => f,
        Err(e) => {
            return Observation::from_io_error(id, target, "create the lock file", &e)
                .elapsed_since(start);
        }
    };
    let mut holder = match start_holder(exe, LockCall::Flock, &path, deadline, id, target) {
        Ok(h) => h,
        Err(o) => return o.elapsed_since(start),
    };
    let holder_pid = holder.pid();
    let (flock, fcntl) = CONFLICT_NAMES;
    let attempt = try_lock_exclusive(&own, LockCall::Fcntl);
    if attempt.is_ok() {
        let _ = unlock(&own, LockCall::Fcntl);
    }
    holder.wait(deadline);
    let o = match attempt {
        Ok(()) => Observation::pass(id, target, format!("{fcntl} was granted while pid {holder_pid} held {flock}: the two lock families are independent here")).with("conflict", false),
        Err(e) if is_contention(&e) => {
            let name = crate::errno::io_error_name(&e);
            Observation::pass(id, target, format!("{fcntl} was refused ({name}) while pid {holder_pid} held {flock}: flock and POSIX locks conflict here (as on 9p, which converts flock to a POSIX lock)"))
                .with("conflict", true)
                .with("refused_with", name)
        }
        Err(e) => {
            let what = format!("{fcntl} while pid {holder_pid} held {flock}; the conflict could not be observed");
            Observation::from_io_error(id, target, &what, &e).with("conflict", serde_json::Value::Null)
        }
    };
    o.with("holder_pid", holder_pid).elapsed_since(start)
}
