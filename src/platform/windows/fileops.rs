//! Windows file operations for the `fileops` probe: a rename that refuses an existing name
//! (`MoveFileExW` without `MOVEFILE_REPLACE_EXISTING`, the twin of `renameat2(RENAME_NOREPLACE)`),
//! preallocation (`SetFileInformationByHandle(FileAllocationInfo)`, the twin of `fallocate`),
//! free space (`GetDiskFreeSpaceExW`), and a file's identity (`GetFileInformationByHandle`:
//! volume serial and file index, the twin of device and inode), and whether a handle is a
//! disk file at all (`GetFileType`: not `NUL`, a console or a pipe).

use super::wide;
use std::fs::File;
use std::io;
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use windows_sys::Win32::Storage::FileSystem::{
    BY_HANDLE_FILE_INFORMATION, FILE_ALLOCATION_INFO, FILE_FLAG_BACKUP_SEMANTICS, FILE_TYPE_DISK,
    FileAllocationInfo, GetFileInformationByHandle, GetFileType, MoveFileExW,
    SetFileInformationByHandle,
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

/// Whether an open handle is a file or directory on a disk (`FILE_TYPE_DISK`), not a device
/// such as `NUL` or `CONIN$` or a pipe, whose reads may never end or fail oddly.
pub fn is_on_disk(f: &File) -> bool {
    // SAFETY: an open handle.
    unsafe { GetFileType(f.as_raw_handle()) == FILE_TYPE_DISK }
}

/// (volume serial number, file index) of a file or directory: the same for every name of it
/// (`C:\Data`, `c:/data\`, a symlink or junction to it), as (device, inode) is on Unix.
pub fn file_identity(path: &Path) -> io::Result<(u64, u64)> {
    use std::os::windows::fs::OpenOptionsExt;
    // No access rights needed to query; BACKUP_SEMANTICS lets a directory be opened.
    let f = std::fs::OpenOptions::new()
        .access_mode(0)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(path)?;
    // SAFETY: a zeroed plain-data struct the call fills in.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: an open handle and a valid out pointer.
    if unsafe { GetFileInformationByHandle(f.as_raw_handle(), &mut info) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
    Ok((u64::from(info.dwVolumeSerialNumber), index))
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

    #[test]
    fn two_names_of_one_dir_have_one_identity_and_two_dirs_two() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("Data");
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(d.path().join("other")).unwrap();
        let id = super::file_identity(&a).unwrap();
        let other = d.path().join("other");
        let alias = std::path::PathBuf::from(
            a.display().to_string().to_lowercase().replace('\\', "/") + "/",
        );
        assert_eq!(super::file_identity(&alias).unwrap(), id, "{alias:?}");
        assert_ne!(super::file_identity(&other).unwrap(), id);
    }
}
