//! Platform-specific system calls, one module per OS family, so the Windows build never sees
//! Unix-only code (`nix`, `libc`) and vice versa. Probes call these through portable wrappers.

pub mod lock_calls;
pub mod map_checks;

#[cfg(unix)]
pub mod unix;

#[cfg(windows)]
pub mod windows;
