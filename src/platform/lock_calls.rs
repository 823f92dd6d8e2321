//! The lock calls the `locks` probe exercises, named the same on every platform (the names are
//! the worker command line and the observation ids). What each call is on an OS, and how it is
//! made, is that platform's `locks` module (`syscall()` and the calls themselves).

/// The lock call a check exercises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockCall {
    /// Unix `flock(LOCK_EX | LOCK_NB)`; Windows: whole-file `LockFileEx` (std `File::try_lock`).
    Flock,
    /// Unix `fcntl(F_SETLK, F_WRLCK)` on the whole file; Windows: byte-range `LockFileEx`.
    Fcntl,
    /// Linux OFD `fcntl(F_OFD_SETLK)`: no Windows equivalent.
    Ofd,
}

impl LockCall {
    /// The name used on the worker command line and in observation ids.
    pub fn name(self) -> &'static str {
        match self {
            LockCall::Flock => "flock",
            LockCall::Fcntl => "fcntl",
            LockCall::Ofd => "ofd",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "flock" => Some(LockCall::Flock),
            "fcntl" => Some(LockCall::Fcntl),
            "ofd" => Some(LockCall::Ofd),
            _ => None,
        }
    }
}
