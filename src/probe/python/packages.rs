//! Installed distributions, read from `*.dist-info/METADATA` (and `*.egg-info`) in
//! site-packages dirs, matched by PEP 503 normalized name. The first dir listing a package
//! wins, as the first `sys.path` entry would.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Packages reported when the catalogue names none.
pub const DEFAULT: &[&str] = &[
    "pymilvus",
    "milvus-lite",
    "qdrant-client",
    "qdrant-edge-py",
    "chromadb",
    "lancedb",
    "faiss-cpu",
    "sqlite-vec",
    "usearch",
    "duckdb",
    "psycopg",
    "psycopg2-binary",
    "redis",
    "weaviate-client",
    "pinecone",
    "pinecone-client",
    "grpcio",
    "setuptools",
];

/// PEP 503: lower-case, runs of `-`, `_`, `.` become one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Version of each wanted package (by the name as given), None when not installed.
pub fn installed(site_dirs: &[PathBuf], wanted: &[String]) -> Vec<(String, Option<String>)> {
    let mut by_norm: HashMap<String, Option<String>> =
        wanted.iter().map(|w| (normalize(w), None)).collect();
    for dir in site_dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str() else {
                continue;
            };
            let Some((dist, version)) = split_dist_name(name) else {
                continue;
            };
            let norm = normalize(dist);
            let Some(slot) = by_norm.get_mut(&norm) else {
                continue;
            };
            if slot.is_some() {
                continue;
            }
            let (meta_name, meta_version) = read_metadata(&entry.path());
            if meta_name.is_some_and(|n| n != norm) {
                continue; // the directory name lies; do not trust it
            }
            *slot = meta_version.or(version);
        }
    }
    wanted
        .iter()
        .map(|w| (w.clone(), by_norm.get(&normalize(w)).cloned().flatten()))
        .collect()
}

/// (`qdrant_client`, Some(`1.12.0`)) from `qdrant_client-1.12.0.dist-info` /
/// `foo-1.0-py3.11.egg-info`.
fn split_dist_name(entry: &str) -> Option<(&str, Option<String>)> {
    let stem = entry
        .strip_suffix(".dist-info")
        .or_else(|| entry.strip_suffix(".egg-info"))?;
    Some(match stem.split_once('-') {
        Some((name, rest)) => (name, rest.split('-').next().map(str::to_string)),
        None => (stem, None),
    })
}

/// (normalized `Name:`, `Version:`) from the metadata of a dist-info/egg-info entry.
fn read_metadata(entry: &Path) -> (Option<String>, Option<String>) {
    let file = if entry.is_dir() {
        ["METADATA", "PKG-INFO"]
            .iter()
            .map(|f| entry.join(f))
            .find(|p| p.is_file())
    } else {
        Some(entry.to_path_buf()) // a flat `.egg-info` file is the metadata itself
    };
    let Some(Ok(file)) = file.map(std::fs::File::open) else {
        return (None, None);
    };
    let (mut name, mut version) = (None, None);
    for line in BufReader::new(file).lines().take(200) {
        let Ok(line) = line else { break };
        if line.is_empty() {
            break; // end of the header block; the rest is the description
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(normalize(v));
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_string());
        }
        if name.is_some() && version.is_some() {
            break;
        }
    }
    (name, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_names_per_pep_503() {
        assert_eq!(normalize("Qdrant_Client"), "qdrant-client");
        assert_eq!(normalize("milvus.lite"), "milvus-lite");
        assert_eq!(normalize("psycopg2--binary"), "psycopg2-binary");
        assert_eq!(normalize("sqlite_vec"), "sqlite-vec");
    }

    #[test]
    fn splits_dist_info_and_egg_info_names() {
        assert_eq!(
            split_dist_name("qdrant_client-1.12.0.dist-info"),
            Some(("qdrant_client", Some("1.12.0".to_string())))
        );
        assert_eq!(
            split_dist_name("foo-1.0-py3.11.egg-info"),
            Some(("foo", Some("1.0".to_string())))
        );
        assert_eq!(split_dist_name("qdrant_client"), None);
    }

    #[test]
    fn reads_metadata_first_dir_wins_and_absent_is_none() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let put = |dir: &Path, entry: &str, meta: &str| {
            let d = dir.join(entry);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("METADATA"), meta).unwrap();
        };
        put(
            a.path(),
            "Sqlite_Vec-0.1.9.dist-info",
            "Metadata-Version: 2.1\nName: sqlite-vec\nVersion: 0.1.9\n\nVersion: 9.9\n",
        );
        put(
            b.path(),
            "sqlite_vec-0.1.1.dist-info",
            "Name: sqlite-vec\nVersion: 0.1.1\n",
        );
        // METADATA missing: the version in the directory name is used.
        std::fs::create_dir_all(b.path().join("grpcio-1.66.2.dist-info")).unwrap();
        std::fs::write(
            b.path().join("redis-5.0.1-py3.11.egg-info"),
            "Name: redis\nVersion: 5.0.1\n",
        )
        .unwrap();
        let wanted: Vec<String> = ["sqlite-vec", "GRPCIO", "redis", "lancedb"]
            .map(String::from)
            .to_vec();
        let got = installed(&[a.path().to_path_buf(), b.path().to_path_buf()], &wanted);
        assert_eq!(
            got,
            vec![
                ("sqlite-vec".to_string(), Some("0.1.9".to_string())),
                ("GRPCIO".to_string(), Some("1.66.2".to_string())),
                ("redis".to_string(), Some("5.0.1".to_string())),
                ("lancedb".to_string(), None),
            ]
        );
    }
}
