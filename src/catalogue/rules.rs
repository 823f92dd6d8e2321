//! The rules: turn observations into one verdict per backend (per data dir for embedded and
//! server backends, once for cloud ones). Every verdict carries the reasons it rests on, each
//! naming the observation (probe id, target, status, errno) and the source of the requirement.

use super::expect::{self, ExpectOutcome};
use super::profile::{BackendKind, Effect, Profile, ReqScope, Requirement};
use super::requirements::applicable_requirements;
use crate::host::HostFacts;
use crate::observation::{Observation, Status};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Viable,
    Degraded,
    Unknown,
    Blocked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Viable => "viable",
            Verdict::Degraded => "degraded",
            Verdict::Blocked => "blocked",
            Verdict::Unknown => "unknown",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Satisfied,
    Violated,
    Unobserved,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Reason {
    pub requirement: String,
    /// The observation id this reason rests on.
    pub probe: String,
    pub target: String,
    pub status: Status,
    pub errno: Option<String>,
    pub outcome: Outcome,
    pub effect: Effect,
    /// What was observed (the observation's message, or the predicate that failed).
    pub observed: String,
    /// Who holds the contested resource, when the observation names one (`pid 4242 (python3)`).
    pub holder: Option<String>,
    pub explain: String,
    pub remediation: String,
    pub source: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct JudgedVersion {
    pub package: String,
    pub version: Option<String>,
    /// True when read from the installed package, false when the profile's current version was assumed.
    pub installed: bool,
    pub note: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BackendVerdict {
    pub id: String,
    pub name: String,
    pub kind: BackendKind,
    /// The data dir judged (None for cloud backends).
    pub data_dir: Option<String>,
    pub verdict: Verdict,
    /// The decisive evidence in a few words (`lock.flock in /mnt/c/proj: ENOLCK`).
    pub evidence: String,
    /// What to change, from the decisive reasons (empty when viable).
    pub remediation: Vec<String>,
    pub version: Option<JudgedVersion>,
    pub reasons: Vec<Reason>,
}

/// Judge every profile against the observations.
pub fn evaluate(
    profiles: &[Profile],
    observations: &[Observation],
    host: &HostFacts,
    data_dirs: &[String],
) -> Vec<BackendVerdict> {
    let index = ObservationIndex::new(observations, data_dirs);
    // Each profile's requirements and version, then what to judge in report order: each
    // profile once, or once per data dir.
    let mut judged = Vec::new();
    let mut rows: Vec<(usize, Option<&String>)> = Vec::new();
    for (i, profile) in profiles.iter().enumerate() {
        let version = judged_version(profile, observations);
        let reqs = applicable_requirements(
            profile,
            version.as_ref().and_then(|v| v.version.as_deref()),
            host,
        );
        // Cloud backends, and any whose requirements are all host-wide, get one row, not one
        // per data dir that would only repeat it.
        let host_wide = reqs.iter().all(|r| r.scope == ReqScope::Host);
        if host_wide || profile.kind == BackendKind::Cloud {
            rows.push((i, None));
        } else {
            rows.extend(data_dirs.iter().map(|d| (i, Some(d))));
        }
        judged.push((reqs, version));
    }
    // With many data dirs, judging is the longest step after the probes: it runs on every CPU.
    crate::spawn::map_in_parallel(&rows, 64, |&(i, dir)| {
        let (reqs, version) = &judged[i];
        judge(&profiles[i], reqs, &index, dir, version.clone())
    })
}

fn judge(
    profile: &Profile,
    reqs: &[Requirement],
    index: &ObservationIndex,
    dir: Option<&String>,
    version: Option<JudgedVersion>,
) -> BackendVerdict {
    let mut reasons = Vec::new();
    for req in reqs {
        if req.scope == ReqScope::DataDir && dir.is_none() {
            continue;
        }
        let mut reason = reason_for(req, index.find(req, dir), dir);
        if req.violated_when_applicable
            && reason.outcome == Outcome::Violated
            && let (Some(v), Some(range)) = (&version, &req.versions)
        {
            // The evidence is the version itself, not the message of the observation that read it.
            let seen = v.version.as_deref().unwrap_or("?");
            let how = if v.installed { "installed" } else { "assumed" };
            reason.observed = format!("{} {seen} {how}, in the affected range {range}", v.package);
        }
        reasons.push(reason);
    }
    let verdict = verdict_of(&reasons);
    let super::decisive::Decision {
        evidence,
        remediation,
    } = super::decisive::decide(&reasons, verdict);
    BackendVerdict {
        id: profile.id.clone(),
        name: profile.name.clone(),
        kind: profile.kind,
        data_dir: dir.cloned(),
        verdict,
        evidence,
        remediation,
        version,
        reasons,
    }
}

/// blocked > unknown > degraded > viable, per the documented meaning of each word.
pub fn verdict_of(reasons: &[Reason]) -> Verdict {
    let any = |outcome: Outcome, effect: Effect| {
        reasons
            .iter()
            .any(|r| r.outcome == outcome && r.effect == effect)
    };
    if any(Outcome::Violated, Effect::Block) {
        Verdict::Blocked
    } else if any(Outcome::Unobserved, Effect::Block) {
        Verdict::Unknown
    } else if any(Outcome::Violated, Effect::Degrade) {
        Verdict::Degraded
    } else {
        Verdict::Viable
    }
}

/// The process an observation names as holding a port or lock (`owner_*` / `holder_*` values).
fn holder_of(obs: &Observation) -> Option<String> {
    let pid = obs
        .value("owner_pid")
        .or_else(|| obs.value("holder_pid"))
        .and_then(|v| v.as_u64())?;
    let cmd = obs
        .value("owner_command")
        .or_else(|| obs.value("holder_command"))
        .and_then(|v| v.as_str());
    Some(match cmd {
        Some(c) => format!("pid {pid} ({c})"),
        None => format!("pid {pid}"),
    })
}

/// The observations by id, in the order they were made, and the data dirs' targets. A
/// requirement's lookup reads only its probe's observations (one per data dir at most), not
/// the whole list: a linear search per requirement made judging twenty data dirs quadratic
/// (about 40 ms of a 48 ms replay).
struct ObservationIndex<'a> {
    by_id: HashMap<&'a str, Vec<&'a Observation>>,
    data_dirs: HashSet<&'a str>,
}

impl<'a> ObservationIndex<'a> {
    fn new(observations: &'a [Observation], data_dirs: &'a [String]) -> Self {
        let mut by_id: HashMap<&str, Vec<&Observation>> = HashMap::new();
        for o in observations {
            by_id.entry(o.id.as_str()).or_default().push(o);
        }
        ObservationIndex {
            by_id,
            data_dirs: data_dirs.iter().map(String::as_str).collect(),
        }
    }

    /// The observation a requirement reads: its data dir's for a data-dir requirement judged
    /// per dir; otherwise the first of its id, preferring one whose target is not a data dir
    /// (a host-scope requirement on an id that also exists per data dir, uds.path_length).
    fn find(&self, req: &Requirement, dir: Option<&String>) -> Option<&'a Observation> {
        let same_id = self.by_id.get(req.probe.as_str())?;
        match (req.scope, dir) {
            (ReqScope::DataDir, Some(d)) => same_id.iter().copied().find(|o| &o.target == d),
            _ if same_id.len() > 1 => same_id
                .iter()
                .copied()
                .find(|o| !self.data_dirs.contains(o.target.as_str())),
            _ => same_id.first().copied(),
        }
    }
}

fn reason_for(req: &Requirement, obs: Option<&Observation>, dir: Option<&String>) -> Reason {
    let mut reason = Reason {
        requirement: req.id.clone(),
        probe: req.probe.clone(),
        target: dir.cloned().unwrap_or_else(|| "host".into()),
        status: Status::Skipped,
        errno: None,
        outcome: Outcome::Unobserved,
        effect: req.effect,
        observed: format!("no observation `{}` was made", req.probe),
        holder: None,
        explain: req.explain.clone(),
        remediation: req.remediation.clone(),
        source: req.source.clone(),
    };
    let Some(obs) = obs else { return reason };
    reason.target = obs.target.clone();
    reason.status = obs.status;
    reason.errno = obs.errno.clone();
    reason.observed = obs.message.clone();
    reason.holder = holder_of(obs);
    reason.outcome = match obs.status {
        Status::Pass => Outcome::Satisfied,
        // The tool's own exhaustion is no property of the host, even in a recorded `fail`.
        Status::Fail
            if obs
                .errno
                .as_deref()
                .is_some_and(crate::errno::is_own_resource_exhaustion) =>
        {
            Outcome::Unobserved
        }
        Status::Fail => {
            let counts =
                req.errnos.is_empty() || obs.errno.as_ref().is_some_and(|e| req.errnos.contains(e));
            if counts {
                Outcome::Violated
            } else {
                Outcome::Unobserved
            }
        }
        Status::Timeout | Status::Skipped | Status::Error => Outcome::Unobserved,
    };
    if req.violated_when_applicable && reason.outcome == Outcome::Satisfied {
        reason.outcome = Outcome::Violated;
    }
    if let Some(ex) = &req.expect {
        // A predicate is judged on whatever values were observed (also on a failed observation,
        // whose values may still say what was seen); an unobserved one stays unobserved.
        if !obs.status.is_unobserved() || obs.value(&ex.field).is_some() {
            match expect::evaluate(ex, obs) {
                ExpectOutcome::Holds => {}
                ExpectOutcome::Fails(why) => {
                    reason.outcome = Outcome::Violated;
                    reason.observed = why;
                }
                ExpectOutcome::Missing(why) => {
                    if reason.outcome == Outcome::Satisfied {
                        reason.outcome = Outcome::Unobserved;
                        reason.observed = why;
                    }
                }
            }
        }
    }
    reason
}

fn judged_version(profile: &Profile, observations: &[Observation]) -> Option<JudgedVersion> {
    let package = profile.package.as_ref()?;
    let packages = observations
        .iter()
        .find(|o| o.id == "python.packages" && o.status == Status::Pass);
    let installed = packages
        .and_then(|o| o.values.get("packages"))
        .and_then(|p| p.as_object())
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| normalize(k) == normalize(package))
                .map(|(_, v)| v.clone())
        })
        .and_then(|v| v.as_str().map(str::to_string));
    Some(match installed {
        Some(v) => JudgedVersion {
            package: package.clone(),
            note: format!("{package} {v} is installed"),
            version: Some(v),
            installed: true,
        },
        None => JudgedVersion {
            package: package.clone(),
            version: profile.assumed_version.clone(),
            installed: false,
            note: match &profile.assumed_version {
                Some(v) => format!("{package} is not installed; judged as the current release {v}"),
                None => format!("{package} is not installed"),
            },
        },
    })
}

/// PEP 503 name normalisation.
pub fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}
