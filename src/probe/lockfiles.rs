//! Probe `lockfiles`: whether a backend's lock file in a data dir (`LOCK`, `.lock`, …, from
//! the catalogue) is held by another process right now, and by whom. Read-only: the file is
//! never created, written or locked; holders are found in `/proc/locks` (Linux, matched by
//! device and inode) and corroborated with the non-intrusive `fcntl(F_GETLK)`.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::observation::Observation;
use std::time::{Duration, Instant};

pub mod proc_locks;

pub static PROBE: ProbeDef = ProbeDef {
    name: "lockfiles",
    kind: ProbeKind::Locks,
    scope: Scope::DataDir,
    timeout: Duration::from_millis(1500),
    plan,
    run,
    in_agent: true,
};

fn id_of(relative: &str) -> String {
    format!("lockfile:{relative}")
}

fn plan(ctx: &ProbeContext, dir: Option<&DataDir>) -> Vec<Planned> {
    let Some(dir) = dir else { return Vec::new() };
    ctx.catalogue
        .lock_files
        .iter()
        .map(|(rel, _)| Planned::new(id_of(rel), dir.target()))
        .collect()
}

fn run(ctx: &ProbeContext, dir: Option<&DataDir>, sink: &Sink) {
    let Some(dir) = dir else { return };
    for (rel, backends) in &ctx.catalogue.lock_files {
        let start = Instant::now();
        sink.emit(observe(ctx, dir, rel, backends).elapsed_since(start));
    }
}

/// Who holds a lock on the file, as far as this host lets us see.
#[derive(Clone, Debug, PartialEq)]
pub struct Holder {
    pub pid: Option<i32>,
    pub command: Option<String>,
    /// `flock`, `posix`, `ofd`, `lease`, …
    pub lock_type: String,
    /// `write` or `read`.
    pub mode: String,
    /// Where it was seen: `/proc/locks`, `/proc/locks (inode, open fd)`, `F_GETLK`.
    pub evidence: String,
}

/// What looking for a holder found: the holder (if any) and what each source said.
#[derive(Clone, Debug, Default)]
pub struct Lookup {
    pub holder: Option<Holder>,
    /// Sources consulted, with their result (`/proc/locks: no entry`, `F_GETLK: EACCES`…).
    pub consulted: Vec<String>,
}

fn observe(ctx: &ProbeContext, dir: &DataDir, rel: &str, backends: &[String]) -> Observation {
    let id = id_of(rel);
    let target = dir.target();
    if ctx.host_root.is_recorded() {
        return Observation::skipped(
            id,
            target,
            "not run: recorded host (--host-root); lock holders can only be seen live",
        );
    }
    if !dir.facts.filesystem.answered() {
        // A stat on a hung mount would leave this thread inside the filesystem request.
        return Observation::skipped(
            id,
            target,
            "not run: the data dir's filesystem did not answer stat/statfs before the deadline",
        );
    }
    let path = dir.facts.path.join(rel);
    let used_by = if backends.is_empty() {
        String::new()
    } else {
        format!("; lock file of {}", backends.join(", "))
    };
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Observation::pass(id, target, format!("{rel} does not exist{used_by}"))
                .with("exists", false)
                .with("held", false)
                .with("backends", backends.to_vec());
        }
        Err(e) => {
            let mut o = Observation::from_io_error(id, target, &format!("stat {rel}"), &e);
            o.status = crate::observation::Status::Error;
            return o.with("backends", backends.to_vec());
        }
    };
    let lookup = find_holder(ctx, &path, &meta);
    let Some(lookup) = lookup else {
        return Observation::skipped(
            id,
            target,
            format!("{rel} exists; this OS offers no way to see its lock holder"),
        )
        .with("exists", true)
        .with("backends", backends.to_vec());
    };
    let consulted = lookup.consulted.join("; ");
    let o = match &lookup.holder {
        Some(h) => {
            let who = match (h.pid, &h.command) {
                (Some(pid), Some(cmd)) => format!("pid {pid} ({cmd})"),
                (Some(pid), None) => format!("pid {pid}"),
                (None, _) => "a process whose pid the kernel does not report".to_string(),
            };
            Observation::fail(
                &id,
                &target,
                format!(
                    "{rel} is in use by {who}: {} {} lock{used_by}",
                    h.lock_type, h.mode
                ),
            )
            .with("held", true)
            .with("holder_pid", h.pid)
            .with("holder_command", h.command.clone())
            .with("lock_type", h.lock_type.clone())
            .with("mode", h.mode.clone())
            .with("evidence", h.evidence.clone())
        }
        None => Observation::pass(
            &id,
            &target,
            format!("{rel} exists and no other process holds a lock on it ({consulted})"),
        )
        .with("held", false),
    };
    o.with("exists", true)
        .with("consulted", lookup.consulted)
        .with("backends", backends.to_vec())
}

#[cfg(unix)]
pub(crate) fn find_holder(
    ctx: &ProbeContext,
    path: &std::path::Path,
    meta: &std::fs::Metadata,
) -> Option<Lookup> {
    use std::os::unix::fs::MetadataExt;
    let mut lookup = Lookup::default();
    if cfg!(target_os = "linux") {
        match ctx.host_root.read("/proc/locks") {
            Some(text) => {
                let locks = proc_locks::parse(&text);
                let (major, minor) = crate::platform::unix::locks::dev_major_minor(meta.dev());
                let command = |pid| proc_locks::command_of(pid, &|f| ctx.host_root.read(f));
                let has_open = |pid| proc_locks::has_open(pid, path);
                lookup.holder =
                    proc_locks::holder_of(&locks, (major, minor, meta.ino()), &command, &has_open);
                lookup.consulted.push(format!(
                    "/proc/locks: {}",
                    if lookup.holder.is_some() {
                        "held"
                    } else {
                        "no entry"
                    }
                ));
            }
            None => lookup.consulted.push("/proc/locks: unreadable".into()),
        }
    }
    if !meta.is_file() {
        // Opening a FIFO or device could block or have effects; directories are covered by
        // /proc/locks alone (flock on a directory fd, as Qdrant does for its WAL dir).
        lookup
            .consulted
            .push("F_GETLK: not run (not a regular file)".into());
        return Some(lookup);
    }
    let getlk =
        std::fs::File::open(path).and_then(|f| crate::platform::unix::locks::posix_lock_holder(&f));
    match getlk {
        Ok(None) => lookup
            .consulted
            .push("F_GETLK: no conflicting POSIX/OFD lock".into()),
        Ok(Some(g)) => {
            lookup.consulted.push(format!(
                "F_GETLK: conflicting lock, pid {}",
                g.pid.map_or("unknown".into(), |p| p.to_string())
            ));
            if lookup.holder.is_none() {
                lookup.holder = Some(Holder {
                    pid: g.pid,
                    command: g
                        .pid
                        .and_then(|p| proc_locks::command_of(p, &|f| ctx.host_root.read(f))),
                    lock_type: if g.pid.is_some() { "posix" } else { "ofd" }.into(),
                    mode: if g.write { "write" } else { "read" }.into(),
                    evidence: "F_GETLK".into(),
                });
            }
        }
        Err(e) => lookup
            .consulted
            .push(format!("F_GETLK: {}", crate::errno::io_error_name(&e))),
    }
    Some(lookup)
}

/// Windows: no lock table names holders, but a read through a fully shared, read-only
/// handle is refused (ERROR_LOCK_VIOLATION) inside a byte range another handle has locked
/// exclusively — which tells "held" without taking or disturbing the lock. The holder's
/// pid is not reported by Windows.
#[cfg(windows)]
pub(crate) fn find_holder(
    _ctx: &ProbeContext,
    path: &std::path::Path,
    meta: &std::fs::Metadata,
) -> Option<Lookup> {
    let mut lookup = Lookup::default();
    if !meta.is_file() {
        lookup
            .consulted
            .push("read probe: not run (not a regular file)".into());
        return Some(lookup);
    }
    match crate::platform::windows::locks::locked_by_other(path) {
        Ok(Some(true)) => {
            lookup
                .consulted
                .push("read of byte 0: ERROR_LOCK_VIOLATION (locked by another handle)".into());
            lookup.holder = Some(Holder {
                pid: None,
                command: None,
                lock_type: "LockFileEx".into(),
                mode: "exclusive".into(),
                evidence: "ReadFile at offset 0 refused with ERROR_LOCK_VIOLATION".into(),
            });
        }
        Ok(Some(false)) => lookup
            .consulted
            .push("read of byte 0: allowed (no exclusive lock there)".into()),
        Ok(None) => lookup
            .consulted
            .push("read probe: file is empty, a lock on it cannot be seen by reading".into()),
        Err(e) => lookup
            .consulted
            .push(format!("read probe: {}", crate::errno::io_error_name(&e))),
    }
    Some(lookup)
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn find_holder(
    _ctx: &ProbeContext,
    _path: &std::path::Path,
    _meta: &std::fs::Metadata,
) -> Option<Lookup> {
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::host::HostRoot;
    use crate::observation::Status;
    use crate::probe::CatalogueInputs;

    /// A context with one data dir (no scratch, no exe) and two catalogue lock files.
    pub(crate) fn ctx_for(path: &std::path::Path, root: HostRoot) -> (ProbeContext, DataDir) {
        let dir = crate::probe::testing::local_data_dir(path);
        let catalogue = CatalogueInputs {
            lock_files: vec![
                ("LOCK".into(), vec!["milvus-lite".into()]),
                (".lock".into(), vec!["qdrant-local".into()]),
            ],
            ..Default::default()
        };
        let ctx = ProbeContext {
            host_root: root,
            data_dirs: vec![dir.clone()],
            catalogue,
            ..crate::probe::testing::context()
        };
        (ctx, dir)
    }

    #[test]
    fn a_missing_lock_file_passes_and_is_not_created() {
        let tmp = tempfile::tempdir().unwrap();
        let (ctx, dir) = ctx_for(tmp.path(), HostRoot::live());
        let planned = plan(&ctx, Some(&dir));
        assert_eq!(
            planned.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["lockfile:LOCK", "lockfile:.lock"]
        );
        let o = observe(&ctx, &dir, "LOCK", &["milvus-lite".into()]);
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.values["exists"], false);
        assert!(!tmp.path().join("LOCK").exists());
    }

    #[cfg(unix)]
    #[test]
    fn an_unlocked_lock_file_passes_and_is_left_unchanged() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = tmp.path().join("LOCK");
        std::fs::write(&lock, b"pid").unwrap();
        let before = std::fs::metadata(&lock).unwrap().modified().unwrap();
        let (ctx, dir) = ctx_for(tmp.path(), HostRoot::live());
        let o = observe(&ctx, &dir, "LOCK", &["milvus-lite".into()]);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(
            (o.values["exists"].clone(), o.values["held"].clone()),
            (true.into(), false.into())
        );
        assert_eq!(std::fs::read(&lock).unwrap(), b"pid");
        assert_eq!(
            std::fs::metadata(&lock).unwrap().modified().unwrap(),
            before
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_ofd_lock_held_by_this_process_is_found_in_proc_locks() {
        use crate::platform::unix::locks::{LockCall, try_lock_exclusive};
        let tmp = tempfile::tempdir().unwrap();
        let lock = tmp.path().join("LOCK");
        let f = std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .unwrap();
        try_lock_exclusive(&f, LockCall::Ofd).unwrap();
        let (ctx, dir) = ctx_for(tmp.path(), HostRoot::live());
        let o = observe(&ctx, &dir, "LOCK", &["milvus-lite".into()]);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert_eq!(o.values["held"], true);
        assert_eq!(o.values["lock_type"], "ofd");
        assert!(
            o.message.contains("lock file of milvus-lite"),
            "{}",
            o.message
        );
    }

    #[test]
    fn a_recorded_host_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let (ctx, dir) = ctx_for(tmp.path(), HostRoot::recorded(tmp.path()));
        let o = observe(&ctx, &dir, "LOCK", &[]);
        assert_eq!(o.status, Status::Skipped);
        assert!(o.message.contains("recorded host"));
    }
}
