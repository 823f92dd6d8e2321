//! Probe `loopback`: does TCP over loopback work, and how fast? `loopback.tcp4` and
//! `loopback.tcp6` time N sequential connects to a listener of their own on 127.0.0.1:0 and
//! [::1]:0; `loopback.refused` checks that a connect to a closed loopback port is refused
//! at once rather than left unanswered; `loopback.localhost` records what the system
//! resolver returns for `localhost`, in order (see `localhost`). Every wait is bounded by
//! the probe's deadline; traffic goes to 127.0.0.1 and ::1 only.

mod localhost;
#[cfg(test)]
mod tests;

use super::ports::{RECORDED_HOST, bind_errno_note, is_no_ipv6, probe_deadline};
use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::observation::{Observation, round_ms};
use serde_json::json;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

pub static PROBE: ProbeDef = ProbeDef {
    name: "loopback",
    kind: ProbeKind::Network,
    scope: Scope::Host,
    timeout: Duration::from_millis(1000),
    plan,
    run,
    in_agent: false,
};

/// Longest wait for one connect in the timed series.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);
/// How long a connect to a closed port may stay unanswered before it counts as dropped.
const REFUSED_DEADLINE: Duration = Duration::from_millis(150);

const IDS: [&str; 4] = [
    "loopback.tcp4",
    "loopback.tcp6",
    "loopback.refused",
    "loopback.localhost",
];

fn plan(_ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    IDS.iter().map(|id| Planned::new(*id, "host")).collect()
}

fn run(ctx: &ProbeContext, _dir: Option<&DataDir>, sink: &Sink) {
    if ctx.host_root.is_recorded() {
        for id in IDS {
            sink.emit(Observation::skipped(id, "host", RECORDED_HOST));
        }
        return;
    }
    let deadline = probe_deadline(ctx, PROBE.timeout);
    // The resolver can hang (DNS); it runs alongside the socket checks and is waited for last.
    let resolving = localhost::start_resolving();
    sink.emit(refused_connect(deadline));
    let attempts = ctx.connect_attempts.max(1);
    sink.emit(timed_connects(
        "loopback.tcp4",
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        attempts,
        deadline,
    ));
    sink.emit(timed_connects(
        "loopback.tcp6",
        SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
        attempts,
        deadline,
    ));
    let hosts_file = ctx.host_root.read("/etc/hosts");
    sink.emit(localhost::observe(
        resolving,
        hosts_file.as_deref(),
        deadline,
    ));
}

/// The errno name of a failed connect; std reports its own connect timeout without an OS
/// error, which is what ETIMEDOUT means here.
pub(super) fn connect_errno(err: &std::io::Error) -> String {
    if err.raw_os_error().is_none() && err.kind() == std::io::ErrorKind::TimedOut {
        "ETIMEDOUT".into()
    } else {
        crate::errno::io_error_name(err)
    }
}

/// Time left before `deadline`, at most `cap`, or None when it has passed.
fn bounded_wait(deadline: Instant, cap: Duration) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now()).min(cap);
    (left >= Duration::from_millis(1)).then_some(left)
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// What a series of connects to our own listener showed.
struct Series {
    listener: SocketAddr,
    requested: u32,
    latencies_ms: Vec<f64>,
    attempts: u32,
    /// Errno name and the wait used, for the first connect that failed (the series stops there).
    failure: Option<(String, Duration)>,
}

/// Listen on `bind` and time `requested` sequential connects. Each connection a connect
/// made is accepted (and closed) after it is timed, without blocking: over loopback the
/// handshake is done when connect returns, so no thread of its own is needed to keep the
/// listen queue short.
fn connect_series(bind: SocketAddr, requested: u32, deadline: Instant) -> std::io::Result<Series> {
    let listener = TcpListener::bind(bind)?;
    let addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let accept_ready = || {
        while let Ok((stream, _)) = listener.accept() {
            drop(stream);
        }
    };
    let mut series = Series {
        listener: addr,
        requested,
        latencies_ms: Vec::new(),
        attempts: 0,
        failure: None,
    };
    for _ in 0..requested {
        let Some(wait) = bounded_wait(deadline, CONNECT_TIMEOUT) else {
            break;
        };
        series.attempts += 1;
        let start = Instant::now();
        match TcpStream::connect_timeout(&addr, wait) {
            Ok(stream) => {
                series
                    .latencies_ms
                    .push(start.elapsed().as_secs_f64() * 1000.0);
                close_without_time_wait(stream);
                accept_ready();
            }
            Err(e) => {
                series.failure = Some((connect_errno(&e), wait));
                break;
            }
        }
    }
    accept_ready();
    Ok(series)
}

/// Close a timed connection with a reset (SO_LINGER 0) rather than a FIN. A normal close by
/// the connecting end leaves its ephemeral port in TIME_WAIT for a minute (Linux; four on
/// Windows), and the ephemeral range holds default ports of backends (Weaviate's gRPC 50060
/// is one): a run would then take, for a minute, a port a backend needs, and the next run
/// would see it taken. A reset leaves nothing behind on either end.
fn close_without_time_wait(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

fn timed_connects(id: &str, bind: SocketAddr, requested: u32, deadline: Instant) -> Observation {
    let start = Instant::now();
    let series = match connect_series(bind, requested, deadline) {
        Ok(s) => s,
        Err(e) if crate::spawn::is_own(&e) => {
            return Observation::from_io_error(id, "host", &format!("series on {bind}"), &e)
                .elapsed_since(start);
        }
        Err(e) => {
            let errno = crate::errno::io_error_name(&e);
            let obs = if bind.is_ipv6() && is_no_ipv6(&errno) {
                Observation::skipped(
                    id,
                    "host",
                    format!("no IPv6 loopback: listen on [::1]:0 failed with {errno}"),
                )
                .with_errno(errno.clone())
            } else {
                let note = bind_errno_note(&errno)
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default();
                Observation::fail(
                    id,
                    "host",
                    format!(
                        "listen on {bind} failed: {errno} ({}){note}",
                        crate::errno::describe(&e)
                    ),
                )
                .with_errno(errno.clone())
            };
            return obs.with("errno", errno).elapsed_since(start);
        }
    };
    let mut sorted = series.latencies_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let stat = |p: f64| percentile(&sorted, p).map(round_ms);
    let connected = series.latencies_ms.len();
    let summary = format!(
        "{connected}/{} connects to {} succeeded (p50 {} ms, max {} ms)",
        series.attempts,
        series.listener,
        stat(0.5)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into()),
        stat(1.0)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into()),
    );
    let obs = match &series.failure {
        Some((errno, wait)) => Observation::fail(
            id,
            "host",
            format!(
                "connect {} of {} to {} failed: {errno}{}{}",
                series.attempts,
                series.requested,
                series.listener,
                if errno == "ETIMEDOUT" {
                    format!(" (no answer within {} ms)", wait.as_millis())
                } else {
                    String::new()
                },
                if connected > 0 {
                    format!("; before it, {summary}")
                } else {
                    String::new()
                }
            ),
        )
        .with_errno(errno.clone()),
        None if series.attempts == 0 => Observation::timeout(
            id,
            "host",
            format!(
                "the probe deadline passed before any connect to {}",
                series.listener
            ),
        ),
        None if series.attempts < series.requested => Observation::pass(
            id,
            "host",
            format!(
                "{summary}; stopped after {} of {} connects at the probe deadline",
                series.attempts, series.requested
            ),
        ),
        None => Observation::pass(id, "host", summary),
    };
    obs.with("attempts", series.attempts)
        .with("requested", series.requested)
        .with("connected", connected)
        .with("p50_ms", json!(stat(0.5)))
        .with("p99_ms", json!(stat(0.99)))
        .with("max_ms", json!(stat(1.0)))
        .with("errno", json!(series.failure.as_ref().map(|f| f.0.clone())))
        .with("listener", series.listener.to_string())
        .with("connect_timeout_ms", CONNECT_TIMEOUT.as_millis() as u64)
        .elapsed_since(start)
}

/// How a connect to a closed port ended: `refused`, `timeout`, `unreachable`, `connected`, `error`.
fn refused_outcome(result: &Result<(), String>) -> &'static str {
    match result.as_ref().map_err(String::as_str) {
        Ok(()) => "connected",
        Err("ECONNREFUSED" | "WSAECONNREFUSED") => "refused",
        Err("ETIMEDOUT" | "WSAETIMEDOUT") => "timeout",
        Err("ENETUNREACH" | "EHOSTUNREACH" | "WSAENETUNREACH" | "WSAEHOSTUNREACH") => "unreachable",
        Err(_) => "error",
    }
}

/// Reserve a loopback port (bound, not listening) and connect to it.
fn refused_connect(deadline: Instant) -> Observation {
    const ID: &str = "loopback.refused";
    let start = Instant::now();
    let reserve = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .and_then(|s| {
            s.bind(&SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))
                .map(|()| s)
        })
        .and_then(|s| s.local_addr());
    let addr = match reserve.map(|a| a.as_socket()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            return Observation::error(ID, "host", "bound socket has no IP address")
                .elapsed_since(start);
        }
        Err(e) => {
            let errno = crate::errno::io_error_name(&e);
            let note = bind_errno_note(&errno)
                .map(|n| format!("; {n}"))
                .unwrap_or_default();
            return Observation::fail(
                ID,
                "host",
                format!("could not reserve a port on 127.0.0.1: bind {errno}{note}"),
            )
            .with_errno(errno)
            .with("outcome", json!(null))
            .with("deadline_ms", REFUSED_DEADLINE.as_millis() as u64)
            .elapsed_since(start);
        }
    };
    let Some(wait) = bounded_wait(deadline, REFUSED_DEADLINE) else {
        return Observation::timeout(ID, "host", "the probe deadline passed before the connect")
            .elapsed_since(start);
    };
    let result = TcpStream::connect_timeout(&addr, wait)
        .map(close_without_time_wait)
        .map_err(|e| connect_errno(&e));
    let outcome = refused_outcome(&result);
    let waited_ms = wait.as_millis();
    let obs = match (&result, outcome) {
        (Err(_), "refused") => Observation::pass(
            ID,
            "host",
            format!("connect to closed port {addr} was refused at once"),
        ),
        (Err(e), "timeout") => Observation::fail(
            ID,
            "host",
            format!("SYN dropped: no answer within {waited_ms} ms from closed port {addr} ({e})"),
        ),
        (Err(e), "unreachable") => Observation::fail(
            ID,
            "host",
            format!("loopback unreachable: connect to {addr} gave {e}"),
        ),
        (Err(e), _) => Observation::fail(
            ID,
            "host",
            format!("connect to closed port {addr} failed with {e}"),
        ),
        (Ok(()), _) => Observation::fail(
            ID,
            "host",
            format!("connect to {addr}, which has no listener, succeeded"),
        ),
    };
    let mut obs = obs
        .with("outcome", outcome)
        .with("deadline_ms", waited_ms as u64)
        .elapsed_since(start);
    if outcome != "refused" {
        obs.errno = result.err();
    }
    obs
}
