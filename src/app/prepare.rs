//! Setting up a run's data dirs: their facts and private scratch dirs, all asked for at once
//! (through the agent on a live host), bounded by the setup's deadline, and what a dir that
//! did not answer, was never reached or does not exist is described as.

use super::check::HUNG_AFTER;
use crate::host::{self, DataDirFacts, HostRoot};
use crate::probe::{self, ScratchError, scratch};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A data dir ready for the probes: its facts, its scratch dir (None: not asked for), and
/// the device it is on (when stat told it).
pub(super) struct Prepared {
    pub(super) facts: DataDirFacts,
    pub(super) scratch: Option<Result<PathBuf, ScratchError>>,
    pub(super) device: Option<u64>,
}

/// The data dirs' facts (and, with `scratch`, their private scratch dirs), all touched at
/// once on a bounded pool and all ending at `deadline`. A dir whose filesystem did not answer
/// is described as such (a dead mount); a dir the pool never reached before the deadline is
/// the run's own timeout, not a finding about it. The same dir given twice (also through a
/// symlink) is kept once.
pub(super) fn prepare_dirs(
    root: &HostRoot,
    given: &[PathBuf],
    deadline: Instant,
    scratch: Option<&scratch::Gate>,
) -> Vec<Prepared> {
    // Only a dir that had HUNG_AFTER to answer and did not is called hung.
    let had_time = deadline.saturating_duration_since(Instant::now()) >= HUNG_AFTER;
    let root2 = root.clone();
    let gate = scratch.cloned();
    let exe = (!root.is_recorded())
        .then(super::dirfacts::tool_exe)
        .flatten();
    let answers = crate::bounded::each_within(deadline, given.to_vec(), move |d| {
        // In the agent when possible: a hung mount then holds a thread of the agent, which
        // is killed at the end, and never one of this process.
        let (facts, same) = match &exe {
            Some(exe) => {
                let answer = super::dirfacts::in_child(exe, &d, deadline)?;
                (answer.facts?, answer.identity)
            }
            None => {
                let facts = host::collect_data_dirs(&root2, std::slice::from_ref(&d)).pop()?;
                let same = (!root2.is_recorded())
                    .then(|| super::dirfacts::identity(&facts.path))
                    .flatten();
                (facts, same)
            }
        };
        let made = gate
            .as_ref()
            .filter(|_| facts.exists && facts.filesystem.answered())
            .map(|g| {
                let agent = exe.as_deref().and_then(crate::probe::agent::get);
                let made = match agent {
                    Some(agent) => agent
                        .make_scratch(&facts.path, deadline)
                        .unwrap_or_else(|| Err(timed_out_scratch())),
                    None => g.create_in(&facts.path),
                };
                (same, made)
            });
        Some((facts, same, made))
    });
    let mut out: Vec<Prepared> = Vec::new();
    let mut seen: Vec<(u64, u64)> = Vec::new();
    for (d, answer) in given.iter().zip(answers) {
        let (facts, made, device) = match answer {
            crate::bounded::Answer::Answered(Some((f, same, made))) => {
                if let Some(id) = same {
                    if seen.contains(&id) {
                        continue;
                    }
                    seen.push(id);
                }
                let made = made
                    .map(|(_, m)| m)
                    .or_else(|| (!f.exists).then(|| Err(missing_scratch(root))));
                (f, made, same.map(|(dev, _)| dev))
            }
            crate::bounded::Answer::NoAnswer | crate::bounded::Answer::Answered(None)
                if had_time =>
            {
                (
                    unanswered(d, host::datadir::DID_NOT_ANSWER),
                    Some(Err(timed_out_scratch())),
                    None,
                )
            }
            _ => (
                unanswered(d, probe::engine::NOT_REACHED),
                Some(Err(not_reached_scratch())),
                None,
            ),
        };
        if !out.iter().any(|p| p.facts.path == facts.path) {
            out.push(Prepared {
                facts,
                scratch: made,
                device,
            });
        }
    }
    out
}

fn unanswered(given: &std::path::Path, why: &str) -> DataDirFacts {
    let mut filesystem = host::FsFacts::did_not_answer();
    filesystem.source_of_facts = why.into();
    DataDirFacts {
        given: host::shown(given),
        path: host::absolute(given),
        exists: false,
        is_dir: false,
        writable: None,
        filesystem,
    }
}

fn missing_scratch(root: &HostRoot) -> ScratchError {
    let message = if root.is_recorded() {
        "the data dir does not exist on this machine (recorded host); probes on it are skipped"
    } else {
        "the data dir does not exist"
    };
    ScratchError {
        errno: None,
        message: message.into(),
        own: false,
    }
}

pub(super) fn not_reached_scratch() -> ScratchError {
    ScratchError {
        errno: None,
        message: "not created: the run's time ran out before this data dir's turn".into(),
        own: false,
    }
}

/// The thread's result if it finishes by `deadline`.
pub(super) fn join_by<T: Send + 'static>(
    handle: std::thread::JoinHandle<T>,
    deadline: Instant,
) -> Option<T> {
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    handle.join().ok()
}

pub(super) fn timed_out_scratch() -> ScratchError {
    ScratchError {
        errno: Some("ETIMEDOUT".into()),
        message: "the filesystem did not answer before the deadline (a dead or hung mount?)".into(),
        own: false,
    }
}
