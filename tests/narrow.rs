//! Readable at 80 columns: with COLUMNS=80 every line of the table fits, and no command, sysctl
//! name, URL or path of a remediation or evidence is split across lines.

mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

fn check(host: &str, replay: &str, dirs: &[&str], format: &str, extra: &[&str]) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut cmd = Command::new(bin());
    cmd.current_dir(root).env("COLUMNS", "80").args([
        "check",
        "--host-root",
        &format!("tests/fixtures/hosts/{host}"),
        "--replay",
        &format!("tests/fixtures/observations/{replay}.json"),
        "--format",
        format,
    ]);
    cmd.args(extra);
    for d in dirs {
        cmd.args(["--data-dir", d]);
    }
    let r = run_cmd(cmd, Duration::from_secs(20));
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.stdout
}

/// Every whitespace-separated token of the report's remediation and evidence appears whole.
fn assert_tokens_whole(json: &serde_json::Value, text: &str) {
    for b in json["backends"].as_array().unwrap() {
        let mut fields: Vec<String> = b["remediation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect();
        fields.push(b["evidence"].as_str().unwrap().to_string());
        fields.push(b["id"].as_str().unwrap().to_string());
        fields.push(b["verdict"].as_str().unwrap().to_string());
        for f in fields {
            for token in f.split_whitespace().filter(|t| t.len() > 3) {
                assert!(
                    text.contains(token),
                    "`{token}` of {} is split:\n{text}",
                    b["id"]
                );
            }
        }
    }
}

#[test]
fn the_table_fits_80_columns_and_splits_no_command_or_url() {
    for (host, replay, dirs) in [
        ("linux-plain", "linux-plain", vec!["/home/user/proj"]),
        (
            "wsl2-nat",
            "wsl2-nat-windows-drive",
            vec!["/mnt/c/Users/dev/proj", "/home/dev/proj"],
        ),
    ] {
        let json: serde_json::Value =
            serde_json::from_str(&check(host, replay, &dirs, "json", &[])).unwrap();
        let table = check(host, replay, &dirs, "table", &[]);
        for line in table.lines() {
            assert!(
                line.chars().count() <= 80,
                "{host}: {} columns: {line}\n{table}",
                line.chars().count()
            );
        }
        assert_tokens_whole(&json, &table);
        let md = check(host, replay, &dirs, "markdown", &[]);
        assert!(
            md.contains("`sudo sysctl -w vm.max_map_count=262144`"),
            "commands are code spans in Markdown:\n{md}"
        );
        assert!(
            !md.contains("built without…"),
            "evidence is not cut in Markdown:\n{md}"
        );
        let verbose = check(host, replay, &dirs, "table", &["--verbose"]);
        for line in verbose.lines() {
            assert!(
                line.chars().count() <= 80 || !line.trim().contains(' '),
                "--verbose: {line}"
            );
        }
        for p in json["probes"].as_array().unwrap() {
            assert!(
                verbose.contains(p["id"].as_str().unwrap()),
                "{} split",
                p["id"]
            );
        }
    }
}

#[test]
fn a_read_value_that_breaks_a_backend_says_so_in_the_verbose_list() {
    // linux-plain recorded vm.max_map_count = 65530: the probe read it (pass), and
    // Elasticsearch's rule found it below its minimum. The row must not read as all-clear.
    let verbose = check(
        "linux-plain",
        "linux-plain",
        &["/home/user/proj"],
        "table",
        &["--verbose"],
    );
    let text = verbose.replace('\n', " ");
    assert!(
        text.contains("breaks elasticsearch: max-map-count"),
        "{verbose}"
    );
}
