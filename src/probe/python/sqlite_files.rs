//! Whether an interpreter's `sqlite3` can load extensions, read from its files instead of
//! starting it. `sqlite3.Connection.enable_load_extension` exists only when CPython's
//! `_sqlite3` module was compiled with loadable extensions, and its C code then calls
//! `sqlite3_enable_load_extension`; with SQLite linked dynamically (CPython's default, and
//! every distribution's) the module's ELF dynamic symbol table therefore names that function
//! exactly when the method exists. The SQLite version is the `sqlite3_version` string of the
//! `libsqlite3` the dynamic loader would pick (`DT_RUNPATH`, `LD_LIBRARY_PATH`,
//! `/etc/ld.so.cache`, the default dirs). When the files cannot tell (SQLite built into the
//! module or the interpreter, a Windows `.pyd`, `PYTHONHOME` set), the caller asks the
//! interpreter.

use super::discover::{Interpreter, Layout};
use super::elf;
use crate::host::shown;
use std::path::{Path, PathBuf};

const ENABLE: &str = "sqlite3_enable_load_extension";

/// What the files said.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    Answered(Answer),
    /// Why the files do not tell (for the message when the interpreter is asked instead).
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub enable_load_extension: bool,
    /// The `_sqlite3` extension module read.
    pub module: PathBuf,
    /// What was found in it, for the message.
    pub evidence: String,
    pub sqlite_version: Option<String>,
    /// The libsqlite3 the version was read from, or why it was not.
    pub library: Result<PathBuf, String>,
}

/// Read the interpreter's `_sqlite3` module and the SQLite library it links.
pub fn read(interp: &Interpreter, layout: &Layout, env: super::discover::Env) -> Finding {
    if super::discover::set(env, "PYTHONHOME").is_some() {
        return Finding::Unknown("PYTHONHOME is set, so the stdlib location is not on disk".into());
    }
    let Some(mm) = layout.version.as_deref().map(major_minor) else {
        return Finding::Unknown("the version, hence the stdlib dir, is unknown".into());
    };
    let Some(prefix) = base_prefix(interp, layout) else {
        return Finding::Unknown("the interpreter's prefix is unknown".into());
    };
    let Some(module) = find_module(&prefix, &mm) else {
        return Finding::Unknown(format!(
            "no _sqlite3 module file under {} (it may be built into the interpreter)",
            shown(&prefix)
        ));
    };
    let Some(dynamic) = elf::read(&module) else {
        return Finding::Unknown(format!(
            "{} is not an ELF object this probe reads",
            shown(&module)
        ));
    };
    from_module(&module, &dynamic, env)
}

/// The decision on one parsed module (separate so tests can feed any ELF file).
pub fn from_module(module: &Path, dynamic: &elf::Dynamic, env: super::discover::Env) -> Finding {
    let imported: Vec<&str> = dynamic
        .symbols
        .iter()
        .filter(|s| !s.defined && s.name.starts_with("sqlite3_"))
        .map(|s| s.name.as_str())
        .collect();
    let evidence = if dynamic.symbol(ENABLE).is_some() {
        format!("{} names {ENABLE} (ELF dynamic symbol)", shown(module))
    } else if !imported.is_empty() {
        format!(
            "{} imports {} sqlite3_* functions but not {ENABLE}: built without loadable SQLite extensions",
            shown(module),
            imported.len()
        )
    } else {
        return Finding::Unknown(format!(
            "{} imports no sqlite3_* function (SQLite is linked into it)",
            shown(module)
        ));
    };
    let (library, sqlite_version) = match find_sqlite_library(module, dynamic, env) {
        Ok((path, lib)) => match lib.string_symbol("sqlite3_version") {
            Some(v) => (Ok(path), Some(v)),
            None => (
                Err(format!("{} has no readable sqlite3_version", shown(&path))),
                None,
            ),
        },
        Err(why) => (Err(why), None),
    };
    Finding::Answered(Answer {
        enable_load_extension: dynamic.symbol(ENABLE).is_some(),
        module: module.to_path_buf(),
        evidence,
        sqlite_version,
        library,
    })
}

fn major_minor(v: &str) -> String {
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The base installation: a venv's `pyvenv.cfg` `home` (its bin dir), else the real
/// interpreter's `<prefix>/bin/..`.
fn base_prefix(interp: &Interpreter, layout: &Layout) -> Option<PathBuf> {
    let from_bin = |bin: &Path| {
        if bin.file_name().is_some_and(|n| n == "bin") {
            bin.parent().map(Path::to_path_buf)
        } else {
            Some(bin.to_path_buf())
        }
    };
    if let Some(venv) = &layout.venv {
        let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
        let home = cfg.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("home")
                .then(|| v.trim().to_string())
        })?;
        let home = std::fs::canonicalize(&home).unwrap_or_else(|_| PathBuf::from(home));
        return from_bin(&home);
    }
    let real = std::fs::canonicalize(&interp.resolved).ok()?;
    from_bin(real.parent()?)
}

/// `<prefix>/lib{,64}/pythonX.Y/lib-dynload/_sqlite3*.so` (the first in name order, release
/// builds before debug ones), or Windows' `<prefix>/DLLs/_sqlite3.pyd`.
fn find_module(prefix: &Path, mm: &str) -> Option<PathBuf> {
    for lib in ["lib", "lib64"] {
        let dir = prefix
            .join(lib)
            .join(format!("python{mm}"))
            .join("lib-dynload");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("_sqlite3.") && n.ends_with(".so"))
            })
            .collect();
        found.sort_by_key(|p| (p.to_string_lossy().contains("d-"), p.clone()));
        if let Some(first) = found.into_iter().next() {
            return Some(first);
        }
    }
    let pyd = prefix.join("DLLs").join("_sqlite3.pyd");
    pyd.is_file().then_some(pyd)
}

/// The libsqlite3 the dynamic loader would map for `module`, in ld.so's order: `DT_RPATH`
/// (only without `DT_RUNPATH`), `LD_LIBRARY_PATH`, `DT_RUNPATH`, `/etc/ld.so.cache`, the
/// default dirs. Only a file of the module's machine type counts.
fn find_sqlite_library(
    module: &Path,
    dynamic: &elf::Dynamic,
    env: super::discover::Env,
) -> Result<(PathBuf, elf::Dynamic), String> {
    let Some(name) = dynamic.needed.iter().find(|n| n.starts_with("libsqlite3")) else {
        return Err(format!("{} needs no libsqlite3", shown(module)));
    };
    let origin = module.parent().unwrap_or(Path::new("/"));
    // `$ORIGIN` is the module's dir, kept as an OS string (it need not be valid Unicode).
    let expand = |d: &String| {
        let mut out = std::ffi::OsString::new();
        for (i, piece) in d.split("$ORIGIN").enumerate() {
            if i > 0 {
                out.push(origin.as_os_str());
            }
            out.push(piece);
        }
        PathBuf::from(out)
    };
    let mut dirs: Vec<PathBuf> = Vec::new();
    if dynamic.runpath.is_empty() {
        dirs.extend(dynamic.rpath.iter().map(expand));
    }
    if let Some(llp) = super::discover::set(env, "LD_LIBRARY_PATH") {
        dirs.extend(llp.split(':').filter(|d| !d.is_empty()).map(PathBuf::from));
    }
    dirs.extend(dynamic.runpath.iter().map(expand));
    let fits = |p: PathBuf| {
        let lib = elf::read(&p).filter(|d| d.machine == dynamic.machine)?;
        Some((p, lib))
    };
    if let Some(hit) = dirs.iter().map(|d| d.join(name)).find_map(fits) {
        return Ok(hit);
    }
    let cached = std::fs::read("/etc/ld.so.cache").unwrap_or_default();
    if let Some(hit) = ld_cache_paths(&cached, name).into_iter().find_map(fits) {
        return Ok(hit);
    }
    ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find_map(fits)
        .ok_or_else(|| format!("{name} not found where the dynamic loader looks"))
}

/// The paths `/etc/ld.so.cache` (glibc's `glibc-ld.so.cache1.1` format) lists for `name`.
pub fn ld_cache_paths(cache: &[u8], name: &str) -> Vec<PathBuf> {
    const MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
    // The new format may follow an old-format block; find its header.
    let Some(base) = cache.windows(MAGIC.len()).position(|w| w == MAGIC) else {
        return Vec::new();
    };
    let u32_at = |at: usize| -> Option<usize> {
        let b: [u8; 4] = cache.get(at..at + 4)?.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(b)).ok()
    };
    let cstr_at = |at: usize| -> Option<&[u8]> {
        let rest = cache.get(at..)?;
        Some(&rest[..rest.iter().position(|&c| c == 0)?])
    };
    let Some(count) = u32_at(base + 20) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Header: magic+version (20), nlibs, len_strings, flags+pad, extension offset, 3 unused.
    for i in 0..count.min(1 << 20) {
        let entry = base + 48 + i * 24;
        let (Some(key), Some(value)) = (u32_at(entry + 4), u32_at(entry + 8)) else {
            break;
        };
        // Offsets count from the start of the new-format header.
        if cstr_at(base + key) == Some(name.as_bytes())
            && let Some(path) = cstr_at(base + value)
        {
            out.push(PathBuf::from(String::from_utf8_lossy(path).into_owned()));
        }
    }
    out
}
