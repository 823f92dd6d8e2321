//! Catalogue rules a parsed profile must follow beyond its schema: ids, sources, probe id
//! families and their scopes, version ranges, and well-formed `expect` predicates.

use super::syntax::{
    is_absolute_dir, is_kebab, is_relative_path, is_source, is_url, probe_scopes, scope_name,
};
use crate::catalogue::profile::{Expect, Profile, Requirement};
use crate::catalogue::version::{Version, VersionRange};
use std::collections::HashSet;

/// Host OS names a filter may use (`std::env::consts::OS`).
const KNOWN_OS: &[&str] = &[
    "linux", "macos", "windows", "freebsd", "netbsd", "openbsd", "android", "ios",
];
/// Architecture names a filter may use (`std::env::consts::ARCH`).
const KNOWN_ARCH: &[&str] = &[
    "x86_64",
    "aarch64",
    "x86",
    "arm",
    "riscv64",
    "powerpc64",
    "s390x",
    "loongarch64",
    "mips64",
];
/// Values of `expect.missing`.
const MISSING_OUTCOMES: &[&str] = &["violated", "satisfied", "unobserved"];

/// Where in the profile a problem is: the requirement (by position) and the key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Locus {
    pub requirement: usize,
    pub key: &'static str,
}

/// Checks a profile against the catalogue rules; every problem found is listed.
pub fn validate(profile: &Profile) -> Result<(), Vec<String>> {
    let problems: Vec<String> = validate_located(profile)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Every problem, with the requirement key it is about when it is about one.
pub fn validate_located(profile: &Profile) -> Vec<(Option<Locus>, String)> {
    let mut located = Vec::new();
    let mut problems = Vec::new();
    let mut problem = |what: String| problems.push(what);

    if !is_kebab(&profile.id) {
        problem(format!(
            "id `{}` must be non-empty kebab-case (a-z, 0-9, single dashes)",
            profile.id
        ));
    }
    if profile.requirements.is_empty()
        && crate::catalogue::requirements::generated(profile).is_empty()
    {
        problem(
            "the profile has no requirement: every verdict must rest on at least one observation"
                .into(),
        );
    }
    for (field, value) in [("name", &profile.name), ("summary", &profile.summary)] {
        if value.trim().is_empty() {
            problem(format!("`{field}` is empty"));
        }
    }
    if !is_url(&profile.docs) {
        problem(format!(
            "`docs` must be an http(s) URL, not `{}`",
            profile.docs
        ));
    }
    if profile
        .package
        .as_deref()
        .is_some_and(|p| p.trim().is_empty())
    {
        problem("`package` is empty".into());
    }
    if let Some(assumed) = &profile.assumed_version {
        if profile.package.is_none() {
            problem("`assumed_version` needs `package`".into());
        }
        if let Err(e) = Version::parse(assumed) {
            problem(format!("assumed_version: {e}"));
        }
    }
    let has_package = profile.package.is_some();

    for (i, platform) in profile.platforms.iter().enumerate() {
        let at = format!("platforms[{i}]");
        check_versions(&at, platform.versions.as_deref(), has_package, &mut problem);
        check_names(&at, "os", &platform.os, KNOWN_OS, &mut problem);
        check_names(&at, "arch", &platform.arch, KNOWN_ARCH, &mut problem);
        for (field, value) in [
            ("glibc_min", &platform.glibc_min),
            ("python_min", &platform.python_min),
        ] {
            if let Some(Err(e)) = value.as_deref().map(Version::parse) {
                problem(format!("{at}.{field}: {e}"));
            }
        }
        check_source(&at, &platform.source, &mut problem);
    }
    for (i, port) in profile.ports.iter().enumerate() {
        let at = format!("ports[{i}] ({})", port.port);
        if port.port == 0 {
            problem(format!("{at}: port 0 is not a fixed port"));
        }
        if port.role.trim().is_empty() {
            problem(format!("{at}: `role` is empty"));
        }
        check_versions(&at, port.versions.as_deref(), has_package, &mut problem);
        check_source(&at, &port.source, &mut problem);
    }
    for (i, lock) in profile.lock_files.iter().enumerate() {
        let at = format!("lock_files[{i}]");
        if !is_relative_path(&lock.path) {
            problem(format!(
                "{at}: `path` must be a non-empty path relative to the data dir, not `{}`",
                lock.path
            ));
        }
        if lock.mechanism.trim().is_empty() {
            problem(format!("{at}: `mechanism` is empty"));
        }
        check_versions(&at, lock.versions.as_deref(), has_package, &mut problem);
        check_source(&at, &lock.source, &mut problem);
    }
    for (i, socket) in profile.sockets.iter().enumerate() {
        let at = format!("sockets[{i}]");
        if socket.base != "data_dir" && socket.base != "tmp" && !is_absolute_dir(&socket.base) {
            problem(format!(
                "{at}: `base` must be `data_dir`, `tmp` or an absolute directory, not `{}`",
                socket.base
            ));
        }
        if !is_relative_path(&socket.name) {
            problem(format!(
                "{at}: `name` must be a non-empty relative path, not `{}`",
                socket.name
            ));
        }
        check_versions(&at, socket.versions.as_deref(), has_package, &mut problem);
        check_source(&at, &socket.source, &mut problem);
    }
    match (profile.min_free_mib, &profile.min_free_source) {
        (Some(_), Some(source)) => check_source("min_free_source", source, &mut problem),
        (Some(_), None) => problem("`min_free_mib` needs `min_free_source`".into()),
        (None, Some(_)) => problem("`min_free_source` without `min_free_mib`".into()),
        (None, None) => {}
    }

    let mut floors_seen = Vec::new();
    for (i, floor) in profile.floors.iter().enumerate() {
        let at = format!("floors[{i}] ({})", floor.resource.as_str());
        if floor.min == 0 {
            problem(format!("{at}: `min` must be above 0"));
        }
        if floor.near.is_some_and(|n| n <= floor.min) {
            problem(format!("{at}: `near` must be above `min`"));
        }
        match floor.per_cpu {
            Some(_) if floor.resource != crate::catalogue::profile::Resource::Pids => {
                problem(format!("{at}: `per_cpu` is for `pids` floors only"))
            }
            Some(p) if !(p.is_finite() && p >= 0.0) => {
                problem(format!("{at}: `per_cpu` must be a number of at least 0"))
            }
            _ => {}
        }
        if floors_seen.contains(&(floor.resource, floor.versions.clone())) {
            problem(format!(
                "{at}: two floors for one resource and version range"
            ));
        }
        floors_seen.push((floor.resource, floor.versions.clone()));
        check_versions(&at, floor.versions.as_deref(), has_package, &mut problem);
        check_source(&at, &floor.source, &mut problem);
    }
    if profile.min_free_mib.is_some()
        && profile
            .floors
            .iter()
            .any(|f| f.resource == crate::catalogue::profile::Resource::FreeSpace)
    {
        problem("`min_free_mib` and a free-space floor: use the floor".into());
    }

    located.extend(problems.into_iter().map(|p| (None, p)));

    let mut ids = HashSet::new();
    for (index, requirement) in profile.requirements.iter().enumerate() {
        let at = format!("requirement `{}`", requirement.id);
        let mut problem = |key: &'static str, what: String| {
            located.push((
                Some(Locus {
                    requirement: index,
                    key,
                }),
                what,
            ))
        };
        if !is_kebab(&requirement.id) {
            problem("id", format!("{at}: id must be non-empty kebab-case"));
        }
        if !ids.insert(requirement.id.as_str()) {
            problem("id", format!("{at}: duplicate requirement id"));
        }
        if let Some(dir) = requirement.probe.strip_prefix("uds.socket_dir:")
            && !profile.sockets.iter().any(|s| s.base == dir)
        {
            problem(
                "probe",
                format!(
                    "{at}: `{}` is observed only for a socket dir the profile lists: add a [[sockets]] entry with base = \"{dir}\"",
                    requirement.probe
                ),
            );
        }
        check_requirement(&at, requirement, has_package, &mut problem);
    }
    located
}

fn check_requirement(
    at: &str,
    r: &Requirement,
    has_package: bool,
    problem: &mut impl FnMut(&'static str, String),
) {
    match probe_scopes(&r.probe) {
        Err(e) => problem("probe", format!("{at}: probe {e}")),
        Ok(scopes) if !scopes.contains(&r.scope) => {
            let allowed: Vec<&str> = scopes.iter().map(|s| scope_name(*s)).collect();
            problem(
                "scope",
                format!(
                    "{at}: `{}` is observed with scope {}, not {}",
                    r.probe,
                    allowed.join(" or "),
                    scope_name(r.scope)
                ),
            );
        }
        Ok(_) => {}
    }
    check_versions(at, r.versions.as_deref(), has_package, &mut |m| {
        problem("versions", m)
    });
    check_names(at, "os", &r.os, KNOWN_OS, &mut |m| problem("os", m));
    check_names(at, "arch", &r.arch, KNOWN_ARCH, &mut |m| problem("arch", m));
    if let Some(expect) = &r.expect {
        check_expect(at, expect, &mut |m| problem("expect", m));
        check_expect_field(at, &r.probe, &expect.field, &mut |m| problem("expect", m));
    }
    for errno in &r.errnos {
        let symbolic =
            (errno.starts_with('E') || errno.starts_with("SIG") || errno.starts_with("WSAE"))
                && errno
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !symbolic {
            problem(
                "errnos",
                format!("{at}: errno `{errno}` must be a symbolic name such as ENOLCK"),
            );
        }
    }
    if r.violated_when_applicable {
        if r.versions.is_none() && r.os.is_empty() && r.arch.is_empty() {
            problem(
                "violated_when_applicable",
                format!(
                    "{at}: `violated_when_applicable` needs a `versions`, `os` or `arch` filter"
                ),
            );
        }
        if r.expect.is_some() || !r.errnos.is_empty() {
            problem(
                "violated_when_applicable",
                format!("{at}: `violated_when_applicable` takes no `expect` or `errnos`"),
            );
        }
    }
    for (field, value) in [("explain", &r.explain), ("remediation", &r.remediation)] {
        if value.trim().is_empty() {
            problem(field, format!("{at}: `{field}` is empty"));
        } else if value.contains('\n') {
            problem(field, format!("{at}: `{field}` must be one line"));
        }
    }
    check_source(at, &r.source, &mut |m| problem("source", m));
}

/// `expect.field` must start with a field the observation documents in its `values`.
fn check_expect_field(at: &str, probe: &str, field: &str, problem: &mut impl FnMut(String)) {
    let Some(documented) = super::documented::lookup(probe) else {
        return;
    };
    let first = field.split('.').next().unwrap_or("");
    if !documented.fields.iter().any(|f| f == first) {
        let known: Vec<&str> = documented.fields.iter().map(String::as_str).collect();
        problem(format!(
            "{at}: expect.field `{field}`: `{probe}` has no value `{first}` (it reports {}){}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            },
            crate::catalogue::suggest::hint(first, known.iter().copied())
        ));
    }
}

fn check_expect(at: &str, e: &Expect, problem: &mut impl FnMut(String)) {
    if e.field.trim().is_empty() || e.field.split('.').any(str::is_empty) {
        problem(format!(
            "{at}: expect.field `{}` must be a dotted path",
            e.field
        ));
    }
    let predicates = [
        ("equals", e.equals.is_some()),
        ("one_of", !e.one_of.is_empty()),
        ("none_of", !e.none_of.is_empty()),
        ("min", e.min.is_some()),
        ("max", e.max.is_some()),
        ("contains_all", !e.contains_all.is_empty()),
        ("version_min", e.version_min.is_some()),
    ];
    let given: Vec<&str> = predicates
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect();
    if e.min_per_cpu.is_some() && e.min.is_none() {
        problem(format!("{at}: expect.min_per_cpu goes with expect.min"));
    }
    if given.len() != 1 {
        let names: Vec<&str> = predicates.iter().map(|(name, _)| *name).collect();
        problem(format!(
            "{at}: expect needs exactly one of {} (found {})",
            names.join(", "),
            given.len()
        ));
    }
    if let Some(Err(err)) = e.version_min.as_deref().map(Version::parse) {
        problem(format!("{at}: expect.version_min: {err}"));
    }
    if let Some(missing) = &e.missing
        && !MISSING_OUTCOMES.contains(&missing.as_str())
    {
        problem(format!(
            "{at}: expect.missing must be one of {}, not `{missing}`",
            MISSING_OUTCOMES.join(", ")
        ));
    }
}

fn check_versions(
    at: &str,
    versions: Option<&str>,
    has_package: bool,
    problem: &mut impl FnMut(String),
) {
    let Some(versions) = versions else { return };
    if !has_package {
        problem(format!("{at}: `versions` needs the profile's `package`"));
    }
    if let Err(e) = VersionRange::parse(versions) {
        problem(format!("{at}: {e}"));
    }
}

fn check_names(
    at: &str,
    field: &str,
    names: &[String],
    known: &[&str],
    problem: &mut impl FnMut(String),
) {
    for name in names {
        if !known.contains(&name.as_str()) {
            problem(format!(
                "{at}: {field} `{name}` is not one of {}",
                known.join(", ")
            ));
        }
    }
}

fn check_source(at: &str, source: &str, problem: &mut impl FnMut(String)) {
    if !is_source(source) {
        problem(format!(
            "{at}: source `{source}` must be URLs, owner/repo:path[@ref] or files of this repository (reports/…), separated by `; `"
        ));
    }
}
