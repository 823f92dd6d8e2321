//! The engine: runs every (probe, target) job on its own thread, all at once, and collects
//! what they observe until each job's deadline. A job that has not finished by then is
//! abandoned (its thread is left to die with the process) and whatever it planned but did
//! not emit is reported as `timeout`, so the run always ends on time.
//!
//! Running out of the tool's own time is never a finding about the host: a job whose wait the
//! run's deadline cut short reports `timeout` (not `fail ETIMEDOUT`), and a data dir the setup
//! never reached gets `timeout` for every probe on it.

use super::{DataDir, Planned, ProbeContext, ProbeDef, Scope, Sink};
use crate::observation::{Observation, Status};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// `source_of_facts` of a data dir the setup never reached before its deadline.
pub const NOT_REACHED: &str = "timeout: the run's time ran out before this data dir was examined";

/// An ETIMEDOUT failure arriving this close to a deadline the run cut short is the run's
/// timeout, not the host's.
const CUT_SHORT_WINDOW: Duration = Duration::from_millis(100);

/// Messages from jobs to the engine.
pub enum Msg {
    Observed(usize, Box<Observation>),
    Done(usize),
}

struct Job {
    probe: &'static ProbeDef,
    dir_index: Option<usize>,
    target: String,
    planned: Vec<Planned>,
    deadline: Instant,
    /// The run's deadline came before this probe's own (scaled) timeout.
    cut_by_run: bool,
    started: Instant,
    observed: Vec<Observation>,
    state: JobState,
}

#[derive(PartialEq, Clone, Copy)]
enum JobState {
    Running,
    Finished,
    TimedOut,
    /// Not run: its data dir was never examined (the run's time ran out first).
    NotReached,
}

/// Run the given probes against the context; returns every observation, in registry order.
pub fn run(ctx: Arc<ProbeContext>, probes: &[&'static ProbeDef]) -> Vec<Observation> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut jobs: Vec<Job> = Vec::new();
    for &probe in probes {
        let dirs: Vec<Option<usize>> = match probe.scope {
            Scope::Host => vec![None],
            Scope::DataDir => (0..ctx.data_dirs.len()).map(Some).collect(),
        };
        for dir_index in dirs {
            let dir: Option<&DataDir> = dir_index.map(|i| &ctx.data_dirs[i]);
            let planned = (probe.plan)(&ctx, dir);
            let start = Instant::now();
            let own = start + super::scaled(probe.timeout);
            let deadline = own.min(ctx.deadline);
            let target = dir.map(|d| d.target()).unwrap_or_else(|| "host".into());
            let not_reached =
                dir.is_some_and(|d| d.facts.filesystem.source_of_facts == NOT_REACHED);
            jobs.push(Job {
                probe,
                dir_index,
                target,
                planned,
                deadline,
                cut_by_run: own > ctx.deadline,
                started: start,
                observed: Vec::new(),
                state: if not_reached {
                    JobState::NotReached
                } else {
                    JobState::Running
                },
            });
        }
    }
    for (index, job) in jobs.iter().enumerate() {
        if job.state == JobState::NotReached {
            continue;
        }
        let ctx = Arc::clone(&ctx);
        let sink = Sink::new(tx.clone(), index);
        let done = tx.clone();
        let probe = job.probe;
        let dir_index = job.dir_index;
        let spawned = std::thread::Builder::new()
            .name(format!("probe-{}", probe.name))
            .spawn(move || {
                let dir = dir_index.map(|i| &ctx.data_dirs[i]);
                (probe.run)(&ctx, dir, &sink);
                let _ = done.send(Msg::Done(index));
            });
        if spawned.is_err() {
            let _ = tx.send(Msg::Done(index));
        }
    }
    drop(tx);

    loop {
        let now = Instant::now();
        for job in jobs.iter_mut().filter(|j| j.state == JobState::Running) {
            if now >= job.deadline {
                job.state = JobState::TimedOut;
            }
        }
        let next = jobs
            .iter()
            .filter(|j| j.state == JobState::Running)
            .map(|j| j.deadline)
            .min();
        let Some(next) = next else { break };
        match rx.recv_timeout(
            next.saturating_duration_since(now)
                .max(Duration::from_millis(1)),
        ) {
            Ok(Msg::Observed(i, obs)) => {
                if jobs[i].state == JobState::Running {
                    let obs = cut_short(&jobs[i], *obs);
                    jobs[i].observed.push(obs);
                }
            }
            Ok(Msg::Done(i)) => {
                if jobs[i].state == JobState::Running {
                    jobs[i].state = JobState::Finished;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }

    let mut out = Vec::new();
    for job in jobs {
        let seen: HashSet<(String, String)> = job
            .observed
            .iter()
            .map(|o| (o.id.clone(), o.target.clone()))
            .collect();
        let missing: Vec<&Planned> = job
            .planned
            .iter()
            .filter(|p| !seen.contains(&(p.id.clone(), p.target.clone())))
            .collect();
        let waited_ms = job
            .deadline
            .saturating_duration_since(job.started)
            .as_secs_f64()
            * 1000.0;
        out.extend(job.observed);
        for p in missing {
            let obs = match job.state {
                JobState::NotReached => Observation::new(
                    p.id.clone(),
                    p.target.clone(),
                    Status::Timeout,
                    format!(
                        "probe `{}` not run on {}: the run's time ran out before this data dir was examined",
                        job.probe.name, job.target
                    ),
                ),
                JobState::TimedOut | JobState::Running => Observation::new(
                    p.id.clone(),
                    p.target.clone(),
                    Status::Timeout,
                    format!(
                        "probe `{}` on {} did not finish within its deadline; abandoned",
                        job.probe.name, job.target
                    ),
                )
                .with_elapsed_ms(waited_ms),
                JobState::Finished => Observation::error(
                    p.id.clone(),
                    p.target.clone(),
                    format!(
                        "probe `{}` finished without reporting this observation",
                        job.probe.name
                    ),
                ),
            };
            out.push(obs);
        }
    }
    out
}

/// A `fail ETIMEDOUT` that arrives when the run's deadline, not the probe's own limit, is
/// about to end the job says the tool ran out of time: it is reported `timeout`.
fn cut_short(job: &Job, mut obs: Observation) -> Observation {
    let near_end = Instant::now() + CUT_SHORT_WINDOW >= job.deadline;
    if job.cut_by_run
        && near_end
        && obs.status == Status::Fail
        && obs.errno.as_deref() == Some("ETIMEDOUT")
    {
        obs.status = Status::Timeout;
        obs.message = format!(
            "{} (the run's --timeout ended this wait; not a finding about the host)",
            obs.message
        );
    }
    obs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::ProbeKind;

    fn ctx(deadline: Duration) -> Arc<ProbeContext> {
        Arc::new(ProbeContext {
            deadline: Instant::now() + deadline,
            ..crate::probe::testing::context()
        })
    }

    fn plan_two(_: &ProbeContext, _: Option<&DataDir>) -> Vec<Planned> {
        vec![Planned::new("t.a", "host"), Planned::new("t.b", "host")]
    }
    fn emits_one_then_hangs(_: &ProbeContext, _: Option<&DataDir>, sink: &Sink) {
        sink.emit(Observation::pass("t.a", "host", "ok"));
        std::thread::sleep(Duration::from_secs(30));
    }
    fn emits_one_and_returns(_: &ProbeContext, _: Option<&DataDir>, sink: &Sink) {
        sink.emit(Observation::pass("t.a", "host", "ok"));
    }
    static HANGS: ProbeDef = ProbeDef {
        name: "hangs",
        kind: ProbeKind::Host,
        scope: Scope::Host,
        timeout: Duration::from_millis(150),
        plan: plan_two,
        run: emits_one_then_hangs,
    };
    static FORGETS: ProbeDef = ProbeDef {
        name: "forgets",
        kind: ProbeKind::Host,
        scope: Scope::Host,
        timeout: Duration::from_secs(5),
        plan: plan_two,
        run: emits_one_and_returns,
    };

    #[test]
    fn a_hanging_probe_is_abandoned_at_its_deadline_and_reported_timeout() {
        let start = Instant::now();
        let obs = run(ctx(Duration::from_secs(10)), &[&HANGS]);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "engine waited {:?}",
            start.elapsed()
        );
        assert_eq!(obs.len(), 2);
        assert_eq!(obs[0].status, Status::Pass);
        assert_eq!(obs[1].id, "t.b");
        assert_eq!(obs[1].status, Status::Timeout);
    }

    #[test]
    fn the_run_deadline_caps_every_probe_deadline() {
        let start = Instant::now();
        let obs = run(ctx(Duration::from_millis(50)), &[&HANGS]);
        assert!(
            start.elapsed() < Duration::from_millis(140),
            "engine waited {:?}",
            start.elapsed()
        );
        assert_eq!(obs[1].status, Status::Timeout);
    }

    #[test]
    fn a_planned_observation_never_emitted_is_an_error_not_a_pass() {
        let obs = run(ctx(Duration::from_secs(10)), &[&FORGETS]);
        assert_eq!(obs[1].status, Status::Error);
    }
}
