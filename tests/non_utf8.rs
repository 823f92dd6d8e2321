//! A data dir whose name is not valid Unicode is probed like any other (the path stays an OS
//! string end to end) and shown escaped in the report, never with U+FFFD: on Unix a byte
//! that is not UTF-8 as `\xFF`, on Windows an unpaired UTF-16 surrogate as `\uD800`.
#![cfg(any(target_os = "linux", windows))]

mod common;
use common::*;
#[cfg(target_os = "linux")]
use std::ffi::OsStr;
use std::ffi::OsString;
#[cfg(target_os = "linux")]
use std::os::unix::ffi::OsStrExt;
use std::process::Command;
use std::time::Duration;

/// A dir name that is not valid Unicode, and how the report must show it.
#[cfg(target_os = "linux")]
fn odd_name() -> (OsString, &'static str) {
    use std::os::unix::ffi::OsStringExt;
    (
        OsString::from_vec(b"caf\xE9-data".to_vec()),
        "caf\\xE9-data",
    )
}

/// A lone high surrogate (U+D800) in the middle of the name: valid for NTFS, not Unicode.
#[cfg(windows)]
fn odd_name() -> (OsString, &'static str) {
    use std::os::windows::ffi::OsStringExt;
    let mut wide: Vec<u16> = "caf".encode_utf16().collect();
    wide.push(0xD800);
    wide.extend("-data".encode_utf16());
    (OsString::from_wide(&wide), "caf\\uD800-data")
}

#[test]
fn a_non_utf8_data_dir_is_probed_and_shown_escaped() {
    let (t, base) = tempdir();
    let (name, escaped) = odd_name();
    let dir = t.path().join(&name);
    if let Err(e) = std::fs::create_dir(&dir) {
        // Wine stores names as UTF-8 on the Linux filesystem and refuses a lone surrogate
        // (ERROR_FILE_NOT_FOUND): such a dir cannot exist there. Real Windows (NTFS) takes
        // it. The escaping itself is unit-tested in host::shown_tests, which runs under Wine.
        if under_wine() {
            return eprintln!("SKIP under Wine: cannot create {name:?}: {e}");
        }
        panic!("create {name:?}: {e}");
    }
    let mut cmd = Command::new(bin());
    cmd.args(["check", "--format", "json", "--timeout", "3s", "--data-dir"])
        .arg(&dir);
    let r = run_cmd(cmd, Duration::from_secs(30));
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.json();
    let shown = format!("{base}{}{escaped}", std::path::MAIN_SEPARATOR);
    assert_eq!(
        report["data_dirs"][0]["path"],
        shown.as_str(),
        "{:#}",
        report["data_dirs"]
    );
    assert_eq!(report["data_dirs"][0]["exists"], true);
    assert_observed(&report, "file.create", Some(&shown), "pass", None);
    assert_observed(&report, "mmap.shared_rw", Some(&shown), "pass", None);
    let skipped: Vec<&serde_json::Value> = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["target"] == shown.as_str() && p["status"] == "skipped")
        .collect();
    assert!(
        skipped.len() <= 2,
        "probes skipped on the dir: {skipped:#?}"
    );
    // The table and Markdown show the data dir by the same escaped path, and the per-dir
    // rows find their dir by it. (Some probe messages still print paths lossily.)
    for format in ["table", "markdown"] {
        let mut cmd = Command::new(bin());
        cmd.env("COLUMNS", "400")
            .args(["check", "--format", format, "--timeout", "3s", "--data-dir"])
            .arg(&dir);
        let r = run_cmd(cmd, Duration::from_secs(30));
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(
            r.stdout.contains(escaped) && !r.stdout.contains('\u{FFFD}'),
            "{format}:\n{}",
            r.stdout
        );
    }
    // Nothing left behind in it.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

/// `s` holds no U+FFFD (a path shown lossily) — the failure names where.
#[cfg(target_os = "linux")]
fn assert_not_lossy(what: &str, s: &str) {
    if let Some(at) = s.find('\u{FFFD}') {
        let from = s[..at].char_indices().rev().nth(120).map_or(0, |(i, _)| i);
        let to = s[at..]
            .char_indices()
            .nth(120)
            .map_or(s.len(), |(i, _)| at + i);
        panic!("{what} shows a path lossily (U+FFFD): …{}…", &s[from..to]);
    }
}

/// A data dir, a venv (whose python fails to run) and the paths named in errors, all with
/// non-UTF-8 names: every format, with and without --verbose, and stderr show them escaped,
/// never with U+FFFD — in messages and `values` as in path fields.
#[cfg(target_os = "linux")]
#[test]
fn no_output_shows_a_non_utf8_path_lossily() {
    let (t, base) = tempdir();
    let dir = t.path().join(OsStr::from_bytes(b"caf\xE9-data"));
    std::fs::create_dir(&dir).unwrap();
    let venv = t.path().join(OsStr::from_bytes(b"venv-\xFF"));
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::create_dir_all(venv.join("lib/python3.12/site-packages")).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.12.1\n",
    )
    .unwrap();
    let python = venv.join("bin/python");
    std::fs::write(&python, "#!/bin/sh\nexit 3\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A `docker` in a non-UTF-8 PATH entry (the PATH is then not valid Unicode as a whole).
    let tools = t.path().join(OsStr::from_bytes(b"bin-\xFC"));
    std::fs::create_dir(&tools).unwrap();
    std::fs::copy(&python, tools.join("docker")).unwrap();
    let mut path = tools.as_os_str().to_owned();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    // A Docker socket that does not exist, named by a non-UTF-8 DOCKER_HOST.
    let mut docker_host = b"unix://".to_vec();
    docker_host.extend_from_slice(
        t.path()
            .join(OsStr::from_bytes(b"dock\xFD.sock"))
            .as_os_str()
            .as_bytes(),
    );
    let check = |extra: &[&str]| {
        let mut cmd = Command::new(bin());
        cmd.env("COLUMNS", "400")
            .env("VIRTUAL_ENV", &venv)
            .env("PATH", &path)
            .env("DOCKER_HOST", OsStr::from_bytes(&docker_host))
            .args(["check", "--timeout", "3s"])
            .args(extra)
            .arg("--data-dir")
            .arg(&dir);
        let r = run_cmd(cmd, Duration::from_secs(30));
        r.assert_no_panic();
        assert_eq!(r.code, Some(0), "{extra:?}: {}", r.stderr);
        let what = format!("check {}", extra.join(" "));
        assert_not_lossy(&format!("{what} stdout"), &r.stdout);
        assert_not_lossy(&format!("{what} stderr"), &r.stderr);
        r
    };
    for format in ["table", "json", "markdown"] {
        for verbose in [false, true] {
            let mut extra = vec!["--format", format];
            if verbose {
                extra.push("--verbose");
            }
            let r = check(&extra);
            // JSON writes the backslash of `\xE9` escaped.
            let escaped = if format == "json" {
                "caf\\\\xE9-data"
            } else {
                "caf\\xE9-data"
            };
            assert!(r.stdout.contains(escaped), "{extra:?}:\n{}", r.stdout);
        }
    }
    // The venv is the interpreter found, named escaped in its message and values.
    let report = check(&["--format", "json"]).json();
    let interp = probe(&report, "python.interpreter", Some("host"));
    let values = &interp["values"];
    let venv_shown = format!("{base}/venv-\\xFF");
    assert_eq!(values["found_via"], "VIRTUAL_ENV", "{interp:#}");
    let python_shown = format!("{venv_shown}/bin/python");
    assert_eq!(values["path"], python_shown.as_str(), "{interp:#}");
    assert_eq!(values["venv"], venv_shown.as_str(), "{interp:#}");
    assert!(
        interp["message"].as_str().unwrap().contains(&venv_shown),
        "{interp:#}"
    );
    let cli = probe(&report, "docker.cli", Some("host"));
    let docker = format!("{base}/bin-\\xFC/docker");
    assert_eq!(cli["values"]["path"], docker.as_str(), "{cli:#}");
    let daemon = probe(&report, "docker.daemon", Some("host"));
    let socket = format!("{base}/dock\\xFD.sock");
    assert_eq!(daemon["values"]["socket"], socket.as_str(), "{daemon:#}");
    assert!(
        daemon["message"].as_str().unwrap().contains(&socket),
        "{daemon:#}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    // Paths named in refusals (exit 2) are escaped on stderr too.
    let missing = |name: &[u8]| t.path().join(OsStr::from_bytes(name));
    let refusals: [(&str, std::path::PathBuf, &str); 3] = [
        ("--data-dir", missing(b"gone-\xFE"), "gone-\\xFE"),
        ("--profile", missing(b"gone-\xFE.toml"), "gone-\\xFE.toml"),
        ("--host-root", missing(b"root-\xFE"), "root-\\xFE"),
    ];
    for (flag, path, shown) in refusals {
        let mut cmd = Command::new(bin());
        cmd.args(["check", flag]).arg(&path);
        if flag == "--host-root" {
            cmd.args(["--data-dir", "/"]);
        }
        let r = run_cmd(cmd, Duration::from_secs(30));
        r.assert_no_panic();
        assert_eq!(r.code, Some(2), "{flag}: {}", r.stderr);
        assert_not_lossy(&format!("{flag} refusal"), &r.stderr);
        assert!(r.stderr.contains(shown), "{flag}: {}", r.stderr);
    }
}

/// A recorded host in a non-UTF-8 dir: the report's `host_root` and every message show it
/// escaped.
#[cfg(target_os = "linux")]
#[test]
fn a_recorded_host_in_a_non_utf8_dir_is_named_escaped() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join(OsStr::from_bytes(b"root-\xFB"));
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hosts/linux-plain"
    );
    let copied = Command::new("cp")
        .arg("-r")
        .arg(fixture)
        .arg(&root)
        .status()
        .unwrap();
    assert!(copied.success());
    for format in ["json", "table", "markdown"] {
        let mut cmd = Command::new(bin());
        cmd.args([
            "check",
            "--format",
            format,
            "--data-dir",
            "/",
            "--host-root",
        ])
        .arg(&root);
        let r = run_cmd(cmd, Duration::from_secs(30));
        r.assert_no_panic();
        assert_eq!(r.code, Some(0), "{format}: {}", r.stderr);
        assert_not_lossy(&format!("recorded host, {format}"), &r.stdout);
        if format == "json" {
            let shown = format!("{}/root-\\xFB", t.path().display());
            assert_eq!(r.json()["run"]["host_root"], shown.as_str());
        }
    }
}

/// A filesystem mounted on a non-UTF-8 dir: the mount table names it by bytes, and the report
/// shows that mount point escaped like the dir (no U+FFFD in `fs.mount`'s values or message).
#[cfg(target_os = "linux")]
#[test]
fn a_mount_point_that_is_not_utf8_is_shown_escaped() {
    if !privileged("non_utf8_mount", &["unshare", "mount"]) {
        return;
    }
    let (_t, base) = tempdir();
    let r = in_mount_namespace(
        r#"d="$1/$(printf 'mnt-\351')"; mkdir "$d" && mount -t tmpfs none "$d" || exit 97
for f in table json markdown; do "$2" check --verbose --format $f --timeout 3s --data-dir "$d" || exit $?; done
exec "$2" host --format json --data-dir "$d""#,
        &base,
        &[],
    );
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_not_lossy("check/host on a non-UTF-8 mount point", &r.stdout);
    let shown = format!("{base}/mnt-\\\\xE9");
    assert!(
        r.stdout.contains(&format!("\"mount_point\": \"{shown}\"")),
        "{}",
        r.stdout
    );
}
