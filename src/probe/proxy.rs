//! TODO(stub): probe `proxy`.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use std::time::Duration;

pub static PROBE: ProbeDef = ProbeDef {
    name: "proxy",
    kind: ProbeKind::Network,
    scope: Scope::Host,
    timeout: Duration::from_millis(1500),
    plan,
    run,
};

fn plan(_ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    Vec::new()
}

fn run(_ctx: &ProbeContext, _dir: Option<&DataDir>, _sink: &Sink) {}
