//! Shared harness for the integration tests: run the built binary with a hard deadline,
//! snapshot data dirs byte-for-byte, look up probes and verdicts in the JSON report, and
//! skip (or, in CI, fail) tests that need root, namespaces, nftables or FUSE.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
pub mod cgroup;

/// The binary under test: this build's, or `WSL_VECPROBE_TEST_BIN` (to show that a test
/// fails against another build, e.g. one from before a fix).
pub fn bin() -> PathBuf {
    std::env::var_os("WSL_VECPROBE_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_wsl-vecprobe")))
}

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
    /// No panic text, no backtrace, ever.
    pub fn assert_no_panic(&self) {
        for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(
                !self.stderr.contains(bad) && !self.stdout.contains(bad),
                "panic text `{bad}` in output:\n{}\n{}",
                self.stdout,
                self.stderr
            );
        }
    }
}

/// Run a command with a hard deadline (the test fails rather than hangs).
pub fn run_cmd(mut cmd: Command, limit: Duration) -> Run {
    cmd.stdin(Stdio::null());
    run_cmd_keep_stdin(cmd, limit)
}

/// `run_cmd` with the stdin the caller set up.
pub fn run_cmd_keep_stdin(mut cmd: Command, limit: Duration) -> Run {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("command did not finish within {limit:?}: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    Run {
        code,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
        elapsed,
    }
}

/// `wsl-vecprobe ARGS…` with extra environment variables.
pub fn run<I, S>(args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let mut cmd = Command::new(bin());
    cmd.args(args.into_iter().map(Into::into));
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_cmd(cmd, Duration::from_secs(30))
}

/// Whether skips are failures (CI sets WSL_VECPROBE_REQUIRE_PRIVILEGED=1).
pub fn skips_are_fatal() -> bool {
    std::env::var("WSL_VECPROBE_REQUIRE_PRIVILEGED").is_ok_and(|v| v == "1")
}

/// Print why a test is skipped — or fail, when CI requires every privileged test to run.
pub fn skip(test: &str, why: &str) {
    if skips_are_fatal() {
        panic!("{test}: cannot run ({why}) but WSL_VECPROBE_REQUIRE_PRIVILEGED=1 forbids skipping");
    }
    eprintln!("SKIP {test}: {why}");
}

#[cfg(unix)]
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Root means Unix root: the tests that need it (mounts, namespaces) are Unix-only.
#[cfg(not(unix))]
pub fn is_root() -> bool {
    false
}

/// True when the test binary runs under Wine (the Windows build tested on Linux): Wine maps
/// the Unix root to `Z:\`, so Linux's `/proc/self` shows through. Used only to tolerate
/// documented Wine differences, never to skip a check on real Windows.
pub fn under_wine() -> bool {
    cfg!(windows) && std::path::Path::new("Z:\\proc\\self\\status").exists()
}

pub fn have_tool(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
}

/// Root and these tools, or a printed skip. Returns true when the test may run.
pub fn privileged(test: &str, tools: &[&str]) -> bool {
    if !is_root() {
        skip(test, "needs root (mounts, network namespaces)");
        return false;
    }
    for t in tools {
        if !have_tool(t) {
            skip(test, &format!("needs `{t}` on PATH"));
            return false;
        }
    }
    true
}

/// A byte-for-byte picture of a directory tree: relative path → (kind, mode, contents).
pub type Snapshot = BTreeMap<PathBuf, (String, u32, Vec<u8>)>;

/// The permission bits that matter for "unchanged": the Unix mode, or on Windows the
/// read-only attribute (the only permission std exposes there).
#[cfg(unix)]
fn mode_of(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode()
}

#[cfg(not(unix))]
fn mode_of(m: &std::fs::Metadata) -> u32 {
    u32::from(m.permissions().readonly())
}

pub fn snapshot(dir: &Path) -> Snapshot {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap_or(&p).to_path_buf();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let mode = mode_of(&m);
            if m.is_dir() {
                out.insert(rel, ("dir".into(), mode, Vec::new()));
                stack.push(p);
            } else if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p)
                    .map(|t| t.display().to_string().into_bytes())
                    .unwrap_or_default();
                out.insert(rel, ("symlink".into(), mode, t));
            } else if m.is_file() {
                out.insert(
                    rel,
                    ("file".into(), mode, std::fs::read(&p).unwrap_or_default()),
                );
            } else {
                out.insert(rel, ("other".into(), mode, Vec::new()));
            }
        }
    }
    out
}

pub fn assert_unchanged(before: &Snapshot, dir: &Path) {
    let after = snapshot(dir);
    let added: Vec<&PathBuf> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let removed: Vec<&PathBuf> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "{} changed: added {added:?}, removed {removed:?}",
        dir.display()
    );
    for (k, v) in before {
        assert_eq!(
            Some(v),
            after.get(k),
            "{} changed in {}",
            k.display(),
            dir.display()
        );
    }
}

/// The observation with this id (and target, when given).
pub fn probe<'a>(report: &'a Value, id: &str, target: Option<&str>) -> &'a Value {
    report["probes"]
        .as_array()
        .and_then(|ps| {
            ps.iter()
                .find(|p| p["id"] == id && target.is_none_or(|t| p["target"] == t))
        })
        .unwrap_or_else(|| panic!("no observation {id} (target {target:?}) in report"))
}

/// The verdict row of a backend (for a data dir, when given; a host-wide row, whose `data_dir`
/// is null, stands for every data dir).
pub fn backend<'a>(report: &'a Value, id: &str, dir: Option<&str>) -> &'a Value {
    report["backends"]
        .as_array()
        .and_then(|bs| {
            bs.iter().find(|b| {
                b["id"] == id && dir.is_none_or(|d| b["data_dir"] == d || b["data_dir"].is_null())
            })
        })
        .unwrap_or_else(|| panic!("no backend {id} (dir {dir:?}) in report"))
}

pub fn verdict(report: &Value, id: &str, dir: Option<&str>) -> String {
    backend(report, id, dir)["verdict"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// The reasons of a backend row that were violated, as `probe:errno` strings, for messages.
pub fn violated(report: &Value, id: &str, dir: Option<&str>) -> Vec<String> {
    backend(report, id, dir)["reasons"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["outcome"] == "violated")
                .map(|r| {
                    format!(
                        "{}:{}",
                        r["probe"].as_str().unwrap_or(""),
                        r["errno"].as_str().unwrap_or("-")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The tool's scratch dirs (`.wsl-vecprobe-*`) still in `dir`: there should be none after a run.
pub fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".wsl-vecprobe-"))
        .collect()
}

/// A fresh temp dir with its canonical path as a string.
pub fn tempdir() -> (tempfile::TempDir, String) {
    let t = tempfile::tempdir().expect("tempdir");
    let p = std::fs::canonicalize(t.path())
        .expect("canonicalize")
        .display()
        .to_string();
    // Windows canonical paths are verbatim (`\\?\C:\…`); users pass `C:\…`.
    let p = match p.strip_prefix("\\\\?\\") {
        Some(rest) if cfg!(windows) => rest.to_string(),
        _ => p,
    };
    (t, p)
}

/// `unshare -m` then a shell script with `$1` = the data dir and `$2` = this binary: the mounts
/// it makes die with the namespace, so nothing outlives the test even if it fails.
pub fn in_mount_namespace(script: &str, dir: &str, extra_args: &[&str]) -> Run {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        dir,
    ])
    .arg(bin())
    .args(extra_args);
    run_cmd(cmd, Duration::from_secs(60))
}

/// `unshare -n` (a private network namespace with loopback down) then a shell script, with
/// `$1` = the data dir and `$2` = this binary.
pub fn in_net_namespace(script: &str, dir: &str, extra_args: &[&str]) -> Run {
    let mut cmd = Command::new("unshare");
    cmd.args(["--net", "sh", "-c", script, "sh", dir])
        .arg(bin())
        .args(extra_args);
    run_cmd(cmd, Duration::from_secs(60))
}

/// Assert an observation's status and errno, with the observation in the failure message.
pub fn assert_observed(
    report: &Value,
    id: &str,
    target: Option<&str>,
    status: &str,
    errno: Option<&str>,
) {
    let o = probe(report, id, target);
    assert_eq!(o["status"], status, "{id}: {o:#}");
    if let Some(e) = errno {
        assert_eq!(o["errno"], e, "{id}: {o:#}");
    }
}

pub fn assert_verdict(report: &Value, backend_id: &str, dir: Option<&str>, expected: &[&str]) {
    let v = verdict(report, backend_id, dir);
    assert!(
        expected.contains(&v.as_str()),
        "{backend_id}: verdict {v}, expected one of {expected:?}; violated: {:?}\n{:#}",
        violated(report, backend_id, dir),
        backend(report, backend_id, dir)
    );
}

/// True when some violated reason of the backend rests on `probe_id` (prefix match).
pub fn has_violated_reason(
    report: &Value,
    backend_id: &str,
    dir: Option<&str>,
    probe_id: &str,
) -> bool {
    backend(report, backend_id, dir)["reasons"]
        .as_array()
        .is_some_and(|rs| {
            rs.iter().any(|r| {
                r["outcome"] == "violated"
                    && r["probe"].as_str().is_some_and(|p| p.starts_with(probe_id))
            })
        })
}

/// Copy a tree of dirs and regular files (as `cp -r`, on every OS; symlinks are not followed
/// and not copied — the fixtures have none).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's dir");
    for e in std::fs::read_dir(from).expect("read fixture dir").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let kind = e.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&src, &dst);
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).expect("copy fixture file");
        }
    }
}

/// A user profile with open-file and address-space floors, written into `at`; returns its
/// path (the floors tests of fault_process.rs and windows_stores.rs).
pub fn floored_profile(at: &Path) -> String {
    let path = at.join("floored.toml");
    std::fs::write(
        &path,
        r#"
id = "floored"
name = "Floored DB"
kind = "embedded"
summary = "a backend with resource floors"
docs = "https://example.org"

[[floors]]
resource = "open-files"
min = 128
near = 1024
source = "https://example.org/nofile"

[[floors]]
resource = "address-space"
min = 4294967296
source = "https://example.org/as"
"#,
    )
    .expect("write profile");
    path.display().to_string()
}
