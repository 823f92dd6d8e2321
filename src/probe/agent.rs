//! The agent: one child process per run (`__worker agent`, or a fork of the tool: see
//! `agent::process`) that makes every filesystem call the tool makes on a data dir — its
//! facts (stat, statfs, access), its scratch dir, the probes that work in it with plain file
//! calls (`ProbeDef::in_agent`) and, at the end, the scratch dir's removal. A mount that
//! hangs at any point then holds a thread of the agent, which is abandoned at the deadline
//! and killed at exit; no thread of the tool itself is ever left inside a filesystem request
//! on a data dir, so the tool always exits (issue 11 item 4).
//! One process for all dirs keeps a run's process starts flat in the number of dirs.
//!
//! Protocol (`agent/serve.rs` answers): one JSON request per line on the agent's stdin, each
//! with an `id`; answers come back as lines with that `id`, on its stdout, in any order. The
//! tool closing stdin is the agent's signal to remove its scratch dirs and exit.

pub mod ospath;
pub mod process;
pub mod serve;

use super::{ProbeContext, ProbeDef, ScratchError, Sink};
use crate::observation::Observation;
use process::AgentProcess;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where each request's answers go, by id; None once the agent is gone.
type Routes = Arc<Mutex<Option<HashMap<u64, Route>>>>;

/// Where one request's answers go: to whoever waits for them, or, for a probe, straight to
/// the engine's job (its observations, then done; lost if the agent ends first).
enum Route {
    Answers(Sender<Value>),
    Job(Sink),
}

/// The pid of the tool this agent serves (0: this process is the tool itself).
static TOOL_PID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The tool's pid: this process's, or in the agent the tool's that started it (so that a
/// probe never counts the tool, or a child of it, as another user of a data dir).
pub fn tool_pid() -> u32 {
    match TOOL_PID.load(std::sync::atomic::Ordering::Relaxed) {
        0 => std::process::id(),
        pid => pid,
    }
}

pub(super) fn set_tool_pid(pid: u32) {
    TOOL_PID.store(pid, std::sync::atomic::Ordering::Relaxed);
}

pub struct Agent {
    stdin: Mutex<Option<File>>,
    child: Mutex<Option<AgentProcess>>,
    /// None once the agent's stdout closed (it exited or was killed): no request waits then.
    pending: Routes,
    /// Notified (with `pending`'s lock) when the agent's stdout closes: it has exited.
    gone: Arc<std::sync::Condvar>,
    next_id: std::sync::atomic::AtomicU64,
    /// The probe context last sent, less its deadline (a new run's context is sent again).
    context_sent: Mutex<String>,
    pub pid: u32,
    /// The binary a replacement agent is spawned from (`process::adopt_left_dirs`).
    exe: PathBuf,
    /// The scratch dirs it made, and whether it ended before it was told to (then it could
    /// not remove them).
    made: Mutex<Vec<PathBuf>>,
    told_to_end: Arc<AtomicBool>,
    ended_early: Arc<AtomicBool>,
}

/// The current run's agent. A process runs one check, but a test process runs many: the
/// end of a run (`finish`) clears it, and the next run (`begin_run`) starts a fresh one.
static AGENT: Mutex<Option<Arc<Agent>>> = Mutex::new(None);
/// The run's agent has been finished: until the next run begins, no new one is started. A
/// setup thread still going when the run ended (a data dir's scratch dir asked for late)
/// would otherwise start a second agent, which would make the dir and then be killed
/// without removing it.
static FINISHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A new run begins: an agent may be started again (a no-op while one is running).
pub fn begin_run() {
    let _agent = AGENT.lock().unwrap_or_else(|e| e.into_inner());
    FINISHED.store(false, std::sync::atomic::Ordering::SeqCst);
}

/// The run's agent, started on first use from `exe` (None: it could not be started, or the
/// run's agent is already finished; the caller then does the work itself, bounded by threads
/// and the scratch gate, as before there was an agent).
pub fn get(exe: &Path) -> Option<Arc<Agent>> {
    let mut agent = AGENT.lock().unwrap_or_else(|e| e.into_inner());
    if agent.is_none() && !FINISHED.load(std::sync::atomic::Ordering::SeqCst) {
        *agent = Agent::start(exe).ok().map(Arc::new);
    }
    agent.clone()
}

/// Start the run's agent at the very start of `check`, from the main thread, before any
/// thread but the signal thread exists: on Linux it is forked then (`process::fork_early`),
/// sparing it an exec; elsewhere, or when the fork fails, it is spawned as `get` does.
pub fn start_early(exe: &Path) {
    #[cfg(target_os = "linux")]
    {
        let wanted = {
            let agent = AGENT.lock().unwrap_or_else(|e| e.into_inner());
            agent.is_none() && !FINISHED.load(std::sync::atomic::Ordering::SeqCst)
        };
        // Forked with no lock held: the child gets this process's locks as they are now.
        if wanted && let Ok(agent) = process::fork_early().and_then(|a| Agent::serving(a, exe)) {
            let mut slot = AGENT.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(Arc::new(agent));
            }
            return;
        }
    }
    get(exe);
}

/// The agent when the run has one and it may touch `ctx`'s data dirs (a live host: a recorded
/// one is read from its recording).
pub fn for_context(ctx: &ProbeContext) -> Option<Arc<Agent>> {
    if ctx.host_root.is_recorded() {
        return None;
    }
    get(ctx.exe.as_ref()?)
}

/// Tell the run's agent the run is over (its stdin closes): it removes its scratch dirs and
/// exits. `finish` waits for that.
pub fn hang_up() {
    if let Some(agent) = AGENT.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        agent.end_input();
    }
}

/// The end of the run (and of an interrupted one): close the agent's stdin so it removes its
/// scratch dirs and exits, wait for that until `deadline`, then kill it. Never blocks past
/// the deadline, even when the agent is stuck in a hung mount.
pub fn finish(deadline: Instant) {
    let taken = {
        let mut agent = AGENT.lock().unwrap_or_else(|e| e.into_inner());
        FINISHED.store(true, std::sync::atomic::Ordering::SeqCst);
        agent.take()
    };
    let Some(agent) = taken else {
        return;
    };
    process::end(&agent, deadline);
    // An agent that died mid-run (killed, or by a signal) left its scratch dirs: a fresh
    // one takes them over and removes them, in what is left of the budget.
    let made = std::mem::take(&mut *agent.made.lock().unwrap_or_else(|e| e.into_inner()));
    if agent.ended_early.load(Ordering::SeqCst) && !made.is_empty() {
        process::adopt_left_dirs(&agent.exe, &made, deadline);
    }
}

impl Agent {
    fn start(exe: &Path) -> std::io::Result<Agent> {
        Agent::serving(process::spawn(exe)?, exe)
    }

    /// Its stdin closes: the agent removes its scratch dirs and exits.
    fn end_input(&self) {
        self.told_to_end.store(true, Ordering::SeqCst);
        self.stdin.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// The agent of a started process: a thread routes its answers from here on.
    fn serving(started: process::Started, exe: &Path) -> std::io::Result<Agent> {
        let process::Started {
            process: child,
            stdin,
            stdout,
        } = started;
        let pid = child.id();
        let stdin = Some(stdin);
        let pending: Routes = Arc::new(Mutex::new(Some(HashMap::new())));
        let routes = Arc::clone(&pending);
        let gone = Arc::new(std::sync::Condvar::new());
        let notify = Arc::clone(&gone);
        let told_to_end = Arc::new(AtomicBool::new(false));
        let ended_early = Arc::new(AtomicBool::new(false));
        let (told, early) = (Arc::clone(&told_to_end), Arc::clone(&ended_early));
        std::thread::Builder::new()
            .name("agent-answers".into())
            .spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let Ok(v) = serde_json::from_str::<Value>(&line) else {
                        continue;
                    };
                    let Some(id) = v["id"].as_u64() else { continue };
                    let mut routes = routes.lock().unwrap_or_else(|e| e.into_inner());
                    let Some(routes) = routes.as_mut() else { break };
                    match routes.get(&id) {
                        Some(Route::Answers(tx)) => {
                            let _ = tx.send(v);
                        }
                        Some(Route::Job(sink)) if v["done"] == true => {
                            sink.done();
                            routes.remove(&id);
                        }
                        Some(Route::Job(sink)) => {
                            let mut v = v;
                            if let Ok(obs) = serde_json::from_value::<Observation>(v["obs"].take())
                            {
                                sink.emit(obs);
                            }
                        }
                        None => {}
                    }
                }
                // The agent is gone: every waiting request learns it now, later ones at once.
                early.store(!told.load(Ordering::SeqCst), Ordering::SeqCst);
                let left = routes.lock().unwrap_or_else(|e| e.into_inner()).take();
                notify.notify_all();
                for route in left.into_iter().flat_map(HashMap::into_values) {
                    if let Route::Job(sink) = route {
                        sink.lost();
                    }
                }
            })?;
        Ok(Agent {
            stdin: Mutex::new(stdin),
            child: Mutex::new(Some(child)),
            pending,
            gone,
            next_id: std::sync::atomic::AtomicU64::new(1),
            context_sent: Mutex::new(String::new()),
            pid,
            exe: exe.to_path_buf(),
            made: Mutex::default(),
            told_to_end,
            ended_early,
        })
    }

    fn send(&self, line: &Value) -> bool {
        let mut stdin = self.stdin.lock().unwrap_or_else(|e| e.into_inner());
        let Some(pipe) = stdin.as_mut() else {
            return false;
        };
        // One write per request: the pipe is unbuffered, and a Value written through
        // fmt went out token by token (3,400 writes for a context of twenty dirs).
        let mut text = line.to_string();
        text.push('\n');
        pipe.write_all(text.as_bytes()).is_ok()
    }

    /// Send a request; its answers arrive on the receiver (disconnected: the agent is gone).
    fn request(&self, mut req: Value) -> Option<Request<'_>> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        req["id"] = id.into();
        let (tx, rx) = std::sync::mpsc::channel();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()?
            .insert(id, Route::Answers(tx));
        let request = Request {
            agent: self,
            id,
            answers: rx,
        };
        self.send(&req).then_some(request)
    }

    /// A data dir's validation refusal, facts and identity (`dirfacts::answer`), by `deadline`.
    pub fn facts(&self, path: &Path, deadline: Instant) -> Option<Value> {
        let req = self.request(json!({ "op": "facts", "path": ospath::encode(path) }))?;
        req.next(deadline).ok()
    }

    /// A private scratch dir made by the agent in `dir` (and removed by it at the end), by
    /// `deadline`; None when it did not answer in time.
    pub fn make_scratch(
        &self,
        dir: &Path,
        deadline: Instant,
    ) -> Option<Result<PathBuf, ScratchError>> {
        // Named here and recorded before it is asked for: should the agent die between its
        // mkdir and its answer, the dir is still known, and removed (`process::adopt_left_dirs`).
        let name = super::scratch::fresh_name();
        let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        made.push(dir.join(&name));
        drop(made);
        let req =
            self.request(json!({ "op": "scratch", "path": ospath::encode(dir), "name": name }))?;
        let answer = serve::scratch_from(&req.next(deadline).ok()?["scratch"])?;
        if let Ok(path) = &answer
            && path.file_name() != Some(std::ffi::OsStr::new(&name))
        {
            self.made
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(path.clone());
        }
        Some(answer)
    }

    /// Start `probe` in the agent, on the context last sent (`send_context`): what it
    /// observes goes to `sink` as it arrives, then `done` (or `lost`, if the agent ends
    /// first). False when the request could not be sent (the agent is gone). The engine keeps
    /// the job's deadline; no thread waits here.
    pub fn start_probe(&self, probe: &ProbeDef, dir_index: Option<usize>, sink: Sink) -> bool {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        {
            let mut routes = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let Some(routes) = routes.as_mut() else {
                return false;
            };
            routes.insert(id, Route::Job(sink));
        }
        let sent =
            self.send(&json!({ "id": id, "op": "probe", "probe": probe.name, "dir": dir_index }));
        if !sent
            && let Some(routes) = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
        {
            routes.remove(&id);
        }
        sent
    }

    /// Send the run's context (once per run: again only when it changed). False when the
    /// agent is gone.
    pub fn send_context(&self, ctx: &ProbeContext) -> bool {
        let mut sent = self.context_sent.lock().unwrap_or_else(|e| e.into_inner());
        let mut context = context_json(ctx);
        let key = context["key"].take().to_string();
        if *sent != key {
            if !self.send(&context) {
                return false;
            }
            *sent = key;
        }
        true
    }
}

/// One request's answers; forgotten by the agent's router when dropped.
struct Request<'a> {
    agent: &'a Agent,
    id: u64,
    answers: Receiver<Value>,
}

impl Request<'_> {
    fn next(&self, deadline: Instant) -> Result<Value, RecvTimeoutError> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.answers
            .recv_timeout(left.max(Duration::from_millis(1)))
    }
}

impl Drop for Request<'_> {
    fn drop(&mut self) {
        if let Some(routes) = self
            .agent
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            routes.remove(&self.id);
        }
    }
}

/// What the agent needs of the run to run probes: the data dirs (paths as the OS has them),
/// scratch dirs, catalogue inputs, time left and the run's --timeout (for `scaled`).
pub(super) fn context_json(ctx: &ProbeContext) -> Value {
    let dirs: Vec<Value> = ctx
        .data_dirs
        .iter()
        .map(|d| {
            json!({
                "path": ospath::encode(&d.facts.path),
                "facts": d.facts,
                "scratch": serve::scratch_json(&d.scratch),
                "same_filesystem_as": d.same_filesystem_as,
            })
        })
        .collect();
    let key = json!({
        "dirs": dirs,
        "catalogue": ctx.catalogue,
        "tmp_scratch": serve::scratch_json(&ctx.tmp_scratch),
        "run_timeout_ms": super::run_timeout().as_millis() as u64,
    });
    let mut context = key.clone();
    context["op"] = "context".into();
    context["deadline_ms"] = (ctx.remaining().as_millis() as u64).into();
    context["cleanup_ms"] = CLEANUP_MS.into();
    context["tool_pid"] = std::process::id().into();
    context["key"] = key;
    context
}

/// The agent's own reserve for removing its scratch dirs at the end.
const CLEANUP_MS: u64 = 900;
