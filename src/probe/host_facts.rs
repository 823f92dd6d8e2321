//! Probe `host_facts`: turns the host facts (`ctx.host`) and each data dir's filesystem facts
//! into observations — `host.platform`, `host.cpu`, `host.memory`, `host.wsl`, and one
//! `fs.mount` per data dir. It reads nothing itself: the facts were collected before the run.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::host::{HostFacts, Sourced};
use crate::observation::Observation;
use serde_json::Value;
use std::time::{Duration, Instant};

pub static PROBE: ProbeDef = ProbeDef {
    name: "host_facts",
    kind: ProbeKind::Host,
    scope: Scope::Host,
    timeout: Duration::from_millis(1500),
    plan,
    run,
    in_agent: false,
};

const HOST: &str = "host";
const HOST_IDS: [&str; 4] = ["host.platform", "host.cpu", "host.memory", "host.wsl"];

fn plan(ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    let mut planned: Vec<Planned> = HOST_IDS.iter().map(|id| Planned::new(*id, HOST)).collect();
    planned.extend(
        ctx.data_dirs
            .iter()
            .map(|d| Planned::new("fs.mount", d.target())),
    );
    planned
}

fn run(ctx: &ProbeContext, _dir: Option<&DataDir>, sink: &Sink) {
    let start = Instant::now();
    let host = &ctx.host;
    sink.emit(platform(host).elapsed_since(start));
    sink.emit(cpu(host).elapsed_since(start));
    sink.emit(memory(host).elapsed_since(start));
    sink.emit(wsl(host).elapsed_since(start));
    for dir in &ctx.data_dirs {
        sink.emit(fs_mount(dir, ctx.host_root.is_recorded()).elapsed_since(start));
    }
}

fn value_of<T: Clone + Into<Value>>(fact: &Option<Sourced<T>>) -> Value {
    fact.as_ref()
        .map(|f| f.value.clone().into())
        .unwrap_or(Value::Null)
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map(Into::into).unwrap_or(Value::Null)
}

pub fn platform(host: &HostFacts) -> Observation {
    let distribution = host
        .distribution
        .as_ref()
        .map(|d| d.pretty_name.clone().unwrap_or_else(|| d.name.clone()));
    let mut summary = format!("{} {}", host.os, host.arch);
    if let Some(k) = &host.kernel_release {
        summary.push_str(&format!(", kernel {} ({})", k.value, k.source));
    }
    if let Some(d) = &distribution {
        summary.push_str(&format!(", {d}"));
    }
    if host.recorded {
        summary.push_str(", recorded host");
    }
    if !host.unreadable.is_empty() {
        summary.push_str(&format!("; unreadable: {}", host.unreadable.join(", ")));
    }
    Observation::pass("host.platform", HOST, summary)
        .with("os", host.os.clone())
        .with("arch", host.arch.clone())
        .with("kernel_release", value_of(&host.kernel_release))
        .with("libc", value_of(&host.libc))
        .with("glibc", value_of(&host.glibc_version))
        .with("distribution", opt(distribution))
        .with("wsl_detected", host.wsl.detected)
        .with("wsl_version", opt(host.wsl.version))
        .with("container", host.container.detected)
        .with("on_wsl_kernel", host.container.on_wsl_kernel)
}

pub fn cpu(host: &HostFacts) -> Observation {
    let c = &host.cpu;
    if c.source.is_empty() {
        let why = unreadable_like(host, "cpuinfo")
            .unwrap_or_else(|| "no CPU facts were collected".into());
        return Observation::skipped("host.cpu", HOST, format!("CPU facts not readable: {why}"));
    }
    let message = format!(
        "{} logical CPUs; of the features backends need ({}), present: {} ({})",
        c.logical_cpus
            .map(|n| n.to_string())
            .unwrap_or_else(|| "?".into()),
        c.checked.join(", "),
        if c.features.is_empty() {
            "none".to_string()
        } else {
            c.features.join(", ")
        },
        c.source
    );
    Observation::pass("host.cpu", HOST, message)
        .with("model", opt(c.model.clone()))
        .with("features", c.features.clone())
        .with("logical_cpus", opt(c.logical_cpus))
}

pub fn memory(host: &HostFacts) -> Observation {
    let m = &host.memory;
    if m.total_bytes.is_none() && m.available_bytes.is_none() {
        let why =
            unreadable_like(host, "meminfo").unwrap_or_else(|| "not read on this OS yet".into());
        return Observation::skipped(
            "host.memory",
            HOST,
            format!("memory facts not readable: {why}"),
        );
    }
    let mib = |b: Option<u64>| {
        b.map(|b| format!("{} MiB", b / (1024 * 1024)))
            .unwrap_or_else(|| "?".into())
    };
    let message = format!(
        "{} total, {} available ({})",
        mib(m.total_bytes),
        mib(m.available_bytes),
        m.source
    );
    Observation::pass("host.memory", HOST, message)
        .with("total_bytes", opt(m.total_bytes))
        .with("available_bytes", opt(m.available_bytes))
}

fn unreadable_like(host: &HostFacts, needle: &str) -> Option<String> {
    host.unreadable.iter().find(|u| u.contains(needle)).cloned()
}

pub fn wsl(host: &HostFacts) -> Observation {
    let w = &host.wsl;
    let message = if w.detected {
        let mut m = format!(
            "WSL {}",
            w.version
                .map(|v| v.to_string())
                .unwrap_or_else(|| "?".into())
        );
        if let Some(mode) = &w.networking_mode {
            m.push_str(&format!(", networking {} ({})", mode.value, mode.source));
        }
        format!("{m}; evidence: {}", w.evidence.join("; "))
    } else if host.container.on_wsl_kernel {
        format!(
            "not WSL: a container on a WSL kernel; evidence: {}",
            w.evidence.join("; ")
        )
    } else if host.os == "windows" {
        return windows_side_wsl();
    } else {
        "not WSL: no WSL kernel string, WSLInterop binfmt entry or drvfs mount".to_string()
    };
    Observation::pass("host.wsl", HOST, message)
        .with("detected", w.detected)
        .with("version", opt(w.version))
        .with("networking_mode", value_of(&w.networking_mode))
        .with("networking_mode_inferred", w.networking_mode_inferred)
        .with("interop", value_of(&w.interop))
        .with("systemd", value_of(&w.systemd))
        .with("distro", value_of(&w.distro_name))
        .with("docker_desktop", !w.docker_desktop.is_empty())
}

/// Native Windows: this is not WSL, but whether WSL is installed next to it, its default
/// version and networking mode decide whether "run it inside WSL2" is advice that applies.
#[cfg(windows)]
fn windows_side_wsl() -> Observation {
    let userprofile = std::env::var("USERPROFILE").ok();
    let w = crate::platform::windows::wsl::detect(userprofile.as_deref());
    let message = if w.installed {
        format!(
            "native Windows, not WSL; WSL is installed (default version {}, default distribution {}, networking {}); evidence: {}",
            w.default_version
                .map_or("unset (2)".into(), |v| v.to_string()),
            w.default_distro.as_deref().unwrap_or("none"),
            w.networking_mode.as_deref().unwrap_or("nat (default)"),
            w.evidence.join("; ")
        )
    } else {
        "native Windows, not WSL; WSL is not installed (no LxssManager or WSLService service key)"
            .to_string()
    };
    Observation::pass("host.wsl", HOST, message)
        .with("detected", false)
        .with("version", serde_json::Value::Null)
        .with("windows_wsl_installed", w.installed)
        .with("windows_wsl_default_version", opt(w.default_version))
        .with("windows_wsl_default_distro", opt(w.default_distro.clone()))
        .with(
            "windows_wsl_default_distro_version",
            opt(w.default_distro_version),
        )
        .with("networking_mode", opt(w.networking_mode.clone()))
}

#[cfg(not(windows))]
fn windows_side_wsl() -> Observation {
    Observation::skipped(
        "host.wsl",
        HOST,
        "the Windows side of WSL is read only on Windows",
    )
}

pub fn fs_mount(dir: &DataDir, recorded: bool) -> Observation {
    let fs = &dir.facts.filesystem;
    let target = dir.target();
    let described = format!(
        "{} ({}) on {} from {}",
        fs.fs_type,
        fs.class.as_str(),
        fs.mount_point.as_deref().unwrap_or("?"),
        fs.source_of_facts
    );
    let obs = if !fs.answered() {
        // Observed, in a way: the filesystem did not answer stat/statfs in time.
        Observation::fail(
            "fs.mount",
            &target,
            format!("{target}: {}", fs.source_of_facts),
        )
        .with_errno("ETIMEDOUT")
    } else if dir.facts.exists {
        Observation::pass("fs.mount", &target, described)
    } else if recorded {
        // The recording is the host: its mount table says what this dir is on.
        let msg = format!("{described} (the recorded mount table; the dir is not on this machine)");
        Observation::pass("fs.mount", &target, msg)
    } else {
        let msg = format!(
            "{target} does not exist; class from the mount table entry it would be under: {described}"
        );
        Observation::skipped("fs.mount", &target, msg)
    };
    obs.with("type", fs.fs_type.clone())
        .with("class", fs.class.as_str())
        .with("source", opt(fs.source.clone()))
        .with("mount_point", opt(fs.mount_point.clone()))
        .with("options", opt(fs.options.as_deref().map(redact_options)))
        .with("read_only", opt(fs.read_only))
        .with("free_bytes", opt(fs.free_bytes))
        .with("statfs_magic", opt(fs.statfs_magic.clone()))
}

/// Mount options with the values of credential-like options replaced (`password=…`).
pub fn redact_options(options: &str) -> String {
    options
        .split(',')
        .map(|o| match o.split_once('=') {
            Some((key, _))
                if ["pass", "secret", "token", "cred", "key"]
                    .iter()
                    .any(|s| key.to_ascii_lowercase().contains(s)) =>
            {
                format!("{key}=<redacted>")
            }
            _ => o.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests;
