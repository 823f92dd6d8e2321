//! Container detection: `/.dockerenv` (Docker), `/run/.containerenv` (Podman), the
//! runtime names in `/proc/1/cgroup`, and the `container` variable systemd-style runtimes set.
//! Whether the container runs on a WSL2 kernel is decided with the WSL facts (`system`).

use super::{ContainerFacts, HostRoot};

/// Runtime names looked for in `/proc/1/cgroup`, most specific first.
const CGROUP_MARKERS: &[(&str, &str)] = &[
    ("kubepods", "kubernetes"),
    ("libpod", "podman"),
    ("docker", "docker"),
    ("containerd", "containerd"),
    ("lxc", "lxc"),
];

pub fn detect(root: &HostRoot, env: &dyn Fn(&str) -> Option<String>) -> ContainerFacts {
    let mut facts = ContainerFacts::default();
    if let Some(value) = env("container").filter(|v| !v.trim().is_empty()) {
        let value = value.trim().to_string();
        runtime(&mut facts, &value, format!("env container={value}"));
    }
    if root.exists("/run/.containerenv") {
        runtime(&mut facts, "podman", "/run/.containerenv exists".into());
    }
    if root.exists("/.dockerenv") {
        runtime(&mut facts, "docker", "/.dockerenv exists".into());
    }
    if let Some(cgroup) = root.read("/proc/1/cgroup")
        && let Some((line, name)) = cgroup_runtime(&cgroup)
    {
        runtime(&mut facts, name, format!("/proc/1/cgroup: {line}"));
    }
    facts
}

/// Record one piece of container evidence; the first runtime named wins.
fn runtime(facts: &mut ContainerFacts, name: &str, evidence: String) {
    facts.detected = true;
    facts.runtime.get_or_insert_with(|| name.to_string());
    facts.evidence.push(evidence);
}

/// The first `/proc/1/cgroup` line naming a container runtime, and that runtime.
pub fn cgroup_runtime(cgroup: &str) -> Option<(&str, &'static str)> {
    for line in cgroup.lines() {
        let path = line.splitn(3, ':').nth(2).unwrap_or("");
        for (marker, name) in CGROUP_MARKERS {
            if path.contains(marker) {
                return Some((line.trim(), name));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_runtimes_in_cgroup_paths_only() {
        let docker = "12:pids:/docker/3f2a9c\n0::/docker/3f2a9c\n";
        assert_eq!(cgroup_runtime(docker).map(|(_, n)| n), Some("docker"));
        let k8s = "0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-ab.scope\n";
        assert_eq!(cgroup_runtime(k8s).map(|(_, n)| n), Some("kubernetes"));
        assert_eq!(cgroup_runtime("0::/init.scope\n9:name=systemd:/\n"), None);
        // The controller name is not a path: `name=docker` alone is not a container.
        assert_eq!(cgroup_runtime("1:name=docker:/\n"), None);
    }

    #[test]
    fn plain_recorded_root_is_not_a_container() {
        let dir = tempfile::tempdir().expect("tempdir");
        let facts = detect(&HostRoot::recorded(dir.path()), &|_| None);
        assert!(!facts.detected);
        std::fs::write(dir.path().join(".dockerenv"), "").expect("write");
        let facts = detect(&HostRoot::recorded(dir.path()), &|name| {
            (name == "container").then(|| "oci".into())
        });
        assert!(facts.detected);
        assert_eq!(facts.runtime.as_deref(), Some("oci"));
        assert_eq!(facts.evidence.len(), 2);
    }
}
