//! WSL seen from the Windows side, from stable sources only (never the localised output of
//! `wsl.exe`): the service keys (`LxssManager` for the inbox WSL, `WSLService` for the Store
//! WSL), the user's `Lxss` key (`DefaultVersion`, `DefaultDistribution` and that
//! distribution's `DistributionName`/`Version`), and `networkingMode` in
//! `%USERPROFILE%\.wslconfig`.

use super::registry::{self, Hive};
use std::path::Path;

/// What the Windows side says about WSL.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowsWsl {
    /// Some(true) when a WSL service key exists.
    pub installed: bool,
    /// `DefaultVersion` (1 or 2); None when unset (new distributions then get WSL 2).
    pub default_version: Option<u32>,
    pub default_distro: Option<String>,
    /// The default distribution's WSL version (1 or 2).
    pub default_distro_version: Option<u32>,
    /// From `.wslconfig` `[wsl2] networkingMode=`; None when not set (the default is NAT).
    pub networking_mode: Option<String>,
    pub evidence: Vec<String>,
}

const LXSS: &str = "Software\\Microsoft\\Windows\\CurrentVersion\\Lxss";

pub fn detect(userprofile: Option<&str>) -> WindowsWsl {
    let mut w = WindowsWsl::default();
    for service in ["LxssManager", "WSLService"] {
        let key = format!("SYSTEM\\CurrentControlSet\\Services\\{service}");
        if registry::key_exists(Hive::LocalMachine, &key) {
            w.installed = true;
            w.evidence.push(format!("HKLM\\{key} exists"));
        }
    }
    if let Ok(v) = registry::dword(Hive::CurrentUser, LXSS, "DefaultVersion") {
        w.default_version = Some(v);
        w.evidence
            .push(format!("HKCU\\{LXSS}\\DefaultVersion = {v}"));
    }
    if let Ok(guid) = registry::string(Hive::CurrentUser, LXSS, "DefaultDistribution") {
        let sub = format!("{LXSS}\\{guid}");
        w.default_distro = registry::string(Hive::CurrentUser, &sub, "DistributionName").ok();
        w.default_distro_version = registry::dword(Hive::CurrentUser, &sub, "Version").ok();
        w.evidence
            .push(format!("HKCU\\{LXSS}\\DefaultDistribution = {guid}"));
    }
    if let Some(profile) = userprofile {
        let path = Path::new(profile).join(".wslconfig");
        if let Ok(text) = std::fs::read_to_string(&path) {
            w.networking_mode = networking_mode(&text);
            w.evidence.push(format!("{} read", path.display()));
        }
    }
    w
}

/// `networkingMode` from the `[wsl2]` section of a `.wslconfig` (keys are case-insensitive).
pub fn networking_mode(text: &str) -> Option<String> {
    let mut in_wsl2 = false;
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_wsl2 = line.eq_ignore_ascii_case("[wsl2]");
            continue;
        }
        if let Some((k, v)) = line.split_once('=')
            && in_wsl2
            && k.trim().eq_ignore_ascii_case("networkingMode")
        {
            return Some(v.trim().to_ascii_lowercase());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_networking_mode_from_the_wsl2_section_only() {
        let text = "[experimental]\nnetworkingMode=nat\n[wsl2]\nmemory=4GB\nNetworkingMode = Mirrored # new\n";
        assert_eq!(super::networking_mode(text).as_deref(), Some("mirrored"));
        assert_eq!(super::networking_mode("[wsl2]\nmemory=4GB\n"), None);
    }

    #[test]
    fn detect_never_fails() {
        let w = super::detect(None);
        assert!(w.networking_mode.is_none());
    }
}
