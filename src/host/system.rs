//! TODO(stub): host facts `system`.

use super::{HostFacts, HostInputs};

pub fn collect(inputs: &HostInputs) -> HostFacts {
    HostFacts {
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
        recorded: inputs.root.is_recorded(),
        ..Default::default()
    }
}
