//! Unix system calls used by probes (nix/libc).

#[cfg(target_os = "linux")]
pub mod netowner;
