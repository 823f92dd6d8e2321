//! Unix system calls used by probes (nix/libc).

pub mod locks;
pub mod mmap;
pub mod statfs;
