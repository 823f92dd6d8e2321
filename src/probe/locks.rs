//! Probe `locks`: whether file locks exclude across two processes in each data dir, for
//! `flock`, POSIX `fcntl(F_SETLK)` and Linux OFD locks, and whether `flock` and `fcntl`
//! locks conflict with each other (they do on 9p, which turns flock into a POSIX lock).
//!
//! The first process is one child per data dir (`lock-hold KIND FILE [KIND FILE]…`: forked
//! on Unix, `__worker lock-hold …` on Windows; see `worker`) that opens each check's file
//! itself, takes its lock, prints `locked` (or `error ERRNO MESSAGE`) for each and holds them
//! until its stdin closes; the second is this process, which tries each lock without blocking,
//! then again after the child is gone.
//! On Windows `lock.flock` is the whole-file `LockFileEx` of std's `File::try_lock` and
//! `lock.fcntl` a byte-range `LockFileEx` (see `platform::windows::locks`).

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use std::time::Duration;

pub static PROBE: ProbeDef = ProbeDef {
    name: "locks",
    kind: ProbeKind::Locks,
    scope: Scope::Filesystem,
    timeout: Duration::from_millis(1500),
    plan,
    run,
    in_agent: true,
};

pub const IDS: [&str; 4] = [
    "lock.flock",
    "lock.fcntl",
    "lock.ofd",
    "lock.flock_fcntl_conflict",
];

fn plan(_ctx: &ProbeContext, dir: Option<&DataDir>) -> Vec<Planned> {
    super::worker::plan_on_dir(&IDS, dir)
}

fn run(ctx: &ProbeContext, dir: Option<&DataDir>, sink: &Sink) {
    let Some(dir) = dir else { return };
    let target = dir.target();
    let Some((scratch, exe)) =
        super::worker::prerequisites(ctx, dir, &IDS, "lock checks need a second process", sink)
    else {
        return;
    };
    let deadline = super::worker::probe_deadline(ctx, PROBE.timeout);
    // (`prerequisites` already reported `skipped` on systems without this probe.)
    #[cfg(any(unix, windows))]
    two_process::run_all(exe, scratch, &target, deadline, sink);
    #[cfg(not(any(unix, windows)))]
    let _ = (exe, scratch, deadline, target);
}

/// Entry point of the child process (`__worker lock-hold KIND FILE [KIND FILE]…`).
pub fn worker_main(args: &[std::ffi::OsString]) -> i32 {
    hold_locks(args, &mut std::io::stdin(), &mut std::io::stdout())
}

/// The lock holder (`KIND FILE [KIND FILE]…`): answers on `out`, holds until `input` reaches
/// EOF (in a forked child: its raw descriptors, never std's locked `stdin()`/`stdout()`).
pub fn hold_locks(
    args: &[std::ffi::OsString],
    input: &mut dyn std::io::Read,
    out: &mut dyn std::io::Write,
) -> i32 {
    #[cfg(any(unix, windows))]
    {
        two_process::hold(args, input, out)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (args, input);
        let _ = writeln!(
            out,
            "error ENOSYS lock-hold is not implemented on this OS yet"
        );
        2
    }
}

#[cfg(any(unix, windows))]
mod two_process;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_every_id_and_skips_each_without_an_executable_or_a_scratch_dir() {
        crate::probe::testing::assert_skips_without_executable_or_scratch(&PROBE, &IDS);
    }

    #[test]
    fn the_holder_refuses_bad_arguments() {
        let hold = |args: &[std::ffi::OsString]| {
            let mut out = Vec::new();
            let code = hold_locks(args, &mut std::io::empty(), &mut out);
            (code, String::from_utf8(out).unwrap())
        };
        let (code, out) = hold(&[]);
        assert_eq!(
            (code, out.starts_with("error EINVAL usage")),
            (2, true),
            "{out}"
        );
        assert_eq!(hold(&["lockf".into(), "/tmp/x".into()]).0, 2);
        let missing = if cfg!(windows) {
            "C:\\nonexistent\\x"
        } else {
            "/nonexistent/x"
        };
        let (code, out) = hold(&["flock".into(), missing.into()]);
        assert_eq!((code, out.starts_with("error ")), (1, true), "{out}");
    }
}
