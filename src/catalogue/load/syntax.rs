//! Syntax of the names a profile uses: observation id families and the scope each is observed
//! with, kebab-case ids, relative paths, and `source` references (URLs or owner/repo:path@ref).

use crate::catalogue::profile::ReqScope;

/// The scopes an observation id is reported with, or why the id is not of a documented family.
pub(crate) fn probe_scopes(probe: &str) -> Result<&'static [ReqScope], String> {
    const HOST: &[ReqScope] = &[ReqScope::Host];
    const DATA_DIR: &[ReqScope] = &[ReqScope::DataDir];
    if let Some(port) = probe.strip_prefix("port:") {
        return match port.parse::<u16>() {
            Ok(n) if n > 0 && !port.starts_with('0') => Ok(HOST),
            _ => Err(format!("`{probe}`: port must be 1-65535")),
        };
    }
    if let Some(path) = probe.strip_prefix("lockfile:") {
        return if is_relative_path(path) {
            Ok(DATA_DIR)
        } else {
            Err(format!("`{probe}`: needs a relative path"))
        };
    }
    if let Some(dir) = probe.strip_prefix("uds.socket_dir:") {
        return if is_absolute_dir(dir) {
            Ok(HOST)
        } else {
            Err(format!("`{probe}`: needs an absolute directory"))
        };
    }
    if let Some(kind) = probe.strip_prefix("store:") {
        return if crate::probe::stores::discover::KINDS.contains(&kind) {
            Ok(DATA_DIR)
        } else {
            Err(format!(
                "`{probe}`: store kind must be one of {}",
                crate::probe::stores::discover::KINDS.join(", ")
            ))
        };
    }
    match super::documented::lookup(probe) {
        Some(d) if !d.family => Ok(leak_scopes(&d.scopes)),
        _ => {
            let known: Vec<&str> = super::documented::all()
                .iter()
                .filter(|d| !d.family)
                .map(|d| d.id.as_str())
                .collect();
            Err(format!(
                "`{probe}` is not an observation id documented in docs/observations.md{}",
                crate::catalogue::suggest::hint(probe, known)
            ))
        }
    }
}

/// The documented scopes as one of the three static lists.
fn leak_scopes(scopes: &[ReqScope]) -> &'static [ReqScope] {
    const HOST: &[ReqScope] = &[ReqScope::Host];
    const DATA_DIR: &[ReqScope] = &[ReqScope::DataDir];
    const BOTH: &[ReqScope] = &[ReqScope::DataDir, ReqScope::Host];
    match (
        scopes.contains(&ReqScope::DataDir),
        scopes.contains(&ReqScope::Host),
    ) {
        (true, true) => BOTH,
        (true, false) => DATA_DIR,
        _ => HOST,
    }
}

pub(crate) fn scope_name(scope: ReqScope) -> &'static str {
    match scope {
        ReqScope::DataDir => "data_dir",
        ReqScope::Host => "host",
    }
}

pub(crate) fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

pub(crate) fn is_relative_path(path: &str) -> bool {
    !path.trim().is_empty()
        && !path.starts_with('/')
        && !path.starts_with('\\')
        && !path.contains(':')
        && !path.split(['/', '\\']).any(|part| part == "..")
}

/// An absolute Unix directory such as `/var/run/postgresql`: no `..`, no whitespace, not `/`.
pub(crate) fn is_absolute_dir(path: &str) -> bool {
    path.starts_with('/')
        && path.len() > 1
        && !path.chars().any(char::is_whitespace)
        && !path.split('/').any(|part| part == "..")
}

pub(crate) fn is_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.chars().any(char::is_whitespace))
}

/// `owner/repo:path` with an optional `@ref`.
fn is_repo_ref(text: &str) -> bool {
    let Some((repo, path)) = text.split_once(':') else {
        return false;
    };
    let Some((owner, name)) = repo.split_once('/') else {
        return false;
    };
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    word(owner) && word(name) && !path.is_empty() && !path.chars().any(char::is_whitespace)
}

pub(crate) fn is_source(source: &str) -> bool {
    !source.trim().is_empty()
        && source
            .split(';')
            .map(str::trim)
            .all(|part| is_url(part) || is_repo_ref(part) || is_own_file(part))
}

/// A file of this repository, e.g. `reports/calibration.md` (what the calibration measured):
/// a relative path with a directory and no whitespace, so prose is still rejected.
fn is_own_file(text: &str) -> bool {
    is_relative_path(text) && text.contains('/') && !text.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_families_and_scopes() {
        assert_eq!(probe_scopes("lock.flock"), Ok(&[ReqScope::DataDir][..]));
        assert_eq!(probe_scopes("port:6333"), Ok(&[ReqScope::Host][..]));
        assert_eq!(probe_scopes("lockfile:.lock"), Ok(&[ReqScope::DataDir][..]));
        assert_eq!(probe_scopes("uds.tmp"), Ok(&[ReqScope::Host][..]));
        assert_eq!(probe_scopes("uds.path_length").map(<[_]>::len), Ok(2));
        assert_eq!(
            probe_scopes("uds.socket_dir:/var/run/postgresql"),
            Ok(&[ReqScope::Host][..])
        );
        for bad in [
            "uds.socket_dir:run/postgresql",
            "uds.socket_dir:/",
            "uds.socket_dir:/a/../b",
            "port:0",
            "port:70000",
            "port:x",
            "lockfile:/abs",
            "lockfile:../up",
            "net.ingress",
            "lock.",
            "host.CPU",
            "fs.type",
        ] {
            assert!(probe_scopes(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn sources_ids_and_paths() {
        assert!(is_source("https://github.com/qdrant/qdrant/issues/7644"));
        assert!(is_source("qdrant/qdrant:lib/common/common/src/fs/check.rs"));
        assert!(is_source(
            "milvus-io/milvus-lite:python/src/milvus_lite/server.py@v2.5.1; https://x.org/a"
        ));
        assert!(!is_source(""));
        assert!(is_source(
            "reports/calibration-floors.json; reports/calibration.md"
        ));
        assert!(!is_source("tests/calibration: measured"));
        assert!(!is_source("the research notes"));
        assert!(!is_source("https://ok.org/a; see above"));
        assert!(is_kebab("milvus-lite") && is_kebab("qdrant-edge") && is_kebab("a1"));
        assert!(
            !is_kebab("Milvus")
                && !is_kebab("a--b")
                && !is_kebab("-a")
                && !is_kebab("a_b")
                && !is_kebab("")
        );
        assert!(is_relative_path("LOCK") && is_relative_path("wal/.lock"));
        assert!(
            !is_relative_path("/tmp/x") && !is_relative_path("../x") && !is_relative_path("C:\\x")
        );
    }
}
