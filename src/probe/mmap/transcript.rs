//! The parent's reading of the mmap worker's transcript (`begin <id>` / `obs <json>` lines)
//! and of how the worker ended, turned into exactly one observation per check.

use super::IDS;
use crate::observation::Observation;
use crate::probe::worker::WorkerExit;
use std::time::Instant;

/// The parent's reading of the worker's output: which checks are running, which are done.
pub(super) struct Transcript {
    target: String,
    done: [bool; IDS.len()],
    /// The checks begun and not reported yet, in the order begun.
    open: Vec<(usize, Instant)>,
    /// The current worker runs its checks side by side, so several may be open at once.
    side_by_side: bool,
}

/// How a worker's end bears on the checks it had begun.
#[derive(Debug)]
pub(super) enum Crash {
    /// Not a signal inside a check.
    None,
    /// The one check it was in fails with the signal.
    In(Observation),
    /// It was in several checks at once (side by side): which one the signal came from is
    /// unknown, so they stay pending, to be run again one at a time.
    Unattributed,
}

impl Transcript {
    pub(super) fn new(target: &str) -> Self {
        Transcript {
            target: target.to_string(),
            done: [false; IDS.len()],
            open: Vec::new(),
            side_by_side: false,
        }
    }

    /// A new worker starts; it runs its checks side by side, or one at a time.
    pub(super) fn worker_started(&mut self, side_by_side: bool) {
        self.side_by_side = side_by_side;
        self.open.clear();
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
            if !self.side_by_side
                && let Some((prev, _)) = self.open.pop()
            {
                self.done[prev] = true;
                out.push(Observation::error(
                    IDS[prev],
                    &self.target,
                    format!("the worker began {} before reporting this check", IDS[i]),
                ));
            }
            self.open.push((i, Instant::now()));
        } else if let Some(json) = line.strip_prefix("obs ") {
            let Ok(mut obs) = serde_json::from_str::<Observation>(json) else {
                return out;
            };
            let Some(i) = Self::index(&obs.id).filter(|i| !self.done[*i]) else {
                return out;
            };
            obs.target = self.target.clone();
            self.done[i] = true;
            self.open.retain(|(c, _)| *c != i);
            out.push(obs);
        }
        out
    }

    /// The worker died by a signal inside a check: that check fails with the signal's name,
    /// so the parent can start a fresh worker for the checks left. Inside several checks at
    /// once, none is blamed: they are run again, one at a time.
    pub(super) fn crash(&mut self, end: &WorkerExit) -> Crash {
        let WorkerExit::Signal(sig) = end else {
            return Crash::None;
        };
        match self.open.as_slice() {
            [] => Crash::None,
            [(i, began)] => {
                let (i, began) = (*i, *began);
                self.open.clear();
                self.done[i] = true;
                Crash::In(
                    Observation::fail(IDS[i], &self.target, signal_message(sig, IDS[i]))
                        .with_errno(sig.clone())
                        .elapsed_since(began),
                )
            }
            _ => {
                self.open.clear();
                Crash::Unattributed
            }
        }
    }

    /// The checks not reported yet, in the workers' order.
    pub(super) fn pending(&self) -> Vec<&'static str> {
        (0..IDS.len())
            .filter(|i| !self.done[*i])
            .map(|i| IDS[i])
            .collect()
    }

    /// The worker is gone (or was killed at the deadline): account for every check not reported.
    pub(super) fn finish(&mut self, end: &WorkerExit) -> Vec<Observation> {
        let mut out = Vec::new();
        let running = std::mem::take(&mut self.open);
        let died_at = running.first().map(|(i, _)| IDS[*i]);
        for (i, began) in running {
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
    fn a_crashed_check_fails_with_its_signal_and_the_checks_left_are_pending() {
        let mut t = Transcript::new("/data");
        t.line(&format!("begin {}", IDS[0]));
        t.line(&pass_line(IDS[0]));
        t.line(&format!("begin {}", IDS[1]));
        let Crash::In(crashed) = t.crash(&WorkerExit::Signal("SIGBUS".into())) else {
            panic!("a check was running");
        };
        assert_eq!(crashed.id, IDS[1]);
        assert_eq!(crashed.status, Status::Fail);
        assert_eq!(crashed.errno.as_deref(), Some("SIGBUS"));
        assert_eq!(t.pending(), IDS[2..]);
        assert!(
            matches!(t.crash(&WorkerExit::Code(0)), Crash::None),
            "only a signal inside a check counts"
        );
    }

    #[test]
    fn a_signal_inside_several_checks_side_by_side_blames_none_and_leaves_them_pending() {
        let mut t = Transcript::new("/data");
        t.worker_started(true);
        for id in IDS {
            assert!(t.line(&format!("begin {id}")).is_empty(), "no error");
        }
        assert_eq!(t.line(&pass_line(IDS[0])).len(), 1);
        assert!(matches!(
            t.crash(&WorkerExit::Signal("SIGBUS".into())),
            Crash::Unattributed
        ));
        assert_eq!(t.pending(), IDS[1..]);
        // Run again one at a time: now the signal is pinned on the check it came from.
        t.worker_started(false);
        t.line(&format!("begin {}", IDS[1]));
        t.line(&pass_line(IDS[1]));
        t.line(&format!("begin {}", IDS[5]));
        let Crash::In(crashed) = t.crash(&WorkerExit::Signal("SIGBUS".into())) else {
            panic!("one check was running");
        };
        assert_eq!(crashed.id, IDS[5]);
        assert_eq!(t.pending(), IDS[2..5]);
    }

    #[test]
    fn one_at_a_time_a_check_begun_before_the_last_was_reported_is_an_error() {
        let mut t = Transcript::new("/data");
        t.line(&format!("begin {}", IDS[0]));
        let obs = t.line(&format!("begin {}", IDS[1]));
        assert_eq!(obs.len(), 1);
        assert_eq!((obs[0].id.as_str(), obs[0].status), (IDS[0], Status::Error));
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
