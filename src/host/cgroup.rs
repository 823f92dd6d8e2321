//! The cgroup this process runs in for one controller, read from files: which cgroup
//! (`/proc/self/cgroup`), where its hierarchy is mounted (`/proc/self/mountinfo`: mount point
//! and the mount's root), and, at each level from the process's cgroup up to the mount, the
//! limit and what is in use under it. For `memory`: v2 `memory.max` / v1
//! `memory.limit_in_bytes`, and the working set (usage minus inactive file pages, as the
//! kubelet and `docker stats` count it). For `pids`: `pids.max` and `pids.current` (tasks:
//! processes and threads; `docker run --pids-limit`, a Kubernetes pod's pid limit, systemd's
//! `TasksMax=`). The tightest level is what a new process here (an embedded backend, a server
//! started from this shell) can still use before the kernel refuses it (fork/clone EAGAIN) or
//! the OOM killer ends it. Reads go through `HostRoot`, so recorded hosts work.

use super::HostRoot;
use super::mounts::unescape;

/// v1 reports "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 on 4 KiB pages); any
/// limit this large is none.
const V1_UNLIMITED_FROM: u64 = 1 << 62;

/// A cgroup controller whose limit a backend can run into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    /// Bytes: limit and working set.
    Memory,
    /// Tasks (processes and threads): `pids.max` and `pids.current`.
    Pids,
}

impl Controller {
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
        }
    }
    /// The limit file at one level, for this cgroup version.
    pub fn limit_file(self, version: u8) -> &'static str {
        match (self, version) {
            (Controller::Memory, 2) => "memory.max",
            (Controller::Memory, _) => "memory.limit_in_bytes",
            (Controller::Pids, _) => "pids.max",
        }
    }
}

/// Where a limit was read, for a message: `cgroup v2 memory.max at DIR`, with `(a parent of
/// OWN)` when the level is above the process's own cgroup.
pub fn limit_source(controller: Controller, version: u8, dir: &str, own_dir: &str) -> String {
    let file = controller.limit_file(version);
    if dir == own_dir {
        format!("cgroup v{version} {file} at {dir}")
    } else {
        format!("cgroup v{version} {file} at {dir} (a parent of {own_dir})")
    }
}

/// One level of the hierarchy that has a limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    /// The host path of the cgroup directory.
    pub dir: String,
    /// Bytes (memory) or tasks (pids).
    pub limit: u64,
    /// In use under it: memory's working set (usage minus inactive file pages, reclaimable
    /// page cache), pids' current tasks; None when unreadable.
    pub used: Option<u64>,
}

impl Level {
    /// What is left under this level's limit (the limit itself when usage is unknown).
    pub fn available(&self) -> u64 {
        self.limit.saturating_sub(self.used.unwrap_or(0))
    }
}

/// What the files said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hierarchy {
    /// A memory hierarchy is mounted and the process's cgroup was found in it. `tightest` is
    /// the limited level with the least available memory, None when no level is limited.
    Found {
        version: u8,
        /// The host path of the process's own cgroup directory.
        own_dir: String,
        tightest: Option<Level>,
    },
    /// The controller is not visible here (why), so a limit set from outside cannot be read.
    NotVisible(String),
}

/// Read one controller's cgroup facts under `root`.
pub fn read(root: &HostRoot, controller: Controller) -> Hierarchy {
    let name = controller.name();
    let Some(membership) = root.read("/proc/self/cgroup") else {
        return Hierarchy::NotVisible("/proc/self/cgroup is unreadable".into());
    };
    let Some(mountinfo) = root.read("/proc/self/mountinfo") else {
        return Hierarchy::NotVisible("/proc/self/mountinfo is unreadable".into());
    };
    let mounts = cgroup_mounts(&mountinfo);
    // cgroup v2 when its mount offers the controller, else a v1 hierarchy holding it.
    if let Some(path) = membership_path(&membership, |c| c.is_empty())
        && let Some(m) = mounts.iter().find(|m| m.version == 2)
        && root
            .read(&join(&m.mount_point, "cgroup.controllers"))
            .is_some_and(|c| c.split_whitespace().any(|w| w == name))
    {
        return walk(root, controller, 2, &own_dir(m, &path), &m.mount_point);
    }
    if let Some(path) = membership_path(&membership, |c| c.split(',').any(|n| n == name))
        && let Some(m) = mounts
            .iter()
            .find(|m| m.version == 1 && m.controllers.iter().any(|c| c == name))
    {
        return walk(root, controller, 1, &own_dir(m, &path), &m.mount_point);
    }
    Hierarchy::NotVisible(format!(
        "no {name} cgroup controller is mounted here (no cgroup2 mount offering `{name}`, no v1 `{name}` hierarchy)"
    ))
}

#[derive(Debug, PartialEq, Eq)]
struct CgroupMount {
    version: u8,
    /// The cgroup the mount shows at its mount point (mountinfo field 4).
    root: String,
    mount_point: String,
    /// v1: the controllers the hierarchy holds (its super options).
    controllers: Vec<String>,
}

/// cgroup and cgroup2 lines of a mountinfo.
fn cgroup_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let sep = f.iter().position(|x| *x == "-")?;
            if sep < 6 || f.len() < sep + 2 {
                return None;
            }
            let version = match f[sep + 1] {
                "cgroup2" => 2,
                "cgroup" => 1,
                _ => return None,
            };
            let supers = f.get(sep + 3).copied().unwrap_or("");
            Some(CgroupMount {
                version,
                root: unescape(f[3]),
                mount_point: unescape(f[4]),
                controllers: supers.split(',').map(str::to_string).collect(),
            })
        })
        .collect()
}

/// The cgroup path of the `/proc/self/cgroup` line whose controller list matches.
fn membership_path(membership: &str, controllers: impl Fn(&str) -> bool) -> Option<String> {
    membership.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_id, list, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers(list).then(|| path.trim().to_string())
    })
}

/// The directory of cgroup `path` under a mount that shows cgroup `m.root` at its mount point.
/// A path outside the mount's root (seen from another cgroup namespace) is the mount point.
fn own_dir(m: &CgroupMount, path: &str) -> String {
    let root = m.root.trim_end_matches('/');
    let rel = match path.strip_prefix(root) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => "",
    };
    if rel.split('/').any(|c| c == "..") {
        return m.mount_point.clone();
    }
    let rel = rel.trim_matches('/');
    if rel.is_empty() {
        m.mount_point.clone()
    } else {
        join(&m.mount_point, rel)
    }
}

fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

/// Every level from `own` up to `top` (the mount point), keeping the tightest limited one.
fn walk(root: &HostRoot, controller: Controller, version: u8, own: &str, top: &str) -> Hierarchy {
    let mut dir = own.to_string();
    let mut tightest: Option<Level> = None;
    for _ in 0..64 {
        if let Some(level) = read_level(root, controller, version, &dir)
            && tightest
                .as_ref()
                .is_none_or(|t| level.available() < t.available())
        {
            tightest = Some(level);
        }
        if dir.trim_end_matches('/') == top.trim_end_matches('/') {
            break;
        }
        match dir.rfind('/') {
            Some(i) if i > 0 && dir[..i].len() >= top.len() => dir.truncate(i),
            _ => break,
        }
    }
    Hierarchy::Found {
        version,
        own_dir: own.to_string(),
        tightest,
    }
}

/// The level at `dir` when it has a limit.
fn read_level(root: &HostRoot, controller: Controller, version: u8, dir: &str) -> Option<Level> {
    let limit_file = controller.limit_file(version);
    if controller == Controller::Pids {
        let limit: u64 = match root.read(&join(dir, limit_file))?.trim() {
            "max" => return None,
            v => v.parse().ok()?,
        };
        let used = root
            .read(&join(dir, "pids.current"))
            .and_then(|u| u.trim().parse().ok());
        return Some(Level {
            dir: dir.to_string(),
            limit,
            used,
        });
    }
    let (usage_file, inactive_key) = if version == 2 {
        ("memory.current", "inactive_file")
    } else {
        ("memory.usage_in_bytes", "total_inactive_file")
    };
    let limit = root.read(&join(dir, limit_file))?;
    let limit: u64 = match limit.trim() {
        "max" => return None,
        v => v.parse().ok()?,
    };
    if version == 1 && limit >= V1_UNLIMITED_FROM {
        return None;
    }
    let usage: Option<u64> = root
        .read(&join(dir, usage_file))
        .and_then(|u| u.trim().parse().ok());
    let inactive = root
        .read(&join(dir, "memory.stat"))
        .and_then(|s| stat_field(&s, inactive_key))
        .unwrap_or(0);
    Some(Level {
        dir: dir.to_string(),
        limit,
        used: usage.map(|u| u.saturating_sub(inactive)),
    })
}

fn stat_field(stat: &str, key: &str) -> Option<u64> {
    stat.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
#[path = "cgroup_tests.rs"]
mod tests;
