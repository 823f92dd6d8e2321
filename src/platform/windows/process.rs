//! Other processes by pid: whether one is alive (`OpenProcess` + `GetExitCodeProcess`), for
//! pid files such as PostgreSQL's `postmaster.pid`, which outlive a crashed server.

use windows_sys::Win32::Foundation::{CloseHandle, STILL_ACTIVE};
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
};

/// True when a process with this pid exists and has not exited. A process this user may not
/// query (another user's, a protected one) still exists: OpenProcess then fails with
/// ERROR_ACCESS_DENIED, which counts as alive.
pub fn alive(pid: u32) -> bool {
    // SAFETY: no pointers; a null handle is checked before use.
    let h = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if h.is_null() {
        return std::io::Error::last_os_error().raw_os_error() == Some(5);
    }
    let mut code = 0u32;
    // SAFETY: an open process handle, closed once; `code` is valid for writes.
    let ok = unsafe { GetExitCodeProcess(h, &mut code) } != 0;
    // SAFETY: the handle from OpenProcess above.
    unsafe { CloseHandle(h) };
    ok && code == STILL_ACTIVE as u32
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_is_alive_and_an_ended_child_is_not() {
        assert!(super::alive(std::process::id()));
        let mut child = std::process::Command::new("cmd")
            .args(["/c", "exit 0"])
            .spawn()
            .unwrap();
        let pid = child.id();
        child.wait().unwrap();
        drop(child);
        assert!(!super::alive(pid));
    }
}
