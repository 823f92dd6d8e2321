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
