//! What the two `mmap` check twins (src/platform/unix/mmap.rs, src/platform/windows/mmap.rs)
//! share: the result types, how a failed call or a failed preparation step is described, the
//! seeded byte patterns and the plain file helpers. Only the mapping calls differ per OS.

use serde_json::{Map, Value};
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// What a passing check saw.
#[derive(Debug)]
pub struct Passed {
    pub message: String,
    pub values: Map<String, Value>,
}

/// What a failing check saw: the failing call's errno name (if a call failed) and why.
#[derive(Debug)]
pub struct Failed {
    pub errno: Option<String>,
    pub message: String,
    /// A plain file step before the mapping under test failed (create, open, write the
    /// content): the check could not be made, which says nothing about memory maps; the
    /// data dir's room and writability are observed by `file.*`.
    pub precondition: bool,
}

pub type CheckResult = Result<Passed, Failed>;
pub type CheckFn = fn(&Path) -> CheckResult;

/// The mapped fill's size: 64 pages, every one a write fault the filesystem must back with a
/// block. Enough to meet ENOSPC on a full or nearly full disk (SIGBUS, as Qdrant and LanceDB
/// meet it); how much room each backend needs is measured by the free-space floors, not by
/// this check. (It was 4 MiB: 1024 faults and 4 MiB of msync writeback, 19 ms of a 44 ms run.)
pub(crate) const FILL_BYTES: usize = 256 * 1024;
/// FILL_BYTES as the messages say it.
pub(crate) const FILL_LABEL: &str = "256 KiB";
pub(crate) const QDRANT_FILE_SIZE: usize = 32 * 1024;
pub(crate) const QDRANT_MAGIC: &[u8] = b"qdrant";

pub(crate) fn call(what: &str, err: io::Error) -> Failed {
    let name = crate::errno::io_error_name(&err);
    Failed {
        message: format!("{what}: {name} ({err})"),
        errno: Some(name),
        precondition: false,
    }
}

/// A failed preparation step (see [`Failed::precondition`]).
pub(crate) fn setup(what: &str, err: io::Error) -> Failed {
    Failed {
        precondition: true,
        ..call(&format!("could not prepare the check: {what}"), err)
    }
}

pub(crate) fn mismatch(message: String) -> Failed {
    Failed {
        errno: None,
        message,
        precondition: false,
    }
}

pub(crate) fn passed(message: impl Into<String>, values: &[(&str, Value)]) -> Passed {
    let values = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Passed {
        message: message.into(),
        values,
    }
}

/// Deterministic non-zero bytes, different per seed.
pub(crate) fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i % 251) as u8).wrapping_mul(7).wrapping_add(seed) | 1)
        .collect()
}

pub(crate) fn create_rw(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

pub(crate) fn read_back(path: &Path) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    File::open(path)?.read_to_end(&mut out)?;
    Ok(out)
}
