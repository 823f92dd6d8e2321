//! The agent child (`src/probe/agent.rs`) that makes the tool's filesystem calls on data dirs:
//! it must not change what is observed — the tool it serves is still "this process" to the
//! probes — and it removes its scratch dirs even when the tool is killed outright.
#![cfg(target_os = "linux")]

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `cd ~/proj && wsl-vecprobe check`: the tool's working directory is the data dir, which
/// holds a Redis store. Redis is "in use" by a process whose working directory it is — but the
/// tool itself (the agent's parent) never counts, nor do its children.
#[test]
fn run_from_inside_its_data_dir_the_tool_is_never_a_user_of_a_store_there() {
    let (_t, dir) = tempdir();
    std::fs::write(format!("{dir}/dump.rdb"), b"REDIS0011").unwrap();
    let mut cmd = Command::new(bin());
    cmd.args(["check", "--format", "json"]).current_dir(&dir);
    let r = run_cmd(cmd, Duration::from_secs(30));
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.json();
    let o = probe(&report, "store:redis", Some(&dir));
    assert_eq!(o["status"], "pass", "the tool counted itself: {o:#}");
    assert_eq!(o["values"]["found"], 1, "{o:#}");
}

/// The tool killed with SIGKILL (no handler runs): the agent sees its stdin close, kills its
/// own children and removes the scratch dir it made. A fake `python3` that sleeps keeps the
/// run going long enough to be killed in the middle.
#[test]
fn a_tool_killed_mid_run_leaves_no_scratch_dir_and_no_worker() {
    let (t, dir) = tempdir();
    let (mut child, data, tmp, before) = slow_run(&dir, 5);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before it could be killed; the test proves nothing"
    );
    let agents = agents_of(child.id());
    assert!(!agents.is_empty(), "no agent process found");
    child.kill().unwrap();
    child.wait().unwrap();
    let until = Instant::now() + Duration::from_secs(3);
    while !leftovers(std::path::Path::new(&data)).is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        leftovers(std::path::Path::new(&data)),
        Vec::<String>::new(),
        "the agent left its scratch dir behind"
    );
    // The temp dir's scratch (for the unix-socket checks) too: the agent made it.
    let until = Instant::now() + Duration::from_secs(3);
    while !leftovers(std::path::Path::new(&tmp)).is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        leftovers(std::path::Path::new(&tmp)),
        Vec::<String>::new(),
        "a scratch dir was left in TMPDIR"
    );
    assert_unchanged(&before, std::path::Path::new(&data));
    // The agent is gone too, not left running. (The tool's own children, here the fake
    // python3, outlive a SIGKILL of the tool: nothing of it runs to end them.)
    let until = Instant::now() + Duration::from_secs(3);
    let running = |pids: &[u32]| -> Vec<u32> {
        pids.iter()
            .copied()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
                    !s.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
            })
            .collect()
    };
    while !running(&agents).is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    let orphans = running(&agents);
    drop(t);
    assert!(orphans.is_empty(), "workers left running: {orphans:?}");
}

/// A `check` of `DIR/data` kept going by a fake `python3` that sleeps `secs`, with its own
/// TMPDIR (`DIR/tmp`), started once the agent has made the data dir's scratch dir: the
/// running tool, the data dir, the TMPDIR and the data dir as it was before the run.
fn slow_run(dir: &str, secs: u32) -> (std::process::Child, String, String, Snapshot) {
    let data = format!("{dir}/data");
    let bin_dir = format!("{dir}/bin");
    let tmp = format!("{dir}/tmp");
    for d in [&data, &bin_dir, &tmp] {
        std::fs::create_dir(d).unwrap();
    }
    let fake = format!("{bin_dir}/python3");
    std::fs::write(&fake, format!("#!/bin/sh\nsleep {secs}\n")).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = snapshot(std::path::Path::new(&data));
    let child = Command::new(bin())
        .args([
            "check",
            "--format",
            "json",
            "--timeout",
            "10s",
            "--data-dir",
            &data,
        ])
        .env("PATH", format!("{bin_dir}:/usr/bin:/bin"))
        .env("TMPDIR", &tmp)
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while leftovers(std::path::Path::new(&data)).is_empty() {
        assert!(Instant::now() < until, "no scratch dir appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
    (child, data, tmp, before)
}

/// The tool's agents: its children named as the agent names itself (its comm; forked from
/// the tool, it shares the tool's command line).
fn agents_of(tool: u32) -> Vec<u32> {
    children_of(tool)
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .is_ok_and(|c| c.trim_end() == wsl_vecprobe::probe::agent::process::AGENT_NAME)
        })
        .collect()
}

/// Pids whose parent is `parent` (from /proc/*/stat).
fn children_of(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let after = stat.rsplit(')').next().unwrap_or("");
        if after.split_whitespace().nth(1) == Some(parent.to_string().as_str()) {
            out.push(pid);
        }
    }
    out
}

/// The agent killed mid-run (SIGKILL: no handler runs in it): the scratch dirs it made would
/// stay behind, so at the end of the run a fresh agent takes them over and removes them. The
/// run itself ends normally, the agent's unreported observations being errors.
#[test]
fn an_agent_killed_mid_run_leaves_no_scratch_dir() {
    let (t, dir) = tempdir();
    let (mut child, data, tmp, before) = slow_run(&dir, 3);
    let agents = agents_of(child.id());
    assert_eq!(agents.len(), 1, "one agent: {agents:?}");
    // SAFETY: kill(2) of the agent found above, a child of the tool started here.
    assert_eq!(unsafe { libc::kill(agents[0] as i32, libc::SIGKILL) }, 0);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before the agent could be killed; the test proves nothing"
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        leftovers(std::path::Path::new(&data)),
        Vec::<String>::new(),
        "the dead agent's scratch dir was left behind"
    );
    assert_eq!(
        leftovers(std::path::Path::new(&tmp)),
        Vec::<String>::new(),
        "the dead agent's scratch dir was left in TMPDIR"
    );
    assert_unchanged(&before, std::path::Path::new(&data));
    drop(t);
}
