//! `file.permissions`: whether the filesystem keeps what a server checks on its data dir —
//! a `chmod 0700` that reads back as 0700, and a new directory owned by the user who made it.
//! PostgreSQL refuses a PGDATA that fails either ("has invalid permissions", "has wrong
//! ownership"); filesystems that fake Unix permissions fail them: DrvFs (`/mnt/c`) without the
//! `metadata` option, ntfs-3g and exFAT without permission mapping, FUSE mounts that ignore
//! chmod or force an owner. Observed on a directory in the scratch dir, which is removed.

use crate::observation::Observation;
use std::path::Path;
use std::time::Instant;

pub const ID: &str = "file.permissions";

/// The mode asked for: PostgreSQL's own (`pg_dir_create_mode`, 0700).
#[cfg(unix)]
const MODE: u32 = 0o700;

#[cfg(unix)]
pub fn check(scratch: &Path, target: &str) -> Observation {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let start = Instant::now();
    let dir = scratch.join("permissions");
    let observed = (|| {
        std::fs::create_dir(&dir).map_err(|e| ("mkdir", e))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(MODE))
            .map_err(|e| ("chmod", e))?;
        std::fs::metadata(&dir).map_err(|e| ("stat", e))
    })();
    let _ = std::fs::remove_dir(&dir);
    let meta = match observed {
        Ok(m) => m,
        Err((what, e)) => {
            return Observation::from_io_error(ID, target, what, &e).elapsed_since(start);
        }
    };
    let mode = meta.mode() & 0o7777;
    let me = nix::unistd::geteuid().as_raw();
    let kept = mode == MODE;
    let owned = meta.uid() == me;
    let mut problems = Vec::new();
    if !kept {
        problems.push(format!("chmod {MODE:04o} reads back as {mode:04o}"));
    }
    if !owned {
        problems.push(format!(
            "a directory made by uid {me} is owned by uid {}",
            meta.uid()
        ));
    }
    let obs = if problems.is_empty() {
        Observation::pass(
            ID,
            target,
            format!(
                "chmod {MODE:04o} was kept and a new directory is owned by its maker (uid {me})"
            ),
        )
    } else {
        Observation::fail(
            ID,
            target,
            format!(
                "this filesystem does not keep Unix permissions: {}",
                problems.join("; ")
            ),
        )
    };
    obs.with("mode_requested", format!("{MODE:04o}"))
        .with("mode_after", format!("{mode:04o}"))
        .with("mode_kept", kept)
        .with("owner_is_creator", owned)
        .elapsed_since(start)
}

#[cfg(not(unix))]
pub fn check(_scratch: &Path, target: &str) -> Observation {
    let _ = Instant::now();
    Observation::skipped(
        ID,
        target,
        "Unix permission bits and owners are not what Windows filesystems keep (ACLs are); by design, nothing to observe",
    )
}
