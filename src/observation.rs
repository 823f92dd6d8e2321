//! The observation: the one record every probe produces and every rule reads.
//!
//! An observation says what was *seen* (a syscall's result, an errno, a timing), never what
//! it means for a backend: verdicts are decided later by the backend profiles.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Instant;

/// Outcome of one observed operation.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The operation behaved as on a healthy POSIX host.
    Pass,
    /// The operation failed or the property does not hold; `errno` says how when a call failed.
    Fail,
    /// The probe did not finish before its deadline and was abandoned.
    Timeout,
    /// The probe did not run (not applicable here, prerequisite missing, host recorded).
    Skipped,
    /// The probe itself could not do its job (unexpected error unrelated to the property).
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Timeout => "timeout",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
    /// True when the property could not be observed (timeout, skipped, error).
    pub fn is_unobserved(self) -> bool {
        matches!(self, Status::Timeout | Status::Skipped | Status::Error)
    }
}

/// One observed fact. `id` is stable and documented (e.g. `lock.flock`, `port:6333`);
/// `target` is the path or address it was observed on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Observation {
    pub id: String,
    pub target: String,
    pub status: Status,
    /// Symbolic errno (`ENOLCK`, `EADDRINUSE`) or signal (`SIGBUS`) where a call failed.
    pub errno: Option<String>,
    pub message: String,
    pub elapsed_ms: f64,
    /// Measured values, probe-specific (documented in reports/schema.json per id family).
    #[serde(default)]
    pub values: Map<String, Value>,
}

impl Observation {
    pub fn new(
        id: impl Into<String>,
        target: impl Into<String>,
        status: Status,
        message: impl Into<String>,
    ) -> Self {
        Observation {
            id: id.into(),
            target: target.into(),
            status,
            errno: None,
            message: message.into(),
            elapsed_ms: 0.0,
            values: Map::new(),
        }
    }
    pub fn pass(
        id: impl Into<String>,
        target: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(id, target, Status::Pass, message)
    }
    pub fn fail(
        id: impl Into<String>,
        target: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(id, target, Status::Fail, message)
    }
    pub fn skipped(
        id: impl Into<String>,
        target: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(id, target, Status::Skipped, message)
    }
    pub fn error(
        id: impl Into<String>,
        target: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(id, target, Status::Error, message)
    }
    pub fn timeout(
        id: impl Into<String>,
        target: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(id, target, Status::Timeout, message)
    }
    /// A failed call: status `fail`, errno name taken from the io::Error. When the failure is
    /// the tool's own (it could not start a thread or process: `spawn::is_own`), `error`:
    /// nothing about the host was observed.
    pub fn from_io_error(
        id: impl Into<String>,
        target: impl Into<String>,
        what: &str,
        err: &std::io::Error,
    ) -> Self {
        let name = crate::errno::io_error_name(err);
        if crate::spawn::is_own(err) {
            let mut o = Self::error(id, target, format!("{what}: not observed: {err}"));
            o.errno = Some(name);
            return o;
        }
        let mut o = Self::fail(
            id,
            target,
            format!("{what}: {name} ({})", crate::errno::describe(err)),
        );
        o.errno = Some(name);
        o
    }
    pub fn with_errno(mut self, errno: impl Into<String>) -> Self {
        self.errno = Some(errno.into());
        self
    }
    /// A `fail` whose errno says the tool itself ran out of descriptors or memory (EMFILE,
    /// ENFILE, ENOMEM) becomes `error`: the tool could not make the observation, which says
    /// nothing about the host or data dir it looked at.
    pub fn own_limits_are_not_the_hosts(mut self) -> Self {
        if self.status == Status::Fail
            && self
                .errno
                .as_deref()
                .is_some_and(crate::errno::is_own_resource_exhaustion)
        {
            self.status = Status::Error;
            self.message = format!(
                "{} — the tool itself ran out of {} here, so this was not observed",
                self.message,
                if self.errno.as_deref() == Some("ENOMEM") {
                    "memory"
                } else {
                    "file descriptors"
                }
            );
        }
        self
    }
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.values.insert(key.to_string(), value.into());
        self
    }
    pub fn elapsed_since(mut self, start: Instant) -> Self {
        self.elapsed_ms = round_ms(start.elapsed().as_secs_f64() * 1000.0);
        self
    }
    pub fn with_elapsed_ms(mut self, ms: f64) -> Self {
        self.elapsed_ms = round_ms(ms);
        self
    }
    /// A value looked up by dotted path (`owner.pid`).
    pub fn value(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut cur = self.values.get(parts.next()?)?;
        for p in parts {
            cur = cur.get(p)?;
        }
        Some(cur)
    }
}

/// Milliseconds rounded to 3 decimals, so reports stay readable.
pub fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}
