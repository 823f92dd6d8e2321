//! Values that may carry credentials (DOCKER_HOST, proxy variables) are never printed, in any
//! format, verbose or not, redacted or not: only the variable's name and the value's shape.

mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "pw7Zq";

/// DOCKER_HOST values in every shape a user might write, each carrying the secret where a
/// password, a private host or a path would be.
fn docker_hosts() -> Vec<String> {
    let s = SECRET;
    vec![
        format!("user:{s}@10.0.0.5:2375"),
        format!("tcp://user:{s}@10.0.0.5:2375"),
        format!("tcp://user:{s}@127.0.0.1:2375"),
        format!("ssh://user:{s}@build-host"),
        format!("{s}.example.com:2376"),
        format!("https://{s}:x@docker.example"),
        // A local named pipe is probed on Windows and shown there, as a unix socket path is
        // on Unix: a local path names no credentials. Elsewhere it is a shape only.
        #[cfg(not(windows))]
        format!("npipe:////./pipe/{s}"),
        format!("fd://{s}"),
        format!("tcp://[::1]:2375/{s}"),
        format!("{s}"),
        format!("//{s}@host"),
        format!("user:{s}@localhost:2375"),
    ]
}

fn proxy_values(i: usize) -> Vec<(&'static str, String)> {
    let s = SECRET;
    let shapes = [
        format!("http://user:{s}@proxy.corp:3128"),
        format!("user:{s}@proxy.corp:3128"),
        format!("{s}.corp:8080"),
        format!("socks5h://{s}:x@10.1.1.1:1080"),
    ];
    let v = |k: usize| shapes[(i + k) % shapes.len()].clone();
    vec![
        ("HTTP_PROXY", v(0)),
        ("https_proxy", v(1)),
        ("ALL_PROXY", v(2)),
        ("grpc_proxy", v(3)),
        ("NO_PROXY", format!("localhost,{s}.internal")),
    ]
}

#[test]
fn docker_host_and_proxy_values_never_appear_in_any_format() {
    let hosts = docker_hosts();
    let mut i = 0;
    for format in ["table", "json", "markdown"] {
        for (verbose, redact) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut cmd = Command::new(bin());
            cmd.args(["check", "--timeout", "2s", "--format", format]);
            if verbose {
                cmd.arg("--verbose");
            }
            if redact {
                cmd.arg("--redact");
            }
            cmd.env("DOCKER_HOST", &hosts[i % hosts.len()]);
            for (k, v) in proxy_values(i) {
                cmd.env(k, v);
            }
            let r = run_cmd(cmd, Duration::from_secs(30));
            r.assert_no_panic();
            assert_eq!(r.code, Some(0), "{}", r.stderr);
            for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
                assert!(
                    !text.contains(SECRET),
                    "{format} verbose={verbose} redact={redact} DOCKER_HOST={:?}: secret in {stream}:\n{}",
                    hosts[i % hosts.len()],
                    text.lines()
                        .filter(|l| l.contains(SECRET))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            i += 1;
        }
    }
}

#[test]
fn every_docker_host_shape_is_named_without_its_value() {
    // An endpoint that is not probed is named by its variable and shape; a probed one by
    // the loopback address alone (credentials in it are dropped).
    for host in docker_hosts() {
        let mut cmd = Command::new(bin());
        cmd.args(["check", "--timeout", "2s", "--format", "json"])
            .env("DOCKER_HOST", &host);
        let r = run_cmd(cmd, Duration::from_secs(30));
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let report = r.json();
        let o = probe(&report, "docker.daemon", None);
        let shown = o.to_string();
        assert!(!shown.contains(SECRET), "{host}: {shown}");
        assert!(
            o["status"] != "skipped" || o["message"].as_str().unwrap_or("").contains("DOCKER_HOST"),
            "{host}: the variable is named: {shown}"
        );
    }
}
