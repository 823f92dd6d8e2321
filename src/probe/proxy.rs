//! Probe `proxy`: would a client send loopback traffic (127.0.0.1, localhost) to a proxy,
//! given the proxy variables in the environment (`ctx.env`)? `proxy.env` lists which
//! variables are set; `proxy.grpc` applies gRPC C-core's rules (see `grpc`), `proxy.http`
//! those of curl, Python requests and httpx (see `http`), `proxy.httpx` httpx's alone. Only
//! variable *names* ever leave this module: values (proxy URLs, credentials) are read,
//! matched, and dropped.

mod grpc;
mod http;
#[cfg(test)]
mod tests;

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::observation::Observation;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

pub static PROBE: ProbeDef = ProbeDef {
    name: "proxy",
    kind: ProbeKind::Environment,
    scope: Scope::Host,
    timeout: Duration::from_millis(500),
    plan,
    run,
    in_agent: false,
};

/// Environment lookup (`ctx.env`, or a map in tests).
type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The loopback hosts judged, as clients name them.
const TARGETS: [&str; 2] = ["127.0.0.1", "localhost"];

/// Variables reported by `proxy.env`.
const ENV_NAMES: [&str; 15] = [
    "grpc_proxy",
    "https_proxy",
    "http_proxy",
    "all_proxy",
    "no_grpc_proxy",
    "no_proxy",
    "GRPC_PROXY",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "NO_GRPC_PROXY",
    "NO_PROXY",
    grpc::ADDRESS_PROXY,
    grpc::ADDRESS_PROXY_ENABLED,
    "WSL_PAC_URL",
];

const IDS: [&str; 5] = [
    "proxy.env",
    "proxy.grpc",
    "proxy.http",
    "proxy.httpx",
    "net.egress",
];

/// Where one target's traffic goes: `via` names the variable whose proxy carries it.
struct Route {
    target: &'static str,
    via: Option<&'static str>,
}

/// One client's view of the environment.
struct Routing {
    /// The variable the client takes its proxy from (None: no proxy configured).
    proxy_variable: Option<&'static str>,
    /// Why that variable's value is not used (fixed text, never the value).
    proxy_ignored: Option<&'static str>,
    /// The exemption list the client consults.
    no_proxy_variable: Option<&'static str>,
    routes: Vec<Route>,
}

impl Routing {
    fn proxied(&self) -> Vec<&Route> {
        self.routes.iter().filter(|r| r.via.is_some()).collect()
    }
    fn bypass(&self) -> Value {
        let map: Map<String, Value> = self
            .routes
            .iter()
            .map(|r| (r.target.to_string(), json!(r.via.is_none())))
            .collect();
        Value::Object(map)
    }
    /// The variable to report: the one carrying loopback traffic if any, else the configured one.
    fn reported_variable(&self) -> Option<&'static str> {
        self.proxied()
            .first()
            .and_then(|r| r.via)
            .or(self.proxy_variable)
    }
    fn values(&self) -> Value {
        json!({
            "proxy_variable": self.reported_variable(),
            "no_proxy_variable": self.no_proxy_variable,
            "bypass": self.bypass(),
        })
    }
}

fn plan(_ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    IDS.iter().map(|id| Planned::new(*id, "host")).collect()
}

fn run(ctx: &ProbeContext, _dir: Option<&DataDir>, sink: &Sink) {
    let env: Env = &ctx.env;
    for obs in observe_all(env) {
        sink.emit(obs);
    }
}

/// Every observation of this probe for the given environment.
fn observe_all(env: Env) -> Vec<Observation> {
    vec![
        env_observation(env),
        grpc_observation(env),
        http_observation(env),
        httpx_observation(env),
        egress_observation(env),
    ]
}

/// Outbound (non-loopback) reachability is never probed: the tool only touches loopback.
/// This observation says so, so that a cloud backend's verdict can rest on it honestly
/// (`unknown`), and records whether an HTTPS proxy variable is set (names only).
fn egress_observation(env: Env) -> Observation {
    let https_proxy: Vec<&str> = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
        .into_iter()
        .filter(|n| env(n).is_some_and(|v| !v.is_empty()))
        .collect();
    Observation::skipped(
        "net.egress",
        "host",
        "outbound connections are not probed: wsl-vecprobe only sends traffic to loopback addresses",
    )
    .with("https_proxy_set", json!(https_proxy))
}

fn env_observation(env: Env) -> Observation {
    let start = Instant::now();
    let set: Vec<&str> = ENV_NAMES
        .into_iter()
        .filter(|n| env(n).is_some_and(|v| !v.is_empty()))
        .collect();
    let empty: Vec<&str> = ENV_NAMES
        .into_iter()
        .filter(|n| env(n).is_some_and(|v| v.is_empty()))
        .collect();
    let message = if set.is_empty() {
        "no proxy variable is set".to_string()
    } else {
        format!("set (values not recorded): {}", set.join(", "))
    };
    Observation::pass("proxy.env", "host", message)
        .with("set", json!(set))
        .with("empty", json!(empty))
        .elapsed_since(start)
}

/// "127.0.0.1 and localhost" / "localhost" for the routes that go through a proxy.
fn target_list(routes: &[&Route]) -> String {
    routes
        .iter()
        .map(|r| r.target)
        .collect::<Vec<_>>()
        .join(" and ")
}

fn grpc_observation(env: Env) -> Observation {
    let start = Instant::now();
    let routing = grpc::route(env);
    let proxied = routing.proxied();
    let exemption = match routing.no_proxy_variable {
        Some(n) => format!("{n} does not exempt them"),
        None => "neither no_grpc_proxy nor no_proxy is set".to_string(),
    };
    let obs = match (routing.proxy_variable, routing.proxy_ignored) {
        _ if !proxied.is_empty() => Observation::fail(
            "proxy.grpc",
            "host",
            format!(
                "a gRPC (C-core) client would send {} through the proxy from {} ({exemption}; gRPC has no built-in localhost exemption)",
                target_list(&proxied),
                routing.reported_variable().unwrap_or("?"),
            ),
        ),
        (None, _) => Observation::pass(
            "proxy.grpc",
            "host",
            format!(
                "no gRPC proxy variable ({}) is set",
                grpc::PROXY_VARIABLES.join(", ")
            ),
        ),
        (Some(var), Some(reason)) => Observation::pass(
            "proxy.grpc",
            "host",
            format!("{var} is set but gRPC uses no proxy from it: {reason}"),
        ),
        (Some(var), None) => Observation::pass(
            "proxy.grpc",
            "host",
            format!(
                "gRPC takes its proxy from {var}, but {} exempts 127.0.0.1 and localhost",
                routing.no_proxy_variable.unwrap_or("the exemption list")
            ),
        ),
    };
    let mut obs = with_values(obs, &routing.values());
    obs = obs.with("proxy_ignored", json!(routing.proxy_ignored));
    obs.elapsed_since(start)
}

/// httpx alone, for the backends whose client is built on it (chromadb's HttpClient,
/// qdrant-client's REST, weaviate-client): measured, it sends loopback requests to the proxy.
fn httpx_observation(env: Env) -> Observation {
    let start = Instant::now();
    let routing = http::httpx_route(env);
    let proxied = routing.proxied();
    let obs = if !proxied.is_empty() {
        Observation::fail(
            "proxy.httpx",
            "host",
            format!(
                "httpx would send {} through the proxy from {} ({}; httpx has no built-in localhost exemption)",
                target_list(&proxied),
                routing.reported_variable().unwrap_or("?"),
                match routing.no_proxy_variable {
                    Some(n) => format!("{n} does not exempt them"),
                    None => "no_proxy is not set".to_string(),
                }
            ),
        )
    } else if routing.proxy_variable.is_none() {
        Observation::pass(
            "proxy.httpx",
            "host",
            "no proxy variable httpx uses for http:// URLs (http_proxy, HTTP_PROXY, all_proxy, ALL_PROXY) is set",
        )
    } else {
        Observation::pass(
            "proxy.httpx",
            "host",
            format!(
                "httpx takes its proxy from {}, but {} exempts 127.0.0.1 and localhost",
                routing.proxy_variable.unwrap_or("?"),
                routing.no_proxy_variable.unwrap_or("the exemption list")
            ),
        )
    };
    with_values(obs, &routing.values()).elapsed_since(start)
}

fn http_observation(env: Env) -> Observation {
    let start = Instant::now();
    let clients = [
        ("requests", http::requests_route(env)),
        ("httpx", http::httpx_route(env)),
        ("curl", http::curl_route(env)),
    ];
    let bypass: Map<String, Value> = TARGETS
        .iter()
        .map(|t| {
            let direct = clients.iter().all(|(_, r)| {
                r.routes
                    .iter()
                    .any(|route| route.target == *t && route.via.is_none())
            });
            (t.to_string(), json!(direct))
        })
        .collect();
    let proxy_variable = clients
        .iter()
        .find_map(|(_, r)| r.proxied().first().and_then(|route| route.via))
        .or_else(|| clients.iter().find_map(|(_, r)| r.proxy_variable));
    let failing: Vec<String> = clients
        .iter()
        .filter(|(_, r)| !r.proxied().is_empty())
        .map(|(name, r)| {
            format!(
                "{name} would send {} through the proxy from {}",
                target_list(&r.proxied()),
                r.reported_variable().unwrap_or("?")
            )
        })
        .collect();
    let obs = if !failing.is_empty() {
        Observation::fail(
            "proxy.http",
            "host",
            format!("{} (no built-in localhost exemption)", failing.join("; ")),
        )
    } else if proxy_variable.is_none() {
        Observation::pass(
            "proxy.http",
            "host",
            "no proxy variable for http:// URLs (http_proxy, HTTP_PROXY, all_proxy, ALL_PROXY) is set",
        )
    } else {
        Observation::pass(
            "proxy.http",
            "host",
            "an HTTP proxy is set, but no_proxy exempts 127.0.0.1 and localhost for requests, httpx and curl",
        )
    };
    let per_client: Map<String, Value> = clients
        .iter()
        .map(|(name, r)| (name.to_string(), r.values()))
        .collect();
    obs.with("proxy_variable", json!(proxy_variable))
        .with("bypass", Value::Object(bypass))
        .with("clients", Value::Object(per_client))
        .elapsed_since(start)
}

fn with_values(mut obs: Observation, values: &Value) -> Observation {
    if let Value::Object(map) = values {
        for (k, v) in map {
            obs = obs.with(k, v.clone());
        }
    }
    obs
}
