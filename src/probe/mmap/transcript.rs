//! The parent's reading of the mmap worker's transcript (`begin <id>` / `obs <json>` lines)
//! and of how the worker ended, turned into exactly one observation per check.

use super::IDS;
use crate::observation::Observation;
use crate::probe::worker::WorkerExit;
use std::time::Instant;

/// The parent's reading of the worker's output: which check is running, which are done.
pub(super) struct Transcript {
    target: String,
    done: [bool; IDS.len()],
    current: Option<(usize, Instant)>,
}

impl Transcript {
    pub(super) fn new(target: &str) -> Self {
        Transcript {
            target: target.to_string(),
            done: [false; IDS.len()],
            current: None,
        }
    }

    fn index(id: &str) -> Option<usize> {
        IDS.iter().position(|known| *known == id)
    }

    /// One line from the worker; returns the observations it completes.
    pub(super) fn line(&mut self, line: &str) -> Vec<Observation> {
        let mut out = Vec::new();
        if let Some(id) = line.strip_prefix("begin ") {
            let Some(i) = Self::index(id.trim()).filter(|i| !self.done[*i]) else {
                return out;
            };
            if let Some((prev, _)) = self.current.take() {
                self.done[prev] = true;
                out.push(Observation::error(
                    IDS[prev],
                    &self.target,
                    format!("the worker began {} before reporting this check", IDS[i]),
                ));
            }
            self.current = Some((i, Instant::now()));
        } else if let Some(json) = line.strip_prefix("obs ") {
            let Ok(mut obs) = serde_json::from_str::<Observation>(json) else {
                return out;
            };
            let Some(i) = Self::index(&obs.id).filter(|i| !self.done[*i]) else {
                return out;
            };
            obs.target = self.target.clone();
            self.done[i] = true;
            if self.current.is_some_and(|(c, _)| c == i) {
                self.current = None;
            }
            out.push(obs);
        }
        out
    }

    /// The worker died by a signal inside a check: that check fails with the signal's name,
    /// so the parent can start a fresh worker for the checks after it. None when the end was
    /// not a signal during a check.
    pub(super) fn crashed_check(&mut self, end: &WorkerExit) -> Option<Observation> {
        let WorkerExit::Signal(sig) = end else {
            return None;
        };
        let (i, began) = self.current.take()?;
        self.done[i] = true;
        Some(
            Observation::fail(IDS[i], &self.target, signal_message(sig, IDS[i]))
                .with_errno(sig.clone())
                .elapsed_since(began),
        )
    }

    pub(super) fn is_pending(&self, id: &str) -> bool {
        Self::index(id).is_some_and(|i| !self.done[i])
    }

    /// The first check not reported yet.
    pub(super) fn next_pending(&self) -> Option<&'static str> {
        self.done.iter().position(|d| !d).map(|i| IDS[i])
    }

    /// The worker is gone (or was killed at the deadline): account for every check not reported.
    pub(super) fn finish(&mut self, end: &WorkerExit) -> Vec<Observation> {
        let mut out = Vec::new();
        let running = self.current.take();
        let died_at = running.map(|(i, _)| IDS[i]);
        if let Some((i, began)) = running {
            self.done[i] = true;
            let obs = match end {
                WorkerExit::Signal(sig) => {
                    Observation::fail(IDS[i], &self.target, signal_message(sig, IDS[i]))
                        .with_errno(sig.clone())
                }
                WorkerExit::TimedOut => Observation::timeout(
                    IDS[i],
                    &self.target,
                    "the worker was still in this check at the deadline; it was killed",
                ),
                WorkerExit::Code(c) => Observation::error(
                    IDS[i],
                    &self.target,
                    format!(
                        "the worker exited with code {c} during this check without reporting it"
                    ),
                ),
            };
            out.push(obs.elapsed_since(began));
        }
        for (i, id) in IDS.iter().copied().enumerate() {
            if std::mem::replace(&mut self.done[i], true) {
                continue;
            }
            let obs = match (end, died_at) {
                (WorkerExit::TimedOut, Some(at)) => Observation::timeout(
                    id,
                    &self.target,
                    format!("not run: the deadline passed while the worker was in {at}"),
                ),
                (WorkerExit::TimedOut, None) => Observation::timeout(
                    id,
                    &self.target,
                    "not run: the worker did not get to this check before the deadline",
                ),
                (WorkerExit::Signal(sig), Some(at)) => Observation::skipped(
                    id,
                    &self.target,
                    format!("not run: the worker died at {at} ({sig})"),
                ),
                (WorkerExit::Signal(sig), None) => Observation::error(
                    id,
                    &self.target,
                    format!("not run: the worker died by {sig} between checks"),
                ),
                (WorkerExit::Code(c), _) => Observation::error(
                    id,
                    &self.target,
                    format!("not run: the worker exited with code {c} before this check"),
                ),
            };
            out.push(obs);
        }
        out
    }
}

fn signal_message(sig: &str, id: &str) -> String {
    if sig == "SIGBUS" {
        format!(
            "{id}: touching a mapped page raised SIGBUS (the filesystem could not back the page: disk full, quota, or a file changed under the map); contained in a child process"
        )
    } else {
        format!("{id}: the worker process died by {sig}; contained in a child process")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Status;

    fn pass_line(id: &str) -> String {
        format!(
            "obs {}",
            serde_json::to_string(&Observation::pass(id, "/scratch", "ok")).unwrap()
        )
    }

    #[test]
    fn a_crashed_check_fails_with_its_signal_and_the_next_pending_check_is_named() {
        let mut t = Transcript::new("/data");
        t.line(&format!("begin {}", IDS[0]));
        t.line(&pass_line(IDS[0]));
        t.line(&format!("begin {}", IDS[1]));
        let crashed = t
            .crashed_check(&WorkerExit::Signal("SIGBUS".into()))
            .expect("a check was running");
        assert_eq!(crashed.id, IDS[1]);
        assert_eq!(crashed.status, Status::Fail);
        assert_eq!(crashed.errno.as_deref(), Some("SIGBUS"));
        assert_eq!(t.next_pending(), Some(IDS[2]));
        assert!(
            t.crashed_check(&WorkerExit::Code(0)).is_none(),
            "only a signal inside a check counts"
        );
    }

    #[test]
    fn sigbus_during_a_check_fails_it_with_sigbus_and_skips_the_rest() {
        let mut t = Transcript::new("/data");
        let mut obs = Vec::new();
        for id in &IDS[..2] {
            obs.extend(t.line(&format!("begin {id}")));
            obs.extend(t.line(&pass_line(id)));
        }
        obs.extend(t.line("begin mmap.two_map"));
        obs.extend(t.finish(&WorkerExit::Signal("SIGBUS".into())));
        assert_eq!(obs.len(), IDS.len());
        let two_map = &obs[2];
        assert_eq!(
            (two_map.id.as_str(), two_map.status),
            ("mmap.two_map", Status::Fail)
        );
        assert_eq!(two_map.errno.as_deref(), Some("SIGBUS"));
        assert!(
            two_map.message.contains("contained in a child process"),
            "{}",
            two_map.message
        );
        for o in &obs[3..] {
            assert_eq!(o.status, Status::Skipped);
            assert_eq!(
                o.message,
                "not run: the worker died at mmap.two_map (SIGBUS)"
            );
        }
    }

    #[test]
    fn the_deadline_turns_the_running_and_unstarted_checks_into_timeouts() {
        let mut t = Transcript::new("/data");
        t.line("begin mmap.private");
        let obs = t.finish(&WorkerExit::TimedOut);
        assert_eq!(obs.len(), IDS.len());
        assert!(
            obs.iter()
                .all(|o| o.status == Status::Timeout && o.target == "/data")
        );
        assert_eq!(obs[0].id, "mmap.private");
    }

    #[test]
    fn a_worker_that_exits_without_reporting_is_an_error_never_a_pass() {
        let mut t = Transcript::new("/data");
        assert!(t.line("garbage").is_empty());
        assert!(t.line("obs {not json").is_empty());
        assert!(t.line(&pass_line("mmap.unknown")).is_empty());
        let obs = t.finish(&WorkerExit::Code(0));
        assert_eq!(obs.len(), IDS.len());
        assert!(obs.iter().all(|o| o.status == Status::Error));
    }

    #[test]
    fn a_check_reported_twice_is_emitted_once() {
        let mut t = Transcript::new("/data");
        assert_eq!(t.line(&pass_line("mmap.fill")).len(), 1);
        assert!(t.line(&pass_line("mmap.fill")).is_empty());
        assert_eq!(t.finish(&WorkerExit::Code(0)).len(), IDS.len() - 1);
    }
}
