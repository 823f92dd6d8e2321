//! Fault lab, network: a namespace with loopback down, one where nftables silently drops
//! loopback SYNs, and one where backends' default ports are already taken. Each runs the built
//! binary inside a private network namespace (root only; skipped with a reason otherwise,
//! fatal in CI) — nothing touches the machine's real network.
//! Linux only: every fault here lives in a private network namespace. The taken-port case
//! also runs on Windows in `tests/probes_net.rs` (a port held by the test process).
#![cfg(target_os = "linux")]

mod common;
use common::*;
use std::time::Duration;

/// Backends whose client talks TCP over loopback in their default configuration.
const LOOPBACK_TCP: [&str; 5] = [
    "milvus-lite",
    "qdrant-server",
    "chroma-server",
    "redis",
    "pgvector",
];
/// Backends that only touch files.
const FILE_ONLY: [&str; 4] = ["faiss", "sqlite-vec", "lancedb", "qdrant-local"];

#[test]
fn loopback_down_is_unreachable_and_blocks_loopback_tcp_backends_only() {
    if !privileged("loopback_down", &["unshare"]) {
        return;
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    let r = in_net_namespace(
        r#"exec "$2" check --data-dir "$1" --format json"#,
        &dir,
        &[],
    );
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    let refused = probe(&report, "loopback.refused", None);
    assert_eq!(refused["status"], "fail", "{refused:#}");
    assert_eq!(refused["errno"], "ENETUNREACH", "{refused:#}");
    assert_eq!(probe(&report, "loopback.tcp4", None)["status"], "fail");
    for b in LOOPBACK_TCP {
        assert_verdict(&report, b, Some(&dir), &["blocked"]);
        assert!(
            has_violated_reason(&report, b, Some(&dir), "loopback."),
            "{b} names loopback"
        );
    }
    for b in FILE_ONLY {
        assert!(
            !has_violated_reason(&report, b, Some(&dir), "loopback."),
            "{b} does not use loopback TCP"
        );
        assert!(
            !has_violated_reason(&report, b, Some(&dir), "port:"),
            "{b} binds no port"
        );
    }
    // Verdicts of purely file-based backends do not depend on the network at all.
    for b in ["faiss", "lancedb"] {
        assert_verdict(&report, b, Some(&dir), &["viable", "degraded"]);
    }
    assert_unchanged(&before, t.path());
}

#[test]
fn dropped_syns_are_a_timeout_within_the_deadline_and_the_run_ends_on_time() {
    if !privileged("syn_drop", &["unshare", "ip", "nft"]) {
        return;
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    let script = r#"ip link set lo up || exit 97
nft add table inet vecprobe_test && nft add chain inet vecprobe_test input '{ type filter hook input priority 0; }' \
  && nft add rule inet vecprobe_test input tcp flags syn / syn,ack drop || exit 98
exec "$2" check --data-dir "$1" --format json --timeout 2s"#;
    let r = in_net_namespace(script, &dir, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    assert!(
        r.elapsed < Duration::from_millis(2600),
        "a 2 s run took {:?}",
        r.elapsed
    );
    let report = r.json();
    let refused = probe(&report, "loopback.refused", None);
    assert_eq!(refused["status"], "fail", "{refused:#}");
    assert_eq!(refused["errno"], "ETIMEDOUT", "{refused:#}");
    assert_eq!(refused["values"]["outcome"], "timeout", "{refused:#}");
    assert!(
        refused["elapsed_ms"].as_f64().unwrap_or(9e9) < 1000.0,
        "within its own deadline: {refused:#}"
    );
    // The story: Milvus Lite "starts, then the client times out" — the row names the cause.
    assert_verdict(&report, "milvus-lite", Some(&dir), &["blocked"]);
    let evidence = backend(&report, "milvus-lite", Some(&dir))["evidence"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        evidence.contains("loopback"),
        "milvus-lite evidence names loopback: {evidence}"
    );
    assert_unchanged(&before, t.path());
}

#[test]
fn taken_default_ports_name_their_owner_and_block_servers_not_embedded() {
    if !privileged("ports_taken", &["unshare", "ip", "python3"]) {
        return;
    }
    let (t, dir) = tempdir();
    let before = snapshot(t.path());
    let ready = tempfile::tempdir().unwrap();
    let flag = ready.path().join("ready");
    let pidfile = ready.path().join("pid");
    let script = format!(
        r#"ip link set lo up || exit 97
python3 -c '
import socket, sys, time
socks = []
for port in (6333, 8000, 5432, 6379):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(); socks.append(s)
open(sys.argv[1], "w").write("ok")
time.sleep(30)
' "{flag}" >/dev/null 2>&1 &
echo $! > "{pid}"
for i in $(seq 1 500); do [ -f "{flag}" ] && break; sleep 0.01; done
"$2" check --data-dir "$1" --format json; rc=$?
kill "$(cat "{pid}")"; exit $rc"#,
        flag = flag.display(),
        pid = pidfile.display()
    );
    let r = in_net_namespace(&script, &dir, &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let owner: u64 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let report = r.json();
    for (port, backend_id) in [
        (6333, "qdrant-server"),
        (8000, "chroma-server"),
        (5432, "pgvector"),
        (6379, "redis"),
    ] {
        let o = probe(&report, &format!("port:{port}"), None);
        assert_eq!(o["status"], "fail", "{o:#}");
        assert_eq!(o["errno"], "EADDRINUSE", "{o:#}");
        assert_eq!(
            o["values"]["owner_pid"], owner,
            "the owner is the listener: {o:#}"
        );
        assert_verdict(&report, backend_id, Some(&dir), &["blocked"]);
        assert!(has_violated_reason(
            &report,
            backend_id,
            Some(&dir),
            &format!("port:{port}")
        ));
    }
    for b in ["qdrant-local", "chroma", "faiss", "lancedb"] {
        assert!(
            !has_violated_reason(&report, b, Some(&dir), "port:"),
            "{b} listens on no default port"
        );
    }
    assert_unchanged(&before, t.path());
}
