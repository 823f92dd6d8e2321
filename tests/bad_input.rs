//! Bad input gets a clear error on stderr, exit 2, no panic text, and nothing lost.

mod common;
use common::*;

fn assert_input_error(r: &Run, needle: &str) {
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "exit code; stderr:\n{}", r.stderr);
    assert!(
        r.stderr.contains(needle),
        "stderr should mention `{needle}`:\n{}",
        r.stderr
    );
    assert!(
        r.stdout.is_empty(),
        "nothing on stdout on a usage error:\n{}",
        r.stdout
    );
}

#[test]
fn a_missing_data_dir_is_refused() {
    let (_t, dir) = tempdir();
    let missing = format!("{dir}/does-not-exist");
    let r = run(["check", "--data-dir", &missing], &[]);
    assert_input_error(&r, "does not exist");
    assert!(r.stderr.contains(&missing));
}

#[test]
fn a_file_given_as_data_dir_is_refused_and_left_alone() {
    let (t, dir) = tempdir();
    let file = format!("{dir}/afile");
    std::fs::write(&file, b"precious").unwrap();
    let before = snapshot(t.path());
    let r = run(["check", "--data-dir", &file], &[]);
    assert_input_error(&r, "is not a directory");
    assert_unchanged(&before, t.path());
}

/// Unix only: permission bits (a Windows read-only attribute on a directory does not stop
/// files being created in it).
#[cfg(unix)]
#[test]
fn a_data_dir_without_write_permission_is_refused() {
    if is_root() {
        // root bypasses permission bits: run the check as nobody instead.
        if !have_tool("setpriv") {
            return skip(
                "a_data_dir_without_write_permission_is_refused",
                "needs setpriv to drop root",
            );
        }
        let (t, dir) = tempdir();
        let locked = format!("{dir}/locked");
        std::fs::create_dir(&locked).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin())
            .args(["check", "--data-dir", &locked]);
        let r = run_cmd(cmd, std::time::Duration::from_secs(20));
        assert_input_error(&r, "not writable");
    } else {
        let (_t, dir) = tempdir();
        let locked = format!("{dir}/locked");
        std::fs::create_dir(&locked).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        let r = run(["check", "--data-dir", &locked], &[]);
        assert_input_error(&r, "not writable");
    }
}

#[test]
fn bad_timeouts_are_refused_with_the_reason() {
    for (value, needle) in [
        ("0", "at least 100ms"),
        ("0s", "at least 100ms"),
        ("1ms", "at least 100ms"),
        ("99ms", "at least 100ms"),
        ("-1", "not a duration"),
        ("abc", "not a duration"),
    ] {
        let r = run(["check", "--timeout", value], &[]);
        assert_input_error(&r, needle);
        assert!(
            r.stderr.contains("--timeout"),
            "names the flag:\n{}",
            r.stderr
        );
    }
}

#[test]
fn an_unknown_required_backend_is_refused_with_the_known_ids() {
    let r = run(["check", "--require", "no-such-db"], &[]);
    assert_input_error(&r, "unknown backend id `no-such-db`");
    assert!(
        r.stderr.contains("milvus-lite"),
        "lists the known ids:\n{}",
        r.stderr
    );
}

#[test]
fn an_unreadable_profile_is_refused() {
    let (_t, dir) = tempdir();
    let r = run(["check", "--profile", &format!("{dir}/nope.toml")], &[]);
    assert_input_error(&r, "nope.toml");
}

#[test]
fn a_malformed_profile_is_refused_with_line_and_column() {
    let (_t, dir) = tempdir();
    let p = format!("{dir}/bad.toml");
    std::fs::write(&p, "id = \"x\"\nname = \"X\"\nkind = embedded\n").unwrap();
    let r = run(["check", "--profile", &p], &[]);
    assert_input_error(&r, "bad.toml");
    assert!(r.stderr.contains("line 3"), "names the line:\n{}", r.stderr);
    assert!(
        r.stderr.contains("column"),
        "names the column:\n{}",
        r.stderr
    );
}

#[test]
fn an_empty_host_root_is_refused() {
    let (_t, dir) = tempdir();
    let r = run(["check", "--host-root", &dir], &[]);
    assert_input_error(&r, "is empty");
}

#[test]
fn a_partial_host_root_is_refused_naming_what_is_missing() {
    let (_t, dir) = tempdir();
    std::fs::create_dir_all(format!("{dir}/proc/sys/kernel")).unwrap();
    std::fs::write(
        format!("{dir}/proc/sys/kernel/osrelease"),
        "6.6.114.1-microsoft-standard-WSL2\n",
    )
    .unwrap();
    let r = run(["host", "--host-root", &dir], &[]);
    assert_input_error(&r, "is incomplete");
    assert!(r.stderr.contains("proc/self/mountinfo"), "{}", r.stderr);
}

#[test]
fn odd_but_valid_paths_work_and_are_left_unchanged() {
    let (t, dir) = tempdir();
    // A newline is a valid name on Unix only (Windows refuses it: ERROR_INVALID_NAME).
    let names: &[&str] = if cfg!(windows) {
        &["with space", "nön-äscii"]
    } else {
        &["with space", "nön-äscii", "new\nline"]
    };
    for name in names {
        let d = format!("{dir}/{name}");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(format!("{d}/data.bin"), [0u8, 1, 2, 3]).unwrap();
    }
    let before = snapshot(t.path());
    for name in names {
        // The path as this OS spells it (the tool shows `C:\x\with space` on Windows).
        let d = std::path::Path::new(&dir).join(name).display().to_string();
        let r = run(["check", "--data-dir", &d, "--format", "json"], &[]);
        r.assert_no_panic();
        assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
        let report = r.json();
        assert_eq!(report["data_dirs"][0]["path"], d.as_str());
    }
    assert_unchanged(&before, t.path());
}

#[test]
fn an_unknown_subcommand_or_flag_is_a_usage_error() {
    let r = run(["chekc"], &[]);
    assert_eq!(r.code, Some(2));
    r.assert_no_panic();
    let r = run(["check", "--no-such-flag"], &[]);
    assert_eq!(r.code, Some(2));
}

#[test]
fn explain_of_an_unknown_id_is_refused() {
    let r = run(["explain", "nope"], &[]);
    assert_input_error(&r, "unknown backend id `nope`");
}
