//! `python.sqlite_ext` read from files: every real interpreter on this machine gets the same
//! answer from its `_sqlite3` module's ELF symbols as from itself, and modules compiled here
//! with and without `sqlite3_enable_load_extension` are told apart without starting the
//! (booby-trapped) interpreter next to them.

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wsl_vecprobe::observation::Status;
use wsl_vecprobe::probe::python::{PROBE, discover, spawn, sqlite_files};
use wsl_vecprobe::probe::{ProbeContext, engine};

/// Interpreters installed here: the distribution's, /usr/local's and pyenv's.
fn interpreters() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut globbed = |dir: &Path, pred: &dyn Fn(&str) -> bool| {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(pred))
            .map(|e| e.path())
            .collect();
        names.sort();
        found.extend(names);
    };
    let versioned = |n: &str| {
        n.strip_prefix("python3.")
            .is_some_and(|m| m.parse::<u32>().is_ok())
    };
    globbed(Path::new("/usr/bin"), &versioned);
    globbed(Path::new("/usr/local/bin"), &versioned);
    if let Some(home) = std::env::var_os("HOME") {
        let versions = PathBuf::from(home).join(".pyenv/versions");
        for v in std::fs::read_dir(versions).into_iter().flatten().flatten() {
            let bin = v.path().join("bin/python");
            if bin.is_file() {
                found.push(bin);
            }
        }
    }
    found
}

#[test]
fn every_python_here_gets_the_same_answer_from_its_files_as_from_itself() {
    let mut answered = 0;
    for exe in interpreters() {
        let interp = discover::Interpreter {
            path: exe.clone(),
            found_via: "test".into(),
            resolved: exe.clone(),
            unresolved_shim: false,
            notes: vec![],
        };
        let layout = discover::layout(&interp, None);
        let finding = sqlite_files::read(&interp, &layout, &|k: &str| std::env::var_os(k));
        let sqlite_files::Finding::Answered(answer) = finding else {
            eprintln!("{}: files do not tell: {finding:?}", exe.display());
            continue;
        };
        let outcome = spawn::run(&exe, Instant::now() + Duration::from_secs(5));
        let spawn::Outcome::Reported(report, _) = outcome else {
            panic!("{} did not report: {outcome:?}", exe.display());
        };
        assert_eq!(
            Some(answer.enable_load_extension),
            report.enable_load_extension,
            "{}: {answer:?}",
            exe.display()
        );
        assert_eq!(
            answer.sqlite_version,
            report.sqlite_version,
            "{}: {answer:?}",
            exe.display()
        );
        eprintln!("{}: {}", exe.display(), answer.evidence);
        answered += 1;
    }
    if answered == 0 {
        eprintln!("skipped: no interpreter here whose _sqlite3 module links SQLite dynamically");
    }
}

fn cc() -> Option<&'static str> {
    Command::new("cc")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "cc")
}

fn compile(source: &str, out: &Path, extra: &[&str]) {
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let src = out.with_extension("c");
    std::fs::write(&src, source).unwrap();
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(out)
        .arg(&src)
        .args(extra)
        .status()
        .expect("cc runs");
    assert!(status.success(), "cc failed for {}", out.display());
}

/// `<tree>/py/bin/python3` (a script that leaves a mark when run), a site-packages dir, a
/// `libsqlite3.so.0` holding `sqlite3_version = "3.99.1"` in `<tree>/py/lib` and a `_sqlite3`
/// module calling `functions`, linked against it with `DT_RUNPATH=$ORIGIN/../..`.
fn fake_install(tree: &Path, functions: &[&str]) -> PathBuf {
    let prefix = tree.join("py");
    let lib = prefix.join("lib");
    std::fs::create_dir_all(lib.join("python3.12/site-packages")).unwrap();
    compile(
        "const char sqlite3_version[] = \"3.99.1\";\nint sqlite3_open(void) { return 0; }\n",
        &lib.join("libsqlite3.so.0"),
        &["-Wl,-soname,libsqlite3.so.0"],
    );
    let decls: String = functions
        .iter()
        .map(|f| format!("int {f}(void);\n"))
        .collect();
    let calls: String = functions.iter().map(|f| format!("{f}();")).collect();
    let module = lib.join("python3.12/lib-dynload/_sqlite3.cpython-312-x86_64-linux-gnu.so");
    let mut extra = vec!["-Wl,-rpath,$ORIGIN/../..", "-Wl,--enable-new-dtags"];
    let lflag = format!("-L{}", lib.display());
    if !functions.is_empty() {
        extra.extend([lflag.as_str(), "-l:libsqlite3.so.0"]);
    }
    compile(
        &format!("{decls}int init(void) {{ {calls} return 0; }}\n"),
        &module,
        &extra,
    );
    let mark = tree.join("interpreter-ran");
    let script = format!(
        "#!/bin/sh\ntouch '{}'\necho '{{\"version\": \"3.12.1\", \"enable_load_extension\": null, \"sqlite_error\": \"fake\"}}'\n",
        mark.display()
    );
    let bin = prefix.join("bin/python3");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::write(&bin, script).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    mark
}

/// Tests run in parallel and the probe's environment is a plain `fn`: one probe run at a
/// time, reading PATH from here.
static SERIAL: Mutex<()> = Mutex::new(());
static PATH_VALUE: Mutex<String> = Mutex::new(String::new());

fn run_probe(tree: &Path) -> wsl_vecprobe::observation::Observation {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    *PATH_VALUE.lock().unwrap_or_else(|e| e.into_inner()) =
        tree.join("py/bin").display().to_string();
    fn env(k: &str) -> Option<String> {
        (k == "PATH").then(|| PATH_VALUE.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }
    let ctx = ProbeContext {
        env,
        ..wsl_vecprobe::probe::testing::context()
    };
    let obs = engine::run(Arc::new(ctx), &[&PROBE]);
    obs.into_iter()
        .find(|o| o.id == "python.sqlite_ext")
        .expect("python.sqlite_ext emitted")
}

#[test]
fn a_module_that_calls_enable_load_extension_passes_without_starting_the_interpreter() {
    if cc().is_none() {
        eprintln!("skipped: no C compiler to build a fake _sqlite3 module");
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    let mark = fake_install(
        tree.path(),
        &["sqlite3_open", "sqlite3_enable_load_extension"],
    );
    let s = run_probe(tree.path());
    assert_eq!(s.status, Status::Pass, "{s:#?}");
    assert_eq!(s.values["enable_load_extension"], Value::Bool(true));
    // Read through DT_RUNPATH=$ORIGIN/../.., not the system's libsqlite3.
    assert_eq!(s.values["sqlite_version"], "3.99.1", "{s:#?}");
    assert!(
        s.values["source"]
            .as_str()
            .unwrap()
            .ends_with("lib-dynload/_sqlite3.cpython-312-x86_64-linux-gnu.so")
    );
    assert!(!mark.exists(), "the interpreter was started");
}

#[test]
fn a_module_without_it_fails_and_one_without_sqlite_symbols_asks_the_interpreter() {
    if cc().is_none() {
        eprintln!("skipped: no C compiler to build a fake _sqlite3 module");
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    let mark = fake_install(tree.path(), &["sqlite3_open"]);
    let s = run_probe(tree.path());
    assert_eq!(s.status, Status::Fail, "{s:#?}");
    assert_eq!(s.values["enable_load_extension"], Value::Bool(false));
    assert!(s.message.contains("but not sqlite3_enable_load_extension"));
    assert!(!mark.exists(), "the interpreter was started");

    let tree = tempfile::tempdir().unwrap();
    let mark = fake_install(tree.path(), &[]);
    let s = run_probe(tree.path());
    assert_eq!(s.values["source"], "interpreter", "{s:#?}");
    assert!(
        s.message.contains("imports no sqlite3_* function"),
        "{}",
        s.message
    );
    assert!(mark.exists(), "the interpreter was not asked");
}
