//! A data dir on a filesystem with bytes to spare but few inodes left (a tmpfs mounted with a
//! small `nr_inodes`, as an ext4 made with few inodes or one full of small files): every byte
//! check passes, yet PostgreSQL's `initdb` needs about a thousand files and Qdrant's segments a
//! few dozen. `file.free_space` must report the free inodes as they were before the tool
//! created its own files, and a backend whose measured inode floor is above them must be
//! blocked. Needs root and mount namespaces; skips otherwise.
#![cfg(target_os = "linux")]

mod common;
use common::*;

fn check_on_tmpfs(nr_inodes: u32) -> (tempfile::TempDir, String, serde_json::Value) {
    let (t, dir) = tempdir();
    let script = format!(
        r#"mount -t tmpfs -o size=256m,nr_inodes={nr_inodes} tmpfs "$1" || exit 97; "$2" check --data-dir "$1" --format json"#
    );
    let r = in_mount_namespace(&script, &dir, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    (t, dir, report)
}

#[test]
fn few_free_inodes_block_the_backends_that_need_more() {
    if !privileged("inodes", &["unshare", "mount"]) {
        return;
    }
    let (_t, dir, report) = check_on_tmpfs(64);
    let o = probe(&report, "file.free_space", Some(&dir));
    assert_eq!(o["status"], "pass", "{o:#}");
    assert_eq!(o["values"]["total_inodes"], 64, "{o:#}");
    // The tmpfs's root takes one; the tool's own scratch files are not counted.
    assert_eq!(o["values"]["free_inodes"], 63, "{o:#}");
    assert!(
        o["values"]["free_bytes"].as_u64().unwrap() > 200 << 20,
        "bytes are plentiful: {o:#}"
    );
    // initdb failed with ENOSPC on a filesystem of 64 inodes (reports/calibration-floors.json).
    assert_verdict(&report, "pgvector", Some(&dir), &["blocked"]);
    assert!(has_violated_reason(
        &report,
        "pgvector",
        Some(&dir),
        "file.free_space"
    ));

    let (_t, dir, report) = check_on_tmpfs(100_000);
    assert!(!has_violated_reason(
        &report,
        "pgvector",
        Some(&dir),
        "file.free_space"
    ));
}
