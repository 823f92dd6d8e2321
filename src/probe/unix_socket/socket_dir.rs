//! `uds.socket_dir:<dir>`: whether this user may create files in a directory outside the data
//! dir where a backend puts its unix socket and the socket's lock file (a profile's `[[sockets]]`
//! with an absolute `base`, e.g. PostgreSQL's compiled-in `/var/run/postgresql` on Debian and
//! Ubuntu, `drwxrwsr-x postgres:postgres`). Nothing is written there: the answer is `stat` and
//! `faccessat(W_OK|X_OK, AT_EACCESS)` as the tool's effective ids. A missing dir is reported
//! (`exists=false`) without a verdict of its own: builds whose socket dir it is not never look
//! there, and nothing observed here says which build will run.

use crate::observation::Observation;
use crate::probe::SocketSpec;
use serde_json::Value;
use std::path::Path;

/// The observation id for `dir`.
pub fn id(dir: &str) -> String {
    format!("uds.socket_dir:{dir}")
}

/// The absolute socket dirs among the catalogue's sockets, each with its specs, in first-seen
/// order.
pub fn dirs(all: &[SocketSpec]) -> Vec<(String, Vec<&SocketSpec>)> {
    let mut out: Vec<(String, Vec<&SocketSpec>)> = Vec::new();
    for s in all.iter().filter(|s| s.base.starts_with('/')) {
        match out.iter_mut().find(|(d, _)| *d == s.base) {
            Some((_, specs)) => specs.push(s),
            None => out.push((s.base.clone(), vec![s])),
        }
    }
    out
}

/// The observation for `dir`, used by the backends in `specs`.
pub fn observe(dir: &str, specs: &[&SocketSpec]) -> Observation {
    let id = id(dir);
    let mut backends: Vec<&str> = specs.iter().map(|s| s.backend.as_str()).collect();
    backends.dedup();
    let sockets: Vec<Value> = specs
        .iter()
        .map(|s| Value::String(crate::host::shown(&Path::new(dir).join(&s.name))))
        .collect();
    let obs = check(&id, dir);
    obs.with("backends", backends).with("sockets", sockets)
}

#[cfg(unix)]
fn check(id: &str, dir: &str) -> Observation {
    use crate::platform::unix::access::dir_access;
    let a = dir_access(Path::new(dir));
    let who = if a.uid == a.euid {
        format!("uid {}", a.uid)
    } else {
        format!("uid {} (euid {})", a.uid, a.euid)
    };
    let (mode, owner_uid, owner_gid) = match &a.stat {
        Ok(s) => *s,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
            return Observation::pass(
                id,
                dir,
                format!(
                    "{dir} does not exist (stat: ENOENT), so nothing there refuses {who}; a backend \
                     build whose socket dir it is needs it created first (PostgreSQL creates no \
                     directory for its socket)"
                ),
            )
            .with("exists", false)
            .with("writable", Value::Null)
            .with("stat_errno", "ENOENT")
            .with("uid", a.uid)
            .with("euid", a.euid);
        }
        Err(e) => {
            return Observation::from_io_error(id, dir, &format!("stat {dir} as {who}"), e)
                .with("exists", Value::Null)
                .with("writable", false)
                .with("uid", a.uid)
                .with("euid", a.euid);
        }
    };
    let shown = format!("mode {mode:04o}, owner {owner_uid}:{owner_gid}");
    let created = a.create.unwrap_or(Ok(()));
    let writable = created.is_ok();
    let o = match created {
        Ok(()) => Observation::pass(
            id,
            dir,
            format!(
                "{who} may create files in {dir} ({shown}; faccessat W_OK|X_OK, nothing written)"
            ),
        ),
        Err(e) => Observation::from_io_error(
            id,
            dir,
            &format!("{who} may not create files in {dir} ({shown}; faccessat W_OK|X_OK)"),
            &e,
        ),
    };
    o.with("exists", true)
        .with("writable", writable)
        .with("mode", format!("{mode:04o}"))
        .with("owner_uid", owner_uid)
        .with("owner_gid", owner_gid)
        .with("uid", a.uid)
        .with("euid", a.euid)
}

#[cfg(not(unix))]
fn check(id: &str, dir: &str) -> Observation {
    Observation::skipped(
        id,
        dir,
        "socket dirs outside the data dir are absolute Unix paths; checked on Unix only",
    )
}
