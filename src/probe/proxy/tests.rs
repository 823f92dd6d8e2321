//! Tests of the proxy rules (pure, environment given as a map) and of the observations;
//! the rule tables per client are in `grpc_rules` and `http_rules`.

mod grpc_rules;
mod http_rules;
mod measured;

use super::*;
use crate::observation::Status;
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn bypass_of(routing: &Routing) -> (bool, bool) {
    let direct = |t: &str| {
        routing
            .routes
            .iter()
            .any(|r| r.target == t && r.via.is_none())
    };
    (direct("127.0.0.1"), direct("localhost"))
}

fn grpc_bypass(pairs: &[(&str, &str)]) -> (bool, bool) {
    bypass_of(&grpc::route(&env_of(pairs)))
}

const PROXY: &str = "http://proxy.corp:3128";

// ---- observations ----

#[test]
fn observations_name_variables_but_never_values() {
    let secret_env = env_of(&[
        ("http_proxy", "http://user:secret@10.1.2.3:3128"),
        ("HTTPS_PROXY", "http://user:secret@10.1.2.3:3128"),
        ("no_proxy", "secret.example,10.1.2.3"),
        ("GRPC_ADDRESS_HTTP_PROXY", "10.1.2.3:3128"),
    ]);
    let all = observe_all(&secret_env);
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains("secret") && !text.contains("10.1.2.3"),
        "{text}"
    );
    assert_eq!(
        all[0].value("set"),
        Some(&json!([
            "http_proxy",
            "no_proxy",
            "HTTPS_PROXY",
            "GRPC_ADDRESS_HTTP_PROXY"
        ]))
    );
    assert_eq!(all[1].status, Status::Fail);
    assert_eq!(all[1].value("proxy_variable"), Some(&json!("http_proxy")));
    assert_eq!(all[2].status, Status::Fail);
    assert_eq!(
        all[2].value("bypass"),
        Some(&json!({"127.0.0.1": false, "localhost": false}))
    );
}

#[test]
fn a_clean_environment_passes_everything() {
    let all = observe_all(&env_of(&[]));
    assert!(all[..4].iter().all(|o| o.status == Status::Pass), "{all:?}");
    assert_eq!(all[4].id, "net.egress");
    assert_eq!(all[4].status, Status::Skipped, "egress is never probed");
    assert_eq!(all[0].value("set"), Some(&json!([])));
    assert_eq!(
        all[1].value("bypass"),
        Some(&json!({"127.0.0.1": true, "localhost": true}))
    );
    assert_eq!(all[1].value("proxy_variable"), Some(&json!(null)));
}

#[test]
fn an_exempting_no_proxy_passes_with_the_proxy_variable_named() {
    let env = env_of(&[
        ("http_proxy", PROXY),
        ("https_proxy", PROXY),
        ("no_proxy", "localhost,127.0.0.1"),
    ]);
    let all = observe_all(&env);
    assert_eq!((all[1].status, all[2].status), (Status::Pass, Status::Pass));
    assert_eq!(all[1].value("proxy_variable"), Some(&json!("https_proxy")));
    assert_eq!(all[2].value("proxy_variable"), Some(&json!("http_proxy")));
    assert_eq!(
        all[2].value("clients.curl.bypass.localhost"),
        Some(&json!(true))
    );
}

#[test]
fn http_fails_when_only_one_client_would_proxy() {
    // curl ignores HTTP_PROXY; requests uses it.
    let all = observe_all(&env_of(&[("HTTP_PROXY", PROXY)]));
    assert_eq!(all[2].status, Status::Fail);
    assert_eq!(
        all[2].value("clients.curl.bypass.localhost"),
        Some(&json!(true))
    );
    assert_eq!(
        all[2].value("clients.requests.bypass.localhost"),
        Some(&json!(false))
    );
    assert!(
        all[2].message.starts_with("requests would send"),
        "{}",
        all[2].message
    );
    assert_eq!(all[1].status, Status::Pass, "gRPC never reads HTTP_PROXY");
}
