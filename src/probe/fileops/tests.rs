//! Tests of the `fileops` probe against real directories: a healthy tempdir, read-only and
//! tiny tmpfs mounts (root only; skipped with a printed reason otherwise).

use super::*;
use crate::host::HostRoot;
use crate::probe::engine;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

/// A scratch dir made like scratch::create_in, but not registered: scratch::cleanup_all in
/// another test of this binary must not remove it under our feet.
fn scratch_in(dir: &Path) -> Result<PathBuf, ScratchError> {
    let path = dir.join(".wsl-vecprobe-test");
    std::fs::create_dir(&path)
        .map(|_| path)
        .map_err(|e| ScratchError {
            errno: e.raw_os_error().map(crate::errno::errno_name),
            message: format!("cannot create a scratch dir in {}: {e}", dir.display()),
            own: false,
        })
}

fn data_dir(path: &Path, scratch: Result<PathBuf, ScratchError>) -> DataDir {
    let facts = crate::host::collect_data_dirs(&HostRoot::live(), &[path.to_path_buf()]);
    DataDir {
        same_filesystem_as: None,
        facts: facts[0].clone(),
        scratch,
    }
}

fn ctx_with(dir: DataDir) -> ProbeContext {
    ProbeContext {
        data_dirs: vec![dir],
        ..crate::probe::testing::context()
    }
}

fn run_on(dir: DataDir) -> Vec<Observation> {
    engine::run(Arc::new(ctx_with(dir)), &[&PROBE])
}

fn find<'a>(obs: &'a [Observation], id: &str) -> &'a Observation {
    obs.iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("{id} missing in {obs:#?}"))
}

/// A tmpfs mounted on a fresh tempdir, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(options: &str) -> Option<Tmpfs> {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: mounting a tmpfs needs root");
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: `mount -t tmpfs -o {options}` failed here (no mount privilege?)");
            return None;
        }
        Some(Tmpfs { dir })
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn remount(&self, options: &str) -> bool {
        Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.path())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn every_operation_passes_in_a_healthy_tempdir_and_nothing_is_left_behind() {
    let base = tempfile::tempdir().unwrap();
    let scratch = scratch_in(base.path());
    let scratch_path = scratch.clone().unwrap();
    let obs = run_on(data_dir(base.path(), scratch));
    assert_eq!(obs.len(), 7, "{obs:#?}");
    for o in &obs {
        assert_eq!(o.status, Status::Pass, "{o:#?}");
        assert_eq!(o.target, base.path().display().to_string());
    }
    assert_eq!(find(&obs, CREATE).values["bytes"], CREATE_BYTES);
    assert_eq!(
        find(&obs, RENAME_NOREPLACE).values["refused_existing"],
        true
    );
    assert_eq!(
        find(&obs, PREALLOCATE).values["bytes_requested"],
        PREALLOCATE_BYTES
    );
    let free = &find(&obs, FREE_SPACE).values;
    assert!(free["total_bytes"].as_u64().unwrap() >= free["free_bytes"].as_u64().unwrap());
    assert_eq!(std::fs::read_dir(&scratch_path).unwrap().count(), 0);
}

#[test]
fn a_read_only_mount_fails_file_create_with_erofs_and_skips_the_rest() {
    let Some(ro) = Tmpfs::mount("ro,size=1m") else {
        return;
    };
    // The real scratch creation (it fails here, so nothing is registered for cleanup).
    let scratch = crate::probe::scratch::create_in(ro.path());
    assert_eq!(
        scratch.as_ref().unwrap_err().errno.as_deref(),
        Some("EROFS")
    );
    let obs = run_on(data_dir(ro.path(), scratch));
    let create = find(&obs, CREATE);
    assert_eq!(create.status, Status::Fail);
    assert_eq!(create.errno.as_deref(), Some("EROFS"));
    for id in NEED_SCRATCH {
        let o = find(&obs, id);
        assert_eq!(o.status, Status::Skipped, "{o:#?}");
        assert_eq!(o.message, "no scratch dir: EROFS");
    }
    assert_eq!(find(&obs, FREE_SPACE).status, Status::Pass);
}

#[test]
fn a_mount_turned_read_only_after_the_scratch_dir_exists_fails_the_real_create() {
    let Some(fs) = Tmpfs::mount("size=1m") else {
        return;
    };
    let scratch = scratch_in(fs.path());
    assert!(scratch.is_ok());
    if !fs.remount("ro") {
        eprintln!("skipped: remount ro failed");
        return;
    }
    let obs = run_on(data_dir(fs.path(), scratch));
    let create = find(&obs, CREATE);
    assert_eq!(create.errno.as_deref(), Some("EROFS"), "{create:#?}");
    assert!(
        create.message.starts_with("create: EROFS"),
        "{}",
        create.message
    );
    assert_eq!(find(&obs, LINK).message, "file.create failed: EROFS");
}

#[test]
fn preallocating_more_than_a_tmpfs_holds_fails_with_enospc() {
    // Half of PREALLOCATE_BYTES: the small files of the other checks still fit.
    let size = format!("size={}k", PREALLOCATE_BYTES / 2 / 1024);
    let Some(tiny) = Tmpfs::mount(&size) else {
        return;
    };
    let scratch = scratch_in(tiny.path());
    let scratch_path = scratch.clone().unwrap();
    let obs = run_on(data_dir(tiny.path(), scratch));
    let pre = find(&obs, PREALLOCATE);
    assert_eq!(pre.status, Status::Fail);
    assert_eq!(pre.errno.as_deref(), Some("ENOSPC"));
    assert_eq!(pre.values["bytes_requested"], PREALLOCATE_BYTES);
    for id in [CREATE, RENAME_REPLACE, RENAME_NOREPLACE, LINK] {
        assert_eq!(find(&obs, id).status, Status::Pass, "{id}");
    }
    assert_eq!(std::fs::read_dir(&scratch_path).unwrap().count(), 0);
}

#[test]
fn a_scratch_error_without_errno_is_skipped_not_failed() {
    let base = tempfile::tempdir().unwrap();
    let missing = base.path().join("not-here");
    let obs = run_on(data_dir(
        &missing,
        Err(ScratchError {
            errno: None,
            message: "the data dir does not exist on this machine (recorded host)".into(),
            own: false,
        }),
    ));
    assert_eq!(obs.len(), 7);
    assert!(obs.iter().all(|o| o.status == Status::Skipped), "{obs:#?}");
}

#[test]
fn emits_exactly_what_it_plans_in_plan_order() {
    let base = tempfile::tempdir().unwrap();
    let dir = data_dir(base.path(), scratch_in(base.path()));
    let ctx = ctx_with(dir.clone());
    let planned: Vec<(String, String)> = plan(&ctx, Some(&dir))
        .into_iter()
        .map(|p| (p.id, p.target))
        .collect();
    let emitted: Vec<(String, String)> =
        run_on(dir).into_iter().map(|o| (o.id, o.target)).collect();
    assert_eq!(planned, emitted);
    assert_eq!(planned.len(), 7);
    assert!(plan(&ctx, None).is_empty());
}
