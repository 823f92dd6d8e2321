//! Starting the tool's own threads, and telling the tool's own failure to start one apart from
//! what it observes. Under a task limit (a container's cgroup `pids.max`, RLIMIT_NPROC) the
//! kernel refuses a new thread or process with EAGAIN, and std's `thread::spawn` would panic.
//! Here the failure is an io::Error marked as the tool's own: an observation that needed the
//! thread is reported `error` ("not observed"), never a `fail` about the host, and the host's
//! task limit itself is observed by `limits.pids`.

use std::io;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a refused thread or process start is tried again: under a task limit the tool's
/// own short-lived threads end within milliseconds and give their slots back.
const RETRY_FOR: Duration = Duration::from_millis(150);
const RETRY_STEP: Duration = Duration::from_millis(3);

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

/// Whether the OS refused to start a task for want of one (EAGAIN: the task limit), which
/// may pass as other tasks end.
fn refused_for_now(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock
}

/// `start()`, tried again for up to RETRY_FOR while the OS refuses it for want of a task;
/// a failure that remains is marked as the tool's own.
pub fn retrying<T>(mut start: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let until = Instant::now() + RETRY_FOR;
    loop {
        match start() {
            Err(e) if refused_for_now(&e) && Instant::now() < until => {
                std::thread::sleep(RETRY_STEP)
            }
            Err(e) if refused_for_now(&e) => return Err(own(e)),
            other => return other,
        }
    }
}

/// A named thread tried once, or the marked error: for callers with a fallback of their own
/// (the probe pool runs on the threads it got, the agent answers on its own thread).
pub fn thread_once<F, T>(name: &str, f: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(own)
}

/// A named thread (tried again while the task limit refuses it), or the marked error.
pub fn thread<F, T>(name: &str, f: F) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // The closure is handed to each attempt through a shared slot: a refused spawn drops
    // only its copy of the slot, never the work.
    let slot = Arc::new(Mutex::new(Some(f)));
    retrying(|| {
        let slot = Arc::clone(&slot);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                // Only a thread that started runs, and only one starts: the work is still there.
                let f = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                f.expect("one started thread takes the work")()
            })
    })
}

/// `f` over `items`, in order, split into one run of consecutive items per CPU (at most 4)
/// when there are at least `min_items`: for the CPU-bound work after the probes (judging
/// twenty data dirs' verdicts). A run whose thread the OS refuses runs here.
pub fn map_in_parallel<T, R, F>(items: &[T], min_items: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if cpus < 2 || items.len() < min_items.max(2) {
        return items.iter().map(&f).collect();
    }
    let per_thread = items.len().div_ceil(cpus);
    let f = &f;
    std::thread::scope(|scope| {
        let runs: Vec<_> = items
            .chunks(per_thread)
            .map(|run| {
                let started = std::thread::Builder::new()
                    .name("parallel".into())
                    .spawn_scoped(scope, move || run.iter().map(f).collect::<Vec<R>>());
                (run, started)
            })
            .collect();
        runs.into_iter()
            .flat_map(|(run, started)| match started.map(|t| t.join()) {
                Ok(Ok(done)) => done,
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                Err(_) => run.iter().map(f).collect(),
            })
            .collect()
    })
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

#[cfg(test)]
mod parallel_tests {
    #[test]
    fn parallel_map_keeps_the_order_of_the_items() {
        let items: Vec<u32> = (0..1000).collect();
        let threads = std::sync::Mutex::new(std::collections::HashSet::new());
        let squares = super::map_in_parallel(&items, 64, |n| {
            threads.lock().unwrap().insert(std::thread::current().id());
            n * n
        });
        assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(threads.lock().unwrap().len(), cpus.clamp(1, 4));
        // Below the threshold it runs here, on this thread.
        let here = std::thread::current().id();
        assert_eq!(
            super::map_in_parallel(&items[..10], 64, |_| std::thread::current().id()),
            vec![here; 10]
        );
    }
}
