//! Data directory facts: absolute path, existence, writability, filesystem (statfs magic
//! and the mount table's longest matching mount point), class, read-only flag, free bytes.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A path in a report: escaped where it is not valid Unicode (see `crate::host::shown`).
fn serialize_shown<S: serde::Serializer>(path: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::shown(path))
}

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
    /// Inodes an unprivileged user may still create, and the filesystem's inode table; absent
    /// where it has no fixed table (Btrfs, NTFS) or statvfs did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_inodes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_inodes: Option<u64>,
    /// statfs `f_type` magic, hex (`0xef53`), when statfs ran on this machine.
    pub statfs_magic: Option<String>,
    /// Where the type came from: `statfs+mountinfo`, `mountinfo`, `mounts`, `GetVolumeInformation`, …
    pub source_of_facts: String,
}

/// `source_of_facts` of a data dir whose filesystem did not answer stat/statfs in time.
pub const DID_NOT_ANSWER: &str =
    "timeout: the filesystem did not answer stat/statfs before the deadline";

impl FsFacts {
    /// What is known of a filesystem that did not answer (a dead or hung mount).
    pub fn did_not_answer() -> Self {
        FsFacts {
            fs_type: "unknown".into(),
            class: FsClass::Unknown,
            source: None,
            mount_point: None,
            options: None,
            read_only: None,
            free_bytes: None,
            total_bytes: None,
            free_inodes: None,
            total_inodes: None,
            statfs_magic: None,
            source_of_facts: DID_NOT_ANSWER.into(),
        }
    }

    pub fn answered(&self) -> bool {
        self.source_of_facts != DID_NOT_ANSWER
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DataDirFacts {
    /// The path as the user gave it.
    pub given: String,
    /// Absolute path, as the OS has it (a non-UTF-8 name is kept, and shown escaped).
    #[serde(serialize_with = "serialize_shown")]
    pub path: PathBuf,
    pub exists: bool,
    pub is_dir: bool,
    /// From access(W_OK): None when not checked (recorded root, missing path).
    pub writable: Option<bool>,
    pub filesystem: FsFacts,
}

use super::HostRoot;
use super::mounts::{self, MountEntry, MountTable};
use std::path::{Component, Path};

/// Facts for several data dirs, reading the mount table once.
pub fn collect_data_dirs(root: &HostRoot, given: &[String]) -> Vec<DataDirFacts> {
    let paths: Vec<std::path::PathBuf> = given.iter().map(Into::into).collect();
    collect_data_dir_paths(root, &paths)
}

/// The same for paths as the OS gave them (a non-UTF-8 name stays as it is; it is shown
/// escaped, see `crate::host::shown`).
pub fn collect_data_dir_paths(root: &HostRoot, given: &[std::path::PathBuf]) -> Vec<DataDirFacts> {
    let table = if cfg!(windows) && !root.is_recorded() {
        None
    } else {
        mounts::read_table(root)
    };
    given
        .iter()
        .map(|g| collect_data_dir_at(root, g, table.as_ref()))
        .collect()
}

/// Facts for one data dir. On a live host: existence, access(W_OK), statfs, and the mount
/// table entry the path lives on. Under a recorded root only the recorded mount table is
/// consulted (existence is still checked on this machine, but nothing else is taken from it).
pub fn collect_data_dir(root: &HostRoot, given: &str, table: Option<&MountTable>) -> DataDirFacts {
    collect_data_dir_at(root, Path::new(given), table)
}

fn collect_data_dir_at(
    root: &HostRoot,
    given_path: &Path,
    table: Option<&MountTable>,
) -> DataDirFacts {
    let given = super::shown(given_path);
    let given = given.as_str();
    // A recorded host is a Linux one: its paths stay POSIX paths on Windows too (joining
    // `/mnt/c/x` to a Windows current dir would give `Z:/mnt/c/x`).
    let recorded_posix = cfg!(windows) && root.is_recorded() && given.starts_with('/');
    let path = if recorded_posix {
        std::path::PathBuf::from(posix_normal(given))
    } else {
        super::absolute(given_path)
    };
    let meta = std::fs::metadata(&path).ok();
    let exists = meta.is_some();
    let is_dir = meta.is_some_and(|m| m.is_dir());
    let live = !root.is_recorded();
    #[cfg(windows)]
    if live {
        return DataDirFacts {
            given: given.into(),
            filesystem: windows_fs_facts(&path),
            path,
            exists,
            is_dir,
            writable: None,
        };
    }
    // The mount table names resolved paths: resolve symlinks when the path is live.
    let lookup = if recorded_posix {
        path.clone()
    } else if live && exists {
        std::fs::canonicalize(&path).unwrap_or_else(|_| lexically_normal(&path))
    } else {
        lexically_normal(&path)
    };
    // Mount points are in `shown` form (`\xNN` for bytes that are not UTF-8).
    let entry = table.and_then(|t| mounts::longest_mount_for(&super::shown(&lookup), &t.entries));
    let format = table.map(|t| t.format).unwrap_or("mountinfo");
    let live_checks = if live && exists {
        LiveChecks::run(&path)
    } else {
        LiveChecks::default()
    };
    let mut filesystem = fs_facts(entry, format, &live_checks);
    if live_checks.erofs {
        filesystem.read_only = Some(true);
    }
    DataDirFacts {
        given: given.into(),
        path,
        exists,
        is_dir,
        writable: live_checks.writable,
        filesystem,
    }
}

/// What statfs and access(W_OK) said about a live path.
#[derive(Default)]
struct LiveChecks {
    magic: Option<u64>,
    magic_name: Option<String>,
    free_bytes: Option<u64>,
    total_bytes: Option<u64>,
    free_inodes: Option<u64>,
    total_inodes: Option<u64>,
    read_only: Option<bool>,
    writable: Option<bool>,
    /// access(W_OK) failed with EROFS.
    erofs: bool,
}

impl LiveChecks {
    #[cfg(unix)]
    fn run(path: &Path) -> Self {
        use crate::platform::unix::statfs;
        let mut checks = LiveChecks::default();
        if let Ok(st) = statfs::stat(path) {
            checks.magic = st.magic;
            checks.magic_name = st.type_name;
            checks.free_bytes = Some(st.free_bytes);
            checks.total_bytes = Some(st.total_bytes);
            checks.free_inodes = st.free_inodes;
            checks.total_inodes = st.total_inodes;
            checks.read_only = Some(st.read_only);
        }
        if let Ok((writable, errno)) = statfs::writable(path) {
            checks.writable = Some(writable);
            checks.erofs = errno.as_deref() == Some("EROFS");
        }
        checks
    }

    #[cfg(not(unix))]
    fn run(_path: &Path) -> Self {
        LiveChecks::default()
    }
}

/// Combine the mount-table entry and statfs: the type comes from the mount table (it tells
/// 9p/drvfs/virtiofs apart), the magic corroborates it; when the two disagree statfs wins,
/// since it describes the path itself.
fn fs_facts(entry: Option<&MountEntry>, format: &str, live: &LiveChecks) -> FsFacts {
    let magic_hex = live.magic.map(|m| format!("{m:#x}"));
    let from_statfs_only = |type_name: Option<&str>, source_of_facts: String| {
        let fs_type = type_name.unwrap_or("unknown").to_string();
        FsFacts {
            class: mounts::classify(&fs_type, "", ""),
            fs_type,
            source: None,
            mount_point: None,
            options: None,
            read_only: live.read_only,
            free_bytes: live.free_bytes,
            total_bytes: live.total_bytes,
            free_inodes: live.free_inodes,
            total_inodes: live.total_inodes,
            statfs_magic: magic_hex.clone(),
            source_of_facts,
        }
    };
    let Some(e) = entry else {
        let what = if live.read_only.is_some() {
            "statfs"
        } else {
            "none"
        };
        return from_statfs_only(live.magic_name.as_deref(), what.to_string());
    };
    #[cfg(unix)]
    if let Some(name) = live.magic_name.as_deref()
        && !crate::platform::unix::statfs::type_matches_magic(&e.fs_type, name)
    {
        let why = format!(
            "statfs ({format} entry {} type {} disagrees with the magic)",
            e.mount_point, e.fs_type
        );
        return from_statfs_only(Some(name), why);
    }
    let source_of_facts = if live.read_only.is_some() {
        format!("statfs+{format}")
    } else {
        format.to_string()
    };
    FsFacts {
        fs_type: e.fs_type.clone(),
        class: mounts::classify(&e.fs_type, &e.source, &e.options),
        source: Some(e.source.clone()),
        mount_point: Some(e.mount_point.clone()),
        options: Some(e.options.clone()),
        read_only: live.read_only.or(Some(e.read_only)),
        free_bytes: live.free_bytes,
        total_bytes: live.total_bytes,
        free_inodes: live.free_inodes,
        total_inodes: live.total_inodes,
        statfs_magic: magic_hex,
        source_of_facts,
    }
}

/// `/a/./b/../c` → `/a/c` for a POSIX path given as a string, on any OS.
#[cfg_attr(not(windows), allow(dead_code))]
fn posix_normal(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `/a/./b/../c` → `/a/c`, without touching the filesystem.
fn lexically_normal(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Class of a Windows path from its prefix alone (no volume query yet): a drive letter is
/// local, `\\wsl$\…`/`\\wsl.localhost\…` a WSL share, any other UNC path a network share.
#[cfg(any(windows, test))]
pub fn classify_windows_path(path: &str) -> FsClass {
    let p = path.replace('/', "\\").to_ascii_lowercase();
    let p = p
        .strip_prefix("\\\\?\\")
        .map(|rest| rest.to_string())
        .unwrap_or(p);
    if let Some(unc) = p.strip_prefix("unc\\").or_else(|| p.strip_prefix("\\\\")) {
        let server = unc.split('\\').next().unwrap_or("");
        return if server == "wsl$" || server == "wsl.localhost" {
            FsClass::WslShare
        } else {
            FsClass::Network
        };
    }
    let b = p.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        FsClass::Local
    } else {
        FsClass::Unknown
    }
}

/// A live Windows path: the prefix says `\\wsl$\` / `\\wsl.localhost\` (a WSL share, where
/// LockFileEx is not honoured) or another UNC share; the volume says the rest —
/// `GetVolumeInformationW` (NTFS, ReFS, FAT32, exFAT…), `GetDriveTypeW` (a mapped network
/// drive is DRIVE_REMOTE, hence `network`), `GetDiskFreeSpaceExW`. `options` carries the
/// long-path facts: the path's length against MAX_PATH (260) and `LongPathsEnabled`.
#[cfg(windows)]
fn windows_fs_facts(path: &Path) -> FsFacts {
    use crate::platform::windows::volume;
    let by_prefix = classify_windows_path(&path.to_string_lossy());
    let v = volume::volume_of(path);
    let class = match (by_prefix, v.drive_type) {
        (FsClass::WslShare, _) => FsClass::WslShare,
        (_, "remote") => FsClass::Network,
        (FsClass::Network, _) => FsClass::Network,
        (_, "fixed" | "removable" | "ramdisk") => FsClass::Local,
        (other, _) => other,
    };
    let (long_paths, _) = volume::long_paths_enabled();
    let length = path.as_os_str().len();
    let options = format!(
        "drive_type={},path_length={length},max_path=260,long_paths={}",
        v.drive_type,
        match long_paths {
            Some(true) => "enabled",
            Some(false) => "disabled",
            None => "unknown",
        }
    );
    let answered = v.fs_name.is_some();
    FsFacts {
        fs_type: v.fs_name.clone().unwrap_or_else(|| "unknown".into()),
        class,
        source: (!v.root.is_empty()).then(|| v.root.clone()),
        mount_point: (!v.root.is_empty()).then(|| v.root.clone()),
        options: Some(options),
        read_only: v.read_only,
        free_bytes: v.free_bytes,
        total_bytes: v.total_bytes,
        // NTFS, ReFS and FAT have no fixed inode table to run out of.
        free_inodes: None,
        total_inodes: None,
        statfs_magic: None,
        source_of_facts: if answered {
            "GetVolumeInformationW+GetDriveTypeW+GetDiskFreeSpaceExW".into()
        } else {
            format!(
                "path prefix (volume query failed: {})",
                v.errno.as_deref().unwrap_or("no answer")
            )
        },
    }
}

#[cfg(test)]
mod tests;
