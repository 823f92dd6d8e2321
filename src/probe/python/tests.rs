//! Tests of the `python` probe that run no interpreter (those that do are in
//! tests/probes_env/python.rs, away from `scratch::cleanup_all` in the unit tests).

use super::*;
use crate::probe::engine;
use std::sync::Arc;

fn ctx(env: fn(&str) -> Option<String>) -> ProbeContext {
    ProbeContext {
        env,
        ..crate::probe::testing::context()
    }
}

fn find<'a>(obs: &'a [Observation], id: &str) -> &'a Observation {
    obs.iter()
        .find(|o| o.id == id)
        .expect("observation present")
}

#[test]
fn no_interpreter_anywhere_fails_with_enoent() {
    fn env(k: &str) -> Option<String> {
        (k == "PATH").then(|| "/nonexistent-vecprobe-bin".to_string())
    }
    let obs = engine::run(Arc::new(ctx(env)), &[&PROBE]);
    let i = find(&obs, INTERPRETER);
    assert_eq!(
        (i.status, i.errno.as_deref()),
        (Status::Fail, Some("ENOENT"))
    );
    assert_eq!(i.message, "no python3/python on PATH and no VIRTUAL_ENV");
    assert_eq!(find(&obs, PACKAGES).status, Status::Skipped);
    assert_eq!(find(&obs, SQLITE_EXT).status, Status::Skipped);
}

#[test]
fn a_venv_with_a_broken_interpreter_still_reports_files_and_a_failed_run() {
    static VENV: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let tree = tempfile::tempdir().unwrap();
    let venv = tree.path().join("venv");
    std::fs::create_dir_all(venv.join("lib/python3.12/site-packages")).unwrap();
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(venv.join("pyvenv.cfg"), "version_info = 3.12.1.final.0\n").unwrap();
    // Not executable: the run fails with EACCES before any process exists.
    std::fs::write(venv.join("bin/python"), "").unwrap();
    let _ = VENV.set(venv.display().to_string());
    fn env(k: &str) -> Option<String> {
        (k == "VIRTUAL_ENV").then(|| VENV.get().cloned()).flatten()
    }
    let obs = engine::run(Arc::new(ctx(env)), &[&PROBE]);
    assert_eq!(find(&obs, INTERPRETER).values["version"], "3.12.1");
    assert_eq!(find(&obs, PACKAGES).status, Status::Pass);
    let s = find(&obs, SQLITE_EXT);
    assert_eq!(
        (s.status, s.errno.as_deref()),
        (Status::Fail, Some("EACCES")),
        "{s:#?}"
    );
}
