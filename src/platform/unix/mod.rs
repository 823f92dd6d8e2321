//! Unix system calls used by probes (nix/libc).

pub mod statfs;
