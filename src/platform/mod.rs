//! Platform-specific system calls, one module per OS family, so the Windows build never sees
//! Unix-only code (`nix`, `libc`) and vice versa. Probes call these through portable wrappers.

pub mod lock_calls;
pub mod map_checks;

#[cfg(unix)]
pub mod unix;

#[cfg(windows)]
pub mod windows;

/// Fewer malloc arenas (glibc): every thread of the probe pools otherwise gets an arena of its
/// own, and twenty data dirs' threads kept 4.5 MB of a 17 MB peak RSS in half-empty arenas.
/// The tool's threads mostly wait (on children, sockets, deadlines), so two arenas are not
/// contended. Elsewhere (musl, macOS, Windows) the allocator is left as it is.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
