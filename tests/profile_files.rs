//! `--profile` reads only a small regular file, within a deadline: a FIFO, `/dev/stdin`,
//! `/dev/zero`, a huge file or a file on a hung mount is a prompt exit 2, never a hang. On
//! Windows: a directory, the `NUL` device, the console input `CONIN$` and a huge file.
// The hung mount (bindfs) and FIFOs are made with Linux tools.
#![cfg(any(target_os = "linux", windows))]

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

fn check_with_profile(profile: &str, stdin: Stdio) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(["backends", "--profile", profile]);
    let mut r = {
        // run_cmd sets stdin to null; /dev/stdin needs a pipe that never delivers EOF.
        cmd.stdin(stdin);
        run_cmd_keep_stdin(cmd, Duration::from_secs(10))
    };
    r.stderr = r.stderr.trim().to_string();
    r
}

/// Exit 2 within 3 s, saying the profile was refused as not a regular file or too large.
fn assert_refused(profile: &str, r: &Run) {
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{profile}: {}", r.stderr);
    assert!(
        r.stderr.contains("cannot read profile")
            && (r.stderr.contains("not a regular file") || r.stderr.contains("limit")),
        "{profile}: {}",
        r.stderr
    );
    assert!(
        r.elapsed < Duration::from_secs(3),
        "{profile} took {:?}",
        r.elapsed
    );
}

/// A 64 MiB file (sparse where the filesystem allows), far over the profile size cap.
fn huge_file(dir: &str) -> String {
    let huge = format!("{dir}{}huge.toml", std::path::MAIN_SEPARATOR);
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(64 * 1024 * 1024).unwrap();
    huge
}

#[cfg(windows)]
#[test]
fn a_directory_nul_conin_and_huge_profiles_are_refused_promptly() {
    let (_t, dir) = tempdir();
    let sub = format!("{dir}\\profile.toml");
    std::fs::create_dir(&sub).unwrap();
    let huge = huge_file(&dir);
    for profile in [sub.as_str(), "NUL", "\\\\.\\NUL", huge.as_str()] {
        let r = check_with_profile(profile, Stdio::null());
        assert_refused(profile, &r);
    }
    // The console input waits for a key press. With no console attached (as under a test
    // harness, and always under Wine without a terminal) opening it fails
    // (ERROR_INVALID_HANDLE); either way: a prompt exit 2, never a wait.
    let r = check_with_profile("CONIN$", Stdio::null());
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "CONIN$: {}", r.stderr);
    assert!(r.stderr.contains("cannot read profile"), "{}", r.stderr);
    assert!(
        r.elapsed < Duration::from_secs(3),
        "CONIN$ took {:?}",
        r.elapsed
    );
}

#[cfg(target_os = "linux")]
#[test]
fn fifo_stdin_zero_and_huge_profiles_are_refused_promptly() {
    let (_t, dir) = tempdir();
    let fifo = format!("{dir}/profile.toml");
    nix::unistd::mkfifo(fifo.as_str(), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let huge = huge_file(&dir);
    // A pipe that stays open and silent: reading /dev/stdin would wait for ever.
    let (read, write) = nix::unistd::pipe().unwrap();
    for (profile, stdin) in [
        (fifo.as_str(), Stdio::null()),
        ("/dev/zero", Stdio::null()),
        ("/dev/stdin", Stdio::from(read)),
        (huge.as_str(), Stdio::null()),
    ] {
        let r = check_with_profile(profile, stdin);
        assert_refused(profile, &r);
    }
    drop(write);
}

#[cfg(target_os = "linux")]
#[test]
fn a_profile_on_a_hung_mount_is_refused_within_its_read_limit() {
    if !privileged(
        "hung_profile",
        &["unshare", "bindfs", "fusermount", "mountpoint"],
    ) {
        return;
    }
    let (_t, dir) = tempdir();
    let src = format!("{dir}/src");
    let mnt = format!("{dir}/mnt");
    std::fs::create_dir(&src).unwrap();
    std::fs::create_dir(&mnt).unwrap();
    std::fs::write(format!("{src}/p.toml"), b"id = \"x\"\n").unwrap();
    let script = r#"bindfs -f "$(dirname "$1")/src" "$1" & pid=$!
for i in $(seq 1 200); do mountpoint -q "$1" && break; sleep 0.01; done
mountpoint -q "$1" || exit 97
kill -STOP $pid
start=$(date +%s%N)
"$2" backends --profile "$1/p.toml"; rc=$?
end=$(date +%s%N)
echo "elapsed_ms=$(( (end - start) / 1000000 ))" >&2
kill -CONT $pid; fusermount -u "$1"; kill $pid 2>/dev/null; wait $pid 2>/dev/null
exit $rc"#;
    let r = in_mount_namespace(script, &mnt, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("ETIMEDOUT"), "{}", r.stderr);
    let elapsed: u64 = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("elapsed_ms="))
        .and_then(|v| v.trim().parse().ok())
        .expect("elapsed printed");
    assert!(
        elapsed < 4000,
        "a profile on a hung mount took {elapsed} ms"
    );
}
