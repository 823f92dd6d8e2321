//! pyenv shims resolved the way `pyenv exec` would, from pyenv's own files, so the slow
//! shim (a bash script) never has to be run: `PYENV_VERSION`, then `.python-version` from the
//! current dir upwards, then `<root>/version`; the first version providing the program wins.

use super::discover::{Env, set};
use std::path::{Path, PathBuf};

/// `<root>` when `path` is `<root>/shims/<name>` and `<root>/versions` exists.
pub fn root_of_shim(path: &Path) -> Option<PathBuf> {
    let shims = path.parent()?;
    if shims.file_name()? != "shims" {
        return None;
    }
    let root = shims.parent()?;
    root.join("versions").is_dir().then(|| root.to_path_buf())
}

/// pyenv's version selection (PYENV_VERSION, `.python-version` up from cwd, `<root>/version`);
/// the first selected version that provides the program wins, as in `pyenv exec`.
pub fn resolve_shim(
    root: &Path,
    shim: &Path,
    env: Env,
    cwd: Option<&Path>,
) -> Option<(PathBuf, String)> {
    let program = shim.file_name()?;
    let (names, source) = if let Some(v) = set(env, "PYENV_VERSION") {
        (v, "PYENV_VERSION".to_string())
    } else if let Some((file, text)) = cwd.and_then(local_version_file) {
        (text, crate::host::shown(&file))
    } else {
        let file = root.join("version");
        (
            std::fs::read_to_string(&file).ok()?,
            crate::host::shown(&file),
        )
    };
    let versions = names
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.split([':', ' ', '\t']))
        .filter(|v| !v.is_empty());
    for v in versions {
        if v == "system" {
            let path_var = env("PATH").unwrap_or_default();
            let shims = root.join("shims");
            let rest: Vec<PathBuf> = std::env::split_paths(&path_var)
                .filter(|d| *d != shims)
                .collect();
            let rest = std::env::join_paths(rest).ok()?;
            let name = program.to_str()?;
            if let Some(p) = super::super::docker::find_on_path(&rest, &[name]) {
                return Some((p, format!("version `system` from {source}")));
            }
            continue;
        }
        let candidate = root.join("versions").join(v).join("bin").join(program);
        if candidate.is_file() {
            return Some((candidate, format!("version {v} from {source}")));
        }
    }
    None
}

fn local_version_file(cwd: &Path) -> Option<(PathBuf, String)> {
    cwd.ancestors().find_map(|d| {
        let f = d.join(".python-version");
        std::fs::read_to_string(&f).ok().map(|t| (f, t))
    })
}
