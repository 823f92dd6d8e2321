//! Fault lab, filesystems: a read-only filesystem, a full one, one with a few KiB free, and a
//! FUSE mount that refuses shared memory maps — each created for real in a private mount
//! namespace (root only; skipped with a reason otherwise, fatal in CI), then the built binary
//! is run against it and both the observation and the verdicts it drives are asserted.
//! Linux only: every fault here is a mount in a private mount namespace. The Windows
//! counterparts of the file probes run in `tests/windows_probes.rs`.
#![cfg(target_os = "linux")]

mod common;
use common::*;

/// Embedded backends that keep files in the data dir.
const FILE_BACKENDS: [&str; 7] = [
    "milvus-lite",
    "qdrant-local",
    "qdrant-edge",
    "chroma",
    "lancedb",
    "sqlite-vec",
    "duckdb-vss",
];

#[test]
fn read_only_filesystem_is_observed_as_erofs_and_blocks_embedded_backends() {
    if !privileged("read_only_filesystem", &["unshare", "mount"]) {
        return;
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    let script = r#"mount -t tmpfs -o ro,size=1m tmpfs "$1" || exit 97; "$2" check --data-dir "$1" --format json; rc=$?; ls -A "$1" >&2; exit $rc"#;
    let r = in_mount_namespace(script, &dir, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    assert_observed(&report, "file.create", Some(&dir), "fail", Some("EROFS"));
    assert_eq!(report["data_dirs"][0]["filesystem"]["read_only"], true);
    // Every backend judged on this data dir (embedded and server alike) keeps its data there,
    // so each is blocked by it, whatever else is wrong (no Docker, a kernel limit).
    let judged: Vec<String> = report["backends"]
        .as_array()
        .expect("backends")
        .iter()
        .filter(|b| b["data_dir"].as_str() == Some(dir.as_str()))
        .map(|b| b["id"].as_str().unwrap_or_default().to_string())
        .collect();
    for b in FILE_BACKENDS {
        assert!(judged.iter().any(|j| j == b), "{b} judged on {dir}");
    }
    assert!(judged.iter().any(|j| j == "redis"), "server backends too");
    for b in &judged {
        assert_verdict(&report, b, Some(&dir), &["blocked"]);
        assert!(
            has_violated_reason(&report, b, Some(&dir), "file.create"),
            "{b} names file.create"
        );
    }
    assert_unchanged(&before, t.path());
}

#[test]
fn full_filesystem_gives_enospc_and_a_contained_sigbus() {
    if !privileged("full_filesystem", &["unshare", "mount", "dd"]) {
        return;
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    // Fill the tmpfs completely, then run; list what is left afterwards on stderr.
    let script = r#"mount -t tmpfs -o size=256k tmpfs "$1" || exit 97
dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null
"$2" check --data-dir "$1" --format json; rc=$?
ls -A "$1" >&2; exit $rc"#;
    let r = in_mount_namespace(script, &dir, &[]);
    r.assert_no_panic();
    assert_eq!(
        r.code,
        Some(0),
        "the tool exits normally; stderr:\n{}",
        r.stderr
    );
    let report = r.json();
    assert_observed(&report, "file.create", Some(&dir), "fail", Some("ENOSPC"));
    // Every map check writes through a shared map of a sparse file: on a full disk the first
    // one to touch a page dies by SIGBUS in the worker; the parent resumes with a fresh worker,
    // so mmap.fill is still observed, and the tool itself survives (exit 0 above).
    let fill = probe(&report, "mmap.fill", Some(&dir));
    assert!(
        (fill["status"] == "fail" && fill["errno"] == "SIGBUS")
            || (fill["status"] == "error" && fill["errno"] == "ENOSPC"),
        "SIGBUS, or an unmade check (error) when its file could not be created: {fill:#}"
    );
    // A map check whose plain-file preparation (create, write the content) met ENOSPC did not
    // observe memory maps at all: `error`, never a failing map (file.create says the disk is full).
    for p in report["probes"].as_array().unwrap() {
        if p["id"].as_str().unwrap_or_default().starts_with("mmap.") && p["errno"] == "ENOSPC" {
            assert_eq!(p["status"], "error", "{p:#}");
            assert!(
                p["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("could not prepare"),
                "{p:#}"
            );
        }
    }
    let sigbus = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["errno"] == "SIGBUS")
        .count();
    assert!(sigbus >= 1, "a contained SIGBUS is reported");
    for b in FILE_BACKENDS {
        assert_verdict(&report, b, Some(&dir), &["blocked"]);
    }
    assert!(
        r.stderr.lines().any(|l| l.trim() == "filler") && !r.stderr.contains(".wsl-vecprobe-"),
        "only the filler is left: {}",
        r.stderr
    );
    assert_unchanged(&before, t.path());
}

#[test]
fn a_few_kib_free_lets_small_writes_pass_but_mapping_and_preallocating_fail() {
    if !privileged("few_kib_free", &["unshare", "mount", "dd"]) {
        return;
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    let script = r#"mount -t tmpfs -o size=1m tmpfs "$1" || exit 97
dd if=/dev/zero of="$1/filler" bs=1k count=960 2>/dev/null
"$2" check --data-dir "$1" --format json; rc=$?
ls -A "$1" >&2; exit $rc"#;
    let r = in_mount_namespace(script, &dir, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    assert_observed(&report, "file.create", Some(&dir), "pass", None);
    assert_observed(&report, "mmap.fill", Some(&dir), "fail", Some("SIGBUS"));
    assert_observed(
        &report,
        "file.preallocate",
        Some(&dir),
        "fail",
        Some("ENOSPC"),
    );
    // Qdrant maps its segments and preallocates its WAL: more than fits.
    for b in ["qdrant-edge", "qdrant-server"] {
        assert_verdict(&report, b, Some(&dir), &["blocked"]);
        assert!(
            has_violated_reason(&report, b, Some(&dir), "mmap.fill")
                || has_violated_reason(&report, b, Some(&dir), "file.preallocate"),
            "{b} names the map/preallocation failure"
        );
    }
    assert!(
        !r.stderr.contains(".wsl-vecprobe-"),
        "scratch removed: {}",
        r.stderr
    );
    assert_unchanged(&before, t.path());
}

#[test]
fn a_fuse_mount_with_direct_io_refuses_shared_maps_with_enodev() {
    if !privileged("fuse_direct_io", &["unshare", "bindfs", "fusermount"]) {
        return;
    }
    let (t, dir) = tempdir();
    let src = format!("{dir}/src");
    let mnt = format!("{dir}/mnt");
    std::fs::create_dir(&src).unwrap();
    std::fs::create_dir(&mnt).unwrap();
    std::fs::write(format!("{src}/existing.bin"), [7u8; 100]).unwrap();
    let before = snapshot(t.path());
    let script = format!(
        r#"bindfs -o direct_io "{src}" "$1" || exit 97
"$2" check --data-dir "$1" --format json; rc=$?
fusermount -u "$1"; exit $rc"#
    );
    let r = in_mount_namespace(&script, &mnt, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    assert_eq!(report["data_dirs"][0]["filesystem"]["class"], "fuse");
    assert_observed(
        &report,
        "mmap.shared_rw",
        Some(&mnt),
        "fail",
        Some("ENODEV"),
    );
    assert_observed(&report, "mmap.private", Some(&mnt), "pass", None);
    // Backends whose default configuration writes through shared maps are blocked …
    for b in ["qdrant-edge", "qdrant-server"] {
        assert_verdict(&report, b, Some(&mnt), &["blocked"]);
        assert!(
            has_violated_reason(&report, b, Some(&mnt), "mmap."),
            "{b} names the mmap failure"
        );
    }
    // … usearch (view()) and faiss (IO_FLAG_MMAP) map only when asked, so the failure
    // degrades them …
    for b in ["usearch", "faiss"] {
        assert_verdict(&report, b, Some(&mnt), &["degraded"]);
        assert!(
            has_violated_reason(&report, b, Some(&mnt), "mmap."),
            "{b} names the mmap failure"
        );
    }
    // … and backends that never map their files are not touched by it.
    for b in ["qdrant-local", "milvus-lite"] {
        assert!(
            !has_violated_reason(&report, b, Some(&mnt), "mmap."),
            "{b} does not need shared maps"
        );
    }
    assert_unchanged(&before, t.path());
}

#[test]
fn a_hung_mount_is_abandoned_at_the_deadline_and_the_run_still_ends_on_time() {
    if !privileged(
        "hung_mount",
        &["unshare", "bindfs", "fusermount", "mountpoint"],
    ) {
        return;
    }
    let (t, dir) = tempdir();
    let src = format!("{dir}/src");
    let mnt = format!("{dir}/mnt");
    std::fs::create_dir(&src).unwrap();
    std::fs::create_dir(&mnt).unwrap();
    let before = snapshot(t.path());
    // A FUSE daemon stopped with SIGSTOP: every operation on the mount waits forever, as on a
    // dead network mount. The daemon is resumed and the mount removed afterwards.
    let script = format!(
        r#"bindfs -f "{src}" "$1" & pid=$!
for i in $(seq 1 200); do mountpoint -q "$1" && break; sleep 0.01; done
mountpoint -q "$1" || exit 97
kill -STOP $pid
start=$(date +%s%N)
"$2" check --data-dir "$1" --format json --timeout 2s; rc=$?
end=$(date +%s%N)
echo "elapsed_ms=$(( (end - start) / 1000000 ))" >&2
kill -CONT $pid; fusermount -u "$1"; kill $pid 2>/dev/null; wait $pid 2>/dev/null
exit $rc"#
    );
    let r = in_mount_namespace(&script, &mnt, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let elapsed: u64 = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("elapsed_ms="))
        .and_then(|v| v.trim().parse().ok())
        .expect("elapsed printed");
    assert!(
        elapsed < 2600,
        "a 2 s run on a hung mount took {elapsed} ms"
    );
    let report = r.json();
    // The dir is named as not answering …
    assert_observed(&report, "fs.mount", Some(&mnt), "fail", Some("ETIMEDOUT"));
    assert_observed(
        &report,
        "file.create",
        Some(&mnt),
        "fail",
        Some("ETIMEDOUT"),
    );
    // … while probes that do not touch it still got their time.
    assert_observed(&report, "loopback.tcp4", None, "pass", None);
    assert_observed(&report, "limits.nofile", None, "pass", None);
    for b in ["qdrant-local", "chroma", "milvus-lite"] {
        assert_verdict(&report, b, Some(&mnt), &["blocked"]);
        assert!(
            has_violated_reason(&report, b, Some(&mnt), "file.create"),
            "{b} names the hung dir"
        );
    }
    assert_unchanged(&before, t.path());
}

#[test]
fn on_a_nearly_full_disk_the_tools_own_probes_do_not_starve_file_create() {
    if !privileged("nearly_full_repeat", &["unshare", "mount", "dd"]) {
        return;
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    // ~48 KiB free: enough for file.create's 4 KiB, not for the map checks' files. Concurrent
    // map checks once ate that room while file.create wrote, which then failed with ENOSPC;
    // the probes that write take turns now. Several runs, because the race was a race.
    let script = r#"mount -t tmpfs -o size=1m tmpfs "$1" || exit 97
dd if=/dev/zero of="$1/filler" bs=1k count=976 2>/dev/null
for i in 1 2 3 4 5 6; do "$2" check --data-dir "$1" --format json | tr -d '\n'; echo; done"#;
    let r = in_mount_namespace(script, &dir, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let runs: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("one JSON report per line"))
        .collect();
    assert_eq!(runs.len(), 6);
    for report in &runs {
        let created = probe(report, "file.create", Some(&dir));
        assert_eq!(created["status"], "pass", "{created:#}");
        assert_verdict(report, "lancedb", Some(&dir), &["viable", "degraded"]);
    }
    assert_unchanged(&before, t.path());
}
