//! Data directory facts: absolute path, existence, writability, filesystem (statfs magic
//! and the mount table's longest matching mount point), class, read-only flag, free bytes.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Coarse filesystem class the backend rules reason about.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum FsClass {
    Local,
    WindowsDrive,
    WslShare,
    Network,
    Fuse,
    Tmpfs,
    Overlay,
    Unknown,
}

impl FsClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FsClass::Local => "local",
            FsClass::WindowsDrive => "windows-drive",
            FsClass::WslShare => "wsl-share",
            FsClass::Network => "network",
            FsClass::Fuse => "fuse",
            FsClass::Tmpfs => "tmpfs",
            FsClass::Overlay => "overlay",
            FsClass::Unknown => "unknown",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FsFacts {
    /// Filesystem type (`ext4`, `9p`, `drvfs`, `virtiofs`, `tmpfs`, `fuse.bindfs`, `ntfs`, …).
    #[serde(rename = "type")]
    pub fs_type: String,
    pub class: FsClass,
    /// Mount source (`C:\`, `drvfsC0`, `/dev/sdc`, `tmpfs`).
    pub source: Option<String>,
    pub mount_point: Option<String>,
    pub options: Option<String>,
    pub read_only: Option<bool>,
    pub free_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    /// statfs `f_type` magic, hex (`0xef53`), when statfs ran on this machine.
    pub statfs_magic: Option<String>,
    /// Where the type came from: `statfs+mountinfo`, `mountinfo`, `mounts`, `GetVolumeInformation`, …
    pub source_of_facts: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DataDirFacts {
    /// The path as the user gave it.
    pub given: String,
    /// Absolute path.
    pub path: PathBuf,
    pub exists: bool,
    pub is_dir: bool,
    /// From access(W_OK): None when not checked (recorded root, missing path).
    pub writable: Option<bool>,
    pub filesystem: FsFacts,
}
