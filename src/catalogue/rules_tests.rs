//! Unit tests of the verdict logic over an inline profile and synthetic observations.

use super::profile::Profile;
use super::rules::{Outcome, Verdict, evaluate};
use crate::host::HostFacts;
use crate::observation::Observation;

const PROFILE: &str = r#"
id = "toy"
name = "Toy DB"
kind = "embedded"
summary = "test"
docs = "https://example.org"
package = "toy"
assumed_version = "3.1"

[[ports]]
port = 7777
role = "gRPC"
source = "https://example.org/ports"

[[lock_files]]
path = "LOCK"
mechanism = "flock"
versions = ">=3"
source = "https://example.org/lock"

[[requirement]]
id = "flock"
probe = "lock.flock"
scope = "data_dir"
effect = "block"
explain = "takes flock"
remediation = "move the data dir"
source = "https://example.org/flock"

[[requirement]]
id = "not-tmpfs"
probe = "fs.mount"
scope = "data_dir"
effect = "degrade"
expect = { field = "class", none_of = ["tmpfs"] }
explain = "tmpfs loses data"
remediation = "use a disk"
source = "https://example.org/tmpfs"

[[requirement]]
id = "old-bug"
probe = "python.packages"
scope = "host"
effect = "degrade"
versions = "<2.4.12"
violated_when_applicable = true
explain = "old versions hide start failures"
remediation = "upgrade"
source = "https://example.org/bug"
"#;

fn profile() -> Profile {
    toml::from_str(PROFILE).expect("test profile parses")
}

const DIR: &str = "/data";

fn healthy() -> Vec<Observation> {
    vec![
        Observation::pass("port:7777", "loopback:7777", "free"),
        Observation::pass("lockfile:LOCK", DIR, "absent"),
        Observation::pass("lock.flock", DIR, "excludes"),
        Observation::pass("file.create", DIR, "created"),
        Observation::pass("fs.mount", DIR, "ext4").with("class", "local"),
        Observation::pass("python.packages", "host", "read")
            .with("packages", serde_json::json!({"toy": null})),
    ]
}

fn judge(obs: &[Observation]) -> super::rules::BackendVerdict {
    let v = evaluate(&[profile()], obs, &HostFacts::default(), &[DIR.to_string()]);
    assert_eq!(v.len(), 1);
    v.into_iter().next().unwrap_or_else(|| unreachable!())
}

fn replace(mut obs: Vec<Observation>, new: Observation) -> Vec<Observation> {
    obs.retain(|o| !(o.id == new.id && o.target == new.target));
    obs.push(new);
    obs
}

#[test]
fn all_requirements_satisfied_is_viable_with_reasons() {
    let v = judge(&healthy());
    assert_eq!(v.verdict, Verdict::Viable);
    assert_eq!(
        v.reasons.len(),
        5,
        "data dir writable (generated), port, lock file, flock, tmpfs; the old-bug rule does not apply to 3.1"
    );
    assert!(v.reasons.iter().all(|r| r.outcome == Outcome::Satisfied));
    let ver = v.version.expect("judged version");
    assert!(!ver.installed);
    assert_eq!(ver.version.as_deref(), Some("3.1"));
}

#[test]
fn a_failed_blocking_observation_blocks_and_names_errno_and_remediation() {
    let obs = replace(
        healthy(),
        Observation::fail("lock.flock", DIR, "flock failed").with_errno("ENOLCK"),
    );
    let v = judge(&obs);
    assert_eq!(v.verdict, Verdict::Blocked);
    assert_eq!(v.evidence, "lock.flock in /data: ENOLCK");
    assert_eq!(v.remediation, vec!["move the data dir".to_string()]);
}

#[test]
fn a_timed_out_blocking_observation_is_unknown_not_blocked() {
    let obs = replace(
        healthy(),
        Observation::timeout("lock.flock", DIR, "abandoned"),
    );
    assert_eq!(judge(&obs).verdict, Verdict::Unknown);
}

#[test]
fn a_violated_predicate_degrades() {
    let obs = replace(
        healthy(),
        Observation::pass("fs.mount", DIR, "tmpfs").with("class", "tmpfs"),
    );
    let v = judge(&obs);
    assert_eq!(v.verdict, Verdict::Degraded);
    assert!(v.evidence.contains("class is tmpfs"), "{}", v.evidence);
}

#[test]
fn blocked_wins_over_unknown_and_degraded() {
    let mut obs = replace(
        healthy(),
        Observation::pass("fs.mount", DIR, "tmpfs").with("class", "tmpfs"),
    );
    obs = replace(obs, Observation::timeout("lock.flock", DIR, "abandoned"));
    obs = replace(
        obs,
        Observation::fail("port:7777", "loopback:7777", "in use").with_errno("EADDRINUSE"),
    );
    assert_eq!(judge(&obs).verdict, Verdict::Blocked);
}

#[test]
fn installed_version_selects_version_rules() {
    let obs = replace(
        healthy(),
        Observation::pass("python.packages", "host", "read")
            .with("packages", serde_json::json!({"toy": "2.4.10"})),
    );
    let v = judge(&obs);
    assert_eq!(v.verdict, Verdict::Degraded, "the <2.4.12 rule applies");
    assert!(
        v.reasons
            .iter()
            .any(|r| r.requirement == "old-bug" && r.outcome == Outcome::Violated)
    );
    assert!(
        !v.reasons.iter().any(|r| r.probe == "lockfile:LOCK"),
        "LOCK is a >=3 rule"
    );
}

#[test]
fn a_missing_observation_is_unobserved_and_named() {
    let obs: Vec<Observation> = healthy()
        .into_iter()
        .filter(|o| o.id != "lock.flock")
        .collect();
    let v = judge(&obs);
    assert_eq!(v.verdict, Verdict::Unknown);
    assert!(v.evidence.contains("lock.flock"));
}

#[test]
fn an_unwritable_data_dir_blocks_a_server_whose_profile_names_only_host_rules() {
    let server: Profile = toml::from_str(
        r#"
id = "srv"
name = "Some server"
kind = "server"
summary = "test"
docs = "https://example.org/srv"

[[requirement]]
id = "docker"
probe = "docker.daemon"
scope = "host"
effect = "degrade"
explain = "usually run in Docker"
remediation = "start Docker"
source = "https://example.org/docker"
"#,
    )
    .expect("server profile parses");
    let obs = vec![
        Observation::fail("docker.daemon", "host", "no daemon").with_errno("ENOENT"),
        Observation::fail("file.create", DIR, "read-only").with_errno("EROFS"),
    ];
    let v = evaluate(&[server], &obs, &HostFacts::default(), &[DIR.to_string()]);
    assert_eq!(v[0].verdict, Verdict::Blocked, "{:?}", v[0].reasons);
    assert_eq!(v[0].evidence, "file.create in /data: EROFS");
}

const FLOORED: &str = r#"
id = "floored"
name = "Floored DB"
kind = "embedded"
summary = "test"
docs = "https://example.org"

[[floors]]
resource = "free-space"
min = 1048576
near = 8388608
fails_with = "ENOSPC"
source = "https://example.org/space"

[[floors]]
resource = "open-files"
min = 256
source = "https://example.org/nofile"

[[floors]]
resource = "address-space"
min = 1073741824
source = "https://example.org/as"
"#;

fn judge_floored(
    free: u64,
    nofile: Option<u64>,
    address: Option<u64>,
) -> super::rules::BackendVerdict {
    let p: Profile = toml::from_str(FLOORED).expect("floored profile parses");
    let obs = vec![
        Observation::pass("file.create", DIR, "created"),
        Observation::pass("file.free_space", DIR, "statvfs").with("free_bytes", free),
        Observation::pass("limits.nofile", "host", "read").with("soft", nofile),
        Observation::pass("limits.as", "host", "read").with("soft", address),
    ];
    let v = evaluate(&[p], &obs, &HostFacts::default(), &[DIR.to_string()]);
    v.into_iter().next().unwrap_or_else(|| unreachable!())
}

#[test]
fn a_floor_blocks_under_min_degrades_under_near_and_passes_above() {
    let mib = 1024 * 1024;
    assert_eq!(
        judge_floored(100 * mib, Some(4096), None).verdict,
        Verdict::Viable
    );
    let near = judge_floored(4 * mib, Some(4096), None);
    assert_eq!(near.verdict, Verdict::Degraded);
    assert!(
        near.evidence.contains("file.free_space"),
        "{}",
        near.evidence
    );
    let under = judge_floored(64 * 1024, Some(4096), None);
    assert_eq!(under.verdict, Verdict::Blocked);
    assert!(
        under.evidence.contains("below the minimum 1048576"),
        "{}",
        under.evidence
    );
    // open-files without `near`: close means under twice the floor.
    assert_eq!(
        judge_floored(100 * mib, Some(300), None).verdict,
        Verdict::Degraded
    );
    assert_eq!(
        judge_floored(100 * mib, Some(100), None).verdict,
        Verdict::Blocked
    );
    // An unlimited limit (null) satisfies the floor; a low one blocks.
    assert_eq!(
        judge_floored(100 * mib, None, None).verdict,
        Verdict::Viable
    );
    assert_eq!(
        judge_floored(100 * mib, Some(4096), Some(512 * mib)).verdict,
        Verdict::Blocked
    );
}

#[test]
fn an_unmeasured_free_space_leaves_the_floor_unobserved() {
    let p: Profile = toml::from_str(FLOORED).expect("floored profile parses");
    let obs = vec![
        Observation::pass("file.create", DIR, "created"),
        Observation::error("file.free_space", DIR, "statvfs failed"),
        Observation::pass("limits.nofile", "host", "read").with("soft", 4096),
        Observation::pass("limits.as", "host", "read"),
    ];
    let v = evaluate(&[p], &obs, &HostFacts::default(), &[DIR.to_string()]);
    assert_eq!(v[0].verdict, Verdict::Unknown);
}

#[test]
fn a_recorded_fail_from_the_tools_own_exhaustion_is_unobserved_not_violated() {
    for errno in ["EMFILE", "ENFILE", "ENOMEM"] {
        let obs = replace(
            healthy(),
            Observation::fail("lock.flock", DIR, "create the lock file").with_errno(errno),
        );
        let v = judge(&obs);
        assert_eq!(v.verdict, Verdict::Unknown, "{errno}: {}", v.evidence);
    }
}

#[test]
fn a_backend_with_only_host_wide_requirements_is_judged_once_not_per_data_dir() {
    let host_only: Profile = toml::from_str(
        r#"
id = "server"
name = "Server"
kind = "cloud"
summary = "test"
docs = "https://example.org"

[[ports]]
port = 7777
role = "API"
source = "https://example.org/ports"
"#,
    )
    .expect("parses");
    let dirs = [DIR.to_string(), "/other".to_string()];
    let v = evaluate(&[host_only], &healthy(), &HostFacts::default(), &dirs);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0].data_dir, None);
    let per_dir = evaluate(&[profile()], &healthy(), &HostFacts::default(), &dirs);
    assert_eq!(
        per_dir.len(),
        2,
        "a data-dir requirement keeps one row per dir"
    );
}
