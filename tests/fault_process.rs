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

/// A server that puts its unix socket in its data dir (as test harnesses such as tmp-postgres do
/// with PostgreSQL). No built-in profile does with its default configuration (the calibration's
/// long-path cell: PostgreSQL keeps its socket in unix_socket_directories), so a user profile.
const SOCKET_IN_DATA_DIR: &str = r#"
id = "sockdb"
name = "Socket-in-data-dir DB"
kind = "server"
summary = "test"
docs = "https://example.org"

[[sockets]]
base = "data_dir"
name = ".s.PGSQL.5432"
source = "https://github.com/jfischoff/tmp-postgres/pull/289"
"#;

#[test]
fn a_data_dir_too_long_for_the_sockets_servers_put_there_is_named() {
    let (t, dir) = tempdir();
    let profile_dir = tempfile::tempdir().unwrap();
    let profile = profile_dir.path().join("sockdb.toml");
    std::fs::write(&profile, SOCKET_IN_DATA_DIR).unwrap();
    let profile = profile.display().to_string();
    let mut long = std::path::PathBuf::from(&dir);
    while long.as_os_str().len() < 120 {
        long.push("a-fairly-long-directory-name");
    }
    // The path as this OS spells it (the tool shows Windows paths with `\`).
    let long = long.display().to_string();
    std::fs::create_dir_all(&long).unwrap();
    let before = snapshot(t.path());
    let r = run(
        [
            "check",
            "--format",
            "json",
            "--data-dir",
            &long,
            "--profile",
            &profile,
        ],
        &[],
    );
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    let o = probe(&report, "uds.path_length", Some(&long));
    assert_eq!(o["status"], "fail", "{o:#}");
    assert_eq!(o["values"]["fits"]["sockdb"], false, "{o:#}");
    assert_verdict(&report, "sockdb", Some(&long), &["blocked"]);
    assert!(has_violated_reason(
        &report,
        "sockdb",
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

/// Unix only: the interrupt is a SIGINT sent to the child. The Windows counterpart (a console
/// Ctrl-Break to the tool's process group) is tests/windows_signals.rs.
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
    let left = leftovers(tmp.path());
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

#[cfg(target_os = "linux")]
fn floored_verdict(limits: &[&str], profile: &str, dir: &str) -> (String, serde_json::Value) {
    let mut cmd = Command::new("prlimit");
    cmd.args(limits)
        .arg("--")
        .arg(bin())
        .args(["check", "--format", "json", "--data-dir", dir])
        .args(["--profile", profile]);
    let r = run_cmd(cmd, Duration::from_secs(30));
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    let b = report["backends"]
        .as_array()
        .expect("backends")
        .iter()
        .find(|b| b["id"] == "floored")
        .cloned()
        .expect("floored judged");
    (b["verdict"].as_str().unwrap_or_default().to_string(), b)
}

/// Linux only: prlimit. Windows (no rlimits to lower): tests/windows_stores.rs.
#[cfg(target_os = "linux")]
#[test]
fn resource_floors_block_under_the_floor_and_degrade_close_to_it() {
    if !have_tool("prlimit") {
        return skip("resource_floors", "needs prlimit (util-linux)");
    }
    let (t, dir) = tempdir();
    let profiles = tempfile::tempdir().expect("tempdir");
    let profile = floored_profile(profiles.path());
    let before = snapshot(t.path());
    let (v, b) = floored_verdict(&["--nofile=64:64"], &profile, &dir);
    assert_eq!(v, "blocked", "{b:#}");
    assert!(
        b["evidence"]
            .as_str()
            .unwrap_or_default()
            .contains("limits.nofile"),
        "{b:#}"
    );
    let (v, b) = floored_verdict(&["--nofile=512:512"], &profile, &dir);
    assert_eq!(v, "degraded", "{b:#}");
    let (v, b) = floored_verdict(
        &["--nofile=4096:4096", "--as=2147483648:2147483648"],
        &profile,
        &dir,
    );
    assert_eq!(v, "blocked", "{b:#}");
    assert!(
        b["evidence"]
            .as_str()
            .unwrap_or_default()
            .contains("limits.as"),
        "{b:#}"
    );
    let (v, b) = floored_verdict(
        &["--nofile=4096:4096", "--as=unlimited:unlimited"],
        &profile,
        &dir,
    );
    assert_eq!(v, "viable", "{b:#}");
    assert_unchanged(&before, t.path());
}

/// Wait until `pred` holds (or fail after 5 s).
#[cfg(target_os = "linux")]
fn wait_for(what: &str, pred: impl Fn() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(start.elapsed() < Duration::from_secs(5), "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(target_os = "linux")]
fn python_holder(code: &str, ready: &std::path::Path) -> Holder {
    let child = Command::new("python3")
        .args(["-c", code])
        .stdout(Stdio::null())
        .spawn()
        .expect("python3");
    wait_for("the python holder got ready", || ready.exists());
    Holder(child)
}

/// Linux only: /proc/locks holders, flock(1) and fcntl locks. Windows (LockFileEx, a live
/// postmaster.pid): tests/windows_stores.rs.
#[cfg(target_os = "linux")]
#[test]
fn stores_in_use_inside_a_data_dir_are_found_with_their_holder_and_block_who_refuses_a_second_opener()
 {
    if !have_tool("flock") || !have_tool("python3") {
        return skip("stores_in_use", "needs flock (util-linux) and python3");
    }
    let (t, dir) = tempdir();
    let root = t.path();
    // milvus-lite 3.x: app/x.db/LOCK under flock; qdrant local: app/q/.lock under flock.
    std::fs::create_dir_all(root.join("app/x.db")).expect("mkdir");
    std::fs::create_dir_all(root.join("app/q/collection")).expect("mkdir");
    std::fs::write(root.join("app/q/meta.json"), b"{}").expect("write");
    let _milvus = hold_flock(&root.join("app/x.db/LOCK").display().to_string());
    let _qdrant = hold_flock(&root.join("app/q/.lock").display().to_string());
    // A Qdrant shard (qdrant-edge): flock on its wal/ directory, beside segments/.
    std::fs::create_dir_all(root.join("shard/wal")).expect("mkdir");
    std::fs::create_dir_all(root.join("shard/segments")).expect("mkdir");
    let _shard = hold_flock(&root.join("shard/wal").display().to_string());
    // duckdb: a POSIX (fcntl) lock on the .duckdb file, as DuckDB takes it.
    let ready = tempfile::tempdir().expect("tempdir");
    let duck_ready = ready.path().join("duck");
    let _duck = python_holder(
        &format!(
            "import fcntl,time,pathlib; f=open({:?},'a+'); fcntl.lockf(f,fcntl.LOCK_EX|fcntl.LOCK_NB); pathlib.Path({:?}).touch(); time.sleep(30)",
            root.join("v.duckdb"),
            duck_ready
        ),
        &duck_ready,
    );
    // SQLite in WAL mode, open in a real sqlite3 connection (shared openers are fine: informational).
    let sqlite_ready = ready.path().join("sqlite");
    let _sqlite = python_holder(
        &format!(
            "import sqlite3,time,pathlib; c=sqlite3.connect({:?}); c.execute('pragma journal_mode=wal'); c.execute('create table t(x)'); c.execute('insert into t values (1)'); c.commit(); pathlib.Path({:?}).touch(); time.sleep(30)",
            root.join("notes.db"),
            sqlite_ready
        ),
        &sqlite_ready,
    );
    // PostgreSQL: a PGDATA whose postmaster.pid names a live process.
    let sleeper = Holder(
        Command::new("sleep")
            .arg("30")
            .stdout(Stdio::null())
            .spawn()
            .expect("sleep"),
    );
    std::fs::create_dir_all(root.join("pg")).expect("mkdir");
    std::fs::write(root.join("pg/PG_VERSION"), b"15\n").expect("write");
    std::fs::write(
        root.join("pg/postmaster.pid"),
        format!("{}\n{}\n", sleeper.0.id(), root.join("pg").display()),
    )
    .expect("write");
    let before = snapshot(root);
    let r = run(["check", "--format", "json", "--data-dir", &dir], &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    for (kind, pid) in [
        ("milvus-lite", _milvus.0.id()),
        ("qdrant-local", _qdrant.0.id()),
        ("qdrant-shard", _shard.0.id()),
        ("duckdb", _duck.0.id()),
        ("sqlite", _sqlite.0.id()),
        ("postgres", sleeper.0.id()),
    ] {
        let o = probe(&report, &format!("store:{kind}"), Some(&dir));
        assert_eq!(o["status"], "fail", "{o:#}");
        assert_eq!(o["values"]["holder_pid"], pid, "{o:#}");
    }
    assert_eq!(
        probe(&report, "store:lancedb", Some(&dir))["status"],
        "pass"
    );
    for (backend, probe_id) in [
        ("milvus-lite", "store:milvus-lite"),
        ("qdrant-local", "store:qdrant-local"),
        ("qdrant-edge", "store:qdrant-shard"),
        ("duckdb-vss", "store:duckdb"),
        ("pgvector", "store:postgres"),
    ] {
        assert_verdict(&report, backend, Some(&dir), &["blocked"]);
        assert!(
            has_violated_reason(&report, backend, Some(&dir), probe_id),
            "{backend}"
        );
        let ev = backend_evidence(&report, backend, &dir);
        assert!(ev.contains("pid "), "{backend}: {ev}");
    }
    // SQLite allows many openers: an open database is no reason to block sqlite-vec.
    assert!(!has_violated_reason(
        &report,
        "sqlite-vec",
        Some(&dir),
        "store:sqlite"
    ));
    assert_unchanged(&before, root);
}

#[cfg(target_os = "linux")]
fn backend_evidence(report: &serde_json::Value, id: &str, dir: &str) -> String {
    backend(report, id, Some(dir))["evidence"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// An errno of running out of descriptors (or the memory for one).
#[cfg(target_os = "linux")]
fn is_exhaustion(errno: &serde_json::Value) -> bool {
    ["EMFILE", "ENFILE", "ENOMEM"].contains(&errno.as_str().unwrap_or_default())
}

/// Linux only: prlimit, /proc/locks holders and flock(1) have no Windows counterpart here.
#[cfg(target_os = "linux")]
#[test]
fn the_tools_own_descriptor_exhaustion_is_an_error_never_a_hosts_failure() {
    if !have_tool("prlimit") {
        return skip("own_limits", "needs prlimit (util-linux)");
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    // A few descriptors: the tool runs, but some of its own sockets, lock files and child
    // processes cannot be opened (EMFILE). Those are not observations of the host. How few
    // starve a probe depends on how many the tool holds at once (16 no longer did once the
    // data-dir probes ran in the agent, 12 no longer once the agent was forked), so the
    // limit is lowered until one is starved.
    let mut starved = None;
    for nofile in [12, 10, 9, 8, 7] {
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--nofile={nofile}:{nofile}"))
            .arg("--")
            .arg(bin())
            .args(["check", "--format", "json", "--data-dir", &dir]);
        let r = run_cmd(cmd, Duration::from_secs(30));
        r.assert_no_panic();
        assert_eq!(r.code, Some(0), "nofile {nofile}, stderr:\n{}", r.stderr);
        let report = r.json();
        let starves = report["probes"]
            .as_array()
            .expect("probes")
            .iter()
            .any(|p| is_exhaustion(&p["errno"]));
        if starves {
            starved = Some(report);
            break;
        }
    }
    let report = starved.expect("no descriptor limit down to 7 starved any probe");
    let probes = report["probes"].as_array().expect("probes");
    let emfile: Vec<&serde_json::Value> = probes
        .iter()
        .filter(|p| is_exhaustion(&p["errno"]))
        .collect();
    for p in &emfile {
        assert_eq!(p["status"], "error", "{p:#}");
    }
    for b in report["backends"].as_array().expect("backends") {
        if b["verdict"] == "blocked" {
            let ev = b["evidence"].as_str().unwrap_or_default();
            assert!(
                !ev.contains("EMFILE"),
                "{} blocked on the tool's own EMFILE: {ev}",
                b["id"]
            );
        }
    }
    assert_unchanged(&before, t.path());
}

#[test]
fn an_http_proxy_blocks_the_backends_whose_client_is_httpx_but_not_a_proxy_httpx_ignores() {
    let (_t, dir) = tempdir();
    let judge = |vars: &[(&str, &str)]| {
        let mut cmd = Command::new(bin());
        proxy_env_cleared(&mut cmd);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.args(["check", "--format", "json", "--data-dir", &dir]);
        let r = run_cmd(cmd, Duration::from_secs(30));
        r.assert_no_panic();
        r.json()
    };
    // Measured (tests/measure/): httpx honours HTTP_PROXY for http:// URLs, with no localhost exemption.
    let report = judge(&[("HTTP_PROXY", "http://127.0.0.1:9")]);
    assert_observed(&report, "proxy.httpx", None, "fail", None);
    for b in ["chroma-server", "qdrant-server", "weaviate-embedded"] {
        assert_verdict(&report, b, Some(&dir), &["blocked"]);
        assert!(
            has_violated_reason(&report, b, Some(&dir), "proxy.httpx"),
            "{b}"
        );
    }
    // ... but not https_proxy (measured: an http:// URL goes direct), nor a CIDR-only no_proxy fix.
    let report = judge(&[("https_proxy", "http://127.0.0.1:9")]);
    assert_observed(&report, "proxy.httpx", None, "pass", None);
    let report = judge(&[
        ("http_proxy", "http://127.0.0.1:9"),
        ("no_proxy", "127.0.0.0/8,localhost"),
    ]);
    let o = probe(&report, "proxy.httpx", None);
    assert_eq!(o["status"], "fail", "httpx ignores CIDR entries: {o:#}");
    assert_eq!(o["values"]["bypass"]["localhost"], true, "{o:#}");
}

/// Linux only: prlimit, /proc/locks holders and flock(1) have no Windows counterpart here.
#[cfg(target_os = "linux")]
#[test]
fn a_shell_or_an_open_file_in_an_unlocked_store_is_no_second_opener() {
    if !have_tool("python3") {
        return skip("store_not_in_use", "needs python3");
    }
    let (t, dir) = tempdir();
    let q = t.path().join("q");
    std::fs::create_dir_all(q.join("collection")).expect("mkdir");
    std::fs::write(q.join("meta.json"), b"{}").expect("write");
    std::fs::write(q.join(".lock"), b"").expect("write");
    // A process whose working directory is the store, holding one of its files open, no lock:
    // a shell or an editor, not a Qdrant client.
    let ready = tempfile::tempdir().expect("tempdir");
    let flag = ready.path().join("ready");
    let child = Command::new("python3")
        .args([
            "-c",
            &format!(
                "import time,pathlib; f=open('meta.json'); pathlib.Path({flag:?}).touch(); time.sleep(30)"
            ),
        ])
        .current_dir(&q)
        .stdout(Stdio::null())
        .spawn()
        .expect("python3");
    let _guard = Holder(child);
    wait_for("the python process got ready", || flag.exists());
    let r = run(["check", "--format", "json", "--data-dir", &dir], &[]);
    r.assert_no_panic();
    let report = r.json();
    let o = probe(&report, "store:qdrant-local", Some(&dir));
    assert_eq!(o["status"], "pass", "{o:#}");
    assert_eq!(o["values"]["found"], 1, "{o:#}");
    assert!(!has_violated_reason(
        &report,
        "qdrant-local",
        Some(&dir),
        "store:"
    ));
}

/// `ulimit -f` (RLIMIT_FSIZE) of 16 KiB: a write past it raises SIGXFSZ. The agent ignores the
/// signal, so it observes EFBIG where it writes (the 1 MiB preallocation) and lives to remove
/// its scratch dir; the map worker dies by it as a backend would, contained. Its checks start
/// side by side, so a crash first names none of them: they run again one at a time, and each
/// check that wrote past the limit fails with the signal under its own name. A report written
/// to a file past the limit is an output failure (exit 74), not a death by signal.
#[cfg(target_os = "linux")]
#[test]
fn a_file_size_limit_is_observed_as_efbig_and_sigxfsz_and_leaves_nothing_behind() {
    if !have_tool("prlimit") {
        return skip("file_size_limit", "needs prlimit (util-linux)");
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    let mut cmd = Command::new("prlimit");
    cmd.args(["--fsize=16384:16384", "--"]).arg(bin()).args([
        "check",
        "--format",
        "json",
        "--data-dir",
        &dir,
    ]);
    let r = run_cmd(cmd, Duration::from_secs(30));
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    let prealloc = probe(&report, "file.preallocate", Some(&dir));
    assert_eq!(
        (prealloc["status"].as_str(), prealloc["errno"].as_str()),
        (Some("fail"), Some("EFBIG")),
        "{prealloc:#}"
    );
    assert_eq!(probe(&report, "mmap.private", Some(&dir))["status"], "pass");
    for id in ["mmap.shared_rw", "mmap.fill"] {
        let o = probe(&report, id, Some(&dir));
        assert_eq!(
            (o["status"].as_str(), o["errno"].as_str()),
            (Some("fail"), Some("SIGXFSZ")),
            "{o:#}"
        );
        assert!(
            o["message"].as_str().unwrap_or_default().starts_with(id),
            "the signal is pinned on the check it came from: {o:#}"
        );
    }
    assert_unchanged(&before, t.path());

    let out = t.path().join("report.json");
    let mut cmd = Command::new("prlimit");
    cmd.args(["--fsize=16384:16384", "--"])
        .arg(bin())
        .args(["check", "--format", "json", "--data-dir", &dir])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap());
    let done = cmd.output().expect("run the tool");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(done.status.code(), Some(74), "stderr:\n{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
}
