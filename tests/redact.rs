//! `--redact` removes the user name, home path and host name from every format.

mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn redact_hides_home_user_and_host_in_every_format() {
    let (_t, base) = tempdir();
    let home = format!("{base}/home/zed-tester");
    let proj = format!("{home}/proj");
    std::fs::create_dir_all(&proj).unwrap();
    #[cfg(unix)]
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    #[cfg(not(unix))]
    let host = std::env::var("COMPUTERNAME").unwrap_or_default();
    for format in ["json", "markdown", "table"] {
        let mut cmd = Command::new(bin());
        cmd.env("HOME", &home).env("USER", "zed-tester").args([
            "check",
            "--redact",
            "--format",
            format,
            "--data-dir",
            &proj,
        ]);
        let r = run_cmd(cmd, Duration::from_secs(30));
        r.assert_no_panic();
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert!(
            !r.stdout.contains(&home) && !r.stdout.contains(&json_escaped(&home)),
            "{format}: home path leaked"
        );
        assert!(
            !r.stdout.contains("zed-tester"),
            "{format}: user name leaked"
        );
        assert!(
            r.stdout.contains("~/proj"),
            "{format}: the data dir is shown relative to ~"
        );
        if host.len() > 3 {
            let leaked = r
                .stdout
                .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
                .any(|w| w == host);
            assert!(!leaked, "{format}: host name leaked");
        }
        if format == "json" {
            assert_eq!(r.json()["run"]["redacted"], true);
        }
    }
    // Without --redact the path is shown as it is.
    let mut cmd = Command::new(bin());
    cmd.env("HOME", &home)
        .args(["check", "--format", "json", "--data-dir", &proj]);
    let out = run_cmd(cmd, Duration::from_secs(30)).stdout;
    assert!(out.contains(&json_escaped(&proj)), "{out}");
}

/// How a path appears inside a JSON string (Windows paths carry backslashes).
fn json_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
}
