//! `collect`: every host fact — OS, arch, kernel, distribution, libc, CPU, memory, WSL,
//! container, CI — read from the host root's files and the environment, each with its source.
//! Files that should be there but cannot be read are listed in `unreadable`.

use super::{
    Distribution, HostFacts, HostInputs, MemoryFacts, Sourced, container, cpu, mounts, wsl,
};

/// A recorded root may say which architecture it came from in this file (`x86_64`).
pub const RECORDED_ARCH_FILE: &str = "/wsl-vecprobe-arch";
/// A recorded root may hold the glibc version it ran (`2.36`) in this file.
pub const RECORDED_GLIBC_FILE: &str = "/wsl-vecprobe-glibc";

const OSRELEASE: &str = "/proc/sys/kernel/osrelease";
const PROC_VERSION: &str = "/proc/version";
const CPUINFO: &str = "/proc/cpuinfo";
const MEMINFO: &str = "/proc/meminfo";

pub fn collect(inputs: &HostInputs) -> HostFacts {
    let root = inputs.root;
    let mut unreadable = Vec::new();
    // Linux /proc and /etc files: read on a live Linux host and from any recorded root.
    let reads_proc = root.is_recorded() || cfg!(any(target_os = "linux", target_os = "android"));
    let mut read = |path: &str| -> Option<String> {
        if !reads_proc {
            return None;
        }
        match root.read_bytes(path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) => {
                unreadable.push(format!("{path} ({})", e.errno));
                None
            }
        }
    };
    let osrelease = read(OSRELEASE).map(|s| s.trim().to_string());
    let version = read(PROC_VERSION).map(|s| s.trim().to_string());
    let os_release = read("/etc/os-release");
    let cpuinfo = read(CPUINFO);
    let meminfo = read(MEMINFO);
    let mount_table = if reads_proc {
        mounts::read_table(root)
    } else {
        None
    };
    if reads_proc && mount_table.is_none() {
        unreadable.push(format!(
            "{} and {}",
            mounts::MOUNTINFO_PATH,
            mounts::MOUNTS_PATH
        ));
    }

    let (os, arch) = if root.is_recorded() {
        let arch = root
            .read(RECORDED_ARCH_FILE)
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .or_else(|| {
                cpuinfo
                    .as_deref()
                    .and_then(cpu::arch_from_cpuinfo)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        ("linux".to_string(), arch)
    } else {
        (
            std::env::consts::OS.to_string(),
            std::env::consts::ARCH.to_string(),
        )
    };

    let cpu = match &cpuinfo {
        Some(text) => cpu::from_cpuinfo(text, &arch, CPUINFO),
        None if !root.is_recorded() => cpu::from_cpuid(),
        None => Default::default(),
    };
    let memory = match &meminfo {
        Some(text) => memory_from_meminfo(text),
        None if cfg!(windows) && !root.is_recorded() => windows_memory(),
        None => MemoryFacts::default(),
    };
    let container = container::detect(root, inputs.env);
    let kernel = wsl::kernel_kind(osrelease.as_deref(), version.as_deref());
    let kernel_evidence = match (&osrelease, &version) {
        (Some(r), _) => Some(format!("osrelease: {r}")),
        (None, Some(v)) => Some(format!("/proc/version: {v}")),
        _ => None,
    };
    let wsl = wsl::detect(&wsl::WslInputs {
        root,
        env: inputs.env,
        run_wslinfo: inputs.run_wslinfo,
        kernel,
        kernel_evidence,
        mounts: mount_table.as_ref(),
        container: &container,
    });
    let mut container = container;
    if container.detected && kernel != wsl::KernelKind::Other {
        container.on_wsl_kernel = true;
        container
            .evidence
            .push("kernel names microsoft: a WSL kernel".into());
    }
    let glibc_version = glibc_version(inputs);
    HostFacts {
        os,
        arch,
        kernel_release: osrelease.map(|r| Sourced::new(r, OSRELEASE)),
        kernel_version: version.map(|v| Sourced::new(v, PROC_VERSION)),
        distribution: os_release.as_deref().and_then(parse_os_release),
        libc: libc_kind(inputs, glibc_version.is_some()),
        glibc_version,
        cpu,
        memory,
        wsl,
        container,
        ci: super::ci::detect(inputs.env),
        recorded: root.is_recorded(),
        unreadable,
    }
}

/// `etc/os-release` (`KEY=value`, values optionally quoted with shell escapes).
pub fn parse_os_release(text: &str) -> Option<Distribution> {
    let mut get = std::collections::HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            get.insert(key.trim().to_string(), unquote(value.trim()));
        }
    }
    let id = get.get("ID").cloned();
    let name = get.get("NAME").cloned();
    if id.is_none() && name.is_none() {
        return None;
    }
    Some(Distribution {
        id: id.clone().unwrap_or_else(|| "linux".into()),
        name: name.or(id).unwrap_or_default(),
        version_id: get.get("VERSION_ID").cloned(),
        pretty_name: get.get("PRETTY_NAME").cloned(),
        source: "/etc/os-release".into(),
    })
}

fn unquote(value: &str) -> String {
    let inner = match value.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if value.len() >= 2 => &value[1..value.len() - 1],
        _ => value,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// Live Windows: physical memory from `GlobalMemoryStatusEx`.
#[cfg(windows)]
fn windows_memory() -> MemoryFacts {
    match crate::platform::windows::memory::memory_status() {
        Ok(m) => MemoryFacts {
            total_bytes: Some(m.total_phys),
            available_bytes: Some(m.avail_phys),
            source: "GlobalMemoryStatusEx".into(),
        },
        Err(_) => MemoryFacts::default(),
    }
}

#[cfg(not(windows))]
fn windows_memory() -> MemoryFacts {
    MemoryFacts::default()
}

/// `MemTotal:` and `MemAvailable:` (kB) from `/proc/meminfo`.
pub fn memory_from_meminfo(text: &str) -> MemoryFacts {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            let mut parts = rest.split_whitespace();
            let value: u64 = parts.next()?.parse().ok()?;
            let scale = match parts.next() {
                Some("kB") => 1024,
                None => 1,
                Some(_) => return None,
            };
            value.checked_mul(scale)
        })
    };
    MemoryFacts {
        total_bytes: field("MemTotal"),
        available_bytes: field("MemAvailable"),
        source: MEMINFO.into(),
    }
}

fn glibc_version(inputs: &HostInputs) -> Option<Sourced<String>> {
    if inputs.root.is_recorded() {
        let v = inputs.root.read(RECORDED_GLIBC_FILE)?.trim().to_string();
        return (!v.is_empty()).then(|| Sourced::new(v, RECORDED_GLIBC_FILE));
    }
    live_glibc_version()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn live_glibc_version() -> Option<Sourced<String>> {
    // SAFETY: gnu_get_libc_version returns a pointer to a static NUL-terminated string.
    let ptr = unsafe { libc::gnu_get_libc_version() };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null, static, NUL-terminated (glibc contract).
    let version = unsafe { std::ffi::CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned();
    Some(Sourced::new(version, "gnu_get_libc_version()"))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn live_glibc_version() -> Option<Sourced<String>> {
    None
}

/// `glibc` or `musl`, with how it was told: the glibc version, a musl loader under `/lib`,
/// or (live) the C library this binary was built against.
fn libc_kind(inputs: &HostInputs, has_glibc_version: bool) -> Option<Sourced<String>> {
    if has_glibc_version {
        return Some(Sourced::new("glibc".into(), "glibc version known"));
    }
    if let Some(loader) = inputs
        .root
        .list("/lib")
        .into_iter()
        .find(|n| n.starts_with("ld-musl-"))
    {
        return Some(Sourced::new("musl".into(), format!("/lib/{loader} exists")));
    }
    if !inputs.root.is_recorded() && cfg!(all(target_os = "linux", target_env = "musl")) {
        return Some(Sourced::new("musl".into(), "built for musl (target_env)"));
    }
    None
}

#[cfg(test)]
pub(crate) mod fixture_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::HostRoot;

    #[test]
    fn parses_os_release_with_quotes_and_escapes() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n\
                    ID=debian\n# comment=1\nX='a \\\"b\\\"'\n";
        let d = parse_os_release(text).expect("distribution");
        assert_eq!(d.id, "debian");
        assert_eq!(d.name, "Debian GNU/Linux");
        assert_eq!(d.version_id.as_deref(), Some("12"));
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(unquote("'a \\\"b\\\"'"), "a \"b\"");
        assert!(parse_os_release("# nothing\n").is_none());
    }

    #[test]
    fn parses_meminfo() {
        let m = memory_from_meminfo(
            "MemTotal:       16318480 kB\nMemFree: 1 kB\nMemAvailable:   12000000 kB\n",
        );
        assert_eq!(m.total_bytes, Some(16318480 * 1024));
        assert_eq!(m.available_bytes, Some(12000000 * 1024));
        assert_eq!(memory_from_meminfo("MemTotalX: 5 kB\n").total_bytes, None);
    }

    #[test]
    fn collects_the_live_host() {
        let root = HostRoot::live();
        let facts = collect(&HostInputs {
            root: &root,
            env: &crate::host::real_env,
            run_wslinfo: false,
        });
        assert_eq!(facts.os, std::env::consts::OS);
        assert!(!facts.recorded);
        assert!(
            facts.cpu.logical_cpus.is_some_and(|n| n > 0),
            "{:?}",
            facts.cpu
        );
        if cfg!(target_os = "linux") {
            assert!(
                facts.kernel_release.is_some(),
                "unreadable: {:?}",
                facts.unreadable
            );
            assert!(facts.memory.total_bytes.is_some_and(|t| t > 0));
            assert!(facts.memory.available_bytes <= facts.memory.total_bytes);
        }
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            let glibc = facts.glibc_version.expect("glibc version");
            assert!(glibc.value.starts_with("2."), "{glibc:?}");
            assert_eq!(facts.libc.map(|l| l.value).as_deref(), Some("glibc"));
        }
    }
}
