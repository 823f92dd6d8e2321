//! Rule tests over synthetic observations: starting from a recorded healthy run (every
//! backend viable, pinecone unknown because egress is never probed), each failure that
//! matters to a backend is applied alone, and the backend's verdict and the observation its
//! decisive reason names are asserted — for all 17 backends.

use serde_json::{Value, json};
use wsl_vecprobe::catalogue::load_catalogue;
use wsl_vecprobe::catalogue::rules::{BackendVerdict, Verdict, evaluate};
use wsl_vecprobe::host::HostFacts;
use wsl_vecprobe::observation::{Observation, Status};

const DIR: &str = "/data/proj";

/// The recorded Debian run, made healthy where that machine was not (no Docker daemon, no
/// loadable SQLite extensions, low vm.max_map_count, overcommit 0).
fn healthy() -> Vec<Observation> {
    let text = include_str!("fixtures/observations/live-debian12.json").replace("DATA_DIR", DIR);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut obs: Vec<Observation> = serde_json::from_value(doc["observations"].clone()).unwrap();
    for o in obs.iter_mut() {
        match o.id.as_str() {
            "docker.daemon" => {
                o.status = Status::Pass;
                o.errno = None;
            }
            "python.sqlite_ext" => {
                o.status = Status::Pass;
                o.values.insert("enable_load_extension".into(), json!(true));
            }
            "limits.max_map_count" => {
                o.values.insert("value".into(), json!(262144));
            }
            "limits.overcommit" => {
                o.values.insert("mode".into(), json!(1));
            }
            "limits.nofile" => {
                o.values.insert("soft".into(), json!(1048576));
            }
            _ => {}
        }
    }
    obs
}

fn host() -> HostFacts {
    HostFacts {
        os: "linux".into(),
        arch: "x86_64".into(),
        ..Default::default()
    }
}

fn judge_all(obs: &[Observation]) -> Vec<BackendVerdict> {
    let profiles = load_catalogue(&[]).unwrap();
    evaluate(&profiles, obs, &host(), &[DIR.to_string()])
}

fn row<'a>(all: &'a [BackendVerdict], id: &str) -> &'a BackendVerdict {
    all.iter()
        .find(|b| b.id == id)
        .unwrap_or_else(|| panic!("no verdict for {id}"))
}

/// Replace (or add) the observation `id` on `target` with `status`/`errno` and extra values.
fn with(
    mut obs: Vec<Observation>,
    id: &str,
    target: &str,
    status: Status,
    errno: Option<&str>,
    values: Value,
) -> Vec<Observation> {
    let pos = obs.iter().position(|o| o.id == id && o.target == target);
    let mut o = match pos {
        Some(i) => obs.remove(i),
        None => Observation::new(id, target, status, "synthetic"),
    };
    o.status = status;
    o.errno = errno.map(str::to_string);
    o.message = format!("synthetic {id} {}", errno.unwrap_or(status.as_str()));
    if let Value::Object(m) = values {
        o.values.extend(m);
    }
    obs.push(o);
    obs
}

#[test]
fn the_healthy_recording_is_viable_for_every_local_backend() {
    let all = judge_all(&healthy());
    assert_eq!(all.len(), 17);
    for b in &all {
        let expected = if b.id == "pinecone" {
            Verdict::Unknown
        } else {
            Verdict::Viable
        };
        assert_eq!(
            b.verdict, expected,
            "{}: {} ({:?})",
            b.id, b.evidence, b.remediation
        );
        assert!(!b.reasons.is_empty());
    }
}

struct Case {
    backend: &'static str,
    id: &'static str,
    on_dir: bool,
    status: Status,
    errno: Option<&'static str>,
    values: fn() -> Value,
    verdict: Verdict,
}

fn none() -> Value {
    json!({})
}

const FAIL: Status = Status::Fail;
const PASS: Status = Status::Pass;

fn cases() -> Vec<Case> {
    let c = |backend, id, on_dir, status, errno, values: fn() -> Value, verdict| Case {
        backend,
        id,
        on_dir,
        status,
        errno,
        values,
        verdict,
    };
    use Verdict::{Blocked, Degraded, Unknown};
    vec![
        // milvus-lite (3.x assumed: nothing installed in the recording)
        c(
            "milvus-lite",
            "lock.flock",
            true,
            FAIL,
            Some("ENOLCK"),
            none,
            Blocked,
        ),
        c(
            "milvus-lite",
            "lock.flock",
            true,
            FAIL,
            None,
            || json!({"excludes": false}),
            Blocked,
        ),
        c(
            "milvus-lite",
            "lockfile:LOCK",
            true,
            FAIL,
            None,
            || json!({"held": true, "holder_pid": 4242}),
            Blocked,
        ),
        c(
            "milvus-lite",
            "loopback.tcp4",
            false,
            FAIL,
            Some("ETIMEDOUT"),
            none,
            Blocked,
        ),
        c(
            "milvus-lite",
            "proxy.grpc",
            false,
            FAIL,
            None,
            none,
            Blocked,
        ),
        c(
            "milvus-lite",
            "loopback.refused",
            false,
            FAIL,
            Some("ETIMEDOUT"),
            || json!({"outcome": "timeout"}),
            Degraded,
        ),
        c(
            "milvus-lite",
            "file.create",
            true,
            FAIL,
            Some("EROFS"),
            none,
            Blocked,
        ),
        c(
            "milvus-lite",
            "fs.mount",
            true,
            PASS,
            None,
            || json!({"class": "tmpfs"}),
            Degraded,
        ),
        c(
            "milvus-lite",
            "python.interpreter",
            false,
            PASS,
            None,
            || json!({"version": "3.9.18"}),
            Blocked,
        ),
        c(
            "milvus-lite",
            "lock.flock",
            true,
            Status::Timeout,
            None,
            none,
            Unknown,
        ),
        // milvus-standalone
        c(
            "milvus-standalone",
            "port:19530",
            false,
            FAIL,
            Some("EADDRINUSE"),
            || json!({"owner_pid": 77}),
            Blocked,
        ),
        c(
            "milvus-standalone",
            "docker.daemon",
            false,
            FAIL,
            Some("ENOENT"),
            none,
            Blocked,
        ),
        c(
            "milvus-standalone",
            "proxy.grpc",
            false,
            FAIL,
            None,
            none,
            Blocked,
        ),
        c(
            "milvus-standalone",
            "host.cpu",
            false,
            PASS,
            None,
            || json!({"features": ["avx"]}),
            Blocked,
        ),
        // qdrant-server
        c(
            "qdrant-server",
            "port:6333",
            false,
            FAIL,
            Some("EADDRINUSE"),
            none,
            Blocked,
        ),
        c(
            "qdrant-server",
            "mmap.shared_rw",
            true,
            FAIL,
            Some("ENODEV"),
            none,
            Blocked,
        ),
        c(
            "qdrant-server",
            "mmap.fill",
            true,
            FAIL,
            Some("SIGBUS"),
            none,
            Blocked,
        ),
        c(
            "qdrant-server",
            "mmap.two_map",
            true,
            FAIL,
            None,
            none,
            Degraded,
        ),
        c(
            "qdrant-server",
            "fs.mount",
            true,
            PASS,
            None,
            || json!({"class": "network"}),
            Blocked,
        ),
        c(
            "qdrant-server",
            "fs.mount",
            true,
            PASS,
            None,
            || json!({"class": "windows-drive"}),
            Degraded,
        ),
        // milvus-lite 3.x on a Windows drive: LOCK's flock is a guest-only POSIX lock there
        c(
            "milvus-lite",
            "fs.mount",
            true,
            PASS,
            None,
            || json!({"class": "windows-drive"}),
            Degraded,
        ),
        // qdrant-local
        c(
            "qdrant-local",
            "lockfile:.lock",
            true,
            FAIL,
            None,
            || json!({"held": true, "holder_pid": 4242}),
            Blocked,
        ),
        c(
            "qdrant-local",
            "lock.flock",
            true,
            FAIL,
            Some("EOPNOTSUPP"),
            none,
            Blocked,
        ),
        c(
            "qdrant-local",
            "fs.mount",
            true,
            PASS,
            None,
            || json!({"class": "windows-drive"}),
            Degraded,
        ),
        // qdrant-edge
        c(
            "qdrant-edge",
            "mmap.shared_rw",
            true,
            FAIL,
            Some("ENODEV"),
            none,
            Blocked,
        ),
        c(
            "qdrant-edge",
            "mmap.fill",
            true,
            FAIL,
            Some("SIGBUS"),
            none,
            Blocked,
        ),
        c(
            "qdrant-edge",
            "lock.flock",
            true,
            FAIL,
            Some("ENOLCK"),
            none,
            Blocked,
        ),
        // chroma
        c(
            "chroma",
            "lock.fcntl",
            true,
            FAIL,
            Some("ENOLCK"),
            none,
            Blocked,
        ),
        c(
            "chroma",
            "fs.mount",
            true,
            PASS,
            None,
            || json!({"class": "fuse"}),
            Degraded,
        ),
        c(
            "chroma",
            "file.create",
            true,
            FAIL,
            Some("ENOSPC"),
            none,
            Blocked,
        ),
        // chroma-server
        c(
            "chroma-server",
            "port:8000",
            false,
            FAIL,
            Some("EADDRINUSE"),
            none,
            Blocked,
        ),
        c(
            "chroma-server",
            "loopback.tcp4",
            false,
            FAIL,
            Some("ENETUNREACH"),
            none,
            Blocked,
        ),
        // HttpClient is httpx: measured, it sends localhost calls to the proxy.
        c(
            "chroma-server",
            "proxy.httpx",
            false,
            FAIL,
            None,
            none,
            Blocked,
        ),
        c(
            "qdrant-server",
            "proxy.httpx",
            false,
            FAIL,
            None,
            none,
            Blocked,
        ),
        // lancedb
        c(
            "lancedb",
            "host.cpu",
            false,
            PASS,
            None,
            || json!({"features": ["sse4_2", "avx"]}),
            Blocked,
        ),
        c(
            "lancedb",
            "file.rename_replace",
            true,
            FAIL,
            Some("ENOSYS"),
            none,
            Blocked,
        ),
        c(
            "lancedb",
            "file.rename_noreplace",
            true,
            FAIL,
            Some("EINVAL"),
            none,
            Degraded,
        ),
        c(
            "lancedb",
            "host.platform",
            false,
            PASS,
            None,
            || json!({"libc": "musl", "glibc": null}),
            Blocked,
        ),
        // faiss
        c(
            "faiss",
            "mmap.grown_ro",
            true,
            FAIL,
            Some("ENODEV"),
            none,
            Degraded,
        ),
        c(
            "faiss",
            "file.create",
            true,
            FAIL,
            Some("EROFS"),
            none,
            Blocked,
        ),
        // sqlite-vec
        c(
            "sqlite-vec",
            "python.sqlite_ext",
            false,
            FAIL,
            None,
            || json!({"enable_load_extension": false}),
            Blocked,
        ),
        c(
            "sqlite-vec",
            "mmap.truncate_mapped",
            true,
            FAIL,
            Some("EINVAL"),
            none,
            Degraded,
        ),
        c(
            "sqlite-vec",
            "lock.fcntl",
            true,
            FAIL,
            Some("ENOLCK"),
            none,
            Blocked,
        ),
        // usearch
        c(
            "usearch",
            "mmap.grown_ro",
            true,
            FAIL,
            Some("ENODEV"),
            none,
            Degraded,
        ),
        c(
            "usearch",
            "file.create",
            true,
            FAIL,
            Some("EROFS"),
            none,
            Blocked,
        ),
        // duckdb-vss
        c(
            "duckdb-vss",
            "lock.fcntl",
            true,
            FAIL,
            Some("EOPNOTSUPP"),
            none,
            Blocked,
        ),
        c(
            "duckdb-vss",
            "fs.mount",
            true,
            PASS,
            None,
            || json!({"class": "network"}),
            Degraded,
        ),
        // pgvector
        c(
            "pgvector",
            "port:5432",
            false,
            FAIL,
            Some("EADDRINUSE"),
            none,
            Blocked,
        ),
        // No uds.path_length case: with the default configuration PostgreSQL's socket is in
        // unix_socket_directories, not PGDATA (calibration long-path cell: a ~300-byte PGDATA works).
        c(
            "pgvector",
            "uds.data_dir",
            true,
            FAIL,
            Some("EOPNOTSUPP"),
            none,
            Degraded,
        ),
        // Debian's compiled-in socket dir, not writable by this user (calibration nonroot-user).
        c(
            "pgvector",
            "uds.socket_dir:/var/run/postgresql",
            false,
            FAIL,
            Some("EACCES"),
            || json!({"exists": true, "writable": false}),
            Blocked,
        ),
        // redis
        c(
            "redis",
            "port:6379",
            false,
            FAIL,
            Some("EADDRINUSE"),
            none,
            Blocked,
        ),
        c(
            "redis",
            "limits.overcommit",
            false,
            PASS,
            None,
            || json!({"mode": 0}),
            Degraded,
        ),
        c(
            "redis",
            "loopback.tcp4",
            false,
            FAIL,
            Some("ENETUNREACH"),
            none,
            Blocked,
        ),
        // weaviate-embedded
        c(
            "weaviate-embedded",
            "port:8079",
            false,
            FAIL,
            Some("EADDRINUSE"),
            none,
            Blocked,
        ),
        c(
            "weaviate-embedded",
            "port:50060",
            false,
            FAIL,
            Some("EADDRINUSE"),
            none,
            Blocked,
        ),
        c(
            "weaviate-embedded",
            "proxy.grpc",
            false,
            FAIL,
            None,
            none,
            Blocked,
        ),
        // elasticsearch
        c(
            "elasticsearch",
            "limits.max_map_count",
            false,
            PASS,
            None,
            || json!({"value": 65530}),
            Blocked,
        ),
        c(
            "elasticsearch",
            "port:9200",
            false,
            FAIL,
            Some("EADDRINUSE"),
            none,
            Blocked,
        ),
        c(
            "elasticsearch",
            "limits.nofile",
            false,
            PASS,
            None,
            || json!({"soft": 1024}),
            Degraded,
        ),
        // pinecone: the one requirement is never observable from here
        c(
            "pinecone",
            "net.egress",
            false,
            Status::Skipped,
            None,
            none,
            Unknown,
        ),
    ]
}

#[test]
fn every_backend_meets_each_failure_that_matters_to_it() {
    let mut failures = Vec::new();
    for case in cases() {
        let target = if case.on_dir {
            DIR.to_string()
        } else if let Some(port) = case.id.strip_prefix("port:") {
            format!("loopback:{port}")
        } else if let Some(dir) = case.id.strip_prefix("uds.socket_dir:") {
            dir.to_string()
        } else {
            "host".to_string()
        };
        let obs = with(
            healthy(),
            case.id,
            &target,
            case.status,
            case.errno,
            (case.values)(),
        );
        let all = judge_all(&obs);
        let b = row(&all, case.backend);
        let decisive_probe_named = b.evidence.starts_with(case.id);
        if b.verdict != case.verdict || !decisive_probe_named {
            failures.push(format!(
                "{} with {} {:?}/{:?}: got {} `{}`, expected {} naming {}",
                case.backend,
                case.id,
                case.status,
                case.errno,
                b.verdict.as_str(),
                b.evidence,
                case.verdict.as_str(),
                case.id
            ));
        }
        // Blocked and degraded rows always say what to change.
        if matches!(b.verdict, Verdict::Blocked | Verdict::Degraded) && b.remediation.is_empty() {
            failures.push(format!("{} with {}: no remediation", case.backend, case.id));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_failure_that_does_not_matter_to_a_backend_leaves_it_viable() {
    // faiss makes no connections and binds no port; a taken port and a proxy do not touch it.
    let obs = with(
        healthy(),
        "port:6333",
        "loopback:6333",
        FAIL,
        Some("EADDRINUSE"),
        json!({}),
    );
    let obs = with(obs, "proxy.grpc", "host", FAIL, None, json!({}));
    let all = judge_all(&obs);
    assert_eq!(row(&all, "faiss").verdict, Verdict::Viable);
    assert_eq!(row(&all, "qdrant-local").verdict, Verdict::Viable);
    assert_eq!(row(&all, "qdrant-server").verdict, Verdict::Blocked);
}

#[test]
fn the_milvus_lite_story_each_cause_is_named() {
    // Dropped SYNs, a proxy without no_proxy, an old milvus-lite, a held lock: each alone.
    let syn = with(
        healthy(),
        "loopback.tcp4",
        "host",
        FAIL,
        Some("ETIMEDOUT"),
        json!({}),
    );
    assert!(
        row(&judge_all(&syn), "milvus-lite")
            .evidence
            .contains("loopback.tcp4: ETIMEDOUT")
    );
    let proxy = with(healthy(), "proxy.grpc", "host", FAIL, None, json!({}));
    assert!(
        row(&judge_all(&proxy), "milvus-lite")
            .evidence
            .starts_with("proxy.grpc")
    );
    let old = with(
        healthy(),
        "python.packages",
        "host",
        PASS,
        None,
        json!({"packages": {"milvus-lite": "2.4.10"}}),
    );
    let r = judge_all(&old);
    let ml = row(&r, "milvus-lite");
    assert!(
        ml.evidence.contains("milvus-lite 2.4.10 installed"),
        "{}",
        ml.evidence
    );
    assert_eq!(
        ml.version.as_ref().and_then(|v| v.version.as_deref()),
        Some("2.4.10")
    );
    let held = with(
        healthy(),
        "lockfile:LOCK",
        DIR,
        FAIL,
        None,
        json!({"holder_pid": 4242, "holder_command": "python3"}),
    );
    assert!(
        row(&judge_all(&held), "milvus-lite")
            .evidence
            .contains("pid 4242 (python3)")
    );
}

/// A check that mimics one backend's own start-up test applies only to that backend: Qdrant's
/// two-map test (mmap.two_map) is run by the server, not by Edge or any other backend.
#[test]
fn qdrants_two_map_startup_check_concerns_only_the_qdrant_server() {
    let profiles = load_catalogue(&[]).expect("catalogue");
    let users: Vec<&str> = profiles
        .iter()
        .filter(|p| p.requirements.iter().any(|r| r.probe == "mmap.two_map"))
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(users, ["qdrant-server"]);
    let mut obs = healthy();
    for o in obs.iter_mut() {
        if o.id == "mmap.two_map" {
            o.status = Status::Fail;
        }
    }
    for v in judge_all(&obs) {
        let expected = if v.id == "qdrant-server" {
            Verdict::Degraded
        } else if v.id == "pinecone" {
            Verdict::Unknown
        } else {
            Verdict::Viable
        };
        assert_eq!(v.verdict, expected, "{}: {}", v.id, v.evidence);
    }
}
