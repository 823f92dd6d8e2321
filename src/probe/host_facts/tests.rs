//! The `host_facts` probe run through the engine over a recorded fixture and the live host.

use super::*;
use crate::host::{HostInputs, HostRoot, datadir};
use crate::observation::Status;
use crate::probe::{ScratchError, engine};
use std::sync::Arc;

fn context(
    root: HostRoot,
    env: &dyn Fn(&str) -> Option<String>,
    dirs: &[String],
) -> Arc<ProbeContext> {
    let host = crate::host::collect(&HostInputs {
        root: &root,
        env,
        run_wslinfo: false,
    });
    let data_dirs = datadir::collect_data_dirs(&root, dirs)
        .into_iter()
        .map(|facts| DataDir {
            same_filesystem_as: None,
            facts,
            scratch: Err(ScratchError {
                errno: None,
                message: "not needed".into(),
                own: false,
            }),
        })
        .collect();
    Arc::new(ProbeContext {
        host,
        host_root: root,
        data_dirs,
        deadline: Instant::now() + Duration::from_secs(10),
        ..crate::probe::testing::context()
    })
}

fn find<'a>(obs: &'a [Observation], id: &str, target: &str) -> &'a Observation {
    let matching: Vec<&Observation> = obs
        .iter()
        .filter(|o| o.id == id && o.target == target)
        .collect();
    assert_eq!(matching.len(), 1, "{id} on {target}: {obs:#?}");
    matching[0]
}

fn keys(o: &Observation) -> Vec<&str> {
    o.values.keys().map(String::as_str).collect()
}

#[test]
fn recorded_wsl2_host_emits_every_planned_observation_with_the_documented_values() {
    let root = crate::host::system::fixture_tests::fixture("wsl2-nat");
    let env = |k: &str| (k == "WSL_DISTRO_NAME").then(|| "Ubuntu-22.04".to_string());
    let dirs = [
        "/mnt/c/Users/me/vectors".to_string(),
        "/home/user/vectors".to_string(),
    ];
    let ctx = context(root, &env, &dirs);
    let obs = engine::run(ctx, &[&PROBE]);
    assert_eq!(obs.len(), 6, "{obs:#?}");

    let p = find(&obs, "host.platform", "host");
    assert_eq!(p.status, Status::Pass);
    assert_eq!(
        keys(p),
        [
            "os",
            "arch",
            "kernel_release",
            "libc",
            "glibc",
            "distribution",
            "wsl_detected",
            "wsl_version",
            "container",
            "on_wsl_kernel"
        ]
    );
    assert_eq!(
        p.values["kernel_release"],
        "5.15.167.4-microsoft-standard-WSL2"
    );
    assert_eq!(p.values["wsl_version"], 2);
    assert_eq!(p.values["distribution"], "Ubuntu 22.04.4 LTS");

    let w = find(&obs, "host.wsl", "host");
    assert_eq!(
        keys(w),
        [
            "detected",
            "version",
            "networking_mode",
            "networking_mode_inferred",
            "interop",
            "systemd",
            "distro",
            "docker_desktop"
        ]
    );
    assert_eq!(w.values["networking_mode"], "nat");
    assert_eq!(w.values["networking_mode_inferred"], true);
    assert_eq!(w.values["distro"], "Ubuntu-22.04");
    assert_eq!(w.values["docker_desktop"], true);

    let c = find(&obs, "host.cpu", "host");
    assert_eq!(keys(c), ["model", "features", "logical_cpus"]);
    assert_eq!(c.values["logical_cpus"], 2);
    assert!(
        c.message.contains("of the features backends need (") && c.message.contains("present: "),
        "says which features were looked for and which are present: {}",
        c.message
    );
    let m = find(&obs, "host.memory", "host");
    assert_eq!(keys(m), ["total_bytes", "available_bytes"]);

    let drive = find(&obs, "fs.mount", "/mnt/c/Users/me/vectors");
    assert_eq!(
        drive.status,
        Status::Pass,
        "a recorded dir is observed from the recording (it need not exist on this machine)"
    );
    assert!(
        drive.message.contains("recorded mount table"),
        "{}",
        drive.message
    );
    assert_eq!(
        keys(drive),
        [
            "type",
            "class",
            "source",
            "mount_point",
            "options",
            "read_only",
            "free_bytes",
            "statfs_magic"
        ]
    );
    assert_eq!(drive.values["class"], "windows-drive");
    assert_eq!(drive.values["type"], "9p");
    assert_eq!(
        find(&obs, "fs.mount", "/home/user/vectors").values["class"],
        "local"
    );
}

#[test]
fn unreadable_cpu_and_memory_are_skipped_not_faked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = context(HostRoot::recorded(dir.path()), &|_| None, &[]);
    let obs = engine::run(ctx, &[&PROBE]);
    assert_eq!(obs.len(), 4);
    let cpu = find(&obs, "host.cpu", "host");
    assert_eq!(cpu.status, Status::Skipped);
    let enoent = ["ENOENT", "ERROR_PATH_NOT_FOUND", "ERROR_FILE_NOT_FOUND"]
        .iter()
        .any(|e| cpu.message.contains(&format!("/proc/cpuinfo ({e})")));
    assert!(enoent, "{}", cpu.message);
    assert_eq!(find(&obs, "host.memory", "host").status, Status::Skipped);
    assert_eq!(find(&obs, "host.wsl", "host").values["detected"], false);
    assert_eq!(find(&obs, "host.platform", "host").status, Status::Pass);
}

#[test]
fn live_data_dir_passes_with_statfs_values() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let given = scratch.path().to_string_lossy().into_owned();
    let ctx = context(
        HostRoot::live(),
        &crate::host::real_env,
        std::slice::from_ref(&given),
    );
    let target = ctx.data_dirs[0].target();
    let obs = engine::run(ctx, &[&PROBE]);
    let fs = find(&obs, "fs.mount", &target);
    assert_eq!(fs.status, Status::Pass, "{fs:?}");
    if cfg!(target_os = "linux") {
        assert!(
            fs.values["statfs_magic"]
                .as_str()
                .is_some_and(|m| m.starts_with("0x")),
            "{fs:?}"
        );
        assert!(
            fs.values["free_bytes"].as_u64().is_some_and(|b| b > 0),
            "{fs:?}"
        );
    }
    assert!(
        obs.iter()
            .all(|o| !o.status.is_unobserved() || o.id == "host.memory"),
        "{obs:#?}"
    );
}

#[test]
fn credential_like_mount_options_are_redacted() {
    assert_eq!(
        redact_options("rw,username=bob,password=hunter2,credentials=/etc/c,vers=3.0"),
        "rw,username=bob,password=<redacted>,credentials=<redacted>,vers=3.0"
    );
    assert_eq!(
        redact_options("rw,aname=drvfs;path=C:\\"),
        "rw,aname=drvfs;path=C:\\"
    );
}
