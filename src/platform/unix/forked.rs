//! Worker children started by `fork` without `exec` (the map worker, the lock holder): a copy
//! of the process that runs one function and `_exit`s. An `exec` of the binary costs a dynamic
//! load, relocations and glibc's per-process `cpuid` cache probing (which traps to the
//! hypervisor on some VMs); a fork of the agent costs a copy of its page tables.
//!
//! The parent is multi-threaded, so the child may only use what another thread cannot have
//! left locked at the fork: it gets its stdin, stdout and stderr as raw descriptors (never
//! std's `stdin()`/`stdout()`, whose locks the agent's threads hold), every other inherited
//! descriptor is closed (a copy of another worker's pipe would keep that worker from seeing
//! EOF), SIGINT/SIGTERM/SIGXFSZ go back to their defaults and the signal mask is cleared,
//! and it ends with `_exit` (no atexit handlers, no flush of buffers copied from the parent). glibc's `fork` resets malloc's locks in the child, so allocating is safe.
//! The child is the leader of its own process group, set by both sides so a kill of the group
//! never misses it.

use std::ffi::c_int;
use std::fs::File;
use std::io::{self, LineWriter};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// A forked worker, from the parent's side: its pid, the ends of its stdin and stdout, and its
/// exit status once reaped (like `std::process::Child`, which cannot hold a forked process).
pub struct ForkedChild {
    pid: libc::pid_t,
    status: Option<ExitStatus>,
}

/// The parent's ends of a forked worker's stdin (write) and stdout (read).
pub struct ForkedPipes {
    pub stdin: File,
    pub stdout: File,
}

/// What the child's function gets: its stdin, and its stdout behind a line buffer (each line
/// one `write`, flushed at its newline).
pub struct ChildIo {
    pub stdin: File,
    pub stdout: LineWriter<File>,
}

/// Fork a worker that runs `body` and exits with its code (101 if it panics). `body` runs in
/// the child only; see the module doc for what it may use.
pub fn fork_worker(
    body: impl FnOnce(&mut ChildIo) -> i32,
) -> io::Result<(ForkedChild, ForkedPipes)> {
    let (stdin_read, stdin_write) = pipe()?;
    let (stdout_read, stdout_write) = pipe()?;
    let null = File::options().write(true).open("/dev/null")?;
    // SAFETY: fork has no memory effects in the parent; the child below only calls
    // async-signal-safe functions until `body`, which follows the rules in the module doc,
    // and never returns from this function.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        use std::os::fd::AsRawFd;
        // SAFETY: in the child: plain system calls on descriptors this function owns.
        unsafe {
            // Without its own descriptors the child must not run at all: its fd 1 would still
            // be the parent's stdout (the tool's report, for a forked agent).
            if !become_worker(
                stdin_read.as_raw_fd(),
                stdout_write.as_raw_fd(),
                std::os::fd::AsRawFd::as_raw_fd(&null),
            ) {
                libc::_exit(127);
            }
            // Descriptors 0 and 1 are now the pipes; nothing else of the parent's is open.
            let mut io = ChildIo {
                stdin: File::from_raw_fd(0),
                stdout: LineWriter::new(File::from_raw_fd(1)),
            };
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&mut io)))
                .unwrap_or(101);
            let _ = std::io::Write::flush(&mut io.stdout);
            libc::_exit(code)
        }
    }
    // Both sides set the group: a kill of the group right after fork must not miss the child.
    // SAFETY: setpgid on our own child; failure (it already did it itself) is harmless.
    unsafe { libc::setpgid(pid, pid) };
    drop((stdin_read, stdout_write, null));
    Ok((
        ForkedChild { pid, status: None },
        ForkedPipes {
            stdin: File::from(stdin_write),
            stdout: File::from(stdout_read),
        },
    ))
}

/// In the child: own process group, the pipes as stdin/stdout and /dev/null as stderr, every
/// other descriptor closed, default SIGINT/SIGTERM/SIGXFSZ and an empty signal mask. False
/// when the descriptors could not be set up (the child must then exit at once).
unsafe fn become_worker(stdin: c_int, stdout: c_int, stderr: c_int) -> bool {
    // SAFETY (whole body): async-signal-safe calls on this process's own state.
    unsafe {
        libc::setpgid(0, 0);
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
        libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        // An end that is itself 0-2 (the parent was started with those closed) is moved above
        // 2 first, or another's dup2 would overwrite it before it is copied. Only those: at the
        // descriptor limit there is no room for copies of the others.
        let mut ends = [stdin, stdout, stderr];
        for fd in ends.iter_mut().filter(|fd| **fd <= 2) {
            *fd = libc::fcntl(*fd, libc::F_DUPFD, 3);
            if *fd < 0 {
                return false;
            }
        }
        for (target, fd) in ends.into_iter().enumerate() {
            if fd != target as c_int && libc::dup2(fd, target as c_int) < 0 {
                return false;
            }
        }
        close_from(3);
        true
    }
}

/// Close every descriptor from `first` up.
unsafe fn close_from(first: c_int) {
    #[cfg(target_os = "linux")]
    // SAFETY: close_range(2) only closes descriptors.
    if unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first as libc::c_uint,
            libc::c_uint::MAX,
            0,
        )
    } == 0
    {
        return;
    }
    // Older kernels (before 5.9) and other Unixes: list what is open, else close up to the
    // descriptor limit.
    let listed: Option<Vec<c_int>> = std::fs::read_dir("/dev/fd").ok().map(|dir| {
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .filter(|fd| *fd >= first)
            .collect()
    });
    // SAFETY: sysconf has no memory effects.
    let max = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) }.clamp(first as libc::c_long + 1, 65536);
    let all: Vec<c_int> = listed.unwrap_or_else(|| (first..max as c_int).collect());
    for fd in all {
        // SAFETY: closing a descriptor number; EBADF (the listing's own, already closed) is
        // harmless.
        unsafe { libc::close(fd) };
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: pipe with a valid two-element array; both ends are owned below. CLOEXEC: a child
    // the parent execs (a fake python3, the agent) must not inherit a worker's pipe.
    #[cfg(target_os = "linux")]
    let made = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    #[cfg(not(target_os = "linux"))]
    let made = unsafe {
        let made = libc::pipe(fds.as_mut_ptr());
        if made == 0 {
            libc::fcntl(fds[0], libc::F_SETFD, libc::FD_CLOEXEC);
            libc::fcntl(fds[1], libc::F_SETFD, libc::FD_CLOEXEC);
        }
        made
    };
    if made != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

impl ForkedChild {
    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    /// Its exit status if it has ended (reaped now, or before).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.reap(libc::WNOHANG)
    }

    /// Wait until it ends.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.reap(0)? {
                return Ok(status);
            }
        }
    }

    /// SIGKILL, unless it has already been reaped (its pid may then belong to another process).
    pub fn kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        // SAFETY: kill(2) of our own unreaped child.
        if unsafe { libc::kill(self.pid, libc::SIGKILL) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn reap(&mut self, flags: c_int) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let mut raw: c_int = 0;
        // SAFETY: waitpid for our own child, into a local.
        match unsafe { libc::waitpid(self.pid, &mut raw, flags) } {
            0 => Ok(None),
            pid if pid == self.pid => {
                self.status = Some(ExitStatus::from_raw(raw));
                Ok(self.status)
            }
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};

    /// The test harness is multi-threaded, like the agent: the case this module is for.
    #[test]
    fn a_forked_worker_answers_on_its_pipes_and_exits_with_its_code() {
        let (mut child, mut pipes) = fork_worker(|io| {
            let mut buf = [0u8; 16];
            let n = io.stdin.read(&mut buf).unwrap_or(0);
            let got = String::from_utf8_lossy(&buf[..n]).trim().to_string();
            let _ = writeln!(io.stdout, "got {got}");
            7
        })
        .unwrap();
        assert_ne!(child.id(), std::process::id());
        // SAFETY: getpgid of our own child.
        let group = unsafe { libc::getpgid(child.id() as libc::pid_t) };
        assert_eq!(
            group,
            child.id() as libc::pid_t,
            "leads its own process group"
        );
        pipes.stdin.write_all(b"ping\n").unwrap();
        let mut out = String::new();
        pipes.stdout.read_to_string(&mut out).unwrap();
        assert_eq!(out, "got ping\n");
        assert_eq!(child.wait().unwrap().code(), Some(7));
        assert_eq!(child.try_wait().unwrap().unwrap().code(), Some(7), "kept");
        child.kill().expect("a reaped child is not signalled");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_forked_worker_keeps_only_its_own_stdin_stdout_and_stderr() {
        let (mut child, mut pipes) = fork_worker(|io| {
            let _ = writeln!(io.stdout, "ready");
            let mut buf = [0u8; 1];
            while matches!(io.stdin.read(&mut buf), Ok(n) if n > 0) {}
            0
        })
        .unwrap();
        let mut lines = BufReader::new(&mut pipes.stdout).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        let mut fds: Vec<u32> = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        fds.sort();
        assert_eq!(fds, [0, 1, 2], "no descriptor of the parent's is left open");
        drop(pipes.stdin);
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }

    #[test]
    fn a_killed_worker_ends_by_its_signal_and_a_panic_is_exit_101() {
        let (mut child, _pipes) = fork_worker(|io| {
            let mut buf = [0u8; 1];
            let _ = io.stdin.read(&mut buf);
            0
        })
        .unwrap();
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
        let (mut child, _pipes) = fork_worker(|_| panic!("in the worker")).unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(101));
    }
}
