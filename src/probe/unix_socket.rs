//! Probe `unix_socket`: AF_UNIX stream sockets where backends put them — a real
//! bind+listen+connect+accept round trip in the temp dir (`uds.tmp`) and in every data dir
//! (`uds.data_dir`; WSL2 DrvFs and Docker Desktop bind mounts refuse it), whatever the length of
//! the probe's own scratch path (a path over `sun_path` is bound through `/proc/self/fd`), the
//! check that the socket paths backends create there fit in `sun_path` (`uds.path_length`, the
//! one observation about length, with the limit confirmed by two binds at the boundary), and
//! whether this user may create files in socket dirs outside the data dir
//! (`uds.socket_dir:<dir>`, nothing written). One host-scope job covers every target.

use super::{DataDir, Planned, ProbeContext, ProbeDef, ProbeKind, Scope, Sink, SocketSpec};
use crate::observation::Observation;
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod path_length;
mod socket_dir;

pub static PROBE: ProbeDef = ProbeDef {
    name: "unix_socket",
    kind: ProbeKind::Sockets,
    scope: Scope::Host,
    timeout: Duration::from_millis(1500),
    plan,
    run,
    in_agent: true,
};

const TMP: &str = "uds.tmp";
const DATA_DIR: &str = "uds.data_dir";
const PATH_LENGTH: &str = "uds.path_length";

/// Upper bound for each connect/accept/recv of a round trip.
const STEP_TIMEOUT: Duration = Duration::from_millis(200);

/// Everything this job observes, in emission order.
enum Check<'a> {
    /// Round trip in the temp dir's scratch dir.
    Tmp,
    /// Round trip in a data dir's scratch dir.
    DataDir(&'a DataDir),
    /// Socket paths under `base`: those of backends whose socket lives in the temp dir (`tmp`)
    /// and/or in the data dir (`dir`). `measure` adds the empirical limit.
    PathLength {
        target: String,
        base: PathBuf,
        tmp: bool,
        dir: bool,
        measure: bool,
    },
    /// A socket dir outside the data dir (an absolute `[[sockets]]` base).
    SocketDir(Vec<&'a SocketSpec>),
}

/// The system temp dir, as the target of host-level socket observations.
fn temp_target() -> (String, PathBuf) {
    let dir = std::env::temp_dir();
    let mut s = crate::host::shown(&dir);
    while s.len() > 1 && s.ends_with('/') {
        s.pop();
    }
    (s, dir)
}

fn checks(ctx: &ProbeContext) -> Vec<(String, String, Check<'_>)> {
    let (tmp_target, tmp_dir) = temp_target();
    let mut out = vec![(TMP.to_string(), tmp_target.clone(), Check::Tmp)];
    let dirs: Vec<&DataDir> = ctx.data_dirs.iter().collect();
    let tmp_is_a_data_dir = dirs.iter().any(|d| d.target() == tmp_target);
    if !tmp_is_a_data_dir {
        out.push((
            PATH_LENGTH.to_string(),
            tmp_target.clone(),
            Check::PathLength {
                target: tmp_target.clone(),
                base: tmp_dir,
                tmp: true,
                dir: false,
                measure: true,
            },
        ));
    }
    let mut seen: Vec<String> = Vec::new();
    for d in dirs {
        let target = d.target();
        if seen.contains(&target) {
            continue;
        }
        seen.push(target.clone());
        out.push((DATA_DIR.to_string(), target.clone(), Check::DataDir(d)));
        let is_tmp = target == tmp_target;
        out.push((
            PATH_LENGTH.to_string(),
            target.clone(),
            Check::PathLength {
                target,
                base: d.facts.path.clone(),
                tmp: is_tmp,
                dir: true,
                measure: is_tmp,
            },
        ));
    }
    for (dir, specs) in socket_dir::dirs(&ctx.catalogue.sockets) {
        out.push((socket_dir::id(&dir), dir, Check::SocketDir(specs)));
    }
    out
}

fn plan(ctx: &ProbeContext, _dir: Option<&DataDir>) -> Vec<Planned> {
    checks(ctx)
        .into_iter()
        .map(|(id, target, _)| Planned::new(id, target))
        .collect()
}

fn run(ctx: &ProbeContext, _dir: Option<&DataDir>, sink: &Sink) {
    let deadline = (Instant::now() + PROBE.timeout).min(ctx.deadline);
    for (id, target, check) in checks(ctx) {
        if Instant::now() >= deadline {
            return; // the engine reports the rest as timeout
        }
        let start = Instant::now();
        let obs = if !cfg!(any(unix, windows)) {
            Observation::skipped(
                &id,
                &target,
                "AF_UNIX probes are not implemented on this OS yet",
            )
        } else {
            match check {
                Check::Tmp => round_trip_in(TMP, &target, &ctx.tmp_scratch),
                Check::DataDir(d) => round_trip_in(DATA_DIR, &target, &d.scratch),
                Check::PathLength {
                    target,
                    base,
                    tmp,
                    dir,
                    measure,
                } => {
                    let specs = specs_for(&ctx.catalogue.sockets, tmp, dir);
                    let scratch = if measure {
                        ctx.tmp_scratch.as_ref().ok()
                    } else {
                        None
                    };
                    path_length::observe(&target, &base, &specs, scratch.map(PathBuf::as_path))
                }
                Check::SocketDir(specs) => socket_dir::observe(&target, &specs),
            }
        };
        sink.emit(obs.elapsed_since(start));
    }
}

/// The catalogue's sockets whose base is the temp dir (`tmp`) and/or the data dir (`dir`).
fn specs_for(all: &[SocketSpec], tmp: bool, dir: bool) -> Vec<&SocketSpec> {
    all.iter()
        .filter(|s| (tmp && s.base == "tmp") || (dir && s.base == "data_dir"))
        .collect()
}

/// A round trip on a socket in `scratch`; a missing scratch dir is a fail with its errno (the
/// socket file could not have been created either), an error when the tool could not start
/// the thread to make it, or skipped when there is no errno.
fn round_trip_in(
    id: &str,
    target: &str,
    scratch: &Result<PathBuf, super::ScratchError>,
) -> Observation {
    let scratch = match scratch {
        Ok(s) => s,
        Err(e) => {
            return e.observation(id, target, format!("no scratch dir: {}", e.message));
        }
    };
    let path = scratch.join(if id == TMP { "t.sock" } else { "d.sock" });
    let length = path_length::byte_len(&path);
    let shown = crate::host::shown(&path);
    let obs = match sys::round_trip(&path, STEP_TIMEOUT) {
        Ok(via) => {
            let how = match via {
                "path" => String::new(),
                _ => format!(
                    " (bound through /proc/self/fd/<fd of its dir>/: the full path is {length} bytes, over sun_path; uds.path_length judges lengths)"
                ),
            };
            Observation::pass(
                id,
                target,
                format!("bind+listen+connect+accept and one byte each way on {shown}{how}"),
            )
            .with("bound_via", via)
        }
        // The path is too long and this system has no shorter route to the dir: nothing was
        // asked of the directory's filesystem, so nothing about it was observed.
        Err(("address", _)) => Observation::skipped(
            id,
            target,
            format!(
                "the socket path {shown} is {length} bytes, over sun_path, and this system offers no shorter route to the dir (/proc/self/fd): not observed (uds.path_length judges lengths)"
            ),
        ),
        Err((step, e)) => Observation::from_io_error(id, target, step, &e),
    };
    if id == TMP {
        obs.with("path_length", length)
    } else {
        obs
    }
}

mod sys {
    use std::path::Path;
    use std::time::Duration;

    /// The round trip, and how the socket was bound (`path` or `proc_fd`).
    #[cfg(unix)]
    pub fn round_trip(
        path: &Path,
        timeout: Duration,
    ) -> Result<&'static str, (&'static str, std::io::Error)> {
        crate::platform::unix::uds::round_trip(path, timeout)
            .map(|via| via.as_str())
            .map_err(|e| (e.step, e.error))
    }
    #[cfg(windows)]
    pub fn round_trip(
        path: &Path,
        timeout: Duration,
    ) -> Result<&'static str, (&'static str, std::io::Error)> {
        crate::platform::windows::uds::round_trip(path, timeout)
            .map(|()| "path")
            .map_err(|e| (e.step, e.error))
    }
    #[cfg(not(any(unix, windows)))]
    pub fn round_trip(
        _path: &Path,
        _timeout: Duration,
    ) -> Result<&'static str, (&'static str, std::io::Error)> {
        Err(("socket", std::io::ErrorKind::Unsupported.into()))
    }
}

#[cfg(all(test, unix))]
mod tests;
