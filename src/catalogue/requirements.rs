//! The requirements that apply to one backend on this host: the profile's own, plus those
//! generated from its ports, lock files, sockets and free-space floor, filtered by the judged
//! package version, the host OS and the architecture.

use super::profile::{
    BackendKind, Effect, Expect, Floor, Profile, ReqScope, Requirement, Resource,
};
use crate::host::HostFacts;

/// Every requirement of `profile` that applies here. `version` is the installed (or assumed)
/// version of the profile's package; a requirement with `versions` applies only when it matches.
pub fn applicable_requirements(
    profile: &Profile,
    version: Option<&str>,
    host: &HostFacts,
) -> Vec<Requirement> {
    let mut all = generated(profile);
    all.extend(profile.requirements.iter().cloned());
    all.retain(|r| {
        version_applies(r.versions.as_deref(), version)
            && list_allows(&r.os, &host.os)
            && list_allows(&r.arch, &host.arch)
    });
    if host.os == "windows" {
        for r in &mut all {
            if let Some(w) = r.remediation_windows.take() {
                r.remediation = w;
            }
        }
    }
    all
}

fn list_allows(list: &[String], value: &str) -> bool {
    list.is_empty() || list.iter().any(|v| v.eq_ignore_ascii_case(value))
}

/// A requirement without `versions` always applies; with one, only when the judged version
/// matches. When no version is known at all, version-specific requirements do not apply.
pub fn version_applies(spec: Option<&str>, version: Option<&str>) -> bool {
    match (spec, version) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(s), Some(v)) => super::version::matches(s, v).unwrap_or(false),
    }
}

/// Requirements implied by the profile's data: ports, lock files, sockets, free space.
pub fn generated(profile: &Profile) -> Vec<Requirement> {
    let mut out = Vec::new();
    if let Some(r) = data_dir_writable(profile) {
        out.push(r);
    }
    for p in &profile.ports {
        out.push(Requirement {
            id: format!("port-{}-free", p.port),
            probe: format!("port:{}", p.port),
            scope: ReqScope::Host,
            effect: p.effect,
            versions: p.versions.clone(),
            os: vec![],
            arch: vec![],
            expect: None,
            errnos: vec![],
            violated_when_applicable: false,
            remediation_windows: None,
            explain: format!("{} listens on port {} ({}) by default; it cannot start while another process holds it", profile.name, p.port, p.role),
            remediation: format!("Stop the process holding port {} (named in the evidence) or configure {} to use another port.", p.port, profile.name),
            source: p.source.clone(),
        });
    }
    for l in &profile.lock_files {
        out.push(Requirement {
            id: format!("lock-file-{}-free", l.path.trim_start_matches('.')),
            probe: format!("lockfile:{}", l.path),
            scope: ReqScope::DataDir,
            effect: Effect::Block,
            versions: l.versions.clone(),
            os: vec![],
            arch: vec![],
            expect: None,
            errnos: vec![],
            violated_when_applicable: false,
            remediation_windows: None,
            explain: format!("{} takes an exclusive {} lock on {} in its data dir; a second instance cannot open it", profile.name, l.mechanism, l.path),
            remediation: format!("Close the other process using this data dir (named in the evidence), or give {} its own data dir.", profile.name),
            source: l.source.clone(),
        });
    }
    for s in &profile.sockets {
        if s.base.starts_with('/') {
            out.extend(socket_dir_writable(profile, s));
            continue;
        }
        let (scope, where_) = if s.base == "tmp" {
            (ReqScope::Host, "the temp dir")
        } else {
            (ReqScope::DataDir, "the data dir")
        };
        out.push(Requirement {
            id: format!("socket-path-{}", s.name),
            probe: "uds.path_length".into(),
            scope,
            effect: Effect::Block,
            versions: s.versions.clone(),
            os: vec![],
            arch: vec![],
            expect: Some(Expect {
                field: format!("fits.{}", profile.id),
                equals: Some(toml::Value::Boolean(true)),
                ..Default::default()
            }),
            errnos: vec![],
            violated_when_applicable: false,
            remediation_windows: None,
            explain: format!(
                "{} creates the unix socket {} in {}; its full path must fit in sun_path",
                profile.name, s.name, where_
            ),
            remediation: if s.base == "tmp" {
                "Set TMPDIR to a short path on the Linux filesystem (e.g. /tmp).".into()
            } else {
                "Use a data dir with a shorter absolute path (unix socket paths are limited to 107 bytes on Linux, 103 on macOS).".into()
            },
            source: s.source.clone(),
        });
    }
    for f in &profile.floors {
        out.extend(floor_requirements(profile, f));
    }
    if let Some(mib) = profile.min_free_mib {
        out.push(Requirement {
            id: "free-space".into(),
            probe: "file.free_space".into(),
            scope: ReqScope::DataDir,
            effect: Effect::Block,
            versions: None,
            os: vec![],
            arch: vec![],
            expect: Some(Expect {
                field: "free_bytes".into(),
                min: Some((mib * 1024 * 1024) as f64),
                ..Default::default()
            }),
            errnos: vec![],
            violated_when_applicable: false,
            remediation_windows: None,
            explain: format!(
                "{} needs at least {mib} MiB free in its data dir",
                profile.name
            ),
            remediation: "free space on that filesystem or choose a data dir on a larger one"
                .into(),
            source: profile
                .min_free_source
                .clone()
                .unwrap_or_else(|| profile.docs.clone()),
        });
    }
    out
}

/// Every embedded or server backend keeps its data in the data dir it is judged on, so a data
/// dir where no file can be created blocks it, whatever else its profile lists. A profile that
/// states this itself (a blocking `file.create` requirement, with its own wording and source)
/// gets no generated copy; one that forgot it (or a user's profile) still cannot come out
/// `degraded` or `viable` on a read-only or full data dir.
fn data_dir_writable(profile: &Profile) -> Option<Requirement> {
    if profile.kind == BackendKind::Cloud
        || profile
            .requirements
            .iter()
            .any(|r| r.probe == "file.create" && r.effect == Effect::Block && r.versions.is_none())
    {
        return None;
    }
    Some(Requirement {
        id: "data-dir-writable".into(),
        probe: "file.create".into(),
        scope: ReqScope::DataDir,
        effect: Effect::Block,
        versions: None,
        os: vec![],
        arch: vec![],
        expect: None,
        errnos: vec![],
        violated_when_applicable: false,
        explain: format!(
            "{} keeps its data in the data dir ({} backend), and a file could not be created, written and fsync'd there.",
            profile.name,
            profile.kind.as_str()
        ),
        remediation: "Use a data dir the user can write, with free space, on a local filesystem."
            .into(),
        remediation_windows: None,
        source: profile.docs.clone(),
    })
}

/// A socket in an absolute directory (outside the data dir) needs this user to be allowed to
/// create files there. A profile with its own requirement on `uds.socket_dir:<dir>` (its own
/// wording, remediation and source) gets no generated one.
fn socket_dir_writable(
    profile: &Profile,
    s: &crate::catalogue::profile::Socket,
) -> Option<Requirement> {
    let probe = format!("uds.socket_dir:{}", s.base);
    if profile.requirements.iter().any(|r| r.probe == probe) {
        return None;
    }
    Some(Requirement {
        id: format!("socket-dir-{}", s.name.trim_start_matches('.')),
        probe,
        scope: ReqScope::Host,
        effect: Effect::Block,
        versions: s.versions.clone(),
        os: vec![],
        arch: vec![],
        expect: None,
        errnos: vec![],
        violated_when_applicable: false,
        remediation_windows: None,
        explain: format!(
            "{} creates its unix socket {} in {}, and this user may not create files there.",
            profile.name, s.name, s.base
        ),
        remediation: format!(
            "Run {} as a user who may write {}, or configure its socket into a directory this user can write.",
            profile.name, s.base
        ),
        source: s.source.clone(),
    })
}

/// A floor is two requirements on the same observation field: `block` under `min`, `degrade`
/// under the near threshold. An unlimited rlimit (null) satisfies both; an unmeasured free
/// space stays unobserved.
fn floor_requirements(profile: &Profile, f: &Floor) -> Vec<Requirement> {
    let (probe, field, scope, null_is_unlimited) = f.resource.measured_by();
    let name = f.resource.as_str();
    let near = f.near_threshold();
    let show = |n: u64| human(f.resource, n);
    let fails = f
        .fails_with
        .as_deref()
        .map(|e| format!(" (`{e}`)"))
        .unwrap_or_default();
    let remediation = match f.resource {
        Resource::FreeSpace => format!(
            "Free space on the data dir's filesystem (at least {}) or choose a data dir on a larger one.",
            show(near)
        ),
        Resource::OpenFiles => format!(
            "Raise the open-files limit for the process (`ulimit -n {near}`; Docker: `--ulimit nofile={near}:{near}`)."
        ),
        Resource::AddressSpace => {
            "Raise or remove the address-space limit (`ulimit -v unlimited`) for the process."
                .into()
        }
        Resource::Inodes => format!(
            "Free inodes on the data dir's filesystem (delete files, or make it with more inodes: at least {near} free) or choose a data dir on another filesystem."
        ),
        Resource::Pids => format!(
            "Allow more tasks (processes and threads; at least {near} more): raise the container's pids limit (`docker run --pids-limit`, Kubernetes `podPidsLimit`, systemd `TasksMax=`) or `ulimit -u`, or stop what uses them."
        ),
        Resource::Memory => format!(
            "Give it more memory (at least {}): raise the container's or cgroup's memory limit (`docker run --memory`, Kubernetes `resources.limits.memory`, systemd `MemoryMax=`, WSL2 `.wslconfig` `memory=`) or stop what uses it.",
            show(near)
        ),
    };
    // Thread pools sized by the CPU count: the floor grows per logical CPU, and "close" is
    // twice the whole threshold.
    let expect = |min: u64, scale: f64| Expect {
        field: field.into(),
        min: Some(min as f64),
        min_per_cpu: f.per_cpu.map(|p| p * scale),
        missing: null_is_unlimited.then(|| "satisfied".to_string()),
        ..Default::default()
    };
    let per_cpu = f
        .per_cpu
        .map(|p| format!(" plus {p} per logical CPU"))
        .unwrap_or_default();
    let base = Requirement {
        id: format!("floor-{name}"),
        probe: probe.into(),
        scope,
        effect: Effect::Block,
        versions: f.versions.clone(),
        os: vec![],
        arch: vec![],
        expect: Some(expect(f.min, 1.0)),
        errnos: vec![],
        violated_when_applicable: false,
        explain: format!(
            "{} fails with less than {}{per_cpu} ({name}){fails}, and less was observed here.",
            profile.name,
            show(f.min)
        ),
        remediation: remediation.clone(),
        remediation_windows: None,
        source: f.source.clone(),
    };
    let close = Requirement {
        id: format!("floor-{name}-near"),
        effect: Effect::Degrade,
        expect: Some(expect(near, near as f64 / f.min.max(1) as f64)),
        explain: format!(
            "{} fails below {}{per_cpu} ({name}){fails}, and less than {} was observed here: close to that floor.",
            profile.name,
            show(f.min),
            show(near)
        ),
        ..base.clone()
    };
    vec![base, close]
}

fn human(resource: Resource, n: u64) -> String {
    if resource == Resource::OpenFiles {
        return format!("{n} open files");
    }
    if resource == Resource::Pids {
        return format!("{n} more tasks");
    }
    if resource == Resource::Inodes {
        return format!("{n} free inodes");
    }
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}
