//! `HostRoot`: where host files are read from — `/` on a live run, or a recorded tree
//! (`--host-root DIR`, as kubeadm's `--rootfs`) holding `proc/…`, `etc/…` and friends.
//!
//! A recorded tree is untrusted input. Every host path is resolved inside it as in a chroot
//! (an absolute symlink restarts at the tree's root, `..` stops there), so no symlink or `..`
//! reaches a file of the machine running the tool; files are read only when regular, at most
//! `MAX_FILE_BYTES`, each within `READ_LIMIT` and the run's deadline (a FIFO, a device or a
//! hung mount is "unreadable", never waited on).

use crate::bounded::ReadError;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// The largest host file read (`/proc/self/mountinfo` of a busy host is a few hundred KiB).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// How long one host file may take to read.
pub const READ_LIMIT: Duration = Duration::from_secs(1);
/// Symlinks followed while resolving one path (Linux's own limit is 40).
const MAX_SYMLINKS: usize = 40;

#[derive(Clone, Debug)]
pub struct HostRoot {
    base: PathBuf,
    recorded: bool,
    /// Reads end by this instant (the run's deadline), when set.
    deadline: Option<Instant>,
}

impl HostRoot {
    /// The live machine.
    pub fn live() -> Self {
        HostRoot {
            base: PathBuf::from("/"),
            recorded: false,
            deadline: None,
        }
    }
    /// A live host whose files sit under `dir` (tests: what a live host without some file does).
    #[cfg(test)]
    pub fn live_at(dir: impl Into<PathBuf>) -> Self {
        HostRoot {
            base: dir.into(),
            recorded: false,
            deadline: None,
        }
    }
    /// A recorded host tree.
    pub fn recorded(dir: impl Into<PathBuf>) -> Self {
        HostRoot {
            base: dir.into(),
            recorded: true,
            deadline: None,
        }
    }
    /// The same root, whose reads all end by `deadline`.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }
    pub fn is_recorded(&self) -> bool {
        self.recorded
    }
    pub fn base(&self) -> &Path {
        &self.base
    }
    /// The on-disk path of a host path such as `/proc/version`: on a recorded tree, with
    /// every symlink resolved inside the tree (the result is always under `base`).
    pub fn path(&self, host_path: &str) -> PathBuf {
        if !self.recorded {
            return self.base.join(host_path.trim_start_matches('/'));
        }
        resolve_inside(&self.base, Path::new(host_path))
    }
    /// Read a host file's bytes: a regular file, at most MAX_FILE_BYTES, within READ_LIMIT
    /// and the deadline.
    pub fn read_bytes(&self, host_path: &str) -> Result<Vec<u8>, ReadError> {
        let limit = match self.deadline {
            Some(d) => READ_LIMIT.min(d.saturating_duration_since(Instant::now())),
            None => READ_LIMIT,
        };
        if limit.is_zero() {
            return Err(ReadError {
                errno: "ETIMEDOUT".into(),
                message: "not read: the run's deadline has passed".into(),
            });
        }
        if !self.recorded && is_kernel_file(host_path) {
            return crate::bounded::read_capped(&self.path(host_path), MAX_FILE_BYTES);
        }
        crate::bounded::read_regular_file(&self.path(host_path), MAX_FILE_BYTES, limit)
    }
    /// Read a host file as text (lossy UTF-8). None when missing or unreadable.
    pub fn read(&self, host_path: &str) -> Option<String> {
        self.read_bytes(host_path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }
    pub fn exists(&self, host_path: &str) -> bool {
        self.path(host_path).exists()
    }
    /// Names of the entries of a host directory (empty when missing).
    pub fn list(&self, host_path: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path(host_path))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// A live host's file that the kernel itself answers (this process's own `/proc/self/*`
/// files, `/proc/sys`, top-level `/proc` files such as `meminfo`, a process's `cgroup` list
/// (read from its task struct, never its memory: unlike `cmdline` it cannot wait on a stuck
/// process), the cgroup filesystem): no
/// disk or network is behind it, so no hung mount can hold the read, and it is read on the
/// calling thread — also when the host's task limit leaves no room for a helper thread.
fn is_kernel_file(host_path: &str) -> bool {
    let one_name = |rest: &str| !rest.is_empty() && !rest.contains('/');
    if let Some(rest) = host_path.strip_prefix("/proc/self/") {
        return one_name(rest);
    }
    if let Some(rest) = host_path.strip_prefix("/proc/") {
        let pid_cgroup = rest
            .split_once('/')
            .is_some_and(|(pid, file)| pid.bytes().all(|b| b.is_ascii_digit()) && file == "cgroup");
        return rest.starts_with("sys/")
            || pid_cgroup
            || (one_name(rest) && !rest.bytes().all(|b| b.is_ascii_digit()));
    }
    cfg!(target_os = "linux") && host_path.starts_with("/sys/fs/cgroup/")
}

/// `host_path` resolved under `base` with chroot semantics: `..` never climbs above `base`,
/// an absolute symlink target starts again at `base`, a relative one at the link's directory.
/// Past MAX_SYMLINKS links (a loop) the rest is joined unresolved, still under `base`.
fn resolve_inside(base: &Path, host_path: &Path) -> PathBuf {
    // Components still to walk, last first.
    let mut todo: Vec<OsString> = Vec::new();
    push_components(&mut todo, host_path);
    let mut done: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            done.pop();
            continue;
        }
        let candidate = join(base, &done).join(&name);
        let is_link = std::fs::symlink_metadata(&candidate)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        if !is_link || links >= MAX_SYMLINKS {
            done.push(name);
            continue;
        }
        links += 1;
        let Ok(target) = std::fs::read_link(&candidate) else {
            done.push(name);
            continue;
        };
        if target.has_root() {
            done.clear();
        }
        push_components(&mut todo, &target);
    }
    join(base, &done)
}

/// Push `path`'s normal and `..` components onto `todo` so that the first pops first.
fn push_components(todo: &mut Vec<OsString>, path: &Path) {
    let parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    todo.extend(parts.into_iter().rev());
}

fn join(base: &Path, parts: &[OsString]) -> PathBuf {
    let mut p = base.to_path_buf();
    for part in parts {
        p.push(part);
    }
    p
}

/// A recorded host tree holding these files (host path, text), for tests.
#[cfg(test)]
pub fn recorded_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_the_kernel_answers_from_its_own_state_are_read_without_a_thread() {
        for path in [
            "/proc/self/mountinfo",
            "/proc/meminfo",
            "/proc/sys/vm/max_map_count",
            "/proc/1/cgroup",
        ] {
            assert!(is_kernel_file(path), "{path}");
        }
        for path in [
            "/proc/1/cmdline",
            "/proc/1",
            "/proc/self/task/1/children",
            "/etc/os-release",
            "/proc/x1/cgroup",
        ] {
            assert!(!is_kernel_file(path), "{path}");
        }
    }
    #[test]
    fn maps_host_paths_under_the_recorded_root() {
        let r = HostRoot::recorded("/x/y");
        assert_eq!(r.path("/proc/version"), PathBuf::from("/x/y/proc/version"));
        assert_eq!(
            r.path("etc/os-release"),
            PathBuf::from("/x/y/etc/os-release")
        );
        assert!(r.is_recorded());
        assert!(!HostRoot::live().is_recorded());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_and_dotdots_resolve_inside_the_tree() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().join("root");
        std::fs::create_dir_all(base.join("proc/self")).unwrap();
        std::fs::create_dir_all(base.join("etc")).unwrap();
        let link =
            |target: &str, at: &str| std::os::unix::fs::symlink(target, base.join(at)).unwrap();
        link("/etc/shadow", "proc/version");
        link("../../../../../../outside", "etc/os-release");
        link("self/mountinfo", "proc/mounts");
        link("loop", "etc/loop");
        let r = HostRoot::recorded(&base);
        assert_eq!(r.path("/proc/version"), base.join("etc/shadow"));
        assert_eq!(r.path("/etc/os-release"), base.join("outside"));
        assert_eq!(r.path("/proc/mounts"), base.join("proc/self/mountinfo"));
        assert_eq!(r.path("/../../etc/hosts"), base.join("etc/hosts"));
        assert!(r.path("/etc/loop").starts_with(&base));
        assert_eq!(r.read("/proc/version"), None);
    }
}
