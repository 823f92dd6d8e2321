//! A failed or closed output (stdout or stderr on /dev/full, a pipe whose reader is gone as
//! with `| head -c 0`) is a documented exit code, never a panic (exit 101) and never a false
//! success: 74 when the output could not be written; a failed stderr keeps the code it had.
// Windows has no /dev/full (NUL accepts every write): there only the closed pipe is tested
// (ERROR_NO_DATA / ERROR_BROKEN_PIPE on the first write, the same meaning as EPIPE).
#![cfg(any(target_os = "linux", windows))]

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

#[cfg(target_os = "linux")]
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
    let (read, write) = std::io::pipe().unwrap();
    drop(read);
    Stdio::from(write)
}

/// A data dir that does not exist on this OS.
fn missing_dir() -> &'static str {
    if cfg!(windows) {
        "C:\\nonexistent-wsl-vecprobe"
    } else {
        "/nonexistent"
    }
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
    let bad = ["check", "--data-dir", missing_dir()];
    #[cfg(target_os = "linux")]
    assert_eq!(status(&bad, Stdio::null(), dev_full()), Some(2));
    assert_eq!(status(&bad, Stdio::null(), closed_pipe()), Some(2));
    let bad_flag = ["check", "--no-such-flag"];
    #[cfg(target_os = "linux")]
    assert_eq!(status(&bad_flag, Stdio::null(), dev_full()), Some(2));
    assert_eq!(status(&bad_flag, Stdio::null(), closed_pipe()), Some(2));
}

/// Every command, its stdout a pipe nobody reads any more: exit 74, also with stderr closed.
#[test]
fn a_closed_stdout_is_exit_74_for_every_command() {
    for args in COMMANDS {
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

const COMMANDS: [&[&str]; 5] = [
    &["schema"],
    &["backends"],
    &["explain", "milvus-lite"],
    &["--help"],
    &["check", "--timeout", "1s"],
];

#[cfg(target_os = "linux")]
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
    for args in COMMANDS {
        assert_eq!(
            status(args, dev_full(), Stdio::null()),
            Some(74),
            "{args:?} >/dev/full"
        );
    }
}
