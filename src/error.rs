//! Errors that end a run early, each with its documented exit code.

use std::fmt;

pub const EXIT_OK: i32 = 0;
pub const EXIT_REQUIRED_FAILED: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
/// The report (or other output) could not be written to stdout (`/dev/full`, a closed pipe):
/// sysexits' EX_IOERR. The work was done but nobody got it, so it is never a success.
pub const EXIT_OUTPUT_FAILED: i32 = 74;
pub const EXIT_INTERRUPTED: i32 = 130;

/// Write one line to stderr. A stderr that cannot be written (`2>/dev/full`, a closed pipe)
/// is ignored: the exit code still says what happened, and `eprintln!` would panic instead.
pub fn warn(line: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// Bad input: printed as `wsl-vecprobe: error: …` on stderr, exit 2. Never a panic.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

pub fn input(msg: impl Into<String>) -> InputError {
    InputError(msg.into())
}
