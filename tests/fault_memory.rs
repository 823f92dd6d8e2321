//! A real memory cgroup with a limit around the tool (as `docker run --memory` or a Kubernetes
//! limit puts one around a container): `limits.memory` must read the limit and what is left
//! under it, and a backend whose measured memory floor is above that must be blocked on it —
//! with no limit the same backend is judged on the system's memory. The cgroup is made with
//! tests/calibration/env/cgroup.sh (the one the calibration uses) and removed after. Needs root
//! and a writable memory cgroup (v1 or v2); skips otherwise.
#![cfg(target_os = "linux")]

mod common;
use common::cgroup::{Cgroup, check_in};
use common::*;

const MIB: u64 = 1024 * 1024;

#[test]
fn a_cgroup_memory_limit_is_read_and_blocks_backends_above_their_floor() {
    if !privileged("memory_cgroup", &["bash"]) {
        return;
    }
    let tag = format!("test-{}", std::process::id());
    let Some(small) = Cgroup::new("memory", &format!("{tag}-80m"), 80 * MIB) else {
        skip(
            "memory_cgroup",
            "no writable memory cgroup here (cgroup.sh create failed)",
        );
        return;
    };
    let (_t, dir) = tempdir();

    let report = check_in(Some(&small), &dir);
    let o = probe(&report, "limits.memory", None);
    assert_eq!(o["status"], "pass", "{o:#}");
    let v = &o["values"];
    assert_eq!(v["limit_bytes"], 80 * MIB, "{o:#}");
    assert_eq!(v["limited_by"], "limit", "{o:#}");
    assert!(
        v["limit_source"].as_str().unwrap().contains(&small.dir),
        "{o:#}"
    );
    let available = v["available_bytes"].as_u64().unwrap();
    assert!(
        available <= 80 * MIB && available > 40 * MIB,
        "the shell and the tool use a few MiB of 80: {o:#}"
    );
    // Milvus Lite was killed by the OOM killer under 96 MiB (reports/calibration-floors.json).
    assert_verdict(&report, "milvus-lite", Some(&dir), &["blocked"]);
    assert!(has_violated_reason(
        &report,
        "milvus-lite",
        Some(&dir),
        "limits.memory"
    ));

    let roomy = Cgroup::new("memory", &format!("{tag}-1g"), 1024 * MIB).expect("second cgroup");
    let report = check_in(Some(&roomy), &dir);
    assert_eq!(
        probe(&report, "limits.memory", None)["values"]["limit_bytes"],
        1024 * MIB
    );
    assert!(!has_violated_reason(
        &report,
        "milvus-lite",
        Some(&dir),
        "limits.memory"
    ));

    // Outside both: whatever limit the test runs under is not theirs.
    let report = check_in(None, &dir);
    let o = probe(&report, "limits.memory", None);
    assert_ne!(o["values"]["limit_bytes"], 80 * MIB, "{o:#}");
    assert_ne!(o["values"]["limit_bytes"], 1024 * MIB, "{o:#}");
}
