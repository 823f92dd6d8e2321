//! Probe `stores`: the known backend stores inside a data dir (milvus-lite `x.db/LOCK`,
//! qdrant local `.lock`, Qdrant shards, `.duckdb`, SQLite with `-wal`/`-shm`, chroma,
//! PostgreSQL `postmaster.pid`, `.lance`, Redis dumps), found by a bounded read-only walk, and
//! for each whether another process has it in use right now, and who: a lock in `/proc/locks`
//! or `F_GETLK` (never taking one), a live pid file, or (for stores whose users take no lock)
//! an open file inside it.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink};
use crate::observation::Observation;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub mod discover;
pub mod users;

use discover::{KINDS, Store};

pub static PROBE: ProbeDef = ProbeDef {
    name: "stores",
    kind: ProbeKind::Locks,
    scope: Scope::DataDir,
    timeout: Duration::from_millis(1500),
    plan,
    run,
    in_agent: true,
};

pub fn id_of(kind: &str) -> String {
    format!("store:{kind}")
}

fn plan(_ctx: &ProbeContext, dir: Option<&DataDir>) -> Vec<Planned> {
    let Some(dir) = dir else { return Vec::new() };
    KINDS
        .iter()
        .map(|k| Planned::new(id_of(k), dir.target()))
        .collect()
}

fn run(ctx: &ProbeContext, dir: Option<&DataDir>, sink: &Sink) {
    let Some(dir) = dir else { return };
    let start = Instant::now();
    let target = dir.target();
    let not_run = if ctx.host_root.is_recorded() {
        Some("not run: recorded host (--host-root); stores in use can only be seen live")
    } else if !dir.facts.exists {
        // Walking a filesystem that did not answer stat in time could hang this probe.
        Some(if dir.facts.filesystem.answered() {
            "the data dir does not exist on this machine"
        } else {
            "not run: the filesystem did not answer stat/statfs before the deadline"
        })
    } else {
        None
    };
    if let Some(why) = not_run {
        for kind in KINDS {
            sink.emit(Observation::skipped(id_of(kind), &target, why));
        }
        return;
    }
    // Leave time to look for holders: the walk gets half of this probe's budget.
    let budget = PROBE.timeout.min(ctx.remaining());
    let walk = discover::walk(&dir.facts.path, super::scratch::PREFIX, start + budget / 2);
    let users = users::find(ctx, &walk.stores, start + budget * 3 / 4);
    for kind in KINDS {
        let mine: Vec<(&Store, Option<&users::User>)> = walk
            .stores
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == *kind)
            .map(|(i, s)| (s, users[i].as_ref()))
            .collect();
        sink.emit(observe(kind, (&target, &dir.facts.path), &mine, &walk).elapsed_since(start));
    }
}

/// The data dir as shown (the target) and as a path (stores are named relative to it).
fn observe(
    kind: &str,
    (target, base): (&str, &Path),
    stores: &[(&Store, Option<&users::User>)],
    walk: &discover::Walk,
) -> Observation {
    let id = id_of(kind);
    let partial = if walk.complete {
        String::new()
    } else {
        format!(
            " (walk stopped after {} entries; deeper stores not looked at)",
            walk.entries_read
        )
    };
    let listed: Vec<Value> = stores
        .iter()
        .map(|(s, u)| {
            json!({
                "path": crate::host::shown(&s.path),
                "held": u.is_some(),
                "holder_pid": u.and_then(|u| u.pid),
                "holder_command": u.and_then(|u| u.command.clone()),
                "evidence": u.map(|u| u.evidence.clone()),
            })
        })
        .collect();
    let held = stores.iter().find_map(|(s, u)| u.map(|u| (s, u)));
    let o = match (stores.len(), held) {
        (0, _) => Observation::pass(&id, target, format!("no {kind} store found{partial}")),
        (n, None) => Observation::pass(
            &id,
            target,
            format!("{n} {kind} store(s), none in use by another process{partial}"),
        ),
        (_, Some((s, u))) => {
            let who = match (u.pid, &u.command) {
                (Some(p), Some(c)) => format!("pid {p} ({c})"),
                (Some(p), None) => format!("pid {p}"),
                (None, _) => "another process (Windows does not name lock holders)".to_string(),
            };
            Observation::fail(
                &id,
                target,
                format!(
                    "{} is in use by {who}: {}",
                    relative(&s.path, base),
                    u.evidence
                ),
            )
            .with("holder_pid", u.pid)
            .with("holder_command", u.command.clone())
            .with("evidence", u.evidence.clone())
        }
    };
    o.with("found", stores.len())
        .with("held", held.is_some())
        .with("stores", listed)
        .with("complete", walk.complete)
}

fn relative(path: &Path, base: &Path) -> String {
    let rel = path
        .strip_prefix(base)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| path.to_path_buf());
    crate::host::shown(&rel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Status;
    use crate::probe::testing::{collect, context, local_data_dir};

    fn find<'a>(obs: &'a [Observation], kind: &str) -> &'a Observation {
        obs.iter()
            .find(|o| o.id == id_of(kind))
            .unwrap_or_else(|| panic!("{kind} observed"))
    }

    #[test]
    fn every_kind_is_planned_and_emitted_and_an_empty_dir_has_no_store() {
        let t = tempfile::tempdir().unwrap();
        let dir = local_data_dir(t.path());
        let ctx = ProbeContext {
            data_dirs: vec![dir.clone()],
            ..context()
        };
        assert_eq!(plan(&ctx, Some(&dir)).len(), KINDS.len());
        let obs = collect(&PROBE, &ctx, Some(&dir));
        assert_eq!(obs.len(), KINDS.len());
        assert!(obs.iter().all(|o| o.status == Status::Pass), "{obs:#?}");
        assert_eq!(find(&obs, "qdrant-local").values["found"], 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_this_process_holds_is_not_another_process_using_the_store() {
        use crate::platform::unix::locks::{LockCall, try_lock_exclusive};
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("x.db")).unwrap();
        let f = std::fs::File::create(t.path().join("x.db/LOCK")).unwrap();
        try_lock_exclusive(&f, LockCall::Flock).unwrap();
        let dir = local_data_dir(t.path());
        let ctx = ProbeContext {
            data_dirs: vec![dir.clone()],
            ..context()
        };
        let obs = collect(&PROBE, &ctx, Some(&dir));
        let m = find(&obs, "milvus-lite");
        assert_eq!(m.status, Status::Pass, "{m:#?}");
        assert_eq!(
            (m.values["found"].clone(), m.values["held"].clone()),
            (1.into(), false.into())
        );
        assert!(t.path().join("x.db/LOCK").exists());
    }

    #[test]
    fn a_data_dir_that_does_not_exist_is_not_walked() {
        let t = tempfile::tempdir().unwrap();
        let mut dir = local_data_dir(&t.path().join("gone"));
        dir.facts.exists = false;
        let ctx = ProbeContext {
            data_dirs: vec![dir.clone()],
            ..context()
        };
        let obs = collect(&PROBE, &ctx, Some(&dir));
        assert!(obs.iter().all(|o| o.status == Status::Skipped), "{obs:#?}");
    }
}
