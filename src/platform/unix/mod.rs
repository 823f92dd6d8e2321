//! Unix system calls used by probes (nix/libc).

pub mod fileops;
pub mod limits;
pub mod uds;
