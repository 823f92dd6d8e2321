//! Resource limits of this process (getrlimit), as the `limits` probe reports them.

use std::io;

/// The resource limits the `limits` probe reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rlimit {
    /// RLIMIT_NOFILE: open file descriptors.
    Nofile,
    /// RLIMIT_AS: address space, bytes.
    AddressSpace,
    /// RLIMIT_MEMLOCK: locked memory, bytes.
    Memlock,
    /// RLIMIT_NPROC: tasks (processes and, on Linux, threads) of this process's real user.
    Nproc,
}

/// (soft, hard); `None` means unlimited (RLIM_INFINITY).
pub fn get(which: Rlimit) -> io::Result<(Option<u64>, Option<u64>)> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid rlimit to write into. The RLIMIT_* constants already carry the
    // resource type each libc expects, so they are passed inline.
    let rc = unsafe {
        match which {
            Rlimit::Nofile => libc::getrlimit(libc::RLIMIT_NOFILE, &mut r),
            Rlimit::AddressSpace => libc::getrlimit(libc::RLIMIT_AS, &mut r),
            Rlimit::Memlock => libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r),
            Rlimit::Nproc => libc::getrlimit(libc::RLIMIT_NPROC, &mut r),
        }
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((finite(r.rlim_cur), finite(r.rlim_max)))
}

/// The online CPUs (`sysconf(_SC_NPROCESSORS_ONLN)`): what `os.cpu_count()` and C++'s
/// `std::thread::hardware_concurrency` return, so what many thread pools are sized by.
pub fn online_cpus() -> Option<u32> {
    // SAFETY: sysconf only reads a system setting.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    u32::try_from(online).ok().filter(|&n| n > 0)
}

// rlim_t is u64 on Linux and macOS but i64 on FreeBSD.
#[allow(clippy::useless_conversion)]
fn finite(v: libc::rlim_t) -> Option<u64> {
    if v == libc::RLIM_INFINITY {
        None
    } else {
        u64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nofile_matches_nix_getrlimit() {
        let (soft, hard) = get(Rlimit::Nofile).unwrap();
        let (s, h) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
        assert_eq!(soft, (s != libc::RLIM_INFINITY).then_some(s));
        assert_eq!(hard, (h != libc::RLIM_INFINITY).then_some(h));
        assert!(soft.is_some(), "RLIMIT_NOFILE is never unlimited on Linux");
    }

    #[test]
    fn infinity_maps_to_none() {
        assert_eq!(finite(libc::RLIM_INFINITY), None);
        assert_eq!(finite(1024), Some(1024));
    }
}
