//! The environment probes (fileops, unix_socket, limits, docker, python) run through the
//! real engine on this machine, with a tempdir as the data dir: they emit exactly the ids
//! docs/observations.md promises, on time, and leave nothing behind. Linux only: elsewhere
//! several of them are `skipped` by design (no renameat2, no /proc).
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use wsl_vecprobe::host::{self, HostRoot};
use wsl_vecprobe::observation::{Observation, Status};
use wsl_vecprobe::probe::{
    self, CatalogueInputs, DataDir, ProbeContext, ProbeDef, SocketSpec, engine, scratch,
};

const FAMILIES: [&str; 5] = ["file.", "uds.", "limits.", "docker.", "python."];

fn probes() -> Vec<&'static ProbeDef> {
    vec![
        &probe::fileops::PROBE,
        &probe::unix_socket::PROBE,
        &probe::limits::PROBE,
        &probe::docker::PROBE,
        &probe::python::PROBE,
    ]
}

static ENV: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// The real environment, with DOCKER_HOST pointed at a socket that does not exist.
fn env(name: &str) -> Option<String> {
    if let Some((_, v)) = ENV.get()?.iter().find(|(k, _)| k == name) {
        return Some(v.clone());
    }
    std::env::var(name).ok()
}

fn context(data_dir: &Path) -> ProbeContext {
    let _ = ENV.set(vec![(
        "DOCKER_HOST".into(),
        "unix:///nonexistent/docker.sock".into(),
    )]);
    let facts = host::collect_data_dirs(&HostRoot::live(), &[data_dir.to_path_buf()]);
    ProbeContext {
        host: Default::default(),
        host_root: HostRoot::live(),
        data_dirs: facts
            .into_iter()
            .map(|f| DataDir {
                same_filesystem_as: None,
                scratch: scratch::create_in(&f.path),
                facts: f,
            })
            .collect(),
        catalogue: CatalogueInputs {
            sockets: vec![
                SocketSpec {
                    backend: "redis".into(),
                    base: "data_dir".into(),
                    name: "redis.sock".into(),
                },
                SocketSpec {
                    backend: "milvus_lite_2".into(),
                    base: "tmp".into(),
                    name: "tmpabcdefgh_milvus_demo.db.sock".into(),
                },
                // A socket dir outside the data dir: the data dir's parent (exists, writable).
                SocketSpec {
                    backend: "pg".into(),
                    base: data_dir.parent().unwrap().display().to_string(),
                    name: ".s.PGSQL.5432".into(),
                },
            ],
            python_packages: vec!["pymilvus".into(), "setuptools".into()],
            ..Default::default()
        },
        tmp_scratch: scratch::create_in(&std::env::temp_dir()),
        exe: None,
        deadline: Instant::now() + Duration::from_secs(3),
        connect_attempts: 1,
        env,
    }
}

/// Ids of the five families named in docs/observations.md.
fn documented_ids() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/observations.md"),
    )
    .expect("docs/observations.md");
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|id| FAMILIES.iter().any(|f| id.starts_with(f)))
        .map(str::to_string)
        .collect()
}

fn find<'a>(obs: &'a [Observation], id: &str, target: &str) -> &'a Observation {
    obs.iter()
        .find(|o| o.id == id && o.target == target)
        .unwrap_or_else(|| panic!("{id} @ {target} missing"))
}

#[test]
fn the_environment_probes_keep_the_documented_contract_on_a_healthy_tempdir() {
    let base = tempfile::tempdir().unwrap();
    let ctx = Arc::new(context(base.path()));
    let planned: BTreeSet<(String, String)> = probes()
        .iter()
        .flat_map(|p| match p.scope {
            probe::Scope::Host => (p.plan)(&ctx, None),
            probe::Scope::DataDir | probe::Scope::Filesystem => {
                (p.plan)(&ctx, Some(&ctx.data_dirs[0]))
            }
        })
        .map(|p| (p.id, p.target))
        .collect();
    let start = Instant::now();
    let obs = engine::run(Arc::clone(&ctx), &probes());
    let took = start.elapsed();
    // Not scratch::cleanup_all: it would also kill interpreter runs of concurrent tests.
    let mut scratch_dirs: Vec<PathBuf> = ctx
        .data_dirs
        .iter()
        .filter_map(|d| d.scratch.clone().ok())
        .collect();
    scratch_dirs.extend(ctx.tmp_scratch.clone().ok());
    for d in scratch_dirs {
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            0,
            "{} not emptied",
            d.display()
        );
        std::fs::remove_dir(&d).unwrap();
    }

    for o in &obs {
        eprintln!(
            "{:<22} {:<8} {:>8.3} ms  {}",
            o.id,
            o.status.as_str(),
            o.elapsed_ms,
            o.message
        );
    }
    eprintln!("whole run: {took:?}");
    let emitted: BTreeSet<(String, String)> = obs
        .iter()
        .map(|o| (o.id.clone(), o.target.clone()))
        .collect();
    assert_eq!(emitted, planned, "emitted != planned");
    assert_eq!(obs.len(), planned.len(), "an observation was emitted twice");
    // An id of a documented family (`uds.socket_dir:<dir>`) counts as the family.
    let documented = documented_ids();
    let ids: BTreeSet<String> = obs
        .iter()
        .map(|o| {
            documented
                .iter()
                .find(|d| {
                    d.split_once('<')
                        .is_some_and(|(pre, _)| o.id.starts_with(pre))
                })
                .cloned()
                .unwrap_or_else(|| o.id.clone())
        })
        .collect();
    assert_eq!(ids, documented);
    assert!(
        obs.iter()
            .all(|o| o.status != Status::Timeout && o.status != Status::Error),
        "timeouts or errors on a healthy host"
    );
    assert!(took < Duration::from_millis(800), "run took {took:?}");

    let dir = base.path().display().to_string();
    for id in [
        "file.create",
        "file.rename_replace",
        "file.rename_noreplace",
        "file.link",
        "file.preallocate",
        "file.free_space",
        "uds.data_dir",
        "uds.path_length",
    ] {
        assert_eq!(find(&obs, id, &dir).status, Status::Pass, "{id}");
    }
    let parent = base.path().parent().unwrap().display().to_string();
    let socket_dir = find(&obs, &format!("uds.socket_dir:{parent}"), &parent);
    assert_eq!(socket_dir.status, Status::Pass, "{socket_dir:?}");
    let daemon = find(&obs, "docker.daemon", "host");
    assert_eq!(daemon.errno.as_deref(), Some("ENOENT"));
    for id in ["limits.nofile", "limits.max_map_count", "limits.overcommit"] {
        assert_eq!(find(&obs, id, "host").status, Status::Pass, "{id}");
    }
    // Nothing left in the data dir once the scratch areas are cleaned up.
    assert_eq!(std::fs::read_dir(base.path()).unwrap().count(), 0);
}

#[path = "probes_env/python.rs"]
mod python;
#[path = "probes_env/python_sqlite_files.rs"]
mod python_sqlite_files;
