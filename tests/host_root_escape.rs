//! `--host-root DIR` reads only inside DIR: symlinks (absolute or `..`) resolve inside the
//! tree as in a chroot, only regular files are read, each at most a few MiB, within the run's
//! deadline — so a recorded tree cannot leak a file of this machine, hang the tool with a FIFO
//! or blow up the report with a huge file.
// Linux only: these faults (hung FUSE mounts, FIFOs, /dev/full, signals, /proc, symlinks,
// non-UTF-8 byte paths) are made with Linux tools; Windows has no counterpart test yet.
#![cfg(target_os = "linux")]

mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

const MARKER: &str = "OUTSIDE-THE-TREE-7f3a";

/// A copy of the linux-plain fixture in a temp dir, plus a file outside the copy.
fn recorded_copy() -> (tempfile::TempDir, String, String) {
    let (t, base) = tempdir();
    let root = format!("{base}/root");
    let status = Command::new("cp")
        .args([
            "-a",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/hosts/linux-plain"
            ),
            &root,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let outside = format!("{base}/outside.txt");
    std::fs::write(&outside, format!("{MARKER}\n")).unwrap();
    (t, root, outside)
}

fn replace_with_symlink(root: &str, rel: &str, target: &str) {
    let p = format!("{root}/{rel}");
    let _ = std::fs::remove_file(&p);
    std::os::unix::fs::symlink(target, &p).unwrap();
}

fn both_commands(root: &str, extra: &[&str]) -> Vec<Run> {
    let mut runs = Vec::new();
    for args in [
        vec!["host", "--host-root", root, "--format", "json"],
        vec![
            "check",
            "--host-root",
            root,
            // A recorded host has no current directory: check needs a recorded data dir.
            "--data-dir",
            "/home/u/proj",
            "--format",
            "json",
            "--timeout",
            "2s",
        ],
        vec![
            "check",
            "--host-root",
            root,
            // A recorded host has no current directory: check needs a recorded data dir.
            "--data-dir",
            "/home/u/proj",
            "--format",
            "json",
            "--redact",
            "--timeout",
            "2s",
        ],
    ] {
        let mut cmd = Command::new(bin());
        cmd.args(&args).args(extra);
        let r = run_cmd(cmd, Duration::from_secs(20));
        r.assert_no_panic();
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        runs.push(r);
    }
    runs
}

#[test]
fn symlinks_out_of_the_tree_are_resolved_inside_it_and_never_read() {
    let (_t, root, outside) = recorded_copy();
    let depth = root.matches('/').count();
    let dotdots = "../".repeat(depth + 2);
    replace_with_symlink(&root, "proc/sys/kernel/osrelease", &outside);
    replace_with_symlink(
        &root,
        "etc/os-release",
        &format!("../../{}", "../outside.txt"),
    );
    replace_with_symlink(
        &root,
        "proc/cpuinfo",
        &format!("{dotdots}{}", outside.trim_start_matches('/')),
    );
    for r in both_commands(&root, &[]) {
        assert!(
            !r.stdout.contains(MARKER),
            "a file outside the tree was read:\n{}",
            r.stdout
        );
    }
    // The same with /etc/shadow, as in the report: nothing of it appears.
    replace_with_symlink(&root, "proc/sys/kernel/osrelease", "/etc/shadow");
    if let Ok(shadow) = std::fs::read_to_string("/etc/shadow") {
        let first = shadow.lines().next().unwrap_or("").to_string();
        for r in both_commands(&root, &[]) {
            assert!(
                first.len() < 5 || !r.stdout.contains(&first),
                "/etc/shadow leaked"
            );
        }
    }
}

#[test]
fn huge_files_and_fifos_in_the_tree_are_refused_within_the_deadline() {
    let (_t, root, _) = recorded_copy();
    let osrelease = format!("{root}/proc/sys/kernel/osrelease");
    let huge = "6.1.0-huge ".repeat(3 * 1024 * 1024);
    std::fs::write(&osrelease, huge).unwrap();
    for fifo in ["proc/self/mountinfo", "proc/cpuinfo"] {
        let p = format!("{root}/{fifo}");
        let _ = std::fs::remove_file(&p);
        nix::unistd::mkfifo(p.as_str(), nix::sys::stat::Mode::S_IRWXU).unwrap();
    }
    for r in both_commands(&root, &[]) {
        assert!(r.elapsed < Duration::from_secs(5), "took {:?}", r.elapsed);
        assert!(
            r.stdout.len() < 2 * 1024 * 1024,
            "report of {} bytes",
            r.stdout.len()
        );
    }
}
