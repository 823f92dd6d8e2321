//! Symbolic names for OS error numbers (`ENOLCK`, not "os error 37").

/// The symbolic name of an io::Error: errno name on Unix, WSA/Win32 name on Windows,
/// or the error kind when the error did not come from the OS.
pub fn io_error_name(err: &std::io::Error) -> String {
    if let Some(cause) = crate::spawn::own_cause(err) {
        return io_error_name(cause);
    }
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
        1 => "ERROR_INVALID_FUNCTION",
        4 => "ERROR_TOO_MANY_OPEN_FILES",
        8 => "ERROR_NOT_ENOUGH_MEMORY",
        14 => "ERROR_OUTOFMEMORY",
        50 => "ERROR_NOT_SUPPORTED",
        80 => "ERROR_FILE_EXISTS",
        109 => "ERROR_BROKEN_PIPE",
        120 => "ERROR_CALL_NOT_IMPLEMENTED",
        121 => "ERROR_SEM_TIMEOUT",
        158 => "ERROR_NOT_LOCKED",
        206 => "ERROR_FILENAME_EXCED_RANGE",
        231 => "ERROR_PIPE_BUSY",
        232 => "ERROR_NO_DATA",
        258 => "WAIT_TIMEOUT",
        267 => "ERROR_DIRECTORY",
        1006 => "ERROR_FILE_INVALID",
        1224 => "ERROR_USER_MAPPED_FILE",
        10024 => "WSAEMFILE",
        10035 => "WSAEWOULDBLOCK",
        10043 => "WSAEPROTONOSUPPORT",
        10045 => "WSAEOPNOTSUPP",
        10047 => "WSAEAFNOSUPPORT",
        10054 => "WSAECONNRESET",
        10063 => "WSAENAMETOOLONG",
        112 => "ERROR_DISK_FULL",
        183 => "ERROR_ALREADY_EXISTS",
        10013 => "WSAEACCES",
        10014 => "WSAEFAULT",
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

/// The POSIX meaning of an error name, so a rule or a test can compare what an error
/// *means* rather than how one OS spells it: `WSAEADDRINUSE` → `EADDRINUSE`,
/// `ERROR_PATH_NOT_FOUND` → `ENOENT`. Names without a POSIX twin (and POSIX names) are
/// returned unchanged.
pub fn meaning(name: &str) -> &str {
    match name {
        "ERROR_FILE_NOT_FOUND" | "ERROR_PATH_NOT_FOUND" => "ENOENT",
        "ERROR_ACCESS_DENIED" | "WSAEACCES" => "EACCES",
        "ERROR_WRITE_PROTECT" => "EROFS",
        "ERROR_SHARING_VIOLATION" | "ERROR_LOCK_VIOLATION" => "EWOULDBLOCK",
        "EAGAIN" => "EWOULDBLOCK",
        "ERROR_HANDLE_DISK_FULL" | "ERROR_DISK_FULL" => "ENOSPC",
        "ERROR_NOT_SUPPORTED" | "ERROR_INVALID_FUNCTION" => "EOPNOTSUPP",
        "ERROR_CALL_NOT_IMPLEMENTED" => "ENOSYS",
        "ENOTSUP" => "EOPNOTSUPP",
        "ERROR_ALREADY_EXISTS" | "ERROR_FILE_EXISTS" => "EEXIST",
        "ERROR_DIRECTORY" => "ENOTDIR",
        "ERROR_FILENAME_EXCED_RANGE" => "ENAMETOOLONG",
        "ERROR_NOT_ENOUGH_MEMORY" | "ERROR_OUTOFMEMORY" => "ENOMEM",
        "ERROR_TOO_MANY_OPEN_FILES" | "WSAEMFILE" => "EMFILE",
        "ERROR_SEM_TIMEOUT" | "WAIT_TIMEOUT" => "ETIMEDOUT",
        "ERROR_PIPE_BUSY" => "EBUSY",
        "ERROR_BROKEN_PIPE" | "ERROR_NO_DATA" => "EPIPE",
        "WSAEINVAL" => "EINVAL",
        "WSAEADDRINUSE" => "EADDRINUSE",
        "WSAEADDRNOTAVAIL" => "EADDRNOTAVAIL",
        "WSAENETDOWN" => "ENETDOWN",
        "WSAENETUNREACH" => "ENETUNREACH",
        "WSAETIMEDOUT" => "ETIMEDOUT",
        "WSAECONNREFUSED" => "ECONNREFUSED",
        "WSAECONNRESET" => "ECONNRESET",
        "WSAEHOSTUNREACH" => "EHOSTUNREACH",
        "WSAEAFNOSUPPORT" => "EAFNOSUPPORT",
        "WSAEPROTONOSUPPORT" => "EPROTONOSUPPORT",
        "WSAEOPNOTSUPP" => "EOPNOTSUPP",
        "WSAENAMETOOLONG" => "ENAMETOOLONG",
        "WSAEWOULDBLOCK" => "EWOULDBLOCK",
        other => other,
    }
}

/// Whether two error names mean the same thing (see [`meaning`]).
pub fn same_meaning(a: &str, b: &str) -> bool {
    meaning(a) == meaning(b)
}

#[cfg(not(any(unix, windows)))]
pub fn errno_name(code: i32) -> String {
    format!("os error {code}")
}

#[cfg(test)]
mod meaning_tests {
    use super::*;
    #[test]
    fn windows_spellings_map_to_their_posix_meaning() {
        assert!(same_meaning("WSAEADDRINUSE", "EADDRINUSE"));
        assert!(same_meaning("ERROR_PATH_NOT_FOUND", "ENOENT"));
        assert!(same_meaning("ERROR_FILE_NOT_FOUND", "ENOENT"));
        assert!(same_meaning("EAGAIN", "ERROR_LOCK_VIOLATION"));
        assert!(!same_meaning("WSAEACCES", "EADDRINUSE"));
        assert_eq!(meaning("ENOLCK"), "ENOLCK");
    }

    #[cfg(windows)]
    #[test]
    fn names_common_windows_errors() {
        assert_eq!(errno_name(10048), "WSAEADDRINUSE");
        let e = std::io::Error::from_raw_os_error(3);
        assert_eq!(io_error_name(&e), "ERROR_PATH_NOT_FOUND");
    }
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
