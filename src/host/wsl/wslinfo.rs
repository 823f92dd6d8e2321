//! Running `wslinfo --networking-mode` with a deadline: the child is killed when it does not
//! answer in time, and only the modes WSL documents are accepted.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Values `wslinfo --networking-mode` prints (`consomme` replaced `virtioproxy` in WSL 2.9.0).
pub const NETWORKING_MODES: &[&str] = &[
    "nat",
    "mirrored",
    "virtioproxy",
    "consomme",
    "bridged",
    "none",
    "wsl1",
];
pub const WSLINFO_TIMEOUT: Duration = Duration::from_millis(300);

/// Run a `wslinfo --networking-mode`-like command with a deadline; the child is killed when
/// it does not answer in time. Its stdout is read on a thread so a silent child cannot block.
pub fn networking_mode_from(command: &mut Command, timeout: Duration) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("not run ({})", crate::errno::io_error_name(&e)))?;
    let Some(mut stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("no stdout".into());
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::Builder::new()
        .name("wslinfo-read".into())
        .spawn(move || {
            let mut out = String::new();
            let result = stdout.read_to_string(&mut out).map(|_| out);
            let _ = tx.send(result);
        });
    if reader.is_err() {
        let _ = child.kill();
        let _ = child.wait();
        return Err("could not start a reader thread".into());
    }
    let output = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    // Reap the child within the same deadline; kill it when it lingers.
    let exited = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => break None,
        }
    };
    if exited.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = match output {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            return Err(format!(
                "reading output: {}",
                crate::errno::io_error_name(&e)
            ));
        }
        Err(_) => {
            return Err(format!(
                "no answer within {} ms; killed",
                timeout.as_millis()
            ));
        }
    };
    let mode = out.trim().to_ascii_lowercase();
    match exited {
        Some(status) if !status.success() => Err(format!("exited with {status}")),
        _ if NETWORKING_MODES.contains(&mode.as_str()) => Ok(mode),
        _ => Err(format!(
            "unrecognised output {:?}",
            out.trim().chars().take(40).collect::<String>()
        )),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn reads_a_networking_mode_from_a_command() {
        let mode = networking_mode_from(
            Command::new("sh").args(["-c", "echo Mirrored"]),
            Duration::from_secs(2),
        );
        assert_eq!(mode, Ok("mirrored".to_string()));
        let junk = networking_mode_from(
            Command::new("sh").args(["-c", "echo hello"]),
            Duration::from_secs(2),
        );
        assert!(junk.is_err_and(|e| e.contains("unrecognised")));
        let failed = networking_mode_from(
            Command::new("sh").args(["-c", "echo nat; exit 3"]),
            Duration::from_secs(2),
        );
        assert!(failed.is_err_and(|e| e.contains("exited")));
        let missing = networking_mode_from(
            &mut Command::new("/nonexistent/wslinfo"),
            Duration::from_secs(2),
        );
        assert_eq!(missing, Err("not run (ENOENT)".to_string()));
    }

    #[cfg(unix)]
    #[test]
    fn kills_a_command_that_does_not_answer_in_time() {
        let start = Instant::now();
        let r = networking_mode_from(
            Command::new("sh").args(["-c", "exec sleep 5"]),
            WSLINFO_TIMEOUT,
        );
        assert!(r.is_err_and(|e| e.contains("killed")));
        assert!(
            start.elapsed() < Duration::from_millis(1000),
            "took {:?}",
            start.elapsed()
        );
    }
}
