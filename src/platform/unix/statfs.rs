//! statfs/statvfs of a live path: the filesystem magic (`f_type`, Linux) or type name
//! (`f_fstypename`, macOS), free and total bytes and inodes, the read-only flag; and access(W_OK).

use std::path::Path;

/// What statfs/statvfs said about the filesystem holding a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsStat {
    /// `f_type` (Linux), masked to 32 bits.
    pub magic: Option<u64>,
    /// The type name: from the magic (Linux, when known) or `f_fstypename` (macOS).
    pub type_name: Option<String>,
    /// Bytes available to an unprivileged user (`f_bavail * f_frsize`).
    pub free_bytes: u64,
    pub total_bytes: u64,
    /// Inodes (files) an unprivileged user may still create (`f_favail`), None when the
    /// filesystem has no fixed inode table (it reports `f_files` 0: Btrfs, some FUSE and 9p).
    pub free_inodes: Option<u64>,
    pub total_inodes: Option<u64>,
    /// `ST_RDONLY` in the statvfs flags.
    pub read_only: bool,
}

/// statfs + statvfs of `path`.
// The block counts are u32 on some Unixes (macOS), u64 on Linux: keep the conversions.
#[allow(clippy::useless_conversion)]
pub fn stat(path: &Path) -> std::io::Result<FsStat> {
    use nix::sys::statvfs::{FsFlags, statvfs};
    let vfs = statvfs(path).map_err(std::io::Error::from)?;
    let fragment = u64::from(vfs.fragment_size()).max(1);
    let (magic, type_name) = fs_type(path);
    Ok(FsStat {
        magic,
        type_name,
        free_bytes: u64::from(vfs.blocks_available()).saturating_mul(fragment),
        total_bytes: u64::from(vfs.blocks()).saturating_mul(fragment),
        free_inodes: (vfs.files() > 0).then(|| u64::from(vfs.files_available())),
        total_inodes: (vfs.files() > 0).then(|| u64::from(vfs.files())),
        read_only: vfs.flags().contains(FsFlags::ST_RDONLY),
    })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn fs_type(path: &Path) -> (Option<u64>, Option<String>) {
    match nix::sys::statfs::statfs(path) {
        Ok(st) => {
            let magic = (st.filesystem_type().0 as u64) & 0xFFFF_FFFF;
            (Some(magic), magic_name(magic).map(str::to_string))
        }
        Err(_) => (None, None),
    }
}

#[cfg(target_os = "macos")]
fn fs_type(path: &Path) -> (Option<u64>, Option<String>) {
    // f_fstypename is a NUL-terminated C string; read it directly rather than through a
    // helper that would panic on non-UTF-8 bytes.
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return (None, None);
    };
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid C string and buf a properly sized, writable statfs struct.
    if unsafe { libc::statfs(c_path.as_ptr(), &mut buf) } != 0 {
        return (None, None);
    }
    // SAFETY: the kernel NUL-terminates f_fstypename within its fixed-size array.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.f_fstypename.as_ptr()) };
    (None, Some(name.to_string_lossy().into_owned()))
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn fs_type(_path: &Path) -> (Option<u64>, Option<String>) {
    (None, None)
}

/// The filesystem name of a Linux statfs magic, for the magics that matter here.
/// virtiofs reports the FUSE magic, so `fuse` here may be virtiofs.
pub fn magic_name(magic: u64) -> Option<&'static str> {
    Some(match magic {
        0xEF53 => "ext4",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x6969 => "nfs",
        0x6573_5546 => "fuse",
        0xFF53_4D42 => "cifs",
        0xFE53_4D42 => "smb2",
        0x0102_1997 => "9p",
        0x794C_7630 => "overlay",
        0x2FC1_2FC1 => "zfs",
        0x8584_58F6 => "ramfs",
        0x7371_7368 => "squashfs",
        0x5346_544E => "ntfs",
        0x7366_746E => "ntfs3",
        0xF2F5_2010 => "f2fs",
        0x4d44 => "vfat",
        0x2011_BAB0 => "exfat",
        0x9FA0 => "proc",
        0x6265_6572 => "sysfs",
        0x1CD1 => "devpts",
        0x6367_7270 => "cgroup2",
        0xE0F5_E1E2 => "erofs",
        _ => return None,
    })
}

/// Whether a mount-table type and a statfs-magic name describe the same filesystem
/// (ext2/3/4 share a magic; virtiofs and every fuse.* report the FUSE magic; …).
pub fn type_matches_magic(mount_type: &str, magic_name: &str) -> bool {
    let t = mount_type.to_ascii_lowercase();
    t == magic_name
        || match magic_name {
            "ext4" => matches!(t.as_str(), "ext2" | "ext3"),
            "fuse" => t == "fuseblk" || t == "virtiofs" || t.starts_with("fuse."),
            "nfs" => t == "nfs4",
            "cifs" | "smb2" => matches!(t.as_str(), "cifs" | "smb3" | "smbfs" | "smb2"),
            "tmpfs" => t == "devtmpfs",
            "ntfs" | "ntfs3" => matches!(t.as_str(), "ntfs" | "ntfs3"),
            _ => false,
        }
}

/// access(path, W_OK): Ok(true) when writable, Ok(false) with the errno name when not
/// (`EROFS`, `EACCES`), Err for anything else (the path vanished, …).
pub fn writable(path: &Path) -> Result<(bool, Option<String>), std::io::Error> {
    use nix::errno::Errno;
    use nix::unistd::{AccessFlags, access};
    match access(path, AccessFlags::W_OK) {
        Ok(()) => Ok((true, None)),
        Err(e @ (Errno::EROFS | Errno::EACCES | Errno::EPERM | Errno::ETXTBSY)) => {
            Ok((false, Some(crate::errno::errno_name(e as i32))))
        }
        Err(e) => Err(std::io::Error::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_magics() {
        assert_eq!(magic_name(0xEF53), Some("ext4"));
        assert_eq!(magic_name(0x0102_1997), Some("9p"));
        assert_eq!(magic_name(0x6573_5546), Some("fuse"));
        assert_eq!(magic_name(0x1234_5678), None);
        assert!(type_matches_magic("virtiofs", "fuse"));
        assert!(type_matches_magic("ext3", "ext4"));
        assert!(type_matches_magic("9p", "9p"));
        assert!(!type_matches_magic("tmpfs", "ext4"));
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn stats_live_proc_and_tmp() {
        let proc_stat = stat(Path::new("/proc")).expect("statfs /proc");
        assert_eq!(proc_stat.magic, Some(0x9FA0));
        assert_eq!(proc_stat.type_name.as_deref(), Some("proc"));
        let tmp = std::env::temp_dir();
        let tmp_stat = stat(&tmp).expect("statfs temp dir");
        assert!(tmp_stat.magic.is_some());
        assert!(tmp_stat.total_bytes >= tmp_stat.free_bytes, "{tmp_stat:?}");
        assert!(tmp_stat.total_bytes > 0);
        assert!(
            !tmp_stat.read_only,
            "temp dir should be writable: {tmp_stat:?}"
        );
        assert_eq!(writable(&tmp).expect("access temp dir"), (true, None));
    }

    #[test]
    fn stat_of_a_missing_path_fails_with_enoent() {
        let err = stat(Path::new("/nonexistent/wsl-vecprobe/x")).expect_err("missing path");
        assert_eq!(crate::errno::io_error_name(&err), "ENOENT");
    }
}
