//! Probes that write into data dirs take turns: `fileops` (file.create, preallocate) and the
//! `mmap` worker (which fills pages until the disk refuses) would otherwise compete for the
//! same last KiB of a nearly full filesystem, and one would see ENOSPC caused by the other —
//! the tool's own use of the space, not the host's lack of it. Each holder removes its files
//! before it gives the turn back, so whoever runs second sees the disk as the user left it.

use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

static TURN: Mutex<()> = Mutex::new(());

/// Wait for the turn until `deadline`; None when it passed (the caller then runs anyway, and
/// the deadline, not the turn, bounds it).
pub fn take_turn(deadline: Instant) -> Option<MutexGuard<'static, ()>> {
    loop {
        match TURN.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => {}
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_waits_and_gives_up_at_its_deadline() {
        let first = take_turn(Instant::now() + Duration::from_secs(1));
        assert!(first.is_some());
        let t =
            std::thread::spawn(|| take_turn(Instant::now() + Duration::from_millis(30)).is_none());
        assert!(t.join().unwrap(), "held: the second gives up");
        drop(first);
        assert!(take_turn(Instant::now() + Duration::from_millis(30)).is_some());
    }
}
