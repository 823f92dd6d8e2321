//! The `mmap`, `locks` and `lockfiles` probes end to end: the real binary as the worker and
//! lock-holder child, the real engine, real data dirs (a temp dir, and a 1 MiB tmpfs filled
//! to 128 KiB free), and real lock holders (`flock(1)` and the binary's own holder).
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use wsl_vecprobe::observation::{Observation, Status};
use wsl_vecprobe::probe::{self, CatalogueInputs, DataDir, ProbeContext, ProbeDef};

/// `scratch::cleanup_all` removes every registered scratch dir of the process, so these
/// tests must not overlap.
static SERIAL: Mutex<()> = Mutex::new(());

const EXE: &str = env!("CARGO_BIN_EXE_wsl-vecprobe");

fn run_probes(
    data: &Path,
    lock_files: &[(&str, &str)],
    probes: &[&'static ProbeDef],
) -> Vec<Observation> {
    let dir = DataDir {
        same_filesystem_as: None,
        scratch: probe::scratch::create_in(data),
        ..probe::testing::local_data_dir(data)
    };
    assert!(dir.scratch.is_ok(), "scratch dir: {:?}", dir.scratch);
    let catalogue = CatalogueInputs {
        lock_files: lock_files
            .iter()
            .map(|(p, b)| (p.to_string(), vec![b.to_string()]))
            .collect(),
        ..Default::default()
    };
    let ctx = ProbeContext {
        data_dirs: vec![dir],
        catalogue,
        exe: Some(PathBuf::from(EXE)),
        deadline: Instant::now() + Duration::from_secs(10),
        ..wsl_vecprobe::probe::testing::context()
    };
    probe::engine::run(Arc::new(ctx), probes)
}

fn get<'a>(obs: &'a [Observation], id: &str) -> &'a Observation {
    obs.iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no {id} in {obs:#?}"))
}

/// Every entry under `dir`: relative path → (length, mtime).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            out.insert(
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                (m.len(), m.modified().unwrap()),
            );
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out
}

/// A child holding `flock(LOCK_EX)` on `path` through util-linux `flock -o … cat`; it lets go
/// when its stdin closes. Returns once the lock shows up in /proc/locks.
fn flock_holder(path: &Path) -> Option<std::process::Child> {
    let child = Command::new("flock")
        .arg("-o")
        .arg(path)
        .arg("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIP flock(1) holder: cannot run flock: {e}");
            return None;
        }
    };
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        let text = std::fs::read_to_string("/proc/locks").unwrap_or_default();
        let locks = probe::lockfiles::proc_locks::parse(&text);
        if locks
            .iter()
            .any(|l| l.pid == Some(child.id() as i32) && l.kind == "FLOCK")
        {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("flock(1) did not take the lock within 5 s");
}

#[test]
fn on_a_local_temp_dir_every_mmap_check_passes_and_every_lock_excludes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("keep.txt"), b"user data").unwrap();
    let before = snapshot(data.path());

    let start = Instant::now();
    let obs = run_probes(
        data.path(),
        &[],
        &[&probe::mmap::PROBE, &probe::locks::PROBE],
    );
    let took = start.elapsed();
    eprintln!("mmap + locks on {}: {took:?}", data.path().display());
    for o in &obs {
        eprintln!(
            "  {} {} {:?} {} {}ms {}",
            o.id,
            o.status.as_str(),
            o.errno,
            o.message,
            o.elapsed_ms,
            serde_json::Value::Object(o.values.clone())
        );
    }
    let target = data.path().display().to_string();
    for id in probe::mmap::IDS {
        let o = get(&obs, id);
        assert_eq!((o.status, &o.target), (Status::Pass, &target), "{o:#?}");
    }
    for id in ["lock.flock", "lock.fcntl", "lock.ofd"] {
        let o = get(&obs, id);
        assert_eq!(o.status, Status::Pass, "{o:#?}");
        assert_eq!(o.values["excludes"], true, "{o:#?}");
        assert_eq!(o.values["acquired_after_release"], true, "{o:#?}");
        assert!(
            o.values["holder_pid"]
                .as_u64()
                .is_some_and(|p| p != std::process::id() as u64)
        );
    }
    // /tmp here is ext4 or tmpfs, where flock and POSIX locks are independent.
    let conflict = get(&obs, "lock.flock_fcntl_conflict");
    assert_eq!(
        (conflict.status, conflict.values["conflict"].clone()),
        (Status::Pass, false.into()),
        "{conflict:#?}"
    );
    assert_eq!(obs.len(), probe::mmap::IDS.len() + probe::locks::IDS.len());
    assert!(took < Duration::from_millis(1000), "took {took:?}");

    probe::scratch::cleanup_all();
    assert_eq!(
        snapshot(data.path()),
        before,
        "the data dir changed outside the scratch dir"
    );
}

#[test]
fn a_nearly_full_tmpfs_makes_mmap_fill_die_by_sigbus_in_the_child_only() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: geteuid has no side effects.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIP a_nearly_full_tmpfs…: mounting a 1 MiB tmpfs needs root");
        return;
    }
    let mount_point = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "wsl-vecprobe-test"])
        .arg(mount_point.path())
        .status();
    if !matches!(mounted, Ok(s) if s.success()) {
        eprintln!("SKIP a_nearly_full_tmpfs…: mount -t tmpfs failed here ({mounted:?})");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount_point.path().to_path_buf());
    // Leave 128 KiB: room for each of the other checks' files (at most 64 KiB, removed after
    // each), not for the fill's 256 KiB of mapped pages.
    let filler = mount_point.path().join("filler");
    std::fs::write(&filler, vec![1u8; 896 * 1024]).unwrap();

    let obs = run_probes(mount_point.path(), &[], &[&probe::mmap::PROBE]);
    for o in &obs {
        eprintln!(
            "  {} {} {:?} {}",
            o.id,
            o.status.as_str(),
            o.errno,
            o.message
        );
    }
    for id in &probe::mmap::IDS[..5] {
        assert_eq!(get(&obs, id).status, Status::Pass, "{:#?}", get(&obs, id));
    }
    let fill = get(&obs, "mmap.fill");
    assert_eq!(
        (fill.status, fill.errno.as_deref()),
        (Status::Fail, Some("SIGBUS")),
        "{fill:#?}"
    );
    assert!(
        fill.message.contains("contained in a child process"),
        "{}",
        fill.message
    );
    probe::scratch::cleanup_all();
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(
        std::fs::read_dir(mount_point.path()).unwrap().count(),
        0,
        "scratch dir left on the tmpfs"
    );
}

#[test]
fn lock_files_held_by_other_processes_are_reported_with_their_pid_and_left_untouched() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let data = tempfile::tempdir().unwrap();
    let (flock_file, posix_file) = (data.path().join("LOCK"), data.path().join(".lock"));
    std::fs::write(&flock_file, b"").unwrap();
    std::fs::write(&posix_file, b"").unwrap();
    std::fs::create_dir(data.path().join("free.db")).unwrap();
    std::fs::write(data.path().join("free.db/LOCK"), b"x").unwrap();

    let Some(mut flock_child) = flock_holder(&flock_file) else {
        return;
    };
    let wal_dir = data.path().join("wal");
    std::fs::create_dir(&wal_dir).unwrap();
    let Some(mut dir_child) = flock_holder(&wal_dir) else {
        return;
    };
    let mut posix_child = Command::new(EXE)
        .args(["__worker", "lock-hold", "fcntl"])
        .arg(&posix_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reply = String::new();
    BufReader::new(posix_child.stdout.take().unwrap())
        .read_line(&mut reply)
        .unwrap();
    assert_eq!(reply.trim(), "locked");
    let before = snapshot(data.path());

    let lock_files = [
        ("LOCK", "milvus-lite"),
        (".lock", "qdrant-local"),
        ("free.db/LOCK", "milvus-lite"),
        ("absent/LOCK", "x"),
        ("wal", "qdrant"),
    ];
    let obs = run_probes(data.path(), &lock_files, &[&probe::lockfiles::PROBE]);
    for o in &obs {
        eprintln!(
            "  {} {} {}ms {} {}",
            o.id,
            o.status.as_str(),
            o.elapsed_ms,
            o.message,
            serde_json::Value::Object(o.values.clone())
        );
    }
    drop(flock_child.stdin.take());
    drop(posix_child.stdin.take());
    drop(dir_child.stdin.take());
    let _ = flock_child.wait();
    let _ = dir_child.wait();
    let _ = posix_child.wait();

    let flock = get(&obs, "lockfile:LOCK");
    assert_eq!(
        (flock.status, flock.values["held"].clone()),
        (Status::Fail, true.into()),
        "{flock:#?}"
    );
    assert_eq!(flock.values["holder_pid"], flock_child.id());
    assert_eq!(
        (
            flock.values["holder_command"].clone(),
            flock.values["lock_type"].clone()
        ),
        ("flock".into(), "flock".into())
    );
    assert!(
        flock
            .message
            .contains(&format!("in use by pid {} (flock)", flock_child.id())),
        "{}",
        flock.message
    );
    assert!(flock.message.contains("milvus-lite"), "{}", flock.message);

    let posix = get(&obs, "lockfile:.lock");
    assert_eq!(
        (posix.status, posix.values["lock_type"].clone()),
        (Status::Fail, "posix".into()),
        "{posix:#?}"
    );
    assert_eq!(posix.values["holder_pid"], posix_child.id());
    assert_eq!(posix.values["holder_command"], "wsl-vecprobe");
    assert!(
        posix.values["consulted"]
            .to_string()
            .contains("F_GETLK: conflicting lock"),
        "{posix:#?}"
    );

    // A directory locked with flock (Qdrant's WAL dir) is found through /proc/locks alone.
    let wal = get(&obs, "lockfile:wal");
    assert_eq!(
        (wal.status, wal.values["holder_pid"].clone()),
        (Status::Fail, dir_child.id().into()),
        "{wal:#?}"
    );
    assert!(
        wal.values["consulted"]
            .to_string()
            .contains("not a regular file"),
        "{wal:#?}"
    );

    let free = get(&obs, "lockfile:free.db/LOCK");
    assert_eq!(
        (
            free.status,
            free.values["exists"].clone(),
            free.values["held"].clone()
        ),
        (Status::Pass, true.into(), false.into())
    );
    let absent = get(&obs, "lockfile:absent/LOCK");
    assert_eq!(
        (absent.status, absent.values["exists"].clone()),
        (Status::Pass, false.into())
    );

    probe::scratch::cleanup_all();
    assert_eq!(
        snapshot(data.path()),
        before,
        "the probe changed the data dir"
    );
    assert!(!data.path().join("absent").exists());
}
