//! Physical memory, page size and this process's handle count (`GlobalMemoryStatusEx`,
//! `GetSystemInfo`, `GetProcessHandleCount`).

use windows_sys::Win32::System::SystemInformation::{
    GetSystemInfo, GlobalMemoryStatusEx, MEMORYSTATUSEX, SYSTEM_INFO,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessHandleCount};

/// What GlobalMemoryStatusEx reports.
#[derive(Clone, Copy, Debug)]
pub struct MemoryStatus {
    pub total_phys: u64,
    pub avail_phys: u64,
    /// The commit limit (physical memory + page files).
    pub total_page_file: u64,
    pub avail_page_file: u64,
}

pub fn memory_status() -> std::io::Result<MemoryStatus> {
    // SAFETY: a zeroed MEMORYSTATUSEX with dwLength set is what the API expects.
    let mut st: MEMORYSTATUSEX = unsafe { std::mem::zeroed() };
    st.dwLength = std::mem::size_of::<MEMORYSTATUSEX>() as u32;
    // SAFETY: `st` is valid for writes.
    if unsafe { GlobalMemoryStatusEx(&mut st) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(MemoryStatus {
        total_phys: st.ullTotalPhys,
        avail_phys: st.ullAvailPhys,
        total_page_file: st.ullTotalPageFile,
        avail_page_file: st.ullAvailPageFile,
    })
}

/// The page size and the allocation granularity (map offsets must be multiples of it).
pub fn page_size_and_granularity() -> (usize, usize) {
    // SAFETY: GetSystemInfo fills the struct and cannot fail.
    let mut si: SYSTEM_INFO = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { GetSystemInfo(&mut si) };
    let page = if si.dwPageSize > 0 {
        si.dwPageSize as usize
    } else {
        4096
    };
    (page, si.dwAllocationGranularity.max(1) as usize)
}

/// How many handles this process has open.
pub fn process_handle_count() -> std::io::Result<u32> {
    let mut n = 0u32;
    // SAFETY: the pseudo-handle of the current process; `n` is valid for writes.
    if unsafe { GetProcessHandleCount(GetCurrentProcess(), &mut n) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_and_page_size_are_plausible() {
        let m = super::memory_status().unwrap();
        assert!(m.total_phys > 64 * 1024 * 1024 && m.avail_phys <= m.total_phys);
        assert!(super::page_size_and_granularity().0 >= 4096);
        let handles = super::process_handle_count().unwrap();
        // Wine 8 answers GetProcessHandleCount with 0.
        assert!(handles > 0 || super::super::under_wine(), "{handles}");
    }
}
