//! Filesystem calls the `fileops` and `limits` probes need beyond std: rename without
//! replacing (`renameat2(RENAME_NOREPLACE)`), space preallocation (`fallocate`) and
//! `statvfs`. Each returns the OS error untouched so the probe can name the errno.

use std::io;
use std::path::Path;

/// Space on the filesystem holding a path, from statvfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes an unprivileged user may still allocate (`f_bavail * f_frsize`).
    pub free_bytes: u64,
    /// Size of the filesystem (`f_blocks * f_frsize`).
    pub total_bytes: u64,
}

/// statvfs(2) of `path`.
// The block-count and size types are u32 or u64 depending on the platform.
#[allow(clippy::useless_conversion)]
pub fn space(path: &Path) -> io::Result<Space> {
    let st = nix::sys::statvfs::statvfs(path).map_err(io::Error::from)?;
    // f_frsize is the unit of the block counts; some old systems leave it 0 and mean f_bsize.
    let unit = u64::from(match st.fragment_size() {
        0 => st.block_size(),
        n => n,
    });
    Ok(Space {
        free_bytes: u64::from(st.blocks_available()).saturating_mul(unit),
        total_bytes: u64::from(st.blocks()).saturating_mul(unit),
    })
}

/// rename(2) that refuses to replace an existing `to` (EEXIST).
///
/// Uses the raw `renameat2` system call: glibc only wraps it from 2.28 on, and the binary must
/// not need a newer glibc than the hosts it diagnoses. Kernels before 3.15 answer ENOSYS;
/// filesystems that cannot do it answer EINVAL (or EOPNOTSUPP), which is what the probe reports.
#[cfg(target_os = "linux")]
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    let from = c_path(from)?;
    let to = c_path(to)?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Allocate `len` bytes of real disk space for `file` (fallocate mode 0).
///
/// Deliberately not posix_fallocate(3): glibc emulates that by writing a byte into every
/// block when the filesystem says EOPNOTSUPP, which hides the very answer the probe wants.
#[cfg(target_os = "linux")]
pub fn preallocate(file: &std::fs::File, len: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    nix::fcntl::fallocate(file, nix::fcntl::FallocateFlags::empty(), 0, len)
        .map_err(io::Error::from)
}

/// Allocate `len` bytes of real disk space for `file` (posix_fallocate; FreeBSD has no
/// emulation, so EOPNOTSUPP/EINVAL come through).
#[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
pub fn preallocate(file: &std::fs::File, len: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    nix::fcntl::posix_fallocate(file, 0, len).map_err(io::Error::from)
}

#[cfg(target_os = "linux")]
fn c_path(p: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statvfs_of_a_tempdir_reports_nonzero_sizes() {
        let d = tempfile::tempdir().unwrap();
        let s = space(d.path()).unwrap();
        assert!(s.total_bytes > 0);
        assert!(s.free_bytes <= s.total_bytes);
        let missing = space(&d.path().join("missing")).unwrap_err();
        assert_eq!(missing.raw_os_error(), Some(libc::ENOENT));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn rename_noreplace_renames_to_a_new_name_and_refuses_an_existing_one() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&b, b"b").unwrap();
        rename_noreplace(&a, &c).unwrap();
        assert!(!a.exists() && c.exists());
        let err = rename_noreplace(&c, &b).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
        assert_eq!(std::fs::read(&b).unwrap(), b"b");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn preallocate_allocates_real_blocks() {
        use std::os::unix::fs::MetadataExt;
        let d = tempfile::tempdir().unwrap();
        let f = std::fs::File::create(d.path().join("p")).unwrap();
        match preallocate(&f, 1 << 20) {
            Ok(()) => {
                let m = f.metadata().unwrap();
                assert_eq!(m.len(), 1 << 20);
                assert!(m.blocks() * 512 >= 1 << 20, "only {} blocks", m.blocks());
            }
            // tmp on a filesystem without fallocate: the errno must come through untouched.
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EOPNOTSUPP), "{e}"),
        }
    }
}
