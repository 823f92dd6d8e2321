//! gRPC C-core rule tables (`http_proxy_mapper.cc`).

use super::*;

#[test]
fn grpc_reads_lower_case_names_in_order_and_never_upper_case() {
    let r = grpc::route(&env_of(&[
        ("HTTPS_PROXY", PROXY),
        ("HTTP_PROXY", PROXY),
        ("NO_PROXY", ""),
    ]));
    assert_eq!(r.proxy_variable, None);
    assert_eq!(bypass_of(&r), (true, true));
    let r = grpc::route(&env_of(&[("http_proxy", PROXY), ("https_proxy", PROXY)]));
    assert_eq!(r.proxy_variable, Some("https_proxy"));
    assert_eq!(bypass_of(&r), (false, false));
    let r = grpc::route(&env_of(&[("http_proxy", PROXY), ("grpc_proxy", PROXY)]));
    assert_eq!(r.proxy_variable, Some("grpc_proxy"));
}

#[test]
fn grpc_an_empty_proxy_variable_stops_the_search_and_means_no_proxy() {
    let r = grpc::route(&env_of(&[("grpc_proxy", ""), ("https_proxy", PROXY)]));
    assert_eq!(r.proxy_variable, Some("grpc_proxy"));
    assert!(r.proxy_ignored.is_some());
    assert_eq!(bypass_of(&r), (true, true));
}

#[test]
fn grpc_ignores_proxies_that_are_not_http_uris() {
    for bad in [
        "https://p:3128",
        "socks5://p:1080",
        "HTTP://p:3128",
        "p.corp:3128",
        "10.1.2.3:3128",
        "http:p",
        "http://",
        "http://user@",
        "http://p:3128/?",
    ] {
        assert!(
            grpc::proxy_uri_problem(bad).is_some(),
            "{bad} should be rejected"
        );
        assert_eq!(grpc_bypass(&[("https_proxy", bad)]), (true, true), "{bad}");
    }
    for good in [
        "http://p:3128",
        "http://user:pw@10.1.2.3:3128",
        "http://p",
        "http://[::1]:3128/",
        "http://p:3128/?a=b",
    ] {
        assert_eq!(
            grpc::proxy_uri_problem(good),
            None,
            "{good} should be accepted"
        );
    }
}

#[test]
fn grpc_has_no_builtin_localhost_exemption() {
    assert_eq!(grpc_bypass(&[("http_proxy", PROXY)]), (false, false));
}

#[test]
fn grpc_no_grpc_proxy_wins_over_no_proxy_even_when_empty() {
    let r = grpc::route(&env_of(&[
        ("http_proxy", PROXY),
        ("no_grpc_proxy", ""),
        ("no_proxy", "localhost,127.0.0.1"),
    ]));
    assert_eq!(r.no_proxy_variable, Some("no_grpc_proxy"));
    assert_eq!(bypass_of(&r), (false, false));
    assert_eq!(
        grpc_bypass(&[
            ("http_proxy", PROXY),
            ("no_grpc_proxy", "localhost"),
            ("no_proxy", "127.0.0.1")
        ]),
        (false, true)
    );
    assert_eq!(
        grpc_bypass(&[("http_proxy", PROXY), ("NO_PROXY", "localhost,127.0.0.1")]),
        (false, false)
    );
}

#[test]
fn grpc_matches_entries_as_plain_case_insensitive_suffixes() {
    let includes = grpc::list_includes;
    assert!(includes("localhost", "localhost"));
    assert!(includes("localhost", "LOCALHOST"));
    assert!(
        includes("localhost", "host"),
        "no dot boundary in EndsWithIgnoreCase"
    );
    assert!(!includes("localhost", ".localhost"));
    assert!(includes("127.0.0.1", "0.0.1"));
    assert!(
        includes("127.0.0.1", " foo , 127.0.0.1 "),
        "entries are trimmed"
    );
    assert!(includes("127.0.0.1", "\t127.0.0.1\t"));
    assert!(!includes("localhost", "*"), "no wildcard");
    assert!(
        !includes("localhost", "localhost:19530"),
        "ports never match"
    );
    assert!(!includes("localhost", ""));
    assert!(!includes("localhost", ",,,"));
    assert!(
        includes("localhost", "foo, ,bar"),
        "an all-blank entry trims to \"\", which every host ends with"
    );
}

#[test]
fn grpc_matches_cidr_ranges_for_ip_targets_only() {
    let includes = grpc::list_includes;
    assert!(includes("127.0.0.1", "127.0.0.0/8"));
    assert!(includes("127.0.0.1", "10.0.0.0/8, 127.0.0.1/32"));
    assert!(includes("127.0.0.1", "0.0.0.0/0"));
    assert!(
        includes("127.0.0.1", "127.0.0.1/40"),
        "bits above the width compare exactly"
    );
    assert!(!includes("127.0.0.1", "127.0.0.2/40"));
    assert!(!includes("127.0.0.1", "10.0.0.0/8"));
    assert!(!includes("127.0.0.1", "::1/128"), "families differ");
    assert!(!includes("127.0.0.1", "127.0.0.0/"));
    assert!(!includes("127.0.0.1", "/8"));
    assert!(!includes("127.0.0.1", "127.0.0.0/x"));
    assert!(
        !includes("localhost", "127.0.0.0/8"),
        "names are never CIDR-matched"
    );
    assert!(includes("::1", "::/64"));
}

#[test]
fn grpc_address_proxy_applies_to_enabled_loopback_addresses() {
    let pairs = [
        ("GRPC_ADDRESS_HTTP_PROXY", "10.1.2.3:3128"),
        ("GRPC_ADDRESS_HTTP_PROXY_ENABLED_ADDRESSES", "127.0.0.0/8"),
    ];
    let r = grpc::route(&env_of(&pairs));
    assert_eq!(bypass_of(&r), (false, false));
    assert_eq!(r.reported_variable(), Some("GRPC_ADDRESS_HTTP_PROXY"));
    assert_eq!(
        grpc_bypass(&[
            pairs[0],
            ("GRPC_ADDRESS_HTTP_PROXY_ENABLED_ADDRESSES", "::1")
        ]),
        (true, false)
    );
    assert_eq!(
        grpc_bypass(&[("GRPC_ADDRESS_HTTP_PROXY", "not-an-address"), pairs[1]]),
        (true, true)
    );
    assert_eq!(grpc_bypass(&[pairs[0]]), (true, true));
}
