//! Probe `fileops`: the plain file operations backends' storage engines rely on, done for real
//! in the data dir's private scratch dir — create+write+fsync, rename over an existing file,
//! rename-if-absent (LanceDB commits), hard links, 1 MiB preallocation, whether chmod and
//! ownership are kept (`permissions`) — plus statvfs of the data dir. Every file it makes is
//! removed again.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, ScratchError, Sink};
use crate::observation::{Observation, Status};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

pub static PROBE: ProbeDef = ProbeDef {
    name: "fileops",
    kind: ProbeKind::Filesystem,
    scope: Scope::Filesystem,
    timeout: Duration::from_millis(1500),
    plan,
    run,
    in_agent: true,
};

const CREATE: &str = "file.create";
const RENAME_REPLACE: &str = "file.rename_replace";
const RENAME_NOREPLACE: &str = "file.rename_noreplace";
const LINK: &str = "file.link";
const PREALLOCATE: &str = "file.preallocate";
const FREE_SPACE: &str = "file.free_space";

/// The operations that need a file in the scratch dir, in emission order after `file.create`.
const NEED_SCRATCH: [&str; 5] = [
    RENAME_REPLACE,
    RENAME_NOREPLACE,
    LINK,
    PREALLOCATE,
    permissions::ID,
];

/// Bytes written (and fsync'd) by `file.create`.
const CREATE_BYTES: usize = 4096;
/// Bytes `file.preallocate` asks for: enough to see ENOSPC on a nearly full disk, small enough
/// to be instant where fallocate works — also on tmpfs, which zeroes every page it reserves
/// (32 MiB there took 13 ms of a 31 ms check). How much room each backend needs is what the
/// free-space floors measure.
pub const PREALLOCATE_BYTES: u64 = 1 << 20;

fn plan(_ctx: &ProbeContext, dir: Option<&DataDir>) -> Vec<Planned> {
    let Some(dir) = dir else { return Vec::new() };
    let target = dir.target();
    [CREATE]
        .into_iter()
        .chain(NEED_SCRATCH)
        .chain([FREE_SPACE])
        .map(|id| Planned::new(id, target.clone()))
        .collect()
}

fn run(ctx: &ProbeContext, dir: Option<&DataDir>, sink: &Sink) {
    let Some(dir) = dir else { return };
    let deadline = (Instant::now() + PROBE.timeout).min(ctx.deadline);
    let target = dir.target();
    let _turn = super::space::take_turn(super::space::turn_key(&ctx.data_dirs, dir), deadline);
    match &dir.scratch {
        Err(e) => no_scratch(e, &target, sink),
        Ok(scratch) => {
            let created = create(scratch, &target);
            let create_status = created.status;
            let create_errno = created.errno.clone();
            sink.emit(created);
            for id in NEED_SCRATCH {
                if Instant::now() >= deadline {
                    return; // the engine reports the rest as timeout
                }
                let obs = if create_status != Status::Pass {
                    let why = create_errno.as_deref().unwrap_or("see file.create");
                    Observation::skipped(id, &target, format!("file.create failed: {why}"))
                } else {
                    operation(id, scratch, &target)
                };
                sink.emit(obs);
            }
        }
    }
    if Instant::now() < deadline {
        sink.emit(free_space(dir, &target));
    }
}

/// No scratch dir: `file.create` carries the reason (fail with its errno when creating it
/// failed), the operations that need a file are skipped.
fn no_scratch(e: &ScratchError, target: &str, sink: &Sink) {
    sink.emit(e.observation(CREATE, target, e.message.clone()));
    let why = e.errno.as_deref().unwrap_or(&e.message);
    for id in NEED_SCRATCH {
        sink.emit(Observation::skipped(
            id,
            target,
            format!("no scratch dir: {why}"),
        ));
    }
}

fn operation(id: &str, scratch: &Path, target: &str) -> Observation {
    match id {
        RENAME_REPLACE => rename_replace(scratch, target),
        RENAME_NOREPLACE => rename_noreplace(scratch, target),
        LINK => link(scratch, target),
        permissions::ID => permissions::check(scratch, target),
        _ => preallocate(scratch, target),
    }
}

/// Create a new file, write it, fsync it.
fn create(scratch: &Path, target: &str) -> Observation {
    let start = Instant::now();
    let path = scratch.join("create.dat");
    let result = write_new(&path, &[0x5a; CREATE_BYTES], true);
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(()) => Observation::pass(
            CREATE,
            target,
            format!(
                "created, wrote and {} a {CREATE_BYTES}-byte file",
                CALLS.synced
            ),
        )
        .with("bytes", CREATE_BYTES),
        Err((what, e)) => Observation::from_io_error(CREATE, target, what, &e),
    }
    .elapsed_since(start)
}

/// rename(2) onto a name that exists: must replace it atomically.
fn rename_replace(scratch: &Path, target: &str) -> Observation {
    let start = Instant::now();
    let (src, dst) = (scratch.join("replace-src"), scratch.join("replace-dst"));
    let obs = match write_pair(&src, &dst) {
        Err((what, e)) => Observation::from_io_error(RENAME_REPLACE, target, what, &e),
        Ok(()) => match std::fs::rename(&src, &dst) {
            Err(e) => Observation::from_io_error(RENAME_REPLACE, target, CALLS.rename, &e),
            Ok(()) => match std::fs::read(&dst) {
                Ok(b) if b == b"src" && !src.exists() => Observation::pass(
                    RENAME_REPLACE,
                    target,
                    format!("{} replaced an existing file", CALLS.rename),
                ),
                Ok(_) => Observation::fail(
                    RENAME_REPLACE,
                    target,
                    format!(
                        "{} returned success but the destination does not hold the source's content",
                        CALLS.rename
                    ),
                ),
                Err(e) => {
                    Observation::from_io_error(RENAME_REPLACE, target, "read after rename", &e)
                }
            },
        },
    };
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&dst);
    obs.elapsed_since(start)
}

/// The calls the messages name, as the platform spells them (std's `sync_all`, `rename` and
/// `hard_link` are these calls).
struct Calls {
    sync: &'static str,
    synced: &'static str,
    rename: &'static str,
    link: &'static str,
}
#[cfg(windows)]
const CALLS: Calls = Calls {
    sync: "FlushFileBuffers",
    synced: "flushed (FlushFileBuffers)",
    rename: "MoveFileExW(MOVEFILE_REPLACE_EXISTING)",
    link: "CreateHardLinkW",
};
#[cfg(not(windows))]
const CALLS: Calls = Calls {
    sync: "fsync",
    synced: "fsync'd",
    rename: "rename()",
    link: "link()",
};

/// The no-replace rename as a reader would recognise it.
#[cfg(windows)]
const NOREPLACE: &str = "MoveFileExW(without MOVEFILE_REPLACE_EXISTING)";
#[cfg(not(windows))]
const NOREPLACE: &str = "renameat2(RENAME_NOREPLACE)";
/// The free-space and preallocation calls.
#[cfg(windows)]
const SPACE_CALLS: (&str, &str) = (
    "GetDiskFreeSpaceExW",
    "SetFileInformationByHandle(FileAllocationInfo)",
);
#[cfg(not(windows))]
const SPACE_CALLS: (&str, &str) = ("statvfs", "fallocate");

/// renameat2(RENAME_NOREPLACE) (Windows: MoveFileExW without MOVEFILE_REPLACE_EXISTING): a
/// new name must work, an existing one must be refused (EEXIST).
fn rename_noreplace(scratch: &Path, target: &str) -> Observation {
    let start = Instant::now();
    let (a, b, existing) = (
        scratch.join("noreplace-a"),
        scratch.join("noreplace-b"),
        scratch.join("noreplace-existing"),
    );
    let obs = match write_pair(&a, &existing) {
        Err((what, e)) => Observation::from_io_error(RENAME_NOREPLACE, target, what, &e),
        Ok(()) => match sys::rename_noreplace(&a, &b) {
            None => Observation::skipped(
                RENAME_NOREPLACE,
                target,
                "renameat2(RENAME_NOREPLACE) is Linux-only; not implemented on this OS yet",
            ),
            Some(Err(e)) => Observation::from_io_error(
                RENAME_NOREPLACE,
                target,
                &format!("{NOREPLACE} to a new name"),
                &e,
            ),
            Some(Ok(())) => onto_existing(&b, &existing, target),
        },
    };
    for p in [&a, &b, &existing] {
        let _ = std::fs::remove_file(p);
    }
    obs.elapsed_since(start)
}

fn onto_existing(from: &Path, existing: &Path, target: &str) -> Observation {
    match sys::rename_noreplace(from, existing) {
        Some(Err(e)) if crate::errno::meaning(&crate::errno::io_error_name(&e)) == "EEXIST" => {
            Observation::pass(
                RENAME_NOREPLACE,
                target,
                format!("{NOREPLACE} renamed to a new name and refused an existing one (EEXIST)"),
            )
            .with("refused_existing", true)
        }
        Some(Err(e)) => Observation::from_io_error(
            RENAME_NOREPLACE,
            target,
            &format!("{NOREPLACE} onto an existing name (expected EEXIST)"),
            &e,
        )
        .with("refused_existing", false),
        _ => Observation::fail(
            RENAME_NOREPLACE,
            target,
            format!("{NOREPLACE} replaced an existing file instead of refusing"),
        )
        .with("refused_existing", false),
    }
}

/// link(2): a second name for a file, readable through it.
fn link(scratch: &Path, target: &str) -> Observation {
    let start = Instant::now();
    let (a, b) = (scratch.join("link-a"), scratch.join("link-b"));
    let obs = match write_new(&a, b"link", false) {
        Err((what, e)) => Observation::from_io_error(LINK, target, what, &e),
        Ok(()) => match std::fs::hard_link(&a, &b) {
            Err(e) => Observation::from_io_error(LINK, target, CALLS.link, &e),
            Ok(()) => match std::fs::read(&b) {
                Ok(content) if content == b"link" => Observation::pass(
                    LINK,
                    target,
                    format!("{} made a second name for a file", CALLS.link),
                ),
                Ok(_) => Observation::fail(
                    LINK,
                    target,
                    format!(
                        "{} returned success but the new name does not show the file's content",
                        CALLS.link
                    ),
                ),
                Err(e) => Observation::from_io_error(LINK, target, "read through the link", &e),
            },
        },
    };
    let _ = std::fs::remove_file(&a);
    let _ = std::fs::remove_file(&b);
    obs.elapsed_since(start)
}

/// fallocate PREALLOCATE_BYTES (1 MiB), then delete the file at once.
fn preallocate(scratch: &Path, target: &str) -> Observation {
    let start = Instant::now();
    let path = scratch.join("preallocate.dat");
    let obs = match std::fs::File::create_new(&path) {
        Err(e) => Observation::from_io_error(PREALLOCATE, target, "create", &e),
        Ok(file) => match sys::preallocate(&file, PREALLOCATE_BYTES) {
            None => Observation::skipped(
                PREALLOCATE,
                target,
                "preallocation not implemented on this OS yet",
            ),
            Some(Ok(())) => Observation::pass(
                PREALLOCATE,
                target,
                format!(
                    "{} reserved {PREALLOCATE_BYTES} bytes (file deleted at once)",
                    SPACE_CALLS.1
                ),
            ),
            Some(Err(e)) => Observation::from_io_error(PREALLOCATE, target, SPACE_CALLS.1, &e),
        },
    };
    let _ = std::fs::remove_file(&path);
    obs.with("bytes_requested", PREALLOCATE_BYTES)
        .elapsed_since(start)
}

/// statvfs of the data dir itself (needs no scratch dir): the figures taken at setup, before
/// this tool created anything there (its scratch dir, lock and map files would otherwise be
/// counted as the host's use: a floor-sized filesystem read a MiB short), else a live call.
fn free_space(dir: &DataDir, target: &str) -> Observation {
    let start = Instant::now();
    if !dir.facts.exists {
        // Either a recorded host's path, or a filesystem that did not answer stat in time.
        let why = if !dir.facts.filesystem.answered() {
            "not run: the filesystem did not answer stat/statfs before the deadline"
        } else {
            "the data dir does not exist on this machine"
        };
        return Observation::skipped(FREE_SPACE, target, why);
    }
    let fs = &dir.facts.filesystem;
    if let (Some(free), Some(total)) = (fs.free_bytes, fs.total_bytes) {
        let inodes = match (fs.free_inodes, fs.total_inodes) {
            (Some(f), Some(t)) => format!("; {f} of {t} inodes"),
            _ => "; no fixed inode table".into(),
        };
        let opt = |v: Option<u64>| v.map_or(serde_json::Value::Null, Into::into);
        return Observation::pass(
            FREE_SPACE,
            target,
            format!(
                "{}: {free} of {total} bytes available{inodes} (at setup, before this tool created anything here)",
                SPACE_CALLS.0
            ),
        )
        .with("free_bytes", free)
        .with("total_bytes", total)
        .with("free_inodes", opt(fs.free_inodes))
        .with("total_inodes", opt(fs.total_inodes))
        .elapsed_since(start);
    }
    match sys::space(&dir.facts.path) {
        None => Observation::skipped(FREE_SPACE, target, "statvfs not implemented on this OS yet"),
        Some(Ok((free, total))) => Observation::pass(
            FREE_SPACE,
            target,
            format!("{}: {free} of {total} bytes available", SPACE_CALLS.0),
        )
        .with("free_bytes", free)
        .with("total_bytes", total)
        .with("free_inodes", serde_json::Value::Null)
        .with("total_inodes", serde_json::Value::Null),
        Some(Err(e)) => Observation::from_io_error(FREE_SPACE, target, SPACE_CALLS.0, &e),
    }
    .elapsed_since(start)
}

type StepResult = Result<(), (&'static str, std::io::Error)>;

fn write_new(path: &Path, content: &[u8], fsync: bool) -> StepResult {
    let mut f = std::fs::File::create_new(path).map_err(|e| ("create", e))?;
    f.write_all(content).map_err(|e| ("write", e))?;
    if fsync {
        f.sync_all().map_err(|e| (CALLS.sync, e))?;
    }
    Ok(())
}

fn write_pair(src: &Path, dst: &Path) -> StepResult {
    write_new(src, b"src", false)?;
    write_new(dst, b"dst", false)
}

/// The OS-specific calls; `None` means "not implemented on this OS".
pub(super) mod sys {
    use std::io;
    use std::path::Path;

    #[cfg(target_os = "linux")]
    pub fn rename_noreplace(from: &Path, to: &Path) -> Option<io::Result<()>> {
        Some(crate::platform::unix::fileops::rename_noreplace(from, to))
    }
    #[cfg(windows)]
    pub fn rename_noreplace(from: &Path, to: &Path) -> Option<io::Result<()>> {
        Some(crate::platform::windows::fileops::rename_noreplace(
            from, to,
        ))
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    pub fn rename_noreplace(_from: &Path, _to: &Path) -> Option<io::Result<()>> {
        None
    }

    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "dragonfly"))]
    pub fn preallocate(file: &std::fs::File, len: u64) -> Option<io::Result<()>> {
        Some(crate::platform::unix::fileops::preallocate(file, len))
    }
    #[cfg(windows)]
    pub fn preallocate(file: &std::fs::File, len: u64) -> Option<io::Result<()>> {
        Some(crate::platform::windows::fileops::preallocate(file, len))
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "dragonfly",
        windows
    )))]
    pub fn preallocate(_file: &std::fs::File, _len: u64) -> Option<io::Result<()>> {
        None
    }

    /// (free bytes for unprivileged users, total bytes).
    #[cfg(unix)]
    pub fn space(path: &Path) -> Option<io::Result<(u64, u64)>> {
        Some(crate::platform::unix::fileops::space(path).map(|s| (s.free_bytes, s.total_bytes)))
    }
    #[cfg(windows)]
    pub fn space(path: &Path) -> Option<io::Result<(u64, u64)>> {
        Some(crate::platform::windows::fileops::space(path))
    }
    #[cfg(not(any(unix, windows)))]
    pub fn space(_path: &Path) -> Option<io::Result<(u64, u64)>> {
        None
    }
}

mod permissions;
#[cfg(all(test, target_os = "linux"))]
mod tests;
