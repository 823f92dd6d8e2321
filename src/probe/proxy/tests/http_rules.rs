//! curl and Python requests/urllib rule tables.

use super::super::http::{
    curl_no_proxy_includes, requests_own_bypass, urllib_bypass, urllib_variable,
};
use super::*;

#[test]
fn curl_matches_as_measured_on_7_88_1() {
    let c = curl_no_proxy_includes;
    // Cases checked against curl 7.88.1 with a proxy and a server on 127.0.0.1.
    assert!(c("localhost", "foo localhost") && c("localhost", "localhost foo"));
    assert!(
        c("localhost", ".localhost") && c("localhost", "LOCALHOST") && c("localhost", "localhost.")
    );
    assert!(!c("localhost", "host") && !c("localhost", "calhost"));
    assert!(!c("localhost", "*,foo") && !c("localhost", " * ") && c("localhost", "*"));
    assert!(!c("localhost", "localhost:1234") && !c("127.0.0.1", "127.0.0.1:1"));
    assert!(
        c("127.0.0.1", "127.0.0.1/8")
            && c("127.0.0.1", "127.0.0.0/8")
            && !c("localhost", "127.0.0.0/8")
    );
    assert!(!c("127.0.0.1", "0.1") && !c("127.0.0.1", "127.1") && !c("127.0.0.1", "localhost"));
    assert!(
        !c("127.0.0.1", "127.0.0.1/33") && !c("127.0.0.1", "::1") && !c("localhost", "foo, ,bar")
    );
    assert!(c("127.0.0.1", "foo,127.0.0.1") && c("127.0.0.1", "127.0.0.1/0"));
    assert!(
        c("db.localhost", "localhost") && !c("localhost", "db.localhost") && !c("localhost", "")
    );
}

#[test]
fn curl_reads_lower_case_http_proxy_only_and_empty_means_unset() {
    let r = |pairs: &[(&str, &str)]| http::curl_route(&env_of(pairs));
    assert_eq!(r(&[("HTTP_PROXY", PROXY)]).proxy_variable, None);
    assert_eq!(
        r(&[("http_proxy", PROXY)]).proxy_variable,
        Some("http_proxy")
    );
    assert_eq!(
        r(&[("http_proxy", ""), ("ALL_PROXY", PROXY)]).proxy_variable,
        Some("ALL_PROXY")
    );
    assert_eq!(
        r(&[("https_proxy", PROXY)]).proxy_variable,
        None,
        "https_proxy is for https:// URLs"
    );
    let np = r(&[("http_proxy", PROXY), ("no_proxy", ""), ("NO_PROXY", "*")]);
    assert_eq!(np.no_proxy_variable, Some("NO_PROXY"));
    assert_eq!(bypass_of(&np), (true, true));
    assert_eq!(
        bypass_of(&r(&[("http_proxy", PROXY), ("no_proxy", "localhost")])),
        (false, true)
    );
}

// Expected values below were checked against requests 2.34.2 `resolve_proxies` on CPython 3.11.

#[test]
fn urllib_prefers_a_set_lower_case_name_even_when_empty() {
    let v = |pairs: &[(&str, &str)], key| urllib_variable(&env_of(pairs), key);
    assert_eq!(v(&[("HTTP_PROXY", PROXY)], "http"), Some("HTTP_PROXY"));
    assert_eq!(
        v(&[("HTTP_PROXY", PROXY), ("http_proxy", PROXY)], "http"),
        Some("http_proxy")
    );
    assert_eq!(
        v(&[("HTTP_PROXY", PROXY), ("http_proxy", "")], "http"),
        None
    );
    assert_eq!(
        v(&[("HTTP_PROXY", PROXY), ("REQUEST_METHOD", "GET")], "http"),
        None,
        "CGI rule"
    );
    assert_eq!(
        v(&[("http_proxy", PROXY), ("REQUEST_METHOD", "GET")], "http"),
        Some("http_proxy")
    );
    assert_eq!(
        v(&[("ALL_PROXY", PROXY), ("REQUEST_METHOD", "GET")], "all"),
        Some("ALL_PROXY")
    );
    assert_eq!(v(&[("NO_PROXY", "")], "no"), None);
}

#[test]
fn urllib_bypass_is_suffix_on_dots_and_star_only_alone() {
    assert!(urllib_bypass("localhost", "*"));
    assert!(!urllib_bypass("localhost", "*,foo"));
    assert!(!urllib_bypass("localhost", " *"));
    assert!(urllib_bypass("localhost", " foo , LOCALHOST "));
    assert!(urllib_bypass("localhost", "..localhost"));
    assert!(!urllib_bypass("localhost", "host"));
    assert!(
        urllib_bypass("127.0.0.1", "0.0.1"),
        "IP hosts are suffix-matched too"
    );
    assert!(
        !urllib_bypass("127.0.0.1", "127.0.0.0/8"),
        "no CIDR in urllib"
    );
    assert!(!urllib_bypass("localhost", "localhost:6333"));
    assert!(!urllib_bypass("localhost", ""));
}

#[test]
fn requests_own_check_handles_ips_by_cidr_and_names_by_suffix() {
    assert!(requests_own_bypass("127.0.0.1", "127.0.0.0/8"));
    assert!(requests_own_bypass("127.0.0.1", "foo, 127.0.0.1"));
    assert!(
        !requests_own_bypass("127.0.0.1", "127.0.0.0/0"),
        "bits must be 1..=32"
    );
    assert!(!requests_own_bypass("127.0.0.1", "127.0.0.0/33"));
    assert!(requests_own_bypass("127.0.0.1", "127.0.0.1/32"));
    assert!(
        !requests_own_bypass("127.0.0.1", "0.0.1"),
        "IPs compare exactly in requests' own loop"
    );
    assert!(requests_own_bypass("localhost", " .localhost"));
    assert!(requests_own_bypass("localhost", "a,,localhost"));
    assert!(!requests_own_bypass("localhost", "host"));
    assert!(
        !requests_own_bypass("localhost", "LOCALHOST"),
        "requests' own loop is case-sensitive"
    );
}

#[test]
fn requests_route_combines_both_checks() {
    let r = |pairs: &[(&str, &str)]| http::requests_route(&env_of(pairs));
    assert_eq!(bypass_of(&r(&[("HTTP_PROXY", PROXY)])), (false, false));
    assert_eq!(
        bypass_of(&r(&[
            ("HTTP_PROXY", PROXY),
            ("NO_PROXY", "127.0.0.0/8,LOCALHOST")
        ])),
        (true, true)
    );
    // requests falls back to NO_PROXY when no_proxy is empty; urllib would not.
    assert_eq!(
        bypass_of(&r(&[
            ("HTTP_PROXY", PROXY),
            ("no_proxy", ""),
            ("NO_PROXY", "localhost")
        ])),
        (false, true)
    );
    assert_eq!(
        bypass_of(&r(&[("ALL_PROXY", PROXY), ("no_proxy", "*")])),
        (true, true)
    );
    assert_eq!(r(&[("ALL_PROXY", PROXY)]).proxy_variable, Some("ALL_PROXY"));
    assert_eq!(r(&[("https_proxy", PROXY)]).proxy_variable, None);
    // requests' resolve_proxies: 0.0.1 exempts 127.0.0.1 only through urllib's suffix check.
    assert_eq!(
        bypass_of(&r(&[("http_proxy", PROXY), ("no_proxy", "0.0.1")])),
        (true, false)
    );
}
