//! A data dir whose filesystem answers the setup (facts, scratch dir) and then stops
//! answering, mid-probe: a bindfs FUSE mount whose daemon this test stops with SIGSTOP at the
//! moment the first file appears inside the tool's scratch dir (seen with inotify on the
//! backing dir). The run must end on time with the dir's probes `timeout`, and the process
//! must exit while the mount is still hung: every filesystem call on a data dir is made by
//! the agent child (`src/probe/agent.rs`), so no thread — and no open file — of the tool
//! itself waits on the dead mount. Before the agent, the tool's own threads (file, lock and
//! store probes, scratch removal) sat in FUSE requests and the process could not exit until
//! the daemon came back. Needs root, unshare, bindfs and FUSE; skips otherwise.
#![cfg(target_os = "linux")]

mod common;
use common::*;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Stop the FUSE daemon (pid in `pid_file`) once a file is created inside a scratch dir under
/// `src`, the backing dir of the mount. Returns whether it stopped it (within `limit`).
fn stop_daemon_inside_the_scratch_dir(
    src: &Path,
    pid_file: &Path,
    go: &Path,
    limit: Duration,
) -> bool {
    let until = Instant::now() + limit;
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            break pid;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let inotify = Inotify::init(InitFlags::IN_NONBLOCK).expect("inotify");
    inotify
        .add_watch(src, AddWatchFlags::IN_CREATE)
        .expect("watch the backing dir");
    let mut scratch_watches = Vec::new();
    std::fs::write(go, "").expect("go");
    while Instant::now() < until {
        let events = match inotify.read_events() {
            Ok(events) => events,
            Err(nix::errno::Errno::EAGAIN) => {
                std::thread::sleep(Duration::from_micros(50));
                continue;
            }
            Err(e) => panic!("inotify: {e}"),
        };
        for event in events {
            let name = event
                .name
                .as_ref()
                .map(|n| n.to_string_lossy().into_owned());
            if scratch_watches.contains(&event.wd) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGSTOP,
                );
                return true;
            }
            if let Some(name) = name.filter(|n| n.starts_with(".wsl-vecprobe-")) {
                let wd = inotify
                    .add_watch(&src.join(name), AddWatchFlags::IN_CREATE)
                    .expect("watch the scratch dir");
                scratch_watches.push(wd);
            }
        }
    }
    false
}

#[test]
fn a_mount_that_hangs_after_the_setup_holds_no_thread_of_the_tool_and_the_run_exits_on_time() {
    if !privileged(
        "hung_after_setup",
        &["unshare", "bindfs", "fusermount", "mountpoint"],
    ) {
        return;
    }
    let (t, dir) = tempdir();
    let src = PathBuf::from(format!("{dir}/src"));
    let mnt = format!("{dir}/mnt");
    std::fs::create_dir(&src).unwrap();
    std::fs::create_dir(&mnt).unwrap();
    let (pid_file, go) = (t.path().join("bindfs.pid"), t.path().join("go"));
    // The tool runs in the background; the script waits up to 6 s for it to exit *while the
    // daemon is still stopped*, says whether it did, and only then resumes the daemon.
    let script = format!(
        r#"bindfs -f "{src}" "$1" & pid=$!
for i in $(seq 1 200); do mountpoint -q "$1" && break; sleep 0.01; done
mountpoint -q "$1" || exit 97
echo $pid > "{pid_file}"
for i in $(seq 1 500); do [ -e "{go}" ] && break; sleep 0.01; done
start=$(date +%s%N)
"$2" check --data-dir "$1" --format json --timeout 2s > "{dir}/report.json" & tool=$!
exited=no
for i in $(seq 1 600); do kill -0 $tool 2>/dev/null || {{ exited=yes; break; }}; sleep 0.01; done
end=$(date +%s%N)
echo "exited_while_hung=$exited elapsed_ms=$(( (end - start) / 1000000 ))" >&2
kill -CONT $pid; wait $tool; rc=$?
fusermount -u "$1"; kill $pid 2>/dev/null; wait $pid 2>/dev/null
exit $rc"#,
        src = src.display(),
        pid_file = pid_file.display(),
        go = go.display(),
    );
    let watcher = {
        let (src, pid_file, go) = (src.clone(), pid_file.clone(), go.clone());
        std::thread::spawn(move || {
            stop_daemon_inside_the_scratch_dir(&src, &pid_file, &go, Duration::from_secs(20))
        })
    };
    let r = in_mount_namespace(&script, &mnt, &[]);
    r.assert_no_panic();
    assert!(
        watcher.join().unwrap(),
        "the daemon was never stopped inside a scratch dir; stderr:\n{}",
        r.stderr
    );
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("exited_while_hung="))
        .unwrap_or_else(|| panic!("no timing line; stderr:\n{}", r.stderr))
        .to_string();
    assert!(
        line.starts_with("exited_while_hung=yes"),
        "the tool did not exit while the mount was hung (a thread or file of its own waits on it): {line}"
    );
    let elapsed: u64 = line
        .rsplit("elapsed_ms=")
        .next()
        .and_then(|v| v.trim().parse().ok())
        .expect("elapsed");
    // The promise: --timeout, plus the cleanup reserve when the removal itself hangs, as it does
    // here (the daemon is stopped inside the scratch dir). 2.6 s was tighter than that and
    // failed under load at 2.61-2.71 s with binaries from before and after the forked workers.
    let bound = 2000 + 1000; // CLEANUP_RESERVE in src/app/check.rs; README "Bounded"
    assert!(
        elapsed < bound,
        "a 2 s run took {elapsed} ms (bound {bound}): {line}"
    );
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let text = std::fs::read_to_string(format!("{dir}/report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).expect("a whole JSON report");
    // The setup answered: the dir is described, not "did not answer" …
    assert_observed(&report, "fs.mount", Some(&mnt), "pass", None);
    // … and at least one probe on it was cut off by the hang, reported as such.
    let on_dir: Vec<&serde_json::Value> = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["target"] == mnt.as_str())
        .collect();
    assert!(
        on_dir.iter().any(|o| o["status"] == "timeout"),
        "no probe on the hung dir timed out: {on_dir:#?}"
    );
    // Probes that do not touch it still ran.
    assert_observed(&report, "loopback.tcp4", None, "pass", None);
    // The scratch dir the hang caught is the only thing left (nothing can remove it while the
    // mount is dead); the test removes it.
    for name in leftovers(&src) {
        let _ = std::fs::remove_dir_all(src.join(name));
    }
    assert_eq!(std::fs::read_dir(&src).unwrap().count(), 0);
}
