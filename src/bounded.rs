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
    within(limit, move || read_capped(&owned, cap)).unwrap_or_else(|| {
        Err(ReadError {
            errno: "ETIMEDOUT".into(),
            message: format!(
                "the file did not answer within {} ms (a hung mount?)",
                limit.as_millis()
            ),
        })
    })
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
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
    let file = open.open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(ReadError {
            errno: "EINVAL".into(),
            message: "not a regular file (a FIFO, device, socket or directory is never read)"
                .into(),
        });
    }
    if meta.len() > cap {
        return Err(too_big(cap));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
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

/// `Some(f())` if it returns within `limit`, else None.
pub fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("bounded".into())
        .spawn(move || {
            let _ = tx.send(f());
        });
    if spawned.is_err() {
        return None;
    }
    rx.recv_timeout(limit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn returns_the_value_in_time_and_none_when_the_call_hangs() {
        assert_eq!(within(Duration::from_secs(1), || 7), Some(7));
        let start = std::time::Instant::now();
        assert_eq!(
            within(Duration::from_millis(50), || std::thread::sleep(
                Duration::from_secs(5)
            )),
            None
        );
        assert!(start.elapsed() < Duration::from_secs(1));
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
