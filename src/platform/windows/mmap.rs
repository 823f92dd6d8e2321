//! The memory-mapping checks of the `mmap` probe on Windows (memmap2 → `CreateFileMappingW` +
//! `MapViewOfFile`, `FlushViewOfFile`), with the same ids and the same comparisons as the
//! Unix checks. A page the volume cannot back raises an in-page error
//! (EXCEPTION_IN_PAGE_ERROR) instead of SIGBUS, so they too run only in the worker process.

use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::windows::fs::FileExt;
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
    super::memory::page_size_and_granularity().0
}

/// `pread` for Windows: `seek_read` until `buf` is full.
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = file.seek_read(&mut buf[done..], offset + done as u64)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        done += n;
    }
    Ok(())
}

/// Copy-on-write view (FILE_MAP_COPY, the twin of MAP_PRIVATE) of a written file: reads the
/// file's bytes, and a write to the private copy never reaches the file.
fn private(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-private.bin");
    let data = pattern(16 * 1024, 3);
    create_rw(&path)
        .and_then(|mut f| f.write_all(&data))
        .map_err(|e| setup("write the file", e))?;
    let file = File::open(&path).map_err(|e| setup("open read-only", e))?;
    // SAFETY: the file is private to this worker; nobody truncates it while mapped.
    let mut map = unsafe { memmap2::MmapOptions::new().map_copy(&file) }.map_err(|e| {
        call(
            "CreateFileMapping(PAGE_WRITECOPY) + MapViewOfFile(FILE_MAP_COPY)",
            e,
        )
    })?;
    if map[..] != data[..] {
        return Err(mismatch(
            "the copy-on-write view (FILE_MAP_COPY) does not hold the bytes written with WriteFile"
                .into(),
        ));
    }
    map[0] ^= 0xff;
    let mut first = [0u8; 1];
    read_exact_at(&file, &mut first, 0).map_err(|e| call("ReadFile after the private write", e))?;
    if first[0] != data[0] {
        return Err(mismatch(
            "a write to the copy-on-write view (FILE_MAP_COPY) reached the file".into(),
        ));
    }
    Ok(passed(
        "a copy-on-write view (CreateFileMapping(PAGE_WRITECOPY) + MapViewOfFile(FILE_MAP_COPY)) reads the file; its writes stay private",
        &[("bytes", data.len().into())],
    ))
}

/// Shared read-write view: write a pattern, FlushViewOfFile, read it back with ReadFile on a
/// new handle.
fn shared_rw(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-shared.bin");
    let len = 64 * 1024;
    let file = create_rw(&path).map_err(|e| setup("create", e))?;
    (&file)
        .write_all(&vec![0u8; len])
        .map_err(|e| setup("write zeros", e))?;
    // SAFETY: private file of this worker, fixed length while mapped.
    let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }.map_err(|e| {
        call(
            "CreateFileMapping(PAGE_READWRITE) + MapViewOfFile(FILE_MAP_WRITE)",
            e,
        )
    })?;
    let data = pattern(len, 5);
    map.copy_from_slice(&data);
    map.flush().map_err(|e| call("FlushViewOfFile", e))?;
    drop(map);
    let back = read_back(&path).map_err(|e| call("ReadFile on a new handle", e))?;
    if back != data {
        return Err(mismatch(format!(
            "ReadFile on a new handle does not see the bytes written through the shared view ({} bytes read)",
            back.len()
        )));
    }
    Ok(passed(
        "bytes written through a shared view (CreateFileMapping(PAGE_READWRITE) + MapViewOfFile(FILE_MAP_WRITE)) and flushed with FlushViewOfFile are seen by ReadFile",
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
        .map_err(|e| call("MapViewOfFile(FILE_MAP_WRITE) of the writable map", e))?;
    let ro_file = OpenOptions::new()
        .read(true)
        .append(true)
        .open(&path)
        .map_err(|e| setup("open for the read map", e))?;
    // SAFETY: as above.
    let read_map = unsafe { memmap2::Mmap::map(&ro_file) }.map_err(|e| {
        call(
            "MapViewOfFile(FILE_MAP_READ) of the second (read-only) map",
            e,
        )
    })?;
    // (madvise(MADV_SEQUENTIAL) has no Windows counterpart in memmap2; the map is read as is.)
    write_map[offset..offset + QDRANT_MAGIC.len()].copy_from_slice(QDRANT_MAGIC);
    write_map
        .flush()
        .map_err(|e| call("FlushViewOfFile of the writable map", e))?;
    let seen_by_second_map = read_map[offset..offset + QDRANT_MAGIC.len()] == *QDRANT_MAGIC;
    drop(write_map);
    drop(read_map);
    let size = std::fs::metadata(&path)
        .map_err(|e| call("GetFileInformationByHandle after unmapping", e))?
        .len();
    if size != QDRANT_FILE_SIZE as u64 {
        return Err(mismatch(format!(
            "file size is {size} after the maps were dropped, expected {QDRANT_FILE_SIZE}"
        )));
    }
    let reopened = File::open(&path).map_err(|e| call("reopen", e))?;
    // SAFETY: as above.
    let check_map = unsafe { memmap2::Mmap::map(&reopened) }
        .map_err(|e| call("MapViewOfFile after reopening", e))?;
    let via_map = check_map[offset..offset + QDRANT_MAGIC.len()] == *QDRANT_MAGIC;
    let mut buf = vec![0u8; QDRANT_MAGIC.len()];
    read_exact_at(&reopened, &mut buf, offset as u64)
        .map_err(|e| call("ReadFile after reopening", e))?;
    let via_read = buf == QDRANT_MAGIC;
    let values = [
        ("seen_by_second_map", seen_by_second_map.into()),
        ("reread_by_map", via_map.into()),
        ("reread_by_read", via_read.into()),
    ];
    if !(via_map && via_read) {
        let mut failed = mismatch(format!(
            "after reopening, `qdrant` at offset {offset} was not found (through a map: {via_map}, through ReadFile: {via_read}) — Qdrant's multi-mmap check fails here"
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

/// A file created empty, grown by WriteFile, then mapped read-only. First, what mapping it
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
        .map_err(|e| setup("grow the file by WriteFile", e))?;
    // SAFETY: the file is private to this worker and only grows.
    let map = unsafe { memmap2::Mmap::map(&reader) }
        .map_err(|e| call("MapViewOfFile(FILE_MAP_READ) of the grown file", e))?;
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

/// Map one page of a 0-byte file without touching it; Ok or the error name. Windows refuses
/// a mapping of an empty file (`CreateFileMapping`: ERROR_FILE_INVALID), which is recorded,
/// not failed: backends grow a file before they map it there.
fn map_empty_file(file: &File) -> Result<(), String> {
    // SAFETY: the mapping is never read, only dropped.
    match unsafe { memmap2::MmapOptions::new().len(page_size()).map(file) } {
        Ok(_) => Ok(()),
        Err(e) => Err(crate::errno::io_error_name(&e)),
    }
}

/// SQLite's WAL `-shm` pattern on Windows: shrink and regrow a file that has a view mapped.
/// Windows refuses to cut a mapped section (`SetEndOfFile`: ERROR_USER_MAPPED_FILE), and
/// SQLite's Windows VFS unmaps first, so that refusal is recorded and the check then does
/// what the VFS does: drop the view, shrink, regrow, remap, and require the dropped tail to
/// read back as zeros.
fn truncate_mapped(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-truncate.bin");
    let (full, half) = (32 * 1024usize, 16 * 1024usize);
    let data = pattern(full, 13);
    let mut file = create_rw(&path).map_err(|e| setup("create", e))?;
    file.write_all(&data).map_err(|e| setup("write", e))?;
    // SAFETY: private file; the map is only read while the file is at least `full` long.
    let map =
        unsafe { memmap2::MmapMut::map_mut(&file) }.map_err(|e| call("CreateFileMapping", e))?;
    let while_mapped = match file.set_len(half as u64) {
        Ok(()) => Value::from("allowed"),
        Err(e) => Value::from(crate::errno::io_error_name(&e)),
    };
    let head_before = map[..half] == data[..half];
    drop(map);
    file.set_len(half as u64)
        .map_err(|e| call("SetEndOfFile to 16384 after unmapping", e))?;
    let shrunk = file
        .metadata()
        .map_err(|e| call("size after shrinking", e))?
        .len();
    file.set_len(full as u64)
        .map_err(|e| call("SetEndOfFile back to 32768", e))?;
    let regrown = file
        .metadata()
        .map_err(|e| call("size after growing", e))?
        .len();
    let values = [
        ("size_after_shrink", shrunk.into()),
        ("size_after_regrow", regrown.into()),
        ("shrink_while_mapped", while_mapped),
    ];
    if shrunk != half as u64 || regrown != full as u64 {
        return Err(mismatch(format!(
            "SetEndOfFile returned success but the size became {shrunk} (wanted {half}) then {regrown} (wanted {full})"
        )));
    }
    // SAFETY: as above; the file is `full` bytes long again.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| call("remap after regrowing", e))?;
    let head_kept = head_before && map[..half] == data[..half];
    let tail_zeroed = map[half..].iter().all(|b| *b == 0);
    if !head_kept || !tail_zeroed {
        return Err(mismatch(format!(
            "after shrinking and regrowing, the kept head matches: {head_kept}, the dropped tail reads as zeros: {tail_zeroed}"
        )));
    }
    let mut p = passed(
        "shrink and regrow around a mapping works the way SQLite's Windows VFS does it (unmap first); the dropped tail reads as zeros",
        &values,
    );
    p.values.insert("tail_zeroed".into(), true.into());
    Ok(p)
}

/// A FILL_BYTES (256 KiB) file (SetEndOfFile) written page by page through a shared view,
/// then flushed (FlushViewOfFile).
/// When the filesystem cannot allocate the pages the write faults with SIGBUS.
fn fill(dir: &Path) -> CheckResult {
    let path = dir.join("mmap-fill.bin");
    let file = create_rw(&path).map_err(|e| setup("create", e))?;
    file.set_len(FILL_BYTES as u64)
        .map_err(|e| setup(&format!("SetEndOfFile to {FILL_LABEL}"), e))?;
    // SAFETY: private file of fixed length; a page the filesystem cannot back raises SIGBUS,
    // which kills only this worker process, by design.
    let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }.map_err(|e| {
        call(
            "CreateFileMapping(PAGE_READWRITE) + MapViewOfFile(FILE_MAP_WRITE)",
            e,
        )
    })?;
    let page = page_size();
    for (i, chunk) in map.chunks_mut(page).enumerate() {
        chunk[0] = (i as u8) | 1;
    }
    map.flush()
        .map_err(|e| call("FlushViewOfFile of the filled map", e))?;
    let pages = map.len().div_ceil(page);
    Ok(passed(
        format!(
            "every page of a {FILL_LABEL} file sized with SetEndOfFile was written through a shared view and flushed with FlushViewOfFile"
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
    fn grown_ro_records_that_windows_refuses_to_map_an_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = grown_ro(dir.path()).unwrap();
        assert_ne!(p.values["empty_map"], "mapped");
        assert_eq!(p.values["bytes"], 65536);
    }

    #[test]
    fn a_check_reports_the_errno_of_the_failing_call() {
        let missing = Path::new("C:\\nonexistent-wsl-vecprobe-dir");
        let f = shared_rw(missing).unwrap_err();
        assert_eq!(
            f.errno.as_deref().map(crate::errno::meaning),
            Some("ENOENT")
        );
        assert!(f.message.contains("create: ERROR_"), "{}", f.message);
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
