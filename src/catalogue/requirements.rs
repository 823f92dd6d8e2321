//! The requirements that apply to one backend on this host: the profile's own, plus those
//! generated from its ports, lock files, sockets and free-space floor, filtered by the judged
//! package version, the host OS and the architecture.

use super::profile::{Effect, Expect, Profile, ReqScope, Requirement};
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
