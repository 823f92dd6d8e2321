//! Errors that end a run early, each with its documented exit code.

use std::fmt;

pub const EXIT_OK: i32 = 0;
pub const EXIT_REQUIRED_FAILED: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_INTERRUPTED: i32 = 130;

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
