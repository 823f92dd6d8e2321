//! A real cgroup pids limit around the tool (as `docker run --pids-limit`, a Kubernetes pod's
//! pid limit or systemd's `TasksMax=` puts one around a container): `limits.pids` must read the
//! limit and what is left under it, a backend whose measured task floor is above that must be
//! blocked on it, and the tool's own shortage of threads must never pass for a fact about the
//! host (no `fail` with EAGAIN, never a panic, exit 0). The cgroup is made with
//! tests/calibration/env/cgroup.sh (the one the calibration uses) and removed after. Needs root
//! and a writable pids cgroup (v1 or v2); skips otherwise.
#![cfg(target_os = "linux")]

mod common;
use common::cgroup::{Cgroup, check_in};
use common::*;

fn cgroup(tag: &str, limit: u64) -> Option<Cgroup> {
    let made = Cgroup::new("pids", &format!("test-{}-{tag}", std::process::id()), limit);
    if made.is_none() {
        skip(
            "pids_cgroup",
            "no writable pids cgroup here (cgroup.sh create failed)",
        );
    }
    made
}

/// No observation blames the host for the tool's own refused threads.
fn assert_no_eagain_failure(report: &serde_json::Value) {
    for p in report["probes"].as_array().expect("probes") {
        assert!(
            !(p["status"] == "fail" && p["errno"] == "EAGAIN"),
            "the tool's own EAGAIN is an error, not a failure of the host: {p:#}"
        );
    }
}

#[test]
fn a_pids_limit_is_read_and_blocks_backends_above_their_floor() {
    if !privileged("pids_cgroup", &["bash"]) {
        return;
    }
    let Some(tight) = cgroup("8", 8) else { return };
    let (_t, dir) = tempdir();
    let report = check_in(Some(&tight), &dir);
    let o = probe(&report, "limits.pids", None);
    assert_eq!(o["status"], "pass", "{o:#}");
    let v = &o["values"];
    assert_eq!(v["cgroup_limit"], 8, "{o:#}");
    assert_eq!(v["limited_by"], "cgroup", "{o:#}");
    assert!(
        v["cgroup_source"].as_str().unwrap().contains(&tight.dir),
        "{o:#}"
    );
    let available = v["available"].as_u64().unwrap();
    assert!(
        (4..=8).contains(&available),
        "the shell exec'd the tool, and the tool's own tasks are not counted: {o:#}"
    );
    assert_no_eagain_failure(&report);
    // Milvus Lite could not start a thread under a limit of 12 (reports/calibration-floors.json).
    assert_verdict(&report, "milvus-lite", Some(&dir), &["blocked"]);
    assert!(has_violated_reason(
        &report,
        "milvus-lite",
        Some(&dir),
        "limits.pids"
    ));

    let Some(roomy) = cgroup("1000", 1000) else {
        return;
    };
    let report = check_in(Some(&roomy), &dir);
    assert_eq!(
        probe(&report, "limits.pids", None)["values"]["cgroup_limit"],
        1000
    );
    assert!(!has_violated_reason(
        &report,
        "milvus-lite",
        Some(&dir),
        "limits.pids"
    ));
}

#[test]
fn with_almost_no_tasks_left_the_tool_still_reports_and_blames_only_itself() {
    if !privileged("pids_cgroup", &["bash"]) {
        return;
    }
    // Room for the shell, the tool and hardly a thread more: its pools, its agent and its
    // workers are refused by the kernel (EAGAIN).
    let Some(starved) = cgroup("4", 4) else {
        return;
    };
    let (_t, dir) = tempdir();
    let report = check_in(Some(&starved), &dir);
    assert_no_eagain_failure(&report);
    // Observed, or said not to be for want of the tool's own thread: never a guess.
    let o = probe(&report, "limits.pids", None);
    assert!(
        (o["status"] == "pass" && o["values"]["cgroup_limit"] == 4)
            || (o["status"] == "error" && o["errno"] == "EAGAIN"),
        "{o:#}"
    );
    // Whatever the tool could not observe for want of a thread, nothing with a task floor is
    // called usable here.
    for b in ["milvus-lite", "chroma", "lancedb", "duckdb-vss"] {
        assert_verdict(&report, b, Some(&dir), &["blocked", "unknown"]);
    }
    assert!(
        leftovers(std::path::Path::new(&dir)).is_empty(),
        "no scratch dir left: {:?}",
        leftovers(std::path::Path::new(&dir))
    );
}
