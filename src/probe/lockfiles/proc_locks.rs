//! Reading Linux `/proc/locks`: the parser (pure) and the match of a file's device and inode
//! against it, which names the process holding a lock without touching the file.
//!
//! Line format (`fs/locks.c`, `lock_get_status`), one lock per line, blocked waiters after `->`:
//! `1: FLOCK  ADVISORY  WRITE 1234 08:02:131 0 EOF` — kind, advisory/mandatory (or lease
//! state), access, pid (`-1` for OFD locks), `MAJOR:MINOR:INODE` with hex major/minor.

use super::Holder;

/// One line of `/proc/locks`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcLock {
    /// `FLOCK`, `POSIX`, `OFDLCK`, `LEASE`, `DELEG`, as printed.
    pub kind: String,
    /// `WRITE`, `READ` (or `UNLCK` for a lease being broken).
    pub access: String,
    /// None for OFD locks (`-1`) and holders outside our pid namespace (`0`).
    pub pid: Option<i32>,
    pub major: u32,
    pub minor: u32,
    pub inode: u64,
    /// A process waiting for the lock (`->` lines), not holding it.
    pub waiting: bool,
}

impl ProcLock {
    /// The lock family as reported in observations.
    pub fn lock_type(&self) -> String {
        match self.kind.as_str() {
            "FLOCK" => "flock".into(),
            "POSIX" => "posix".into(),
            "OFDLCK" => "ofd".into(),
            "LEASE" => "lease".into(),
            "DELEG" => "delegation".into(),
            other => other.to_ascii_lowercase(),
        }
    }
}

/// Every lock line of `/proc/locks`; lines that do not parse (e.g. `<none>` inodes) are skipped.
pub fn parse(text: &str) -> Vec<ProcLock> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<ProcLock> {
    let mut tokens = line.split_whitespace();
    let ordinal = tokens.next()?;
    if !ordinal.ends_with(':') {
        return None;
    }
    let mut kind = tokens.next()?;
    let waiting = kind == "->";
    if waiting {
        kind = tokens.next()?;
    }
    let rest: Vec<&str> = tokens.collect();
    let dev_at = rest.iter().position(|t| t.matches(':').count() == 2)?;
    if dev_at < 2 {
        return None;
    }
    let pid: i32 = rest[dev_at - 1].parse().ok()?;
    let mut dev = rest[dev_at].split(':');
    let major = u32::from_str_radix(dev.next()?, 16).ok()?;
    let minor = u32::from_str_radix(dev.next()?, 16).ok()?;
    let inode = dev.next()?.parse().ok()?;
    Some(ProcLock {
        kind: kind.to_string(),
        access: rest[dev_at - 2].to_string(),
        pid: (pid > 0).then_some(pid),
        major,
        minor,
        inode,
        waiting,
    })
}

/// The holder of a lock on the file with this device and inode. An exact device match is
/// used first; a lock on the same inode number under another device number (btrfs subvolumes
/// report an anonymous `st_dev`) only counts when its process has the file open (`has_open`).
pub fn holder_of(
    locks: &[ProcLock],
    (major, minor, inode): (u32, u32, u64),
    command: &dyn Fn(i32) -> Option<String>,
    has_open: &dyn Fn(i32) -> bool,
) -> Option<Holder> {
    let held = || locks.iter().filter(|l| !l.waiting && l.inode == inode);
    let exact = held().find(|l| l.major == major && l.minor == minor);
    let (lock, evidence) = match exact {
        Some(l) => (l, "/proc/locks"),
        None => (
            held().find(|l| l.pid.is_some_and(has_open))?,
            "/proc/locks (same inode, file open by the holder)",
        ),
    };
    Some(Holder {
        pid: lock.pid,
        command: lock.pid.and_then(command),
        lock_type: lock.lock_type(),
        mode: lock.access.to_ascii_lowercase(),
        evidence: evidence.into(),
    })
}

/// A process's command name: `/proc/PID/comm`, else the first word of its cmdline.
pub fn command_of(pid: i32, read: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(comm) = read(&format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
    {
        return Some(comm);
    }
    let cmdline = read(&format!("/proc/{pid}/cmdline"))?;
    let first = cmdline.split('\0').next()?.rsplit('/').next()?.to_string();
    (!first.is_empty()).then_some(first)
}

/// Whether process `pid` has `path` open (one of `/proc/PID/fd/*` links to it). Live host only.
pub fn has_open(pid: i32, path: &std::path::Path) -> bool {
    let Ok(wanted) = std::fs::canonicalize(path) else {
        return false;
    };
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    entries
        .flatten()
        .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
1: POSIX  ADVISORY  WRITE 23709 fe:00:10011074 0 EOF
1: -> POSIX  ADVISORY  WRITE 23800 fe:00:10011074 0 EOF
2: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF
3: OFDLCK ADVISORY  READ  -1 103:02:131 0 EOF
4: LEASE  ACTIVE    READ 99 08:02:77 0 EOF
5: POSIX  ADVISORY  WRITE 5 <none>:0 0 EOF
garbage line
";

    #[test]
    fn parses_every_kind_of_line_with_hex_device_numbers() {
        let locks = parse(SAMPLE);
        assert_eq!(locks.len(), 5);
        assert_eq!(
            locks[0],
            ProcLock {
                kind: "POSIX".into(),
                access: "WRITE".into(),
                pid: Some(23709),
                major: 0xfe,
                minor: 0,
                inode: 10011074,
                waiting: false
            }
        );
        assert!(locks[1].waiting);
        assert_eq!(locks[1].pid, Some(23800));
        assert_eq!(
            (
                locks[2].kind.as_str(),
                locks[2].major,
                locks[2].minor,
                locks[2].inode
            ),
            ("FLOCK", 0, 0x2f, 5678)
        );
        assert_eq!(
            (
                locks[3].lock_type(),
                locks[3].pid,
                locks[3].major,
                locks[3].access.as_str()
            ),
            ("ofd".into(), None, 0x103, "READ")
        );
        assert_eq!(locks[4].lock_type(), "lease");
    }

    fn no_command(_: i32) -> Option<String> {
        None
    }

    #[test]
    fn finds_the_holder_by_device_and_inode_never_a_waiter() {
        let locks = parse(SAMPLE);
        let cmd = |pid: i32| Some(format!("cmd{pid}"));
        let h = holder_of(&locks, (0xfe, 0, 10011074), &cmd, &|_| false).unwrap();
        assert_eq!(
            (
                h.pid,
                h.command.as_deref(),
                h.lock_type.as_str(),
                h.mode.as_str()
            ),
            (Some(23709), Some("cmd23709"), "posix", "write")
        );
        assert_eq!(h.evidence, "/proc/locks");
        let flock = holder_of(&locks, (0, 0x2f, 5678), &no_command, &|_| false).unwrap();
        assert_eq!((flock.pid, flock.lock_type.as_str()), (Some(1234), "flock"));
        // Same inode number on another device: not a match unless the holder has it open.
        assert_eq!(
            holder_of(&locks, (8, 2, 5678), &no_command, &|_| false),
            None
        );
        let via_fd = holder_of(&locks, (8, 2, 5678), &no_command, &|pid| pid == 1234).unwrap();
        assert_eq!(via_fd.pid, Some(1234));
        assert!(via_fd.evidence.contains("open by the holder"));
        // Only waiters on an inode: nobody holds it as far as this line goes.
        let waiters = parse("1: -> FLOCK  ADVISORY  WRITE 7 08:02:9 0 EOF\n");
        assert_eq!(holder_of(&waiters, (8, 2, 9), &no_command, &|_| true), None);
    }

    #[test]
    fn an_ofd_holder_has_no_pid() {
        let locks = parse(SAMPLE);
        let h = holder_of(&locks, (0x103, 2, 131), &|_| Some("never".into()), &|_| {
            false
        })
        .unwrap();
        assert_eq!(
            (h.pid, h.command, h.lock_type.as_str(), h.mode.as_str()),
            (None, None, "ofd", "read")
        );
    }

    #[test]
    fn command_comes_from_comm_then_cmdline() {
        let files = |p: &str| match p {
            "/proc/1/comm" => Some("milvus\n".to_string()),
            "/proc/2/comm" => Some("\n".to_string()),
            "/proc/2/cmdline" => Some("/usr/bin/python3\0-m\0milvus_lite\0".to_string()),
            _ => None,
        };
        assert_eq!(command_of(1, &files).as_deref(), Some("milvus"));
        assert_eq!(command_of(2, &files).as_deref(), Some("python3"));
        assert_eq!(command_of(3, &files), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_its_own_open_file_open() {
        let f = tempfile::NamedTempFile::new().unwrap();
        assert!(has_open(std::process::id() as i32, f.path()));
        assert!(!has_open(
            std::process::id() as i32,
            std::path::Path::new("/nonexistent")
        ));
    }
}
