//! The memory-mapping checks the `mmap` probe runs inside its child process: each one maps
//! a file of its own in the scratch dir the way a backend does and compares what comes back.
//! They touch mapped pages, so on a filesystem that cannot back them they die by SIGBUS —
//! which is why only the worker process (src/probe/mmap.rs) may call them.

use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;

pub use crate::platform::map_checks::{CheckFn, CheckResult, Failed, Passed};
use crate::platform::map_checks::{
    FILL_BYTES, FILL_LABEL, QDRANT_FILE_SIZE, QDRANT_MAGIC, call, create_rw, mismatch, passed,
    pattern, read_back, setup,
};

/// Every check, in the order the worker runs them (the one that may SIGBUS last).
pub const CHECKS: &[(&str, CheckFn)] = &[
    ("mmap.private", private),
    ("mmap.shared_rw", shared_rw),
    ("mmap.two_map", two_map),
    ("mmap.grown_ro", grown_ro),
    ("mmap.truncate_mapped", truncate_mapped),
    ("mmap.fill", fill),
];

fn page_size() -> usize {
    // SAFETY: sysconf has no memory effects.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}

/// MAP_PRIVATE (copy-on-write) map of a written file: reads the file's bytes, and a write
/// to the private copy never reaches the file.
fn private(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-private.bin");
    let data = pattern(16 * 1024, 3);
    create_rw(&path)
        .and_then(|mut f| f.write_all(&data))
        .map_err(|e| setup("write the file", e))?;
    let file = File::open(&path).map_err(|e| setup("open read-only", e))?;
    // SAFETY: the file is private to this worker; nobody truncates it while mapped.
    let mut map = unsafe { memmap2::MmapOptions::new().map_copy(&file) }
        .map_err(|e| call("mmap(MAP_PRIVATE, PROT_READ|PROT_WRITE)", e))?;
    if map[..] != data[..] {
        return Err(mismatch(
            "the MAP_PRIVATE map does not hold the bytes written with write()".into(),
        ));
    }
    map[0] ^= 0xff;
    let mut first = [0u8; 1];
    file.read_exact_at(&mut first, 0)
        .map_err(|e| call("pread after the private write", e))?;
    if first[0] != data[0] {
        return Err(mismatch(
            "a write to the MAP_PRIVATE copy reached the file".into(),
        ));
    }
    Ok(passed(
        "MAP_PRIVATE map reads the file; its writes stay private",
        &[("bytes", data.len().into())],
    ))
}

/// MAP_SHARED read-write map: write a pattern, msync, read it back with read() on a new fd.
fn shared_rw(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-shared.bin");
    let len = 64 * 1024;
    let file = create_rw(&path).map_err(|e| setup("create", e))?;
    (&file)
        .write_all(&vec![0u8; len])
        .map_err(|e| setup("write zeros", e))?;
    // SAFETY: private file of this worker, fixed length while mapped.
    let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }
        .map_err(|e| call("mmap(MAP_SHARED, PROT_WRITE)", e))?;
    let data = pattern(len, 5);
    map.copy_from_slice(&data);
    map.flush().map_err(|e| call("msync(MS_SYNC)", e))?;
    drop(map);
    let back = read_back(&path).map_err(|e| call("read back on a new descriptor", e))?;
    if back != data {
        return Err(mismatch(format!(
            "read() on a new descriptor does not see the bytes written through the shared map ({} bytes read)",
            back.len()
        )));
    }
    Ok(passed(
        "bytes written through MAP_SHARED and msync'd are seen by read()",
        &[("bytes", len.into())],
    ))
}

/// Qdrant's startup check (`lib/common/common/src/fs/check.rs`): a 32 KiB file sized with
/// set_len, a writable shared map and a sequential read-only map open together, `qdrant`
/// written at 16 KiB through the writable one, flush, drop both, check size, reopen, compare.
fn two_map(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-two-map.bin");
    let offset = QDRANT_FILE_SIZE / 2;
    let sized = create_rw(&path).and_then(|f| f.set_len(QDRANT_FILE_SIZE as u64));
    sized.map_err(|e| setup("create and set_len(32768)", e))?;
    let rw_file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| setup("open read-write", e))?;
    // SAFETY: private file of this worker, fixed length while mapped.
    let mut write_map = unsafe { memmap2::MmapMut::map_mut(&rw_file) }
        .map_err(|e| call("mmap the writable map", e))?;
    let ro_file = OpenOptions::new()
        .read(true)
        .append(true)
        .open(&path)
        .map_err(|e| setup("open for the read map", e))?;
    // SAFETY: as above.
    let read_map = unsafe { memmap2::Mmap::map(&ro_file) }
        .map_err(|e| call("mmap the second (read-only) map", e))?;
    read_map
        .advise(memmap2::Advice::Sequential)
        .map_err(|e| call("madvise(MADV_SEQUENTIAL)", e))?;
    write_map[offset..offset + QDRANT_MAGIC.len()].copy_from_slice(QDRANT_MAGIC);
    write_map
        .flush()
        .map_err(|e| call("msync the writable map", e))?;
    let seen_by_second_map = read_map[offset..offset + QDRANT_MAGIC.len()] == *QDRANT_MAGIC;
    drop(write_map);
    drop(read_map);
    let size = std::fs::metadata(&path)
        .map_err(|e| call("stat after dropping the maps", e))?
        .len();
    if size != QDRANT_FILE_SIZE as u64 {
        return Err(mismatch(format!(
            "file size is {size} after the maps were dropped, expected {QDRANT_FILE_SIZE}"
        )));
    }
    let reopened = File::open(&path).map_err(|e| call("reopen", e))?;
    // SAFETY: as above.
    let check_map =
        unsafe { memmap2::Mmap::map(&reopened) }.map_err(|e| call("mmap after reopening", e))?;
    let via_map = check_map[offset..offset + QDRANT_MAGIC.len()] == *QDRANT_MAGIC;
    let mut buf = vec![0u8; QDRANT_MAGIC.len()];
    reopened
        .read_exact_at(&mut buf, offset as u64)
        .map_err(|e| call("pread after reopening", e))?;
    let via_read = buf == QDRANT_MAGIC;
    let values = [
        ("seen_by_second_map", seen_by_second_map.into()),
        ("reread_by_map", via_map.into()),
        ("reread_by_read", via_read.into()),
    ];
    if !(via_map && via_read) {
        let mut failed = mismatch(format!(
            "after reopening, `qdrant` at offset {offset} was not found (through a map: {via_map}, through read(): {via_read}) — Qdrant's multi-mmap check fails here"
        ));
        failed.message.push_str(if seen_by_second_map {
            ""
        } else {
            "; the second map did not see the write either"
        });
        return Err(failed);
    }
    Ok(passed(
        "Qdrant's two-map check: the write survived flush, drop and reopen",
        &values,
    ))
}

/// A file created empty, grown by write(), then mapped read-only. First, what mapping it
/// while still 0 bytes long does (WSL1 refused that with ENOEXEC) is recorded.
fn grown_ro(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-grown.bin");
    let mut writer = create_rw(&path).map_err(|e| setup("create empty", e))?;
    let reader = File::open(&path).map_err(|e| setup("open read-only", e))?;
    let empty_map = map_empty_file(&reader);
    let len = 64 * 1024;
    let data = pattern(len, 11);
    writer
        .write_all(&data)
        .map_err(|e| setup("grow the file by write()", e))?;
    // SAFETY: the file is private to this worker and only grows.
    let map = unsafe { memmap2::Mmap::map(&reader) }
        .map_err(|e| call("mmap(PROT_READ, MAP_SHARED) of the grown file", e))?;
    if map.len() != len || map[..] != data[..] {
        return Err(mismatch(format!(
            "the read-only map of the grown file ({} bytes) does not hold the {len} bytes written",
            map.len()
        )));
    }
    let message = match &empty_map {
        Ok(()) => {
            "read-only map of a grown file matches; mapping it while empty was allowed".to_string()
        }
        Err(e) => {
            format!("read-only map of a grown file matches; mapping it while empty failed with {e}")
        }
    };
    let empty_value = match &empty_map {
        Ok(()) => Value::from("mapped"),
        Err(e) => Value::from(e.clone()),
    };
    Ok(passed(
        message,
        &[("bytes", len.into()), ("empty_map", empty_value)],
    ))
}

/// mmap one page of a 0-byte file without touching it; Ok or the errno name.
fn map_empty_file(file: &File) -> Result<(), String> {
    let len = page_size();
    // SAFETY: a fresh mapping at a kernel-chosen address; it is never read, only unmapped.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(crate::errno::io_error_name(&io::Error::last_os_error()));
    }
    // SAFETY: unmapping exactly the mapping created above.
    unsafe { libc::munmap(ptr, len) };
    Ok(())
}

/// ftruncate() a file down and back up while it is mapped (SQLite's WAL `-shm` pattern):
/// both calls must succeed, the size must follow, and the dropped tail must read back zero.
fn truncate_mapped(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-truncate.bin");
    let (full, half) = (32 * 1024usize, 16 * 1024usize);
    let data = pattern(full, 13);
    let mut file = create_rw(&path).map_err(|e| setup("create", e))?;
    file.write_all(&data).map_err(|e| setup("write", e))?;
    // SAFETY: private file; the map is only read below offsets valid at the time of reading.
    let map =
        unsafe { memmap2::MmapMut::map_mut(&file) }.map_err(|e| call("mmap(MAP_SHARED)", e))?;
    file.set_len(half as u64)
        .map_err(|e| call("ftruncate to 16384 while mapped", e))?;
    let shrunk = file
        .metadata()
        .map_err(|e| call("fstat after shrinking", e))?
        .len();
    file.set_len(full as u64)
        .map_err(|e| call("ftruncate back to 32768 while mapped", e))?;
    let regrown = file
        .metadata()
        .map_err(|e| call("fstat after growing", e))?
        .len();
    let values = [
        ("size_after_shrink", shrunk.into()),
        ("size_after_regrow", regrown.into()),
    ];
    if shrunk != half as u64 || regrown != full as u64 {
        return Err(mismatch(format!(
            "ftruncate returned success but the size became {shrunk} (wanted {half}) then {regrown} (wanted {full})"
        )));
    }
    let head_kept = map[..half] == data[..half];
    let tail_zeroed = map[half..].iter().all(|b| *b == 0);
    if !head_kept || !tail_zeroed {
        return Err(mismatch(format!(
            "after shrinking and regrowing under a map, the kept head matches: {head_kept}, the dropped tail reads as zeros: {tail_zeroed}"
        )));
    }
    let mut p = passed(
        "ftruncate down and up while mapped works; the dropped tail reads as zeros",
        &values,
    );
    p.values.insert("tail_zeroed".into(), true.into());
    Ok(p)
}

/// A FILL_BYTES (256 KiB) sparse file (ftruncate) written page by page through a shared map, then msync'd.
/// When the filesystem cannot allocate the pages the write faults with SIGBUS.
fn fill(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-fill.bin");
    let file = create_rw(&path).map_err(|e| setup("create", e))?;
    file.set_len(FILL_BYTES as u64)
        .map_err(|e| setup(&format!("ftruncate to {FILL_LABEL}"), e))?;
    // SAFETY: private file of fixed length; a page the filesystem cannot back raises SIGBUS,
    // which kills only this worker process, by design.
    let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }
        .map_err(|e| call("mmap(MAP_SHARED, PROT_WRITE)", e))?;
    let page = page_size();
    for (i, chunk) in map.chunks_mut(page).enumerate() {
        chunk[0] = (i as u8) | 1;
    }
    map.flush()
        .map_err(|e| call("msync(MS_SYNC) of the filled map", e))?;
    let pages = map.len().div_ceil(page);
    Ok(passed(
        format!(
            "every page of a {FILL_LABEL} sparse file was written through a shared map and msync'd"
        ),
        &[("bytes", FILL_BYTES.into()), ("pages", pages.into())],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_passes_in_a_local_temp_dir() {
        let dir = tempfile::tempdir().unwrap();
        for (id, check) in CHECKS {
            match check(dir.path()) {
                Ok(p) => assert!(!p.message.is_empty(), "{id}"),
                Err(f) => panic!("{id} failed on the local temp dir: {f:?}"),
            }
        }
    }

    #[test]
    fn grown_ro_records_that_linux_maps_an_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = grown_ro(dir.path()).unwrap();
        assert_eq!(p.values["empty_map"], "mapped");
        assert_eq!(p.values["bytes"], 65536);
    }

    #[test]
    fn a_check_reports_the_errno_of_the_failing_call() {
        let missing = Path::new("/nonexistent-wsl-vecprobe-dir");
        let f = shared_rw(missing).unwrap_err();
        assert_eq!(f.errno.as_deref(), Some("ENOENT"));
        assert!(
            f.message
                .starts_with("could not prepare the check: create: ENOENT"),
            "{}",
            f.message
        );
        assert!(
            f.precondition,
            "creating the file is preparation, not a map"
        );
    }

    #[test]
    fn patterns_are_non_zero_and_seeded() {
        let a = pattern(1000, 1);
        assert!(a.iter().all(|b| *b != 0));
        assert_ne!(a, pattern(1000, 2));
    }
}
