//! Windows counterparts of fault_process's floors and stores-in-use tests. Floors: a profile
//! with open-file and address-space floors is judged on Windows — there is no per-process
//! rlimit to lower, so the limits are observed as unlimited (the handle limit and commit
//! limit named) and the floors hold, never `unknown`. Stores: a store another process holds
//! a LockFileEx lock on (this test process, for the tool) is found in use and blocks the
//! backends that refuse a second opener; a PostgreSQL data dir is in use while the pid in its
//! postmaster.pid is alive. Windows does not name lock holders: those show no pid. (Wine
//! cannot show the locks: see below.)
#![cfg(windows)]

mod common;
use common::*;
use std::process::{Command, Stdio};

#[test]
fn resource_floors_are_judged_on_windows_and_hold_without_rlimits() {
    let (t, dir) = tempdir();
    let profiles = tempfile::tempdir().unwrap();
    let profile = floored_profile(profiles.path());
    let before = snapshot(t.path());
    let r = run(
        [
            "check",
            "--format",
            "json",
            // Room for a loaded machine (Wine, two tests at once); a healthy run is quick.
            "--timeout",
            "20s",
            "--data-dir",
            &dir,
            "--profile",
            &profile,
        ],
        &[],
    );
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.json();
    let nofile = probe(&report, "limits.nofile", None);
    assert_eq!(nofile["status"], "pass", "{nofile:#}");
    assert!(nofile["values"]["soft"].is_null(), "{nofile:#}");
    assert!(
        nofile["values"]["handle_limit"].as_u64() > Some(128),
        "{nofile:#}"
    );
    let as_ = probe(&report, "limits.as", None);
    assert_eq!(as_["status"], "pass", "{as_:#}");
    assert!(
        as_["values"]["commit_limit_bytes"].as_u64() > Some(0),
        "{as_:#}"
    );
    assert_verdict(&report, "floored", Some(&dir), &["viable"]);
    assert_unchanged(&before, t.path());
}

/// An exclusive whole-file LockFileEx lock (std's File::lock) on a non-empty file, held by
/// this process until dropped.
fn hold_lock(path: &std::path::Path) -> std::fs::File {
    std::fs::write(path, b"tmp lock file").unwrap();
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    f.lock().unwrap();
    f
}

#[test]
fn stores_locked_by_another_process_or_with_a_live_postmaster_pid_are_in_use() {
    let (t, dir) = tempdir();
    let root = t.path();
    std::fs::create_dir_all(root.join("app/x.db")).unwrap();
    std::fs::create_dir_all(root.join("app/q/collection")).unwrap();
    std::fs::write(root.join("app/q/meta.json"), b"{}").unwrap();
    let _milvus = hold_lock(&root.join("app/x.db/LOCK"));
    let _qdrant = hold_lock(&root.join("app/q/.lock"));
    let _duck = hold_lock(&root.join("v.duckdb"));
    // A live process for postmaster.pid: `cmd /c pause` waits on a stdin nobody writes.
    let mut postmaster = Command::new("cmd")
        .args(["/c", "pause"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::fs::create_dir_all(root.join("pg")).unwrap();
    std::fs::write(root.join("pg/PG_VERSION"), b"15\n").unwrap();
    std::fs::write(
        root.join("pg/postmaster.pid"),
        format!("{}\n{}\n", postmaster.id(), root.join("pg").display()),
    )
    .unwrap();
    let before = snapshot(root);
    let r = run(
        [
            "check",
            "--format",
            "json",
            "--timeout",
            "20s",
            "--data-dir",
            &dir,
        ],
        &[],
    );
    let _ = postmaster.kill();
    let _ = postmaster.wait();
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.json();
    // Windows sees a lock only as a read refused with ERROR_LOCK_VIOLATION inside the locked
    // range (the tool never takes a lock on a user's store to find out). Wine 8 does not
    // refuse such reads (see platform::windows::locks' unit test): there the locked stores
    // look unused, and only the pid-file store is proven in use.
    let locks_seen = !under_wine();
    for kind in ["milvus-lite", "qdrant-local", "duckdb"] {
        let o = probe(&report, &format!("store:{kind}"), Some(&dir));
        assert_eq!(o["values"]["found"], 1, "{o:#}");
        if !locks_seen {
            assert_eq!(o["status"], "pass", "Wine now refuses reads? {o:#}");
            continue;
        }
        assert_eq!(o["status"], "fail", "{o:#}");
        assert!(o["values"]["holder_pid"].is_null(), "{o:#}");
        assert!(
            o["message"].as_str().unwrap_or("").contains("LockFileEx"),
            "{o:#}"
        );
    }
    let pg = probe(&report, "store:postgres", Some(&dir));
    assert_eq!(pg["status"], "fail", "{pg:#}");
    assert_eq!(pg["values"]["holder_pid"], postmaster.id(), "{pg:#}");
    assert_eq!(
        probe(&report, "store:lancedb", Some(&dir))["status"],
        "pass"
    );
    let by_lock = [
        ("milvus-lite", "store:milvus-lite"),
        ("qdrant-local", "store:qdrant-local"),
        ("duckdb-vss", "store:duckdb"),
    ];
    let judged = by_lock.iter().filter(|_| locks_seen);
    for (backend, probe_id) in judged.chain(&[("pgvector", "store:postgres")]) {
        assert!(
            has_violated_reason(&report, backend, Some(&dir), probe_id),
            "{backend}: {:?}",
            violated(&report, backend, Some(&dir))
        );
    }
    assert_unchanged(&before, root);
}
