//! The data dirs' stat, statfs and access checks, made by the run's agent process
//! (`probe::agent`), so that a hung mount holds a thread of the agent, which is abandoned and
//! killed, and never a thread of this process inside a filesystem request on the data dir.

use crate::host::{self, DataDirFacts, HostRoot};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What the agent saw: the validation refusal, if any, the dir's facts and its identity
/// (device, inode), by which the same dir given twice is judged once.
#[derive(Clone)]
pub struct ChildAnswer {
    pub refusal: Option<String>,
    pub facts: Option<DataDirFacts>,
    pub identity: Option<(u64, u64)>,
}

/// In the agent: check and describe one data dir.
pub fn answer(path: &Path) -> Value {
    let refusal = super::validate::check_data_dir(path).err().map(|e| e.0);
    let facts = host::collect_data_dirs(&HostRoot::live(), &[path.to_path_buf()]).pop();
    serde_json::json!({ "refusal": refusal, "facts": facts, "identity": identity(path) })
}

/// (device, inode) of a dir.
#[cfg(unix)]
pub fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// (volume serial number, file index) of a dir: NTFS's inode, so `C:\DATA`, `C:/data` and a
/// symlink to it are one dir.
#[cfg(windows)]
pub fn identity(path: &Path) -> Option<(u64, u64)> {
    crate::platform::windows::fileops::file_identity(path).ok()
}

#[cfg(not(any(unix, windows)))]
pub fn identity(_path: &Path) -> Option<(u64, u64)> {
    None
}

/// Answers already given in this run, by path: validation and setup ask about the same dirs
/// a few milliseconds apart, and the agent answers once.
static ANSWERS: std::sync::Mutex<Vec<(PathBuf, ChildAnswer)>> = std::sync::Mutex::new(Vec::new());

/// Ask the agent (started from `exe`) about `path`, until `deadline` (once per run: a later
/// call gets the same answer). None when it did not answer in time or could not be started.
pub fn in_child(exe: &Path, path: &Path, deadline: Instant) -> Option<ChildAnswer> {
    let known = |p: &Path| {
        let answers = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
        answers.iter().find(|(q, _)| q == p).map(|(_, a)| a.clone())
    };
    if let Some(answer) = known(path) {
        return Some(answer);
    }
    let v = crate::probe::agent::get(exe)?.facts(path, deadline)?;
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
    let identity = serde_json::from_value::<Option<(u64, u64)>>(v["identity"].clone())
        .ok()
        .flatten();
    let answer = ChildAnswer {
        refusal,
        facts,
        identity,
    };
    ANSWERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((path.to_path_buf(), answer.clone()));
    Some(answer)
}

/// This executable, when it is the tool itself (a test harness cannot run `__worker`).
pub fn tool_exe() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let name = exe.file_stem()?.to_string_lossy().into_owned();
    (name == "wsl-vecprobe").then_some(exe)
}
