//! The host section of the report: host facts flattened to plain values, with the source of
//! each fact kept in `sources` (fact name → where it was read).

use crate::host::{HostFacts, Sourced};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct HostView {
    pub os: String,
    pub arch: String,
    pub kernel_release: Option<String>,
    pub distribution: Option<String>,
    pub glibc_version: Option<String>,
    pub cpu: CpuView,
    pub memory: MemoryView,
    pub wsl: WslView,
    pub container: ContainerView,
    pub ci: Option<String>,
    pub recorded: bool,
    pub sources: BTreeMap<String, String>,
    pub unreadable: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CpuView {
    pub model: Option<String>,
    pub features: Vec<String>,
    pub logical_cpus: Option<u32>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MemoryView {
    pub total_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WslView {
    pub detected: bool,
    pub version: Option<u8>,
    pub distro_name: Option<String>,
    pub interop: Option<bool>,
    pub systemd: Option<bool>,
    pub networking_mode: Option<String>,
    pub networking_mode_inferred: bool,
    pub docker_desktop: bool,
    pub evidence: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ContainerView {
    pub detected: bool,
    pub runtime: Option<String>,
    pub on_wsl_kernel: bool,
    pub evidence: Vec<String>,
}

fn take<T: Clone>(
    sources: &mut BTreeMap<String, String>,
    name: &str,
    fact: &Option<Sourced<T>>,
) -> Option<T> {
    fact.as_ref().map(|s| {
        sources.insert(name.to_string(), s.source.clone());
        s.value.clone()
    })
}

impl HostView {
    pub fn from_facts(h: &HostFacts) -> Self {
        let mut sources = BTreeMap::new();
        let kernel_release = take(&mut sources, "kernel_release", &h.kernel_release);
        let glibc_version = take(&mut sources, "glibc_version", &h.glibc_version);
        let distro_name = take(&mut sources, "wsl.distro_name", &h.wsl.distro_name);
        let interop = take(&mut sources, "wsl.interop", &h.wsl.interop);
        let systemd = take(&mut sources, "wsl.systemd", &h.wsl.systemd);
        let networking_mode = take(&mut sources, "wsl.networking_mode", &h.wsl.networking_mode);
        let ci = take(&mut sources, "ci", &h.ci);
        if !h.wsl.docker_desktop.is_empty() {
            sources.insert("wsl.docker_desktop".into(), h.wsl.docker_desktop.join(", "));
        }
        if let Some(d) = &h.distribution {
            sources.insert("distribution".into(), d.source.clone());
        }
        if !h.cpu.source.is_empty() {
            sources.insert("cpu".into(), h.cpu.source.clone());
        }
        if !h.memory.source.is_empty() {
            sources.insert("memory".into(), h.memory.source.clone());
        }
        HostView {
            os: h.os.clone(),
            arch: h.arch.clone(),
            kernel_release,
            distribution: h
                .distribution
                .as_ref()
                .map(|d| d.pretty_name.clone().unwrap_or_else(|| d.name.clone())),
            glibc_version,
            cpu: CpuView {
                model: h.cpu.model.clone(),
                features: h.cpu.features.clone(),
                logical_cpus: h.cpu.logical_cpus,
            },
            memory: MemoryView {
                total_bytes: h.memory.total_bytes,
                available_bytes: h.memory.available_bytes,
            },
            wsl: WslView {
                detected: h.wsl.detected,
                version: h.wsl.version,
                distro_name,
                interop,
                systemd,
                networking_mode,
                networking_mode_inferred: h.wsl.networking_mode_inferred,
                docker_desktop: !h.wsl.docker_desktop.is_empty(),
                evidence: h.wsl.evidence.clone(),
            },
            container: ContainerView {
                detected: h.container.detected,
                runtime: h.container.runtime.clone(),
                on_wsl_kernel: h.container.on_wsl_kernel,
                evidence: h.container.evidence.clone(),
            },
            ci,
            recorded: h.recorded,
            sources,
            unreadable: h.unreadable.clone(),
        }
    }

    /// One line: `Linux x86_64 · WSL 2 (mirrored networking) · Ubuntu 24.04`.
    pub fn one_line(&self) -> String {
        let mut parts = vec![format!("{} {}", self.os, self.arch)];
        if self.wsl.detected {
            let mut w = format!(
                "WSL {}",
                self.wsl
                    .version
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "?".into())
            );
            if let Some(m) = &self.wsl.networking_mode {
                w.push_str(&format!(
                    " ({m} networking{})",
                    if self.wsl.networking_mode_inferred {
                        ", inferred"
                    } else {
                        ""
                    }
                ));
            }
            parts.push(w);
        }
        if self.container.detected {
            parts.push(if self.container.on_wsl_kernel {
                "container on a WSL2 kernel".into()
            } else {
                "container".into()
            });
        }
        if let Some(d) = &self.distribution {
            parts.push(d.clone());
        }
        if let Some(k) = &self.kernel_release {
            parts.push(format!("kernel {k}"));
        }
        if let Some(ci) = &self.ci {
            parts.push(format!("CI: {ci}"));
        }
        if self.recorded {
            parts.push("recorded host".into());
        }
        parts.join(" · ")
    }
}
