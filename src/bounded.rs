//! Blocking calls with a deadline: the call runs on a helper thread and the caller stops
//! waiting when time is up (the thread is abandoned). For the few steps outside the probe
//! engine that touch a user's path (validating a data dir, statfs, creating the scratch dir),
//! so that a dead mount cannot hang the tool — and `read_regular_file`, the one way a user's
//! file (a `--profile`, a file of a `--host-root` tree) is read: regular files only, a size
//! cap, a deadline, so a FIFO, `/dev/zero` or a hung mount cannot hang or exhaust the tool.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a bounded read refused or failed, with an errno-like name for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError {
    pub errno: String,
    pub message: String,
}

/// The whole contents of `path`, which must be a regular file (after following symlinks) of
/// at most `cap` bytes, read within `limit`. A FIFO, a device or a socket is refused without
/// blocking (the open is non-blocking), a larger file is refused (and never more than `cap + 1`
/// bytes are read, even if it grows), and a filesystem that does not answer in time is an
/// ETIMEDOUT error (the reading thread is abandoned).
pub fn read_regular_file(path: &Path, cap: u64, limit: Duration) -> Result<Vec<u8>, ReadError> {
    let owned: PathBuf = path.to_path_buf();
    match within(limit, move || read_capped(&owned, cap)) {
        Ok(Some(read)) => read,
        Ok(None) => Err(ReadError {
            errno: "ETIMEDOUT".into(),
            message: format!(
                "the file did not answer within {} ms (a hung mount?)",
                limit.as_millis()
            ),
        }),
        Err(e) => Err(ReadError {
            errno: crate::errno::io_error_name(&e),
            message: format!("not read: {e}"),
        }),
    }
}

/// The same checks and cap, read on the calling thread: for files the kernel itself answers
/// (see `HostRoot::read_bytes`), which no hung mount can hold.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let io_err = |e: std::io::Error| ReadError {
        errno: crate::errno::io_error_name(&e),
        message: e.to_string(),
    };
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
        open.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        // FILE_FLAG_BACKUP_SEMANTICS: a directory opens (else ERROR_ACCESS_DENIED) and is
        // then refused below as not a regular file, as on Unix.
        open.custom_flags(windows_sys::Win32::Storage::FileSystem::FILE_FLAG_BACKUP_SEMANTICS);
    }
    let file = open.open(path).map_err(io_err)?;
    #[cfg(windows)]
    let on_disk = crate::platform::windows::fileops::is_on_disk(&file);
    #[cfg(not(windows))]
    let on_disk = true;
    // A device's or pipe's metadata may fail (NUL: ERROR_INVALID_PARAMETER): asked only on disk.
    let meta = on_disk
        .then(|| file.metadata())
        .transpose()
        .map_err(io_err)?;
    if !meta.as_ref().is_some_and(|m| m.is_file()) {
        return Err(ReadError {
            errno: "EINVAL".into(),
            message: "not a regular file (a FIFO, device, socket or directory is never read)"
                .into(),
        });
    }
    let len = meta.map_or(0, |m| m.len());
    if len > cap {
        return Err(too_big(cap));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(cap + 1).read_to_end(&mut bytes).map_err(io_err)?;
    if bytes.len() as u64 > cap {
        return Err(too_big(cap));
    }
    Ok(bytes)
}

fn too_big(cap: u64) -> ReadError {
    ReadError {
        errno: "EFBIG".into(),
        message: format!("larger than the {cap}-byte limit for this file"),
    }
}

/// `Some(f())` if it returns within `limit`, else None; an error when its thread could not be
/// started (the tool's task limit: `spawn::is_own`).
pub fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<Option<T>> {
    let (tx, rx) = std::sync::mpsc::channel();
    crate::spawn::thread("bounded", move || {
        let _ = tx.send(f());
    })?;
    Ok(rx.recv_timeout(limit).ok())
}

/// What became of one item of `each_within`.
#[derive(Debug, PartialEq)]
pub enum Answer<T> {
    Answered(T),
    /// Started, but had not returned by the deadline (its thread is abandoned).
    NoAnswer,
    /// Never started: the pool was busy until the deadline. Says nothing about the item.
    NotStarted,
}

/// `f(item)` for every item, on at most `MAX_PARALLEL` helper threads at once, all ending at
/// `deadline`, in the items' order.
pub fn each_within<I, T>(
    deadline: std::time::Instant,
    items: Vec<I>,
    f: impl Fn(I) -> T + Send + Sync + 'static,
) -> Vec<Answer<T>>
where
    I: Send + 'static,
    T: Send + 'static,
{
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let count = items.len();
    let queue = Arc::new(Mutex::new(
        items
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
            .into_iter(),
    ));
    let started: Arc<Vec<AtomicBool>> =
        Arc::new((0..count).map(|_| AtomicBool::new(false)).collect());
    let f = Arc::new(f);
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..count.min(MAX_PARALLEL) {
        let (queue, f, tx, started) = (
            Arc::clone(&queue),
            Arc::clone(&f),
            tx.clone(),
            Arc::clone(&started),
        );
        let _ = std::thread::Builder::new()
            .name("bounded-each".into())
            .spawn(move || {
                loop {
                    if std::time::Instant::now() >= deadline {
                        break;
                    }
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some((i, item)) = next else { break };
                    started[i].store(true, Ordering::SeqCst);
                    if tx.send((i, f(item))).is_err() {
                        break;
                    }
                }
            });
    }
    drop(tx);
    let mut out: Vec<Option<T>> = (0..count).map(|_| None).collect();
    let mut answered = 0;
    while answered < count {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, v)) => {
                out[i] = Some(v);
                answered += 1;
            }
            Err(_) => break,
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Some(v) => Answer::Answered(v),
            None if started[i].load(Ordering::SeqCst) => Answer::NoAnswer,
            None => Answer::NotStarted,
        })
        .collect()
}

/// Helper threads `each_within` runs at once (a pool, so 200 data dirs are not 200 threads).
pub const MAX_PARALLEL: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn returns_the_value_in_time_and_none_when_the_call_hangs() {
        assert_eq!(within(Duration::from_secs(1), || 7).unwrap(), Some(7));
        let start = std::time::Instant::now();
        assert_eq!(
            within(Duration::from_millis(50), || std::thread::sleep(
                Duration::from_secs(5)
            ))
            .unwrap(),
            None
        );
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn each_within_runs_a_bounded_pool_and_tells_hung_from_never_started() {
        let deadline = std::time::Instant::now() + Duration::from_millis(300);
        let items: Vec<u64> = (0..40).collect();
        let answers = each_within(deadline, items, |i| {
            if i < MAX_PARALLEL as u64 {
                std::thread::sleep(Duration::from_secs(5));
            }
            i
        });
        assert!(std::time::Instant::now() < deadline + Duration::from_millis(200));
        assert!(
            answers[..MAX_PARALLEL]
                .iter()
                .all(|a| *a == Answer::NoAnswer)
        );
        assert!(
            answers[MAX_PARALLEL..]
                .iter()
                .all(|a| *a == Answer::NotStarted)
        );
        let quick = each_within(
            std::time::Instant::now() + Duration::from_secs(2),
            (0..100u32).collect(),
            |i| i * 2,
        );
        assert!(
            quick
                .iter()
                .enumerate()
                .all(|(i, a)| *a == Answer::Answered(i as u32 * 2))
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_small_regular_files_are_read_and_a_fifo_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"abc").unwrap();
        let limit = Duration::from_secs(2);
        assert_eq!(read_regular_file(&small, 3, limit).unwrap(), b"abc");
        assert_eq!(
            read_regular_file(&small, 2, limit).unwrap_err().errno,
            "EFBIG"
        );
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let start = std::time::Instant::now();
        assert_eq!(
            read_regular_file(&fifo, 10, limit).unwrap_err().errno,
            "EINVAL"
        );
        assert!(start.elapsed() < Duration::from_secs(1));
        for dev in ["/dev/zero", "/dev/null"] {
            assert_eq!(
                read_regular_file(Path::new(dev), 10, limit)
                    .unwrap_err()
                    .errno,
                "EINVAL"
            );
        }
        assert_eq!(
            read_regular_file(dir.path(), 10, limit).unwrap_err().errno,
            "EINVAL"
        );
        assert_eq!(
            read_regular_file(&dir.path().join("missing"), 10, limit)
                .unwrap_err()
                .errno,
            "ENOENT"
        );
    }
}
