//! Probe `limits`: the process limits and kernel settings backends trip over — open files,
//! address space and locked memory (getrlimit; Elasticsearch's bootstrap checks), the
//! `vm.max_map_count` and `vm.overcommit_memory` sysctls (read through the host root, so
//! recorded hosts work), the size of `/dev/shm` (PostgreSQL's dynamic shared memory) and the
//! memory a new process can still use under the cgroup or job limit around it (`memory`), and
//! the tasks it can still start under the cgroup pids limit or RLIMIT_NPROC (`pids`).

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::observation::Observation;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

mod memory;
mod pids;

pub static PROBE: ProbeDef = ProbeDef {
    name: "limits",
    kind: ProbeKind::Limits,
    scope: Scope::Host,
    timeout: Duration::from_millis(500),
    plan,
    run,
    in_agent: false,
};

const TARGET: &str = "host";
const NOFILE: &str = "limits.nofile";
const AS: &str = "limits.as";
const MEMLOCK: &str = "limits.memlock";
const MAX_MAP_COUNT: &str = "limits.max_map_count";
const OVERCOMMIT: &str = "limits.overcommit";
const SHM: &str = "limits.shm";

const IDS: [&str; 8] = [
    NOFILE,
    AS,
    MEMLOCK,
    MAX_MAP_COUNT,
    OVERCOMMIT,
    SHM,
    memory::ID,
    pids::ID,
];

fn plan(_ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    IDS.iter().map(|id| Planned::new(*id, TARGET)).collect()
}

fn run(ctx: &ProbeContext, _dir: Option<&DataDir>, sink: &Sink) {
    let recorded = ctx.host_root.is_recorded();
    for id in [NOFILE, AS, MEMLOCK] {
        let start = Instant::now();
        sink.emit(rlimit(id, recorded).elapsed_since(start));
    }
    // A recorded host tree is a Linux one; live, only Linux has /proc/sys/vm.
    let linux = recorded || cfg!(target_os = "linux");
    for (id, path, key) in [
        (MAX_MAP_COUNT, "/proc/sys/vm/max_map_count", "value"),
        (OVERCOMMIT, "/proc/sys/vm/overcommit_memory", "mode"),
    ] {
        let start = Instant::now();
        let obs = if linux {
            sysctl(id, ctx, path, key)
        } else if cfg!(windows) {
            Observation::skipped(id, TARGET, windows_has_none(id))
        } else {
            Observation::skipped(id, TARGET, format!("no {path} on {}", std::env::consts::OS))
        };
        sink.emit(obs.elapsed_since(start));
    }
    let start = Instant::now();
    let shm = if recorded {
        Observation::skipped(
            SHM,
            TARGET,
            "recorded host: /dev/shm is a live filesystem and cannot be measured from a recording",
        )
    } else if cfg!(windows) {
        Observation::skipped(SHM, TARGET, windows_has_none(SHM))
    } else if !cfg!(target_os = "linux") {
        Observation::skipped(
            SHM,
            TARGET,
            format!("no /dev/shm filesystem on {}", std::env::consts::OS),
        )
    } else {
        shm_at(Path::new("/dev/shm"))
    };
    sink.emit(shm.elapsed_since(start));
    let start = Instant::now();
    sink.emit(memory::observe(&ctx.host_root).elapsed_since(start));
    let start = Instant::now();
    sink.emit(pids::observe(&ctx.host_root).elapsed_since(start));
}

/// The value of one `Key:` line of a `/proc/PID/status` text, trimmed.
fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).map(str::trim))
}

/// Why a Linux memory setting has no Windows counterpart to read.
fn windows_has_none(id: &str) -> &'static str {
    match id {
        MAX_MAP_COUNT => {
            "Windows has no vm.max_map_count: a process's number of mapped views is not capped (Docker Desktop's Linux VM has its own)"
        }
        OVERCOMMIT => {
            "Windows has no vm.overcommit_memory: memory is committed against the commit limit (limits.as), never overcommitted"
        }
        _ => {
            "Windows has no shm filesystem: shared memory is a paging-file-backed CreateFileMapping"
        }
    }
}

fn rlimit(id: &str, recorded: bool) -> Observation {
    let note = if recorded {
        " (this process's limit on this machine, not the recorded host's)"
    } else {
        ""
    };
    #[cfg(windows)]
    return windows_limit(id, note);
    #[cfg(not(windows))]
    match sys::rlimit(id) {
        None => Observation::skipped(id, TARGET, "getrlimit not available on this OS"),
        Some(Err(e)) => Observation::from_io_error(id, TARGET, "getrlimit", &e),
        Some(Ok((soft, hard))) => Observation::pass(
            id,
            TARGET,
            format!("soft {}, hard {}{note}", show(soft), show(hard)),
        )
        .with("soft", soft.map_or(Value::Null, Value::from))
        .with("hard", hard.map_or(Value::Null, Value::from)),
    }
}

/// Windows has no rlimits. What stands in their place is observed instead: the kernel's
/// per-process handle limit (2^24, fixed) with this process's open handles
/// (`GetProcessHandleCount`), and the system commit limit (`GlobalMemoryStatusEx`) where
/// Linux has an address-space rlimit. `soft`/`hard` are null (no limit of that kind), so
/// the rules that read them see "unlimited", as they would for RLIM_INFINITY.
#[cfg(windows)]
fn windows_limit(id: &str, note: &str) -> Observation {
    use crate::platform::windows::memory;
    let _ = note;
    const HANDLE_LIMIT: u64 = 1 << 24;
    let obs = match id {
        NOFILE => match memory::process_handle_count() {
            Ok(open) => Observation::pass(
                id,
                TARGET,
                format!("no open-file rlimit on Windows; the per-process handle limit is {HANDLE_LIMIT} and this process has {open} handles open (GetProcessHandleCount)"),
            )
            .with("handle_limit", HANDLE_LIMIT)
            .with("handles_open", open),
            Err(e) => return Observation::from_io_error(id, TARGET, "GetProcessHandleCount", &e),
        },
        AS => match memory::memory_status() {
            Ok(m) => Observation::pass(
                id,
                TARGET,
                format!("no address-space rlimit on Windows; the system commit limit is {} bytes, {} available (GlobalMemoryStatusEx)", m.total_page_file, m.avail_page_file),
            )
            .with("commit_limit_bytes", m.total_page_file)
            .with("commit_available_bytes", m.avail_page_file),
            Err(e) => return Observation::from_io_error(id, TARGET, "GlobalMemoryStatusEx", &e),
        },
        _ => Observation::pass(
            id,
            TARGET,
            "no locked-memory rlimit on Windows (VirtualLock is bounded by the process's working-set minimum instead)",
        ),
    };
    obs.with("soft", Value::Null).with("hard", Value::Null)
}

#[cfg_attr(windows, allow(dead_code))]
fn show(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".to_string(), |v| v.to_string())
}

/// An integer sysctl read from the host root.
fn sysctl(id: &str, ctx: &ProbeContext, path: &str, key: &str) -> Observation {
    let Some(text) = ctx.host_root.read(path) else {
        let why = if ctx.host_root.is_recorded() {
            "not in the recorded host tree"
        } else {
            "unreadable"
        };
        return Observation::skipped(id, TARGET, format!("{path}: {why}"));
    };
    match text.trim().parse::<u64>() {
        Ok(v) => Observation::pass(id, TARGET, format!("{path} = {v}")).with(key, v),
        Err(_) => Observation::error(
            id,
            TARGET,
            format!("{path} does not hold an integer: {:?}", text.trim()),
        ),
    }
}

/// statvfs of the POSIX shared-memory filesystem.
fn shm_at(path: &Path) -> Observation {
    match super::fileops::sys::space(path) {
        None => Observation::skipped(SHM, TARGET, "statvfs not implemented on this OS yet"),
        Some(Ok((free, total))) => Observation::pass(
            SHM,
            TARGET,
            format!("{}: {total} bytes, {free} free", crate::host::shown(path)),
        )
        .with("size_bytes", total)
        .with("free_bytes", free),
        Some(Err(e)) => Observation::from_io_error(
            SHM,
            TARGET,
            &format!("statvfs {}", crate::host::shown(path)),
            &e,
        ),
    }
}

mod sys {
    #[cfg(not(windows))]
    use std::io;

    #[cfg(unix)]
    pub fn rlimit(id: &str) -> Option<io::Result<(Option<u64>, Option<u64>)>> {
        use crate::platform::unix::limits::{Rlimit, get};
        let which = match id {
            super::NOFILE => Rlimit::Nofile,
            super::AS => Rlimit::AddressSpace,
            _ => Rlimit::Memlock,
        };
        Some(get(which))
    }
    #[cfg(not(any(unix, windows)))]
    pub fn rlimit(_id: &str) -> Option<io::Result<(Option<u64>, Option<u64>)>> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::host::HostRoot;
    use crate::observation::Status;
    use crate::probe::engine;
    use std::sync::Arc;

    fn run_with(root: HostRoot) -> Vec<Observation> {
        let ctx = ProbeContext {
            host_root: root,
            ..crate::probe::testing::context()
        };
        engine::run(Arc::new(ctx), &[&PROBE])
    }

    fn find<'a>(obs: &'a [Observation], id: &str) -> &'a Observation {
        obs.iter()
            .find(|o| o.id == id)
            .expect("observation present")
    }

    fn expected(r: nix::sys::resource::Resource) -> (Value, Value) {
        let (s, h) = nix::sys::resource::getrlimit(r).unwrap();
        let v = |x: u64| {
            if x == libc::RLIM_INFINITY {
                Value::Null
            } else {
                Value::from(x)
            }
        };
        (v(s), v(h))
    }

    #[test]
    fn live_limits_match_getrlimit_and_proc() {
        use nix::sys::resource::Resource;
        let obs = run_with(HostRoot::live());
        assert_eq!(obs.len(), 8);
        for (id, r) in [
            (NOFILE, Resource::RLIMIT_NOFILE),
            (AS, Resource::RLIMIT_AS),
            (MEMLOCK, Resource::RLIMIT_MEMLOCK),
        ] {
            let o = find(&obs, id);
            assert_eq!(o.status, Status::Pass);
            assert_eq!(
                (o.values["soft"].clone(), o.values["hard"].clone()),
                expected(r),
                "{id}"
            );
        }
        let proc_value = |p: &str| {
            std::fs::read_to_string(p)
                .unwrap()
                .trim()
                .parse::<u64>()
                .unwrap()
        };
        assert_eq!(
            find(&obs, MAX_MAP_COUNT).values["value"],
            proc_value("/proc/sys/vm/max_map_count")
        );
        assert_eq!(
            find(&obs, OVERCOMMIT).values["mode"],
            proc_value("/proc/sys/vm/overcommit_memory")
        );
        let shm = find(&obs, SHM);
        assert_eq!(shm.status, Status::Pass, "{shm:#?}");
        assert!(shm.values["size_bytes"].as_u64().unwrap() > 0);
    }

    #[test]
    fn a_recorded_root_supplies_the_sysctls_and_skips_shm() {
        let root = tempfile::tempdir().unwrap();
        let vm = root.path().join("proc/sys/vm");
        std::fs::create_dir_all(&vm).unwrap();
        std::fs::write(vm.join("max_map_count"), "262144\n").unwrap();
        let obs = run_with(HostRoot::recorded(root.path()));
        assert_eq!(find(&obs, MAX_MAP_COUNT).values["value"], 262144);
        let oc = find(&obs, OVERCOMMIT);
        assert_eq!(oc.status, Status::Skipped);
        assert!(oc.message.contains("not in the recorded host tree"));
        assert_eq!(find(&obs, SHM).status, Status::Skipped);
        assert!(
            find(&obs, NOFILE)
                .message
                .contains("not the recorded host's")
        );
    }

    #[test]
    fn garbage_in_a_sysctl_file_is_an_error_not_a_value() {
        let root = tempfile::tempdir().unwrap();
        let vm = root.path().join("proc/sys/vm");
        std::fs::create_dir_all(&vm).unwrap();
        std::fs::write(vm.join("overcommit_memory"), "always\n").unwrap();
        let obs = run_with(HostRoot::recorded(root.path()));
        assert_eq!(find(&obs, OVERCOMMIT).status, Status::Error);
    }

    #[test]
    fn a_missing_shm_dir_fails_with_enoent() {
        let o = shm_at(Path::new("/nonexistent-vecprobe/shm"));
        assert_eq!(
            (o.status, o.errno.as_deref()),
            (Status::Fail, Some("ENOENT"))
        );
    }
}
