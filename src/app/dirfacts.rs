//! The data dirs' stat, statfs and access checks run in a child process
//! (`__worker dir-facts PATH`), so that a hung mount leaves a stuck child, which is killed,
//! and never a thread of this process inside a filesystem request on the data dir.

use crate::host::{self, DataDirFacts, HostRoot};
use crate::probe::worker::WorkerProcess;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What the child saw: the validation refusal, if any, and the dir's facts.
#[derive(Clone)]
pub struct ChildAnswer {
    pub refusal: Option<String>,
    pub facts: Option<DataDirFacts>,
}

/// The child: check and describe one data dir, print one JSON line.
pub fn worker_main(args: &[OsString]) -> i32 {
    let Some(path) = args.first().map(PathBuf::from) else {
        return 2;
    };
    let refusal = super::validate::check_data_dir(&path).err().map(|e| e.0);
    let facts = host::collect_data_dirs(&HostRoot::live(), std::slice::from_ref(&path)).pop();
    let line = serde_json::json!({ "refusal": refusal, "facts": facts });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    0
}

/// Answers already given in this run, by path: validation and setup ask about the same dirs
/// a few milliseconds apart, and one child per dir answers both (a process start is most of
/// what the question costs).
static ANSWERS: std::sync::Mutex<Vec<(PathBuf, ChildAnswer)>> = std::sync::Mutex::new(Vec::new());

/// Ask a child about `path`, until `deadline` (once per run: a later call gets the same
/// answer). None when it did not answer in time (it is killed) or could not be started.
pub fn in_child(exe: &Path, path: &Path, deadline: Instant) -> Option<ChildAnswer> {
    let known = |p: &Path| {
        let answers = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
        answers.iter().find(|(q, _)| q == p).map(|(_, a)| a.clone())
    };
    if let Some(answer) = known(path) {
        return Some(answer);
    }
    let answer = ask_child(exe, path, deadline)?;
    ANSWERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((path.to_path_buf(), answer.clone()));
    Some(answer)
}

fn ask_child(exe: &Path, path: &Path, deadline: Instant) -> Option<ChildAnswer> {
    let mut child =
        WorkerProcess::spawn(exe, "dir-facts", &[path.as_os_str().to_os_string()]).ok()?;
    let line = child.read_line(deadline)?;
    let v: serde_json::Value = serde_json::from_str(&line).ok()?;
    let refusal = v["refusal"].as_str().map(str::to_string);
    let facts = serde_json::from_value::<Option<DataDirFacts>>(v["facts"].clone())
        .ok()
        .flatten()
        .map(|mut f| {
            // The path as the OS has it (the JSON line carries it escaped).
            f.given = host::shown(path);
            f.path = host::absolute(path);
            f
        });
    Some(ChildAnswer { refusal, facts })
}

/// This executable, when it is the tool itself (a test harness cannot run `__worker`).
pub fn tool_exe() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let name = exe.file_stem()?.to_string_lossy().into_owned();
    (name == "wsl-vecprobe").then_some(exe)
}
