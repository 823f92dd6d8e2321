//! `limits.memory`: how much memory a process started here can still use before it is killed or
//! refused — the least of the system's available memory (`MemAvailable`, or
//! `GlobalMemoryStatusEx` on Windows) and what is left under the tightest memory limit around
//! this process: the cgroup it runs in (a container's `--memory`, a Kubernetes limit, a systemd
//! `MemoryMax=`; see `host::cgroup`) or, on Windows, its job object. The backends' measured
//! memory floors are judged on `available_bytes`.

use crate::host::cgroup::{self, Controller, Hierarchy};
use crate::host::system::memory_from_meminfo;
use crate::observation::Observation;
use serde_json::Value;

pub const ID: &str = "limits.memory";
const TARGET: &str = "host";
const MIB: u64 = 1024 * 1024;

/// A limit around this process and what is left under it.
struct Limit {
    /// `cgroup v2 memory.max at /sys/fs/cgroup`, `job object (JOB_OBJECT_LIMIT_JOB_MEMORY)`.
    source: String,
    limit_bytes: u64,
    working_set_bytes: Option<u64>,
}

impl Limit {
    /// What is left under the limit (all of it when usage is not known).
    fn available_bytes(&self) -> u64 {
        self.limit_bytes
            .saturating_sub(self.working_set_bytes.unwrap_or(0))
    }
}

/// What was read: the system's available memory (and where from), the limit if any, and a
/// sentence on the limit side (why there is none, or why none could be read).
struct Reading {
    system: Option<(u64, &'static str)>,
    limit: Option<Limit>,
    limit_note: String,
}

pub fn observe(root: &crate::host::HostRoot) -> Observation {
    let reading = if root.is_recorded() || cfg!(target_os = "linux") {
        linux(root)
    } else {
        other_os()
    };
    let Some(reading) = reading else {
        let why = if root.is_recorded() {
            "neither /proc/meminfo nor a memory cgroup is in the recorded host tree"
        } else {
            "neither /proc/meminfo nor a memory cgroup could be read"
        };
        return Observation::skipped(ID, TARGET, why);
    };
    render(reading)
}

fn render(r: Reading) -> Observation {
    let system = r.system.map(|(v, _)| v);
    let under_limit = r.limit.as_ref().map(Limit::available_bytes);
    let available = match (system, under_limit) {
        (Some(s), Some(l)) => Some(s.min(l)),
        (s, l) => s.or(l),
    };
    let limited_by = match (system, under_limit) {
        (Some(s), Some(l)) if l < s => "limit",
        (None, Some(_)) => "limit",
        (Some(_), _) => "system",
        (None, None) => "nothing",
    };
    let mut parts = Vec::new();
    if let Some(a) = available {
        parts.push(format!("{} MiB available to a new process", a / MIB));
    }
    if let Some((s, from)) = r.system {
        parts.push(format!("system: {} MiB available ({from})", s / MIB));
    }
    match &r.limit {
        Some(l) => parts.push(format!(
            "{}: limit {} MiB, {} in use besides this tool, {} MiB left",
            l.source,
            l.limit_bytes / MIB,
            l.working_set_bytes
                .map_or("usage not readable".into(), |w| format!("{} MiB", w / MIB)),
            l.available_bytes() / MIB
        )),
        None => parts.push(r.limit_note.clone()),
    }
    let opt = |v: Option<u64>| v.map_or(Value::Null, Value::from);
    Observation::pass(ID, TARGET, parts.join("; "))
        .with("available_bytes", opt(available))
        .with("limited_by", limited_by)
        .with("system_available_bytes", opt(system))
        .with("limit_bytes", opt(r.limit.as_ref().map(|l| l.limit_bytes)))
        .with(
            "limit_working_set_bytes",
            opt(r.limit.as_ref().and_then(|l| l.working_set_bytes)),
        )
        .with("limit_available_bytes", opt(under_limit))
        .with(
            "limit_source",
            r.limit
                .as_ref()
                .map_or(Value::Null, |l| Value::from(l.source.clone())),
        )
}

/// Linux, live or recorded: `/proc/meminfo` and the memory cgroup.
fn linux(root: &crate::host::HostRoot) -> Option<Reading> {
    let system = root
        .read("/proc/meminfo")
        .and_then(|t| memory_from_meminfo(&t).available_bytes)
        .map(|v| (v, "MemAvailable, /proc/meminfo"));
    let (limit, limit_note) = match cgroup::read(root, Controller::Memory) {
        Hierarchy::Found {
            version,
            own_dir,
            tightest: Some(level),
            ..
        } => {
            let source = cgroup::limit_source(Controller::Memory, version, &level.dir, &own_dir);
            // This tool's own anonymous memory is charged to the cgroup while it reads, and is
            // gone when it exits: what a backend started next can use does not lose it.
            let own = if root.is_recorded() {
                0
            } else {
                own_anon_bytes()
            };
            let limit = Limit {
                source,
                limit_bytes: level.limit,
                working_set_bytes: level.used.map(|w| w.saturating_sub(own)),
            };
            (Some(limit), String::new())
        }
        Hierarchy::Found {
            version, own_dir, ..
        } => (
            None,
            format!("no cgroup memory limit (cgroup v{version} {own_dir} and its parents)"),
        ),
        Hierarchy::NotVisible(why) => {
            system?;
            (None, format!("no limit could be read: {why}"))
        }
    };
    Some(Reading {
        system,
        limit,
        limit_note,
    })
}

/// `RssAnon` of this process (`/proc/self/status`), 0 when unreadable.
fn own_anon_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let kb = super::status_field(&s, "RssAnon:")?.strip_suffix("kB")?;
            kb.trim().parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

#[cfg(windows)]
fn other_os() -> Option<Reading> {
    use crate::platform::windows::memory;
    let system = memory::memory_status()
        .ok()
        .map(|m| (m.avail_phys, "GlobalMemoryStatusEx"));
    let (limit, limit_note) = match memory::job_memory_limits() {
        Ok(Some(j)) => {
            let tightest = [
                (j.job_bytes, "JOB_OBJECT_LIMIT_JOB_MEMORY"),
                (j.process_bytes, "JOB_OBJECT_LIMIT_PROCESS_MEMORY"),
            ]
            .into_iter()
            .filter_map(|(v, n)| v.map(|v| (v, n)))
            .min_by_key(|(v, _)| *v);
            match tightest {
                // Windows does not say how much of a job's commit is in use: the limit is
                // counted whole.
                Some((v, name)) => (
                    Some(Limit {
                        source: format!("job object ({name})"),
                        limit_bytes: v,
                        working_set_bytes: None,
                    }),
                    String::new(),
                ),
                None => (
                    None,
                    "in a job object without a memory limit (QueryInformationJobObject)".into(),
                ),
            }
        }
        Ok(None) => (
            None,
            "in no job object: no memory limit around this process (IsProcessInJob)".into(),
        ),
        Err(e) => (None, format!("job object limits not readable: {e}")),
    };
    system?;
    Some(Reading {
        system,
        limit,
        limit_note,
    })
}

/// macOS and the other Unixes have no memory cgroups or job objects; the system's free
/// memory is not read there, so nothing limits the floors.
#[cfg(not(windows))]
fn other_os() -> Option<Reading> {
    Some(Reading {
        system: None,
        limit: None,
        limit_note: format!(
            "{} has no memory cgroups: no per-process-tree memory limit of that kind",
            std::env::consts::OS
        ),
    })
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
