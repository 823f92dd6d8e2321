//! Filesystems that fake Unix permissions, made for real with bindfs: one that ignores chmod
//! (as DrvFs without `metadata` and ntfs-3g do) and one that forces every file's owner (as
//! FUSE mounts with `uid=` do). `file.permissions` must say so, and PostgreSQL — which refuses
//! such a PGDATA — must be blocked with that reason; a plain bindfs mount keeps permissions
//! and blocks nothing. Needs root, unshare, bindfs and FUSE; skips otherwise.
#![cfg(target_os = "linux")]

mod common;
use common::*;

fn on_bindfs(options: &str) -> (serde_json::Value, String) {
    let (t, dir) = tempdir();
    let (src, mnt) = (format!("{dir}/src"), format!("{dir}/mnt"));
    std::fs::create_dir(&src).unwrap();
    std::fs::create_dir(&mnt).unwrap();
    let script = format!(
        r#"bindfs {options} "{src}" "$1" || exit 97
"$2" check --data-dir "$1" --format json; rc=$?
fusermount -u "$1"; exit $rc"#
    );
    let r = in_mount_namespace(&script, &mnt, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "bindfs {options}: {}", r.stderr);
    assert_eq!(std::fs::read_dir(&src).unwrap().count(), 0, "left files");
    drop(t);
    (r.json(), mnt)
}

#[test]
fn a_filesystem_that_ignores_chmod_or_forces_an_owner_blocks_postgres() {
    if !privileged("fake_permissions", &["unshare", "bindfs", "fusermount"]) {
        return;
    }
    for (options, said) in [
        ("--chmod-ignore", "chmod 0700 reads back as"),
        ("--force-user=nobody", "is owned by uid 65534"),
    ] {
        let (report, mnt) = on_bindfs(options);
        let o = probe(&report, "file.permissions", Some(&mnt));
        assert_eq!(o["status"], "fail", "{options}: {o:#}");
        assert!(
            o["message"].as_str().unwrap().contains(said),
            "{options}: {o:#}"
        );
        assert_verdict(&report, "pgvector", Some(&mnt), &["blocked"]);
        assert!(
            has_violated_reason(&report, "pgvector", Some(&mnt), "file.permissions"),
            "{options}: pgvector names file.permissions"
        );
        // Backends that never check permissions are not judged on them.
        assert!(!has_violated_reason(
            &report,
            "faiss",
            Some(&mnt),
            "file.permissions"
        ));
    }
}

#[test]
fn a_fuse_mount_that_keeps_permissions_passes() {
    if !privileged("fake_permissions", &["unshare", "bindfs", "fusermount"]) {
        return;
    }
    let (report, mnt) = on_bindfs("");
    let o = probe(&report, "file.permissions", Some(&mnt));
    assert_eq!(o["status"], "pass", "{o:#}");
    assert_eq!(o["values"]["mode_after"], "0700", "{o:#}");
    assert!(!has_violated_reason(
        &report,
        "pgvector",
        Some(&mnt),
        "file.permissions"
    ));
}
