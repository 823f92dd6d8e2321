//! Exit codes a CI job can gate on: 0 when the check ran, 1 when a `--require`d backend is
//! blocked (with `--strict`: also degraded or unknown), 2 for bad input. A user profile
//! (`--profile`) whose requirement can never hold makes the outcome independent of the host.

mod common;
use common::*;

fn profile(dir: &str, effect: &str) -> String {
    let path = format!("{dir}/never-{effect}.toml");
    std::fs::write(
        &path,
        format!(
            r#"id = "never-{effect}"
name = "A backend this host can never satisfy"
kind = "embedded"
summary = "test profile"
docs = "https://example.org/never"

[[requirement]]
id = "plan9-only"
probe = "host.platform"
scope = "host"
effect = "{effect}"
expect = {{ field = "os", one_of = ["plan9"] }}
explain = "only runs on Plan 9"
remediation = "Run it on Plan 9."
source = "https://example.org/never"
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn require_gates_on_blocked_and_strict_also_on_degraded() {
    let (_t, dir) = tempdir();
    let (_p, pdir) = tempdir();
    let block = profile(&pdir, "block");
    let degrade = profile(&pdir, "degrade");
    let base = [
        "check",
        "--format",
        "json",
        "--data-dir",
        &dir,
        "--profile",
        &block,
        "--profile",
        &degrade,
    ];

    let r = run(base, &[]);
    assert_eq!(r.code, Some(0), "no --require: the check ran: {}", r.stderr);
    assert_eq!(verdict(&r.json(), "never-block", Some(&dir)), "blocked");
    assert_eq!(verdict(&r.json(), "never-degrade", Some(&dir)), "degraded");

    let r = run(
        base.iter().copied().chain(["--require", "never-block"]),
        &[],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("never-block") && r.stderr.contains("blocked"),
        "says why: {}",
        r.stderr
    );
    assert!(!r.stdout.is_empty(), "the report is still printed");

    let r = run(
        base.iter().copied().chain(["--require", "never-degrade"]),
        &[],
    );
    assert_eq!(
        r.code,
        Some(0),
        "degraded passes without --strict: {}",
        r.stderr
    );

    let r = run(
        base.iter()
            .copied()
            .chain(["--require", "never-degrade", "--strict"]),
        &[],
    );
    assert_eq!(
        r.code,
        Some(1),
        "degraded fails with --strict: {}",
        r.stderr
    );
    r.assert_no_panic();
}

#[test]
fn help_and_version_exit_zero_and_help_documents_exit_codes() {
    let r = run(["--help"], &[]);
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout.contains("Exit codes") && r.stdout.contains("130"),
        "{}",
        r.stdout
    );
    let r = run(["--version"], &[]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.starts_with("wsl-vecprobe "));
    let r = run(["check", "--help"], &[]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("--data-dir") && r.stdout.contains("--timeout"));
}

#[test]
fn backends_lists_the_17_ids_and_explain_cites_sources() {
    let r = run(["backends"], &[]);
    assert_eq!(r.code, Some(0));
    for id in [
        "milvus-lite",
        "milvus-standalone",
        "qdrant-server",
        "qdrant-local",
        "qdrant-edge",
        "chroma",
        "chroma-server",
        "lancedb",
        "faiss",
        "sqlite-vec",
        "usearch",
        "duckdb-vss",
        "pgvector",
        "redis",
        "weaviate-embedded",
        "elasticsearch",
        "pinecone",
    ] {
        assert!(
            r.stdout.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id} missing:\n{}",
            r.stdout
        );
    }
    let r = run(["explain", "qdrant-local"], &[]);
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout.contains("lockfile:.lock") && r.stdout.contains("Source: "),
        "{}",
        r.stdout
    );
}

#[test]
fn host_identifies_a_recorded_wsl2_host_and_says_where_each_fact_came_from() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hosts/wsl2-nat");
    let r = run(
        [
            "host",
            "--host-root",
            root,
            "--data-dir",
            "/mnt/c/Users/dev/proj",
        ],
        &[("COLUMNS", "200")],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for needle in [
        "WSL 2",
        "nat (inferred)",
        "9p (windows-drive)",
        "/proc/sys/kernel/osrelease",
    ] {
        assert!(
            r.stdout.contains(needle),
            "`{needle}` missing:\n{}",
            r.stdout
        );
    }
    assert!(
        !r.stdout.contains("Verdict"),
        "no verdict table without probes"
    );
    let r = run(
        [
            "host",
            "--host-root",
            root,
            "--format",
            "json",
            "--data-dir",
            "/mnt/c/Users/dev/proj",
        ],
        &[],
    );
    let report = r.json();
    assert_eq!(report["host"]["wsl"]["version"], 2);
    assert_eq!(
        report["data_dirs"][0]["filesystem"]["class"],
        "windows-drive"
    );
}

#[test]
fn a_misspelt_backend_id_is_exit_2_with_the_nearest_id() {
    let r = run(["explain", "Milvus-Lite"], &[]);
    r.assert_no_panic();
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean `milvus-lite`"),
        "{}",
        r.stderr
    );
    let r = run(["check", "--require", "qdrant-locl"], &[]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean `qdrant-local`"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_profile_with_a_misspelt_probe_id_is_exit_2_at_its_line() {
    let (_t, dir) = tempdir();
    let path = format!("{dir}/mine.toml");
    std::fs::write(
        &path,
        "id = \"mine\"\nname = \"Mine\"\nkind = \"embedded\"\nsummary = \"x\"\ndocs = \"https://example.org\"\n\n[[requirement]]\nid = \"a\"\nprobe = \"file.creat\"\nscope = \"data_dir\"\neffect = \"block\"\nexplain = \"x\"\nremediation = \"y\"\nsource = \"https://example.org\"\n",
    )
    .unwrap();
    let r = run(["check", "--profile", &path, "--data-dir", &dir], &[]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("line 9, column 9") && r.stderr.contains("did you mean `file.create`"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_recorded_data_dir_is_judged_from_the_recording() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hosts/wsl2-nat");
    let r = run(
        [
            "check",
            "--host-root",
            root,
            "--data-dir",
            "/mnt/c/proj",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.json();
    assert_observed(&report, "fs.mount", Some("/mnt/c/proj"), "pass", None);
    let row = backend(&report, "qdrant-local", Some("/mnt/c/proj"));
    assert!(
        row["evidence"].as_str().unwrap().contains("windows-drive"),
        "the recorded class decides what the row shows: {row:#}"
    );
    // The live current directory means nothing on a recorded host.
    let r = run(["check", "--host-root", root], &[]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("--data-dir"), "{}", r.stderr);
}

#[test]
fn small_usage_rules_and_one_error_prefix() {
    let r = run(["check", "--strict"], &[]);
    assert_eq!(r.code, Some(2), "--strict without --require: {}", r.stderr);
    assert!(r.stderr.starts_with("wsl-vecprobe: error:"), "{}", r.stderr);
    let r = run(["check", "--timeout", "1h"], &[]);
    assert!(r.stderr.starts_with("wsl-vecprobe: error:"), "{}", r.stderr);
    let r = run(["check", "--help"], &[]);
    // As read, whatever the width the help is wrapped to.
    let help = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("at least 100ms, at most 10m"), "{}", r.stdout);
    let (_t, dir) = tempdir();
    let mut cmd = std::process::Command::new(bin());
    cmd.current_dir(&dir).args(["check", "--format", "json"]);
    let r = run_cmd(cmd, std::time::Duration::from_secs(30));
    assert_eq!(r.json()["data_dirs"][0]["path"], dir.as_str());
}

#[test]
fn docker_desktop_traces_name_where_they_were_seen() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hosts/wsl2-nat");
    let r = run(["host", "--host-root", root, "--data-dir", "/mnt/c/x"], &[]);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("Docker Desktop traces"))
        .unwrap_or_default()
        .to_string();
    assert!(line.contains("/mnt/wsl/docker-desktop"), "{}", r.stdout);
}

#[test]
fn explain_wraps_and_pinecone_says_what_is_and_is_not_checked() {
    let r = run(["explain", "pinecone"], &[("COLUMNS", "80")]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.stdout.contains("nothing local to check"), "{}", r.stdout);
    assert!(r.stdout.contains("5080"), "{}", r.stdout);
    let r = run(["explain", "elasticsearch"], &[("COLUMNS", "80")]);
    for line in r.stdout.lines() {
        assert!(
            // A token longer than the width (a URL) stands alone on its line, never split.
            line.chars().count() <= 80 || !line.trim_start().contains(' '),
            "too wide: {line}"
        );
    }
}

#[test]
fn help_fits_80_columns_without_reflowed_lists() {
    for args in [vec!["--help"], vec!["check", "--help"]] {
        let r = run(args.clone(), &[("COLUMNS", "80")]);
        for line in r.stdout.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: {line}");
        }
        assert!(
            !r.stdout
                .lines()
                .any(|l| l == "  unwritable" || l == "  user/host names"),
            "a list entry was re-flowed:\n{}",
            r.stdout
        );
    }
}
