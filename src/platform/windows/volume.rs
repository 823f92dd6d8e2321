//! The volume a path lives on: its root (`GetVolumePathNameW`), file system name and flags
//! (`GetVolumeInformationW`: NTFS, ReFS, FAT32, exFAT…), drive type (`GetDriveTypeW`: a
//! mapped network drive is `DRIVE_REMOTE`), free space (`GetDiskFreeSpaceExW`), and whether
//! Win32 long paths are enabled (`LongPathsEnabled`).

use super::{from_wide, wide};
use std::io;
use std::path::Path;
use windows_sys::Win32::Storage::FileSystem::{
    GetDiskFreeSpaceExW, GetDriveTypeW, GetVolumeInformationW, GetVolumePathNameW,
};

/// `FILE_READ_ONLY_VOLUME` in the file-system flags of GetVolumeInformationW (winnt.h).
const FILE_READ_ONLY_VOLUME: u32 = 0x0008_0000;

/// What Windows says about the volume of a path.
#[derive(Clone, Debug, Default)]
pub struct VolumeFacts {
    /// `C:\`, `\\server\share\`.
    pub root: String,
    /// `NTFS`, `ReFS`, `FAT32`, `exFAT`, `9P` (a `\\wsl$` share)…; None when not answered.
    pub fs_name: Option<String>,
    /// `fixed`, `removable`, `remote`, `cdrom`, `ramdisk`, `unknown`, `no-root-dir`.
    pub drive_type: &'static str,
    pub read_only: Option<bool>,
    pub free_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    /// The error name of the first call that failed, if any.
    pub errno: Option<String>,
}

/// Query the volume of `path` (which must exist).
pub fn volume_of(path: &Path) -> VolumeFacts {
    let mut facts = VolumeFacts {
        drive_type: "unknown",
        ..VolumeFacts::default()
    };
    let p = wide(path.as_os_str());
    let mut root = vec![0u16; 1024];
    // SAFETY: NUL-terminated input; output buffer length passed.
    if unsafe { GetVolumePathNameW(p.as_ptr(), root.as_mut_ptr(), root.len() as u32) } == 0 {
        facts.errno = Some(crate::errno::io_error_name(&io::Error::last_os_error()));
        return facts;
    }
    facts.root = from_wide(&root);
    let root_w = wide(facts.root.as_ref());
    // SAFETY: NUL-terminated root path.
    facts.drive_type = match unsafe { GetDriveTypeW(root_w.as_ptr()) } {
        1 => "no-root-dir",
        2 => "removable",
        3 => "fixed",
        4 => "remote",
        5 => "cdrom",
        6 => "ramdisk",
        _ => "unknown",
    };
    let mut fs_name = vec![0u16; 64];
    let mut flags = 0u32;
    // SAFETY: NUL-terminated root; unused outputs are null; fs_name length passed.
    let ok = unsafe {
        GetVolumeInformationW(
            root_w.as_ptr(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut flags,
            fs_name.as_mut_ptr(),
            fs_name.len() as u32,
        )
    };
    if ok != 0 {
        facts.fs_name = Some(from_wide(&fs_name));
        facts.read_only = Some(flags & FILE_READ_ONLY_VOLUME != 0);
    } else {
        facts.errno = Some(crate::errno::io_error_name(&io::Error::last_os_error()));
    }
    let (mut free, mut total) = (0u64, 0u64);
    // SAFETY: NUL-terminated path; outputs valid for writes; the third is optional.
    let ok =
        unsafe { GetDiskFreeSpaceExW(p.as_ptr(), &mut free, &mut total, std::ptr::null_mut()) };
    if ok != 0 {
        facts.free_bytes = Some(free);
        facts.total_bytes = Some(total);
    } else if facts.errno.is_none() {
        facts.errno = Some(crate::errno::io_error_name(&io::Error::last_os_error()));
    }
    facts
}

/// Free and total bytes available to this user at `path`.
pub fn free_space(path: &Path) -> io::Result<(u64, u64)> {
    let p = wide(path.as_os_str());
    let (mut free, mut total) = (0u64, 0u64);
    // SAFETY: as in volume_of.
    let ok =
        unsafe { GetDiskFreeSpaceExW(p.as_ptr(), &mut free, &mut total, std::ptr::null_mut()) };
    if ok != 0 {
        Ok((free, total))
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `HKLM\SYSTEM\CurrentControlSet\Control\FileSystem\LongPathsEnabled`: Some(true) when 1,
/// Some(false) when 0 or absent (the default), None when it could not be read.
pub fn long_paths_enabled() -> (Option<bool>, &'static str) {
    const KEY: &str = "SYSTEM\\CurrentControlSet\\Control\\FileSystem";
    const SOURCE: &str = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\FileSystem\\LongPathsEnabled";
    match super::registry::dword(super::registry::Hive::LocalMachine, KEY, "LongPathsEnabled") {
        Ok(v) => (Some(v == 1), SOURCE),
        Err(2) => (Some(false), SOURCE),
        Err(_) => (None, SOURCE),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_temp_dir_is_on_a_volume_with_a_name_and_free_space() {
        let dir = tempfile::tempdir().unwrap();
        let v = super::volume_of(dir.path());
        assert!(!v.root.is_empty(), "{v:?}");
        assert!(v.fs_name.as_deref().is_some_and(|n| !n.is_empty()), "{v:?}");
        assert!(v.free_bytes.is_some_and(|f| f > 0), "{v:?}");
    }
}
