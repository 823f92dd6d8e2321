//! Fault lab, process environment: low rlimits, a data dir path too long for unix sockets,
//! proxy variables without and with `no_proxy`, another process holding a backend's lock
//! file, and Ctrl-C in the middle of a run. None of these needs root.

mod common;
use common::*;
use std::process::Command;
#[cfg(unix)]
use std::process::Stdio;
use std::time::Duration;
#[cfg(unix)]
use std::time::Instant;

/// Unix only: rlimits (Windows has no per-process file or address-space limit to lower).
#[cfg(unix)]
#[test]
fn low_rlimits_are_reported_and_break_the_floors_of_the_backends_that_need_more() {
    if !have_tool("prlimit") {
        return skip("low_rlimits", "needs prlimit (util-linux)");
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    let mut cmd = Command::new("prlimit");
    cmd.args(["--nofile=32:32", "--as=1073741824:1073741824", "--"])
        .arg(bin())
        .args(["check", "--format", "json", "--data-dir", &dir]);
    let r = run_cmd(cmd, Duration::from_secs(30));
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    let nofile = probe(&report, "limits.nofile", None);
    assert_eq!(nofile["values"]["soft"], 32, "{nofile:#}");
    let as_ = probe(&report, "limits.as", None);
    assert_eq!(as_["values"]["soft"], 1073741824u64, "{as_:#}");
    assert_verdict(
        &report,
        "elasticsearch",
        Some(&dir),
        &["blocked", "degraded"],
    );
    assert!(has_violated_reason(
        &report,
        "elasticsearch",
        Some(&dir),
        "limits.nofile"
    ));
    assert_unchanged(&before, t.path());
}

#[test]
fn a_data_dir_too_long_for_the_sockets_servers_put_there_is_named() {
    let (t, dir) = tempdir();
    let mut long = dir.clone();
    while long.len() < 120 {
        long.push_str("/a-fairly-long-directory-name");
    }
    std::fs::create_dir_all(&long).unwrap();
    let before = snapshot(t.path());
    let r = run(["check", "--format", "json", "--data-dir", &long], &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    let o = probe(&report, "uds.path_length", Some(&long));
    assert_eq!(o["status"], "fail", "{o:#}");
    assert_eq!(o["values"]["fits"]["pgvector"], false, "{o:#}");
    assert_verdict(&report, "pgvector", Some(&long), &["blocked"]);
    assert!(has_violated_reason(
        &report,
        "pgvector",
        Some(&long),
        "uds.path_length"
    ));
    assert_unchanged(&before, t.path());
}

const GRPC_BACKENDS: [&str; 4] = [
    "milvus-lite",
    "milvus-standalone",
    "qdrant-server",
    "weaviate-embedded",
];

fn proxy_env_cleared(cmd: &mut Command) {
    for v in [
        "grpc_proxy",
        "https_proxy",
        "http_proxy",
        "all_proxy",
        "no_grpc_proxy",
        "no_proxy",
    ] {
        cmd.env_remove(v).env_remove(v.to_uppercase());
    }
}

#[test]
fn a_proxy_without_no_proxy_is_the_reason_for_grpc_backends_and_never_printed() {
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    let mut cmd = Command::new(bin());
    proxy_env_cleared(&mut cmd);
    cmd.env("http_proxy", "http://alice:s3cr3t@127.0.0.1:9")
        .args(["check", "--format", "json", "--data-dir", &dir]);
    let r = run_cmd(cmd, Duration::from_secs(30));
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    assert!(
        !r.stdout.contains("s3cr3t") && !r.stdout.contains("alice"),
        "proxy credentials leaked"
    );
    let report = r.json();
    assert_observed(&report, "proxy.grpc", None, "fail", None);
    for b in GRPC_BACKENDS {
        assert!(
            has_violated_reason(&report, b, Some(&dir), "proxy.grpc"),
            "{b}: {:?}",
            violated(&report, b, Some(&dir))
        );
    }
    assert!(
        !has_violated_reason(&report, "faiss", Some(&dir), "proxy."),
        "faiss makes no connections"
    );
    // Markdown too never shows the secret.
    let mut cmd = Command::new(bin());
    proxy_env_cleared(&mut cmd);
    cmd.env("http_proxy", "http://alice:s3cr3t@127.0.0.1:9")
        .args(["check", "--format", "markdown", "--data-dir", &dir]);
    let md = run_cmd(cmd, Duration::from_secs(30));
    assert!(!md.stdout.contains("s3cr3t"));

    let mut cmd = Command::new(bin());
    proxy_env_cleared(&mut cmd);
    cmd.env("http_proxy", "http://127.0.0.1:9")
        .env("no_proxy", "localhost,127.0.0.1")
        .args(["check", "--format", "json", "--data-dir", &dir]);
    let report = run_cmd(cmd, Duration::from_secs(30)).json();
    assert_observed(&report, "proxy.grpc", None, "pass", None);
    for b in GRPC_BACKENDS {
        assert!(
            !has_violated_reason(&report, b, Some(&dir), "proxy."),
            "{b} with no_proxy"
        );
    }
    assert_unchanged(&before, t.path());
}

/// Hold `file` with `flock` (util-linux) until the guard is dropped.
#[cfg(target_os = "linux")]
struct Holder(std::process::Child);
#[cfg(target_os = "linux")]
impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
#[cfg(target_os = "linux")]
fn hold_flock(file: &str) -> Holder {
    let child = Command::new("flock")
        .args(["--exclusive", file, "sleep", "30"])
        .stdout(Stdio::null())
        .spawn()
        .expect("flock");
    let start = Instant::now();
    // Wait until the lock shows up in /proc/locks (or give up after 2 s).
    let ino = loop {
        if let Ok(m) = std::fs::metadata(file) {
            use std::os::unix::fs::MetadataExt;
            break m.ino();
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "flock did not create {file}"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    while !std::fs::read_to_string("/proc/locks")
        .unwrap_or_default()
        .contains(&format!(":{ino} "))
    {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "flock did not take the lock"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    Holder(child)
}

/// Linux only: the holder's pid comes from /proc/locks.
#[cfg(target_os = "linux")]
#[test]
fn another_process_holding_a_backends_lock_file_is_named_with_its_pid() {
    if !have_tool("flock") {
        return skip("lock_holder", "needs flock (util-linux)");
    }
    let (t, dir) = tempdir();
    let (t2, dir2) = tempdir();
    let holder = hold_flock(&format!("{dir}/LOCK"));
    let holder2 = hold_flock(&format!("{dir2}/.lock"));
    let before = snapshot(t.path());
    let before2 = snapshot(t2.path());
    let r = run(
        [
            "check",
            "--format",
            "json",
            "--data-dir",
            &dir,
            "--data-dir",
            &dir2,
        ],
        &[],
    );
    r.assert_no_panic();
    let report = r.json();
    for (d, file, backend_id, h) in [
        (&dir, "LOCK", "milvus-lite", &holder),
        (&dir2, ".lock", "qdrant-local", &holder2),
    ] {
        let o = probe(&report, &format!("lockfile:{file}"), Some(d));
        assert_eq!(o["status"], "fail", "{o:#}");
        assert_eq!(o["values"]["holder_pid"], h.0.id(), "{o:#}");
        assert!(
            o["message"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("pid {}", h.0.id())),
            "{o:#}"
        );
        assert_verdict(&report, backend_id, Some(d), &["blocked"]);
        let row = backend(&report, backend_id, Some(d));
        assert!(
            row["evidence"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("lockfile:{file}")),
            "{row:#}"
        );
    }
    // The other dir's lock files are not held.
    assert_eq!(
        probe(&report, "lockfile:LOCK", Some(&dir2))["status"],
        "pass"
    );
    drop(holder);
    drop(holder2);
    assert_unchanged(&before, t.path());
    assert_unchanged(&before2, t2.path());
}

/// Unix only: the interrupt is a SIGINT sent to the child (Windows delivers Ctrl-C only to
/// processes sharing a console, which a test harness cannot arrange portably).
#[cfg(unix)]
#[test]
fn ctrl_c_mid_run_exits_130_promptly_and_leaves_nothing_behind() {
    let (t, dir) = tempdir();
    let (tmp, tmpdir) = tempdir();
    std::fs::write(format!("{dir}/keep.txt"), b"user data").unwrap();
    // A virtualenv whose interpreter hangs keeps the python probe busy until its deadline,
    // so the run is reliably in flight when the signal arrives.
    let venv = format!("{tmpdir}/venv");
    std::fs::create_dir_all(format!("{venv}/bin")).unwrap();
    std::fs::write(format!("{venv}/bin/python"), "#!/bin/sh\nsleep 20\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        format!("{venv}/bin/python"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let before = snapshot(t.path());
    let mut child = Command::new(bin())
        .args([
            "check",
            "--format",
            "json",
            "--timeout",
            "20s",
            "--data-dir",
            &dir,
        ])
        .env("TMPDIR", &tmpdir)
        .env("VIRTUAL_ENV", &venv)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt as soon as the probe area exists.
    let start = Instant::now();
    loop {
        let mid_run = std::fs::read_dir(&dir).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".wsl-vecprobe-")
        });
        if mid_run {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the probe area never appeared"
        );
        if let Ok(Some(_)) = child.try_wait() {
            panic!("the run ended before it could be interrupted");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let sent = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(3),
            "did not stop promptly after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {err}");
    assert!(
        err.contains("interrupted") && !err.contains("panicked"),
        "{err}"
    );
    assert_unchanged(&before, t.path());
    let leftovers: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".wsl-vecprobe-"))
        .collect();
    assert!(leftovers.is_empty(), "left in TMPDIR: {leftovers:?}");
}
