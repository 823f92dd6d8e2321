//! The matchers against what the real clients did (`tests/measure/*.jsonl`, made by
//! `tests/measure/proxy_clients.py` and `no_proxy_forms.py` in a venv with grpcio 1.85.3,
//! httpx 0.29.0, requests 2.34.2, urllib3 2.8.0 on Python 3.11): every recorded case must be
//! predicted. (urllib3's PoolManager reads no proxy variable at all.)

use super::*;

fn route_of(client: &str, env: Env) -> Option<Routing> {
    match client {
        "requests" => Some(http::requests_route(env)),
        "httpx" => Some(http::httpx_route(env)),
        "grpcio" => Some(grpc::route(env)),
        _ => None,
    }
}

fn predicted_direct(client: &str, pairs: &[(&str, &str)], host: &str) -> Option<bool> {
    let env = env_of(pairs);
    let routing = route_of(client, &env)?;
    routing
        .routes
        .iter()
        .find(|r| r.target == host)
        .map(|r| r.via.is_none())
}

#[test]
fn every_measured_no_proxy_form_is_predicted() {
    let text = include_str!("../../../../tests/measure/no_proxy_forms.jsonl");
    let mut checked = 0;
    for line in text.lines() {
        let r: serde_json::Value = serde_json::from_str(line).expect("jsonl");
        let (client, var, list, host) = (
            r["client"].as_str().unwrap_or_default(),
            r["no_proxy_var"].as_str().unwrap_or_default(),
            r["no_proxy"].as_str().unwrap_or_default(),
            r["host"].as_str().unwrap_or_default(),
        );
        if list.contains(':') {
            continue; // `localhost:<port>` exempts only the measured port: judged as not exempting
        }
        let pairs = [("http_proxy", "http://127.0.0.1:9"), (var, list)];
        let want = r["outcome"] == "direct";
        assert_eq!(
            predicted_direct(client, &pairs, host),
            Some(want),
            "{client} with {var}={list:?} to {host}"
        );
        checked += 1;
    }
    assert!(checked >= 70, "{checked}");
}

#[test]
fn every_measured_proxy_variable_is_predicted() {
    let text = include_str!("../../../../tests/measure/proxy_clients.jsonl");
    let mut checked = 0;
    for line in text.lines().skip(1) {
        let r: serde_json::Value = serde_json::from_str(line).expect("jsonl");
        let client = r["client"].as_str().unwrap_or_default();
        let var = r["variable"].as_str().unwrap_or_default();
        let host = r["host"].as_str().unwrap_or_default();
        let mut pairs = vec![(var, "http://127.0.0.1:9")];
        if let Some(np) = r["no_proxy"].as_str() {
            pairs.push(("no_proxy", np));
        }
        let Some(direct) = predicted_direct(client, &pairs, host) else {
            assert_eq!(r["outcome"], "direct", "{r}");
            continue;
        };
        assert_eq!(direct, r["outcome"] == "direct", "{r}");
        checked += 1;
    }
    assert!(checked >= 150, "{checked}");
}
