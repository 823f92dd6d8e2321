//! Tests of the `docker` probe: PATH search on fake trees, and the daemon check against a
//! missing socket, a fake Engine on a unix socket, and one that never answers.

use super::*;
use crate::host::HostRoot;
use crate::observation::Status;
use crate::probe::engine;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::sync::Arc;

/// A `fn(&str) -> Option<String>` over a fixed map (ProbeContext.env is a plain fn pointer).
macro_rules! env_fn {
    ($($k:expr => $v:expr),* $(,)?) => {{
        static MAP: std::sync::OnceLock<std::collections::HashMap<String, String>> =
            std::sync::OnceLock::new();
        let _ = MAP.set(std::collections::HashMap::from([$(($k.to_string(), $v.to_string())),*]));
        fn lookup(k: &str) -> Option<String> {
            MAP.get()?.get(k).cloned()
        }
        lookup as fn(&str) -> Option<String>
    }};
}

fn ctx(env: fn(&str) -> Option<String>, root: HostRoot) -> ProbeContext {
    ProbeContext {
        host_root: root,
        env,
        ..crate::probe::testing::context()
    }
}

fn run_with(env: fn(&str) -> Option<String>) -> Vec<Observation> {
    engine::run(Arc::new(ctx(env, HostRoot::live())), &[&PROBE])
}

fn find<'a>(obs: &'a [Observation], id: &str) -> &'a Observation {
    obs.iter()
        .find(|o| o.id == id)
        .expect("observation present")
}

/// A fake Engine: answers each connection from `answers` in turn, then stops.
fn fake_engine(sock: &Path, answers: Vec<&'static str>) -> std::thread::JoinHandle<Vec<String>> {
    let listener = UnixListener::bind(sock).unwrap();
    std::thread::spawn(move || {
        let mut requests = Vec::new();
        for answer in answers {
            let Ok((mut conn, _)) = listener.accept() else {
                break;
            };
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).unwrap_or(0);
            requests.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = conn.write_all(answer.as_bytes());
        }
        requests
    })
}

#[test]
fn a_missing_socket_fails_with_enoent() {
    let obs = run_with(env_fn!("DOCKER_HOST" => "unix:///nonexistent/docker.sock", "PATH" => ""));
    let d = find(&obs, DAEMON);
    assert_eq!(
        (d.status, d.errno.as_deref()),
        (Status::Fail, Some("ENOENT")),
        "{d:#?}"
    );
    assert_eq!(d.values["socket"], "/nonexistent/docker.sock");
    let c = find(&obs, CLI);
    assert_eq!(
        (c.status, c.errno.as_deref()),
        (Status::Fail, Some("ENOENT"))
    );
}

#[test]
fn a_fake_docker_desktop_engine_is_pinged_and_recognised() {
    let d = tempfile::tempdir().unwrap();
    let sock = d.path().join("docker.sock");
    let engine_thread = fake_engine(
        &sock,
        vec![
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nOK",
            "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"OperatingSystem\":\"Docker Desktop\",\"ServerVersion\":\"27.3.1\"}",
        ],
    );
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let _ = HOST.set(format!("unix://{}", sock.display()));
    fn env(k: &str) -> Option<String> {
        (k == "DOCKER_HOST").then(|| HOST.get().cloned()).flatten()
    }
    let obs = run_with(env);
    let daemon = find(&obs, DAEMON);
    assert_eq!(daemon.status, Status::Pass, "{daemon:#?}");
    assert_eq!(daemon.values["operating_system"], "Docker Desktop");
    assert_eq!(daemon.values["docker_desktop"], true);
    assert!(daemon.values["ping_ms"].as_f64().unwrap() < 300.0);
    assert_eq!(daemon.values["desktop_traces"], serde_json::json!([]));
    let requests = engine_thread.join().unwrap();
    assert!(
        requests[0].starts_with("GET /_ping HTTP/1.0\r\nHost: docker\r\n"),
        "{requests:?}"
    );
    assert!(requests[1].starts_with("GET /info HTTP/1.0\r\n"));
}

#[test]
fn an_engine_that_never_answers_fails_with_etimedout_within_the_exchange_deadline() {
    let d = tempfile::tempdir().unwrap();
    let sock = d.path().join("silent.sock");
    let listener = UnixListener::bind(&sock).unwrap(); // connects queue; nobody answers
    let start = Instant::now();
    let obs = daemon(
        &http::Endpoint::Unix(sock.clone()),
        Instant::now() + Duration::from_secs(5),
    );
    let waited = start.elapsed();
    assert_eq!(
        (obs.status, obs.errno.as_deref()),
        (Status::Fail, Some("ETIMEDOUT")),
        "{obs:#?}"
    );
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_millis(600),
        "{waited:?}"
    );
    drop(listener);
}

#[test]
fn a_wrong_answer_is_a_fail_without_errno() {
    let d = tempfile::tempdir().unwrap();
    let sock = d.path().join("other.sock");
    let t = fake_engine(&sock, vec!["HTTP/1.1 404 Not Found\r\n\r\nnope"]);
    let obs = daemon(
        &http::Endpoint::Unix(sock),
        Instant::now() + Duration::from_secs(5),
    );
    assert_eq!((obs.status, obs.errno.as_deref()), (Status::Fail, None));
    assert!(obs.message.contains("HTTP 404"), "{}", obs.message);
    t.join().unwrap();
}

#[test]
fn a_remote_tcp_docker_host_is_not_probed() {
    let obs = run_with(env_fn!("DOCKER_HOST" => "tcp://192.0.2.7:2375"));
    let d = find(&obs, DAEMON);
    assert_eq!(d.status, Status::Skipped);
    assert!(!d.message.contains("192.0.2.7"));
}

#[test]
fn the_cli_is_found_only_as_an_executable_file_on_path() {
    let d = tempfile::tempdir().unwrap();
    let (plain, exec) = (d.path().join("plain"), d.path().join("exec"));
    std::fs::create_dir_all(plain.join("docker")).unwrap(); // a directory named docker
    std::fs::create_dir_all(&exec).unwrap();
    let bin = exec.join("docker");
    std::fs::write(&bin, b"#!/bin/sh\n").unwrap();
    let path_var = std::env::join_paths([&plain, &exec]).unwrap();
    let path_var = path_var.to_str().unwrap();
    assert_eq!(find_on_path(path_var, &["docker", "docker.exe"]), None);
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        find_on_path(path_var, &["docker", "docker.exe"]),
        Some(bin.clone())
    );
    std::fs::remove_file(&bin).unwrap();
    std::fs::write(plain.join("docker.exe"), b"MZ").unwrap();
    // A Windows docker.exe (WSL interop) counts without an executable bit.
    assert_eq!(
        find_on_path(path_var, &["docker", "docker.exe"]),
        Some(plain.join("docker.exe"))
    );
    let obs = cli(path_var.as_ref());
    assert_eq!(obs.status, Status::Pass);
    assert_eq!(
        obs.values["path"],
        plain.join("docker.exe").display().to_string()
    );
}

#[test]
fn a_recorded_host_skips_both() {
    let root = tempfile::tempdir().unwrap();
    let obs = engine::run(
        Arc::new(ctx(
            env_fn!("PATH" => "/usr/bin"),
            HostRoot::recorded(root.path()),
        )),
        &[&PROBE],
    );
    assert_eq!(obs.len(), 2);
    assert!(obs.iter().all(|o| o.status == Status::Skipped));
}
