//! Probe `python`: the interpreter a user would get here, its version and installed
//! vector-DB client packages — read from files (`pyvenv.cfg`, `*.dist-info/METADATA`) — and
//! whether its `sqlite3` can load extensions (sqlite-vec), read from the `_sqlite3` module's
//! ELF dynamic symbols (`sqlite_files`). Only what the files cannot tell is asked of the
//! interpreter itself: it is then run once, for at most 400 ms.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::host::shown;
use crate::observation::{Observation, Status};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub mod discover;
pub mod elf;
pub mod packages;
pub mod pyenv;
pub mod spawn;
pub mod sqlite_files;

pub static PROBE: ProbeDef = ProbeDef {
    name: "python",
    kind: ProbeKind::Environment,
    scope: Scope::Host,
    timeout: Duration::from_millis(800),
    plan,
    run,
    in_agent: false,
};

const TARGET: &str = "host";
const INTERPRETER: &str = "python.interpreter";
const PACKAGES: &str = "python.packages";
const SQLITE_EXT: &str = "python.sqlite_ext";

fn plan(_ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    [INTERPRETER, PACKAGES, SQLITE_EXT]
        .iter()
        .map(|id| Planned::new(*id, TARGET))
        .collect()
}

fn run(ctx: &ProbeContext, _dir: Option<&DataDir>, sink: &Sink) {
    let start = Instant::now();
    if ctx.host_root.is_recorded() {
        for id in [INTERPRETER, PACKAGES, SQLITE_EXT] {
            sink.emit(Observation::skipped(
                id,
                TARGET,
                "recorded host: the Python environment is not part of the recording",
            ));
        }
        return;
    }
    let env = |k: &str| crate::host::env_os(ctx.env, k);
    let cwd = std::env::current_dir().ok();
    let interp = match discover::find(&env, cwd.as_deref()) {
        Ok(i) => i,
        Err(notes) => return no_interpreter(&notes, start, sink),
    };
    let home = env("HOME")
        .or_else(|| env("USERPROFILE"))
        .map(PathBuf::from);
    let mut layout = discover::layout(&interp, home.as_deref());
    let wanted = wanted_packages(ctx);
    let from_files = layout.version.is_some() && !layout.site_dirs.is_empty();
    let sqlite = sqlite_files::read(&interp, &layout, &env);
    if let (true, sqlite_files::Finding::Answered(answer)) = (from_files, &sqlite) {
        // Everything was in the files: no interpreter is started.
        sink.emit(interpreter(&interp, &layout, None).elapsed_since(start));
        sink.emit(installed(&layout, &wanted, "files", None).elapsed_since(start));
        sink.emit(sqlite_from_files(answer).elapsed_since(start));
        return;
    }
    // What only the interpreter can say: it is run once, killed at its deadline.
    let deadline = (start + super::scaled(PROBE.timeout)).min(ctx.deadline);
    let spawn_deadline = (Instant::now() + super::scaled(spawn::SPAWN_TIMEOUT)).min(deadline);
    let outcome = spawn::run(&interp.resolved, spawn_deadline);
    if from_files {
        sink.emit(interpreter(&interp, &layout, None).elapsed_since(start));
        sink.emit(installed(&layout, &wanted, "files", None).elapsed_since(start));
    } else {
        let note = merge(&mut layout, &outcome, &interp);
        sink.emit(interpreter(&interp, &layout, note.as_deref()).elapsed_since(start));
        sink.emit(installed(&layout, &wanted, "interpreter", note.as_deref()).elapsed_since(start));
    }
    let obs = match &sqlite {
        sqlite_files::Finding::Answered(answer) => sqlite_from_files(answer),
        sqlite_files::Finding::Unknown(why) => {
            let obs = sqlite_ext(&outcome, &interp);
            let message = format!("{} (asked the interpreter: {why})", obs.message);
            Observation { message, ..obs }.with("source", "interpreter")
        }
    };
    sink.emit(obs.elapsed_since(start));
}

fn no_interpreter(notes: &[String], start: Instant, sink: &Sink) {
    let mut message = "no python3/python on PATH and no VIRTUAL_ENV".to_string();
    for n in notes {
        message.push_str("; ");
        message.push_str(n);
    }
    sink.emit(
        Observation::fail(INTERPRETER, TARGET, message)
            .with_errno("ENOENT")
            .with("path", Value::Null)
            .with("version", Value::Null)
            .with("found_via", Value::Null)
            .elapsed_since(start),
    );
    for id in [PACKAGES, SQLITE_EXT] {
        sink.emit(
            Observation::skipped(id, TARGET, "no Python interpreter found").elapsed_since(start),
        );
    }
}

fn wanted_packages(ctx: &ProbeContext) -> Vec<String> {
    if ctx.catalogue.python_packages.is_empty() {
        packages::DEFAULT.iter().map(|s| s.to_string()).collect()
    } else {
        ctx.catalogue.python_packages.clone()
    }
}

/// Fill what the files did not say from the interpreter's own report; returns a note when the
/// interpreter could not tell either.
fn merge(
    layout: &mut discover::Layout,
    outcome: &spawn::Outcome,
    interp: &discover::Interpreter,
) -> Option<String> {
    match outcome {
        spawn::Outcome::Reported(r, took) => {
            if layout.version.is_none() {
                layout.version = discover::numeric_version(&r.version);
                layout.version_source = Some(format!("interpreter ({} ms)", took.as_millis()));
            }
            if layout.site_dirs.is_empty() {
                let dirs = r.user_site.iter().chain(r.site_packages.iter());
                layout.site_dirs = dirs.map(PathBuf::from).filter(|d| d.is_dir()).collect();
            }
            None
        }
        other => Some(format!(
            "the files did not tell, and the interpreter {}",
            spawn_failure(other, interp)
        )),
    }
}

/// Why the interpreter run gave no report, for messages.
fn spawn_failure(outcome: &spawn::Outcome, interp: &discover::Interpreter) -> String {
    match outcome {
        spawn::Outcome::Reported(..) => "answered".into(),
        spawn::Outcome::TimedOut(_) => {
            let shim = if interp.unresolved_shim {
                "; it is a pyenv shim, and shims are slow to start"
            } else {
                ""
            };
            format!(
                "did not answer within {} ms and was killed{shim}",
                spawn::SPAWN_TIMEOUT.as_millis()
            )
        }
        spawn::Outcome::NotStarted(errno, msg) => format!("could not be started: {errno} ({msg})"),
        spawn::Outcome::Garbled(why) => format!("printed no report ({why})"),
    }
}

fn interpreter(
    interp: &discover::Interpreter,
    layout: &discover::Layout,
    note: Option<&str>,
) -> Observation {
    let version = layout.version.clone();
    let mut message = format!(
        "Python {} at {} (via {})",
        version.as_deref().unwrap_or("of unknown version"),
        shown(&interp.path),
        interp.found_via
    );
    for n in interp.notes.iter().map(String::as_str).chain(note) {
        message.push_str("; ");
        message.push_str(n);
    }
    let resolved = (interp.resolved != interp.path).then(|| shown(&interp.resolved));
    Observation::pass(INTERPRETER, TARGET, message)
        .with("path", shown(&interp.path))
        .with("version", version.map_or(Value::Null, Value::from))
        .with("found_via", interp.found_via.clone())
        .with("resolved_path", resolved.map_or(Value::Null, Value::from))
        .with(
            "venv",
            layout
                .venv
                .as_ref()
                .map_or(Value::Null, |v| Value::from(shown(v))),
        )
        .with(
            "version_source",
            layout
                .version_source
                .clone()
                .map_or(Value::Null, Value::from),
        )
}

fn installed(
    layout: &discover::Layout,
    wanted: &[String],
    source: &str,
    note: Option<&str>,
) -> Observation {
    let dirs: Vec<String> = layout.site_dirs.iter().map(|d| shown(d)).collect();
    if layout.site_dirs.is_empty() {
        let why = note.unwrap_or("none of the usual places exist");
        let mut o = Observation::fail(
            PACKAGES,
            TARGET,
            format!("no site-packages dir found: {why}"),
        )
        .with_errno("ENOENT");
        if note.is_some() {
            // The interpreter could not be asked: the tool did not observe their absence.
            o.status = Status::Error;
        }
        return o.with("packages", Value::Null).with("site_packages", dirs);
    }
    let found = packages::installed(&layout.site_dirs, wanted);
    let present: Vec<String> = found
        .iter()
        .filter_map(|(n, v)| v.as_ref().map(|v| format!("{n} {v}")))
        .collect();
    let mut map = Map::new();
    for (name, version) in found {
        map.insert(name, version.map_or(Value::Null, Value::from));
    }
    let listed = if present.is_empty() {
        "none of the packages asked about".to_string()
    } else {
        present.join(", ")
    };
    Observation::pass(
        PACKAGES,
        TARGET,
        format!(
            "{} site-packages dir(s) read ({source}): {listed}",
            dirs.len()
        ),
    )
    .with("packages", Value::Object(map))
    .with("site_packages", dirs)
}

fn sqlite_from_files(answer: &sqlite_files::Answer) -> Observation {
    let version = match (&answer.sqlite_version, &answer.library) {
        (Some(v), Ok(lib)) => format!("SQLite {v} from {}", shown(lib)),
        (_, Err(why)) => format!("SQLite version unknown: {why}"),
        (None, Ok(lib)) => format!("SQLite version unknown: {}", shown(lib)),
    };
    let message = if answer.enable_load_extension {
        format!(
            "sqlite3.Connection.enable_load_extension exists: {}; {version}",
            answer.evidence
        )
    } else {
        format!(
            "sqlite3.Connection has no enable_load_extension: {}; {version}",
            answer.evidence
        )
    };
    let obs = if answer.enable_load_extension {
        Observation::pass(SQLITE_EXT, TARGET, message)
    } else {
        Observation::fail(SQLITE_EXT, TARGET, message)
    };
    obs.with("enable_load_extension", answer.enable_load_extension)
        .with(
            "sqlite_version",
            answer
                .sqlite_version
                .clone()
                .map_or(Value::Null, Value::from),
        )
        .with("source", shown(&answer.module))
        .with(
            "sqlite_library",
            answer
                .library
                .as_ref()
                .map_or(Value::Null, |l| Value::from(shown(l))),
        )
}

fn sqlite_ext(outcome: &spawn::Outcome, interp: &discover::Interpreter) -> Observation {
    let report = match outcome {
        spawn::Outcome::Reported(r, _) => r,
        spawn::Outcome::NotStarted(errno, _) => {
            // EACCES/ENOEXEC/ENOENT are the interpreter's own state; EAGAIN (no process slot)
            // and EMFILE/ENOMEM (see Sink::emit) are the tool's, and observe nothing.
            let mut o = Observation::fail(
                SQLITE_EXT,
                TARGET,
                format!("the interpreter {}", spawn_failure(outcome, interp)),
            )
            .with_errno(errno.clone());
            if errno == "EAGAIN" {
                o.status = Status::Error;
            }
            return o;
        }
        spawn::Outcome::TimedOut(_) => {
            return Observation::new(
                SQLITE_EXT,
                TARGET,
                Status::Timeout,
                format!("the interpreter {}", spawn_failure(outcome, interp)),
            );
        }
        spawn::Outcome::Garbled(_) => {
            return Observation::error(
                SQLITE_EXT,
                TARGET,
                format!("the interpreter {}", spawn_failure(outcome, interp)),
            );
        }
    };
    let sqlite_version = report
        .sqlite_version
        .clone()
        .map_or(Value::Null, Value::from);
    let obs = match (report.enable_load_extension, &report.sqlite_error) {
        (Some(true), _) => Observation::pass(
            SQLITE_EXT,
            TARGET,
            format!(
                "sqlite3.Connection.enable_load_extension exists (SQLite {})",
                report.sqlite_version.as_deref().unwrap_or("?")
            ),
        ),
        (Some(false), _) => Observation::fail(
            SQLITE_EXT,
            TARGET,
            "sqlite3.Connection has no enable_load_extension: this Python was built without loadable SQLite extensions",
        ),
        (None, err) => Observation::fail(
            SQLITE_EXT,
            TARGET,
            format!(
                "import sqlite3 failed: {}",
                err.as_deref().unwrap_or("no report")
            ),
        ),
    };
    obs.with(
        "enable_load_extension",
        report.enable_load_extension.unwrap_or(false),
    )
    .with("sqlite_version", sqlite_version)
}

#[cfg(all(test, unix))]
mod tests;
