//! `limits.pids` over recorded cgroup trees (a container's pids limit, none) and live.

use super::*;
use crate::host::root::recorded_tree;
use crate::observation::Status;

const V2_MOUNT: &str =
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n";

#[test]
fn a_container_pids_limit_leaves_what_is_not_in_use() {
    let t = recorded_tree(&[
        ("/proc/self/cgroup", "0::/\n"),
        ("/proc/self/mountinfo", V2_MOUNT),
        ("/sys/fs/cgroup/cgroup.controllers", "memory pids\n"),
        ("/sys/fs/cgroup/pids.max", "32\n"),
        ("/sys/fs/cgroup/pids.current", "12\n"),
    ]);
    let o = observe(&HostRoot::recorded(t.path()));
    assert_eq!(o.status, Status::Pass, "{o:?}");
    assert_eq!(o.values["available"], 20);
    assert_eq!(o.values["limited_by"], "cgroup");
    assert_eq!(o.values["cgroup_limit"], 32);
    // A recorded host's RLIMIT_NPROC is not in its files: never this machine's.
    assert_eq!(o.values["rlimit_soft"], Value::Null);
    assert!(
        o.message.contains("pids.max at /sys/fs/cgroup"),
        "{}",
        o.message
    );
}

#[test]
fn without_a_limit_nothing_limits_it() {
    let t = recorded_tree(&[
        ("/proc/self/cgroup", "0::/\n"),
        ("/proc/self/mountinfo", V2_MOUNT),
        ("/sys/fs/cgroup/cgroup.controllers", "memory pids\n"),
    ]);
    let o = observe(&HostRoot::recorded(t.path()));
    assert_eq!(
        (
            o.values["available"].clone(),
            o.values["limited_by"].clone()
        ),
        (Value::Null, Value::from("nothing"))
    );
}

#[cfg(target_os = "linux")]
#[test]
fn the_tools_own_tasks_are_counted_from_its_process_tree() {
    let mut child = std::process::Command::new("sleep")
        .arg("5")
        .spawn()
        .unwrap();
    let tree = own_tree();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(tree[0], "self");
    assert!(
        tree.contains(&child.id().to_string()),
        "a child is part of the tool's own tree: {tree:?}"
    );
    assert!(own_tree_tasks() >= 1);
}

#[test]
fn a_live_host_without_its_own_cgroup_file_is_not_called_unlimited() {
    // The same tree read as a live root: /proc/self/cgroup is missing, as without /proc.
    let t = recorded_tree(&[("/etc/os-release", "ID=debian\n")]);
    let live = HostRoot::live_at(t.path());
    assert!(matches!(cgroup_side(&live), Err(why) if why.contains("not observed")));
    // A recording simply lacks the files: its report says so, and is not an error.
    assert!(cgroup_side(&HostRoot::recorded(t.path())).is_ok());
}
