//! Unix system calls used by probes (nix/libc).

pub mod locks;
pub mod mmap;
#[cfg(target_os = "linux")]
pub mod netowner;
pub mod statfs;
