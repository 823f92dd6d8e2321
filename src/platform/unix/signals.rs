//! SIGINT/SIGTERM: an async-signal-safe handler that only sets a flag and writes one byte to
//! a self-pipe; a thread waiting on the pipe runs the (ordinary) interrupt routine.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static RECEIVED: AtomicBool = AtomicBool::new(false);
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(_: libc::c_int) {
    RECEIVED.store(true, Ordering::SeqCst);
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a local byte.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// Whether SIGINT or SIGTERM has been received (set inside the signal handler itself).
pub fn received() -> bool {
    RECEIVED.load(Ordering::SeqCst)
}

/// Install the handler for SIGINT and SIGTERM; `routine` runs on a helper thread after the
/// first signal (it is expected to exit the process).
pub fn install(routine: fn()) {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe(2) with a valid two-element array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return;
    }
    for fd in fds {
        // SAFETY: fcntl on the descriptors just created.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    let read_fd = fds[0];
    PIPE_WRITE.store(fds[1], Ordering::SeqCst);
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut byte = 0u8;
            loop {
                // SAFETY: reading one byte into a local from our own pipe.
                let n = unsafe { libc::read(read_fd, (&mut byte as *mut u8).cast(), 1) };
                if n == 1 || received() {
                    routine();
                    return;
                }
                if n == 0 {
                    return;
                }
            }
        });
    if spawned.is_err() {
        return;
    }
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only touches atomics and calls write(2).
        let _ = unsafe { sigaction(sig, &action) };
    }
}

/// SIGXFSZ ignored: a write past the file-size limit (RLIMIT_FSIZE, `ulimit -f`) then fails
/// with EFBIG instead of killing the process. The tool then reports a report it cannot write
/// as an output failure, and the agent observes EFBIG where it writes in a data dir — and
/// stays alive to remove its scratch dirs. (Children forked to map files get the default back:
/// like a backend, they die by the signal, contained.)
pub fn ignore_file_size_limit_signal() {
    // SAFETY: setting a signal's disposition to SIG_IGN has no memory effects.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
}
