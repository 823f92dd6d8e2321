//! Which Python a user would get here — `VIRTUAL_ENV`, then `CONDA_PREFIX`, then `python3` /
//! `python` on PATH, with pyenv shims resolved through pyenv's own version files — and what
//! the files next to it say: version (`pyvenv.cfg`, `patchlevel.h`, the interpreter's name)
//! and the site-packages dirs in `sys.path` order. Nothing is executed here.

use crate::host::shown;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The interpreter found, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Interpreter {
    /// The path as found (`$VIRTUAL_ENV/bin/python`, `~/.pyenv/shims/python3`).
    pub path: PathBuf,
    /// `VIRTUAL_ENV`, `CONDA_PREFIX`, `PATH:python3`, `PATH:python`.
    pub found_via: String,
    /// What to run: `path`, or the interpreter a pyenv shim stands for.
    pub resolved: PathBuf,
    /// True when `path` is a pyenv shim that could not be resolved from files (slow to run).
    pub unresolved_shim: bool,
    pub notes: Vec<String>,
}

/// What the files say about an interpreter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// `3.11.7`, or `3.11` when only the major.minor is on disk.
    pub version: Option<String>,
    pub version_source: Option<String>,
    /// The venv root when the interpreter belongs to one.
    pub venv: Option<PathBuf>,
    /// Existing site-packages dirs, in the order `sys.path` would list them.
    pub site_dirs: Vec<PathBuf>,
}

/// The environment, as OS strings (paths in it need not be valid Unicode).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// A variable that is set, not empty, as a path.
pub(super) fn set_path(env: Env, name: &str) -> Option<PathBuf> {
    env(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// A variable that is set, not empty and valid Unicode.
pub(super) fn set(env: Env, name: &str) -> Option<String> {
    env(name)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.into_string().ok())
}

/// Find the interpreter; Err(notes) when there is none.
pub fn find(env: Env, cwd: Option<&Path>) -> Result<Interpreter, Vec<String>> {
    let mut notes = Vec::new();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        let Some(root) = set_path(env, var) else {
            continue;
        };
        let candidates = [
            root.join("bin/python"),
            root.join("bin/python3"),
            root.join("Scripts/python.exe"),
            root.join("python.exe"),
        ];
        match candidates.into_iter().find(|p| p.is_file()) {
            Some(path) => return Ok(found(path, var.to_string(), notes, env, cwd)),
            None => notes.push(format!("{var} is set but holds no python interpreter")),
        }
    }
    let path_var = env("PATH").unwrap_or_default();
    let names: &[&str] = if cfg!(windows) {
        &["python.exe", "python3.exe"]
    } else {
        &["python3", "python"]
    };
    for name in names {
        for path in on_path(&path_var, name) {
            if is_store_stub(&path) {
                notes.push(format!(
                    "{} is the Microsoft Store's python.exe stub (an app execution alias that opens the Store), not an interpreter",
                    shown(&path)
                ));
                continue;
            }
            let via = format!("PATH:{}", name.trim_end_matches(".exe"));
            return Ok(found(path, via, notes, env, cwd));
        }
    }
    // Windows: the `py` launcher (python.org installs put it in C:\Windows) picks the newest
    // installed Python 3, also when none is on PATH.
    if cfg!(windows)
        && let Some(path) = super::super::docker::find_on_path(&path_var, &["py.exe"])
    {
        notes.push(
            "found through the py launcher, which starts the newest installed Python 3".into(),
        );
        return Ok(found(path, "py launcher".into(), notes, env, cwd));
    }
    Err(notes)
}

/// Every executable file named `name` on PATH, in PATH order.
fn on_path(path_var: &OsStr, name: &str) -> Vec<PathBuf> {
    std::env::split_paths(path_var)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(name))
        .filter(|p| {
            let dir = p.parent().unwrap_or(p).as_os_str();
            // An app execution alias may not resolve as a file; its own entry still exists.
            super::super::docker::find_on_path(dir, &[name]).is_some()
                || (is_store_stub(p) && p.symlink_metadata().is_ok())
        })
        .collect()
}

/// The Microsoft Store stub: `…\Microsoft\WindowsApps\python.exe` (or python3.exe), an
/// app execution alias that opens the Store instead of running Python.
pub fn is_store_stub(path: &Path) -> bool {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
        .collect();
    let n = parts.len();
    n >= 3
        && parts[n - 2] == "windowsapps"
        && parts[n - 3] == "microsoft"
        && parts[n - 1].starts_with("python")
}

fn found(
    path: PathBuf,
    via: String,
    mut notes: Vec<String>,
    env: Env,
    cwd: Option<&Path>,
) -> Interpreter {
    let (resolved, unresolved_shim) = match super::pyenv::root_of_shim(&path) {
        None => (path.clone(), false),
        Some(root) => match super::pyenv::resolve_shim(&root, &path, env, cwd) {
            Some((real, why)) => {
                notes.push(format!("pyenv shim resolved to {} ({why})", shown(&real)));
                (real, false)
            }
            None => {
                notes.push("pyenv shim whose version could not be resolved from files".into());
                (path.clone(), true)
            }
        },
    };
    Interpreter {
        path,
        found_via: via,
        resolved,
        unresolved_shim,
        notes,
    }
}

/// Read version and site-packages dirs from the files around the interpreter.
pub fn layout(interp: &Interpreter, home: Option<&Path>) -> Layout {
    if let Some(venv) = venv_root(&interp.path) {
        return venv_layout(&venv, home);
    }
    let real = std::fs::canonicalize(&interp.resolved).unwrap_or_else(|_| interp.resolved.clone());
    prefix_layout(&real, home)
}

/// The venv an interpreter path belongs to: `pyvenv.cfg` in `bin/..` (or `Scripts/..`).
fn venv_root(path: &Path) -> Option<PathBuf> {
    let root = path.parent()?.parent()?;
    root.join("pyvenv.cfg")
        .is_file()
        .then(|| root.to_path_buf())
}

fn venv_layout(venv: &Path, home: Option<&Path>) -> Layout {
    let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg")).unwrap_or_default();
    let get = |key: &str| {
        cfg.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().to_string())
        })
    };
    let version = get("version")
        .or_else(|| get("version_info"))
        .and_then(|v| numeric_version(&v));
    let mm = version.as_deref().map(major_minor);
    let mut dirs = lib_site_dirs(venv, mm.as_deref());
    if get("include-system-site-packages").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        if let Some(mm) = &mm {
            dirs.extend(user_site_dirs(home, mm));
        }
        // `home` is the base interpreter's dir; its parent is the base prefix.
        if let Some(base) = get("home")
            .map(PathBuf::from)
            .and_then(|h| h.parent().map(Path::to_path_buf))
        {
            dirs.extend(prefix_site_dirs(&base, mm.as_deref()));
        }
    }
    Layout {
        version_source: version.as_ref().map(|_| shown(&venv.join("pyvenv.cfg"))),
        version,
        venv: Some(venv.to_path_buf()),
        site_dirs: existing(dirs),
    }
}

fn prefix_layout(real: &Path, home: Option<&Path>) -> Layout {
    let name = real.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let bin = real.parent().unwrap_or(Path::new("/"));
    // POSIX: <prefix>/bin/python3.11; Windows: <prefix>\python.exe.
    let prefix = if bin.file_name().is_some_and(|n| n == "bin") {
        bin.parent().unwrap_or(bin).to_path_buf()
    } else {
        bin.to_path_buf()
    };
    let mut mm = name.strip_prefix("python").and_then(|v| {
        let v = v.trim_end_matches(".exe");
        (v.contains('.') && v.split('.').all(|p| p.parse::<u32>().is_ok())).then(|| v.to_string())
    });
    let mut source = mm.as_ref().map(|_| format!("interpreter name {name}"));
    if mm.is_none() {
        mm = mm_from_prefix(&prefix);
        source = mm.as_ref().map(|_| shown(&prefix));
    }
    let Some(mm) = mm else {
        return Layout::default();
    };
    let full = patchlevel(&prefix, &mm)
        .map(|v| {
            (
                v,
                format!("{}/include/python{mm}/patchlevel.h", shown(&prefix)),
            )
        })
        .or_else(|| {
            let dir = prefix.file_name()?.to_str()?;
            let v = numeric_version(dir)?;
            (major_minor(&v) == mm && v.matches('.').count() == 2)
                .then(|| (v, format!("prefix dir name {}", shown(&prefix))))
        });
    let (version, version_source) = match full {
        Some((v, s)) => (v, Some(s)),
        None => (mm.clone(), source),
    };
    let mut dirs = user_site_dirs(home, &mm);
    dirs.extend(prefix_site_dirs(&prefix, Some(&mm)));
    Layout {
        version: Some(version),
        version_source,
        venv: None,
        site_dirs: existing(dirs),
    }
}

/// `3.11` from `<prefix>/lib/python3.11` (only when exactly one is there) or `python311.dll`.
fn mm_from_prefix(prefix: &Path) -> Option<String> {
    let from_lib: Vec<String> = std::fs::read_dir(prefix.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("python3.")
                .map(|m| format!("3.{m}"))
        })
        .filter(|v| v[2..].parse::<u32>().is_ok())
        .collect();
    if let [one] = from_lib.as_slice() {
        return Some(one.clone());
    }
    std::fs::read_dir(prefix).ok()?.flatten().find_map(|e| {
        let n = e.file_name().to_str()?.to_ascii_lowercase();
        let digits = n.strip_prefix("python3")?.strip_suffix(".dll")?;
        digits.parse::<u32>().ok().map(|m| format!("3.{m}"))
    })
}

fn patchlevel(prefix: &Path, mm: &str) -> Option<String> {
    let text =
        std::fs::read_to_string(prefix.join(format!("include/python{mm}/patchlevel.h"))).ok()?;
    text.lines().find_map(|l| {
        let rest = l
            .trim()
            .strip_prefix("#define")?
            .trim()
            .strip_prefix("PY_VERSION")?;
        numeric_version(rest.trim().trim_matches('"'))
    })
}

/// `lib/pythonX.Y/site-packages` (every `python3.*` when the version is unknown) and `Lib/site-packages`.
fn lib_site_dirs(root: &Path, mm: Option<&str>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for lib in ["lib", "lib64"] {
        match mm {
            Some(mm) => dirs.push(
                root.join(lib)
                    .join(format!("python{mm}"))
                    .join("site-packages"),
            ),
            None => {
                let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(lib))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("python3."))
                    .map(|e| e.path().join("site-packages"))
                    .collect();
                found.sort();
                dirs.extend(found);
            }
        }
    }
    dirs.push(root.join("Lib").join("site-packages"));
    dirs
}

/// A prefix's site dirs, Debian's `dist-packages` layout included.
fn prefix_site_dirs(prefix: &Path, mm: Option<&str>) -> Vec<PathBuf> {
    let mut dirs = lib_site_dirs(prefix, mm);
    if let Some(mm) = mm {
        dirs.push(
            prefix
                .join("local/lib")
                .join(format!("python{mm}"))
                .join("dist-packages"),
        );
        dirs.push(prefix.join("lib/python3/dist-packages"));
        dirs.push(
            prefix
                .join("lib")
                .join(format!("python{mm}"))
                .join("dist-packages"),
        );
    }
    dirs
}

fn user_site_dirs(home: Option<&Path>, mm: &str) -> Vec<PathBuf> {
    let Some(home) = home else { return Vec::new() };
    vec![
        home.join(".local/lib")
            .join(format!("python{mm}"))
            .join("site-packages"),
        home.join("Library/Python")
            .join(mm)
            .join("lib/python/site-packages"),
    ]
}

fn existing(dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for d in dirs {
        if d.is_dir() && !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// `3.11.7` from `3.11.7`, `3.11.7.final.0`, `3.12.1+`; at least major.minor.
pub fn numeric_version(text: &str) -> Option<String> {
    let parts: Vec<&str> = text
        .split('.')
        .take(3)
        .map(|p| p.trim_end_matches(|c: char| !c.is_ascii_digit()))
        .take_while(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .collect();
    (parts.len() >= 2).then(|| parts.join("."))
}

fn major_minor(v: &str) -> String {
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_stub_is_recognised_by_its_place() {
        let stub: PathBuf = [
            "C:\\",
            "Users",
            "u",
            "AppData",
            "Local",
            "Microsoft",
            "WindowsApps",
            "python.exe",
        ]
        .iter()
        .collect();
        assert!(is_store_stub(&stub));
        let real: PathBuf = ["C:\\", "Python312", "python.exe"].iter().collect();
        assert!(!is_store_stub(&real));
    }

    #[test]
    fn numeric_versions_keep_at_most_three_numeric_parts() {
        assert_eq!(numeric_version("3.11.7").as_deref(), Some("3.11.7"));
        assert_eq!(numeric_version("3.11.7.final.0").as_deref(), Some("3.11.7"));
        assert_eq!(numeric_version("3.13.0rc1").as_deref(), Some("3.13"));
        assert_eq!(numeric_version("3.12.1+").as_deref(), Some("3.12.1"));
        assert_eq!(numeric_version("system"), None);
        assert_eq!(numeric_version("3"), None);
    }

    #[test]
    fn a_debian_style_prefix_lists_user_site_then_dist_packages() {
        let tree = tempfile::tempdir().unwrap();
        let usr = tree.path().join("usr");
        let home = tree.path().join("home");
        for d in [
            usr.join("local/lib/python3.11/dist-packages"),
            usr.join("lib/python3/dist-packages"),
            home.join(".local/lib/python3.11/site-packages"),
        ] {
            std::fs::create_dir_all(d).unwrap();
        }
        let bin = usr.join("bin/python3.11");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        std::fs::write(&bin, "").unwrap();
        let l = prefix_layout(&bin, Some(&home));
        assert_eq!(l.version.as_deref(), Some("3.11"));
        assert_eq!(
            l.site_dirs,
            vec![
                home.join(".local/lib/python3.11/site-packages"),
                usr.join("local/lib/python3.11/dist-packages"),
                usr.join("lib/python3/dist-packages"),
            ]
        );
    }
}
