//! Probe `ports`: can the default TCP ports of the catalogue's backends be bound on
//! loopback? For every port N it binds (never listens on) 127.0.0.1:N and [::1]:N
//! (IPV6_V6ONLY) with SO_REUSEADDR as servers do, so TIME_WAIT leftovers do not count, and
//! closes at once. On EADDRINUSE it names the holder from /proc (Linux), bounded by the
//! deadline. Emits `port:<N>` with target `loopback:<N>`.
//!
//! Also home of the small socket-error helpers the `loopback` probe shares (errno classes,
//! the WSL2 "every bind() returns ENOSYS" note, the probe-local deadline).

mod owner;

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::observation::{Observation, Status};
use owner::{OwnerInfo, find_owners};
use serde_json::{Value, json};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

pub static PROBE: ProbeDef = ProbeDef {
    name: "ports",
    kind: ProbeKind::Network,
    scope: Scope::Host,
    timeout: Duration::from_millis(1000),
    plan,
    run,
    in_agent: false,
};

/// Time kept back from a probe's deadline so its last observations reach the engine in time.
const DEADLINE_MARGIN: Duration = Duration::from_millis(50);

/// The deadline a probe should work to: its own timeout from now, capped by the run's
/// deadline, minus a small margin.
pub(super) fn probe_deadline(ctx: &ProbeContext, timeout: Duration) -> Instant {
    let end = (Instant::now() + timeout).min(ctx.deadline);
    end.checked_sub(DEADLINE_MARGIN).unwrap_or(end)
}

/// Message used when the host was recorded (`--host-root`): live sockets say nothing about it.
pub(super) const RECORDED_HOST: &str =
    "host is recorded (--host-root); live network probes do not apply to it";

/// The WSL2 state in which every bind() fails with ENOSYS (microsoft/WSL#9587, #9971).
/// On Windows, WSAEACCES from bind() on loopback means the port lies in an excluded port
/// range (reserved by Hyper-V / WinNAT / Docker Desktop, often after an update). Windows has
/// no public API that lists those ranges, so the range itself is reported as unknown.
pub(super) fn bind_errno_note(errno: &str) -> Option<&'static str> {
    match errno {
        "ENOSYS" => Some(
            "ENOSYS from bind() matches the known WSL2 state where every bind() returns ENOSYS \
             (microsoft/WSL#9587, microsoft/WSL#9971)",
        ),
        "WSAEACCES" => Some(
            "WSAEACCES from bind() on loopback means the port is inside a Windows excluded \
             port range (reserved by Hyper-V/WinNAT, e.g. for WSL2 or Docker Desktop); the \
             range is unknown here (no public API lists it): see \
             `netsh interface ipv4 show excludedportrange protocol=tcp`, and pick a port \
             outside it or restart the winnat service",
        ),
        _ => None,
    }
}

/// Errors meaning "this host has no IPv6 loopback", which are recorded, not failures.
pub(super) fn is_no_ipv6(errno: &str) -> bool {
    matches!(
        errno,
        "EADDRNOTAVAIL"
            | "EAFNOSUPPORT"
            | "WSAEADDRNOTAVAIL"
            | "WSAEAFNOSUPPORT"
            | "os error 10047"
    )
}

fn is_addr_in_use(errno: &str) -> bool {
    matches!(errno, "EADDRINUSE" | "WSAEADDRINUSE")
}

/// The catalogue's ports, each once, in catalogue order, with the backends of every mention.
fn unique_ports(ctx: &ProbeContext) -> Vec<(u16, Vec<String>)> {
    let mut out: Vec<(u16, Vec<String>)> = Vec::new();
    for (port, backends) in &ctx.catalogue.ports {
        match out.iter_mut().find(|(p, _)| p == port) {
            Some((_, known)) => known.extend(
                backends
                    .iter()
                    .filter(|b| !known.contains(b))
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
            None => out.push((*port, backends.clone())),
        }
    }
    out
}

fn id_and_target(port: u16) -> (String, String) {
    (format!("port:{port}"), format!("loopback:{port}"))
}

fn plan(ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    unique_ports(ctx)
        .into_iter()
        .map(|(port, _)| {
            let (id, target) = id_and_target(port);
            Planned::new(id, target)
        })
        .collect()
}

/// Bind a TCP socket to `addr` without listening and close it. The errno name on failure.
pub(super) fn try_bind(addr: SocketAddr) -> Result<(), String> {
    let name = |e: std::io::Error| crate::errno::io_error_name(&e);
    let socket =
        Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).map_err(name)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).map_err(name)?;
    }
    // On Windows SO_REUSEADDR would let the bind succeed over a live listener; leave it off there.
    #[cfg(unix)]
    socket.set_reuse_address(true).map_err(name)?;
    socket.bind(&SockAddr::from(addr)).map_err(name)
}

/// What binding one port on both loopback addresses showed.
struct PortCheck {
    port: u16,
    backends: Vec<String>,
    v4: Result<(), String>,
    v6: Result<(), String>,
    elapsed_ms: f64,
}

impl PortCheck {
    fn in_use(&self) -> bool {
        [&self.v4, &self.v6]
            .iter()
            .any(|r| r.as_ref().err().is_some_and(|e| is_addr_in_use(e)))
    }
}

fn bind_value(result: &Result<(), String>) -> Value {
    match result {
        Ok(()) => json!({"ok": true, "errno": null}),
        Err(e) => json!({"ok": false, "errno": e}),
    }
}

fn observe(check: &PortCheck, owner: Option<&OwnerInfo>, mirrored: bool) -> Observation {
    let (id, target) = id_and_target(check.port);
    let n = check.port;
    let mut owner_text = owner
        .map(|o| format!("; {}", o.describe()))
        .unwrap_or_default();
    if mirrored && owner.is_some_and(|o| o.lookup == "not-found") {
        owner_text.push_str(
            "; WSL networking is mirrored, where bind() is also checked against Windows: \
             a port used by a Windows process fails here with no Linux socket",
        );
    }
    let note = |errno: &str| {
        bind_errno_note(errno)
            .map(|n| format!("; {n}"))
            .unwrap_or_default()
    };
    let (status, errno, message) = match (&check.v4, &check.v6) {
        (Err(e4), _) => (
            Status::Fail,
            Some(e4.clone()),
            format!(
                "127.0.0.1:{n} cannot be bound: {e4}{owner_text}{}",
                note(e4)
            ),
        ),
        (Ok(()), Ok(())) => (
            Status::Pass,
            None,
            format!("127.0.0.1:{n} and [::1]:{n} are free (bind succeeded)"),
        ),
        (Ok(()), Err(e6)) if is_no_ipv6(e6) => (
            Status::Pass,
            None,
            format!("127.0.0.1:{n} is free; no IPv6 loopback here ([::1] bind: {e6})"),
        ),
        (Ok(()), Err(e6)) if is_addr_in_use(e6) => (
            Status::Pass,
            None,
            format!(
                "127.0.0.1:{n} is free, but [::1]:{n} is taken ({e6}){owner_text}; clients resolving localhost to ::1 reach that holder"
            ),
        ),
        (Ok(()), Err(e6)) => (
            Status::Fail,
            Some(e6.clone()),
            format!(
                "127.0.0.1:{n} is free, but [::1]:{n} cannot be bound: {e6}{}",
                note(e6)
            ),
        ),
    };
    let mut obs = Observation::new(id, target, status, message)
        .with_elapsed_ms(check.elapsed_ms)
        .with("v4", bind_value(&check.v4))
        .with("v6", bind_value(&check.v6))
        .with("backends", json!(check.backends))
        .with("owner_pid", json!(owner.and_then(|o| o.pid)))
        .with(
            "owner_command",
            json!(owner.and_then(|o| o.command.clone())),
        )
        .with("owner_uid", json!(owner.and_then(|o| o.uid)))
        .with("owner_lookup", json!(owner.map(|o| o.lookup)))
        .with("owner_time_wait", json!(owner.map(|o| o.time_wait)));
    obs.errno = errno;
    obs
}

fn run(ctx: &ProbeContext, _dir: Option<&DataDir>, sink: &Sink) {
    let ports = unique_ports(ctx);
    if ctx.host_root.is_recorded() {
        for (port, _) in ports {
            let (id, target) = id_and_target(port);
            sink.emit(Observation::skipped(id, target, RECORDED_HOST));
        }
        return;
    }
    let deadline = probe_deadline(ctx, PROBE.timeout);
    let mirrored = ctx
        .host
        .wsl
        .networking_mode
        .as_ref()
        .is_some_and(|m| m.value == "mirrored");
    let mut busy = Vec::new();
    for (port, backends) in ports {
        let start = Instant::now();
        let v4 = try_bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
        let v6 = try_bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port)));
        let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        let check = PortCheck {
            port,
            backends,
            v4,
            v6,
            elapsed_ms,
        };
        if check.in_use() {
            busy.push(check);
        } else {
            sink.emit(observe(&check, None, mirrored));
        }
    }
    if busy.is_empty() {
        return;
    }
    let lookup_start = Instant::now();
    let owners = find_owners(&busy, deadline);
    let lookup_ms = lookup_start.elapsed().as_secs_f64() * 1000.0;
    for (check, owner) in busy.iter().zip(owners.iter()) {
        sink.emit(
            observe(check, Some(owner), mirrored).with_elapsed_ms(check.elapsed_ms + lookup_ms),
        );
    }
}

#[cfg(test)]
mod tests;
