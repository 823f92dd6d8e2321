//! `limits.memory` from recorded trees: the least of MemAvailable and the cgroup's headroom,
//! which side limits, and no claim when nothing is readable. The live cgroup case is
//! tests/fault_memory.rs (a real cgroup with a limit).

use super::*;
use crate::host::HostRoot;
use crate::host::root::recorded_tree;
use crate::observation::Status;

const MEMINFO: &str = "MemTotal:       16318420 kB\nMemFree:  1 kB\nMemAvailable:   12000000 kB\n";
const V2_MOUNT: &str = "30 24 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";

fn observe_tree(files: &[(&str, &str)]) -> Observation {
    let t = recorded_tree(files);
    observe(&HostRoot::recorded(t.path()))
}

#[test]
fn a_container_limit_below_the_system_memory_is_what_a_new_process_gets() {
    let o = observe_tree(&[
        ("/proc/meminfo", MEMINFO),
        ("/proc/self/cgroup", "0::/\n"),
        ("/proc/self/mountinfo", V2_MOUNT),
        ("/sys/fs/cgroup/cgroup.controllers", "memory\n"),
        ("/sys/fs/cgroup/memory.max", "536870912\n"),
        ("/sys/fs/cgroup/memory.current", "134217728\n"),
        ("/sys/fs/cgroup/memory.stat", "inactive_file 33554432\n"),
    ]);
    assert_eq!(o.status, Status::Pass, "{o:?}");
    assert_eq!(o.values["available_bytes"], 416 * MIB);
    assert_eq!(o.values["limited_by"], "limit");
    assert_eq!(o.values["limit_bytes"], 512 * MIB);
    assert_eq!(o.values["limit_working_set_bytes"], 96 * MIB);
    assert_eq!(o.values["system_available_bytes"], 12000000u64 * 1024);
    assert!(
        o.message
            .contains("cgroup v2 memory.max at /sys/fs/cgroup: limit 512 MiB, 96 MiB in use besides this tool, 416 MiB left"),
        "{}",
        o.message
    );
}

#[test]
fn without_a_limit_the_system_memory_counts() {
    let o = observe_tree(&[
        ("/proc/meminfo", MEMINFO),
        ("/proc/self/cgroup", "0::/user.slice\n"),
        ("/proc/self/mountinfo", V2_MOUNT),
        ("/sys/fs/cgroup/cgroup.controllers", "memory\n"),
        ("/sys/fs/cgroup/user.slice/memory.max", "max\n"),
    ]);
    assert_eq!(o.values["available_bytes"], 12000000u64 * 1024);
    assert_eq!(o.values["limited_by"], "system");
    assert_eq!(o.values["limit_bytes"], Value::Null);
    assert!(
        o.message.contains("no cgroup memory limit"),
        "{}",
        o.message
    );
}

#[test]
fn a_recording_without_cgroup_files_says_no_limit_could_be_read() {
    let o = observe_tree(&[("/proc/meminfo", MEMINFO)]);
    assert_eq!(o.status, Status::Pass);
    assert_eq!(o.values["available_bytes"], 12000000u64 * 1024);
    assert!(
        o.message.contains("no limit could be read"),
        "{}",
        o.message
    );
}

#[test]
fn nothing_readable_is_skipped_not_assumed() {
    let o = observe_tree(&[("/etc/os-release", "ID=debian\n")]);
    assert_eq!(o.status, Status::Skipped);
    assert_eq!(o.values.get("available_bytes"), None);
}
