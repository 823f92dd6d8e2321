//! SIGINT/SIGTERM at any moment of a run: always exit 130, every scratch dir removed, every
//! child and grandchild (one started by a fake `python3` on PATH) gone.
// Linux only: signals, /proc and a shell-script `python3`. The Windows counterpart (a console
// Ctrl-Break) is tests/windows_signals.rs.
#![cfg(target_os = "linux")]

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn alive(pid: i32) -> bool {
    // A zombie waiting for init to reap it is not alive.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next())
            != Some("Z")
    })
}

/// Whether the process has a handler for SIGINT and SIGTERM (SigCgt in /proc/PID/status). A
/// signal that arrives before `main` runs (exec, dynamic loading) cannot be handled by any
/// program; the handler is installed first thing in main, and the trials start from there.
fn handles_signals(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("SigCgt:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|mask| {
            let bit = |sig: i32| 1u64 << (sig - 1);
            mask & bit(libc_sigint()) != 0 && mask & bit(libc_sigterm()) != 0
        })
}

fn libc_sigint() -> i32 {
    nix::sys::signal::Signal::SIGINT as i32
}

fn libc_sigterm() -> i32 {
    nix::sys::signal::Signal::SIGTERM as i32
}

#[test]
fn a_signal_at_any_moment_exits_130_and_leaves_no_dir_child_or_grandchild() {
    let (t, dir) = tempdir();
    let (tmp, tmpdir) = tempdir();
    let (_b, bindir) = tempdir();
    // A python3 that starts a grandchild (recording its pid) and then hangs.
    let pids = format!("{bindir}/pids");
    std::fs::write(
        format!("{bindir}/python3"),
        format!("#!/bin/sh\nsleep 30 &\necho $! >> {pids}\nsleep 30\n"),
    )
    .unwrap();
    std::fs::set_permissions(
        format!("{bindir}/python3"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{bindir}:{}", std::env::var("PATH").unwrap_or_default());
    let trials = 16;
    let mut interrupted = 0;
    for trial in 0..trials {
        let delay = Duration::from_millis(10 + (trial as u64 * 490) / (trials as u64 - 1));
        let signal = if trial % 2 == 0 {
            nix::sys::signal::Signal::SIGINT
        } else {
            nix::sys::signal::Signal::SIGTERM
        };
        let mut child = Command::new(bin())
            .args([
                "check",
                "--format",
                "json",
                "--timeout",
                "5s",
                "--data-dir",
                &dir,
            ])
            .env("TMPDIR", &tmpdir)
            .env("PATH", &path)
            .env_remove("VIRTUAL_ENV")
            .env_remove("CONDA_PREFIX")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let spawned = Instant::now();
        while !handles_signals(child.id()) && spawned.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_micros(200));
        }
        assert!(
            handles_signals(child.id()),
            "trial {trial}: no signal handler after 5 s"
        );
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_some() {
            continue;
        }
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
        let sent = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if sent.elapsed() > Duration::from_secs(4) {
                let _ = child.kill();
                panic!("trial {trial} ({signal:?} after {delay:?}): did not stop");
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        interrupted += 1;
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert_eq!(
            status.code(),
            Some(130),
            "trial {trial} ({signal:?} after {delay:?}): {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            leftovers(t.path()).is_empty(),
            "trial {trial}: left {:?}",
            leftovers(t.path())
        );
        assert!(
            leftovers(tmp.path()).is_empty(),
            "trial {trial}: left in TMPDIR"
        );
        // Give the kernel a moment to deliver the SIGKILLs to the group.
        std::thread::sleep(Duration::from_millis(50));
        let mut left = Vec::new();
        for pid in std::fs::read_to_string(&pids).unwrap_or_default().lines() {
            let pid: i32 = pid.trim().parse().unwrap();
            if alive(pid) {
                left.push(pid);
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        assert!(
            left.is_empty(),
            "trial {trial} ({signal:?} after {delay:?}): grandchildren {left:?} outlived the run"
        );
    }
    assert!(
        interrupted >= trials / 2,
        "only {interrupted} of {trials} runs were still going"
    );
}
