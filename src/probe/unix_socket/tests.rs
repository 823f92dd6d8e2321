//! Tests of the `unix_socket` probe: real sockets in tempdirs, data dirs whose scratch socket
//! path (or the dir's own path) is too long for `sun_path`, scratch errors, the temp dir given
//! as a data dir, and socket dirs outside the data dir.

use super::*;
use crate::host::HostRoot;
use crate::observation::Status;
use crate::probe::{CatalogueInputs, ScratchError, engine};
use std::path::Path;
use std::sync::Arc;

fn scratch_in(dir: &Path) -> Result<PathBuf, ScratchError> {
    let path = tempfile::Builder::new()
        .prefix(".wsl-vecprobe-test")
        .tempdir_in(dir)
        .map_err(|e| ScratchError {
            errno: e.raw_os_error().map(crate::errno::errno_name),
            message: e.to_string(),
            own: false,
        })?;
    Ok(path.keep())
}

fn data_dir(path: &Path) -> DataDir {
    let facts = crate::host::collect_data_dirs(&HostRoot::live(), &[path.to_path_buf()]);
    DataDir {
        same_filesystem_as: None,
        facts: facts[0].clone(),
        scratch: scratch_in(path),
    }
}

fn ctx(
    dirs: Vec<DataDir>,
    sockets: Vec<SocketSpec>,
    tmp: Result<PathBuf, ScratchError>,
) -> ProbeContext {
    ProbeContext {
        host: Default::default(),
        host_root: HostRoot::live(),
        data_dirs: dirs,
        catalogue: CatalogueInputs {
            sockets,
            ..Default::default()
        },
        tmp_scratch: tmp,
        exe: None,
        deadline: Instant::now() + Duration::from_secs(5),
        connect_attempts: 1,
        env: |_| None,
    }
}

fn spec(backend: &str, base: &str, name: &str) -> SocketSpec {
    SocketSpec {
        backend: backend.into(),
        base: base.into(),
        name: name.into(),
    }
}

fn find<'a>(obs: &'a [Observation], id: &str, target: &str) -> &'a Observation {
    obs.iter()
        .find(|o| o.id == id && o.target == target)
        .unwrap_or_else(|| panic!("{id} @ {target} missing in {obs:#?}"))
}

#[test]
fn sockets_work_in_a_local_tempdir_and_the_limit_is_measured() {
    let base = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let c = ctx(
        vec![data_dir(base.path())],
        vec![
            spec("redis", "data_dir", "redis.sock"),
            spec("milvus_lite_2", "tmp", "tmpabcdefgh_x.db.sock"),
        ],
        scratch_in(tmp.path()),
    );
    let (tmp_target, _) = temp_target();
    let dir_target = base.path().display().to_string();
    let obs = engine::run(Arc::new(c), &[&PROBE]);
    assert_eq!(obs.len(), 4, "{obs:#?}");
    assert!(obs.iter().all(|o| o.status == Status::Pass), "{obs:#?}");
    assert!(
        find(&obs, TMP, &tmp_target).values["path_length"]
            .as_u64()
            .unwrap()
            > 0
    );
    let host = find(&obs, PATH_LENGTH, &tmp_target);
    assert_eq!(host.values["limit_measured"], host.values["limit"]);
    assert_eq!(
        host.values["fits"],
        serde_json::json!({"milvus_lite_2": true})
    );
    let dir = find(&obs, PATH_LENGTH, &dir_target);
    assert_eq!(dir.values["fits"], serde_json::json!({"redis": true}));
    assert_eq!(
        dir.values["sockets"][0]["path"],
        base.path().join("redis.sock").display().to_string()
    );
}

/// A data dir of `len` bytes under `base`.
fn dir_of_length(base: &Path, len: usize) -> PathBuf {
    let mut dir = base.as_os_str().to_os_string();
    dir.push("/");
    while dir.len() < len {
        dir.push("d");
    }
    let dir = PathBuf::from(dir);
    assert_eq!(path_length::byte_len(&dir), len);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_data_dir_path_too_long_for_sun_path_fails_path_length_but_not_the_bind() {
    let base = tempfile::tempdir().unwrap();
    let mut long = base.path().to_path_buf();
    while path_length::byte_len(&long) <= 110 {
        long.push("a-rather-long-directory-name");
    }
    std::fs::create_dir_all(&long).unwrap();
    let c = ctx(
        vec![data_dir(&long)],
        vec![spec("redis", "data_dir", "redis.sock")],
        scratch_in(base.path()),
    );
    let target = long.display().to_string();
    let obs = engine::run(Arc::new(c), &[&PROBE]);
    let pl = find(&obs, PATH_LENGTH, &target);
    assert_eq!(pl.status, Status::Fail);
    assert_eq!(pl.values["fits"], serde_json::json!({"redis": false}));
    assert_eq!(pl.values["sockets"][0]["fits"], false);
    // The length is uds.path_length's finding; the filesystem takes sockets.
    let bind = find(&obs, DATA_DIR, &target);
    assert_eq!(bind.status, Status::Pass, "{bind:#?}");
    assert_eq!(bind.values["bound_via"], "proc_fd");
}

/// The calibration's case: a data dir of about 95 bytes. A backend's own socket there
/// (`<D>/redis.sock`) fits, but the probe's scratch socket (`<D>/.wsl-vecprobe-XXXXXX/d.sock`,
/// 29 bytes longer) does not: the bind used to fail with EINVAL, reported as "unix sockets
/// cannot be bound in this data dir". Now it is bound through /proc/self/fd and passes.
#[test]
fn a_data_dir_of_95_bytes_passes_although_the_scratch_socket_path_is_over_sun_path() {
    let base = tempfile::tempdir().unwrap();
    let dir = dir_of_length(base.path(), 95);
    let d = data_dir(&dir);
    let scratch = d.scratch.clone().unwrap();
    assert!(path_length::byte_len(&scratch.join("d.sock")) >= path_length::limit());
    let c = ctx(
        vec![d],
        vec![spec("redis", "data_dir", "redis.sock")],
        scratch_in(base.path()),
    );
    let target = dir.display().to_string();
    let obs = engine::run(Arc::new(c), &[&PROBE]);
    let bind = find(&obs, DATA_DIR, &target);
    assert_eq!(
        (bind.status, bind.errno.as_deref()),
        (Status::Pass, None),
        "{bind:#?}"
    );
    assert_eq!(bind.values["bound_via"], "proc_fd");
    assert!(bind.message.contains("/proc/self/fd"), "{}", bind.message);
    let pl = find(&obs, PATH_LENGTH, &target);
    assert_eq!(pl.status, Status::Pass, "{pl:#?}");
    assert_eq!(pl.values["fits"], serde_json::json!({"redis": true}));
    // The socket file went where the full path names it, and was removed again.
    assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);
    std::fs::remove_dir(&scratch).unwrap();
}

#[test]
fn a_short_data_dir_is_bound_by_its_path() {
    let base = tempfile::tempdir().unwrap();
    let dir = dir_of_length(base.path(), 40.max(path_length::byte_len(base.path()) + 2));
    let c = ctx(vec![data_dir(&dir)], vec![], scratch_in(base.path()));
    let obs = engine::run(Arc::new(c), &[&PROBE]);
    let bind = find(&obs, DATA_DIR, &dir.display().to_string());
    assert_eq!(bind.status, Status::Pass, "{bind:#?}");
    assert_eq!(bind.values["bound_via"], "path");
}

#[test]
fn socket_dirs_outside_the_data_dir_are_checked_once_each_without_writing() {
    let base = tempfile::tempdir().unwrap();
    let present = base.path().join("run");
    std::fs::create_dir(&present).unwrap();
    let missing = base.path().join("gone");
    let file = base.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let (p, m, f) = (
        present.display().to_string(),
        missing.display().to_string(),
        file.display().to_string(),
    );
    let c = ctx(
        vec![],
        vec![
            spec("pg", &p, ".s.PGSQL.5432"),
            spec("pg2", &p, ".s.PGSQL.5433"),
            spec("pg", &m, ".s.PGSQL.5432"),
            spec("pg", &f, "x.sock"),
            spec("redis", "tmp", "r.sock"),
        ],
        scratch_in(base.path()),
    );
    let planned = plan(&c, None);
    let obs = engine::run(Arc::new(c), &[&PROBE]);
    assert_eq!(planned.len(), obs.len());
    let dirs: Vec<&Observation> = obs
        .iter()
        .filter(|o| o.id.starts_with("uds.socket_dir:"))
        .collect();
    assert_eq!(dirs.len(), 3, "{dirs:#?}");
    let here = find(&obs, &format!("uds.socket_dir:{p}"), &p);
    assert_eq!(here.status, Status::Pass, "{here:#?}");
    assert_eq!(here.values["exists"], true);
    assert_eq!(here.values["writable"], true);
    assert_eq!(here.values["backends"], serde_json::json!(["pg", "pg2"]));
    assert_eq!(
        here.values["sockets"][1],
        present.join(".s.PGSQL.5433").display().to_string()
    );
    assert_eq!(
        std::fs::read_dir(&present).unwrap().count(),
        0,
        "wrote in it"
    );
    let gone = find(&obs, &format!("uds.socket_dir:{m}"), &m);
    assert_eq!(gone.status, Status::Pass, "{gone:#?}");
    assert_eq!(gone.values["exists"], false);
    assert_eq!(gone.values["stat_errno"], "ENOENT");
    assert!(!missing.exists());
    let not_dir = find(&obs, &format!("uds.socket_dir:{f}"), &f);
    assert_eq!(
        (not_dir.status, not_dir.errno.as_deref()),
        (Status::Fail, Some("ENOTDIR"))
    );
}

#[test]
fn scratch_errors_fail_with_their_errno_or_skip_without_one() {
    let mut dir = data_dir(Path::new("/nonexistent-vecprobe-dir"));
    dir.scratch = Err(ScratchError {
        errno: Some("EROFS".into()),
        message: "read-only".into(),
        own: false,
    });
    let c = ctx(
        vec![dir],
        vec![],
        Err(ScratchError {
            errno: None,
            message: "no temp".into(),
            own: false,
        }),
    );
    let (tmp_target, _) = temp_target();
    let obs = engine::run(Arc::new(c), &[&PROBE]);
    assert_eq!(find(&obs, TMP, &tmp_target).status, Status::Skipped);
    let d = find(&obs, DATA_DIR, "/nonexistent-vecprobe-dir");
    assert_eq!(
        (d.status, d.errno.as_deref()),
        (Status::Fail, Some("EROFS"))
    );
    let host = find(&obs, PATH_LENGTH, &tmp_target);
    assert_eq!(host.status, Status::Pass);
    assert!(!host.values.contains_key("limit_measured"));
}

#[test]
fn a_scratch_dir_the_tool_could_not_start_a_thread_to_make_is_an_error_not_a_failure() {
    let refused = || ScratchError {
        errno: Some("EAGAIN".into()),
        message: "not created: the tool could not start a thread of its own".into(),
        own: true,
    };
    let mut dir = data_dir(Path::new("/nonexistent-vecprobe-dir"));
    dir.scratch = Err(refused());
    let c = ctx(vec![dir], vec![], Err(refused()));
    let (tmp_target, _) = temp_target();
    let obs = engine::run(Arc::new(c), &[&PROBE]);
    for o in [
        find(&obs, TMP, &tmp_target),
        find(&obs, DATA_DIR, "/nonexistent-vecprobe-dir"),
    ] {
        assert_eq!(
            (o.status, o.errno.as_deref()),
            (Status::Error, Some("EAGAIN")),
            "{o:?}"
        );
    }
}

#[test]
fn the_temp_dir_given_as_a_data_dir_gets_one_path_length_with_both_kinds_of_socket() {
    let (tmp_target, tmp_dir) = temp_target();
    let dir = data_dir(&tmp_dir);
    let dir_scratch = dir.scratch.clone().unwrap();
    let tmp_scratch = scratch_in(&tmp_dir);
    let tmp_scratch_path = tmp_scratch.clone().unwrap();
    let c = ctx(
        vec![dir],
        vec![
            spec("redis", "data_dir", "redis.sock"),
            spec("milvus", "tmp", "m.sock"),
        ],
        tmp_scratch,
    );
    let planned = plan(&c, None);
    let obs = engine::run(Arc::new(c), &[&PROBE]);
    let pls: Vec<&Observation> = obs.iter().filter(|o| o.id == PATH_LENGTH).collect();
    assert_eq!(pls.len(), 1, "{pls:#?}");
    assert_eq!(pls[0].target, tmp_target);
    assert_eq!(
        pls[0].values["fits"],
        serde_json::json!({"redis": true, "milvus": true})
    );
    assert!(pls[0].values.contains_key("limit_measured"));
    assert_eq!(planned.len(), obs.len());
    for scratch in [dir_scratch, tmp_scratch_path] {
        assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);
        std::fs::remove_dir(&scratch).unwrap();
    }
}
