//! Who owns a local TCP port: `GetExtendedTcpTable(TCP_TABLE_OWNER_PID_ALL)` for IPv4 and
//! IPv6, then the owner's image path (`QueryFullProcessImageNameW`), the twin of the Linux
//! `/proc/net/tcp` + `/proc/PID/fd` walk.

use super::from_wide;
use windows_sys::Win32::Foundation::{CloseHandle, ERROR_INSUFFICIENT_BUFFER, NO_ERROR};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, MIB_TCP6ROW_OWNER_PID, MIB_TCPROW_OWNER_PID, TCP_TABLE_OWNER_PID_ALL,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
use windows_sys::Win32::System::Threading::{
    OpenProcess, PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION, QueryFullProcessImageNameW,
};

/// A socket bound to the port: its pid, state (2 = LISTEN) and whether it is IPv6.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortOwner {
    pub pid: u32,
    pub state: u32,
    pub ipv6: bool,
}

fn table(family: u16) -> Result<Vec<u8>, String> {
    let mut size = 0u32;
    let mut buf: Vec<u8> = Vec::new();
    for _ in 0..4 {
        // SAFETY: `buf` has `size` bytes (0 on the first call, which only asks the size).
        let rc = unsafe {
            GetExtendedTcpTable(
                if buf.is_empty() {
                    std::ptr::null_mut()
                } else {
                    buf.as_mut_ptr().cast()
                },
                &mut size,
                0,
                u32::from(family),
                TCP_TABLE_OWNER_PID_ALL,
                0,
            )
        };
        if rc == NO_ERROR {
            return Ok(buf);
        }
        if rc != ERROR_INSUFFICIENT_BUFFER {
            return Err(crate::errno::errno_name(rc as i32));
        }
        buf = vec![0u8; size as usize + 1024];
        size = buf.len() as u32;
    }
    Err("the TCP table kept growing".into())
}

/// Every TCP socket (v4 and v6) bound to local `port`.
pub fn owners_of(port: u16) -> Result<Vec<PortOwner>, String> {
    let mut out = Vec::new();
    let be_port = u32::from(port.to_be());
    let v4 = table(AF_INET)?;
    if v4.len() >= 4 {
        let n = u32::from_ne_bytes(v4[..4].try_into().unwrap_or_default()) as usize;
        let row = std::mem::size_of::<MIB_TCPROW_OWNER_PID>();
        for i in 0..n {
            let off = 4 + i * row;
            if off + row > v4.len() {
                break;
            }
            // SAFETY: in bounds; read_unaligned copes with the byte buffer's alignment.
            let r: MIB_TCPROW_OWNER_PID =
                unsafe { std::ptr::read_unaligned(v4[off..].as_ptr().cast()) };
            if r.dwLocalPort == be_port {
                out.push(PortOwner {
                    pid: r.dwOwningPid,
                    state: r.dwState,
                    ipv6: false,
                });
            }
        }
    }
    if let Ok(v6) = table(AF_INET6)
        && v6.len() >= 4
    {
        let n = u32::from_ne_bytes(v6[..4].try_into().unwrap_or_default()) as usize;
        let row = std::mem::size_of::<MIB_TCP6ROW_OWNER_PID>();
        for i in 0..n {
            let off = 4 + i * row;
            if off + row > v6.len() {
                break;
            }
            // SAFETY: as above.
            let r: MIB_TCP6ROW_OWNER_PID =
                unsafe { std::ptr::read_unaligned(v6[off..].as_ptr().cast()) };
            if r.dwLocalPort == be_port {
                out.push(PortOwner {
                    pid: r.dwOwningPid,
                    state: r.dwState,
                    ipv6: true,
                });
            }
        }
    }
    Ok(out)
}

/// The full image path of a process, when this user may query it.
pub fn image_of(pid: u32) -> Option<String> {
    // SAFETY: OpenProcess with the least privilege that allows the name query.
    let h = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if h.is_null() {
        return None;
    }
    let mut buf = vec![0u16; 1024];
    let mut len = buf.len() as u32;
    // SAFETY: valid handle; buffer length in characters.
    let ok =
        unsafe { QueryFullProcessImageNameW(h, PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut len) };
    // SAFETY: closing the handle opened above.
    unsafe { CloseHandle(h) };
    (ok != 0).then(|| from_wide(&buf[..len as usize]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_listener_of_this_process_is_found_with_its_pid() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let owners = super::owners_of(port).unwrap();
        // Wine 8 lists the socket but reports owning pid 0.
        let want = if super::super::under_wine() {
            0
        } else {
            std::process::id()
        };
        assert!(owners.iter().any(|o| o.pid == want), "{owners:?}");
    }
}
