//! Unix system calls used by probes (nix/libc).

pub mod access;
pub mod fileops;
pub mod forked;
pub mod limits;
pub mod locks;
pub mod mmap;
#[cfg(target_os = "linux")]
pub mod netowner;
pub mod signals;
pub mod statfs;
pub mod uds;
