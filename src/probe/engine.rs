//! The engine: runs every (probe, target) job — on a bounded pool of threads, or, for the
//! probes that work in data dirs, as a request to the run's agent process, whose answers are
//! streamed back without holding a thread here — host-wide jobs first, then each data dir's,
//! and collects what they observe until each job's deadline, counted from when the job starts. A job that has not finished by then is abandoned (its
//! thread is left to die with the process and a fresh pool thread takes its place) and
//! whatever it planned but did not emit is reported as `timeout`, so the run always ends on
//! time; a job the pool never started before the run's deadline is `timeout` too.
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
    Started(usize),
    Observed(usize, Box<Observation>),
    Done(usize),
    /// The agent running the job ended before the job did.
    AgentGone(usize),
}

/// Jobs running at once on the pool, and jobs running at once in the agent (which hold no
/// thread of the pool: the agent streams their observations to the engine). Enough to keep
/// two cores busy while most jobs wait on children and fsync (100 dirs: 7.9 s at 24, 11.4 s
/// at 12, debug build), few enough that 200 data dirs are not 1,600 threads and 400 child
/// processes. A run with fewer jobs starts only as many pool threads as it has pool jobs.
pub const POOL_SIZE: usize = 24;

struct Job {
    probe: &'static ProbeDef,
    dir_index: Option<usize>,
    target: String,
    planned: Vec<Planned>,
    deadline: Instant,
    /// The run's deadline came before this probe's own (scaled) timeout.
    cut_by_run: bool,
    /// Runs in the agent, not on the pool.
    remote: bool,
    started: Instant,
    observed: Vec<Observation>,
    state: JobState,
}

#[derive(PartialEq, Clone, Copy)]
enum JobState {
    /// Waiting for a pool thread.
    Queued,
    Running,
    Finished,
    TimedOut,
    /// Still queued when the run's deadline came.
    NeverStarted,
    /// Not run: its data dir was never examined (the run's time ran out first).
    NotReached,
    /// The agent that ran it ended first.
    AgentGone,
}

/// Run the given probes against the context; returns every observation, in registry order.
pub fn run(ctx: Arc<ProbeContext>, probes: &[&'static ProbeDef]) -> Vec<Observation> {
    let (tx, rx) = mpsc::channel::<Msg>();
    // The agent runs the probes that make filesystem calls on data dirs (without one, they
    // run on the pool like the rest). Its context is sent once, before the first request.
    let agent = probes
        .iter()
        .any(|p| p.in_agent)
        .then(|| super::agent::for_context(&ctx))
        .flatten();
    let agent_ready = agent.as_ref().is_some_and(|a| a.send_context(&ctx));
    let mut jobs: Vec<Job> = Vec::new();
    for &probe in probes {
        let dirs: Vec<Option<usize>> = match probe.scope {
            Scope::Host => vec![None],
            Scope::DataDir => (0..ctx.data_dirs.len()).map(Some).collect(),
            // Once per filesystem: the dirs that share one get copies (`shared_fs`).
            Scope::Filesystem => (0..ctx.data_dirs.len())
                .filter(|&i| ctx.data_dirs[i].same_filesystem_as.is_none())
                .map(Some)
                .collect(),
        };
        for dir_index in dirs {
            let dir: Option<&DataDir> = dir_index.map(|i| &ctx.data_dirs[i]);
            let planned = (probe.plan)(&ctx, dir);
            let start = Instant::now();
            let target = dir.map(|d| d.target()).unwrap_or_else(|| "host".into());
            let not_reached =
                dir.is_some_and(|d| d.facts.filesystem.source_of_facts == NOT_REACHED);
            jobs.push(Job {
                probe,
                dir_index,
                target,
                planned,
                deadline: ctx.deadline,
                cut_by_run: false,
                remote: probe.in_agent && agent.is_some(),
                started: start,
                observed: Vec::new(),
                state: if not_reached {
                    JobState::NotReached
                } else {
                    JobState::Queued
                },
            });
        }
    }
    // Host-wide jobs first (one each), then the data dirs' jobs, dir by dir.
    let mut order: Vec<usize> = (0..jobs.len())
        .filter(|&i| jobs[i].state == JobState::Queued)
        .collect();
    order.sort_by_key(|&i| (jobs[i].dir_index.map_or(0, |d| d + 1), i));
    let (remote, local): (Vec<usize>, Vec<usize>) =
        order.into_iter().partition(|&i| jobs[i].remote);
    let mut remote = std::collections::VecDeque::from(remote);
    let pool_threads = POOL_SIZE.min(local.len());
    let queue = Arc::new(std::sync::Mutex::new(local.into_iter()));
    let runs: Arc<Vec<(&'static ProbeDef, Option<usize>)>> =
        Arc::new(jobs.iter().map(|j| (j.probe, j.dir_index)).collect());
    let pool = Pool {
        ctx: Arc::clone(&ctx),
        queue,
        runs,
        tx: tx.clone(),
        refused: std::sync::Mutex::new(None),
    };
    // The agent's jobs are sent first: they start at once, while the pool's threads start.
    let mut remote_running = 0;
    let mut send_remote = |jobs: &mut [Job], remote_running: &mut usize| {
        while *remote_running < POOL_SIZE && Instant::now() < ctx.deadline {
            let Some(i) = remote.pop_front() else { break };
            let job = &mut jobs[i];
            start(job, &ctx);
            let sink = Sink::new(tx.clone(), i);
            match &agent {
                Some(agent) if agent_ready && agent.start_probe(job.probe, job.dir_index, sink) => {
                    *remote_running += 1
                }
                _ => job.state = JobState::AgentGone,
            }
        }
    };
    send_remote(&mut jobs, &mut remote_running);
    for _ in 0..pool_threads {
        pool.spawn_thread();
    }

    loop {
        let now = Instant::now();
        for job in jobs.iter_mut() {
            let expired = now >= job.deadline;
            match job.state {
                JobState::Running if expired && job.remote => {
                    job.state = JobState::TimedOut;
                    remote_running -= 1;
                }
                JobState::Running if expired => {
                    job.state = JobState::TimedOut;
                    // Its thread is abandoned: a fresh one keeps the pool at full strength.
                    pool.spawn_thread();
                }
                JobState::Queued if expired => job.state = JobState::NeverStarted,
                _ => {}
            }
        }
        let next = jobs
            .iter()
            .filter(|j| matches!(j.state, JobState::Running | JobState::Queued))
            .map(|j| j.deadline)
            .min();
        let Some(next) = next else { break };
        match rx.recv_timeout(
            next.saturating_duration_since(now)
                .max(Duration::from_millis(1)),
        ) {
            Ok(Msg::Started(i)) => {
                if jobs[i].state == JobState::Queued {
                    start(&mut jobs[i], &ctx);
                }
            }
            Ok(Msg::Observed(i, obs)) => {
                if jobs[i].state == JobState::Running {
                    let obs = cut_short(&jobs[i], *obs);
                    jobs[i].observed.push(obs);
                }
            }
            Ok(Msg::Done(i)) => {
                if jobs[i].state == JobState::Running {
                    jobs[i].state = JobState::Finished;
                    if jobs[i].remote {
                        remote_running -= 1;
                    }
                }
            }
            Ok(Msg::AgentGone(i)) => {
                if jobs[i].state == JobState::Running {
                    jobs[i].state = JobState::AgentGone;
                    remote_running -= 1;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        send_remote(&mut jobs, &mut remote_running);
    }
    // Jobs not yet started are never started now.
    pool.queue
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .by_ref()
        .for_each(drop);

    let refused = pool
        .refused
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let mut out = Vec::new();
    for job in jobs {
        let first = out.len();
        let shared_from = job
            .dir_index
            .filter(|_| job.probe.scope == Scope::Filesystem);
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
                JobState::NeverStarted | JobState::Queued => match &refused {
                    // Threads were refused: the job waited for a thread, not for time.
                    Some(why) => Observation::error(
                        p.id.clone(),
                        p.target.clone(),
                        format!(
                            "probe `{}` on {} was not started: {why}",
                            job.probe.name, job.target
                        ),
                    )
                    .with_errno(crate::errno::io_error_name(why)),
                    None => Observation::new(
                        p.id.clone(),
                        p.target.clone(),
                        Status::Timeout,
                        format!(
                            "probe `{}` on {} was not started: the run's deadline came first",
                            job.probe.name, job.target
                        ),
                    ),
                },
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
                JobState::AgentGone => Observation::error(
                    p.id.clone(),
                    p.target.clone(),
                    "the agent process that runs this probe ended before reporting it",
                ),
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
        if let Some(leader) = shared_from {
            let copies =
                super::shared_fs::copies_for_members(&ctx.data_dirs, leader, &out[first..]);
            out.extend(copies);
        }
    }
    out
}

/// The job begins now: its deadline is its own (scaled) limit from now, capped by the run's.
fn start(job: &mut Job, ctx: &ProbeContext) {
    let now = Instant::now();
    let own = now + super::scaled(job.probe.timeout);
    job.started = now;
    job.deadline = own.min(ctx.deadline);
    job.cut_by_run = own > ctx.deadline;
    job.state = JobState::Running;
}

/// The pool's shared state: each thread takes the next queued job until none is left.
struct Pool {
    ctx: Arc<ProbeContext>,
    queue: Arc<std::sync::Mutex<std::vec::IntoIter<usize>>>,
    runs: Arc<Vec<(&'static ProbeDef, Option<usize>)>>,
    tx: mpsc::Sender<Msg>,
    /// The first refusal to start a pool thread (the tool's task limit), if any.
    refused: std::sync::Mutex<Option<std::io::Error>>,
}

impl Pool {
    fn spawn_thread(&self) {
        let (ctx, queue, runs, tx) = (
            Arc::clone(&self.ctx),
            Arc::clone(&self.queue),
            Arc::clone(&self.runs),
            self.tx.clone(),
        );
        let spawned = crate::spawn::thread_once("probe-pool", move || {
            loop {
                if Instant::now() >= ctx.deadline {
                    break;
                }
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some(index) = next else { break };
                let (probe, dir_index) = runs[index];
                if tx.send(Msg::Started(index)).is_err() {
                    break;
                }
                let sink = Sink::new(tx.clone(), index);
                (probe.run)(&ctx, dir_index.map(|i| &ctx.data_dirs[i]), &sink);
                if tx.send(Msg::Done(index)).is_err() {
                    break;
                }
            }
        });
        if let Err(e) = spawned {
            self.refused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(e);
        }
    }
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
        in_agent: false,
    };
    static FORGETS: ProbeDef = ProbeDef {
        name: "forgets",
        kind: ProbeKind::Host,
        scope: Scope::Host,
        timeout: Duration::from_secs(5),
        plan: plan_two,
        run: emits_one_and_returns,
        in_agent: false,
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

    fn waits_then_times_out(ctx: &ProbeContext, _: Option<&DataDir>, sink: &Sink) {
        std::thread::sleep(ctx.remaining().saturating_sub(Duration::from_millis(20)));
        sink.emit(Observation::fail("t.a", "host", "no answer").with_errno("ETIMEDOUT"));
        sink.emit(Observation::pass("t.b", "host", "ok"));
    }
    static CUT_SHORT: ProbeDef = ProbeDef {
        name: "cut-short",
        kind: ProbeKind::Host,
        scope: Scope::Host,
        timeout: Duration::from_secs(5),
        plan: plan_two,
        run: waits_then_times_out,
        in_agent: false,
    };

    #[test]
    fn a_wait_the_runs_deadline_cut_short_is_timeout_not_a_host_failure() {
        let obs = run(ctx(Duration::from_millis(150)), &[&CUT_SHORT]);
        assert_eq!(obs[0].status, Status::Timeout, "{}", obs[0].message);
        assert!(obs[0].message.contains("--timeout"));
        assert_eq!(obs[1].status, Status::Pass);
    }

    #[test]
    fn a_planned_observation_never_emitted_is_an_error_not_a_pass() {
        let obs = run(ctx(Duration::from_secs(10)), &[&FORGETS]);
        assert_eq!(obs[1].status, Status::Error);
    }
}
