//! The one interpreter run the `python` probe allows itself: `python -S -c SCRIPT`, killed at
//! its deadline, printing version, site-packages dirs and the `sqlite3` facts as JSON.

use serde::Deserialize;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Longest the interpreter may take (pyenv shims alone can use most of it).
pub const SPAWN_TIMEOUT: Duration = Duration::from_millis(400);

/// Works from Python 2.7 on; `-S` keeps site hooks (.pth files) from running, so the site
/// dirs are computed explicitly.
const SCRIPT: &str = r#"import sys, json
r = {"version": "%d.%d.%d" % tuple(sys.version_info[:3]), "executable": sys.executable, "prefix": sys.prefix}
try:
    import site
    site.ENABLE_USER_SITE = site.check_enableusersite()
    if hasattr(site, "venv"):
        site.venv([])
    r["site_packages"] = list(site.getsitepackages())
    r["user_site"] = site.getusersitepackages() if site.ENABLE_USER_SITE else None
except Exception as e:
    r["site_error"] = repr(e)
try:
    import sqlite3
    r["sqlite_version"] = sqlite3.sqlite_version
    r["enable_load_extension"] = hasattr(sqlite3.Connection, "enable_load_extension")
except Exception as e:
    r["sqlite_error"] = repr(e)
sys.stdout.write(json.dumps(r) + "\n")
"#;

/// What the interpreter said about itself.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct Report {
    pub version: String,
    #[serde(default)]
    pub executable: Option<String>,
    #[serde(default)]
    pub site_packages: Vec<String>,
    #[serde(default)]
    pub user_site: Option<String>,
    #[serde(default)]
    pub sqlite_version: Option<String>,
    #[serde(default)]
    pub enable_load_extension: Option<bool>,
    #[serde(default)]
    pub sqlite_error: Option<String>,
}

/// How the run ended.
#[derive(Debug)]
pub enum Outcome {
    Reported(Report, Duration),
    /// Could not be started (errno name, message).
    NotStarted(String, String),
    /// Killed at the deadline.
    TimedOut(Duration),
    /// Ran but did not print the report (exit status and stderr excerpt).
    Garbled(String),
}

/// Run `interpreter -S -c SCRIPT` and wait for its report until `deadline`.
pub fn run(interpreter: &Path, deadline: Instant) -> Outcome {
    let start = Instant::now();
    let mut child = loop {
        let spawned = crate::probe::scratch::spawn_child(
            Command::new(interpreter)
                .args(["-S", "-c", SCRIPT])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        );
        match spawned {
            Ok(c) => break c,
            // ETXTBSY: someone still holds the file open for writing (being installed, or a
            // descriptor inherited across another thread's fork); it passes within moments.
            Err(e)
                if crate::errno::io_error_name(&e) == "ETXTBSY"
                    && Instant::now() + Duration::from_millis(5) < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Outcome::NotStarted(crate::errno::io_error_name(&e), e.to_string()),
        }
    };
    let (tx, rx) = mpsc::channel();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Reads stdout to EOF (the interpreter exited or closed it), then stderr.
    let reader = crate::spawn::thread("python-output", move || {
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.take(1 << 20).read_to_end(&mut out);
        }
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(4096).read_to_end(&mut err);
        }
        let _ = tx.send((out, err));
    });
    if let Err(e) = reader {
        let _ = child.kill();
        let _ = child.wait();
        crate::probe::scratch::unregister_child(child.id());
        return Outcome::NotStarted(crate::errno::io_error_name(&e), e.to_string());
    }
    let left = deadline.saturating_duration_since(Instant::now());
    let received = rx.recv_timeout(left);
    let outcome = match received {
        Err(_) => {
            let _ = child.kill();
            Outcome::TimedOut(start.elapsed())
        }
        Ok((out, err)) => {
            let status = child.wait();
            match parse(&out) {
                Some(r) => Outcome::Reported(r, start.elapsed()),
                None => Outcome::Garbled(format!(
                    "{}; stderr: {}",
                    status.map_or_else(|e| e.to_string(), |s| s.to_string()),
                    String::from_utf8_lossy(&err).trim()
                )),
            }
        }
    };
    let _ = child.wait();
    crate::probe::scratch::unregister_child(child.id());
    outcome
}

/// The JSON report from the interpreter's stdout (last JSON line wins).
pub fn parse(stdout: &[u8]) -> Option<Report> {
    String::from_utf8_lossy(stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l.trim()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_report_line() {
        let out = br#"noise
{"version": "3.11.7", "site_packages": ["/x/site-packages"], "user_site": null, "sqlite_version": "3.40.1", "enable_load_extension": false}
"#;
        let r = parse(out).unwrap();
        assert_eq!(r.version, "3.11.7");
        assert_eq!(r.enable_load_extension, Some(false));
        assert_eq!(r.sqlite_version.as_deref(), Some("3.40.1"));
        assert_eq!(parse(b"Traceback ..."), None);
    }

    #[test]
    fn a_missing_interpreter_is_not_started_with_enoent() {
        let outcome = run(
            Path::new("/nonexistent/python3"),
            Instant::now() + SPAWN_TIMEOUT,
        );
        assert!(
            matches!(outcome, Outcome::NotStarted(ref e, _) if crate::errno::meaning(e) == "ENOENT"),
            "{outcome:?}"
        );
    }
}
