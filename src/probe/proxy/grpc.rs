//! gRPC C-core's proxy rules (what Python `grpcio` does), as written in
//! `grpc/grpc:src/core/handshaker/http_connect/http_proxy_mapper.cc`:
//!
//! - The proxy is the first of `grpc_proxy`, `https_proxy`, `http_proxy` that is *set*
//!   (`GetEnv`: exact, lower-case names; upper-case ones are never read on Linux). A set but
//!   empty value means "no proxy" and ends the search. The value must parse as a URI with an
//!   authority, scheme exactly `http`, and a host; otherwise gRPC logs an error and uses no proxy.
//! - There is no built-in exemption for localhost or loopback; only `unix:` and `vsock:`
//!   targets skip the proxy.
//! - The exemption list is `no_grpc_proxy` when set (even empty), else `no_proxy`. Entries are
//!   comma-separated (empty ones skipped), ASCII-whitespace-trimmed, and match when the target
//!   host *ends with* the entry, ignoring case (`absl::EndsWithIgnoreCase`: no dot boundary,
//!   so `host` matches `localhost`, and an all-blank entry matches every host), or, for an IP
//!   literal target, when the entry is a CIDR range `addr/bits` of the same family containing
//!   it. No `*` wildcard; `localhost:19530` never matches (the host is compared without port).
//! - Separately, `GRPC_ADDRESS_HTTP_PROXY` (an `ip:port`) proxies connections to resolved
//!   addresses included, by the same matching, in `GRPC_ADDRESS_HTTP_PROXY_ENABLED_ADDRESSES`.

use super::{Env, Route, Routing, TARGETS};
use std::net::{IpAddr, SocketAddr};

pub(super) const PROXY_VARIABLES: [&str; 3] = ["grpc_proxy", "https_proxy", "http_proxy"];
pub(super) const NO_PROXY_VARIABLES: [&str; 2] = ["no_grpc_proxy", "no_proxy"];
pub(super) const ADDRESS_PROXY: &str = "GRPC_ADDRESS_HTTP_PROXY";
pub(super) const ADDRESS_PROXY_ENABLED: &str = "GRPC_ADDRESS_HTTP_PROXY_ENABLED_ADDRESSES";

/// Why gRPC would not use a proxy URI, mirroring `URI::Parse` and `GetHttpProxyServer`.
/// Reasons are fixed text: never the value.
pub(super) fn proxy_uri_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("empty value, which gRPC reads as \"no proxy\"");
    }
    let Some((scheme, rest)) = value.split_once(':').filter(|(s, _)| !s.is_empty()) else {
        return Some("not a URI (no scheme), which gRPC rejects");
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Some("not a URI (invalid scheme), which gRPC rejects");
    }
    let Some(after_slashes) = rest.strip_prefix("//") else {
        return Some("URI without an authority (host), which gRPC rejects");
    };
    let end = after_slashes
        .find(['/', '?', '#'])
        .unwrap_or(after_slashes.len());
    let (authority, tail) = after_slashes.split_at(end);
    if let Some(query) = tail
        .split('#')
        .next()
        .and_then(|t| t.split_once('?'))
        .map(|(_, q)| q)
        && query.is_empty()
    {
        return Some("URI with an empty query, which gRPC rejects");
    }
    if authority.is_empty() {
        return Some("URI without an authority (host), which gRPC rejects");
    }
    if scheme != "http" {
        return Some("scheme is not `http`; gRPC supports only http:// proxies and ignores it");
    }
    let host_port = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if host_port.is_empty() {
        return Some("URI without a host, which gRPC rejects");
    }
    None
}

/// `ServerInCIDRRange`: `entry` is `addr/bits` of the same family as `ip` and contains it.
fn cidr_contains(ip: IpAddr, entry: &str) -> bool {
    let Some((net, bits)) = entry.split_once('/') else {
        return false;
    };
    if net.is_empty() || bits.is_empty() {
        return false;
    }
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.trim().parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            masked(u32::from(a).into(), 32, bits) == masked(u32::from(n).into(), 32, bits)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            masked(u128::from(a), 128, bits) == masked(u128::from(n), 128, bits)
        }
        _ => false,
    }
}

/// Keep the top `bits` of a `width`-bit address (bits ≥ width keeps all, 0 keeps none).
fn masked(addr: u128, width: u32, bits: u32) -> u128 {
    if bits >= width {
        addr
    } else if bits == 0 {
        0
    } else {
        let keep = (u128::MAX >> (128 - width)) & !(u128::MAX >> (128 - width + bits));
        addr & keep
    }
}

/// `AddressIncluded`: does the comma list include `host` (suffix, ignoring case) or, for an
/// IP literal, a CIDR range containing it?
pub(super) fn list_includes(host: &str, list: &str) -> bool {
    let ip: Option<IpAddr> = host.parse().ok();
    list.split(',').filter(|e| !e.is_empty()).any(|entry| {
        let entry = entry.trim_matches(|c: char| c.is_ascii_whitespace());
        ends_with_ignore_case(host, entry) || ip.is_some_and(|ip| cidr_contains(ip, entry))
    })
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.is_char_boundary(text.len() - suffix.len())
        && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// The addresses a connection to `target` goes to after resolution (localhost: both loopbacks).
fn resolved(target: &str) -> Vec<IpAddr> {
    match target.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => vec![
            IpAddr::from([127, 0, 0, 1]),
            IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
        ],
    }
}

/// Would gRPC proxy loopback traffic, and through which variable?
pub(super) fn route(env: Env) -> Routing {
    let proxy_variable = PROXY_VARIABLES.into_iter().find(|n| env(n).is_some());
    let proxy_ignored = proxy_variable
        .and_then(env)
        .and_then(|v| proxy_uri_problem(&v));
    let no_proxy_variable = NO_PROXY_VARIABLES.into_iter().find(|n| env(n).is_some());
    let no_proxy = no_proxy_variable.and_then(env);
    let address_proxy = env(ADDRESS_PROXY).filter(|v| v.parse::<SocketAddr>().is_ok());
    let enabled = env(ADDRESS_PROXY_ENABLED);
    let routes = TARGETS
        .iter()
        .map(|&target| {
            let by_name = proxy_variable.is_some()
                && proxy_ignored.is_none()
                && !no_proxy
                    .as_deref()
                    .is_some_and(|list| list_includes(target, list));
            let by_address = address_proxy.is_some()
                && enabled.as_deref().is_some_and(|list| {
                    resolved(target)
                        .iter()
                        .any(|ip| list_includes(&ip.to_string(), list))
                });
            let via = match (by_name, by_address) {
                (true, _) => proxy_variable,
                (false, true) => Some(ADDRESS_PROXY),
                (false, false) => None,
            };
            Route { target, via }
        })
        .collect();
    Routing {
        proxy_variable,
        proxy_ignored,
        no_proxy_variable,
        routes,
    }
}
