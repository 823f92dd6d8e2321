//! Windows system calls used by probes and host facts (`windows-sys`), the twin of
//! `platform::unix`: volumes, locks, memory maps, memory, socket owners, the registry.

pub mod fileops;
pub mod locks;
pub mod memory;
pub mod mmap;
pub mod netowner;
pub mod process;
pub mod registry;
pub mod uds;
pub mod volume;
pub mod wsl;

/// True when running under Wine (the Windows build tested on Linux in CI): Wine maps the
/// Unix root to `Z:\`, so the Linux `/proc/self` is visible there. Used only by tests, to
/// tolerate documented Wine differences; never by a probe.
pub fn under_wine() -> bool {
    std::path::Path::new("Z:\\proc\\self\\status").exists()
}

/// A Rust string as a NUL-terminated UTF-16 buffer for the `…W` APIs.
pub fn wide(s: &std::ffi::OsStr) -> Vec<u16> {
    use std::os::windows::ffi::OsStrExt;
    s.encode_wide().chain(std::iter::once(0)).collect()
}

/// A NUL-terminated (or full) UTF-16 buffer back to a String.
pub fn from_wide(buf: &[u16]) -> String {
    let end = buf.iter().position(|c| *c == 0).unwrap_or(buf.len());
    String::from_utf16_lossy(&buf[..end])
}

/// This computer's DNS host name (`GetComputerNameExW(ComputerNameDnsHostname)`), else its
/// NetBIOS name: what the OS says, not `%COMPUTERNAME%`, which anyone can set.
pub fn computer_name() -> Option<String> {
    use windows_sys::Win32::System::SystemInformation::{
        ComputerNameDnsHostname, ComputerNameNetBIOS, GetComputerNameExW,
    };
    [ComputerNameDnsHostname, ComputerNameNetBIOS]
        .into_iter()
        .find_map(|kind| {
            let mut buf = vec![0u16; 256];
            let mut len = buf.len() as u32;
            // SAFETY: the buffer holds `len` UTF-16 units; `len` is updated to the name's length.
            let ok = unsafe { GetComputerNameExW(kind, buf.as_mut_ptr(), &mut len) } != 0;
            ok.then(|| from_wide(&buf[..(len as usize).min(buf.len())]))
                .filter(|n| !n.is_empty())
        })
}

/// This process's account: the user name (`GetUserNameW`) and profile directory
/// (`GetUserProfileDirectoryW` on the process token), not `%USERNAME%`/`%USERPROFILE%`.
pub fn account() -> Option<(String, String)> {
    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::Security::TOKEN_QUERY;
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};
    use windows_sys::Win32::System::WindowsProgramming::GetUserNameW;
    use windows_sys::Win32::UI::Shell::GetUserProfileDirectoryW;
    let mut name = vec![0u16; 257];
    let mut len = name.len() as u32;
    // SAFETY: the buffer holds `len` UTF-16 units.
    if unsafe { GetUserNameW(name.as_mut_ptr(), &mut len) } == 0 {
        return None;
    }
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: the current-process pseudo-handle; `token` is valid for writes.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return None;
    }
    let mut dir = vec![0u16; 1024];
    let mut dir_len = dir.len() as u32;
    // SAFETY: an open token; the buffer holds `dir_len` UTF-16 units.
    let ok = unsafe { GetUserProfileDirectoryW(token, dir.as_mut_ptr(), &mut dir_len) } != 0;
    // SAFETY: the token opened above, closed once.
    unsafe { CloseHandle(token) };
    let (name, dir) = (from_wide(&name), from_wide(&dir));
    (ok && !name.is_empty() && !dir.is_empty()).then_some((name, dir))
}
