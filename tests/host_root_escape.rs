//! `--host-root DIR` reads only inside DIR: symlinks (absolute or `..`) resolve inside the
//! tree as in a chroot, only regular files are read, each at most a few MiB, within the run's
//! deadline — so a recorded tree cannot leak a file of this machine, hang the tool with a FIFO
//! or blow up the report with a huge file.
// Linux and Windows (a recorded Linux tree read on Windows stays a tree of POSIX paths). On
// Windows a symlink needs a privilege (SeCreateSymbolicLink or developer mode): without it the
// symlink cases are skipped, said on stderr. Wine 8 creates symlinks it cannot follow: there
// they are only proven unreadable. Windows has no FIFOs: a directory stands in for them.
#![cfg(any(target_os = "linux", windows))]

mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

const MARKER: &str = "OUTSIDE-THE-TREE-7f3a";

/// A copy of the linux-plain fixture in a temp dir, plus a file outside the copy.
fn recorded_copy() -> (tempfile::TempDir, String, String) {
    let (t, base) = tempdir();
    let sep = std::path::MAIN_SEPARATOR;
    let root = format!("{base}{sep}root");
    copy_tree(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/hosts/linux-plain"
        )),
        std::path::Path::new(&root),
    );
    let outside = format!("{base}{sep}outside.txt");
    std::fs::write(&outside, format!("{MARKER}\n")).unwrap();
    (t, root, outside)
}

/// Replace a file of the tree with a symlink; false when this OS refuses to make one.
fn replace_with_symlink(root: &str, rel: &str, target: &str) -> bool {
    let p = std::path::Path::new(root).join(rel);
    let _ = std::fs::remove_file(&p);
    #[cfg(unix)]
    let made = std::os::unix::fs::symlink(target, &p);
    #[cfg(windows)]
    let made = std::os::windows::fs::symlink_file(target.replace('/', "\\"), &p);
    match made {
        Ok(()) => true,
        Err(e) if cfg!(windows) => {
            eprintln!("SKIP symlink {rel} -> {target}: {e} (needs a privilege on Windows)");
            std::fs::write(&p, b"").unwrap();
            false
        }
        Err(e) => panic!("symlink {rel}: {e}"),
    }
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
    let depth = root.matches(['/', '\\']).count();
    let dotdots = "../".repeat(depth + 2);
    // The outside file's path from the top of its drive: `tmp/…` or `users\…\Temp\…`.
    let outside_rel = outside
        .split_once(":\\")
        .map_or(outside.as_str(), |(_, rest)| rest)
        .trim_start_matches('/')
        .replace('\\', "/");
    let made = [
        replace_with_symlink(&root, "proc/sys/kernel/osrelease", &outside),
        replace_with_symlink(&root, "etc/os-release", "../../../outside.txt"),
        replace_with_symlink(&root, "proc/cpuinfo", &format!("{dotdots}{outside_rel}")),
    ];
    if !made.contains(&true) {
        return;
    }
    for r in both_commands(&root, &[]) {
        assert!(
            !r.stdout.contains(MARKER),
            "a file outside the tree was read:\n{}",
            r.stdout
        );
    }
    // The same with /etc/shadow, as in the report: nothing of it appears.
    #[cfg(unix)]
    replace_with_symlink(&root, "proc/sys/kernel/osrelease", "/etc/shadow");
    #[cfg(unix)]
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
    let osrelease = std::path::Path::new(&root).join("proc/sys/kernel/osrelease");
    let huge = "6.1.0-huge ".repeat(3 * 1024 * 1024);
    std::fs::write(&osrelease, huge).unwrap();
    for fifo in ["proc/self/mountinfo", "proc/cpuinfo"] {
        let p = std::path::Path::new(&root).join(fifo);
        let _ = std::fs::remove_file(&p);
        #[cfg(unix)]
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::S_IRWXU).unwrap();
        // No FIFOs on Windows: a directory where a file is expected is the non-regular file.
        #[cfg(windows)]
        std::fs::create_dir(&p).unwrap();
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
