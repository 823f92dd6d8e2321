//! Unix file-lock calls used by the `locks` and `lockfiles` probes: non-blocking exclusive
//! `flock`, POSIX `fcntl(F_SETLK)` and Linux OFD `fcntl(F_OFD_SETLK)` locks, the
//! non-intrusive `F_GETLK` query, and the device-number split `/proc/locks` prints.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

pub use crate::platform::lock_calls::LockCall;

impl LockCall {
    /// The system call as a reader would recognise it in strace output.
    pub fn syscall(self) -> &'static str {
        match self {
            LockCall::Flock => "flock(LOCK_EX|LOCK_NB)",
            LockCall::Fcntl => "fcntl(F_SETLK, F_WRLCK)",
            LockCall::Ofd => "fcntl(F_OFD_SETLK, F_WRLCK)",
        }
    }
}

/// Take an exclusive lock on the whole file without blocking.
pub fn try_lock_exclusive(file: &File, call: LockCall) -> io::Result<()> {
    match call {
        LockCall::Flock => flock(file, libc::LOCK_EX | libc::LOCK_NB),
        LockCall::Fcntl => record_lock(file, libc::F_SETLK, libc::F_WRLCK),
        LockCall::Ofd => ofd_lock(file, libc::F_WRLCK),
    }
}

/// Release a lock taken with `try_lock_exclusive`.
pub fn unlock(file: &File, call: LockCall) -> io::Result<()> {
    match call {
        LockCall::Flock => flock(file, libc::LOCK_UN),
        LockCall::Fcntl => record_lock(file, libc::F_SETLK, libc::F_UNLCK),
        LockCall::Ofd => ofd_lock(file, libc::F_UNLCK),
    }
}

/// True when a failed lock call means "someone else holds it" (EAGAIN/EWOULDBLOCK for
/// flock and F_SETLK, EACCES for F_SETLK on some systems), as opposed to the call itself
/// failing (ENOLCK, EOPNOTSUPP, ENOSYS, EINVAL…).
pub fn is_contention(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(c) if c == libc::EAGAIN || c == libc::EWOULDBLOCK || c == libc::EACCES)
}

fn flock(file: &File, operation: libc::c_int) -> io::Result<()> {
    // SAFETY: flock on a valid, owned descriptor has no memory effects.
    let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn whole_file(lock_type: libc::c_int) -> libc::flock {
    // SAFETY: `flock` is a plain C struct; all-zero is a valid value (l_pid must be 0 for OFD).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = lock_type as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = 0;
    fl.l_len = 0;
    fl
}

fn record_lock(file: &File, cmd: libc::c_int, lock_type: libc::c_int) -> io::Result<()> {
    let fl = whole_file(lock_type);
    // SAFETY: F_SETLK/F_OFD_SETLK read a valid `struct flock` we own for the call's duration.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), cmd, &fl as *const libc::flock) };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn ofd_lock(file: &File, lock_type: libc::c_int) -> io::Result<()> {
    record_lock(file, libc::F_OFD_SETLK, lock_type)
}

#[cfg(not(target_os = "linux"))]
fn ofd_lock(_file: &File, _lock_type: libc::c_int) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// A conflicting POSIX/OFD lock reported by `F_GETLK`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetlkHolder {
    /// The holder's pid; None for OFD locks (the kernel reports -1) or a pid outside our
    /// pid namespace (0).
    pub pid: Option<i32>,
    pub write: bool,
}

/// Ask (without taking anything) whether a POSIX or OFD write lock on the whole file would
/// conflict with an existing lock of another process. Works on an `O_RDONLY` descriptor.
/// Locks held by this process itself are not reported (POSIX semantics).
pub fn posix_lock_holder(file: &File) -> io::Result<Option<GetlkHolder>> {
    let mut fl = whole_file(libc::F_WRLCK);
    // SAFETY: F_GETLK reads and writes the `struct flock` we own.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut fl as *mut libc::flock) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    if fl.l_type as libc::c_int == libc::F_UNLCK {
        return Ok(None);
    }
    let pid = (fl.l_pid > 0).then_some(fl.l_pid);
    Ok(Some(GetlkHolder {
        pid,
        write: fl.l_type as libc::c_int == libc::F_WRLCK,
    }))
}

/// Split a `st_dev` value into (major, minor) the way glibc's `major()`/`minor()` do, which
/// matches the kernel's `MAJOR(s_dev)`/`MINOR(s_dev)` that `/proc/locks` prints in hex.
pub fn dev_major_minor(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xffff_f000);
    let minor = (dev & 0xff) | ((dev >> 12) & 0xffff_ff00);
    (major as u32, minor as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_file(dir: &tempfile::TempDir, name: &str) -> File {
        let path = dir.path().join(name);
        File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn dev_split_matches_libc() {
        for dev in [
            0x0802u64,
            0x2f,
            0x0000_0103_0000_0002,
            0xfd00,
            0x1234_5678_9abc,
        ] {
            let (maj, min) = dev_major_minor(dev);
            assert_eq!(maj, libc::major(dev as libc::dev_t), "major of {dev:#x}");
            assert_eq!(min, libc::minor(dev as libc::dev_t), "minor of {dev:#x}");
        }
    }

    #[test]
    fn flock_excludes_a_second_open_file_description_in_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let a = scratch_file(&dir, "f");
        let b = scratch_file(&dir, "f");
        try_lock_exclusive(&a, LockCall::Flock).unwrap();
        let err = try_lock_exclusive(&b, LockCall::Flock).unwrap_err();
        assert!(is_contention(&err), "{err:?}");
        unlock(&a, LockCall::Flock).unwrap();
        try_lock_exclusive(&b, LockCall::Flock).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn ofd_lock_excludes_a_second_description_and_getlk_sees_it_without_a_pid() {
        let dir = tempfile::tempdir().unwrap();
        let a = scratch_file(&dir, "f");
        let b = scratch_file(&dir, "f");
        try_lock_exclusive(&a, LockCall::Ofd).unwrap();
        let err = try_lock_exclusive(&b, LockCall::Ofd).unwrap_err();
        assert!(is_contention(&err), "{err:?}");
        // F_GETLK from the same process still sees an OFD lock (it is not per process).
        let holder = posix_lock_holder(&b)
            .unwrap()
            .expect("OFD lock visible to F_GETLK");
        assert_eq!(
            holder,
            GetlkHolder {
                pid: None,
                write: true
            }
        );
        unlock(&a, LockCall::Ofd).unwrap();
        assert_eq!(posix_lock_holder(&b).unwrap(), None);
    }

    #[test]
    fn a_posix_lock_of_this_process_is_invisible_to_its_own_getlk() {
        let dir = tempfile::tempdir().unwrap();
        let a = scratch_file(&dir, "f");
        try_lock_exclusive(&a, LockCall::Fcntl).unwrap();
        assert_eq!(posix_lock_holder(&a).unwrap(), None);
        unlock(&a, LockCall::Fcntl).unwrap();
    }

    #[test]
    fn lock_call_names_round_trip_and_contention_is_only_eagain_or_eacces() {
        for c in [LockCall::Flock, LockCall::Fcntl, LockCall::Ofd] {
            assert_eq!(LockCall::from_name(c.name()), Some(c));
        }
        assert_eq!(LockCall::from_name("lockf"), None);
        assert!(is_contention(&io::Error::from_raw_os_error(libc::EAGAIN)));
        assert!(is_contention(&io::Error::from_raw_os_error(libc::EACCES)));
        assert!(!is_contention(&io::Error::from_raw_os_error(libc::ENOLCK)));
        assert!(!is_contention(&io::Error::from_raw_os_error(
            libc::EOPNOTSUPP
        )));
    }
}
