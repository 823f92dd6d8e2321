//! The backend profile format (`probes/*.toml`): what a backend needs from the host,
//! each requirement tied to the observation that checks it and the source it rests on.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Embedded,
    Server,
    Cloud,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Embedded => "embedded",
            BackendKind::Server => "server",
            BackendKind::Cloud => "cloud",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Failing it means the default configuration fails here.
    Block,
    /// Failing it is a risk or cost; the backend still works.
    Degrade,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReqScope {
    /// Observed once per data dir (target = the data dir).
    DataDir,
    /// Observed once per run.
    Host,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Stable id (`milvus-lite`).
    pub id: String,
    pub name: String,
    pub kind: BackendKind,
    pub summary: String,
    /// Home page or main docs.
    pub docs: String,
    /// The client package (PyPI name) whose installed version selects version-specific rules.
    #[serde(default)]
    pub package: Option<String>,
    /// Other client packages worth reporting (e.g. `pymilvus`).
    #[serde(default)]
    pub related_packages: Vec<String>,
    /// The version judged when `package` is not installed (the current release).
    #[serde(default)]
    pub assumed_version: Option<String>,
    /// Where it ships (descriptive; the rules that check it are requirements).
    #[serde(default)]
    pub platforms: Vec<Platform>,
    #[serde(default)]
    pub ports: Vec<Port>,
    #[serde(default)]
    pub lock_files: Vec<LockFile>,
    #[serde(default)]
    pub sockets: Vec<Socket>,
    /// Minimum free space in the data dir, MiB (generates a requirement on `file.free_space`).
    #[serde(default)]
    pub min_free_mib: Option<u64>,
    #[serde(default)]
    pub min_free_source: Option<String>,
    /// Resource floors (free space, open files, address space): `blocked` under `min`,
    /// `degraded` under `near` (see [`Floor`]).
    #[serde(default)]
    pub floors: Vec<Floor>,
    #[serde(default, rename = "requirement")]
    pub requirements: Vec<Requirement>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    #[serde(default)]
    pub versions: Option<String>,
    pub os: Vec<String>,
    #[serde(default)]
    pub arch: Vec<String>,
    #[serde(default)]
    pub glibc_min: Option<String>,
    #[serde(default)]
    pub python_min: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    pub source: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub port: u16,
    pub role: String,
    /// Block (default) when taken, or only degrade (an optional extra listener).
    #[serde(default = "default_block")]
    pub effect: Effect,
    #[serde(default)]
    pub versions: Option<String>,
    pub source: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    /// Relative to the data dir (`LOCK`, `.lock`).
    pub path: String,
    /// `flock`, `fcntl`, `msvcrt` … (descriptive).
    pub mechanism: String,
    #[serde(default)]
    pub versions: Option<String>,
    pub source: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Socket {
    /// `data_dir`, `tmp`, or an absolute directory outside the data dir where the backend
    /// creates its socket and the socket's lock file (PostgreSQL's compiled-in
    /// `unix_socket_directories`, `/var/run/postgresql` on Debian): observed as
    /// `uds.socket_dir:<dir>`, whether this user may create files there.
    pub base: String,
    /// Worst-case name relative to base.
    pub name: String,
    #[serde(default)]
    pub versions: Option<String>,
    pub source: String,
}

/// A resource a backend needs a minimum of, and the observation field that measures it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// Bytes free in the data dir (`file.free_space.free_bytes`).
    FreeSpace,
    /// The open-files soft limit (`limits.nofile.soft`; null = unlimited).
    OpenFiles,
    /// The address-space soft limit in bytes (`limits.as.soft`; null = unlimited).
    AddressSpace,
    /// Memory a new process can still use before the cgroup (or job) limit around it or the
    /// system runs out (`limits.memory.available_bytes`; null = nothing limits it).
    Memory,
    /// Inodes (files and directories) that can still be created in the data dir's filesystem
    /// (`file.free_space.free_inodes`; null = no fixed inode table, satisfied).
    Inodes,
    /// Tasks (processes and threads) a new process can still start before the cgroup pids
    /// limit or RLIMIT_NPROC refuses one (`limits.pids.available`; null = nothing limits it).
    Pids,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::FreeSpace => "free-space",
            Resource::OpenFiles => "open-files",
            Resource::AddressSpace => "address-space",
            Resource::Memory => "memory",
            Resource::Pids => "pids",
            Resource::Inodes => "inodes",
        }
    }
    /// (observation id, field, scope, unlimited when the field is null).
    pub fn measured_by(self) -> (&'static str, &'static str, ReqScope, bool) {
        match self {
            Resource::FreeSpace => ("file.free_space", "free_bytes", ReqScope::DataDir, false),
            Resource::OpenFiles => ("limits.nofile", "soft", ReqScope::Host, true),
            Resource::AddressSpace => ("limits.as", "soft", ReqScope::Host, true),
            Resource::Memory => ("limits.memory", "available_bytes", ReqScope::Host, true),
            Resource::Pids => ("limits.pids", "available", ReqScope::Host, true),
            Resource::Inodes => ("file.free_space", "free_inodes", ReqScope::DataDir, true),
        }
    }
    /// The unit `min` and `near` are written in.
    pub fn unit(self) -> &'static str {
        match self {
            Resource::OpenFiles => "descriptors",
            Resource::Pids => "tasks",
            Resource::Inodes => "inodes",
            _ => "bytes",
        }
    }
}

/// `[[floors]]`: the backend fails below `min` (a `block` requirement on the measuring
/// observation) and is close to failing below `near` (a `degrade` one). "Close" is the
/// profile's own second threshold `near`; without it, twice `min`. Units: bytes for
/// `free-space`, `address-space` and `memory`, descriptors for `open-files`, tasks for `pids`,
/// inodes for `inodes`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    pub resource: Resource,
    pub min: u64,
    #[serde(default)]
    pub near: Option<u64>,
    /// `pids` only: tasks needed per logical CPU on top of `min` (thread pools sized by the
    /// CPU count); the threshold is `min + per_cpu × logical_cpus` of the host judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_cpu: Option<f64>,
    #[serde(default)]
    pub versions: Option<String>,
    /// What fails below the floor (the real backend's error), for the explanation.
    #[serde(default)]
    pub fails_with: Option<String>,
    pub source: String,
}

impl Floor {
    /// The degraded threshold: `near`, or twice `min`.
    pub fn near_threshold(&self) -> u64 {
        self.near.unwrap_or(self.min.saturating_mul(2))
    }
}

fn default_block() -> Effect {
    Effect::Block
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Stable within the profile (`data-dir-flock`).
    pub id: String,
    /// The observation id that checks it (`lock.flock`, `port:6333`, `host.platform`).
    pub probe: String,
    pub scope: ReqScope,
    pub effect: Effect,
    /// Version range of `package` this applies to (`>=3`, `<2.4.12`, `>=2.4,<3`).
    #[serde(default)]
    pub versions: Option<String>,
    /// Only on these host OSes (`linux`, `macos`, `windows`).
    #[serde(default)]
    pub os: Vec<String>,
    /// Only on these architectures.
    #[serde(default)]
    pub arch: Vec<String>,
    /// Optional predicate over the observation's values; violated when false.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// When the observation fails, only these errnos count as violations (others: unobserved).
    #[serde(default)]
    pub errnos: Vec<String>,
    /// Violated whenever the requirement applies (its `versions`/`os`/`arch` filters matched),
    /// whatever the observation says: for known-bad releases. `probe` names the observation
    /// shown as evidence (e.g. `python.packages` for the installed version).
    #[serde(default)]
    pub violated_when_applicable: bool,
    pub explain: String,
    pub remediation: String,
    /// The remediation to print on native Windows, when the general one is Linux advice
    /// (sysctl, "Docker Desktop with WSL integration"). Absent: `remediation` everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation_windows: Option<String>,
    pub source: String,
}

/// A predicate over one field (dotted path) of an observation's `values`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub field: String,
    #[serde(default)]
    pub equals: Option<toml::Value>,
    #[serde(default)]
    pub one_of: Vec<toml::Value>,
    #[serde(default)]
    pub none_of: Vec<toml::Value>,
    #[serde(default)]
    pub min: Option<f64>,
    /// With `min`: the minimum grows by this much per logical CPU the same observation reports
    /// in `logical_cpus` (thread pools sized by the CPU count: `limits.pids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_per_cpu: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// The field is a list that contains all of these.
    #[serde(default)]
    pub contains_all: Vec<String>,
    /// The field is a version string at least this (`2.28`).
    #[serde(default)]
    pub version_min: Option<String>,
    /// Outcome when the field is absent or null: `violated`, `satisfied` or `unobserved` (default).
    #[serde(default)]
    pub missing: Option<String>,
}
