//! HTTP clients' proxy rules for an `http://` URL to a loopback host, for two clients:
//!
//! **curl** (libcurl 7.88.1, checked against the binary on a Debian 12 host with a proxy and a
//! server both on 127.0.0.1): the proxy is `http_proxy` (lower-case only: `HTTP_PROXY` is
//! ignored, the CGI "httpoxy" rule), else `all_proxy`, else `ALL_PROXY`; the exemption list is
//! `no_proxy`, else `NO_PROXY`. Empty values count as unset (`curl_getenv`). `no_proxy` is
//! exactly `*` → no proxy for any host; otherwise tokens separated by commas and/or blanks.
//! A host name matches a token equal to it or a dot-bounded suffix, ignoring case, one
//! leading and one trailing dot of the token ignored (`.localhost` matches, `host` does not).
//! An IPv4 host matches only address tokens: exact, or CIDR `a.b.c.d/bits` (bits 0 or 32 →
//! exact, > 32 → never); `localhost` does not exempt 127.0.0.1. Ports in tokens never match.
//! No built-in localhost exemption.
//!
//! **Python requests** (2.34.2 `requests/utils.py`, which also calls CPython's
//! `urllib.request.proxy_bypass_environment`; Python 3.11): the proxy is urllib's
//! `getproxies_environment()['http']`, else its `['all']`, where a set lower-case variable
//! wins (and, if empty, removes the upper-case one), and `HTTP_PROXY` is ignored when
//! `REQUEST_METHOD` is set (CGI). Bypass when either (a) requests' own check on
//! `no_proxy or NO_PROXY` (spaces removed, comma list) matches: an IPv4 host by exact
//! address or CIDR with bits 1–32; a name by exact match or `.suffix`, leading dots of the
//! entry ignored; or (b) urllib's check on its `no` entry matches: the whole value exactly `*`,
//! or an entry (trimmed, leading dots removed, lower-cased) equal to the host or a
//! `.suffix` of it — this applies to IP hosts too (`0.0.1` exempts 127.0.0.1), with no CIDR.
//! No built-in localhost exemption.
//!
//! **Python httpx** (0.29.0 `httpx/_utils.py` `get_environment_proxies` and `URLPattern`,
//! measured with `tests/measure/proxy_clients.py`): the proxy is urllib's
//! `getproxies_environment()` `http`, else `all` (as for requests; `https_proxy` is not used for
//! an `http://` URL); the exemption list is urllib's `no` entry only (lower-case wins). Entries
//! are comma-separated and trimmed: `*` anywhere turns every proxy off; an IPv4 address (the
//! part before a `/` must parse) exempts exactly that address, so a CIDR such as `127.0.0.0/8`
//! exempts nothing but 127.0.0.0; `localhost` (any case) exempts localhost; any other entry `e`
//! exempts a host equal to `e` or ending in `.e` (`.localhost` does not exempt localhost, `0.0.1`
//! exempts 127.0.0.1). Entries with a scheme (`http://…`) are counted as not exempting.
//! No built-in localhost exemption.
//!
//! Targets are judged without a port: an entry `localhost:6333` exempts only that port in
//! requests (none in curl) and is counted as not exempting. Only the lower- and upper-case
//! forms of each name are read; Python would also honour mixed-case names (`Http_Proxy`).

use super::{Env, Route, Routing, TARGETS};
use std::net::Ipv4Addr;

/// A variable's value, with empty counted as unset (curl's `curl_getenv`, Python's `or`).
fn non_empty(env: Env, name: &str) -> Option<String> {
    env(name).filter(|v| !v.is_empty())
}

/// Keep the top `bits` of an IPv4 address; callers ensure 1 ≤ bits ≤ 31.
fn same_network(a: Ipv4Addr, b: Ipv4Addr, bits: u32) -> bool {
    let mask = u32::MAX << (32 - bits);
    u32::from(a) & mask == u32::from(b) & mask
}

/// C `atoi` on the digits after a CIDR slash: leading digits, none → 0, a sign → invalid.
fn atoi_bits(text: &str) -> Option<u32> {
    if text.starts_with('-') {
        return None;
    }
    let digits: String = text
        .trim_start_matches('+')
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    if digits.is_empty() {
        Some(0)
    } else {
        digits.parse().ok()
    }
}

/// `Curl_check_noproxy` (7.88.1) for a host without brackets or port.
pub(super) fn curl_no_proxy_includes(host: &str, list: &str) -> bool {
    if host.is_empty() || list.is_empty() {
        return false;
    }
    if list == "*" {
        return true;
    }
    let tokens = list.split([',', ' ', '\t']).filter(|t| !t.is_empty());
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return tokens.into_iter().any(|token| {
            let (net, bits) = match token.split_once('/') {
                Some((net, bits)) => (net, atoi_bits(bits)),
                None => (token, Some(0)),
            };
            match (net.parse::<Ipv4Addr>(), bits) {
                (Ok(net), Some(0 | 32)) => net == ip,
                (Ok(net), Some(bits)) if bits < 32 => same_network(ip, net, bits),
                _ => false,
            }
        });
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    tokens.into_iter().any(|token| {
        let token = token.strip_suffix('.').unwrap_or(token);
        let token = token.strip_prefix('.').unwrap_or(token);
        if token.is_empty() {
            return false;
        }
        host.eq_ignore_ascii_case(token)
            || (host.len() > token.len()
                && host.as_bytes()[host.len() - token.len() - 1] == b'.'
                && host.is_char_boundary(host.len() - token.len())
                && host[host.len() - token.len()..].eq_ignore_ascii_case(token))
    })
}

/// How curl would route `http://<target>/`.
pub(super) fn curl_route(env: Env) -> Routing {
    let proxy_variable = ["http_proxy", "all_proxy", "ALL_PROXY"]
        .into_iter()
        .find(|n| non_empty(env, n).is_some());
    let no_proxy_variable = ["no_proxy", "NO_PROXY"]
        .into_iter()
        .find(|n| non_empty(env, n).is_some());
    let list = no_proxy_variable.and_then(env).unwrap_or_default();
    routing(proxy_variable, None, no_proxy_variable, |host| {
        curl_no_proxy_includes(host, &list)
    })
}

/// Which of `<key>_proxy` / `<KEY>_PROXY` urllib's `getproxies_environment()` takes for `key`.
pub(super) fn urllib_variable(env: Env, key: &str) -> Option<&'static str> {
    let (lower, upper) = match key {
        "http" => ("http_proxy", "HTTP_PROXY"),
        "all" => ("all_proxy", "ALL_PROXY"),
        "no" => ("no_proxy", "NO_PROXY"),
        _ => return None,
    };
    match env(lower) {
        Some(v) if v.is_empty() => None,
        Some(_) => Some(lower),
        None if key == "http" && env("REQUEST_METHOD").is_some() => None,
        None => non_empty(env, upper).map(|_| upper),
    }
}

/// urllib's `proxy_bypass_environment(host)` for a host without port.
pub(super) fn urllib_bypass(host: &str, no_proxy: &str) -> bool {
    if no_proxy == "*" {
        return true;
    }
    let host = host.to_lowercase();
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .any(|name| {
            let name = name.trim_start_matches('.').to_lowercase();
            host == name || host.ends_with(&format!(".{name}"))
        })
}

/// requests' own part of `should_bypass_proxies(url, no_proxy=None)` for a host without port.
pub(super) fn requests_own_bypass(host: &str, no_proxy: &str) -> bool {
    let compact = no_proxy.replace(' ', "");
    let mut entries = compact.split(',').filter(|e| !e.is_empty());
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        entries.any(|entry| match entry.split_once('/') {
            Some((net, bits)) if !bits.contains('/') => {
                match (net.parse::<Ipv4Addr>(), bits.parse::<u32>()) {
                    (Ok(net), Ok(32)) => net == ip,
                    (Ok(net), Ok(bits @ 1..=31)) => same_network(ip, net, bits),
                    _ => false,
                }
            }
            Some(_) => false,
            None => entry == host,
        })
    } else {
        entries.any(|entry| {
            let entry = entry.trim_start_matches('.');
            host == entry || host.ends_with(&format!(".{entry}"))
        })
    }
}

/// How Python requests would route `http://<target>/`.
pub(super) fn requests_route(env: Env) -> Routing {
    let proxy_variable = urllib_variable(env, "http").or_else(|| urllib_variable(env, "all"));
    let requests_list = non_empty(env, "no_proxy").or_else(|| non_empty(env, "NO_PROXY"));
    let urllib_no = urllib_variable(env, "no");
    let urllib_list = urllib_no.and_then(env);
    let no_proxy_variable = if requests_list.is_some() {
        ["no_proxy", "NO_PROXY"]
            .into_iter()
            .find(|n| non_empty(env, n).is_some())
    } else {
        urllib_no
    };
    routing(proxy_variable, None, no_proxy_variable, |host| {
        requests_list
            .as_deref()
            .is_some_and(|l| requests_own_bypass(host, l))
            || urllib_list
                .as_deref()
                .is_some_and(|l| urllib_bypass(host, l))
    })
}

/// httpx's `get_environment_proxies()` exemption for a host without port.
pub(super) fn httpx_exempt(host: &str, no_proxy: &str) -> bool {
    let host = host.to_ascii_lowercase();
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.contains("://"))
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let before_slash = entry.split('/').next().unwrap_or_default();
            if before_slash.parse::<Ipv4Addr>().is_ok() {
                return host == before_slash;
            }
            let entry = entry.to_ascii_lowercase();
            if entry.contains(':') {
                return false; // a port: only that port is exempt
            }
            if entry == "localhost" {
                return host == "localhost";
            }
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

/// How Python httpx would route `http://<target>/`.
pub(super) fn httpx_route(env: Env) -> Routing {
    let proxy_variable = urllib_variable(env, "http").or_else(|| urllib_variable(env, "all"));
    let no_proxy_variable = urllib_variable(env, "no");
    let list = no_proxy_variable.and_then(env).unwrap_or_default();
    let all_off = list.split(',').any(|e| e.trim() == "*");
    routing(proxy_variable, None, no_proxy_variable, |host| {
        all_off || httpx_exempt(host, &list)
    })
}

fn routing(
    proxy_variable: Option<&'static str>,
    proxy_ignored: Option<&'static str>,
    no_proxy_variable: Option<&'static str>,
    exempt: impl Fn(&str) -> bool,
) -> Routing {
    let routes = TARGETS
        .iter()
        .map(|&target| Route {
            target,
            via: proxy_variable.filter(|_| !exempt(target)),
        })
        .collect();
    Routing {
        proxy_variable,
        proxy_ignored,
        no_proxy_variable,
        routes,
    }
}
