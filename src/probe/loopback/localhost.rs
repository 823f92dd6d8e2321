//! `loopback.localhost`: what the system resolver (getaddrinfo, as clients call it) returns
//! for `localhost`, in order, next to what `/etc/hosts` lists. The lookup runs on a helper
//! thread because a resolver can hang; the probe waits for it only until its deadline.

use crate::observation::{Observation, round_ms};
use serde_json::json;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const ID: &str = "loopback.localhost";

type Lookup = (Result<Vec<IpAddr>, String>, Duration);

/// A lookup in flight (or the reason none could be started).
pub(super) struct Resolving {
    started: Instant,
    rx: Result<Receiver<Lookup>, String>,
}

/// Start resolving `localhost` on a helper thread.
pub(super) fn start_resolving() -> Resolving {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    let spawned = crate::spawn::thread("resolve-localhost", move || {
        let start = Instant::now();
        let result = ("localhost", 0)
            .to_socket_addrs()
            .map(|addrs| addrs.map(|a| a.ip()).collect::<Vec<_>>())
            .map_err(|e| e.to_string());
        let _ = tx.send((result, start.elapsed()));
    });
    Resolving {
        started,
        rx: spawned.map(|_| rx).map_err(|e| e.to_string()),
    }
}

/// Addresses in resolver order, each once (getaddrinfo may repeat one per socket type).
fn unique_in_order(addrs: &[IpAddr]) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for a in addrs {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

/// The addresses `/etc/hosts` gives the name `localhost`, in file order.
pub(super) fn localhost_in_hosts(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            let address = fields.next()?;
            fields
                .any(|name| name.eq_ignore_ascii_case("localhost"))
                .then(|| address.to_string())
        })
        .collect()
}

fn family(ip: &IpAddr) -> &'static str {
    if ip.is_ipv4() { "ipv4" } else { "ipv6" }
}

/// Wait for the lookup until `deadline` and turn it into the observation.
pub(super) fn observe(
    resolving: Resolving,
    hosts_file: Option<&str>,
    deadline: Instant,
) -> Observation {
    let hosts = json!(hosts_file.map(localhost_in_hosts));
    let rx = match resolving.rx {
        Ok(rx) => rx,
        Err(e) => {
            return Observation::error(
                ID,
                "host",
                format!("could not start the resolver thread: {e}"),
            );
        }
    };
    let wait = deadline.saturating_duration_since(Instant::now());
    let (result, took) = match rx.recv_timeout(wait) {
        Ok(lookup) => lookup,
        Err(RecvTimeoutError::Timeout) => {
            return Observation::timeout(
                ID,
                "host",
                format!(
                    "getaddrinfo(\"localhost\") did not answer within {} ms",
                    resolving.started.elapsed().as_millis()
                ),
            )
            .with("hosts_file", hosts)
            .elapsed_since(resolving.started);
        }
        Err(RecvTimeoutError::Disconnected) => {
            return Observation::error(ID, "host", "the resolver thread ended without an answer");
        }
    };
    let took_ms = took.as_secs_f64() * 1000.0;
    let addrs = match result {
        Ok(a) => unique_in_order(&a),
        Err(e) => {
            return Observation::fail(
                ID,
                "host",
                format!("getaddrinfo(\"localhost\") failed: {e}"),
            )
            .with("addresses", json!([]))
            .with("first_family", json!(null))
            .with("ipv4_present", false)
            .with("hosts_file", hosts)
            .with_elapsed_ms(took_ms);
        }
    };
    let listed: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    let first_family = addrs.first().map(family);
    let ipv4_present = addrs.iter().any(|a| a.is_ipv4());
    let obs = if addrs.is_empty() {
        Observation::fail(
            ID,
            "host",
            "getaddrinfo(\"localhost\") returned no addresses",
        )
    } else {
        Observation::pass(
            ID,
            "host",
            format!(
                "localhost resolves to {} (in {} ms)",
                listed.join(", "),
                round_ms(took_ms)
            ),
        )
    };
    obs.with("addresses", json!(listed))
        .with("first_family", json!(first_family))
        .with("ipv4_present", ipv4_present)
        .with("ipv6_present", addrs.iter().any(|a| a.is_ipv6()))
        .with("hosts_file", hosts)
        .with_elapsed_ms(took_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Status;

    #[test]
    fn reads_localhost_entries_from_a_hosts_file() {
        let text = "# comment localhost\n127.0.0.1\tlocalhost\n::1 ip6-localhost ip6-loopback LOCALHOST # v6\n\
                    127.0.1.1 box\n10.0.0.1 notlocalhost\n  \n";
        assert_eq!(localhost_in_hosts(text), vec!["127.0.0.1", "::1"]);
        assert!(localhost_in_hosts("").is_empty());
    }

    #[test]
    fn keeps_resolver_order_without_repeats() {
        let a: Vec<IpAddr> = ["::1", "127.0.0.1", "::1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(
            unique_in_order(&a),
            vec![
                "::1".parse::<IpAddr>().unwrap(),
                "127.0.0.1".parse().unwrap()
            ]
        );
    }

    #[test]
    fn resolves_localhost_on_this_machine() {
        let obs = observe(
            start_resolving(),
            Some("127.0.0.1 localhost\n"),
            Instant::now() + Duration::from_secs(5),
        );
        assert_eq!(obs.status, Status::Pass, "{}", obs.message);
        let addrs = obs.value("addresses").and_then(|v| v.as_array()).unwrap();
        assert!(addrs.iter().all(|a| {
            a.as_str()
                .and_then(|s| s.parse::<IpAddr>().ok())
                .is_some_and(|ip| ip.is_loopback())
        }));
        let first = obs.value("first_family").and_then(|v| v.as_str()).unwrap();
        assert_eq!(
            first,
            if addrs[0].as_str().unwrap().contains(':') {
                "ipv6"
            } else {
                "ipv4"
            }
        );
        assert_eq!(obs.value("hosts_file"), Some(&json!(["127.0.0.1"])));
    }

    #[test]
    fn an_unanswered_lookup_times_out_at_the_deadline() {
        let (_tx, rx) = mpsc::channel::<Lookup>();
        let hanging = Resolving {
            started: Instant::now(),
            rx: Ok(rx),
        };
        let start = Instant::now();
        let obs = observe(hanging, None, Instant::now() + Duration::from_millis(30));
        assert_eq!(obs.status, Status::Timeout);
        assert!(start.elapsed() < Duration::from_millis(500));
    }
}
