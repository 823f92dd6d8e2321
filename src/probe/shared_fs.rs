//! Data dirs on one filesystem share its observations. What `Scope::Filesystem` probes
//! observe — whether maps, locks, renames and preallocation work — is a property of the
//! filesystem (device, mount, its options and its size), not of a directory on it: twenty
//! data dirs on one disk need one set of those checks, not twenty. The checks run in the
//! first such dir; each other dir gets a copy under its own target, marked `observed_in`
//! with the dir they were made in.
//!
//! A dir shares only what it provably has in common: the same device (stat), mount point,
//! filesystem type and size (statfs, which reports a project quota's limit as the size), and
//! it must have its own scratch dir — so its own permissions and room to write were proven
//! in it. Anything else (a dir whose stat or scratch failed, a recorded host, a system where
//! stat gives no device) is probed by itself.

use super::DataDir;
use crate::observation::Observation;

/// What two data dirs must have in common to share their filesystem's observations.
#[derive(PartialEq, Eq, Debug)]
struct FilesystemKey<'a> {
    device: u64,
    mount_point: &'a str,
    fs_type: &'a str,
    total_bytes: u64,
}

fn key(dir: &DataDir, device: Option<u64>) -> Option<FilesystemKey<'_>> {
    let fs = &dir.facts.filesystem;
    if dir.scratch.is_err() || !fs.answered() {
        return None;
    }
    Some(FilesystemKey {
        device: device?,
        mount_point: fs.mount_point.as_deref()?,
        fs_type: &fs.fs_type,
        total_bytes: fs.total_bytes?,
    })
}

/// The dirs, each with `same_filesystem_as` set to the first earlier dir it shares its
/// filesystem with. `device` is the dir's device number from stat, when known.
pub fn grouped(dirs: Vec<(DataDir, Option<u64>)>) -> Vec<DataDir> {
    let leaders: Vec<Option<usize>> = dirs
        .iter()
        .enumerate()
        .map(|(i, (dir, device))| {
            let mine = key(dir, *device)?;
            dirs[..i]
                .iter()
                .position(|(d, dev)| key(d, *dev).as_ref() == Some(&mine))
        })
        .collect();
    dirs.into_iter()
        .zip(leaders)
        .map(|((mut dir, _), leader)| {
            dir.same_filesystem_as = leader;
            dir
        })
        .collect()
}

/// Copies of `observed` (a `Scope::Filesystem` job's observations in dir `leader`) for every
/// data dir that shares its filesystem.
pub fn copies_for_members(
    dirs: &[DataDir],
    leader: usize,
    observed: &[Observation],
) -> Vec<Observation> {
    let made_in = dirs[leader].target();
    let mut out = Vec::new();
    for member in dirs.iter().filter(|d| d.same_filesystem_as == Some(leader)) {
        let target = member.target();
        for o in observed.iter().filter(|o| o.target == made_in) {
            let mut copy = o.clone();
            copy.target = target.clone();
            copy.message = format!(
                "{} (observed in {made_in}, on the same filesystem)",
                o.message
            );
            copy.values
                .insert("observed_in".into(), made_in.clone().into());
            out.push(copy);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{DataDirFacts, FsFacts};
    use crate::observation::Status;

    fn dir(path: &str, mount: &str, total: u64, scratch_ok: bool) -> DataDir {
        let mut filesystem = FsFacts::did_not_answer();
        filesystem.fs_type = "ext4".into();
        filesystem.source_of_facts = "statfs+mountinfo".into();
        filesystem.mount_point = Some(mount.into());
        filesystem.total_bytes = Some(total);
        DataDir {
            facts: DataDirFacts {
                given: path.into(),
                path: path.into(),
                exists: true,
                is_dir: true,
                writable: Some(true),
                filesystem,
            },
            scratch: if scratch_ok {
                Ok(format!("{path}/.scratch").into())
            } else {
                Err(crate::probe::ScratchError {
                    errno: Some("EACCES".into()),
                    message: "mkdir: EACCES".into(),
                    own: false,
                })
            },
            same_filesystem_as: None,
        }
    }

    #[test]
    fn only_dirs_with_the_same_device_mount_type_and_size_and_their_own_scratch_share() {
        let g = 1 << 30;
        let dirs = grouped(vec![
            (dir("/d/a", "/", g, true), Some(1)),
            (dir("/d/b", "/", g, true), Some(1)),
            (dir("/q/c", "/", g / 2, true), Some(1)), // a project quota: another size
            (dir("/d/c", "/", g, false), Some(1)),    // no scratch of its own
            (dir("/m/x", "/m", g, true), Some(2)),    // another mount
            (dir("/m/y", "/m", g, true), Some(2)),
            (dir("/s/z", "/", g, true), Some(3)), // same mount point, another device
            (dir("/u/w", "/", g, true), None),    // stat gave no device
        ]);
        let got: Vec<Option<usize>> = dirs.iter().map(|d| d.same_filesystem_as).collect();
        assert_eq!(got, [None, Some(0), None, None, None, Some(4), None, None]);
    }

    #[test]
    fn members_get_the_leaders_observations_under_their_own_target_marked_where_made() {
        let g = 1 << 30;
        let dirs = grouped(vec![
            (dir("/d/a", "/", g, true), Some(1)),
            (dir("/d/b", "/", g, true), Some(1)),
            (dir("/m/x", "/m", g, true), Some(2)),
        ]);
        let observed = vec![
            Observation::pass("mmap.fill", "/d/a", "filled").with("bytes", 262144),
            Observation::fail("lock.flock", "/d/a", "does not exclude").with_errno("EAGAIN"),
        ];
        let copies = copies_for_members(&dirs, 0, &observed);
        assert_eq!(copies.len(), 2);
        assert_eq!(
            (copies[0].id.as_str(), copies[0].target.as_str()),
            ("mmap.fill", "/d/b")
        );
        assert_eq!(copies[0].values["observed_in"], "/d/a");
        assert_eq!(copies[0].values["bytes"], 262144);
        assert!(copies[0].message.contains("observed in /d/a"));
        assert_eq!(
            (copies[1].status, copies[1].errno.as_deref()),
            (Status::Fail, Some("EAGAIN"))
        );
        assert!(copies_for_members(&dirs, 2, &observed).is_empty());
    }
}
