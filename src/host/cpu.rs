//! CPU facts: model, the instruction-set features vector backends dispatch on, logical
//! CPU count. From `/proc/cpuinfo` on Linux (and recorded roots), from CPUID elsewhere.

use super::CpuFacts;

/// Features that x86 backends (FAISS, hnswlib, LanceDB, Qdrant) select code paths on.
pub const X86_FEATURES: &[&str] = &["sse4_2", "avx", "avx2", "fma", "avx512f", "f16c"];
/// The Arm SIMD feature, as cpuinfo names it on 32-bit (`neon`) and 64-bit (`asimd`) Arm.
pub const ARM_FEATURES: &[&str] = &["neon", "asimd"];

/// The features to look for on `arch`.
pub fn checked_for(arch: &str) -> &'static [&'static str] {
    if arch.starts_with("arm") || arch.starts_with("aarch64") {
        ARM_FEATURES
    } else {
        X86_FEATURES
    }
}

/// Parse `/proc/cpuinfo` text. `arch` picks the feature list.
pub fn from_cpuinfo(text: &str, arch: &str, source: &str) -> CpuFacts {
    let mut model = None;
    let mut fallback_model = None;
    let mut flags: Option<&str> = None;
    let mut processors = 0u32;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "processor" => processors += 1,
            "model name" if model.is_none() && !value.is_empty() => model = Some(value.to_string()),
            "Hardware" | "Model" | "cpu model" if fallback_model.is_none() && !value.is_empty() => {
                fallback_model = Some(value.to_string())
            }
            "flags" | "Features" if flags.is_none() => flags = Some(value),
            _ => {}
        }
    }
    let present: Vec<&str> = flags
        .map(|f| f.split_whitespace().collect())
        .unwrap_or_default();
    let checked = checked_for(arch);
    CpuFacts {
        model: model.or(fallback_model),
        features: checked
            .iter()
            .filter(|f| present.contains(f))
            .map(|f| f.to_string())
            .collect(),
        checked: checked.iter().map(|f| f.to_string()).collect(),
        logical_cpus: (processors > 0).then_some(processors),
        source: source.to_string(),
    }
}

/// The architecture a recorded `/proc/cpuinfo` describes, when it says.
pub fn arch_from_cpuinfo(text: &str) -> Option<&'static str> {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_string())
        })
    };
    if field("vendor_id").is_some() {
        let flags = field("flags").unwrap_or_default();
        return Some(if flags.split_whitespace().any(|f| f == "lm") {
            "x86_64"
        } else {
            "x86"
        });
    }
    let features = field("Features")?;
    Some(if features.split_whitespace().any(|f| f == "asimd") {
        "aarch64"
    } else {
        "arm"
    })
}

/// The live CPU without `/proc/cpuinfo` (macOS, Windows): CPUID through std.
pub fn from_cpuid() -> CpuFacts {
    let checked = checked_for(std::env::consts::ARCH);
    CpuFacts {
        model: None,
        features: detected_features(),
        checked: checked.iter().map(|f| f.to_string()).collect(),
        logical_cpus: std::thread::available_parallelism()
            .ok()
            .and_then(|n| u32::try_from(n.get()).ok()),
        source: "cpuid (std::arch feature detection)".into(),
    }
}

#[cfg(target_arch = "x86_64")]
fn detected_features() -> Vec<String> {
    let mut found = Vec::new();
    let mut add = |name: &str, present: bool| {
        if present {
            found.push(name.to_string());
        }
    };
    add("sse4_2", std::arch::is_x86_feature_detected!("sse4.2"));
    add("avx", std::arch::is_x86_feature_detected!("avx"));
    add("avx2", std::arch::is_x86_feature_detected!("avx2"));
    add("fma", std::arch::is_x86_feature_detected!("fma"));
    add("avx512f", std::arch::is_x86_feature_detected!("avx512f"));
    add("f16c", std::arch::is_x86_feature_detected!("f16c"));
    found
}

#[cfg(target_arch = "aarch64")]
fn detected_features() -> Vec<String> {
    if std::arch::is_aarch64_feature_detected!("neon") {
        vec!["asimd".to_string()]
    } else {
        Vec::new()
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn detected_features() -> Vec<String> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i7-1185G7 @ 3.00GHz\n\
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c lm avx2\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n\
model name\t: Intel(R) Core(TM) i7-1185G7 @ 3.00GHz\nflags\t\t: fpu sse avx2\n";
    const ARM64: &str = "processor\t: 0\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd evtstrm aes crc32\n\
CPU implementer\t: 0x41\n\nprocessor\t: 1\nFeatures\t: fp asimd\n\nHardware\t: BCM2835\n";

    #[test]
    fn parses_x86_cpuinfo() {
        let c = from_cpuinfo(X86, "x86_64", "/proc/cpuinfo");
        assert_eq!(
            c.model.as_deref(),
            Some("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz")
        );
        assert_eq!(c.features, ["sse4_2", "avx", "avx2", "fma", "f16c"]);
        assert_eq!(c.logical_cpus, Some(2));
        assert_eq!(c.checked.len(), 6);
        assert_eq!(arch_from_cpuinfo(X86), Some("x86_64"));
    }

    #[test]
    fn parses_arm64_cpuinfo() {
        let c = from_cpuinfo(ARM64, "aarch64", "/proc/cpuinfo");
        assert_eq!(c.model.as_deref(), Some("BCM2835"));
        assert_eq!(c.features, ["asimd"]);
        assert_eq!(c.logical_cpus, Some(2));
        assert_eq!(arch_from_cpuinfo(ARM64), Some("aarch64"));
        assert_eq!(arch_from_cpuinfo("nothing"), None);
    }

    #[test]
    fn live_cpuid_agrees_with_cpuinfo_on_this_machine() {
        let Ok(text) = std::fs::read_to_string("/proc/cpuinfo") else {
            println!("skipped: no /proc/cpuinfo here");
            return;
        };
        let from_file = from_cpuinfo(&text, std::env::consts::ARCH, "/proc/cpuinfo");
        let from_std = from_cpuid();
        assert!(from_file.logical_cpus.is_some());
        // CPUID and the kernel's flags agree on every feature checked (the kernel may hide
        // AVX-512 when the OS does not save its state; std checks that too).
        assert_eq!(from_file.features, from_std.features);
    }
}
