//! Real cgroups with a limit around the tool, made with the calibration's own script
//! (tests/calibration/env/cgroup.sh: memory or pids, cgroup v1 or v2) and removed when dropped,
//! and `check` run by a shell that joins one first.

use super::*;

const CGROUP_SH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/calibration/env/cgroup.sh"
);

/// A child cgroup of one controller, removed when dropped.
pub struct Cgroup {
    controller: &'static str,
    name: String,
    pub dir: String,
}

impl Cgroup {
    /// `controller` is `memory` (limit in bytes) or `pids` (limit in tasks). None when no
    /// writable cgroup of that controller can be made here.
    pub fn new(controller: &'static str, name: &str, limit: u64) -> Option<Cgroup> {
        let out = Command::new("bash")
            .args([CGROUP_SH, "create", controller, name, &limit.to_string()])
            .output()
            .ok()?;
        out.status.success().then(|| Cgroup {
            controller,
            name: name.into(),
            dir: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        })
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([CGROUP_SH, "remove", self.controller, &self.name])
            .status();
    }
}

/// `check --format json` run by a shell that first joins `cg` (None: where the test runs).
/// Never a panic; exit 0 or 1.
pub fn check_in(cg: Option<&Cgroup>, dir: &str) -> Value {
    let join = cg.map_or(String::new(), |c| {
        format!("echo $$ > '{}/cgroup.procs' || exit 97; ", c.dir)
    });
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "{join}exec \"$0\" check --format json --data-dir \"$1\""
        ))
        .arg(bin())
        .arg(dir);
    let r = run_cmd(cmd, Duration::from_secs(30));
    r.assert_no_panic();
    assert!(
        matches!(r.code, Some(0 | 1)),
        "exit {:?}: {}",
        r.code,
        r.stderr
    );
    r.json()
}
