//! `uds.path_length`: the absolute socket paths backends create under a directory, their
//! byte lengths against the platform's `sun_path` size (a path fits when it and its NUL
//! terminator do), and — in the temp dir — the limit measured by binding at the boundary.

use crate::observation::Observation;
use crate::probe::SocketSpec;
use serde_json::{Map, Value, json};
use std::path::Path;

const ID: &str = "uds.path_length";

/// One backend socket path and whether it fits.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub backend: String,
    pub path: String,
    /// Bytes, without the NUL terminator.
    pub length: usize,
    pub fits: bool,
}

/// Length in bytes of a path as the kernel sees it.
pub fn byte_len(p: &Path) -> usize {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        p.as_os_str().as_bytes().len()
    }
    #[cfg(not(unix))]
    {
        p.to_string_lossy().len()
    }
}

/// `sun_path` size on this platform, NUL included.
pub fn limit() -> usize {
    #[cfg(unix)]
    {
        crate::platform::unix::uds::sun_path_capacity()
    }
    #[cfg(windows)]
    {
        crate::platform::windows::uds::sun_path_capacity()
    }
    #[cfg(not(any(unix, windows)))]
    {
        108
    }
}

/// Each spec's absolute path under `base` and whether it fits in `limit` (NUL included).
pub fn fits(base: &Path, specs: &[&SocketSpec], limit: usize) -> Vec<Fit> {
    specs
        .iter()
        .map(|s| {
            let path = base.join(&s.name);
            let length = byte_len(&path);
            Fit {
                backend: s.backend.clone(),
                path: crate::host::shown(&path),
                length,
                fits: length < limit,
            }
        })
        .collect()
}

/// The `uds.path_length` observation for `base`; `measure_in` is a scratch dir in which to
/// confirm the limit with two binds.
pub fn observe(
    target: &str,
    base: &Path,
    specs: &[&SocketSpec],
    measure_in: Option<&Path>,
) -> Observation {
    let limit = limit();
    let list = fits(base, specs, limit);
    let too_long: Vec<&Fit> = list.iter().filter(|f| !f.fits).collect();
    let room = limit.saturating_sub(byte_len(base) + 2);
    let mut obs = if too_long.is_empty() {
        let what = match list.len() {
            0 => "no backend in the catalogue creates a socket here".to_string(),
            n => format!("all {n} backend socket path(s) fit"),
        };
        Observation::pass(
            ID,
            target,
            format!(
                "{what}; sun_path is {limit} bytes incl. NUL, {room} left for a file name here"
            ),
        )
    } else {
        let names: Vec<String> = too_long
            .iter()
            .map(|f| format!("{} ({} bytes: {})", f.backend, f.length, f.path))
            .collect();
        Observation::fail(
            ID,
            target,
            format!(
                "socket path(s) longer than sun_path allows ({} bytes + NUL): {}",
                limit - 1,
                names.join(", ")
            ),
        )
        .with_errno("ENAMETOOLONG")
    };
    obs = obs
        .with("limit", limit)
        .with("sockets", sockets_value(&list))
        .with("fits", fits_by_backend(&list))
        .with("room", room);
    if let Some(scratch) = measure_in {
        match measure(scratch, limit) {
            Ok(measured) => obs = obs.with("limit_measured", measured),
            Err(note) => {
                obs.message = format!("{}; limit not measured: {note}", obs.message);
                obs = obs.with("limit_measured", Value::Null);
            }
        }
    }
    obs
}

fn sockets_value(list: &[Fit]) -> Value {
    Value::Array(
        list.iter()
            .map(|f| json!({"backend": f.backend, "path": f.path, "length": f.length, "fits": f.fits}))
            .collect(),
    )
}

/// {backend: every socket of that backend fits}.
fn fits_by_backend(list: &[Fit]) -> Value {
    let mut map = Map::new();
    for f in list {
        let all = map.get(&f.backend).and_then(Value::as_bool).unwrap_or(true);
        map.insert(f.backend.clone(), Value::Bool(all && f.fits));
    }
    Value::Object(map)
}

/// Bind NUL-terminated paths of `cap - 1` and `cap` bytes in `scratch`: when the first binds and
/// the second is refused, the kernel's limit is `cap` bytes (NUL included).
#[cfg(unix)]
pub fn measure(scratch: &Path, cap: usize) -> Result<usize, String> {
    use crate::platform::unix::uds::bind_only;
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch.as_os_str().as_bytes();
    if dir.len() + 2 > cap - 1 {
        return Err(format!(
            "the scratch dir path is already {} bytes",
            dir.len()
        ));
    }
    let path_of = |len: usize| {
        let mut p = dir.to_vec();
        p.push(b'/');
        p.resize(len, b'm');
        p
    };
    if let Err(e) = bind_only(&path_of(cap - 1)) {
        let errno = crate::errno::io_error_name(&e);
        return Err(format!("a {}-byte path was refused ({errno})", cap - 1));
    }
    match bind_only(&path_of(cap)) {
        Ok(()) => Err(format!("a {cap}-byte path was accepted too")),
        Err(e) => match crate::errno::io_error_name(&e).as_str() {
            "EINVAL" | "ENAMETOOLONG" => Ok(cap),
            other => Err(format!(
                "a {cap}-byte path was refused with {other}, not a length error"
            )),
        },
    }
}

/// Windows: the same boundary binds; afunix.sys refuses an over-long path with WSAEFAULT
/// or WSAEINVAL (socket2 already refuses one that cannot fit sun_path, with InvalidInput).
#[cfg(windows)]
pub fn measure(scratch: &Path, cap: usize) -> Result<usize, String> {
    use crate::platform::windows::uds::bind_only;
    let dir = scratch.to_string_lossy().into_owned();
    if dir.len() + 2 > cap - 1 {
        return Err(format!(
            "the scratch dir path is already {} bytes",
            dir.len()
        ));
    }
    let path_of = |len: usize| {
        let mut p = dir.clone();
        p.push('\\');
        while p.len() < len {
            p.push('m');
        }
        std::path::PathBuf::from(p)
    };
    if let Err(e) = bind_only(&path_of(cap - 1)) {
        let errno = crate::errno::io_error_name(&e);
        return Err(format!("a {}-byte path was refused ({errno})", cap - 1));
    }
    match bind_only(&path_of(cap)) {
        Ok(()) => Err(format!("a {cap}-byte path was accepted too")),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(cap),
        Err(e) => match crate::errno::io_error_name(&e).as_str() {
            "WSAEINVAL" | "WSAEFAULT" | "WSAENAMETOOLONG" => Ok(cap),
            other => Err(format!(
                "a {cap}-byte path was refused with {other}, not a length error"
            )),
        },
    }
}

#[cfg(not(any(unix, windows)))]
pub fn measure(_scratch: &Path, _cap: usize) -> Result<usize, String> {
    Err("no AF_UNIX on this OS".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(backend: &str, base: &str, name: &str) -> SocketSpec {
        SocketSpec {
            backend: backend.into(),
            base: base.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_path_fits_only_with_room_for_its_nul() {
        let base = Path::new("/d");
        let exact = spec("a", "data_dir", &"x".repeat(105)); // "/d/" + 105 = 108 bytes
        let under = spec("b", "data_dir", &"x".repeat(104)); // 107 bytes
        let out = fits(base, &[&exact, &under], 108);
        assert_eq!((out[0].length, out[0].fits), (108, false));
        assert_eq!((out[1].length, out[1].fits), (107, true));
    }

    #[test]
    fn a_backend_fits_only_when_all_its_sockets_do() {
        let base = Path::new("/d");
        let s1 = spec("pg", "data_dir", "short.sock");
        let s2 = spec("pg", "data_dir", &"y".repeat(200));
        let s3 = spec("redis", "data_dir", "redis.sock");
        let obs = observe("/d", base, &[&s1, &s2, &s3], None);
        assert_eq!(obs.status, crate::observation::Status::Fail);
        assert_eq!(obs.values["fits"], json!({"pg": false, "redis": true}));
        assert_eq!(obs.values["sockets"].as_array().unwrap().len(), 3);
        assert_eq!(obs.values["limit"], limit());
        assert!(obs.message.contains("pg (203 bytes"), "{}", obs.message);
    }

    #[test]
    fn no_sockets_is_a_pass_with_the_room_left() {
        let obs = observe("/tmp", Path::new("/tmp"), &[], None);
        assert_eq!(obs.status, crate::observation::Status::Pass);
        assert_eq!(obs.values["room"], limit() - 6);
        assert_eq!(obs.values["sockets"], json!([]));
    }

    #[cfg(unix)]
    #[test]
    fn the_measured_limit_is_the_sun_path_size() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(measure(d.path(), limit()), Ok(limit()));
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
        let deep = d.path().join("z".repeat(limit()));
        assert!(measure(&deep, limit()).is_err());
    }
}
