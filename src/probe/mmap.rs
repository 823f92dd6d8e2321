//! TODO(stub): probe `mmap`.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use std::time::Duration;

pub static PROBE: ProbeDef = ProbeDef {
    name: "mmap",
    kind: ProbeKind::Memory,
    scope: Scope::DataDir,
    timeout: Duration::from_millis(1500),
    plan,
    run,
};

fn plan(_ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    Vec::new()
}

fn run(_ctx: &ProbeContext, _dir: Option<&DataDir>, _sink: &Sink) {}

/// Entry point of the child process (`__worker`).
pub fn worker_main(_args: &[std::ffi::OsString]) -> i32 {
    2
}
