//! The mount table: parsers for `/proc/self/mountinfo` and `/proc/mounts` (octal escapes
//! decoded), the longest-mount-point lookup for a path, and the coarse filesystem class
//! (`local`, `windows-drive`, `wsl-share`, …) the backend rules reason about.

use super::{FsClass, HostRoot};

/// One mounted filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_point: String,
    pub fs_type: String,
    /// `C:\`, `drvfsC0`, `/dev/sdc`, `tmpfs`, `none`.
    pub source: String,
    /// Per-mount options followed by the super-block options not already listed.
    pub options: String,
    pub read_only: bool,
}

/// A mount table and the file it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountTable {
    pub entries: Vec<MountEntry>,
    /// `mountinfo` (from `/proc/self/mountinfo`) or `mounts` (from `/proc/mounts`).
    pub format: &'static str,
    /// The host path it was read from.
    pub path: &'static str,
}

pub const MOUNTINFO_PATH: &str = "/proc/self/mountinfo";
pub const MOUNTS_PATH: &str = "/proc/mounts";

/// Read the mount table under `root`: `/proc/self/mountinfo`, else `/proc/mounts`.
/// None when neither can be read.
pub fn read_table(root: &HostRoot) -> Option<MountTable> {
    let read = |path| root.read_bytes(path).ok().map(|b| octal_escaped(&b));
    if let Some(text) = read(MOUNTINFO_PATH) {
        return Some(MountTable {
            entries: parse_mountinfo(&text),
            format: "mountinfo",
            path: MOUNTINFO_PATH,
        });
    }
    let text = read(MOUNTS_PATH)?;
    Some(MountTable {
        entries: parse_proc_mounts(&text),
        format: "mounts",
        path: MOUNTS_PATH,
    })
}

/// The table's bytes as text, each byte that is not UTF-8 (a mount point named in another
/// encoding) written as the kernel writes a space, `\351`: `unescape` turns it back into
/// that byte, so no name is lost to U+FFFD.
fn octal_escaped(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\{b:03o}"));
        }
    }
    out
}

/// Decode the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134`
/// backslash). A backslash not followed by three octal digits is kept as it is. A name that
/// is not UTF-8 comes out as `super::shown` shows a path, with `\xNN` escapes.
pub fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && is_octal_triplet(&bytes[i + 1..i + 4]) {
            let value = bytes[i + 1..i + 4]
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            out.push(value as u8);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    super::shown_bytes(&out)
}

fn is_octal_triplet(digits: &[u8]) -> bool {
    digits.len() == 3 && digits.iter().all(|d| (b'0'..=b'7').contains(d)) && digits[0] <= b'3'
}

/// Parse `/proc/self/mountinfo`:
/// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`.
/// Malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines().filter_map(parse_mountinfo_line).collect()
}

fn parse_mountinfo_line(line: &str) -> Option<MountEntry> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let separator = fields.iter().position(|f| *f == "-")?;
    if separator < 6 || fields.len() < separator + 3 {
        return None;
    }
    let mount_options = fields[5];
    let fs_type = unescape(fields[separator + 1]);
    let source = unescape(fields[separator + 2]);
    let super_options = fields.get(separator + 3).copied().unwrap_or("");
    let read_only = has_option(mount_options, "ro") || has_option(super_options, "ro");
    Some(MountEntry {
        mount_point: unescape(fields[4]),
        fs_type,
        source,
        options: unescape(&merge_options(mount_options, super_options)),
        read_only,
    })
}

/// Parse `/proc/mounts` (fstab format): `source mount_point type options dump pass`.
pub fn parse_proc_mounts(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 {
                return None;
            }
            Some(MountEntry {
                source: unescape(fields[0]),
                mount_point: unescape(fields[1]),
                fs_type: unescape(fields[2]),
                options: unescape(fields[3]),
                read_only: has_option(fields[3], "ro"),
            })
        })
        .collect()
}

/// Per-mount options, then each super-block option not already present.
fn merge_options(mount_options: &str, super_options: &str) -> String {
    let mut merged: Vec<&str> = mount_options.split(',').filter(|o| !o.is_empty()).collect();
    for option in super_options.split(',').filter(|o| !o.is_empty()) {
        let conflicts =
            matches!(option, "rw" | "ro") && merged.iter().any(|m| matches!(*m, "rw" | "ro"));
        if !conflicts && !merged.contains(&option) {
            merged.push(option);
        }
    }
    merged.join(",")
}

/// True when `options` (comma-separated; 9p packs `aname=drvfs;path=C:` into one) holds `wanted`.
pub fn has_option(options: &str, wanted: &str) -> bool {
    options.split([',', ';']).any(|o| o == wanted)
}

/// The mount `path` lives on: the longest mount point that is `path` or a parent of it on
/// component boundaries (`/mnt/c` does not contain `/mnt/cdrom`). Of equal mount points the
/// later entry wins (it is mounted over the earlier one).
pub fn longest_mount_for<'a>(path: &str, entries: &'a [MountEntry]) -> Option<&'a MountEntry> {
    let mut best: Option<&MountEntry> = None;
    for entry in entries {
        if !contains_path(&entry.mount_point, path) {
            continue;
        }
        let better = match best {
            None => true,
            Some(b) => trimmed(&entry.mount_point).len() >= trimmed(&b.mount_point).len(),
        };
        if better {
            best = Some(entry);
        }
    }
    best
}

fn trimmed(mount_point: &str) -> &str {
    let t = mount_point.trim_end_matches('/');
    if t.is_empty() { "/" } else { t }
}

fn contains_path(mount_point: &str, path: &str) -> bool {
    let mp = trimmed(mount_point);
    if mp == "/" {
        return path.starts_with('/');
    }
    let path = path.trim_end_matches('/');
    path == mp
        || path
            .strip_prefix(mp)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The class of a filesystem from its type, mount source and options.
pub fn classify(fs_type: &str, source: &str, options: &str) -> FsClass {
    let source_lower = source.to_ascii_lowercase();
    if is_wsl_share_source(&source_lower) {
        return FsClass::WslShare;
    }
    let fs_type = fs_type.to_ascii_lowercase();
    match fs_type.as_str() {
        "drvfs" => FsClass::WindowsDrive,
        "9p" | "9p2000" | "9p2000.l" if has_option(options, "aname=drvfs") => FsClass::WindowsDrive,
        "virtiofs" if source_lower.starts_with("drvfs") => FsClass::WindowsDrive,
        "ext2" | "ext3" | "ext4" | "xfs" | "btrfs" | "zfs" | "f2fs" | "apfs" | "hfs"
        | "hfsplus" | "ntfs" | "ntfs3" | "jfs" | "reiserfs" | "bcachefs" | "vfat" | "exfat"
        | "msdos" | "squashfs" | "iso9660" | "erofs" => FsClass::Local,
        "nfs" | "nfs4" | "cifs" | "smb3" | "smbfs" | "smb2" | "ceph" | "afs" | "lustre"
        | "glusterfs" => FsClass::Network,
        "tmpfs" | "ramfs" | "devtmpfs" => FsClass::Tmpfs,
        "overlay" | "overlayfs" | "aufs" => FsClass::Overlay,
        "fuse" | "fuseblk" => FsClass::Fuse,
        t if t.starts_with("fuse.") => FsClass::Fuse,
        _ => FsClass::Unknown,
    }
}

/// `\\wsl$\…` or `\\wsl.localhost\…` (either slash direction), lower-cased input.
fn is_wsl_share_source(source_lower: &str) -> bool {
    let unified = source_lower.replace('/', "\\");
    unified.starts_with("\\\\wsl$") || unified.starts_with("\\\\wsl.localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
27 1 254:0 / / rw,relatime - ext4 /dev/sdc rw,discard,errors=remount-ro,data=ordered
60 27 0:50 / /mnt/wsl rw,relatime shared:1 - tmpfs none rw
70 27 0:60 / /mnt/c rw,noatime - 9p C:\\134 rw,aname=drvfs;path=C:\\;uid=1000,cache=5,trans=fd
71 27 0:61 / /mnt/cdrom ro,relatime - iso9660 /dev/sr0 ro
72 27 0:62 / /mnt/my\\040disk rw - ext4 /dev/sdd rw
73 27 0:63 /sub /mnt/tab\\011x\\012y ro master:3 - tmpfs tmp\\134fs rw,size=10k
";

    #[test]
    fn parses_mountinfo_fields_and_merges_options() {
        let e = parse_mountinfo(MOUNTINFO);
        assert_eq!(e.len(), 6);
        assert_eq!(e[0].mount_point, "/");
        assert_eq!(e[0].fs_type, "ext4");
        assert_eq!(e[0].source, "/dev/sdc");
        assert_eq!(
            e[0].options,
            "rw,relatime,discard,errors=remount-ro,data=ordered"
        );
        assert!(!e[0].read_only);
        assert_eq!(e[2].source, "C:\\");
        assert!(e[2].options.contains("aname=drvfs;path=C:\\;uid=1000"));
        assert!(e[3].read_only);
        // mount options say ro, super options rw: read-only, and `rw` is not appended.
        assert!(e[5].read_only);
        assert_eq!(e[5].options, "ro,size=10k");
    }

    #[test]
    fn decodes_octal_escapes() {
        let e = parse_mountinfo(MOUNTINFO);
        assert_eq!(e[4].mount_point, "/mnt/my disk");
        assert_eq!(e[5].mount_point, "/mnt/tab\tx\ny");
        assert_eq!(e[5].source, "tmp\\fs");
        assert_eq!(unescape("a\\040b\\134c"), "a b\\c");
        assert_eq!(unescape("C:\\;x"), "C:\\;x", "a lone backslash stays");
        assert_eq!(unescape("end\\04"), "end\\04", "truncated escape stays");
        assert_eq!(unescape("\\999"), "\\999");
    }

    #[test]
    fn a_mount_point_that_is_not_utf8_keeps_its_bytes_escaped() {
        let raw = b"74 27 0:64 / /mnt/caf\xE9 rw - tmpfs none rw\n";
        let e = parse_mountinfo(&octal_escaped(raw));
        assert_eq!(e[0].mount_point, "/mnt/caf\\xE9");
        // The lookup gives the data dir in the same form.
        assert_eq!(unescape("/mnt/caf\\351"), "/mnt/caf\\xE9");
        let found = longest_mount_for("/mnt/caf\\xE9/x", &e).map(|m| m.fs_type.as_str());
        assert_eq!(found, Some("tmpfs"));
    }

    #[test]
    fn skips_malformed_mountinfo_lines() {
        assert!(parse_mountinfo("garbage\n1 2 3\n27 1 254:0 / / rw - ext4\n").is_empty());
    }

    #[test]
    fn parses_proc_mounts() {
        let text = "C:\\134 /mnt/c drvfs rw,noatime,uid=1000,gid=1000,case=off 0 0\n\
                    /dev/sdb /mnt/usb\\040stick vfat ro,relatime 0 0\nshort line\n";
        let e = parse_proc_mounts(text);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].source, "C:\\");
        assert_eq!(e[0].mount_point, "/mnt/c");
        assert_eq!(e[0].fs_type, "drvfs");
        assert!(!e[0].read_only);
        assert_eq!(e[1].mount_point, "/mnt/usb stick");
        assert!(e[1].read_only);
    }

    #[test]
    fn longest_mount_respects_component_boundaries_and_overmounts() {
        let mut e = parse_mountinfo(MOUNTINFO);
        let at = |p: &str, e: &[MountEntry]| longest_mount_for(p, e).map(|m| m.mount_point.clone());
        assert_eq!(at("/mnt/c/Users/me", &e).as_deref(), Some("/mnt/c"));
        assert_eq!(at("/mnt/c", &e).as_deref(), Some("/mnt/c"));
        assert_eq!(at("/mnt/c/", &e).as_deref(), Some("/mnt/c"));
        assert_eq!(at("/mnt/cdrom/x", &e).as_deref(), Some("/mnt/cdrom"));
        assert_eq!(at("/mnt/cd", &e).as_deref(), Some("/"));
        assert_eq!(at("/home/user", &e).as_deref(), Some("/"));
        assert_eq!(at("/mnt/my disk/db", &e).as_deref(), Some("/mnt/my disk"));
        assert_eq!(at("relative", &e), None);
        // An over-mount of /mnt/c: the later entry wins.
        e.push(MountEntry {
            mount_point: "/mnt/c".into(),
            fs_type: "tmpfs".into(),
            source: "none".into(),
            options: "rw".into(),
            read_only: false,
        });
        assert_eq!(
            longest_mount_for("/mnt/c/x", &e).map(|m| m.fs_type.as_str()),
            Some("tmpfs")
        );
    }

    #[test]
    fn classifies_filesystems() {
        use FsClass::*;
        assert_eq!(classify("drvfs", "C:\\", "rw,noatime"), WindowsDrive);
        assert_eq!(
            classify("9p", "C:\\", "rw,aname=drvfs;path=C:\\;uid=1000,cache=5"),
            WindowsDrive
        );
        assert_eq!(
            classify("9p", "drivers", "ro,aname=drivers;fmask=222"),
            Unknown
        );
        assert_eq!(classify("9p", "tools", "ro,aname=tools;fmask=022"), Unknown);
        assert_eq!(classify("virtiofs", "drvfsC0", "rw,relatime"), WindowsDrive);
        assert_eq!(classify("virtiofs", "myshare", "rw"), Unknown);
        assert_eq!(classify("cifs", "\\\\wsl$\\Ubuntu", "rw"), WslShare);
        assert_eq!(
            classify("drvfs", "\\\\wsl.localhost\\Debian", "rw"),
            WslShare
        );
        assert_eq!(classify("cifs", "//server/share", "rw"), Network);
        assert_eq!(classify("nfs4", "srv:/x", "rw"), Network);
        assert_eq!(classify("ext4", "/dev/sdc", "rw"), Local);
        assert_eq!(classify("ntfs3", "/dev/sdb1", "rw"), Local);
        assert_eq!(classify("fuse.sshfs", "me@h:", "rw"), Fuse);
        assert_eq!(classify("fuseblk", "/dev/sdb1", "rw"), Fuse);
        assert_eq!(classify("tmpfs", "none", "rw"), Tmpfs);
        assert_eq!(classify("overlay", "overlay", "rw,lowerdir=/a"), Overlay);
        assert_eq!(classify("rootfs", "rootfs", "ro"), Unknown);
        assert!(has_option("rw,aname=drvfs;path=C:", "aname=drvfs"));
        assert!(!has_option("rw,aname=drvfsx", "aname=drvfs"));
    }

    #[test]
    fn reads_the_live_mount_table() {
        let Some(table) = read_table(&HostRoot::live()) else {
            println!("skipped: no /proc mount table on this OS");
            return;
        };
        assert!(
            table.entries.iter().any(|e| e.mount_point == "/"),
            "no root mount in {table:?}"
        );
        assert!(
            longest_mount_for("/proc/self", &table.entries).is_some_and(|m| m.fs_type == "proc")
        );
    }
}
