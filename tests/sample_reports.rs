//! The sample reports in reports/examples/ are regenerated from recorded hosts
//! (tests/fixtures/hosts/) and recorded observations (tests/fixtures/observations/), and must
//! match byte for byte, so the report format cannot change silently. To accept an intended
//! change: `WSL_VECPROBE_BLESS=1 cargo test --test sample_reports`, then review the diff.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// (example name, recorded host, data dirs on that host)
const SCENARIOS: &[(&str, &str, &[&str])] = &[
    ("linux-plain", "linux-plain", &["/home/user/proj"]),
    (
        "wsl2-nat-windows-drive",
        "wsl2-nat",
        &["/mnt/c/Users/dev/proj", "/home/dev/proj"],
    ),
    (
        "wsl2-mirrored-proxy-old-milvus-lite",
        "wsl2-mirrored",
        &["/home/dev/proj"],
    ),
];

fn generate(name: &str, host: &str, dirs: &[&str], format: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut cmd = Command::new(bin());
    // The live environment must not leak into a recorded host's report (CI=true, WSL_*).
    cmd.env("CI", "true")
        .env("GITHUB_ACTIONS", "true")
        .env("WSL_DISTRO_NAME", "Leaked");
    cmd.current_dir(root).args([
        "check",
        "--host-root",
        &format!("tests/fixtures/hosts/{host}"),
        "--replay",
        &format!("tests/fixtures/observations/{name}.json"),
        "--format",
        format,
    ]);
    for d in dirs {
        cmd.args(["--data-dir", d]);
    }
    let r = run_cmd(cmd, Duration::from_secs(20));
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
    r.stdout
}

fn compare_or_bless(path: &Path, generated: &str) {
    if std::env::var("WSL_VECPROBE_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(path, generated).expect("write example");
        return;
    }
    let committed = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with WSL_VECPROBE_BLESS=1)", path.display()));
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{} drifted from what the code generates (first difference at line {}):\n  committed: {:?}\n  generated: {:?}\nIf the change is intended: WSL_VECPROBE_BLESS=1 cargo test --test sample_reports",
            path.display(),
            first + 1,
            committed.lines().nth(first),
            generated.lines().nth(first)
        );
    }
}

#[test]
fn sample_reports_match_what_the_code_generates() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/examples");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../reports/schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for (name, host, dirs) in SCENARIOS {
        let json = generate(name, host, dirs, "json");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        compare_or_bless(&examples.join(format!("{name}.json")), &json);
        compare_or_bless(
            &examples.join(format!("{name}.md")),
            &generate(name, host, dirs, "markdown"),
        );
    }
}

#[test]
fn the_milvus_lite_story_names_its_causes_in_the_samples() {
    let json = generate(
        "wsl2-mirrored-proxy-old-milvus-lite",
        "wsl2-mirrored",
        &["/home/dev/proj"],
        "json",
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let row = backend(&report, "milvus-lite", Some("/home/dev/proj"));
    let reasons: Vec<String> = row["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "violated")
        .map(|r| r["requirement"].as_str().unwrap().to_string())
        .collect();
    assert!(
        reasons.iter().any(|r| r == "no-startup-check"),
        "milvus-lite < 2.4.12 is named: {reasons:?}"
    );
    assert_eq!(row["version"]["version"], "2.4.10");
}

#[test]
fn the_wsl2_sample_does_not_rate_milvus_lite_viable_on_a_windows_drive() {
    let json = generate(
        "wsl2-nat-windows-drive",
        "wsl2-nat",
        &["/mnt/c/Users/dev/proj", "/home/dev/proj"],
        "json",
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let row = backend(&report, "milvus-lite", Some("/mnt/c/Users/dev/proj"));
    assert_eq!(row["verdict"], "degraded", "{row:#}");
    assert!(
        row["evidence"].as_str().unwrap().contains("windows-drive"),
        "{row:#}"
    );
    let home = backend(&report, "milvus-lite", Some("/home/dev/proj"));
    assert_eq!(home["verdict"], "viable", "{home:#}");
}
