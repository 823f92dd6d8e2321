//! Host detection over the recorded roots in `tests/fixtures/hosts` (see its README).

use crate::host::{HostFacts, HostInputs, HostRoot};
use std::collections::HashMap;

pub(crate) fn fixture(name: &str) -> HostRoot {
    HostRoot::recorded(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/hosts")
            .join(name),
    )
}

fn collect_with(name: &str, env: &[(&str, &str)]) -> HostFacts {
    let map: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let root = fixture(name);
    assert!(root.base().is_dir(), "missing fixture {name}");
    // run_wslinfo is true on purpose: it must never run under a recorded root.
    super::collect(&HostInputs {
        root: &root,
        env: &|k| map.get(k).cloned(),
        run_wslinfo: true,
    })
}

fn collect(name: &str) -> HostFacts {
    collect_with(name, &[])
}

fn mode(f: &HostFacts) -> (Option<&str>, bool) {
    (
        f.wsl.networking_mode.as_ref().map(|m| m.value.as_str()),
        f.wsl.networking_mode_inferred,
    )
}

#[test]
fn wsl1_from_files_alone() {
    let f = collect("wsl1");
    assert!(f.recorded);
    assert_eq!(f.os, "linux");
    assert!(f.wsl.detected, "{:?}", f.wsl);
    assert_eq!(f.wsl.version, Some(1));
    assert_eq!(mode(&f), (Some("wsl1"), true));
    assert_eq!(f.wsl.interop.as_ref().map(|i| i.value), Some(true));
    assert_eq!(f.wsl.distro_name, None);
    assert!(
        f.wsl.evidence.iter().any(|e| e.contains("drvfs")),
        "{:?}",
        f.wsl.evidence
    );
    assert!(!f.container.detected);
    assert_eq!(
        f.distribution.as_ref().map(|d| d.id.as_str()),
        Some("ubuntu")
    );
    // Only /proc/mounts is recorded: that is not unreadable, the fallback covers it.
    assert!(
        f.unreadable.iter().all(|u| !u.contains("mount")),
        "{:?}",
        f.unreadable
    );
}

#[test]
fn wsl2_nat_with_env_and_docker_desktop_traces() {
    let f = collect_with(
        "wsl2-nat",
        &[
            ("WSL_DISTRO_NAME", "Ubuntu-22.04"),
            ("WSL_INTEROP", "/run/WSL/1_interop"),
        ],
    );
    assert_eq!(f.wsl.version, Some(2));
    assert_eq!(mode(&f), (Some("nat"), true));
    let distro = f.wsl.distro_name.as_ref().expect("distro");
    assert_eq!(
        (distro.value.as_str(), distro.source.as_str()),
        ("Ubuntu-22.04", "env WSL_DISTRO_NAME")
    );
    assert_eq!(f.wsl.systemd.as_ref().map(|s| s.value), Some(false));
    assert_eq!(
        f.wsl.docker_desktop,
        ["/mnt/wsl/docker-desktop-bind-mounts"]
    );
    assert!(
        f.wsl
            .evidence
            .iter()
            .any(|e| e == "osrelease: 5.15.167.4-microsoft-standard-WSL2")
    );
    assert_eq!(
        f.kernel_release.as_ref().map(|k| k.source.as_str()),
        Some("/proc/sys/kernel/osrelease")
    );
    assert!(f.unreadable.is_empty(), "{:?}", f.unreadable);
}

#[test]
fn wsl2_mirrored_from_loopback0_and_dns_tunneling_noted() {
    let f = collect("wsl2-mirrored");
    assert_eq!(f.wsl.version, Some(2));
    assert_eq!(mode(&f), (Some("mirrored"), true));
    assert!(
        f.wsl
            .networking_mode
            .as_ref()
            .is_some_and(|m| m.source.contains("/proc/net/dev"))
    );
    assert!(
        f.wsl.evidence.iter().any(|e| e.contains("dns tunneling")),
        "{:?}",
        f.wsl.evidence
    );
    assert_eq!(
        f.distribution
            .as_ref()
            .and_then(|d| d.pretty_name.as_deref()),
        Some("CentOS Stream 9")
    );
}

#[test]
fn wsl2_systemd_from_interop_late() {
    let f = collect("wsl2-systemd");
    let systemd = f.wsl.systemd.as_ref().expect("systemd fact");
    assert!(systemd.value);
    assert!(systemd.source.contains("WSLInterop-late"), "{systemd:?}");
    assert_eq!(f.wsl.interop.as_ref().map(|i| i.value), Some(true));
    // DNS tunneling alone does not make the mode mirrored.
    assert_eq!(mode(&f), (Some("nat"), true));
}

#[test]
fn wsl2_custom_kernel_without_env_or_binfmt() {
    let f = collect("wsl2-custom-kernel");
    assert!(f.wsl.detected);
    assert_eq!(f.wsl.version, Some(2));
    assert_eq!(f.wsl.interop, None);
    assert!(
        f.unreadable.iter().any(|u| u.starts_with("/proc/version")),
        "{:?}",
        f.unreadable
    );
    assert!(
        f.wsl
            .evidence
            .iter()
            .any(|e| e.starts_with("mount: C:\\ on /mnt/c type 9p")),
        "{:?}",
        f.wsl.evidence
    );
}

#[test]
fn wsl2_virtiofs_and_legacy_9p() {
    let v = collect("wsl2-virtiofs");
    assert_eq!(v.wsl.version, Some(2));
    assert_eq!(mode(&v), (Some("mirrored"), true));
    assert!(
        v.wsl
            .networking_mode
            .as_ref()
            .is_some_and(|m| m.source.contains("/sys/class/net/loopback0"))
    );
    let l = collect("wsl2-9p-legacy");
    assert_eq!(l.wsl.version, Some(2));
    assert_eq!(l.wsl.interop.as_ref().map(|i| i.value), Some(false));
    assert!(l.cpu.features.is_empty(), "{:?}", l.cpu);
    assert_eq!(l.cpu.logical_cpus, Some(1));
}

#[test]
fn plain_linux_is_not_wsl() {
    let f = collect("linux-plain");
    assert!(!f.wsl.detected);
    assert_eq!(f.wsl.version, None);
    assert_eq!(f.wsl.networking_mode, None);
    assert!(!f.container.detected);
    assert_eq!(f.arch, "x86_64");
    assert_eq!(
        f.glibc_version.as_ref().map(|g| g.value.as_str()),
        Some("2.36")
    );
    assert_eq!(f.libc.as_ref().map(|l| l.value.as_str()), Some("glibc"));
    assert_eq!(
        f.cpu.features,
        ["sse4_2", "avx", "avx2", "fma", "avx512f", "f16c"]
    );
    assert_eq!(f.cpu.logical_cpus, Some(2));
    assert_eq!(f.memory.total_bytes, Some(16318480 * 1024));
    assert_eq!(f.memory.available_bytes, Some(12000000 * 1024));
    assert_eq!(
        f.distribution
            .as_ref()
            .and_then(|d| d.version_id.as_deref()),
        Some("12")
    );
}

#[test]
fn container_on_a_wsl2_kernel_is_a_container_not_wsl() {
    let f = collect("container-on-wsl2");
    assert!(!f.wsl.detected, "{:?}", f.wsl);
    assert!(f.container.detected);
    assert!(f.container.on_wsl_kernel);
    assert_eq!(f.container.runtime.as_deref(), Some("docker"));
    assert_eq!(f.libc.as_ref().map(|l| l.value.as_str()), Some("musl"));
    assert_eq!(f.glibc_version, None);
    // The same root with WSL's environment passed in is WSL (and still a container).
    let g = collect_with("container-on-wsl2", &[("WSL_DISTRO_NAME", "Ubuntu")]);
    assert!(g.wsl.detected);
    assert!(g.container.on_wsl_kernel);
}

#[test]
fn every_fixture_has_a_readme_row() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hosts");
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README");
    for entry in std::fs::read_dir(&dir).expect("fixtures").flatten() {
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                readme.contains(&format!("| `{name}` |")),
                "README lacks {name}"
            );
        }
    }
}
