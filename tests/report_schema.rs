//! A real run's JSON validates against reports/schema.json; every backend has a verdict with
//! at least one reason, every reason's probe id is present in `probes`; the data dir is left
//! exactly as it was; `schema` prints the published schema.

mod common;
use common::*;
use serde_json::Value;

fn schema() -> Value {
    serde_json::from_str(include_str!("../reports/schema.json")).expect("schema parses")
}

pub fn assert_valid(report: &Value) {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match reports/schema.json:\n{}",
        errors.join("\n")
    );
}

#[test]
fn a_real_run_validates_and_every_verdict_rests_on_present_observations() {
    let (t, dir) = tempdir();
    std::fs::write(format!("{dir}/existing.db"), b"user data").unwrap();
    let before = snapshot(t.path());
    let r = run(["check", "--format", "json", "--data-dir", &dir], &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "stderr:\n{}", r.stderr);
    let report = r.json();
    assert_valid(&report);
    let probes = report["probes"].as_array().unwrap();
    assert!(!probes.is_empty());
    for p in probes {
        assert!(
            ["pass", "fail", "timeout", "skipped", "error"]
                .contains(&p["status"].as_str().unwrap()),
            "{p:#}"
        );
    }
    let backends = report["backends"].as_array().unwrap();
    assert!(backends.len() >= 17, "every backend is judged");
    for b in backends {
        let reasons = b["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty(), "{} has no reason", b["id"]);
        for reason in reasons {
            let id = reason["probe"].as_str().unwrap();
            assert!(
                probes.iter().any(|p| p["id"] == id),
                "{}: reason rests on `{id}`, absent from probes",
                b["id"]
            );
            assert!(!reason["source"].as_str().unwrap().is_empty());
        }
    }
    assert_unchanged(&before, t.path());
}

#[test]
fn the_schema_command_prints_the_published_schema() {
    let r = run(["schema"], &[]);
    assert_eq!(r.code, Some(0));
    let printed: Value = serde_json::from_str(&r.stdout).expect("schema output is JSON");
    assert_eq!(printed, schema());
}

#[test]
fn host_only_output_validates_too() {
    let (_t, dir) = tempdir();
    let r = run(["host", "--format", "json", "--data-dir", &dir], &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.json();
    assert_valid(&report);
    assert_eq!(
        report["probes"].as_array().map(|p| p.len()),
        Some(0),
        "host runs no probes"
    );
}
