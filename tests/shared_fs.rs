//! Data dirs on one filesystem share its file, map and lock observations (made once, in the
//! first dir, copied with `observed_in`), and dirs that differ in anything the checks depend
//! on are probed by themselves: another mount of the same device (a read-only bind mount),
//! another filesystem (a tmpfs), a dir of its own. The mounts are real, in a private mount
//! namespace (root only; skipped with a reason otherwise, fatal in CI).
#![cfg(target_os = "linux")]

mod common;
use common::*;
use serde_json::Value;

/// The ids the `fileops`, `mmap` and `locks` probes (`Scope::Filesystem`) report.
fn filesystem_scoped(report: &Value, dir: &str) -> Vec<Value> {
    report["probes"]
        .as_array()
        .expect("probes")
        .iter()
        .filter(|p| p["target"] == dir)
        .filter(|p| {
            let id = p["id"].as_str().unwrap_or_default();
            ["file.", "mmap.", "lock."]
                .iter()
                .any(|k| id.starts_with(k))
        })
        .cloned()
        .collect()
}

#[test]
fn two_dirs_on_one_filesystem_share_one_set_of_file_map_and_lock_checks() {
    let (_t, base) = tempdir();
    let (a, b) = (format!("{base}/a"), format!("{base}/b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    let r = run(
        [
            "check",
            "--format",
            "json",
            "--data-dir",
            &a,
            "--data-dir",
            &b,
        ],
        &[],
    );
    r.assert_no_panic();
    let report = r.json();
    let made = filesystem_scoped(&report, &a);
    let copied = filesystem_scoped(&report, &b);
    assert!(
        made.len() >= 14,
        "file, map and lock checks in a: {made:#?}"
    );
    assert_eq!(made.len(), copied.len());
    for o in &made {
        assert!(o["values"].get("observed_in").is_none(), "made in a: {o:#}");
    }
    for (m, c) in made.iter().zip(&copied) {
        assert_eq!((&c["id"], &c["status"]), (&m["id"], &m["status"]), "{c:#}");
        assert_eq!(c["values"]["observed_in"], a.as_str(), "{c:#}");
    }
    // One lock holder served both: the copy names the process that held the lock in a.
    assert_eq!(
        probe(&report, "lock.flock", Some(&b))["values"]["holder_pid"],
        probe(&report, "lock.flock", Some(&a))["values"]["holder_pid"]
    );
    // What is the dir's own (its lock files, its stores) is not copied.
    for p in report["probes"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap_or_default();
        if id.starts_with("lockfile:") || id.starts_with("store:") {
            assert!(p["values"].get("observed_in").is_none(), "{p:#}");
        }
    }
}

#[test]
fn another_mount_of_the_same_device_and_another_filesystem_are_probed_by_themselves() {
    if !privileged("another_mount_of_the_same_device", &["unshare", "mount"]) {
        return;
    }
    let (t, base) = tempdir();
    let before = snapshot(t.path());
    // a and b: plain dirs on the temp dir's filesystem; bind: a writable bind mount of a
    // subdir with other mount options (the same device, another mount); ro: a read-only one
    // (its scratch dir cannot be made either); tmp: a tmpfs.
    let script = r#"set -e
mkdir -p "$1/a" "$1/b" "$1/bind" "$1/ro" "$1/tmp"
mount --bind "$1/bind" "$1/bind" && mount -o remount,bind,noexec "$1/bind" || exit 97
mount --bind "$1/ro" "$1/ro" && mount -o remount,bind,ro "$1/ro" || exit 97
mount -t tmpfs -o size=8m tmpfs "$1/tmp" || exit 97
set +e
"$2" check --format json --data-dir "$1/a" --data-dir "$1/b" --data-dir "$1/bind" --data-dir "$1/ro" --data-dir "$1/tmp"
rc=$?
umount "$1/tmp" "$1/ro" "$1/bind"; rmdir "$1/a" "$1/b" "$1/bind" "$1/ro" "$1/tmp"
exit $rc"#;
    let r = in_mount_namespace(script, &base, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    let (a, b, bind, ro, tmp) = (
        format!("{base}/a"),
        format!("{base}/b"),
        format!("{base}/bind"),
        format!("{base}/ro"),
        format!("{base}/tmp"),
    );
    assert_eq!(
        probe(&report, "file.create", Some(&b))["values"]["observed_in"],
        a.as_str()
    );
    for dir in [&bind, &ro, &tmp] {
        for o in filesystem_scoped(&report, dir) {
            assert!(
                o["values"].get("observed_in").is_none(),
                "{dir} is probed by itself: {o:#}"
            );
        }
    }
    assert_observed(&report, "file.create", Some(&a), "pass", None);
    assert_observed(&report, "file.create", Some(&bind), "pass", None);
    assert_observed(&report, "file.create", Some(&ro), "fail", Some("EROFS"));
    assert_observed(&report, "mmap.fill", Some(&tmp), "pass", None);
    assert_ne!(
        probe(&report, "lock.flock", Some(&tmp))["values"]["holder_pid"],
        probe(&report, "lock.flock", Some(&a))["values"]["holder_pid"],
        "the tmpfs had a lock holder of its own"
    );
    assert_unchanged(&before, t.path());
}
