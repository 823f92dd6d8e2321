//! Symbolic names for OS error numbers (`ENOLCK`, not "os error 37").

/// The symbolic name of an io::Error: errno name on Unix, WSA/Win32 name on Windows,
/// or the error kind when the error did not come from the OS.
pub fn io_error_name(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => errno_name(code),
        None => format!("{:?}", err.kind()),
    }
}

/// Errnos that say the calling process itself ran out of something (its descriptor table, the
/// system's file table, memory or address space), not what the thing it looked at is like: an
/// observation that met one was not made. The backends' own needs are judged from the limits
/// (`limits.nofile`, `limits.as`) against their floors instead.
pub fn is_own_resource_exhaustion(name: &str) -> bool {
    matches!(name, "EMFILE" | "ENFILE" | "ENOMEM")
}

/// The error's text without std's ` (os error N)` suffix: the symbolic name says that already,
/// and "ENOENT (No such file or directory (os error 2))" nests parentheses for nothing.
pub fn describe(err: &std::io::Error) -> String {
    let text = err.to_string();
    match (err.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(i)) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

#[cfg(unix)]
pub fn errno_name(code: i32) -> String {
    let e = nix::errno::Errno::from_raw(code);
    if e == nix::errno::Errno::UnknownErrno {
        format!("errno {code}")
    } else {
        format!("{e:?}")
    }
}

#[cfg(windows)]
pub fn errno_name(code: i32) -> String {
    let name = match code {
        2 => "ERROR_FILE_NOT_FOUND",
        3 => "ERROR_PATH_NOT_FOUND",
        5 => "ERROR_ACCESS_DENIED",
        19 => "ERROR_WRITE_PROTECT",
        32 => "ERROR_SHARING_VIOLATION",
        33 => "ERROR_LOCK_VIOLATION",
        39 => "ERROR_HANDLE_DISK_FULL",
        50 => "ERROR_NOT_SUPPORTED",
        112 => "ERROR_DISK_FULL",
        183 => "ERROR_ALREADY_EXISTS",
        10013 => "WSAEACCES",
        10022 => "WSAEINVAL",
        10048 => "WSAEADDRINUSE",
        10049 => "WSAEADDRNOTAVAIL",
        10050 => "WSAENETDOWN",
        10051 => "WSAENETUNREACH",
        10060 => "WSAETIMEDOUT",
        10061 => "WSAECONNREFUSED",
        10065 => "WSAEHOSTUNREACH",
        _ => return format!("os error {code}"),
    };
    name.to_string()
}

#[cfg(not(any(unix, windows)))]
pub fn errno_name(code: i32) -> String {
    format!("os error {code}")
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    #[test]
    fn describes_without_the_os_error_suffix() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(describe(&e), "No such file or directory");
        let o = crate::observation::Observation::from_io_error("x", "t", "open", &e);
        assert_eq!(o.message, "open: ENOENT (No such file or directory)");
    }
    #[test]
    fn names_common_errnos() {
        assert_eq!(errno_name(libc::ENOLCK), "ENOLCK");
        assert_eq!(errno_name(libc::EADDRINUSE), "EADDRINUSE");
        let e = std::io::Error::from_raw_os_error(libc::EROFS);
        assert_eq!(io_error_name(&e), "EROFS");
    }
}
