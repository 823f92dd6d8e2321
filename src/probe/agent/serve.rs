//! The agent process itself (`__worker agent`): it reads one JSON request per stdin line and
//! answers each on its own thread, one JSON line per answer tagged with the request's id —
//! a data dir's facts, its scratch dir, a scratch dir an agent that died left behind (to
//! remove it: `adopt`), or a probe run on the data dirs (every observation a line, then
//! `done`). A request stuck in a hung filesystem holds one of its threads, never
//! the tool's. At EOF (the tool is done, or gone) it kills its own children and removes the
//! scratch dirs it made, within the budget the context gave, and exits.

use super::ospath;
use crate::probe::{CatalogueInputs, DataDir, ProbeContext, ScratchError, Sink, registry, scratch};
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Out = Arc<Mutex<Box<dyn Write + Send>>>;

/// The spawned agent (`__worker agent`), on the process's stdin and stdout.
pub fn worker_main(_args: &[std::ffi::OsString]) -> i32 {
    serve(std::io::stdin().lock(), Box::new(std::io::stdout()))
}

/// The forked agent (`process::fork_early`), on its own descriptors: never std's
/// `stdin()`/`stdout()`, whose state was copied from the tool (see `platform::unix::forked`).
#[cfg(target_os = "linux")]
pub fn serve_forked(io: &mut crate::platform::unix::forked::ChildIo) -> i32 {
    let (Ok(input), Ok(output)) = (io.stdin.try_clone(), io.stdout.get_ref().try_clone()) else {
        return 3;
    };
    serve(
        std::io::BufReader::new(input),
        Box::new(std::io::LineWriter::new(output)),
    )
}

/// Answer the requests read from `input` on `output`, one line each, until `input` ends.
fn serve(input: impl BufRead, output: Box<dyn Write + Send>) -> i32 {
    super::process::name_this_process();
    #[cfg(unix)]
    crate::platform::unix::signals::ignore_file_size_limit_signal();
    let out: Out = Arc::new(Mutex::new(output));
    let context: Arc<Mutex<Option<Arc<ProbeContext>>>> = Arc::default();
    let mut cleanup = Duration::from_millis(1000);
    for line in input.lines() {
        let Ok(line) = line else { break };
        let Ok(req) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let id = req["id"].as_u64().unwrap_or(0);
        if req["op"] == "context" {
            if let Some(ms) = req["cleanup_ms"].as_u64() {
                cleanup = Duration::from_millis(ms);
            }
            if let Some(pid) = req["tool_pid"].as_u64() {
                super::set_tool_pid(pid as u32);
            }
            if let Some(ctx) = context_from(&req) {
                *context.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(ctx));
            }
            continue;
        }
        let out = Arc::clone(&out);
        let context = context.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // Counted before the thread starts: an EOF read right after must not let cleanup run
        // (and the agent exit) before this dir exists and is registered (seen under load with
        // the minimum --timeout: a scratch dir left in the data dir).
        let creating = (req["op"] == "scratch").then(scratch::in_flight);
        let request = Arc::new(req);
        let (req, ctx, to) = (Arc::clone(&request), context.clone(), Arc::clone(&out));
        let spawned = crate::spawn::thread_once("agent-request", move || {
            answer(id, &req, ctx.as_ref(), &to);
            drop(creating);
        });
        // No thread to be had (the host's task limit): answered here, one at a time. The
        // tool keeps the deadlines, so a request that hangs only holds this agent.
        if spawned.is_err() {
            answer(id, &request, context.as_ref(), &out);
        }
    }
    scratch::cleanup_within(cleanup);
    0
}

fn answer(id: u64, req: &Value, context: Option<&Arc<ProbeContext>>, out: &Out) {
    let path = req["path"].as_str().and_then(ospath::decode);
    match (req["op"].as_str(), path) {
        (Some("facts"), Some(path)) => {
            let mut answer = crate::app::dirfacts::answer(&path);
            answer["id"] = id.into();
            write(out, &answer);
        }
        (Some("adopt"), Some(path)) => {
            let adopted = scratch::adopt(&path);
            write(out, &json!({ "id": id, "adopted": adopted }));
        }
        (Some("scratch"), Some(path)) => {
            let made = scratch::create_named_in(&path, req["name"].as_str());
            write(out, &json!({ "id": id, "scratch": scratch_json(&made) }));
        }
        (Some("probe"), _) => {
            if let Some(ctx) = context {
                run_probe(id, req, ctx, out);
            }
            write(out, &json!({ "id": id, "done": true }));
        }
        _ => write(out, &json!({ "id": id, "done": true })),
    }
}

/// Run the named probe on the context's data dir (or the host) and stream what it observes.
fn run_probe(id: u64, req: &Value, ctx: &Arc<ProbeContext>, out: &Out) {
    let name = req["probe"].as_str().unwrap_or_default();
    let Some(probe) = registry().into_iter().find(|p| p.name == name) else {
        return;
    };
    let dir_index = req["dir"].as_u64().map(|i| i as usize);
    if dir_index.is_some_and(|i| i >= ctx.data_dirs.len()) {
        return;
    }
    // Each observation is written as the probe makes it, from the probe's own thread (this
    // request's): the tool streams them to its engine and keeps the deadlines.
    let to = Arc::clone(out);
    let sink = Sink::forward(move |obs| write(&to, &json!({ "id": id, "obs": obs })));
    (probe.run)(ctx, dir_index.map(|i| &ctx.data_dirs[i]), &sink);
}

fn write(out: &Out, line: &Value) {
    let mut text = line.to_string();
    text.push('\n');
    let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

pub(super) fn scratch_json(made: &Result<std::path::PathBuf, ScratchError>) -> Value {
    match made {
        Ok(p) => json!({ "path": ospath::encode(p) }),
        Err(e) => json!({ "errno": e.errno, "message": e.message, "own": e.own }),
    }
}

pub(super) fn scratch_from(v: &Value) -> Option<Result<std::path::PathBuf, ScratchError>> {
    if let Some(p) = v["path"].as_str() {
        return ospath::decode(p).map(Ok);
    }
    let message = v["message"].as_str()?.to_string();
    Some(Err(ScratchError {
        errno: v["errno"].as_str().map(str::to_string),
        message,
        own: v["own"] == true,
    }))
}

/// The probe context the tool sent: its data dirs (paths as the OS has them), scratch dirs,
/// catalogue inputs and deadline. Host facts are not sent: no probe run here reads them.
fn context_from(req: &Value) -> Option<ProbeContext> {
    let mut data_dirs = Vec::new();
    for d in req["dirs"].as_array()? {
        let mut facts: crate::host::DataDirFacts =
            serde_json::from_value(d["facts"].clone()).ok()?;
        facts.path = ospath::decode(d["path"].as_str()?)?;
        data_dirs.push(DataDir {
            facts,
            scratch: scratch_from(&d["scratch"])?,
            same_filesystem_as: d["same_filesystem_as"].as_u64().map(|i| i as usize),
        });
    }
    let catalogue: CatalogueInputs = serde_json::from_value(req["catalogue"].clone()).ok()?;
    crate::probe::set_run_timeout(Duration::from_millis(req["run_timeout_ms"].as_u64()?));
    Some(ProbeContext {
        host: Default::default(),
        host_root: crate::host::HostRoot::live(),
        data_dirs,
        catalogue,
        tmp_scratch: scratch_from(&req["tmp_scratch"])?,
        exe: std::env::current_exe().ok(),
        deadline: Instant::now() + Duration::from_millis(req["deadline_ms"].as_u64()?),
        connect_attempts: 1,
        env: |name| std::env::var(name).ok(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_the_tool_sends_is_the_context_the_agent_runs_with() {
        let base = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        let path = {
            use std::os::unix::ffi::OsStrExt;
            base.path()
                .join(std::ffi::OsStr::from_bytes(b"caf\xe9-data"))
        };
        #[cfg(not(unix))]
        let path = base.path().join("café-data");
        let mut dir = crate::probe::testing::local_data_dir(&path);
        dir.scratch = Ok(path.join(".wsl-vecprobe-abc"));
        let mut other = crate::probe::testing::local_data_dir(base.path());
        other.same_filesystem_as = Some(0);
        other.scratch = Err(ScratchError {
            errno: Some("EROFS".into()),
            message: "read-only".into(),
            own: false,
        });
        let refused = ScratchError {
            errno: Some("EAGAIN".into()),
            message: "not created: the tool could not start a thread".into(),
            own: true,
        };
        let sent = ProbeContext {
            data_dirs: vec![dir, other],
            catalogue: CatalogueInputs {
                lock_files: vec![("LOCK".into(), vec!["milvus-lite".into()])],
                ..Default::default()
            },
            tmp_scratch: Err(refused),
            ..crate::probe::testing::context()
        };
        let got = context_from(&super::super::context_json(&sent)).expect("parsed");
        assert_eq!(got.data_dirs.len(), 2);
        assert_eq!(got.data_dirs[0].facts.path, path, "byte for byte");
        assert_eq!(
            got.data_dirs[0].scratch.as_ref().unwrap(),
            &path.join(".wsl-vecprobe-abc")
        );
        assert_eq!(got.data_dirs[1].same_filesystem_as, Some(0));
        let err = got.data_dirs[1].scratch.as_ref().unwrap_err();
        assert_eq!(
            (err.errno.as_deref(), err.message.as_str()),
            (Some("EROFS"), "read-only")
        );
        assert_eq!(got.catalogue.lock_files, sent.catalogue.lock_files);
        assert!(got.remaining() > Duration::from_secs(1));
        let err = got.tmp_scratch.as_ref().unwrap_err();
        assert!(err.own, "the tool's own refusal stays its own in the agent");
    }
}
