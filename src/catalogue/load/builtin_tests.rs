//! Tests of the built-in catalogue: every profile loads, and uses only the observation ids,
//! fields, scopes and values documented in docs/observations.md.

use super::*;
use crate::catalogue::profile::{Effect, ReqScope};
use std::collections::BTreeSet;

pub(super) const EXPECTED_IDS: &[&str] = &[
    "milvus-lite",
    "milvus-standalone",
    "qdrant-server",
    "qdrant-local",
    "qdrant-edge",
    "chroma",
    "chroma-server",
    "lancedb",
    "faiss",
    "sqlite-vec",
    "usearch",
    "duckdb-vss",
    "pgvector",
    "redis",
    "weaviate-embedded",
    "elasticsearch",
    "pinecone",
];

fn loaded() -> Vec<Profile> {
    match builtin_checked() {
        Ok(profiles) => profiles,
        Err(e) => panic!("{e}"),
    }
}

/// One row of the observation table in docs/observations.md.
struct DocRow {
    id: String,
    scope: String,
    /// Backticked names in the `values` column (inherited from the row above for "same").
    fields: Vec<String>,
}

fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn doc_rows() -> Vec<DocRow> {
    let doc = include_str!("../../../docs/observations.md");
    let mut rows: Vec<DocRow> = Vec::new();
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert!(cells.len() >= 7, "unexpected table row: {line}");
        let values = cells[5];
        let fields = if values.starts_with("same") {
            rows.last().map(|r| r.fields.clone()).unwrap_or_default()
        } else {
            backticked(values)
        };
        rows.push(DocRow {
            id: cells[1].trim_matches('`').to_string(),
            scope: cells[2].to_string(),
            fields,
        });
    }
    assert!(
        rows.len() > 40,
        "observation table not found in docs/observations.md"
    );
    rows
}

fn doc_row<'a>(rows: &'a [DocRow], probe: &str) -> Option<&'a DocRow> {
    rows.iter().find(|row| match row.id.split_once('<') {
        Some((prefix, _)) => probe.starts_with(prefix) && probe.len() > prefix.len(),
        None => row.id == probe,
    })
}

#[test]
fn every_builtin_profile_parses_and_validates() {
    for (name, text) in BUILTIN {
        if let Err(e) = load_str(Path::new(name), text) {
            panic!("{e}");
        }
    }
    assert_eq!(builtin().len(), BUILTIN.len());
}

#[test]
fn the_json_the_build_compiles_loads_the_same_profiles_as_their_toml() {
    assert_eq!(BUILTIN_JSON.len(), BUILTIN.len());
    for ((name, _), json) in BUILTIN.iter().zip(BUILTIN_JSON) {
        assert!(
            serde_json::from_str::<Profile>(json).is_ok(),
            "{name}: build.rs compiled no usable JSON, so start-up parses the TOML"
        );
    }
    assert_eq!(builtin_checked().unwrap(), builtin_from_toml().unwrap());
}

#[test]
fn the_17_backends_are_present_one_file_each() {
    let profiles = loaded();
    let ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, EXPECTED_IDS);
    for ((name, _), profile) in BUILTIN.iter().zip(&profiles) {
        assert_eq!(
            *name,
            format!("{}.toml", profile.id),
            "file name must be the profile id"
        );
    }
    let on_disk: BTreeSet<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/probes"))
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
    let listed: BTreeSet<String> = BUILTIN.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(
        on_disk, listed,
        "every probes/*.toml must be in BUILTIN and vice versa"
    );
}

#[test]
fn requirements_use_documented_observations_fields_and_scopes() {
    let rows = doc_rows();
    for profile in loaded() {
        for r in &profile.requirements {
            let at = format!("{} / {}", profile.id, r.id);
            let Some(row) = doc_row(&rows, &r.probe) else {
                panic!("{at}: `{}` is not in docs/observations.md", r.probe)
            };
            let scope_word = match r.scope {
                ReqScope::DataDir => "data dir",
                ReqScope::Host => "host",
            };
            assert!(
                row.scope.contains(scope_word),
                "{at}: `{}` is documented with scope `{}`",
                r.probe,
                row.scope
            );
            if let Some(expect) = &r.expect {
                let first = expect.field.split('.').next().unwrap_or_default();
                assert!(
                    row.fields.iter().any(|f| f == first),
                    "{at}: `{}` has no field `{first}` ({:?})",
                    r.probe,
                    row.fields
                );
            }
        }
    }
}

#[test]
fn enumerated_values_are_the_documented_ones() {
    let rows = doc_rows();
    let Some(mount) = doc_row(&rows, "fs.mount") else {
        panic!("fs.mount row missing")
    };
    let Some(cpu) = doc_row(&rows, "host.cpu") else {
        panic!("host.cpu row missing")
    };
    let doc = include_str!("../../../docs/observations.md");
    let mount_line = doc
        .lines()
        .find(|l| l.starts_with("| `fs.mount`"))
        .unwrap_or_default();
    let cpu_line = doc
        .lines()
        .find(|l| l.starts_with("| `host.cpu`"))
        .unwrap_or_default();
    let classes = backticked(mount_line);
    let features = backticked(cpu_line);
    assert!(classes.iter().any(|c| c == "windows-drive") && features.iter().any(|f| f == "avx2"));
    for profile in loaded() {
        for r in &profile.requirements {
            let Some(expect) = &r.expect else { continue };
            let strings = expect
                .one_of
                .iter()
                .chain(&expect.none_of)
                .chain(&expect.equals)
                .filter_map(|v| v.as_str());
            if r.probe == mount.id && expect.field == "class" {
                for class in strings {
                    assert!(
                        classes.iter().any(|c| c == class),
                        "{}: unknown mount class `{class}`",
                        profile.id
                    );
                }
            } else if r.probe == cpu.id {
                for feature in &expect.contains_all {
                    assert!(
                        features.iter().any(|f| f == feature),
                        "{}: undocumented cpu feature `{feature}`",
                        profile.id
                    );
                }
            }
        }
    }
}

#[test]
fn catalogue_rules_hold_for_the_builtins() {
    for profile in loaded() {
        if profile.kind != crate::catalogue::profile::BackendKind::Cloud {
            assert!(
                !profile.requirements.is_empty(),
                "{} has no requirements",
                profile.id
            );
        }
        if profile.package.is_some() && profile.requirements.iter().any(|r| r.versions.is_some()) {
            assert!(
                profile.assumed_version.is_some(),
                "{}: version rules need an assumed_version",
                profile.id
            );
        }
        for r in &profile.requirements {
            // Facts marked unverified in the research may only degrade.
            if r.explain.contains("unverified") {
                assert_eq!(
                    r.effect,
                    Effect::Degrade,
                    "{} / {}: unverified facts cannot block",
                    profile.id,
                    r.id
                );
            }
        }
    }
}

#[test]
fn commands_in_remediation_are_code_spans() {
    // Markdown renders them as code, and a reader can copy them whole.
    for (name, text) in BUILTIN {
        let profile = load_str(Path::new(name), text).unwrap();
        for r in &profile.requirements {
            for command in ["sysctl -w", "pip install", "curl -", "ulimit -", "wsl -"] {
                for (at, _) in r.remediation.match_indices(command) {
                    let ticks = r.remediation[..at].matches('`').count();
                    assert!(
                        ticks % 2 == 1,
                        "{name} {}: `{command}` is not in a code span: {}",
                        r.id,
                        r.remediation
                    );
                }
            }
        }
    }
}
