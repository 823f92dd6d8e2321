//! Windows file-lock calls used by the `locks` probe, under the same check names as on Unix:
//! `flock` is the whole-file lock std's `File::try_lock` takes (`LockFileEx` over the whole
//! range, exclusive, fail-immediately), `fcntl` is a byte-range `LockFileEx` on the first
//! 4 KiB (what SQLite's Windows VFS and LMDB take). There are no OFD locks on Windows.

use std::fs::File;
use std::io;
use std::os::windows::io::AsRawHandle;
use windows_sys::Win32::Foundation::{ERROR_LOCK_VIOLATION, ERROR_SHARING_VIOLATION, HANDLE};
use windows_sys::Win32::Storage::FileSystem::{
    LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY, LockFileEx, UnlockFileEx,
};
use windows_sys::Win32::System::IO::OVERLAPPED;

pub use crate::platform::lock_calls::LockCall;

const RANGE_LEN: u32 = 4096;

impl LockCall {
    /// The call as a reader would recognise it in a Process Monitor trace.
    pub fn syscall(self) -> &'static str {
        match self {
            LockCall::Flock => "LockFileEx(whole file, exclusive, fail-immediately)",
            LockCall::Fcntl => "LockFileEx(bytes 0..4096, exclusive, fail-immediately)",
            LockCall::Ofd => "OFD lock (Linux only)",
        }
    }
}

/// Take an exclusive lock without blocking.
pub fn try_lock_exclusive(file: &File, call: LockCall) -> io::Result<()> {
    match call {
        LockCall::Flock => match file.try_lock() {
            Ok(()) => Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(io::Error::from_raw_os_error(ERROR_LOCK_VIOLATION as i32))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        },
        LockCall::Fcntl => lock_range(file),
        LockCall::Ofd => Err(io::Error::from(io::ErrorKind::Unsupported)),
    }
}

/// Release a lock taken with `try_lock_exclusive`. Wine 8 answers the whole-file unlock
/// with ERROR_LOCK_VIOLATION although the lock is released (WineHQ bug 59711); callers
/// therefore never trust this result and re-try the lock instead.
pub fn unlock(file: &File, call: LockCall) -> io::Result<()> {
    match call {
        LockCall::Flock => file.unlock(),
        LockCall::Fcntl => unlock_range(file),
        LockCall::Ofd => Err(io::Error::from(io::ErrorKind::Unsupported)),
    }
}

/// True when a failed lock call means "another handle holds it".
pub fn is_contention(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(c) if c == ERROR_LOCK_VIOLATION as i32 || c == ERROR_SHARING_VIOLATION as i32)
        || err.kind() == io::ErrorKind::WouldBlock
}

fn handle(file: &File) -> HANDLE {
    file.as_raw_handle() as HANDLE
}

fn lock_range(file: &File) -> io::Result<()> {
    // SAFETY: an all-zero OVERLAPPED means offset 0; it lives across the synchronous call.
    let mut ov: OVERLAPPED = unsafe { std::mem::zeroed() };
    // SAFETY: a valid handle owned by `file`, a valid OVERLAPPED.
    let ok = unsafe {
        LockFileEx(
            handle(file),
            LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY,
            0,
            RANGE_LEN,
            0,
            &mut ov,
        )
    };
    if ok != 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn unlock_range(file: &File) -> io::Result<()> {
    // SAFETY: as in lock_range.
    let mut ov: OVERLAPPED = unsafe { std::mem::zeroed() };
    // SAFETY: as in lock_range.
    let ok = unsafe { UnlockFileEx(handle(file), 0, RANGE_LEN, 0, &mut ov) };
    if ok != 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether bytes 0..1 of `path` are locked by another handle, asked without taking a lock:
/// a read through a read-only, fully shared handle is refused with ERROR_LOCK_VIOLATION
/// inside a region someone else locked exclusively. Ok(None) when the file is empty
/// (nothing to read, so nothing can be told).
pub fn locked_by_other(path: &std::path::Path) -> io::Result<Option<bool>> {
    use std::os::windows::fs::{FileExt, OpenOptionsExt};
    // FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE: never disturb the owner.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .share_mode(0x7)
        .open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(None);
    }
    let mut b = [0u8; 1];
    match file.seek_read(&mut b, 0) {
        Ok(_) => Ok(Some(false)),
        Err(e) if e.raw_os_error() == Some(ERROR_LOCK_VIOLATION as i32) => Ok(Some(true)),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_file(dir: &tempfile::TempDir, name: &str) -> File {
        File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.path().join(name))
            .unwrap()
    }

    #[test]
    fn a_byte_range_lock_excludes_a_second_handle_and_blocks_its_reads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), [1u8; 16]).unwrap();
        let a = scratch_file(&dir, "f");
        let b = scratch_file(&dir, "f");
        try_lock_exclusive(&a, LockCall::Fcntl).unwrap();
        let err = try_lock_exclusive(&b, LockCall::Fcntl).unwrap_err();
        assert!(is_contention(&err), "{err:?}");
        // Wine 8 does not refuse reads inside another handle's locked range (Windows does).
        if !super::super::under_wine() {
            assert_eq!(locked_by_other(&dir.path().join("f")).unwrap(), Some(true));
        }
        unlock(&a, LockCall::Fcntl).unwrap();
        try_lock_exclusive(&b, LockCall::Fcntl).unwrap();
    }

    #[test]
    fn names_round_trip() {
        for c in [LockCall::Flock, LockCall::Fcntl, LockCall::Ofd] {
            assert_eq!(LockCall::from_name(c.name()), Some(c));
        }
        assert!(is_contention(&io::Error::from_raw_os_error(33)));
        assert!(!is_contention(&io::Error::from_raw_os_error(5)));
    }
}
