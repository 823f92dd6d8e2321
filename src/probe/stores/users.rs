//! Who has a discovered store in use: a lock on one of its lock files (`/proc/locks` by device
//! and inode, `F_GETLK`; the same lookup as the `lockfiles` probe), the live pid in its pid
//! file, or a process with an open fd or its working directory inside it (`/proc/*/fd`,
//! `/proc/*/cwd`, one bounded scan). This process never counts.

use super::discover::Store;
use crate::probe::ProbeContext;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// None on Windows for a lock holder: Windows does not name who holds a LockFileEx lock.
    pub pid: Option<i32>,
    pub command: Option<String>,
    /// How it was seen (`flock write lock on LOCK (/proc/locks)`, `open fd`, …).
    pub evidence: String,
}

/// Stores whose users take no lock the kernel reports (SQLite between transactions, Lance,
/// Redis, chroma's SQLite): for these an open file inside them names the user. For the
/// others only a lock or a live pid file counts: a shell or an editor with a file open in a
/// milvus-lite or qdrant store does not keep a second client out.
const OPEN_FILES_SAY_IN_USE: &[&str] = &["sqlite", "chroma", "lancedb", "redis"];

/// For each store (same order), the other process using it, if one was seen.
pub fn find(ctx: &ProbeContext, stores: &[Store], deadline: Instant) -> Vec<Option<User>> {
    // This process and the tool it serves (the same, unless this is the agent process).
    let me = [
        std::process::id() as i32,
        crate::probe::agent::tool_pid() as i32,
    ];
    let mut out: Vec<Option<User>> = stores
        .iter()
        .map(|s| by_lock(ctx, s, &me).or_else(|| by_pid_file(ctx, s, &me)))
        .collect();
    let open: Vec<(usize, PathBuf)> = out
        .iter()
        .enumerate()
        .filter(|(i, u)| u.is_none() && OPEN_FILES_SAY_IN_USE.contains(&stores[*i].kind))
        .map(|(i, _)| (i, stores[i].path.clone()))
        .collect();
    if !open.is_empty() && cfg!(target_os = "linux") {
        let paths: Vec<(PathBuf, bool)> = open
            .iter()
            .map(|(i, p)| (p.clone(), stores[*i].kind == "redis"))
            .collect();
        for (k, user) in scan_proc(ctx, &paths, &me, deadline)
            .into_iter()
            .enumerate()
        {
            if user.is_some() {
                out[open[k].0] = user;
            }
        }
    }
    out
}

fn by_lock(ctx: &ProbeContext, store: &Store, me: &[i32; 2]) -> Option<User> {
    for lock in &store.locks {
        let Ok(meta) = std::fs::metadata(lock) else {
            continue;
        };
        let lookup = crate::probe::lockfiles::find_holder(ctx, lock, &meta)?;
        // Unix names the holder (or it is this process, or an OFD lock nobody can name);
        // Windows never names one, and a lock it sees is held through another handle.
        if let Some(h) = lookup.holder
            && let Some(pid) = match h.pid {
                Some(p) if !me.contains(&p) => Some(Some(p)),
                None if cfg!(windows) => Some(None),
                _ => None,
            }
        {
            let name = lock
                .file_name()
                .map(|n| crate::host::shown(std::path::Path::new(n)));
            return Some(User {
                pid,
                command: h.command,
                evidence: format!(
                    "{} {} lock on {} ({})",
                    h.lock_type,
                    h.mode,
                    name.unwrap_or_default(),
                    h.evidence
                ),
            });
        }
    }
    None
}

/// PostgreSQL's `postmaster.pid`: line 1 is the postmaster's pid; the file outlives a crash,
/// so only a live process with that pid counts.
fn by_pid_file(ctx: &ProbeContext, store: &Store, me: &[i32; 2]) -> Option<User> {
    let text = std::fs::read_to_string(store.pid_file.as_ref()?).ok()?;
    let pid: i32 = text.lines().next()?.trim().parse().ok()?;
    if me.contains(&pid) || pid <= 0 || !alive(pid) {
        return None;
    }
    Some(User {
        pid: Some(pid),
        command: command(ctx, pid),
        evidence: "live pid in postmaster.pid".into(),
    })
}

#[cfg(windows)]
fn alive(pid: i32) -> bool {
    crate::platform::windows::process::alive(pid as u32)
}

#[cfg(not(windows))]
fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn command(ctx: &ProbeContext, pid: i32) -> Option<String> {
    crate::probe::lockfiles::proc_locks::command_of(pid, &|f| ctx.host_root.read(f))
}

/// One pass over `/proc/<pid>/{cwd,fd/*}`: the first other process found inside each path.
/// `paths`: (store, whether a working directory equal to it counts: Redis chdirs to its `dir`).
/// The tool, its agent and their children (the Python run, the workers) never count,
/// whatever their cwd.
fn scan_proc(
    ctx: &ProbeContext,
    paths: &[(PathBuf, bool)],
    me: &[i32; 2],
    deadline: Instant,
) -> Vec<Option<User>> {
    let wanted: Vec<PathBuf> = paths
        .iter()
        .map(|(p, _)| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let mut out = vec![None; paths.len()];
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    let inside = |link: &Path| wanted.iter().position(|w| link.starts_with(w));
    for entry in procs.flatten() {
        if Instant::now() >= deadline || out.iter().all(Option::is_some) {
            break;
        }
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if me.contains(&pid) || parent_of(pid).is_some_and(|p| me.contains(&p)) {
            continue;
        }
        let mut seen = |i: usize, how: &str| {
            if out[i].is_none() {
                out[i] = Some(User {
                    pid: Some(pid),
                    command: command(ctx, pid),
                    evidence: how.to_string(),
                });
            }
        };
        if let Ok(cwd) = std::fs::read_link(entry.path().join("cwd"))
            && let Some(i) = wanted.iter().position(|w| *w == cwd)
            && paths[i].1
        {
            seen(i, "its working directory (/proc/PID/cwd)");
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path())
                && let Some(i) = inside(&link)
            {
                seen(i, "open file inside it (/proc/PID/fd)");
            }
        }
    }
    out
}

/// The parent pid from `/proc/<pid>/stat` (the field after the parenthesised command).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}
