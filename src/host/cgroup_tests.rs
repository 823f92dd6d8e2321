//! Recorded cgroup trees: a Docker container on cgroup v2 (namespace root with a limit), a
//! systemd user slice limited two levels up, a v1 hierarchy seen without a cgroup namespace,
//! a hybrid host whose cgroup2 mount has no memory controller, and no memory hierarchy at all;
//! for `pids`, a v2 container limit and a v1 pids hierarchy beside other v1 controllers.

use super::*;
use crate::host::root::recorded_tree;

const V2_MOUNT: &str =
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
const MIB: u64 = 1024 * 1024;

fn found(root: &tempfile::TempDir) -> (u8, String, Option<Level>) {
    match read(&HostRoot::recorded(root.path()), Controller::Memory) {
        Hierarchy::Found {
            version,
            own_dir,
            tightest,
            ..
        } => (version, own_dir, tightest),
        other => panic!("expected a cgroup, got {other:?}"),
    }
}

#[test]
fn a_v2_container_limit_at_the_namespace_root_is_read_with_its_working_set() {
    let t = recorded_tree(&[
        ("/proc/self/cgroup", "0::/\n"),
        ("/proc/self/mountinfo", V2_MOUNT),
        (
            "/sys/fs/cgroup/cgroup.controllers",
            "cpuset cpu io memory pids\n",
        ),
        ("/sys/fs/cgroup/memory.max", "268435456\n"),
        ("/sys/fs/cgroup/memory.current", "104857600\n"),
        (
            "/sys/fs/cgroup/memory.stat",
            "anon 31457280\nfile 73400320\nactive_file 10485760\ninactive_file 62914560\n",
        ),
    ]);
    let (version, own, level) = found(&t);
    assert_eq!((version, own.as_str()), (2, "/sys/fs/cgroup"));
    let level = level.expect("limited");
    assert_eq!(level.limit, 256 * MIB);
    assert_eq!(level.used, Some(40 * MIB));
    assert_eq!(level.available(), 216 * MIB);
}

#[test]
fn the_tightest_ancestor_wins_and_max_means_no_limit() {
    let t = recorded_tree(&[
        (
            "/proc/self/cgroup",
            "0::/user.slice/user-1000.slice/session-2.scope\n",
        ),
        ("/proc/self/mountinfo", V2_MOUNT),
        ("/sys/fs/cgroup/cgroup.controllers", "memory pids\n"),
        ("/sys/fs/cgroup/user.slice/memory.max", "max\n"),
        (
            "/sys/fs/cgroup/user.slice/user-1000.slice/memory.max",
            "1073741824\n",
        ),
        (
            "/sys/fs/cgroup/user.slice/user-1000.slice/memory.current",
            "943718400\n",
        ),
        (
            "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/memory.max",
            "2147483648\n",
        ),
        (
            "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/memory.current",
            "10485760\n",
        ),
    ]);
    let (_, own, level) = found(&t);
    assert_eq!(
        own,
        "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope"
    );
    let level = level.expect("limited");
    assert_eq!(level.dir, "/sys/fs/cgroup/user.slice/user-1000.slice");
    assert_eq!(level.available(), 124 * MIB);

    let unlimited = recorded_tree(&[
        ("/proc/self/cgroup", "0::/a\n"),
        ("/proc/self/mountinfo", V2_MOUNT),
        ("/sys/fs/cgroup/cgroup.controllers", "memory\n"),
        ("/sys/fs/cgroup/a/memory.max", "max\n"),
    ]);
    assert_eq!(found(&unlimited).2, None);
}

#[test]
fn v1_without_a_cgroup_namespace_maps_the_path_through_the_mount_root() {
    // Docker on cgroup v1: /proc/self/cgroup names the host path, the mount shows that
    // cgroup at its mount point.
    let t = recorded_tree(&[
        (
            "/proc/self/cgroup",
            "12:pids:/docker/abc\n4:memory:/docker/abc\n0::/system.slice\n",
        ),
        (
            "/proc/self/mountinfo",
            "41 30 0:36 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n\
             30 24 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
        ),
        ("/sys/fs/cgroup/unified/cgroup.controllers", "\n"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "536870912\n"),
        ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "209715200\n"),
        (
            "/sys/fs/cgroup/memory/memory.stat",
            "cache 1\ninactive_file 5\ntotal_inactive_file 104857600\n",
        ),
    ]);
    let (version, own, level) = found(&t);
    assert_eq!((version, own.as_str()), (1, "/sys/fs/cgroup/memory"));
    assert_eq!(level.expect("limited").available(), 412 * MIB);
}

#[test]
fn v1_reports_no_limit_as_a_page_counter_maximum() {
    let t = recorded_tree(&[
        ("/proc/self/cgroup", "4:memory:/process_api/f7c4\n"),
        (
            "/proc/self/mountinfo",
            "33 31 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
        ),
        (
            "/sys/fs/cgroup/memory/process_api/f7c4/memory.limit_in_bytes",
            "9223372036854771712\n",
        ),
        (
            "/sys/fs/cgroup/memory/process_api/memory.limit_in_bytes",
            "9223372036854771712\n",
        ),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "9223372036854771712\n",
        ),
    ]);
    let (version, own, level) = found(&t);
    assert_eq!(
        (version, own.as_str()),
        (1, "/sys/fs/cgroup/memory/process_api/f7c4")
    );
    assert_eq!(level, None);
}

#[test]
fn without_a_memory_hierarchy_nothing_is_claimed() {
    let hybrid_without_v1_memory = recorded_tree(&[
        ("/proc/self/cgroup", "0::/\n"),
        ("/proc/self/mountinfo", V2_MOUNT),
        ("/sys/fs/cgroup/cgroup.controllers", "cpu pids\n"),
        ("/sys/fs/cgroup/memory.max", "1048576\n"),
    ]);
    assert!(matches!(
        read(
            &HostRoot::recorded(hybrid_without_v1_memory.path()),
            Controller::Memory
        ),
        Hierarchy::NotVisible(_)
    ));
    let no_proc = recorded_tree(&[("/etc/os-release", "ID=debian\n")]);
    assert!(matches!(
        read(&HostRoot::recorded(no_proc.path()), Controller::Memory),
        Hierarchy::NotVisible(_)
    ));
}

#[test]
fn a_path_from_another_namespace_or_with_dot_dot_stays_at_the_mount() {
    let m = CgroupMount {
        version: 2,
        root: "/".into(),
        mount_point: "/sys/fs/cgroup".into(),
        controllers: Vec::new(),
    };
    assert_eq!(own_dir(&m, "/../../x"), "/sys/fs/cgroup");
    let nested = CgroupMount {
        root: "/docker/abc".into(),
        ..m
    };
    assert_eq!(own_dir(&nested, "/docker/abc/sub"), "/sys/fs/cgroup/sub");
    assert_eq!(own_dir(&nested, "/docker/abcdef"), "/sys/fs/cgroup");
}

#[test]
fn a_v2_pids_limit_is_read_with_the_tasks_in_use() {
    let t = recorded_tree(&[
        ("/proc/self/cgroup", "0::/\n"),
        ("/proc/self/mountinfo", V2_MOUNT),
        ("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n"),
        ("/sys/fs/cgroup/pids.max", "64\n"),
        ("/sys/fs/cgroup/pids.current", "9\n"),
        ("/sys/fs/cgroup/memory.max", "max\n"),
    ]);
    let root = HostRoot::recorded(t.path());
    let Hierarchy::Found { tightest, .. } = read(&root, Controller::Pids) else {
        panic!("pids hierarchy expected")
    };
    let level = tightest.expect("limited");
    assert_eq!(
        (level.limit, level.used, level.available()),
        (64, Some(9), 55)
    );
    // The same tree has no memory limit: one controller's limit is never read as another's.
    let Hierarchy::Found { tightest, .. } = read(&root, Controller::Memory) else {
        panic!("memory hierarchy expected")
    };
    assert_eq!(tightest, None);
}

#[test]
fn a_v1_pids_hierarchy_is_found_among_the_other_controllers() {
    let mountinfo = "30 24 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
                     31 24 0:27 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
    let t = recorded_tree(&[
        ("/proc/self/cgroup", "8:pids:/ci/job1\n4:memory:/ci\n"),
        ("/proc/self/mountinfo", mountinfo),
        ("/sys/fs/cgroup/pids/ci/job1/pids.max", "max\n"),
        ("/sys/fs/cgroup/pids/ci/job1/pids.current", "3\n"),
        ("/sys/fs/cgroup/pids/ci/pids.max", "100\n"),
        ("/sys/fs/cgroup/pids/ci/pids.current", "97\n"),
    ]);
    let Hierarchy::Found {
        version,
        own_dir,
        tightest,
    } = read(&HostRoot::recorded(t.path()), Controller::Pids)
    else {
        panic!("pids hierarchy expected")
    };
    assert_eq!(
        (version, own_dir.as_str()),
        (1, "/sys/fs/cgroup/pids/ci/job1")
    );
    let level = tightest.expect("the parent's limit");
    assert_eq!(
        (level.dir.as_str(), level.available()),
        ("/sys/fs/cgroup/pids/ci", 3)
    );
}
