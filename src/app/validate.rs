//! Input validation before anything runs: data dirs, `--host-root`, `--require` ids.
//! Every refusal is an `InputError` (exit 2) with a message that names the input.

use crate::error::{InputError, input};
use crate::host::HostRoot;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The data dirs to judge: as given, or the current directory. On a live run each must exist,
/// be a directory and be writable by this user (a read-only *filesystem* is not refused: that
/// is a finding the probes report). All dirs are checked at once and the checks end together
/// at `deadline`: a dir whose filesystem has not answered by then (a dead mount) is not
/// refused; the probes then report what they (do not) observe.
pub fn data_dirs(
    given: &[PathBuf],
    recorded: bool,
    deadline: Instant,
) -> Result<Vec<PathBuf>, InputError> {
    let dirs: Vec<PathBuf> = if given.is_empty() {
        if recorded {
            return Err(input(
                "a recorded host (--host-root) has no current directory: name its data dir(s) with --data-dir",
            ));
        }
        vec![PathBuf::from(".")]
    } else {
        given.to_vec()
    };
    if dirs.iter().any(|d| d.as_os_str().is_empty()) {
        return Err(input("--data-dir is empty; give a directory path"));
    }
    if recorded {
        return Ok(dirs);
    }
    // In a child process when possible (a hung mount then holds a child, not a thread).
    let exe = super::dirfacts::tool_exe();
    let answers = crate::bounded::each_within(deadline, dirs.clone(), move |d| match &exe {
        Some(exe) => super::dirfacts::in_child(exe, &d, deadline)
            .map(|a| a.refusal.map_or(Ok(()), |r| Err(InputError(r)))),
        None => Some(check_data_dir(&d)),
    });
    // Report the first refusal in the order given.
    for answer in answers {
        if let crate::bounded::Answer::Answered(Some(result)) = answer {
            result?;
        }
    }
    Ok(dirs)
}

pub(super) fn check_data_dir(d: &Path) -> Result<(), InputError> {
    let shown = crate::host::shown(d);
    let meta = std::fs::metadata(d).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => input(format!("data dir `{shown}` does not exist")),
        _ => input(format!("cannot read data dir `{shown}`: {e}")),
    })?;
    if !meta.is_dir() {
        return Err(input(format!("data dir `{shown}` is not a directory")));
    }
    if let Some(reason) = not_writable(d) {
        return Err(input(format!(
            "data dir `{shown}` is not writable by this user ({reason}); probes need to create a temporary area in it"
        )));
    }
    Ok(())
}

#[cfg(unix)]
fn not_writable(dir: &Path) -> Option<String> {
    use nix::unistd::{AccessFlags, access};
    match access(dir, AccessFlags::W_OK | AccessFlags::X_OK) {
        Ok(()) => None,
        // A read-only filesystem is what the probes are for: let them observe EROFS.
        Err(nix::errno::Errno::EROFS) => None,
        Err(e) => Some(format!("{e:?}")),
    }
}

#[cfg(not(unix))]
fn not_writable(dir: &Path) -> Option<String> {
    match std::fs::metadata(dir) {
        Ok(m) if m.permissions().readonly() => Some("read-only attribute".into()),
        _ => None,
    }
}

/// The files a recorded host must have for detection to mean anything.
const KERNEL_FILES: [&str; 2] = ["proc/sys/kernel/osrelease", "proc/version"];
const MOUNT_FILES: [&str; 2] = ["proc/self/mountinfo", "proc/mounts"];

/// `--host-root DIR`: must be a directory holding at least a kernel identity and a mount table.
pub fn host_root(dir: Option<&Path>) -> Result<HostRoot, InputError> {
    let Some(dir) = dir else {
        return Ok(HostRoot::live());
    };
    let shown = crate::host::shown(dir);
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(input(format!("--host-root `{shown}` is not a directory"))),
        Err(e) => return Err(input(format!("--host-root `{shown}`: {e}"))),
    }
    let root = HostRoot::recorded(dir);
    let mut missing = Vec::new();
    if !KERNEL_FILES.iter().any(|f| root.exists(f)) {
        missing.push(KERNEL_FILES.join(" or "));
    }
    if !MOUNT_FILES.iter().any(|f| root.exists(f)) {
        missing.push(MOUNT_FILES.join(" or "));
    }
    if !missing.is_empty() {
        let what = if root.list("").is_empty() {
            "is empty"
        } else {
            "is incomplete"
        };
        return Err(input(format!(
            "--host-root `{shown}` {what}: it needs {} (a recorded host tree, as under /)",
            missing.join(" and ")
        )));
    }
    Ok(root)
}

/// Every `--require` id must name a backend in the catalogue.
pub fn required_ids(require: &[String], known: &[String]) -> Result<(), InputError> {
    for id in require {
        if !known.iter().any(|k| k == id) {
            return Err(input(format!(
                "unknown backend id `{id}` in --require{}; known ids: {}",
                crate::catalogue::suggest::hint(id, known.iter().map(String::as_str))
                    .trim_end_matches('?'),
                known.join(", ")
            )));
        }
    }
    Ok(())
}
