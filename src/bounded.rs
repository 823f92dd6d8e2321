//! Blocking calls with a deadline: the call runs on a helper thread and the caller stops
//! waiting when time is up (the thread is abandoned). For the few steps outside the probe
//! engine that touch a user's path (validating a data dir, statfs, creating the scratch dir),
//! so that a dead mount cannot hang the tool.

use std::time::Duration;

/// `Some(f())` if it returns within `limit`, else None.
pub fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("bounded".into())
        .spawn(move || {
            let _ = tx.send(f());
        });
    if spawned.is_err() {
        return None;
    }
    rx.recv_timeout(limit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn returns_the_value_in_time_and_none_when_the_call_hangs() {
        assert_eq!(within(Duration::from_secs(1), || 7), Some(7));
        let start = std::time::Instant::now();
        assert_eq!(
            within(Duration::from_millis(50), || std::thread::sleep(
                Duration::from_secs(5)
            )),
            None
        );
        assert!(start.elapsed() < Duration::from_secs(1));
    }
}
