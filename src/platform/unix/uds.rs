//! AF_UNIX stream sockets built with libc directly, so paths of any length reach the kernel
//! (std and nix refuse long paths themselves, which would hide the kernel's own answer):
//! the `sun_path` capacity, a bind+listen+connect+accept round trip (through
//! `/proc/self/fd/<dirfd>/` on Linux when the full path would not fit, so the round trip observes
//! the directory's filesystem, not the length of the caller's path), a bare bind used to measure
//! the path-length limit.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

/// Size of `sockaddr_un.sun_path` on this platform (108 on Linux, 104 on macOS/BSD),
/// including the terminating NUL.
pub fn sun_path_capacity() -> usize {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_path.len()
}

/// The step of a socket round trip that failed, and how.
#[derive(Debug)]
pub struct StepError {
    pub step: &'static str,
    pub error: io::Error,
}

fn at(step: &'static str) -> impl Fn(io::Error) -> StepError {
    move |error| StepError { step, error }
}

/// How a round trip reached its socket file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundVia {
    /// The full path fit in `sun_path`.
    Path,
    /// `/proc/self/fd/<fd>/<name>` with an `O_PATH` descriptor of the socket's directory
    /// (Linux): the full path was too long for `sun_path`.
    ProcFd,
}

impl BoundVia {
    pub fn as_str(self) -> &'static str {
        match self {
            BoundVia::Path => "path",
            BoundVia::ProcFd => "proc_fd",
        }
    }
}

/// socket, bind at `path`, listen, connect, accept, one byte each way; the socket file is
/// removed again. `timeout` bounds connect, accept and the reads (SO_SNDTIMEO/SO_RCVTIMEO).
/// A `path` too long for `sun_path` is bound through `/proc/self/fd/<fd>/<name>`, `fd` an
/// `O_PATH` descriptor of its directory (Linux); elsewhere, or without `/proc`, that is step
/// `address`, ENAMETOOLONG, before any syscall on the directory.
pub fn round_trip(path: &Path, timeout: Duration) -> Result<BoundVia, StepError> {
    let full = path.as_os_str().as_bytes();
    if full.len() < sun_path_capacity() {
        return round_trip_at(full, path, timeout).map(|()| BoundVia::Path);
    }
    round_trip_via_dir_fd(path, timeout).map(|()| BoundVia::ProcFd)
}

/// The round trip on the socket address `addr_path`, whose file is `path`.
fn round_trip_at(addr_path: &[u8], path: &Path, timeout: Duration) -> Result<(), StepError> {
    let (addr, len) = sockaddr(addr_path).map_err(at("address"))?;
    let server = stream_socket().map_err(at("socket"))?;
    set_timeouts(&server, timeout).map_err(at("setsockopt"))?;
    // SAFETY: addr/len describe a valid sockaddr_un built above.
    cvt(unsafe { libc::bind(server.as_raw_fd(), ptr(&addr), len) }).map_err(at("bind"))?;
    let result = serve_one(&server, &addr, len, timeout);
    let _ = std::fs::remove_file(path);
    result
}

#[cfg(target_os = "linux")]
fn round_trip_via_dir_fd(path: &Path, timeout: Duration) -> Result<(), StepError> {
    let too_long = || StepError {
        step: "address",
        error: io::Error::from_raw_os_error(libc::ENAMETOOLONG),
    };
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(too_long());
    };
    if !Path::new("/proc/self/fd").is_dir() {
        return Err(too_long());
    }
    let dir_c = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(|_| too_long())?;
    // SAFETY: a valid NUL-terminated path; a non-negative result is an fd we own.
    let fd = cvt(unsafe {
        libc::open(
            dir_c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })
    .map_err(at("open"))?;
    let dir_fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut short = format!("/proc/self/fd/{}/", dir_fd.as_raw_fd()).into_bytes();
    short.extend_from_slice(name.as_bytes());
    if short.len() >= sun_path_capacity() {
        return Err(too_long());
    }
    round_trip_at(&short, path, timeout)
}

#[cfg(not(target_os = "linux"))]
fn round_trip_via_dir_fd(_path: &Path, _timeout: Duration) -> Result<(), StepError> {
    Err(StepError {
        step: "address",
        error: io::Error::from_raw_os_error(libc::ENAMETOOLONG),
    })
}

fn serve_one(
    server: &OwnedFd,
    addr: &libc::sockaddr_storage,
    len: libc::socklen_t,
    timeout: Duration,
) -> Result<(), StepError> {
    // SAFETY: plain syscalls on fds this function owns or borrows.
    cvt(unsafe { libc::listen(server.as_raw_fd(), 4) }).map_err(at("listen"))?;
    let client = stream_socket().map_err(at("socket"))?;
    set_timeouts(&client, timeout).map_err(at("setsockopt"))?;
    cvt(unsafe { libc::connect(client.as_raw_fd(), ptr(addr), len) }).map_err(at("connect"))?;
    let accepted = cvt(unsafe {
        libc::accept(
            server.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    })
    .map_err(at("accept"))?;
    // SAFETY: accept returned a new fd we now own.
    let accepted = unsafe { OwnedFd::from_raw_fd(accepted) };
    set_timeouts(&accepted, timeout).map_err(at("setsockopt"))?;
    exchange_byte(&client, &accepted).map_err(at("send/recv"))?;
    exchange_byte(&accepted, &client).map_err(at("send/recv"))
}

/// bind(2) only, at a path given as raw bytes (any length up to the kernel's own check);
/// the socket file is removed again when the bind succeeded.
pub fn bind_only(path: &[u8]) -> io::Result<()> {
    let (addr, len) = sockaddr(path)?;
    let sock = stream_socket()?;
    // SAFETY: addr/len describe a valid sockaddr built above.
    cvt(unsafe { libc::bind(sock.as_raw_fd(), ptr(&addr), len) })?;
    let _ = std::fs::remove_file(std::ffi::OsStr::from_bytes(path));
    Ok(())
}

/// A sockaddr_un for `path` with its NUL terminator counted in the address length, as
/// C clients (gRPC, libuv, Python) build it. The storage is a sockaddr_storage so paths
/// longer than `sun_path` can still be handed to the kernel to judge.
fn sockaddr(path: &[u8]) -> io::Result<(libc::sockaddr_storage, libc::socklen_t)> {
    let offset = std::mem::offset_of!(libc::sockaddr_un, sun_path);
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let total = offset + path.len() + 1;
    if total > std::mem::size_of::<libc::sockaddr_storage>() || path.contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    let un = (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_un>();
    let bytes = (&mut storage as *mut libc::sockaddr_storage).cast::<u8>();
    // SAFETY: `total` bytes fit in the storage (checked above); the trailing NUL is already
    // there from zeroing.
    unsafe {
        (*un).sun_family = libc::AF_UNIX as libc::sa_family_t;
        std::ptr::copy_nonoverlapping(path.as_ptr(), bytes.add(offset), path.len());
    }
    set_sun_len(&mut storage, total);
    let len = libc::socklen_t::try_from(total)
        .map_err(|_| io::Error::from_raw_os_error(libc::ENAMETOOLONG))?;
    Ok((storage, len))
}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
fn set_sun_len(storage: &mut libc::sockaddr_storage, total: usize) {
    storage.ss_len = u8::try_from(total).unwrap_or(u8::MAX);
}

#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)))]
fn set_sun_len(_storage: &mut libc::sockaddr_storage, _total: usize) {}

fn ptr(addr: &libc::sockaddr_storage) -> *const libc::sockaddr {
    (addr as *const libc::sockaddr_storage).cast()
}

fn stream_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) with constant arguments; a non-negative result is an fd we own.
    let fd = cvt(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) })?;
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // Do not leak the fd into children (workers, the python interpreter) spawned meanwhile.
    // SAFETY: fcntl on an fd we own.
    cvt(unsafe { libc::fcntl(owned.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    Ok(owned)
}

// time_t and suseconds_t are i64 on Linux but i32 on some platforms (suseconds_t on macOS).
#[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
fn set_timeouts(fd: &OwnedFd, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(1),
        tv_usec: libc::suseconds_t::try_from(timeout.subsec_micros()).unwrap_or(0),
    };
    let size = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
    for opt in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        // SAFETY: tv is a valid timeval of `size` bytes.
        cvt(unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&tv as *const libc::timeval).cast(),
                size,
            )
        })?;
    }
    Ok(())
}

fn exchange_byte(from: &OwnedFd, to: &OwnedFd) -> io::Result<()> {
    let out = [0x5au8];
    // SAFETY: one-byte buffers that live across the calls.
    let sent = unsafe { libc::send(from.as_raw_fd(), out.as_ptr().cast(), 1, 0) };
    if sent != 1 {
        return Err(short_or_os(sent));
    }
    let mut inb = [0u8];
    let got = unsafe { libc::recv(to.as_raw_fd(), inb.as_mut_ptr().cast(), 1, 0) };
    if got != 1 || inb != out {
        return Err(short_or_os(got));
    }
    Ok(())
}

fn short_or_os(rc: isize) -> io::Error {
    if rc < 0 {
        io::Error::last_os_error()
    } else {
        io::Error::new(io::ErrorKind::UnexpectedEof, "short transfer")
    }
}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_the_platform_sun_path_size() {
        let expected = if cfg!(target_os = "linux") { 108 } else { 104 };
        assert_eq!(sun_path_capacity(), expected);
    }

    #[test]
    fn round_trip_works_in_a_tempdir_and_leaves_nothing_behind() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sock");
        round_trip(&p, Duration::from_millis(200)).unwrap();
        assert!(!p.exists());
    }

    #[test]
    fn a_path_over_sun_path_is_bound_through_the_dirs_fd_on_linux() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("x".repeat(sun_path_capacity()));
        std::fs::create_dir(&dir).unwrap();
        let p = dir.join("s.sock");
        let got = round_trip(&p, Duration::from_millis(200));
        if cfg!(target_os = "linux") {
            assert_eq!(got.unwrap(), BoundVia::ProcFd);
        } else {
            let err = got.unwrap_err();
            assert_eq!(err.step, "address");
        }
        assert!(!p.exists());
        let short = d.path().join("s.sock");
        assert_eq!(
            round_trip(&short, Duration::from_millis(200)).unwrap(),
            BoundVia::Path
        );
    }

    #[test]
    fn round_trip_names_the_failing_step() {
        let err = round_trip(
            Path::new("/nonexistent-dir/x.sock"),
            Duration::from_millis(50),
        )
        .unwrap_err();
        assert_eq!(err.step, "bind");
        assert_eq!(err.error.raw_os_error(), Some(libc::ENOENT));
    }

    #[test]
    fn a_nul_terminated_path_must_fit_in_sun_path() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().as_os_str().as_bytes();
        let cap = sun_path_capacity();
        let path_of = |len: usize| {
            let mut p = dir.to_vec();
            p.push(b'/');
            p.resize(len, b'x');
            p
        };
        assert!(dir.len() + 2 < cap, "tempdir path too long for this test");
        bind_only(&path_of(cap - 1)).unwrap();
        let err = bind_only(&path_of(cap)).unwrap_err();
        assert!(
            matches!(
                err.raw_os_error(),
                Some(libc::EINVAL) | Some(libc::ENAMETOOLONG)
            ),
            "{err}"
        );
    }
}
