//! Host identification: what machine this is, read from files (under `--host-root` when
//! given) and the environment. Every fact records where it came from (`Sourced`).
//!
//! The types here are the contract; the readers live in the submodules.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub mod cgroup;
pub mod ci;
pub mod container;
pub mod cpu;
pub mod datadir;
pub mod mounts;
pub mod root;
pub mod system;
pub mod wsl;

pub use datadir::{DataDirFacts, FsClass, FsFacts};
pub use root::HostRoot;

/// A value together with where it was read from (`/proc/version`, `env WSL_DISTRO_NAME`,
/// `wslinfo --networking-mode`, `inferred: loopback0 interface`, …).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: String,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: impl Into<String>) -> Self {
        Sourced {
            value,
            source: source.into(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct HostFacts {
    /// `linux`, `windows`, `macos`, … (std::env::consts::OS, or `linux` for a recorded root).
    pub os: String,
    /// `x86_64`, `aarch64`, …
    pub arch: String,
    pub kernel_release: Option<Sourced<String>>,
    pub kernel_version: Option<Sourced<String>>,
    pub distribution: Option<Distribution>,
    /// glibc version (`2.36`), None on musl/macOS/Windows.
    pub glibc_version: Option<Sourced<String>>,
    /// The host's C library, `glibc` or `musl`, when known.
    #[serde(default)]
    pub libc: Option<Sourced<String>>,
    pub cpu: CpuFacts,
    pub memory: MemoryFacts,
    pub wsl: WslFacts,
    pub container: ContainerFacts,
    pub ci: Option<Sourced<String>>,
    /// True when facts were read from a recorded root (`--host-root`), not this machine.
    pub recorded: bool,
    /// Files the detector could not read (missing in a recorded root, permission denied).
    pub unreadable: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Distribution {
    pub id: String,
    pub name: String,
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
    pub source: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct CpuFacts {
    pub model: Option<String>,
    /// Of the features backends care about (sse4_2, avx, avx2, fma, avx512f, f16c, neon/asimd),
    /// the ones this CPU has, lower-case, as `/proc/cpuinfo` names them.
    pub features: Vec<String>,
    /// The features backends care about that were looked for.
    pub checked: Vec<String>,
    pub logical_cpus: Option<u32>,
    pub source: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct MemoryFacts {
    pub total_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub source: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct WslFacts {
    pub detected: bool,
    /// 1 or 2 when detected.
    pub version: Option<u8>,
    pub distro_name: Option<Sourced<String>>,
    pub interop: Option<Sourced<bool>>,
    pub systemd: Option<Sourced<bool>>,
    /// `nat`, `mirrored`, `virtioproxy`, `consomme`, `bridged`, `none`, `wsl1`.
    pub networking_mode: Option<Sourced<String>>,
    /// True when networking_mode was inferred (no `wslinfo`), not read.
    pub networking_mode_inferred: bool,
    /// The pieces of evidence the decision rests on (`osrelease: 5.15.167.4-microsoft-standard-WSL2`, …).
    pub evidence: Vec<String>,
    /// Docker Desktop traces seen from inside the distro (`/mnt/wsl/docker-desktop…`).
    pub docker_desktop: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ContainerFacts {
    pub detected: bool,
    /// `docker`, `podman`, `containerd`, `kubernetes`, `lxc`, … when known.
    pub runtime: Option<String>,
    /// True for a Linux container running on a WSL2 kernel (Docker Desktop's backend).
    pub on_wsl_kernel: bool,
    pub evidence: Vec<String>,
}

/// Inputs to host collection: the root to read files from, and the environment.
pub struct HostInputs<'a> {
    pub root: &'a HostRoot,
    /// Environment lookup; tests pass a map, real runs pass std::env::var.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Whether to run `wslinfo --networking-mode` (never under a recorded root).
    pub run_wslinfo: bool,
}

/// Collect every host fact. Never fails: what cannot be read is recorded in `unreadable`.
pub fn collect(inputs: &HostInputs) -> HostFacts {
    system::collect(inputs)
}

/// The real process environment.
pub fn real_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A variable that holds paths (`VIRTUAL_ENV`, `PATH`), as an OS string: what `env` gives,
/// or — when the process environment holds a value that is not valid Unicode, which no
/// `fn(&str) -> Option<String>` can give — that value, so a non-UTF-8 venv or PATH entry is
/// used, not ignored. (A test's fake `env` is only overridden for such a value, which no test
/// process inherits.)
pub fn env_os(env: fn(&str) -> Option<String>, name: &str) -> Option<std::ffi::OsString> {
    if let Some(v) = env(name) {
        return Some(v.into());
    }
    match std::env::var(name) {
        Err(std::env::VarError::NotUnicode(raw)) => Some(raw),
        _ => None,
    }
}

/// Resolve a data dir the user named: absolute, `.` → current dir. Does not require existence.
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    // `/home/me/.` is `/home/me`: drop `.` components (never `..`, which symlinks give meaning).
    joined
        .components()
        .filter(|c| *c != std::path::Component::CurDir)
        .collect()
}

/// Facts for every data dir the user named (mount table read once).
pub fn collect_data_dirs(root: &HostRoot, given: &[PathBuf]) -> Vec<DataDirFacts> {
    datadir::collect_data_dir_paths(root, given)
}

/// A path as text for reports and messages: as it is when it is valid Unicode, else with every
/// byte that is not shown as `\xNN` — on Windows every unpaired UTF-16 surrogate as `\uDXXX` —
/// (so two different names never look the same, and nothing is lost to U+FFFD).
pub fn shown(path: &Path) -> String {
    if let Some(s) = path.to_str() {
        return s.to_string();
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        shown_bytes(path.as_os_str().as_bytes())
    }
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStrExt;
        let mut out = String::new();
        for unit in char::decode_utf16(path.as_os_str().encode_wide()) {
            match unit {
                Ok(c) => out.push(c),
                Err(e) => out.push_str(&format!("\\u{:04X}", e.unpaired_surrogate())),
            }
        }
        out
    }
    #[cfg(not(any(unix, windows)))]
    {
        path.to_string_lossy().into_owned()
    }
}

/// Bytes that name a path (a mount point in the mount table) as `shown` shows that path.
pub fn shown_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod shown_tests {
    use super::shown;

    #[cfg(unix)]
    #[test]
    fn bytes_that_are_not_utf8_are_shown_as_hex_escapes() {
        use std::os::unix::ffi::OsStrExt;
        let p = std::path::Path::new(std::ffi::OsStr::from_bytes(b"/d/caf\xE9-\xFF"));
        assert_eq!(shown(p), "/d/caf\\xE9-\\xFF");
    }

    /// Windows: a lone surrogate (high or low) is shown as `\uDXXX`, a valid pair as its
    /// character; never U+FFFD, so two different names never look the same.
    #[cfg(windows)]
    #[test]
    fn unpaired_surrogates_are_shown_as_u_escapes() {
        use std::os::windows::ffi::OsStringExt;
        let mut w: Vec<u16> = "C:\\caf".encode_utf16().collect();
        w.extend([0xD800, 0x2D, 0xDC00, 0x2D, 0xD83D, 0xDE00]);
        let p = std::path::PathBuf::from(std::ffi::OsString::from_wide(&w));
        assert_eq!(shown(&p), "C:\\caf\\uD800-\\uDC00-\u{1F600}");
    }
}
