//! Probe `docker`: whether the Docker CLI is on PATH (found, never run) and whether the
//! Docker Engine answers `GET /_ping` on its socket (or a loopback `DOCKER_HOST`) within
//! 300 ms, plus `OperatingSystem` from `GET /info` to tell Docker Desktop apart.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::observation::Observation;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub mod http;

pub static PROBE: ProbeDef = ProbeDef {
    name: "docker",
    kind: ProbeKind::Environment,
    scope: Scope::Host,
    timeout: Duration::from_millis(1000),
    plan,
    run,
    in_agent: false,
};

const TARGET: &str = "host";
const CLI: &str = "docker.cli";
const DAEMON: &str = "docker.daemon";

fn plan(_ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    vec![Planned::new(CLI, TARGET), Planned::new(DAEMON, TARGET)]
}

fn run(ctx: &ProbeContext, _dir: Option<&DataDir>, sink: &Sink) {
    if ctx.host_root.is_recorded() {
        for id in [CLI, DAEMON] {
            sink.emit(Observation::skipped(
                id,
                TARGET,
                "recorded host: Docker is not part of the recording",
            ));
        }
        return;
    }
    let start = Instant::now();
    let path_var = crate::host::env_os(ctx.env, "PATH").unwrap_or_default();
    sink.emit(cli(&path_var).elapsed_since(start));
    let start = Instant::now();
    let ep = http::endpoint_os(
        crate::host::env_os(ctx.env, "DOCKER_HOST").as_deref(),
        (ctx.env)("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()),
    );
    let deadline = ctx.deadline;
    let traces = ctx.host.wsl.docker_desktop.clone();
    sink.emit(
        daemon(&ep, deadline)
            .with("desktop_traces", traces)
            .elapsed_since(start),
    );
}

/// `docker` (or `docker.exe`, which WSL interop can run) on PATH.
fn cli(path_var: &std::ffi::OsStr) -> Observation {
    match find_on_path(path_var, &cli_names()) {
        Some(p) => Observation::pass(CLI, TARGET, format!("found {}", crate::host::shown(&p)))
            .with("path", crate::host::shown(&p)),
        None => Observation::fail(CLI, TARGET, "no docker executable on PATH")
            .with_errno("ENOENT")
            .with("path", Value::Null),
    }
}

fn cli_names() -> Vec<&'static str> {
    if cfg!(windows) {
        vec!["docker.exe"]
    } else {
        vec!["docker", "docker.exe"]
    }
}

/// The first PATH entry holding an executable file named `names[0]`, else `names[1]`, ….
pub fn find_on_path(path_var: impl AsRef<std::ffi::OsStr>, names: &[&str]) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = std::env::split_paths(&path_var)
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    names
        .iter()
        .find_map(|name| dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p)))
}

fn is_executable(p: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let exe_name = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("exe"));
        exe_name || meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// `GET /_ping` within 300 ms; on `OK`, `GET /info` within another 300 ms (bounded by the
/// run's deadline) for the daemon's OperatingSystem.
fn daemon(ep: &http::Endpoint, run_deadline: Instant) -> Observation {
    let socket = ep.display();
    let socket_value = socket.clone().map_or(Value::Null, Value::from);
    let shown = socket.unwrap_or_default();
    if let http::Endpoint::NotProbed(why) = ep {
        return Observation::skipped(DAEMON, TARGET, why.clone()).with("socket", Value::Null);
    }
    let start = Instant::now();
    let ping_deadline = (start + http::EXCHANGE_TIMEOUT).min(run_deadline);
    let obs = match http::get(ep, "/_ping", ping_deadline) {
        Err(e) => {
            let errno = http::errno_of(&e);
            let what = if errno == "ETIMEDOUT" {
                format!(
                    "no answer to GET /_ping on {shown} within {} ms",
                    http::EXCHANGE_TIMEOUT.as_millis()
                )
            } else {
                format!(
                    "GET /_ping on {shown}: {errno} ({})",
                    crate::errno::describe(&e)
                )
            };
            Observation::fail(DAEMON, TARGET, what).with_errno(errno)
        }
        Ok(a) if a.status != 200 || a.body.trim_ascii() != b"OK" => Observation::fail(
            DAEMON,
            TARGET,
            format!(
                "GET /_ping on {shown} answered HTTP {} {:?}, not 200 OK",
                a.status,
                String::from_utf8_lossy(&a.body[..a.body.len().min(80)])
            ),
        ),
        Ok(_) => {
            let ping_ms = crate::observation::round_ms(start.elapsed().as_secs_f64() * 1000.0);
            let info_deadline = (Instant::now() + http::EXCHANGE_TIMEOUT).min(run_deadline);
            let os = operating_system(ep, info_deadline);
            let desktop = os.as_ref().ok().map(|s| s.contains("Docker Desktop"));
            let mut message = format!("GET /_ping on {shown} answered OK in {ping_ms} ms");
            match &os {
                Ok(s) => message.push_str(&format!("; OperatingSystem {s:?}")),
                Err(why) => message.push_str(&format!("; /info not read: {why}")),
            }
            Observation::pass(DAEMON, TARGET, message)
                .with("ping_ms", ping_ms)
                .with("operating_system", os.ok().map_or(Value::Null, Value::from))
                .with("docker_desktop", desktop.map_or(Value::Null, Value::from))
        }
    };
    obs.with("socket", socket_value)
}

fn operating_system(ep: &http::Endpoint, deadline: Instant) -> Result<String, String> {
    let answer = http::get(ep, "/info", deadline).map_err(|e| http::errno_of(&e))?;
    if answer.status != 200 {
        return Err(format!("HTTP {}", answer.status));
    }
    let info: Value = serde_json::from_slice(&answer.body).map_err(|_| "not JSON".to_string())?;
    info.get("OperatingSystem")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| "no OperatingSystem field".to_string())
}

#[cfg(all(test, unix))]
mod tests;
