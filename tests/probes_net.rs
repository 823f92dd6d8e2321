//! Integration tests of the network probes (`ports`, `loopback`, `proxy`) run through the
//! engine, against real sockets on 127.0.0.1 / ::1 of this machine.

use serde_json::json;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wsl_vecprobe::host::HostRoot;
use wsl_vecprobe::observation::{Observation, Status};
use wsl_vecprobe::probe::{self, CatalogueInputs, ProbeContext, engine};

fn no_env(_: &str) -> Option<String> {
    None
}

fn secret_env(name: &str) -> Option<String> {
    match name {
        "http_proxy" | "https_proxy" | "HTTPS_PROXY" => {
            Some("http://user:secret@10.1.2.3:3128".into())
        }
        "no_proxy" => Some("secret.internal,10.1.2.3".into()),
        _ => None,
    }
}

fn context(
    ports: Vec<(u16, Vec<String>)>,
    env: fn(&str) -> Option<String>,
    root: HostRoot,
) -> Arc<ProbeContext> {
    Arc::new(ProbeContext {
        host_root: root,
        catalogue: CatalogueInputs {
            ports,
            ..CatalogueInputs::default()
        },
        deadline: Instant::now() + Duration::from_secs(10),
        connect_attempts: 20,
        env,
        ..wsl_vecprobe::probe::testing::context()
    })
}

fn find<'a>(obs: &'a [Observation], id: &str) -> &'a Observation {
    obs.iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no {id} in {obs:#?}"))
}

/// Wine 8 lists sockets without their owning pid; real Windows names it.
fn under_wine() -> bool {
    cfg!(windows) && std::path::Path::new("Z:\\proc\\self\\status").exists()
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_port_held_by_this_process_fails_with_its_owner_and_a_free_port_passes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = listener.local_addr().unwrap().port();
    let free = free_port();
    let ctx = context(
        vec![(busy, vec!["qdrant".into()]), (free, vec!["chroma".into()])],
        no_env,
        HostRoot::live(),
    );
    let obs = engine::run(ctx, &[&probe::ports::PROBE]);
    let taken = find(&obs, &format!("port:{busy}"));
    assert_eq!(taken.target, format!("loopback:{busy}"));
    assert_eq!(taken.status, Status::Fail, "{}", taken.message);
    assert_eq!(
        taken.errno.as_deref().map(wsl_vecprobe::errno::meaning),
        Some("EADDRINUSE"),
        "{}",
        taken.message
    );
    assert_eq!(taken.value("backends"), Some(&json!(["qdrant"])));
    if cfg!(target_os = "linux") || (cfg!(windows) && !under_wine()) {
        assert_eq!(
            taken.value("owner_pid"),
            Some(&json!(std::process::id())),
            "{}",
            taken.message
        );
        assert!(
            taken
                .value("owner_command")
                .and_then(|c| c.as_str())
                .is_some_and(|c| !c.is_empty())
        );
    }
    let open = find(&obs, &format!("port:{free}"));
    assert_eq!(open.status, Status::Pass, "{}", open.message);
    assert_eq!(open.value("v4"), Some(&json!({"ok": true, "errno": null})));
    drop(listener);
}

#[test]
fn a_port_taken_only_on_ipv6_loopback_passes_and_says_so() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        println!("skipped: no IPv6 loopback on this host");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let obs = engine::run(
        context(vec![(port, vec![])], no_env, HostRoot::live()),
        &[&probe::ports::PROBE],
    );
    let o = find(&obs, &format!("port:{port}"));
    if o.value("v4.ok") == Some(&json!(false)) {
        println!("skipped: 127.0.0.1:{port} happened to be taken too");
        return;
    }
    assert_eq!(o.status, Status::Pass, "{}", o.message);
    assert_eq!(o.value("v6.ok"), Some(&json!(false)), "{}", o.message);
    assert_eq!(
        o.value("v6.errno")
            .and_then(|e| e.as_str())
            .map(wsl_vecprobe::errno::meaning),
        Some("EADDRINUSE"),
        "{}",
        o.message
    );
    assert!(
        o.message.contains(&format!("[::1]:{port} is taken")),
        "{}",
        o.message
    );
    if cfg!(target_os = "linux") || (cfg!(windows) && !under_wine()) {
        assert_eq!(o.value("owner_pid"), Some(&json!(std::process::id())));
    }
}

#[test]
fn the_network_probes_emit_every_planned_observation_quickly() {
    // As `check --timeout 10s` does: the probes' own limits scale with the run's timeout. A
    // loaded CI machine running this under Wine needs more than the 3 s reference run's limits
    // (Wine's getaddrinfo and TCP owner table are slow); every observation must still be real.
    probe::set_run_timeout(Duration::from_secs(10));
    let ctx = context(
        vec![(free_port(), vec!["x".into()])],
        no_env,
        HostRoot::live(),
    );
    let start = Instant::now();
    let obs = engine::run(
        ctx,
        &[
            &probe::ports::PROBE,
            &probe::loopback::PROBE,
            &probe::proxy::PROBE,
        ],
    );
    let took = start.elapsed();
    // Bounded well inside the context's 5 s deadline (speed itself is the benchmark's job;
    // under Wine the TCP owner table alone takes about a second to build).
    assert!(took < Duration::from_secs(3), "took {took:?}");
    for id in [
        "loopback.tcp4",
        "loopback.refused",
        "loopback.localhost",
        "proxy.env",
        "proxy.grpc",
        "proxy.http",
    ] {
        assert_eq!(
            find(&obs, id).status,
            Status::Pass,
            "{id}: {}",
            find(&obs, id).message
        );
    }
    let tcp4 = find(&obs, "loopback.tcp4");
    assert_eq!(tcp4.value("connected"), Some(&json!(20)));
    assert!(matches!(
        find(&obs, "loopback.tcp6").status,
        Status::Pass | Status::Skipped
    ));
    assert_eq!(
        find(&obs, "loopback.refused").value("outcome"),
        Some(&json!("refused"))
    );
    assert!(
        obs.iter()
            .all(|o| o.status != Status::Timeout && o.status != Status::Error),
        "{obs:#?}"
    );
    println!(
        "network probes took {took:?}; tcp4 p50 {:?} ms",
        tcp4.value("p50_ms")
    );
}

#[test]
fn proxy_observations_never_contain_proxy_values() {
    let obs = engine::run(
        context(vec![], secret_env, HostRoot::live()),
        &[&probe::proxy::PROBE],
    );
    let text = serde_json::to_string(&obs).unwrap();
    assert!(!text.contains("secret"), "{text}");
    assert!(!text.contains("10.1.2.3"), "{text}");
    assert!(!text.contains("user:"), "{text}");
    assert_eq!(find(&obs, "proxy.grpc").status, Status::Fail);
    assert_eq!(
        find(&obs, "proxy.grpc").value("proxy_variable"),
        Some(&json!("https_proxy"))
    );
    assert_eq!(find(&obs, "proxy.http").status, Status::Fail);
}

#[test]
fn a_recorded_host_skips_the_live_socket_probes() {
    let root = tempfile::tempdir().unwrap();
    let ctx = context(
        vec![(6333, vec!["qdrant".into()])],
        no_env,
        HostRoot::recorded(root.path()),
    );
    let obs = engine::run(ctx, &[&probe::ports::PROBE, &probe::loopback::PROBE]);
    assert_eq!(obs.len(), 5);
    assert!(obs.iter().all(|o| o.status == Status::Skipped), "{obs:#?}");
    assert_eq!(find(&obs, "port:6333").target, "loopback:6333");
}
