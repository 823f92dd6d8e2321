//! `--redact` removes the user name, home path and host name from every format.

mod common;
use common::*;
#[cfg(target_os = "linux")]
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

#[test]
fn redact_hides_home_user_and_host_in_every_format() {
    let (_t, base) = tempdir();
    // Paths as this OS spells them (the tool shows Windows paths with `\`).
    let home = std::path::Path::new(&base).join("home").join("zed-tester");
    let proj = home.join("proj").display().to_string();
    let home = home.display().to_string();
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
            r.stdout
                .contains(&format!("~{}proj", std::path::MAIN_SEPARATOR))
                || r.stdout.contains(&json_escaped(&format!(
                    "~{}proj",
                    std::path::MAIN_SEPARATOR
                ))),
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

#[cfg(target_os = "linux")]
fn schema() -> Value {
    serde_json::from_str(include_str!("../reports/schema.json")).expect("schema parses")
}

#[cfg(target_os = "linux")]
fn assert_valid(report: &Value, what: &str) {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {}", errors.join("\n"));
}

/// `check` in a private UTS namespace whose host name is `name`.
#[cfg(target_os = "linux")]
fn check_as_host(name: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-u",
        "sh",
        "-c",
        "hostname \"$1\" && shift && exec \"$@\"",
        "sh",
        name,
    ])
    .arg(bin())
    .arg("check")
    .args(args);
    run_cmd(cmd, Duration::from_secs(60))
}

/// Every string of the report that the catalogue or the probes' naming own (ids, commands,
/// explanations, remediation, enums): redaction must leave all of them as they are.
#[cfg(target_os = "linux")]
fn owned_strings(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for p in report["probes"].as_array().unwrap() {
        for k in ["id", "kind", "status", "errno"] {
            out.push(format!("probe {k}={}", p[k]));
        }
    }
    for b in report["backends"].as_array().unwrap() {
        for k in ["id", "name", "kind", "verdict", "remediation", "version"] {
            out.push(format!("backend {k}={}", b[k]));
        }
        for r in b["reasons"].as_array().unwrap() {
            for k in [
                "requirement",
                "probe",
                "status",
                "errno",
                "outcome",
                "effect",
                "explain",
                "remediation",
                "source",
            ] {
                out.push(format!("reason {k}={}", r[k]));
            }
        }
    }
    out
}

/// Linux only: a UTS namespace (unshare -u) and the OS account from getpwuid.
#[cfg(target_os = "linux")]
#[test]
fn redact_leaves_ids_and_commands_alone_when_the_host_name_is_a_report_word() {
    if !privileged("redact_host_names_that_collide", &["unshare", "hostname"]) {
        return;
    }
    let (_t, dir) = tempdir();
    for name in ["vm", "docker", "dev", "localhost", "python", "tmp"] {
        let plain = check_as_host(name, &["--format", "json", "--data-dir", &dir]);
        assert_eq!(plain.code, Some(0), "{name}: {}", plain.stderr);
        let redacted = check_as_host(name, &["--format", "json", "--redact", "--data-dir", &dir]);
        redacted.assert_no_panic();
        assert_eq!(redacted.code, Some(0), "{name}: {}", redacted.stderr);
        let (plain, red) = (plain.json(), redacted.json());
        assert_valid(&red, &format!("host name {name}"));
        let (mut a, mut b) = (owned_strings(&plain), owned_strings(&red));
        a.sort();
        b.sort();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                x, y,
                "host name {name}: redaction changed a report-owned string"
            );
        }
        assert_eq!(a.len(), b.len());
        assert_eq!(red["data_dirs"][0]["path"], plain["data_dirs"][0]["path"]);
        for format in ["table", "markdown"] {
            let r = check_as_host(name, &["--format", format, "--redact", "--data-dir", &dir]);
            assert_eq!(r.code, Some(0), "{name} {format}: {}", r.stderr);
            assert!(
                !r.stdout.contains("<host>."),
                "host name {name}, {format}: a dotted name was redacted:\n{}",
                r.stdout
            );
        }
    }
}

/// Linux only: a UTS namespace (unshare -u). On Windows the computer name cannot be set
/// for one process: redact_takes_the_computer_name_from_the_os_not_the_environment instead.
#[cfg(target_os = "linux")]
#[test]
fn redact_hides_a_distinctive_host_name_in_any_case() {
    if !privileged("redact_distinctive_host_name", &["unshare", "hostname"]) {
        return;
    }
    let (_t, base) = tempdir();
    let dir = format!("{base}/zq-LAB-7/proj");
    std::fs::create_dir_all(&dir).unwrap();
    for format in ["json", "markdown", "table"] {
        let r = check_as_host(
            "Zq-Lab-7",
            &["--format", format, "--redact", "--data-dir", &dir],
        );
        assert_eq!(r.code, Some(0), "{format}: {}", r.stderr);
        assert!(
            !r.stdout.to_lowercase().contains("zq-lab-7"),
            "{format}: host name leaked in another case:\n{}",
            r.stdout
        );
        assert!(r.stdout.contains("<host>/proj"), "{format}:\n{}", r.stdout);
    }
}

/// Linux only: a UTS namespace (unshare -u) and the OS account from getpwuid.
#[cfg(target_os = "linux")]
#[test]
fn redact_takes_the_user_and_home_from_the_os_not_the_environment() {
    if !privileged("redact_user_from_os", &[]) {
        return;
    }
    let os_home = nix::unistd::User::from_uid(nix::unistd::getuid())
        .unwrap()
        .unwrap()
        .dir;
    let t = tempfile::tempdir_in(&os_home).unwrap();
    let dir = std::fs::canonicalize(t.path())
        .unwrap()
        .display()
        .to_string();
    let (_f, fake_home) = tempdir();
    let mut cmd = Command::new(bin());
    cmd.env("HOME", &fake_home).env("USER", "alice").args([
        "check",
        "--format",
        "json",
        "--redact",
        "--data-dir",
        &dir,
    ]);
    let r = run_cmd(cmd, Duration::from_secs(30));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        !r.stdout.contains(&dir),
        "the OS home ({}) leaked although $HOME points elsewhere",
        os_home.display()
    );
    let name = t.path().file_name().unwrap().to_str().unwrap();
    assert_eq!(r.json()["data_dirs"][0]["path"], format!("~/{name}"));
}

/// Windows: the computer name comes from the OS (GetComputerNameExW), not `%COMPUTERNAME%`:
/// with the variable set to another name, a dir `u@NAME` (NAME as a host, as in an ssh target)
/// is still redacted, in another case too. This process's own COMPUTERNAME is the one Windows
/// (or Wine, from the Linux host name) set at logon: the test's reference for the real name.
/// `@NAME` is redacted even when NAME is also a word of the report (Wine here: `vm`).
#[cfg(windows)]
#[test]
fn redact_takes_the_computer_name_from_the_os_not_the_environment() {
    let Some(host) = std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty()) else {
        return skip(
            "redact_computer_name_from_os",
            "no COMPUTERNAME set at logon",
        );
    };
    let (_t, base) = tempdir();
    let at_host = format!("u@{}", host.to_lowercase());
    let dir = format!("{base}\\{at_host}\\proj");
    std::fs::create_dir_all(&dir).unwrap();
    for format in ["json", "markdown", "table"] {
        let mut cmd = Command::new(bin());
        cmd.env("COMPUTERNAME", "alice-pc")
            .env_remove("HOSTNAME")
            .env("COLUMNS", "400")
            .args(["check", "--format", format, "--redact", "--timeout", "20s"])
            .args(["--data-dir", &dir]);
        let r = run_cmd(cmd, Duration::from_secs(30));
        r.assert_no_panic();
        assert_eq!(r.code, Some(0), "{format}: {}", r.stderr);
        assert!(
            !r.stdout.to_lowercase().contains(&at_host),
            "{format}: computer name {host} leaked:\n{}",
            r.stdout
        );
        let shown = if format == "json" {
            "u@<host>\\\\proj"
        } else {
            "u@<host>\\proj"
        };
        assert!(r.stdout.contains(shown), "{format}:\n{}", r.stdout);
    }
}

/// Windows: the user and profile directory come from the OS account (GetUserNameW,
/// GetUserProfileDirectoryW), not `%USERNAME%`/`%USERPROFILE%`: with both pointing elsewhere, a
/// dir under the real profile is still shown relative to `~`. This process's USERPROFILE is
/// the one Windows (or Wine) set at logon: the test's reference for the real profile.
#[cfg(windows)]
#[test]
fn redact_takes_the_user_and_profile_from_the_os_not_the_environment() {
    let Some(profile) = std::env::var_os("USERPROFILE").filter(|p| !p.is_empty()) else {
        return skip("redact_profile_from_os", "no USERPROFILE set at logon");
    };
    let t = tempfile::tempdir_in(&profile).unwrap();
    let name = t.path().file_name().unwrap().to_str().unwrap().to_string();
    let dir = t.path().display().to_string();
    let (_f, fake) = tempdir();
    let fake_home = format!("{fake}\\alice");
    std::fs::create_dir(&fake_home).unwrap();
    let mut cmd = Command::new(bin());
    cmd.env("USERPROFILE", &fake_home)
        .env("HOME", &fake_home)
        .env("USERNAME", "alice")
        .args(["check", "--format", "json", "--redact", "--timeout", "20s"])
        .args(["--data-dir", &dir]);
    let r = run_cmd(cmd, Duration::from_secs(30));
    r.assert_no_panic();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        !r.stdout.contains(&json_escaped(&dir)),
        "the OS profile ({profile:?}) leaked although %USERPROFILE% points elsewhere"
    );
    assert_eq!(r.json()["data_dirs"][0]["path"], format!("~\\{name}"));
}
