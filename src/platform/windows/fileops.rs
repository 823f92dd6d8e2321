//! Windows file operations for the `fileops` probe: a rename that refuses an existing name
//! (`MoveFileExW` without `MOVEFILE_REPLACE_EXISTING`, the twin of `renameat2(RENAME_NOREPLACE)`),
//! preallocation (`SetFileInformationByHandle(FileAllocationInfo)`, the twin of `fallocate`),
//! and free space (`GetDiskFreeSpaceExW`).

use super::wide;
use std::fs::File;
use std::io;
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use windows_sys::Win32::Storage::FileSystem::{
    FILE_ALLOCATION_INFO, FileAllocationInfo, MoveFileExW, SetFileInformationByHandle,
};

/// Rename `from` to `to`, failing with ERROR_ALREADY_EXISTS when `to` exists.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    let (f, t) = (wide(from.as_os_str()), wide(to.as_os_str()));
    // SAFETY: two NUL-terminated paths; flags 0 = same volume, never replace.
    if unsafe { MoveFileExW(f.as_ptr(), t.as_ptr(), 0) } != 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reserve `len` bytes of disk for `file` (allocation size, not end of file).
pub fn preallocate(file: &File, len: u64) -> io::Result<()> {
    let info = FILE_ALLOCATION_INFO {
        AllocationSize: len as i64,
    };
    // SAFETY: a valid handle and a FILE_ALLOCATION_INFO of the size passed.
    let ok = unsafe {
        SetFileInformationByHandle(
            file.as_raw_handle() as _,
            FileAllocationInfo,
            (&info as *const FILE_ALLOCATION_INFO).cast(),
            std::mem::size_of::<FILE_ALLOCATION_INFO>() as u32,
        )
    };
    if ok != 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// (free bytes for this user, total bytes).
pub fn space(path: &Path) -> io::Result<(u64, u64)> {
    super::volume::free_space(path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn noreplace_refuses_an_existing_name_and_preallocation_works() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&c, b"c").unwrap();
        super::rename_noreplace(&a, &b).unwrap();
        let e = super::rename_noreplace(&b, &c).unwrap_err();
        assert_eq!(
            crate::errno::meaning(&crate::errno::io_error_name(&e)),
            "EEXIST"
        );
        let f = std::fs::File::create(d.path().join("p")).unwrap();
        match super::preallocate(&f, 1 << 20) {
            Ok(()) => {}
            // Wine 8 does not implement FileAllocationInfo (ERROR_CALL_NOT_IMPLEMENTED, 120);
            // Windows has since Vista.
            Err(e) if super::super::under_wine() && e.raw_os_error() == Some(120) => {}
            Err(e) => panic!("preallocate: {e}"),
        }
        assert!(super::space(d.path()).unwrap().0 > 0);
    }
}
