//! `limits.pids`: how many more tasks (processes and threads) a process started here can create
//! before the kernel refuses `fork`/`clone`/`pthread_create` with EAGAIN — the least of what is
//! left under the tightest cgroup `pids` limit around this process (`docker run --pids-limit`,
//! a Kubernetes pod's pid limit, systemd's `TasksMax=`; see `host::cgroup`) and under this
//! user's RLIMIT_NPROC where the kernel enforces it (a real uid other than 0 without
//! CAP_SYS_RESOURCE or CAP_SYS_ADMIN). Backends start threads by the dozen (gRPC, tokio and
//! OpenMP pools): their measured floors are judged on `available`. This tool's own tasks are in
//! use while it reads and gone when it exits, so they are not counted against a backend.

use super::status_field;
use crate::host::HostRoot;
use crate::host::cgroup::{self, Controller, Hierarchy};
use crate::observation::Observation;
use serde_json::Value;

pub const ID: &str = "limits.pids";
const TARGET: &str = "host";
/// How many processes of this tool's own tree are counted at most.
const MAX_OWN_PROCESSES: usize = 256;

/// The cgroup side: the tightest limit and what is used under it besides this tool.
struct CgroupSide {
    source: String,
    limit: u64,
    in_use: Option<u64>,
}

impl CgroupSide {
    fn available(&self) -> u64 {
        self.limit.saturating_sub(self.in_use.unwrap_or(0))
    }
}

/// The RLIMIT_NPROC side, when it is finite.
struct RlimitSide {
    soft: u64,
    /// Whether the kernel enforces it for this process (why not, otherwise).
    enforced: Result<(), &'static str>,
    /// Tasks of this real user besides this tool, when counted.
    in_use: Option<u64>,
}

pub fn observe(root: &HostRoot) -> Observation {
    if cfg!(windows) && !root.is_recorded() {
        return Observation::pass(
            ID,
            TARGET,
            "Windows has no per-user or per-tree limit on threads (a job object can cap active processes, not threads)",
        )
        .with("available", Value::Null)
        .with("limited_by", "nothing")
        .with("logical_cpus", opt_u32(logical_cpus(root)));
    }
    let linux = root.is_recorded() || cfg!(target_os = "linux");
    let live_linux = linux && !root.is_recorded();
    // This tool's own tasks are counted (one /proc read per task) only where a limit binds:
    // under a cgroup pids limit, or an enforced RLIMIT_NPROC.
    let mut own = None;
    let (cgroup, cgroup_note) = if linux {
        let mut side = match cgroup_side(root) {
            Ok(side) => side,
            Err(why) => return Observation::error(ID, TARGET, why),
        };
        if live_linux && side.0.is_some() {
            // This tool's threads come and go while `pids.current` is read: it is read again
            // between two counts, and the fewer is subtracted, so the tool's own use is never
            // overstated (which would leave a backend more room than there is).
            let before = own_tree_tasks();
            side = match cgroup_side(root) {
                Ok(side) => side,
                Err(why) => return Observation::error(ID, TARGET, why),
            };
            let counted = before.min(own_tree_tasks());
            if let Some(c) = side.0.as_mut() {
                c.in_use = c.in_use.map(|u| u.saturating_sub(counted));
            }
            own = Some(counted);
        }
        side
    } else {
        (
            None,
            format!("{} has no pids cgroups", std::env::consts::OS),
        )
    };
    let rlimit = if root.is_recorded() {
        None
    } else {
        rlimit_side(&mut own, live_linux)
    };
    render(cgroup, cgroup_note, rlimit, own, root.is_recorded())
        .with("logical_cpus", opt_u32(logical_cpus(root)))
}

fn opt_u32(v: Option<u32>) -> Value {
    v.map_or(Value::Null, Value::from)
}

/// The CPU count thread pools are sized by (floors grow with it): on a live Unix the online
/// CPUs (`sysconf(_SC_NPROCESSORS_ONLN)`, what `os.cpu_count()` and C++'s
/// `hardware_concurrency` return), or this process's CPU affinity if larger; a recorded
/// host's from its `/proc/cpuinfo`.
fn logical_cpus(root: &HostRoot) -> Option<u32> {
    if root.is_recorded() {
        let text = root.read("/proc/cpuinfo")?;
        return crate::host::cpu::from_cpuinfo(&text, std::env::consts::ARCH, "").logical_cpus;
    }
    let affinity = std::thread::available_parallelism()
        .ok()
        .and_then(|n| u32::try_from(n.get()).ok());
    #[cfg(unix)]
    return crate::platform::unix::limits::online_cpus().max(affinity);
    #[cfg(not(unix))]
    affinity
}

fn render(
    cgroup: Option<CgroupSide>,
    cgroup_note: String,
    rlimit: Option<RlimitSide>,
    own: Option<u64>,
    recorded: bool,
) -> Observation {
    let by_cgroup = cgroup.as_ref().map(CgroupSide::available);
    let by_rlimit = rlimit
        .as_ref()
        .filter(|r| r.enforced.is_ok())
        .map(|r| r.soft.saturating_sub(r.in_use.unwrap_or(0)));
    let (available, limited_by) = match (by_cgroup, by_rlimit) {
        (Some(c), Some(r)) if r < c => (Some(r), "rlimit"),
        (Some(c), _) => (Some(c), "cgroup"),
        (None, Some(r)) => (Some(r), "rlimit"),
        (None, None) => (None, "nothing"),
    };
    let mut parts = vec![match available {
        Some(a) => format!("{a} more tasks (processes and threads) can be started here"),
        None => "nothing limits the tasks a process started here can create".to_string(),
    }];
    match &cgroup {
        Some(c) => parts.push(format!(
            "{}: limit {}, {} in use besides this tool",
            c.source,
            c.limit,
            c.in_use
                .map_or("usage not readable".into(), |u| u.to_string())
        )),
        None => parts.push(cgroup_note),
    }
    match &rlimit {
        Some(r) => parts.push(match (r.enforced, r.in_use) {
            (Ok(()), Some(u)) => format!(
                "RLIMIT_NPROC {}, {u} tasks of this user besides this tool",
                r.soft
            ),
            (Ok(()), None) => format!("RLIMIT_NPROC {} (this user's tasks not counted)", r.soft),
            (Err(why), _) => format!("RLIMIT_NPROC {} not enforced: {why}", r.soft),
        }),
        None if recorded => {
            parts.push("RLIMIT_NPROC is this machine's, not the recorded host's: not read".into())
        }
        None => parts.push("RLIMIT_NPROC unlimited".into()),
    }
    let opt = |v: Option<u64>| v.map_or(Value::Null, Value::from);
    Observation::pass(ID, TARGET, parts.join("; "))
        .with("available", opt(available))
        .with("limited_by", limited_by)
        .with("cgroup_limit", opt(cgroup.as_ref().map(|c| c.limit)))
        .with("cgroup_in_use", opt(cgroup.as_ref().and_then(|c| c.in_use)))
        .with(
            "cgroup_source",
            cgroup
                .as_ref()
                .map_or(Value::Null, |c| Value::from(c.source.clone())),
        )
        .with("rlimit_soft", opt(rlimit.as_ref().map(|r| r.soft)))
        .with(
            "rlimit_enforced",
            rlimit
                .as_ref()
                .map_or(Value::Null, |r| Value::from(r.enforced.is_ok())),
        )
        .with("rlimit_in_use", opt(rlimit.as_ref().and_then(|r| r.in_use)))
        .with("own_tasks", opt(own))
}

/// The tightest cgroup pids limit and `pids.current` under it (this tool included). Err when a
/// live Linux host's own `/proc/self/cgroup` cannot be read (no /proc): then nothing about a
/// pids limit was observed, and "nothing limits it" would be a guess.
fn cgroup_side(root: &HostRoot) -> Result<(Option<CgroupSide>, String), String> {
    Ok(match cgroup::read(root, Controller::Pids) {
        Hierarchy::Found {
            version,
            own_dir,
            tightest: Some(level),
        } => {
            let side = CgroupSide {
                source: cgroup::limit_source(Controller::Pids, version, &level.dir, &own_dir),
                limit: level.limit,
                in_use: level.used,
            };
            (Some(side), String::new())
        }
        Hierarchy::Found {
            version, own_dir, ..
        } => (
            None,
            format!("no cgroup pids limit (cgroup v{version} {own_dir} and its parents)"),
        ),
        Hierarchy::NotVisible(why) if !root.is_recorded() && !root.exists("/proc/self/cgroup") => {
            return Err(format!("not observed: {why}"));
        }
        Hierarchy::NotVisible(why) => (None, format!("no pids limit could be read: {why}")),
    })
}

/// RLIMIT_NPROC, and where the kernel enforces it on a live Linux, this user's tasks besides
/// this tool's own (`own`, counted here if not yet).
#[cfg(unix)]
fn rlimit_side(own: &mut Option<u64>, live_linux: bool) -> Option<RlimitSide> {
    use crate::platform::unix::limits::{Rlimit, get};
    let soft = get(Rlimit::Nproc).ok()?.0?;
    let enforced = nproc_enforced();
    // Counting this user's tasks reads /proc; only worth it where the limit binds.
    let in_use = match enforced {
        Ok(()) if live_linux => {
            let own = *own.get_or_insert_with(own_tree_tasks);
            user_tasks().map(|n| n.saturating_sub(own))
        }
        _ => None,
    };
    Some(RlimitSide {
        soft,
        enforced,
        in_use,
    })
}

#[cfg(not(unix))]
fn rlimit_side(_own: &mut Option<u64>, _live_linux: bool) -> Option<RlimitSide> {
    None
}

/// Linux exempts the root user and tasks with CAP_SYS_RESOURCE or CAP_SYS_ADMIN from
/// RLIMIT_NPROC (kernel/fork.c, copy_process). Elsewhere (macOS, the BSDs) it counts processes,
/// not threads, so it says nothing about the thread pools the floors measure.
#[cfg(unix)]
fn nproc_enforced() -> Result<(), &'static str> {
    if !cfg!(target_os = "linux") {
        return Err("on this OS it counts processes, not the threads a backend starts");
    }
    if nix::unistd::getuid().is_root() {
        return Err("the real user is root, which the kernel exempts");
    }
    #[cfg(target_os = "linux")]
    {
        const CAP_SYS_ADMIN: u32 = 21;
        const CAP_SYS_RESOURCE: u32 = 24;
        let effective = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| status_field(&s, "CapEff:").map(str::to_string))
            .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
            .unwrap_or(0);
        if effective & (1 << CAP_SYS_ADMIN | 1 << CAP_SYS_RESOURCE) != 0 {
            return Err(
                "this process has CAP_SYS_RESOURCE or CAP_SYS_ADMIN, which the kernel exempts",
            );
        }
    }
    Ok(())
}

/// `Threads:` of one process, from `/proc/PID/status`.
fn threads_of(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field(&status, "Threads:")?.parse().ok()
}

/// Tasks of this tool's own process tree (itself, the agent, their children): in use while it
/// reads, gone when it exits. Children are found through `/proc/PID/task/TID/children`. The
/// walk starts at `/proc/self`, not at this process's pid: inside a pid namespace whose `/proc`
/// is the parent's, `getpid()` names another process there (pids in `children` files are the
/// mounted `/proc`'s own).
fn own_tree_tasks() -> u64 {
    own_tree()
        .iter()
        .map(|pid| threads_of(pid).unwrap_or(0))
        .sum()
}

/// This process (`self`) and its descendants, as `/proc` names them.
fn own_tree() -> Vec<String> {
    let mut todo = vec!["self".to_string()];
    let mut tree = Vec::new();
    while let Some(pid) = todo.pop() {
        if tree.len() >= MAX_OWN_PROCESSES {
            break;
        }
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                todo.extend(children.split_whitespace().map(str::to_string));
            }
        }
        tree.push(pid);
    }
    tree
}

/// Tasks of this process's real user, summed over `/proc` (what RLIMIT_NPROC counts).
#[cfg(unix)]
fn user_tasks() -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::getuid().as_raw();
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        // The directory's owner is the process's effective uid: a cheap first filter.
        if entry.metadata().map(|m| m.uid()).ok() != Some(uid) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let real_uid = status_field(&status, "Uid:").and_then(|u| u.split_whitespace().next());
        if real_uid == Some(uid.to_string().as_str()) {
            total += status_field(&status, "Threads:")
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(1);
        }
    }
    Some(total)
}

#[cfg(test)]
#[path = "pids_tests.rs"]
mod tests;
