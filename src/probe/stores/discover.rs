//! Finding known stores inside a data dir from names alone: a bounded, read-only walk (no
//! symlinks followed, nothing opened but directories), that recognises each backend's on-disk
//! layout and names the files or directories a running instance locks or keeps open.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Every kind of store the walk recognises; each gets one `store:<kind>` observation.
pub const KINDS: &[&str] = &[
    "milvus-lite",
    "milvus-lite-2",
    "qdrant-local",
    "qdrant-shard",
    "duckdb",
    "chroma",
    "sqlite",
    "postgres",
    "lancedb",
    "redis",
];

/// Directory levels below the data dir that are looked at (the data dir itself is level 0).
pub const MAX_DEPTH: usize = 3;
/// Directory entries read in total before the walk stops.
pub const MAX_ENTRIES: usize = 4096;

#[derive(Clone, Debug, PartialEq)]
pub struct Store {
    pub kind: &'static str,
    /// The store: its directory, or its main file.
    pub path: PathBuf,
    /// What a running instance locks (flock/fcntl): checked in /proc/locks and with F_GETLK.
    pub locks: Vec<PathBuf>,
    /// A pid file whose live pid is the holder (PostgreSQL's `postmaster.pid`).
    pub pid_file: Option<PathBuf>,
}

#[derive(Debug, Default)]
pub struct Walk {
    pub stores: Vec<Store>,
    pub entries_read: usize,
    /// False when the entry budget or the deadline stopped the walk.
    pub complete: bool,
}

/// Walk `root` (skipping names that start with `skip_prefix`, the tool's own scratch dir).
pub fn walk(root: &Path, skip_prefix: &str, deadline: Instant) -> Walk {
    let mut out = Walk {
        complete: true,
        ..Walk::default()
    };
    let mut queue = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = queue.pop() {
        if Instant::now() >= deadline || out.entries_read >= MAX_ENTRIES {
            out.complete = false;
            break;
        }
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files = HashSet::new();
        let mut dirs = HashSet::new();
        for entry in read.flatten() {
            out.entries_read += 1;
            if out.entries_read > MAX_ENTRIES {
                out.complete = false;
                break;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(skip_prefix) {
                continue;
            }
            // file_type() does not follow symlinks: a link is neither a file nor a dir here.
            match entry.file_type() {
                Ok(t) if t.is_dir() => {
                    dirs.insert(name);
                }
                Ok(t) if t.is_file() => {
                    files.insert(name);
                }
                _ => {}
            }
        }
        let found = recognise(&dir, &files, &dirs);
        // A store directory is one unit, its insides its own business; Redis's `dir` is only
        // where it writes its dumps, and may hold anything else.
        let claimed: HashSet<PathBuf> = found
            .iter()
            .filter(|s| s.kind != "redis")
            .map(|s| s.path.clone())
            .collect();
        out.stores.extend(found);
        if claimed.contains(&dir) || depth >= MAX_DEPTH {
            continue;
        }
        let mut subdirs: Vec<&String> = dirs.iter().collect();
        subdirs.sort();
        for d in subdirs.into_iter().rev() {
            let path = dir.join(d);
            if !claimed.contains(&path) {
                queue.push((path, depth + 1));
            }
        }
    }
    out.stores
        .sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
    out
}

/// The stores one directory listing shows: `dir` itself, or files and subdirs in it.
pub fn recognise(dir: &Path, files: &HashSet<String>, dirs: &HashSet<String>) -> Vec<Store> {
    let mut out = Vec::new();
    let store = |kind, path: PathBuf, locks: Vec<PathBuf>| Store {
        kind,
        path,
        locks,
        pid_file: None,
    };
    let dir_name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let is_dir_named = |suffix: &str| dir_name.as_deref().is_some_and(|n| n.ends_with(suffix));
    // milvus-lite 3.x: MilvusClient("./x.db") makes a directory x.db with LOCK (flock) in it.
    if is_dir_named(".db") && files.contains("LOCK") {
        out.push(store("milvus-lite", dir.into(), vec![dir.join("LOCK")]));
    }
    // qdrant local mode: <path>/.lock (portalocker flock) beside meta.json / collection/.
    if files.contains(".lock") && (files.contains("meta.json") || dirs.contains("collection")) {
        out.push(store("qdrant-local", dir.into(), vec![dir.join(".lock")]));
    }
    // A Qdrant shard (qdrant-edge, or a server's collection shard): wal/ (flock on the dir) + segments/.
    if dirs.contains("wal") && dirs.contains("segments") {
        out.push(store("qdrant-shard", dir.into(), vec![dir.join("wal")]));
    }
    // PostgreSQL: PGDATA holds PG_VERSION, and postmaster.pid while a server runs on it.
    if files.contains("PG_VERSION") && files.contains("postmaster.pid") {
        out.push(Store {
            pid_file: Some(dir.join("postmaster.pid")),
            ..store("postgres", dir.into(), vec![])
        });
    }
    // Redis: its `dir` holds dump.rdb and/or the AOF (appendonly.aof, 7.x appendonlydir/).
    if files.contains("dump.rdb")
        || files.contains("appendonly.aof")
        || dirs.contains("appendonlydir")
    {
        out.push(store("redis", dir.into(), vec![]));
    }
    let mut names: Vec<&String> = files.iter().collect();
    names.sort();
    for name in names {
        let path = dir.join(name);
        // milvus-lite 2.x: x.db (SQLite) with the POSIX-locked .x.db.lock beside it.
        if let Some(db) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".lock"))
            .filter(|db| db.ends_with(".db") && files.contains(*db))
        {
            out.push(store("milvus-lite-2", dir.join(db), vec![path.clone()]));
            continue;
        }
        if name.ends_with(".duckdb") {
            out.push(store("duckdb", path.clone(), vec![path.clone()]));
        } else if name == "chroma.sqlite3" {
            out.push(store("chroma", dir.into(), vec![path.clone()]));
        } else if is_sqlite_name(name, files) && !name.ends_with(".db.lock") {
            let mut locks = vec![path.clone()];
            let shm = format!("{name}-shm");
            if files.contains(&shm) {
                locks.push(dir.join(shm));
            }
            out.push(store("sqlite", path.clone(), locks));
        }
    }
    let mut subdirs: Vec<&String> = dirs.iter().collect();
    subdirs.sort();
    for d in subdirs {
        if d.ends_with(".lance") {
            out.push(store("lancedb", dir.join(d), vec![]));
        }
    }
    out
}

/// A SQLite database by name: `x.sqlite`/`x.sqlite3`, or any `x` with an `x-wal`/`x-shm`
/// beside it (the journal files exist only while, or after, a connection used WAL mode).
fn is_sqlite_name(name: &str, files: &HashSet<String>) -> bool {
    if name.ends_with("-wal") || name.ends_with("-shm") || name.ends_with("-journal") {
        return false;
    }
    name.ends_with(".sqlite")
        || name.ends_with(".sqlite3")
        || files.contains(&format!("{name}-wal"))
        || files.contains(&format!("{name}-shm"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::Duration;

    fn layout(root: &Path) {
        for d in [
            "app/x.db",
            "app/q/collection/c",
            "app/shard/wal",
            "app/shard/segments",
            "app/chroma",
        ] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::create_dir_all(root.join("app/vec.lance/data")).unwrap();
        fs::create_dir_all(root.join("pg")).unwrap();
        for f in [
            "app/x.db/LOCK",
            "app/q/.lock",
            "app/q/meta.json",
            "app/q/collection/c/storage.sqlite",
            "old.db",
            ".old.db.lock",
            "v.duckdb",
            "app/chroma/chroma.sqlite3",
            "notes.db",
            "notes.db-wal",
            "pg/PG_VERSION",
            "pg/postmaster.pid",
            "dump.rdb",
            ".wsl-vecprobe-xyz",
        ] {
            fs::write(root.join(f), b"").unwrap();
        }
    }

    #[test]
    fn every_known_layout_is_recognised_once() {
        let t = tempfile::tempdir().unwrap();
        layout(t.path());
        let w = walk(
            t.path(),
            ".wsl-vecprobe-",
            Instant::now() + Duration::from_secs(5),
        );
        assert!(w.complete);
        let mut kinds: Vec<&str> = w.stores.iter().map(|s| s.kind).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "chroma",
                "duckdb",
                "lancedb",
                "milvus-lite",
                "milvus-lite-2",
                "postgres",
                "qdrant-local",
                "qdrant-shard",
                "redis",
                "sqlite"
            ],
            "{:#?}",
            w.stores
        );
        let q = w.stores.iter().find(|s| s.kind == "qdrant-local").unwrap();
        assert_eq!(q.locks, [t.path().join("app/q/.lock")]);
        let m2 = w.stores.iter().find(|s| s.kind == "milvus-lite-2").unwrap();
        assert_eq!(m2.path, t.path().join("old.db"));
    }

    #[test]
    fn the_walk_is_bounded_by_depth() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("a/b/c/d/x.db")).unwrap();
        fs::write(t.path().join("a/b/c/d/x.db/LOCK"), b"").unwrap();
        fs::create_dir_all(t.path().join("a/b/y.db")).unwrap();
        fs::write(t.path().join("a/b/y.db/LOCK"), b"").unwrap();
        let w = walk(t.path(), ".x", Instant::now() + Duration::from_secs(5));
        let paths: Vec<&PathBuf> = w.stores.iter().map(|s| &s.path).collect();
        assert_eq!(paths, [&t.path().join("a/b/y.db")], "depth 5 is not read");
    }
}
