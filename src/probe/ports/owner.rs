//! Who holds a busy port: the `ports` probe's owner lookup. On Linux one read of
//! /proc/net/tcp{,6} and one deadline-bounded scan of /proc/*/fd for all busy ports at once
//! (`platform::unix::netowner`); on Windows `GetExtendedTcpTable` with the owner's image
//! (`platform::windows::netowner`).

use super::PortCheck;
use std::time::Instant;

/// What the owner lookup found for a port.
#[derive(Default)]
pub(super) struct OwnerInfo {
    pub(super) pid: Option<u32>,
    pub(super) command: Option<String>,
    pub(super) uid: Option<u32>,
    /// `found`, `not-found`, `time-wait`, `not-visible`, `deadline`, `unreadable`, `unsupported`.
    pub(super) lookup: &'static str,
    /// Connections in TIME_WAIT on the port (counted when no socket a process owns holds it).
    pub(super) time_wait: usize,
}

impl OwnerInfo {
    pub(super) fn describe(&self) -> String {
        match (self.pid, self.lookup) {
            (Some(pid), _) => format!(
                "held by pid {pid} ({})",
                self.command.as_deref().unwrap_or("command unreadable")
            ),
            (None, "deadline") if cfg!(windows) => {
                "owner unknown: the deadline passed before GetExtendedTcpTable answered".into()
            }
            (None, "deadline") => {
                "owner unknown: the deadline passed before /proc/*/fd was fully scanned".into()
            }
            (None, "not-visible") => format!(
                "owner unknown: a socket of uid {} holds it (/proc/net/tcp), but no process \
                 visible here has it open (another user's process, or another PID namespace)",
                self.uid
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "?".into())
            ),
            (None, "time-wait") => format!(
                "no process holds it: {} connection(s) on this port closed within the last \
                 {TIME_WAIT_SPAN} and are in TIME_WAIT ({}); the port is free again when they expire",
                self.time_wait,
                if cfg!(windows) {
                    "GetExtendedTcpTable"
                } else {
                    "/proc/net/tcp"
                }
            ),
            (None, "not-found") => "owner unknown: no socket on this port in this network \
                                    namespace's /proc/net/tcp{,6}"
                .into(),
            (None, "no-pid") => {
                "owner unknown: the TCP table lists the socket without an owning pid".into()
            }
            (None, "unreadable") if cfg!(windows) => {
                "owner unknown: GetExtendedTcpTable failed".into()
            }
            (None, "unreadable") => "owner unknown: /proc/net/tcp unreadable".into(),
            _ => "owner lookup not implemented on this OS".into(),
        }
    }
}

/// How long a closed connection's end stays in TIME_WAIT: fixed at 60 s on Linux
/// (TCP_TIMEWAIT_LEN); 240 s by default on Windows (TcpTimedWaitDelay).
const TIME_WAIT_SPAN: &str = if cfg!(windows) { "4 minutes" } else { "minute" };

/// Look up the holder of every busy port: one read of the socket tables, one bounded scan.
#[cfg(target_os = "linux")]
pub(super) fn find_owners(busy: &[PortCheck], deadline: Instant) -> Vec<OwnerInfo> {
    use crate::platform::unix::netowner;
    use std::path::Path;
    let proc_root = Path::new("/proc");
    let Ok(entries) = netowner::read_socket_tables(proc_root) else {
        return busy
            .iter()
            .map(|_| OwnerInfo {
                lookup: "unreadable",
                ..OwnerInfo::default()
            })
            .collect();
    };
    let holders: Vec<Option<&netowner::SocketEntry>> = busy
        .iter()
        .map(|c| netowner::holder_of_port(&entries, c.port))
        .collect();
    let wanted = holders.iter().flatten().map(|h| h.inode).collect();
    let scan = netowner::find_socket_owners(proc_root, &wanted, deadline);
    holders
        .iter()
        .zip(busy)
        .map(|(holder, check)| match holder {
            None => match netowner::time_wait_on_port(&entries, check.port) {
                0 => OwnerInfo {
                    lookup: "not-found",
                    ..OwnerInfo::default()
                },
                time_wait => OwnerInfo {
                    lookup: "time-wait",
                    time_wait,
                    ..OwnerInfo::default()
                },
            },
            Some(h) => match scan.owners.get(&h.inode) {
                Some(o) => OwnerInfo {
                    pid: Some(o.pid),
                    command: o.command.clone(),
                    uid: Some(h.uid),
                    lookup: "found",
                    ..OwnerInfo::default()
                },
                None if !scan.complete => OwnerInfo {
                    uid: Some(h.uid),
                    lookup: "deadline",
                    ..OwnerInfo::default()
                },
                None => OwnerInfo {
                    uid: Some(h.uid),
                    lookup: "not-visible",
                    ..OwnerInfo::default()
                },
            },
        })
        .collect()
}

/// Windows: one `GetExtendedTcpTable` per port (v4 and v6); a listener wins over other
/// states. The table walk can be slow (Wine builds it by scanning /proc), so it runs on a
/// helper thread and is abandoned at the deadline.
#[cfg(windows)]
pub(super) fn find_owners(busy: &[PortCheck], deadline: Instant) -> Vec<OwnerInfo> {
    let ports: Vec<u16> = busy.iter().map(|c| c.port).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = crate::spawn::thread("port-owners", move || {
        let _ = tx.send(ports.iter().map(|p| windows_owner(*p)).collect::<Vec<_>>());
    });
    let left = deadline.saturating_duration_since(Instant::now());
    rx.recv_timeout(left).unwrap_or_else(|_| {
        busy.iter()
            .map(|_| OwnerInfo {
                lookup: "deadline",
                ..OwnerInfo::default()
            })
            .collect()
    })
}

#[cfg(windows)]
fn windows_owner(port: u16) -> OwnerInfo {
    use crate::platform::windows::netowner;
    match netowner::owners_of(port) {
        Err(_) => OwnerInfo {
            lookup: "unreadable",
            ..OwnerInfo::default()
        },
        Ok(owners) => {
            // MIB_TCP_STATE_LISTEN and MIB_TCP_STATE_TIME_WAIT.
            const LISTEN: u32 = 2;
            const TIME_WAIT: u32 = 11;
            let best = owners
                .iter()
                .find(|o| o.state == LISTEN)
                .or_else(|| owners.iter().find(|o| o.state != TIME_WAIT));
            let time_wait = owners.iter().filter(|o| o.state == TIME_WAIT).count();
            match best {
                None if time_wait > 0 => OwnerInfo {
                    lookup: "time-wait",
                    time_wait,
                    ..OwnerInfo::default()
                },
                None => OwnerInfo {
                    lookup: "not-found",
                    ..OwnerInfo::default()
                },
                // pid 0 is the idle process, never an owner: the table did not say.
                Some(o) if o.pid == 0 => OwnerInfo {
                    lookup: "no-pid",
                    ..OwnerInfo::default()
                },
                Some(o) => OwnerInfo {
                    pid: Some(o.pid),
                    command: netowner::image_of(o.pid),
                    uid: None,
                    lookup: "found",
                    ..OwnerInfo::default()
                },
            }
        }
    }
}

#[cfg(not(any(target_os = "linux", windows)))]
pub(super) fn find_owners(busy: &[PortCheck], _deadline: Instant) -> Vec<OwnerInfo> {
    busy.iter()
        .map(|_| OwnerInfo {
            lookup: "unsupported",
            ..OwnerInfo::default()
        })
        .collect()
}
