//! Probes that write into data dirs take turns where they could run each other out of space:
//! `fileops` (file.create, a 1 MiB preallocation) and the `mmap` worker (which fills pages
//! until the disk refuses) would otherwise compete for the same last KiB of a nearly full
//! filesystem, and one would see ENOSPC caused by the other — the tool's own use of the space,
//! not the host's lack of it. Each holder removes its files before it gives the turn back, so
//! whoever runs second sees the disk as the user left it.
//!
//! A turn is per filesystem (data dirs on different mounts never wait for each other), and is
//! taken only where it can matter: when the free space statfs measured at setup is less than
//! twice what every probe on every data dir of that filesystem may write at once. A healthy
//! disk runs them all side by side.

use super::DataDir;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most one data dir's writing probes hold at once: the preallocation, the mapped fill
/// and a MiB for the small files.
pub const BYTES_PER_DIR: u64 =
    super::fileops::PREALLOCATE_BYTES + crate::platform::map_checks::FILL_BYTES as u64 + (1 << 20);

/// Filesystems (by mount point) whose turn is taken now.
static BUSY: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The key of the filesystem a data dir lives on, when its probes must take turns there:
/// None when its free space covers twice what the probes of all `dirs` on it may write.
/// Unknown free space (statfs did not answer, a recorded host) takes turns.
pub fn turn_key(dirs: &[DataDir], dir: &DataDir) -> Option<String> {
    let fs = &dir.facts.filesystem;
    let key = fs
        .mount_point
        .clone()
        .unwrap_or_else(|| format!("unknown mount of {}", crate::host::shown(&dir.facts.path)));
    let sharing = dirs
        .iter()
        .filter(|d| d.facts.filesystem.mount_point == fs.mount_point)
        .count()
        .max(1) as u64;
    match fs.free_bytes {
        Some(free) if free >= 2 * BYTES_PER_DIR * sharing => None,
        _ => Some(key),
    }
}

/// Held while a probe writes on a low-space filesystem; gives the turn back when dropped.
pub struct Turn(String);

impl Drop for Turn {
    fn drop(&mut self) {
        let mut busy = BUSY.lock().unwrap_or_else(|e| e.into_inner());
        busy.retain(|k| *k != self.0);
    }
}

/// Wait for the turn on `key`'s filesystem until `deadline`; None when no turn is needed
/// (`key` None) or the deadline passed (the caller then runs anyway, and the deadline, not
/// the turn, bounds it).
pub fn take_turn(key: Option<String>, deadline: Instant) -> Option<Turn> {
    let key = key?;
    loop {
        {
            let mut busy = BUSY.lock().unwrap_or_else(|e| e.into_inner());
            if !busy.contains(&key) {
                busy.push(key.clone());
                return Some(Turn(key));
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{DataDirFacts, FsFacts};

    fn dir(path: &str, mount: &str, free: Option<u64>) -> DataDir {
        let mut filesystem = FsFacts::did_not_answer();
        filesystem.mount_point = Some(mount.into());
        filesystem.free_bytes = free;
        DataDir {
            same_filesystem_as: None,
            facts: DataDirFacts {
                given: path.into(),
                path: path.into(),
                exists: true,
                is_dir: true,
                writable: Some(true),
                filesystem,
            },
            scratch: Ok(format!("{path}/.scratch").into()),
        }
    }

    #[test]
    fn a_second_taker_on_the_same_filesystem_waits_and_gives_up_at_its_deadline() {
        let key = || Some("/test-fs-a".to_string());
        let first = take_turn(key(), Instant::now() + Duration::from_secs(1));
        assert!(first.is_some());
        let t = std::thread::spawn(move || {
            take_turn(key(), Instant::now() + Duration::from_millis(30)).is_none()
        });
        assert!(t.join().unwrap(), "held: the second gives up");
        let other = take_turn(
            Some("/test-fs-b".into()),
            Instant::now() + Duration::from_millis(30),
        );
        assert!(other.is_some(), "another filesystem does not wait");
        drop(first);
        assert!(take_turn(key(), Instant::now() + Duration::from_millis(30)).is_some());
    }

    #[test]
    fn turns_are_taken_only_where_the_free_space_is_short_for_every_dir_sharing_it() {
        let roomy = 2 * BYTES_PER_DIR * 2;
        let dirs = vec![
            dir("/a/1", "/a", Some(roomy)),
            dir("/a/2", "/a", Some(roomy)),
            dir("/b/1", "/b", Some(roomy)),
            dir("/b/2", "/b", Some(roomy)),
            dir("/b/3", "/b", Some(roomy)),
            dir("/c", "/c", Some(48 * 1024)),
            dir("/d", "/d", None),
        ];
        assert_eq!(turn_key(&dirs, &dirs[0]), None, "two dirs fit on /a");
        assert_eq!(
            turn_key(&dirs, &dirs[2]).as_deref(),
            Some("/b"),
            "three do not"
        );
        assert_eq!(
            turn_key(&dirs, &dirs[5]).as_deref(),
            Some("/c"),
            "nearly full"
        );
        assert_eq!(
            turn_key(&dirs, &dirs[6]).as_deref(),
            Some("/d"),
            "free space unknown"
        );
        assert!(take_turn(None, Instant::now()).is_none(), "no key, no turn");
    }
}
