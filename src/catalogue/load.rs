//! Loading backend profiles: the built-in catalogue compiled in from `probes/*.toml`, a user's
//! `--profile FILE` (errors name the file, line and column), validation, and merging the two.

use super::profile::Profile;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod documented;
mod syntax;
mod validate;
pub use validate::{Locus, validate, validate_located};

/// The built-in profiles: (file name, contents) of every `probes/*.toml`.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "milvus-lite.toml",
        include_str!("../../probes/milvus-lite.toml"),
    ),
    (
        "milvus-standalone.toml",
        include_str!("../../probes/milvus-standalone.toml"),
    ),
    (
        "qdrant-server.toml",
        include_str!("../../probes/qdrant-server.toml"),
    ),
    (
        "qdrant-local.toml",
        include_str!("../../probes/qdrant-local.toml"),
    ),
    (
        "qdrant-edge.toml",
        include_str!("../../probes/qdrant-edge.toml"),
    ),
    ("chroma.toml", include_str!("../../probes/chroma.toml")),
    (
        "chroma-server.toml",
        include_str!("../../probes/chroma-server.toml"),
    ),
    ("lancedb.toml", include_str!("../../probes/lancedb.toml")),
    ("faiss.toml", include_str!("../../probes/faiss.toml")),
    (
        "sqlite-vec.toml",
        include_str!("../../probes/sqlite-vec.toml"),
    ),
    ("usearch.toml", include_str!("../../probes/usearch.toml")),
    (
        "duckdb-vss.toml",
        include_str!("../../probes/duckdb-vss.toml"),
    ),
    ("pgvector.toml", include_str!("../../probes/pgvector.toml")),
    ("redis.toml", include_str!("../../probes/redis.toml")),
    (
        "weaviate-embedded.toml",
        include_str!("../../probes/weaviate-embedded.toml"),
    ),
    (
        "elasticsearch.toml",
        include_str!("../../probes/elasticsearch.toml"),
    ),
    ("pinecone.toml", include_str!("../../probes/pinecone.toml")),
];

/// The same profiles compiled to JSON by build.rs, in BUILTIN's order (empty: that TOML did
/// not parse at build time). Deserializing JSON takes a fraction of parsing the TOML.
const BUILTIN_JSON: &[&str] = &[
    include_str!(concat!(env!("OUT_DIR"), "/probes/milvus-lite.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/milvus-standalone.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/qdrant-server.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/qdrant-local.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/qdrant-edge.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/chroma.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/chroma-server.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/lancedb.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/faiss.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/sqlite-vec.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/usearch.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/duckdb-vss.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/pgvector.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/redis.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/weaviate-embedded.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/elasticsearch.json")),
    include_str!(concat!(env!("OUT_DIR"), "/probes/pinecone.json")),
];

/// Why a profile could not be loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadError {
    /// The file could not be read.
    Read {
        path: PathBuf,
        errno: String,
        message: String,
    },
    /// Not TOML, or not the profile schema (unknown field, wrong type, missing field).
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// Parsed, but breaks a catalogue rule (see [`validate`]).
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Read {
                path,
                errno,
                message,
            } => {
                write!(
                    f,
                    "cannot read profile {}: {errno} ({message})",
                    crate::host::shown(path)
                )
            }
            LoadError::Parse {
                path,
                line,
                column,
                message,
            } => {
                write!(
                    f,
                    "malformed profile {}, line {line}, column {column}: {message}",
                    crate::host::shown(path)
                )
            }
            LoadError::Invalid { path, problems } => {
                write!(
                    f,
                    "invalid profile {}: {}",
                    crate::host::shown(path),
                    problems.join("; ")
                )
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Parses profile text; `path` only names the source in errors. Does not validate.
pub fn parse_profile(path: &Path, text: &str) -> Result<Profile, LoadError> {
    toml::from_str::<Profile>(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((1, 1), |span| line_column(text, span.start));
        LoadError::Parse {
            path: path.to_path_buf(),
            line,
            column,
            message: with_key_hint(e.message().trim()),
        }
    })
}

/// serde's "unknown field `x`, expected one of `a`, `b`" plus the nearest known key.
fn with_key_hint(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    format!("{message}{}", super::suggest::hint(unknown, known))
}

/// Line and column of a requirement's key (the start of its value) in the profile text: the
/// `index`-th `[[requirement]]` table, then the line of `key` in it (inside an inline `expect`
/// table, its `field`). Falls back to the table's header, or line 1.
pub fn locate(text: &str, locus: Locus) -> (usize, usize) {
    let mut offset = 0;
    let mut table: Option<usize> = None;
    let mut seen = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if table.is_some() {
                break;
            }
            if trimmed.starts_with("[[requirement]]") {
                if seen == locus.requirement {
                    table = Some(offset);
                }
                seen += 1;
            }
        } else if table.is_some()
            && let Some(after) = trimmed.strip_prefix(locus.key)
            && after.trim_start().starts_with('=')
        {
            let start = offset + (line.len() - trimmed.len()) + locus.key.len();
            let value = &text[start..];
            let eq = value.find('=').unwrap_or(0) + 1;
            let mut at = start + eq + (value[eq..].len() - value[eq..].trim_start().len());
            if locus.key == "expect"
                && let Some(f) = line.find("field")
            {
                let rest = &line[f..];
                let v = rest.find('=').map_or(0, |e| {
                    e + 1 + (rest[e + 1..].len() - rest[e + 1..].trim_start().len())
                });
                at = offset + f + v;
            }
            return line_column(text, at);
        }
        offset += line.len();
    }
    line_column(text, table.unwrap_or(0))
}

/// Parses and validates profile text.
pub fn load_str(path: &Path, text: &str) -> Result<Profile, LoadError> {
    checked(path, text, parse_profile(path, text)?)
}

/// Validates a parsed profile; problems are located in its `text`.
fn checked(path: &Path, text: &str, profile: Profile) -> Result<Profile, LoadError> {
    let problems: Vec<String> = validate_located(&profile)
        .into_iter()
        .map(|(locus, problem)| match locus {
            Some(locus) => {
                let (line, column) = locate(text, locus);
                format!("line {line}, column {column}: {problem}")
            }
            None => problem,
        })
        .collect();
    if !problems.is_empty() {
        return Err(LoadError::Invalid {
            path: path.to_path_buf(),
            problems,
        });
    }
    Ok(profile)
}

/// The largest `--profile` file read (the built-in ones are a few KiB).
pub const PROFILE_MAX_BYTES: u64 = 1024 * 1024;
/// How long reading one `--profile` may take (a profile on a hung mount).
pub const PROFILE_READ_LIMIT: Duration = Duration::from_secs(2);

/// Loads a user's `--profile FILE`: read (a regular file of at most PROFILE_MAX_BYTES, within
/// PROFILE_READ_LIMIT: a FIFO, `/dev/stdin`, `/dev/zero` or a hung mount is refused, never
/// waited on), parse, validate.
pub fn load_file(path: &Path) -> Result<Profile, LoadError> {
    let read_error = |errno: String, message: String| LoadError::Read {
        path: path.to_path_buf(),
        errno,
        message,
    };
    let bytes = crate::bounded::read_regular_file(path, PROFILE_MAX_BYTES, PROFILE_READ_LIMIT)
        .map_err(|e| read_error(e.errno, e.message))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| read_error("EILSEQ".into(), "not UTF-8 text".into()))?;
    load_str(path, &text)
}

/// The built-in profiles, each parsed (from its JSON form) and validated; the first failure
/// is returned. A profile whose JSON is missing or does not deserialize is parsed from its
/// TOML, which names the line of the error.
pub fn builtin_checked() -> Result<Vec<Profile>, LoadError> {
    BUILTIN
        .iter()
        .zip(BUILTIN_JSON)
        .map(|((name, text), json)| {
            let path = Path::new("probes").join(name);
            match serde_json::from_str::<Profile>(json) {
                Ok(profile) => checked(&path, text, profile),
                Err(_) => load_str(&path, text),
            }
        })
        .collect()
}

/// The built-in profiles parsed from their TOML (as `--profile` files are), for the tests
/// that hold the JSON form to it.
pub fn builtin_from_toml() -> Result<Vec<Profile>, LoadError> {
    BUILTIN
        .iter()
        .map(|(name, text)| load_str(&Path::new("probes").join(name), text))
        .collect()
}

/// The built-in profiles. The tests guarantee every file loads; should one ever fail, it is left
/// out here and [`catalogue`] (which uses [`builtin_checked`]) reports the error.
pub fn builtin() -> Vec<Profile> {
    BUILTIN
        .iter()
        .filter_map(|(name, text)| load_str(&Path::new("probes").join(name), text).ok())
        .collect()
}

/// The catalogue to judge: the built-in profiles plus the user's. A user profile with a built-in
/// id replaces it in place; new ids come after the built-ins, in the order given.
pub fn catalogue(extra: &[Profile]) -> Result<Vec<Profile>, String> {
    let mut profiles = builtin_checked().map_err(|e| e.to_string())?;
    let mut seen_extra: Vec<&str> = Vec::new();
    for profile in extra {
        if seen_extra.contains(&profile.id.as_str()) {
            return Err(format!("two user profiles have the id `{}`", profile.id));
        }
        seen_extra.push(&profile.id);
        validate(profile).map_err(|problems| {
            format!("invalid profile `{}`: {}", profile.id, problems.join("; "))
        })?;
        match profiles.iter_mut().find(|p| p.id == profile.id) {
            Some(existing) => *existing = profile.clone(),
            None => profiles.push(profile.clone()),
        }
    }
    Ok(profiles)
}

#[cfg(test)]
mod builtin_tests;
#[cfg(test)]
mod strict_tests;
#[cfg(test)]
mod user_tests;
