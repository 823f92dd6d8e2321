//! Starting the tool's own threads, and telling the tool's own failure to start one apart from
//! what it observes. Under a task limit (a container's cgroup `pids.max`, RLIMIT_NPROC) the
//! kernel refuses a new thread or process with EAGAIN, and std's `thread::spawn` would panic.
//! Here the failure is an io::Error marked as the tool's own: an observation that needed the
//! thread is reported `error` ("not observed"), never a `fail` about the host, and the host's
//! task limit itself is observed by `limits.pids`.

use std::io;
use std::thread::JoinHandle;

/// The tool could not start a thread or process of its own.
#[derive(Debug)]
struct OwnTaskRefused(io::Error);

impl std::fmt::Display for OwnTaskRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the tool could not start a thread or process of its own ({}): its task limit is reached (see limits.pids)",
            crate::errno::describe(&self.0)
        )
    }
}

impl std::error::Error for OwnTaskRefused {}

/// Mark a failure to start a thread or child process as the tool's own.
pub fn own(err: io::Error) -> io::Error {
    if is_own(&err) {
        return err;
    }
    io::Error::new(err.kind(), OwnTaskRefused(err))
}

/// Whether `err` is the tool's own failure to start a thread or process.
pub fn is_own(err: &io::Error) -> bool {
    own_cause(err).is_some()
}

/// The OS error behind a marked failure.
pub fn own_cause(err: &io::Error) -> Option<&io::Error> {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<OwnTaskRefused>())
        .map(|o| &o.0)
}

/// A named thread, or the marked error when the OS refuses it.
pub fn thread<F, T>(name: &str, f: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(own)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_marked_error_keeps_its_errno_name_and_says_whose_it_is() {
        let eagain = || io::Error::from_raw_os_error(libc::EAGAIN);
        let e = own(eagain());
        assert!(is_own(&e));
        assert!(is_own(&own(e)), "marking twice is harmless");
        let e = own(eagain());
        assert_eq!(crate::errno::io_error_name(&e), "EAGAIN");
        assert!(e.to_string().contains("task limit"), "{e}");
        assert!(!is_own(&eagain()));
        let o = crate::observation::Observation::from_io_error("x", "host", "listen", &e);
        assert_eq!(o.status, crate::observation::Status::Error, "{o:?}");
    }
}
