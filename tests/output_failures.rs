//! A failed or closed output (stdout or stderr on /dev/full, a pipe whose reader is gone as
//! with `| head -c 0`) is a documented exit code, never a panic (exit 101) and never a false
//! success: 74 when the output could not be written; a failed stderr keeps the code it had.
// Linux only: these faults (hung FUSE mounts, FIFOs, /dev/full, signals, /proc, symlinks,
// non-UTF-8 byte paths) are made with Linux tools; Windows has no counterpart test yet.
#![cfg(target_os = "linux")]

mod common;
use common::*;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::Duration;

fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    )
}

/// The write end of a pipe whose read end is already closed (EPIPE on the first write).
fn closed_pipe() -> Stdio {
    let (read, write): (OwnedFd, OwnedFd) = nix::unistd::pipe().unwrap();
    drop(read);
    Stdio::from(write)
}

fn status(args: &[&str], stdout: Stdio, stderr: Stdio) -> Option<i32> {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{args:?} did not finish");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_failed_stderr_keeps_the_bad_input_exit_code_and_never_panics() {
    let bad = ["check", "--data-dir", "/nonexistent"];
    assert_eq!(status(&bad, Stdio::null(), dev_full()), Some(2));
    assert_eq!(status(&bad, Stdio::null(), closed_pipe()), Some(2));
    let bad_flag = ["check", "--no-such-flag"];
    assert_eq!(status(&bad_flag, Stdio::null(), dev_full()), Some(2));
}

#[test]
fn stdout_that_cannot_be_written_is_exit_74_with_a_message_never_a_silent_success() {
    let r = {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            r#""$1" check --timeout 1s --format json >/dev/full"#,
            "sh",
        ])
        .arg(bin());
        run_cmd(cmd, Duration::from_secs(30))
    };
    r.assert_no_panic();
    assert_eq!(r.code, Some(74), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("cannot write the output"), "{}", r.stderr);
    for args in [
        &["schema"][..],
        &["backends"],
        &["explain", "milvus-lite"],
        &["--help"],
        &["check", "--timeout", "1s"],
    ] {
        assert_eq!(
            status(args, dev_full(), Stdio::null()),
            Some(74),
            "{args:?} >/dev/full"
        );
        // `| head -c 10` that has gone away: a closed stdout.
        assert_eq!(
            status(args, closed_pipe(), Stdio::null()),
            Some(74),
            "{args:?} | closed"
        );
        // Both closed at once: still no panic.
        assert_eq!(
            status(args, closed_pipe(), closed_pipe()),
            Some(74),
            "{args:?} both closed"
        );
    }
}
