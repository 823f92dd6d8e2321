//! `HostRoot`: where host files are read from — `/` on a live run, or a recorded tree
//! (`--host-root DIR`, as kubeadm's `--rootfs`) holding `proc/…`, `etc/…` and friends.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct HostRoot {
    base: PathBuf,
    recorded: bool,
}

impl HostRoot {
    /// The live machine.
    pub fn live() -> Self {
        HostRoot {
            base: PathBuf::from("/"),
            recorded: false,
        }
    }
    /// A recorded host tree.
    pub fn recorded(dir: impl Into<PathBuf>) -> Self {
        HostRoot {
            base: dir.into(),
            recorded: true,
        }
    }
    pub fn is_recorded(&self) -> bool {
        self.recorded
    }
    pub fn base(&self) -> &Path {
        &self.base
    }
    /// The on-disk path of a host path such as `/proc/version`.
    pub fn path(&self, host_path: &str) -> PathBuf {
        self.base.join(host_path.trim_start_matches('/'))
    }
    /// Read a host file as text (lossy UTF-8). None when missing or unreadable.
    pub fn read(&self, host_path: &str) -> Option<String> {
        std::fs::read(self.path(host_path))
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

#[cfg(test)]
mod tests {
    use super::*;
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
}
