//! Tests of the loopback probe against this machine's real loopback (and, as root, a
//! private network namespace whose `lo` is down).

use super::*;
use crate::observation::Status;

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

#[test]
fn percentiles_use_the_nearest_rank() {
    let s: Vec<f64> = (1..=20).map(f64::from).collect();
    assert_eq!(percentile(&s, 0.5), Some(10.0));
    assert_eq!(percentile(&s, 0.99), Some(20.0));
    assert_eq!(percentile(&s, 1.0), Some(20.0));
    assert_eq!(percentile(&[3.0], 0.5), Some(3.0));
    assert_eq!(percentile(&[], 0.5), None);
}

#[test]
fn connect_errors_map_to_outcomes() {
    let r = |e: &str| Err(e.to_string());
    assert_eq!(refused_outcome(&r("ECONNREFUSED")), "refused");
    assert_eq!(refused_outcome(&r("ETIMEDOUT")), "timeout");
    assert_eq!(refused_outcome(&r("ENETUNREACH")), "unreachable");
    assert_eq!(refused_outcome(&r("EHOSTUNREACH")), "unreachable");
    assert_eq!(refused_outcome(&r("EPERM")), "error");
    assert_eq!(refused_outcome(&Ok(())), "connected");
    let std_timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out");
    assert_eq!(connect_errno(&std_timeout), "ETIMEDOUT");
}

#[test]
fn a_deadline_already_passed_allows_no_wait() {
    assert_eq!(bounded_wait(Instant::now(), CONNECT_TIMEOUT), None);
    assert_eq!(bounded_wait(soon(), CONNECT_TIMEOUT), Some(CONNECT_TIMEOUT));
}

#[test]
fn ipv4_loopback_connects_are_timed() {
    let obs = timed_connects(
        "loopback.tcp4",
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        5,
        soon(),
    );
    assert_eq!(obs.status, Status::Pass, "{}", obs.message);
    assert_eq!(obs.value("connected"), Some(&json!(5)));
    let p50 = obs.value("p50_ms").and_then(|v| v.as_f64()).unwrap();
    let max = obs.value("max_ms").and_then(|v| v.as_f64()).unwrap();
    assert!(
        p50 > 0.0 && p50 <= max && max < 200.0,
        "p50 {p50} max {max}"
    );
}

#[test]
fn ipv6_loopback_passes_or_is_skipped_with_errno() {
    let obs = timed_connects(
        "loopback.tcp6",
        SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
        3,
        soon(),
    );
    match obs.status {
        Status::Pass => assert_eq!(obs.value("connected"), Some(&json!(3))),
        Status::Skipped => assert!(obs.errno.as_deref().is_some_and(is_no_ipv6), "{obs:?}"),
        other => panic!("unexpected {other:?}: {}", obs.message),
    }
}

#[test]
fn a_listener_that_cannot_bind_fails_with_its_errno() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let obs = timed_connects("loopback.tcp4", taken.local_addr().unwrap(), 2, soon());
    assert_eq!(
        (obs.status, obs.errno.as_deref().map(crate::errno::meaning)),
        (Status::Fail, Some("EADDRINUSE"))
    );
}

/// In a fresh network namespace `lo` is down: the probes must report the errno the
/// kernel gives (ENETUNREACH / EADDRNOTAVAIL), not pass and not hang.
#[test]
#[cfg(target_os = "linux")]
fn with_loopback_down_the_probes_fail_with_the_kernel_errno() {
    let in_namespace = std::thread::spawn(|| {
        // SAFETY: unshare(CLONE_NEWNET) takes no pointers; it moves only this thread
        // (and threads it spawns) into a new, empty network namespace.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return None;
        }
        let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 0));
        Some((
            refused_connect(soon()),
            timed_connects("t4", v4, 3, soon()),
            timed_connects("t6", v6, 3, soon()),
        ))
    });
    let Some((refused, tcp4, tcp6)) = in_namespace.join().unwrap() else {
        println!("skipped: unshare(CLONE_NEWNET) not permitted (needs root / CAP_SYS_ADMIN)");
        return;
    };
    println!(
        "lo down: refused {:?} / tcp4 {:?} / tcp6 {:?}",
        refused.errno, tcp4.errno, tcp6.errno
    );
    assert_eq!(refused.status, Status::Fail, "{}", refused.message);
    assert!(refused.errno.is_some());
    assert_ne!(refused.value("outcome"), Some(&json!("refused")));
    assert_eq!(tcp4.status, Status::Fail, "{}", tcp4.message);
    assert!(tcp4.errno.is_some());
    assert!(tcp4.elapsed_ms < 500.0);
    assert!(
        matches!(tcp6.status, Status::Skipped | Status::Fail),
        "{}",
        tcp6.message
    );
}

#[test]
fn a_closed_loopback_port_is_refused_quickly() {
    let obs = refused_connect(soon());
    assert_eq!(obs.status, Status::Pass, "{}", obs.message);
    assert_eq!(obs.value("outcome"), Some(&json!("refused")));
    assert!(obs.elapsed_ms < 150.0, "took {} ms", obs.elapsed_ms);
}

/// Rows of /proc/net/tcp in TIME_WAIT (`06`) whose remote end is `port`.
#[cfg(target_os = "linux")]
fn time_wait_rows_to(port: u16) -> usize {
    use crate::platform::unix::netowner::parse_address;
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .filter(|row| {
            let cols: Vec<&str> = row.split_whitespace().collect();
            cols.len() > 3
                && cols[3] == "06"
                && parse_address(cols[2]).is_some_and(|(_, p)| p == port)
        })
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn timed_connects_leave_no_port_in_time_wait() {
    let series = connect_series(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), 10, soon()).unwrap();
    assert_eq!(series.latencies_ms.len(), 10, "{:?}", series.failure);
    let left = time_wait_rows_to(series.listener.port());
    assert_eq!(
        left, 0,
        "{left} connections to {} were left in TIME_WAIT, each holding an ephemeral port for a minute",
        series.listener
    );
}
