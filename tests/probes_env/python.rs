//! The `python` probe on fake trees (a venv, a pyenv root) with fake interpreter scripts, and
//! on this machine's real interpreter. These run the interpreter, so they live in this
//! integration binary: the library's unit tests call `scratch::cleanup_all`, which kills every
//! registered child process, including an interpreter run of a concurrent test.

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use wsl_vecprobe::observation::{Observation, Status};
use wsl_vecprobe::probe::python::{PROBE, spawn};
use wsl_vecprobe::probe::{CatalogueInputs, ProbeContext, engine};

const INTERPRETER: &str = "python.interpreter";
const PACKAGES: &str = "python.packages";
const SQLITE_EXT: &str = "python.sqlite_ext";

fn ctx(env: fn(&str) -> Option<String>, packages: &[&str]) -> ProbeContext {
    ProbeContext {
        catalogue: CatalogueInputs {
            python_packages: packages.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        },
        env,
        ..wsl_vecprobe::probe::testing::context()
    }
}

fn find<'a>(obs: &'a [Observation], id: &str) -> &'a Observation {
    obs.iter()
        .find(|o| o.id == id)
        .expect("observation present")
}

fn write_exec(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn dist_info(site: &Path, dir: &str, name: &str, version: &str) {
    let d = site.join(dir);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"),
    )
    .unwrap();
}

/// A fake interpreter that prints the probe's report line.
const FAKE_PYTHON: &str = "#!/bin/sh\necho '{\"version\": \"3.11.7\", \"site_packages\": [], \"user_site\": null, \"sqlite_version\": \"3.45.1\", \"enable_load_extension\": true}'\n";

#[test]
fn a_virtual_env_is_read_from_its_files_and_the_interpreter_answers_when_no_sqlite3_module_is_on_disk()
 {
    static VENV: OnceLock<String> = OnceLock::new();
    let tree = tempfile::tempdir().unwrap();
    let venv = tree.path().join("venv");
    let site = venv.join("lib/python3.11/site-packages");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        format!(
            "home = {}\ninclude-system-site-packages = false\nversion = 3.11.7\n",
            tree.path().join("base/bin").display()
        ),
    )
    .unwrap();
    write_exec(&venv.join("bin/python"), FAKE_PYTHON);
    dist_info(
        &site,
        "qdrant_client-1.12.0.dist-info",
        "qdrant-client",
        "1.12.0",
    );
    dist_info(&site, "Sqlite_Vec-0.1.6.dist-info", "sqlite_vec", "0.1.6");
    let _ = VENV.set(venv.display().to_string());
    fn env(k: &str) -> Option<String> {
        match k {
            "VIRTUAL_ENV" => VENV.get().cloned(),
            "PATH" => Some(String::new()),
            _ => None,
        }
    }
    let obs = engine::run(
        Arc::new(ctx(env, &["qdrant-client", "sqlite-vec", "lancedb"])),
        &[&PROBE],
    );
    let i = find(&obs, INTERPRETER);
    assert_eq!(i.status, Status::Pass, "{i:#?}");
    assert_eq!(i.values["version"], "3.11.7");
    assert_eq!(i.values["found_via"], "VIRTUAL_ENV");
    assert_eq!(
        i.values["path"],
        venv.join("bin/python").display().to_string()
    );
    assert!(
        i.values["version_source"]
            .as_str()
            .unwrap()
            .ends_with("pyvenv.cfg")
    );
    let p = find(&obs, PACKAGES);
    assert_eq!(p.status, Status::Pass);
    assert_eq!(
        p.values["packages"],
        serde_json::json!({"qdrant-client": "1.12.0", "sqlite-vec": "0.1.6", "lancedb": null})
    );
    let s = find(&obs, SQLITE_EXT);
    assert_eq!(s.status, Status::Pass, "{s:#?}");
    assert_eq!(s.values["sqlite_version"], "3.45.1");
    assert_eq!(s.values["source"], "interpreter");
    assert!(
        s.message.contains("no _sqlite3 module file"),
        "{}",
        s.message
    );
}

#[test]
fn a_pyenv_shim_is_resolved_from_the_version_file_without_running_it() {
    static PATHS: OnceLock<(String, String)> = OnceLock::new();
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join(".pyenv");
    // The shim would take seconds; resolving it must not run it.
    write_exec(&root.join("shims/python3"), "#!/bin/sh\nsleep 5\n");
    let prefix = root.join("versions/3.12.1");
    write_exec(
        &prefix.join("bin/python3"),
        "#!/bin/sh\necho '{\"version\": \"3.12.1\", \"enable_load_extension\": false, \"sqlite_version\": \"3.40.1\"}'\n",
    );
    let site = prefix.join("lib/python3.12/site-packages");
    dist_info(&site, "lancedb-0.40.0.dist-info", "lancedb", "0.40.0");
    std::fs::write(root.join("version"), "3.12.1\n").unwrap();
    let home = tree.path().join("home");
    dist_info(
        &home.join(".local/lib/python3.12/site-packages"),
        "lancedb-0.41.0.dist-info",
        "lancedb",
        "0.41.0",
    );
    let _ = PATHS.set((
        root.join("shims").display().to_string(),
        home.display().to_string(),
    ));
    fn env(k: &str) -> Option<String> {
        let (path, home) = PATHS.get()?;
        match k {
            "PATH" => Some(path.clone()),
            "HOME" => Some(home.clone()),
            _ => None,
        }
    }
    let start = Instant::now();
    let obs = engine::run(Arc::new(ctx(env, &["lancedb"])), &[&PROBE]);
    assert!(
        start.elapsed() < Duration::from_millis(800),
        "{:?}",
        start.elapsed()
    );
    let i = find(&obs, INTERPRETER);
    assert_eq!(i.values["version"], "3.12.1", "{i:#?}");
    assert_eq!(i.values["found_via"], "PATH:python3");
    assert_eq!(
        i.values["resolved_path"],
        prefix.join("bin/python3").display().to_string()
    );
    // The user site comes first in sys.path, so its copy wins.
    assert_eq!(find(&obs, PACKAGES).values["packages"]["lancedb"], "0.41.0");
    let s = find(&obs, SQLITE_EXT);
    assert_eq!(
        (s.status, &s.values["enable_load_extension"]),
        (Status::Fail, &Value::Bool(false))
    );
}

#[test]
fn an_interpreter_the_files_say_nothing_about_is_asked_once() {
    static PATH: OnceLock<String> = OnceLock::new();
    let tree = tempfile::tempdir().unwrap();
    let site = tree.path().join("elsewhere/site-packages");
    dist_info(&site, "redis-5.0.1.dist-info", "redis", "5.0.1");
    let bin = tree.path().join("bin");
    let script = format!(
        "#!/bin/sh\necho '{{\"version\": \"3.13.0\", \"site_packages\": [\"{}\"], \"enable_load_extension\": true, \"sqlite_version\": \"3.46.0\"}}'\n",
        site.display()
    );
    write_exec(&bin.join("python3"), &script);
    let _ = PATH.set(bin.display().to_string());
    fn env(k: &str) -> Option<String> {
        (k == "PATH").then(|| PATH.get().cloned()).flatten()
    }
    let obs = engine::run(Arc::new(ctx(env, &["redis"])), &[&PROBE]);
    let i = find(&obs, INTERPRETER);
    assert_eq!(i.values["version"], "3.13.0", "{i:#?}");
    assert!(
        i.values["version_source"]
            .as_str()
            .unwrap()
            .starts_with("interpreter")
    );
    assert_eq!(find(&obs, PACKAGES).values["packages"]["redis"], "5.0.1");
    assert_eq!(find(&obs, SQLITE_EXT).status, Status::Pass);
}

#[test]
fn this_machines_python_if_any_is_found_and_read() {
    fn env(k: &str) -> Option<String> {
        std::env::var(k).ok()
    }
    let path = std::env::var("PATH").unwrap_or_default();
    if wsl_vecprobe::probe::docker::find_on_path(&path, &["python3", "python"]).is_none()
        && std::env::var("VIRTUAL_ENV").is_err()
    {
        eprintln!("skipped: no python on PATH here");
        return;
    }
    let obs = engine::run(Arc::new(ctx(env, &[])), &[&PROBE]);
    let i = find(&obs, INTERPRETER);
    assert_eq!(i.status, Status::Pass, "{i:#?}");
    assert!(
        i.values["version"]
            .as_str()
            .is_some_and(|v| v.starts_with(['2', '3'])),
        "{i:#?}"
    );
    assert_eq!(find(&obs, PACKAGES).status, Status::Pass, "{obs:#?}");
    let s = find(&obs, SQLITE_EXT);
    assert_ne!(s.status, Status::Error, "{s:#?}");
    eprintln!(
        "{}\n{}\n{}",
        i.message,
        find(&obs, PACKAGES).message,
        s.message
    );
}

#[test]
fn a_hanging_interpreter_is_killed_at_the_deadline() {
    let d = tempfile::tempdir().unwrap();
    let fake = d.path().join("python3");
    write_exec(&fake, "#!/bin/sh\nexec sleep 10\n");
    let start = Instant::now();
    let outcome = spawn::run(&fake, Instant::now() + Duration::from_millis(150));
    assert!(
        matches!(outcome, spawn::Outcome::TimedOut(_)),
        "{outcome:?}"
    );
    assert!(
        start.elapsed() < Duration::from_millis(1000),
        "{:?}",
        start.elapsed()
    );
}
