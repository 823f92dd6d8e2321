//! Physical memory, page size, this process's handle count and the memory limits of the job
//! object it runs in (`GlobalMemoryStatusEx`, `GetSystemInfo`, `GetProcessHandleCount`,
//! `IsProcessInJob`/`QueryInformationJobObject`).

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

/// The memory limits of the job object this process is in (Windows containers, CI runners
/// and service managers put processes in jobs; children inherit the job): None when the
/// process is in no job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobMemoryLimits {
    /// JOB_OBJECT_LIMIT_JOB_MEMORY: committed memory of all the job's processes together.
    pub job_bytes: Option<u64>,
    /// JOB_OBJECT_LIMIT_PROCESS_MEMORY: committed memory of each process.
    pub process_bytes: Option<u64>,
}

pub fn job_memory_limits() -> std::io::Result<Option<JobMemoryLimits>> {
    use windows_sys::Win32::System::JobObjects::{
        IsProcessInJob, JOB_OBJECT_LIMIT_JOB_MEMORY, JOB_OBJECT_LIMIT_PROCESS_MEMORY,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
        QueryInformationJobObject,
    };
    let mut in_job = 0;
    // SAFETY: the current-process pseudo-handle, a null job handle (any job), `in_job` valid.
    if unsafe { IsProcessInJob(GetCurrentProcess(), std::ptr::null_mut(), &mut in_job) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    if in_job == 0 {
        return Ok(None);
    }
    // SAFETY: zeroed plain-data struct; a null job handle queries this process's own job.
    let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
    let ok = unsafe {
        QueryInformationJobObject(
            std::ptr::null_mut(),
            JobObjectExtendedLimitInformation,
            (&mut info as *mut JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
            std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let flags = info.BasicLimitInformation.LimitFlags;
    let set = |flag, v: usize| (flags & flag != 0).then_some(v as u64);
    Ok(Some(JobMemoryLimits {
        job_bytes: set(JOB_OBJECT_LIMIT_JOB_MEMORY, info.JobMemoryLimit),
        process_bytes: set(JOB_OBJECT_LIMIT_PROCESS_MEMORY, info.ProcessMemoryLimit),
    }))
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

    #[test]
    fn a_job_with_a_memory_limit_is_read_back() {
        use windows_sys::Win32::System::JobObjects::{
            AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_JOB_MEMORY,
            JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
            SetInformationJobObject,
        };
        use windows_sys::Win32::System::Threading::GetCurrentProcess;
        // A fresh test process is in no job, or in the harness's job without a memory limit.
        let before = super::job_memory_limits();
        if super::super::under_wine() {
            // Wine 8 implements jobs in part: it answers for the caller's own job (a null job
            // handle) as if there were none, and a test binary put into a job was followed once
            // by a CreateProcess ERROR_INTERNAL_ERROR in a later test binary. Under Wine only
            // the read path runs; real Windows runs the whole test.
            return;
        }
        let before = before.unwrap();
        assert!(before.is_none_or(|l| l.job_bytes.is_none()), "{before:?}");
        // SAFETY: an unnamed job; limit struct zeroed then filled; this process assigned to it
        // (the job ends with the test process).
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            assert!(!job.is_null());
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_JOB_MEMORY;
            // 1 TiB: real, but never reached by this test binary and its children.
            info.JobMemoryLimit = 1 << 40;
            assert_ne!(
                SetInformationJobObject(
                    job,
                    JobObjectExtendedLimitInformation,
                    (&info as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
                    std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
                ),
                0
            );
            let assigned = AssignProcessToJobObject(job, GetCurrentProcess());
            assert_ne!(assigned, 0, "{}", std::io::Error::last_os_error());
        }
        let after = super::job_memory_limits().unwrap();
        assert_eq!(after.and_then(|l| l.job_bytes), Some(1 << 40));
    }
}
