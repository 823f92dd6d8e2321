//! Who holds a TCP port (Linux): parses `/proc/net/tcp` and `/proc/net/tcp6` into socket
//! entries, and maps socket inodes to processes by scanning `/proc/<pid>/fd/*` links
//! (`socket:[<inode>]`), bounded by a deadline. Parsers are pure; the scan reads a `/proc`
//! root given by the caller so tests can point it at a fake tree.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::Instant;

/// Kernel TCP state `TCP_LISTEN` as printed in `/proc/net/tcp` (`0A`).
pub const STATE_LISTEN: u8 = 0x0A;
/// Kernel TCP state `TCP_CLOSE` (`07`): a socket that is bound but neither listening nor connected.
pub const STATE_CLOSE: u8 = 0x07;
/// Kernel TCP state `TCP_TIME_WAIT` (`06`): the end of a closed connection that closed first;
/// it keeps its local port, owned by no descriptor, until it expires (60 s).
pub const STATE_TIME_WAIT: u8 = 0x06;

/// One row of `/proc/net/tcp` or `/proc/net/tcp6`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketEntry {
    pub local: IpAddr,
    pub port: u16,
    pub state: u8,
    pub uid: u32,
    pub inode: u64,
}

/// A process holding a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    /// `/proc/<pid>/comm`, when readable.
    pub command: Option<String>,
}

/// Result of scanning `/proc/*/fd` for socket inodes.
#[derive(Debug, Default)]
pub struct OwnerScan {
    pub owners: HashMap<u64, Owner>,
    /// False when the deadline stopped the scan before every process was looked at.
    pub complete: bool,
    /// Processes whose fd directory could not be read (other users' processes when not root).
    pub unreadable_processes: usize,
}

/// Parse an address column of `/proc/net/tcp{,6}` (`0100007F:1F90`). The kernel prints the
/// address as 32-bit words in host byte order (`%08X` of the raw `__be32`), the port in hex.
pub fn parse_address(column: &str) -> Option<(IpAddr, u16)> {
    let (addr_hex, port_hex) = column.split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let chunk = addr_hex.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(chunk, 16).ok()?.to_ne_bytes())
    };
    let ip = match addr_hex.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((ip, port))
}

/// Parse the text of `/proc/net/tcp` or `/proc/net/tcp6`; malformed rows are skipped.
pub fn parse_socket_table(text: &str) -> Vec<SocketEntry> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 {
                return None;
            }
            let (local, port) = parse_address(cols[1])?;
            Some(SocketEntry {
                local,
                port,
                state: u8::from_str_radix(cols[3], 16).ok()?,
                uid: cols[7].parse().ok()?,
                inode: cols[9].parse().ok()?,
            })
        })
        .collect()
}

/// True when a socket bound to `local` can make a bind on 127.0.0.1 or [::1] fail:
/// the loopback addresses themselves, the wildcards, and their v4-mapped forms.
pub fn conflicts_with_loopback(local: &IpAddr) -> bool {
    match local {
        IpAddr::V4(v4) => *v4 == Ipv4Addr::LOCALHOST || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4 == Ipv4Addr::LOCALHOST || v4.is_unspecified())
        }
    }
}

/// The socket most likely to hold `port` on loopback: a listener first, else any other
/// bound socket (state CLOSE = bound, not listening). Entries with inode 0 are not owned
/// by any file descriptor (TIME_WAIT and the like) and are ignored.
pub fn holder_of_port(entries: &[SocketEntry], port: u16) -> Option<&SocketEntry> {
    let candidates = || {
        entries
            .iter()
            .filter(|e| e.port == port && e.inode != 0 && conflicts_with_loopback(&e.local))
    };
    candidates()
        .find(|e| e.state == STATE_LISTEN)
        .or_else(|| candidates().find(|e| e.state == STATE_CLOSE))
}

/// How many connections in TIME_WAIT keep `port` on a loopback or wildcard address: what
/// holds a port no process has open (a bind over them fails unless both ends set
/// SO_REUSEADDR, and a connect's end never does).
pub fn time_wait_on_port(entries: &[SocketEntry], port: u16) -> usize {
    entries
        .iter()
        .filter(|e| {
            e.port == port && e.state == STATE_TIME_WAIT && conflicts_with_loopback(&e.local)
        })
        .count()
}

/// The inode of an fd link target `socket:[12345]`.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Read and parse `<proc_root>/net/tcp` and `<proc_root>/net/tcp6`. Errors only when
/// neither could be read (a missing tcp6 means no IPv6, not an error).
pub fn read_socket_tables(proc_root: &Path) -> std::io::Result<Vec<SocketEntry>> {
    let v4 = std::fs::read_to_string(proc_root.join("net/tcp"));
    let v6 = std::fs::read_to_string(proc_root.join("net/tcp6"));
    match (v4, v6) {
        (Err(e), Err(_)) => Err(e),
        (v4, v6) => {
            let mut entries = v4.map(|t| parse_socket_table(&t)).unwrap_or_default();
            entries.extend(v6.map(|t| parse_socket_table(&t)).unwrap_or_default());
            Ok(entries)
        }
    }
}

/// Find the processes holding the given socket inodes by reading `<proc_root>/<pid>/fd/*`.
/// Stops when every inode is found or when `deadline` passes (then `complete` is false).
pub fn find_socket_owners(proc_root: &Path, wanted: &HashSet<u64>, deadline: Instant) -> OwnerScan {
    let mut scan = OwnerScan {
        complete: true,
        ..OwnerScan::default()
    };
    if wanted.is_empty() {
        return scan;
    }
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        scan.complete = false;
        return scan;
    };
    for entry in dir.flatten() {
        if scan.owners.len() == wanted.len() {
            break;
        }
        if Instant::now() >= deadline {
            scan.complete = false;
            break;
        }
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            scan.unreadable_processes += 1;
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = target.to_str().and_then(socket_inode) else {
                continue;
            };
            if wanted.contains(&inode) && !scan.owners.contains_key(&inode) {
                let command = std::fs::read_to_string(entry.path().join("comm"))
                    .ok()
                    .map(|c| c.trim_end().to_string());
                scan.owners.insert(inode, Owner { pid, command });
            }
        }
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The address column the kernel of this machine would print for an IPv4 address.
    fn v4_column(ip: [u8; 4], port: u16) -> String {
        format!("{:08X}:{:04X}", u32::from_ne_bytes(ip), port)
    }

    #[test]
    fn parses_ipv4_columns_as_the_kernel_prints_them() {
        assert_eq!(
            parse_address(&v4_column([127, 0, 0, 1], 6333)),
            Some(("127.0.0.1".parse().unwrap(), 6333))
        );
        assert_eq!(
            parse_address("00000000:4BE4"),
            Some(("0.0.0.0".parse().unwrap(), 19428))
        );
        #[cfg(target_endian = "little")]
        assert_eq!(
            parse_address("0100007F:18BD"),
            Some(("127.0.0.1".parse().unwrap(), 6333))
        );
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_ipv6_columns_word_by_word() {
        let one = parse_address("00000000000000000000000001000000:1F90").unwrap();
        assert_eq!(one, ("::1".parse().unwrap(), 8080));
        let mapped = parse_address("0000000000000000FFFF00000100007F:0050").unwrap();
        assert_eq!(mapped, ("::ffff:127.0.0.1".parse().unwrap(), 80));
        assert_eq!(
            parse_address("00000000000000000000000000000000:0000")
                .unwrap()
                .0,
            "::".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn rejects_malformed_columns() {
        assert_eq!(parse_address("0100007F"), None);
        assert_eq!(parse_address("0100007:0050"), None);
        assert_eq!(parse_address("XYZ0007F:0050"), None);
        assert_eq!(parse_address("0100007F:GGGG"), None);
    }

    #[test]
    fn parses_a_table_and_skips_the_header_and_garbage() {
        let text = format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
             \x20  0: {} 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 4242 1 0000 100 0 0 10 0\n\
             \x20  1: garbage\n\
             \x20  2: {} 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 77 1 0000 100 0 0 10 0\n",
            v4_column([127, 0, 0, 1], 6333),
            v4_column([0, 0, 0, 0], 5432)
        );
        let rows = parse_socket_table(&text);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            SocketEntry {
                local: "127.0.0.1".parse().unwrap(),
                port: 6333,
                state: STATE_LISTEN,
                uid: 999,
                inode: 4242
            }
        );
        assert_eq!(rows[1].state, STATE_CLOSE);
        assert_eq!(rows[1].port, 5432);
    }

    #[test]
    fn loopback_conflicts_cover_wildcards_and_mapped_forms_only() {
        for a in [
            "127.0.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:0.0.0.0",
        ] {
            assert!(conflicts_with_loopback(&a.parse().unwrap()), "{a}");
        }
        for a in ["192.168.1.5", "127.0.0.2", "fd00::2", "::ffff:10.0.0.1"] {
            assert!(!conflicts_with_loopback(&a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn prefers_a_listener_and_ignores_other_addresses_and_inode_zero() {
        let e = |ip: &str, port, state, inode| SocketEntry {
            local: ip.parse().unwrap(),
            port,
            state,
            uid: 0,
            inode,
        };
        let rows = vec![
            e("10.0.0.5", 6333, STATE_LISTEN, 1),
            e("127.0.0.1", 6333, STATE_CLOSE, 2),
            e("::", 6333, STATE_LISTEN, 3),
            e("127.0.0.1", 6334, 0x06, 0),
        ];
        assert_eq!(holder_of_port(&rows, 6333).map(|r| r.inode), Some(3));
        assert_eq!(holder_of_port(&rows[..2], 6333).map(|r| r.inode), Some(2));
        assert_eq!(holder_of_port(&rows, 6334), None);
        assert_eq!(holder_of_port(&rows, 1), None);
    }

    #[test]
    fn counts_time_wait_ends_on_loopback_and_wildcards_only() {
        let e = |ip: &str, port, state| SocketEntry {
            local: ip.parse().unwrap(),
            port,
            state,
            uid: 0,
            inode: 0,
        };
        let entries = vec![
            e("127.0.0.1", 50060, STATE_TIME_WAIT),
            e("::1", 50060, STATE_TIME_WAIT),
            e("10.0.0.5", 50060, STATE_TIME_WAIT),
            e("127.0.0.1", 50061, STATE_TIME_WAIT),
            e("127.0.0.1", 50060, 0x01),
        ];
        assert_eq!(time_wait_on_port(&entries, 50060), 2);
        assert_eq!(time_wait_on_port(&entries, 6333), 0);
        assert_eq!(holder_of_port(&entries, 50060), None);
    }

    #[test]
    fn reads_socket_inodes_from_fd_links() {
        assert_eq!(socket_inode("socket:[24298]"), Some(24298));
        assert_eq!(socket_inode("pipe:[24298]"), None);
        assert_eq!(socket_inode("socket:[]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn scans_a_fake_proc_tree_for_owners() {
        let root = tempfile::tempdir().unwrap();
        let fd_dir = root.path().join("4711/fd");
        std::fs::create_dir_all(&fd_dir).unwrap();
        std::fs::write(root.path().join("4711/comm"), "qdrant\n").unwrap();
        std::os::unix::fs::symlink("socket:[555]", fd_dir.join("3")).unwrap();
        std::os::unix::fs::symlink("/dev/null", fd_dir.join("0")).unwrap();
        std::fs::create_dir_all(root.path().join("self")).unwrap();
        let wanted: HashSet<u64> = [555, 556].into_iter().collect();
        let scan = find_socket_owners(
            root.path(),
            &wanted,
            Instant::now() + Duration::from_secs(5),
        );
        assert!(scan.complete);
        assert_eq!(
            scan.owners.get(&555),
            Some(&Owner {
                pid: 4711,
                command: Some("qdrant".into())
            })
        );
        assert!(!scan.owners.contains_key(&556));
        let late = find_socket_owners(
            root.path(),
            &wanted,
            Instant::now() - Duration::from_millis(1),
        );
        assert!(!late.complete);
        assert!(late.owners.is_empty());
    }

    #[test]
    fn finds_this_process_as_owner_of_its_own_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let proc_root = Path::new("/proc");
        let Ok(entries) = read_socket_tables(proc_root) else {
            println!("skipped: /proc/net/tcp unreadable here");
            return;
        };
        let holder = holder_of_port(&entries, port).expect("our listener is in /proc/net/tcp");
        assert_eq!(holder.state, STATE_LISTEN);
        let wanted: HashSet<u64> = [holder.inode].into_iter().collect();
        let scan = find_socket_owners(proc_root, &wanted, Instant::now() + Duration::from_secs(5));
        assert_eq!(
            scan.owners.get(&holder.inode).map(|o| o.pid),
            Some(std::process::id())
        );
    }
}
