//! The report: the one JSON-shaped model every format renders (schema: reports/schema.json).
//! Built from host facts, data-dir facts, observations and verdicts; renderers only render.

use crate::catalogue::rules::{BackendVerdict, Verdict};
use crate::host::{DataDirFacts, HostFacts};
use crate::observation::Observation;
use crate::probe::ProbeKind;
use serde::{Deserialize, Serialize};

pub mod host_table;
pub mod host_view;
pub mod json;
pub mod markdown;
pub mod recommend;
pub mod redact;
pub mod table;

pub use host_view::HostView;

pub const SCHEMA_VERSION: u32 = 1;
pub const SCHEMA_JSON: &str = include_str!("../../reports/schema.json");

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub run: RunInfo,
    pub host: HostView,
    pub data_dirs: Vec<DataDirFacts>,
    pub probes: Vec<ProbeRecord>,
    pub backends: Vec<BackendVerdict>,
    pub summary: Summary,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn this() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunInfo {
    /// `check` or `host`.
    pub command: String,
    pub timeout_ms: u64,
    pub elapsed_ms: f64,
    /// The recorded root facts were read from, when not this machine.
    pub host_root: Option<String>,
    pub redacted: bool,
}

/// An observation plus the kind of probe that made it (for grouping).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ProbeRecord {
    pub kind: String,
    #[serde(flatten)]
    pub observation: Observation,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Summary {
    pub viable: usize,
    pub degraded: usize,
    pub blocked: usize,
    pub unknown: usize,
}

impl Summary {
    pub fn of(backends: &[BackendVerdict]) -> Self {
        let mut s = Summary::default();
        for b in backends {
            match b.verdict {
                Verdict::Viable => s.viable += 1,
                Verdict::Degraded => s.degraded += 1,
                Verdict::Blocked => s.blocked += 1,
                Verdict::Unknown => s.unknown += 1,
            }
        }
        s
    }
}

/// `20 verdicts for 17 backends: 10 viable, …` — what the summary counts, said.
pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let mut ids: Vec<&str> = report.backends.iter().map(|b| b.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = report.backends.len();
    let counted = if rows == ids.len() {
        format!("{rows} backends")
    } else {
        format!("{rows} verdicts for {} backends", ids.len())
    };
    format!(
        "{counted}: {} viable, {} degraded, {} blocked, {} unknown · {} observations in {:.0} ms",
        s.viable,
        s.degraded,
        s.blocked,
        s.unknown,
        report.probes.len(),
        report.run.elapsed_ms
    )
}

/// The kind of the probe that emits an observation id, from the registry's naming.
pub fn kind_of(id: &str) -> ProbeKind {
    let family = id.split(['.', ':']).next().unwrap_or("");
    match family {
        "host" => ProbeKind::Host,
        "fs" | "file" => ProbeKind::Filesystem,
        "mmap" => ProbeKind::Memory,
        "lock" | "lockfile" | "store" => ProbeKind::Locks,
        "uds" => ProbeKind::Sockets,
        "port" | "loopback" | "proxy" => ProbeKind::Network,
        "limits" => ProbeKind::Limits,
        _ => ProbeKind::Environment,
    }
}

pub struct ReportInputs<'a> {
    pub command: &'a str,
    pub host: &'a HostFacts,
    pub data_dirs: &'a [DataDirFacts],
    pub observations: Vec<Observation>,
    pub backends: Vec<BackendVerdict>,
    pub timeout_ms: u64,
    pub elapsed_ms: f64,
    pub host_root: Option<String>,
}

pub fn build(inputs: ReportInputs) -> Report {
    let probes = inputs
        .observations
        .into_iter()
        .map(|o| ProbeRecord {
            kind: kind_of(&o.id).as_str().to_string(),
            observation: o,
        })
        .collect();
    Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool::this(),
        run: RunInfo {
            command: inputs.command.into(),
            timeout_ms: inputs.timeout_ms,
            elapsed_ms: crate::observation::round_ms(inputs.elapsed_ms),
            host_root: inputs.host_root,
            redacted: false,
        },
        host: HostView::from_facts(inputs.host),
        data_dirs: inputs.data_dirs.to_vec(),
        probes,
        summary: Summary::of(&inputs.backends),
        backends: inputs.backends,
    }
}
