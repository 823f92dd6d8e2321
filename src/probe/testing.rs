//! Support for tests and benchmarks: a `ProbeContext` with nothing in it (live root, no data
//! dirs, no catalogue, no scratch, no executable, a 5 s deadline, an empty environment) to be
//! completed with struct-update syntax, and a plain local data dir. Not used by the tool itself.

use super::{CatalogueInputs, DataDir, ProbeContext, ProbeDef, ScratchError, Sink, engine::Msg};
use crate::host::{DataDirFacts, FsClass, FsFacts, HostRoot};
use crate::observation::{Observation, Status};
use std::path::Path;
use std::time::{Duration, Instant};

/// `ProbeContext { field: value, ..testing::context() }`.
pub fn context() -> ProbeContext {
    ProbeContext {
        host: Default::default(),
        host_root: HostRoot::live(),
        data_dirs: vec![],
        catalogue: CatalogueInputs::default(),
        tmp_scratch: Err(ScratchError {
            errno: None,
            message: "no scratch dir in this test context".into(),
            own: false,
        }),
        exe: None,
        deadline: Instant::now() + Duration::from_secs(5),
        connect_attempts: 1,
        env: |_| None,
    }
}

/// A data dir at `path` with local ext4 facts and no scratch dir (set `scratch` as needed).
pub fn local_data_dir(path: &Path) -> DataDir {
    DataDir {
        same_filesystem_as: None,
        facts: DataDirFacts {
            given: crate::host::shown(path),
            path: path.to_path_buf(),
            exists: true,
            is_dir: true,
            writable: Some(true),
            filesystem: FsFacts {
                fs_type: "ext4".into(),
                class: FsClass::Local,
                source: None,
                mount_point: None,
                options: None,
                read_only: Some(false),
                free_bytes: None,
                total_bytes: None,
                free_inodes: None,
                total_inodes: None,
                statfs_magic: None,
                source_of_facts: "test".into(),
            },
        },
        scratch: Err(ScratchError {
            errno: None,
            message: "no scratch dir in this test data dir".into(),
            own: false,
        }),
    }
}

/// Run one probe's `run` on one data dir and collect what it emits, in order.
pub fn collect(probe: &ProbeDef, ctx: &ProbeContext, dir: Option<&DataDir>) -> Vec<Observation> {
    let (tx, rx) = std::sync::mpsc::channel();
    (probe.run)(ctx, dir, &Sink::new(tx, 0));
    rx.try_iter()
        .filter_map(|m| match m {
            Msg::Observed(_, o) => Some(*o),
            Msg::Done(_) | Msg::Started(_) | Msg::AgentGone(_) => None,
        })
        .collect()
}

/// For a probe that runs in a child process on a data dir's scratch area: it plans exactly
/// `ids` on the dir; without an executable to re-run, or without a scratch dir, it emits each
/// as `skipped` with the reason (and the scratch errno) — never a pass.
pub fn assert_skips_without_executable_or_scratch(probe: &ProbeDef, ids: &[&str]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut dir = local_data_dir(tmp.path());
    dir.scratch = Ok(tmp.path().to_path_buf());
    let ctx = ProbeContext {
        data_dirs: vec![dir.clone()],
        ..context()
    };
    let planned = (probe.plan)(&ctx, Some(&dir));
    assert_eq!(
        planned.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ids
    );
    assert!(planned.iter().all(|p| p.target == dir.target()));
    let obs = collect(probe, &ctx, Some(&dir));
    assert_eq!(obs.len(), ids.len());
    assert!(
        obs.iter()
            .all(|o| o.status == Status::Skipped && o.message.contains("executable")),
        "{obs:?}"
    );

    let ctx = ProbeContext {
        exe: Some("/bin/true".into()),
        ..ctx
    };
    dir.scratch = Err(ScratchError {
        errno: Some("EROFS".into()),
        message: "read-only".into(),
        own: false,
    });
    let obs = collect(probe, &ctx, Some(&dir));
    assert_eq!(obs.len(), ids.len());
    for o in obs {
        assert_eq!(
            (o.status, o.errno.as_deref()),
            (Status::Skipped, Some("EROFS"))
        );
        assert!(o.message.contains("read-only"));
    }
}
