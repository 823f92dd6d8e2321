//! TODO(stub): probe `fileops`.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use std::time::Duration;

pub static PROBE: ProbeDef = ProbeDef {
    name: "fileops",
    kind: ProbeKind::Filesystem,
    scope: Scope::DataDir,
    timeout: Duration::from_millis(1500),
    plan,
    run,
};

fn plan(_ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    Vec::new()
}

fn run(_ctx: &ProbeContext, _dir: Option<&DataDir>, _sink: &Sink) {}
