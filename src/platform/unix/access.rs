//! Whether this process may create files in a directory, asked without writing there: `stat`
//! and `faccessat(W_OK|X_OK, AT_EACCESS)` as the effective uid, gid and groups (the ids an
//! `open(O_CREAT)` is judged by). Used for socket dirs outside the data dir
//! (`uds.socket_dir:<dir>`), where the tool must not write.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Whether this process may create (and remove) names in `dir`, asked without writing there.
#[derive(Debug)]
pub struct DirAccess {
    /// stat(2) of `dir`: (mode, owner uid, owner gid), or its error.
    pub stat: io::Result<(u32, u32, u32)>,
    /// faccessat(W_OK|X_OK, AT_EACCESS) as this process's effective uid, gid and groups (what
    /// an `open(O_CREAT)` there is judged by); ENOTDIR when `dir` is not a directory. None when
    /// stat failed.
    pub create: Option<io::Result<()>>,
    pub uid: u32,
    pub euid: u32,
}

/// stat, then faccessat when `dir` is a directory; the real and effective uid for the report.
pub fn dir_access(dir: &Path) -> DirAccess {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::getuid().as_raw();
    let euid = nix::unistd::geteuid().as_raw();
    let meta = std::fs::metadata(dir);
    let create = match &meta {
        Err(_) => None,
        Ok(m) if !m.is_dir() => Some(Err(io::Error::from_raw_os_error(libc::ENOTDIR))),
        Ok(_) => Some(
            std::ffi::CString::new(dir.as_os_str().as_bytes())
                .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
                .and_then(|c| {
                    // SAFETY: a valid NUL-terminated path; faccessat only reads it.
                    let rc = unsafe {
                        libc::faccessat(
                            libc::AT_FDCWD,
                            c.as_ptr(),
                            libc::W_OK | libc::X_OK,
                            libc::AT_EACCESS,
                        )
                    };
                    if rc == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::last_os_error())
                    }
                }),
        ),
    };
    DirAccess {
        stat: meta.map(|m| (m.mode() & 0o7777, m.uid(), m.gid())),
        create,
        uid,
        euid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_access_reports_the_mode_and_creatability_without_writing() {
        let d = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o2775)).unwrap();
        let a = dir_access(d.path());
        assert_eq!(a.stat.as_ref().unwrap().0, 0o2775);
        assert!(a.create.unwrap().is_ok());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
        let gone = dir_access(&d.path().join("gone"));
        assert_eq!(gone.stat.unwrap_err().raw_os_error(), Some(libc::ENOENT));
        assert!(gone.create.is_none());
    }
}
