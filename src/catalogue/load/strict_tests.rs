//! Strict validation: a misspelt probe id, observation field or key, or a duplicate
//! requirement id is an error at its line and column, with the nearest known name suggested.

use super::*;

const BASE: &str = r#"id = "my-store"
name = "My store"
kind = "embedded"
summary = "A test profile."
docs = "https://example.org/docs"

[[requirement]]
id = "dir"
probe = "fs.mount"
scope = "data_dir"
effect = "block"
expect = { field = "class", none_of = ["windows-drive"] }
explain = "It needs a local dir."
remediation = "Use a local filesystem."
source = "https://example.org/locks"
"#;

fn error(text: &str) -> String {
    match load_str(Path::new("user.toml"), text) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted:\n{text}"),
    }
}

#[test]
fn the_base_profile_loads() {
    load_str(Path::new("user.toml"), BASE).unwrap();
}

#[test]
fn an_unknown_probe_id_is_an_error_at_its_line_with_a_suggestion() {
    let e = error(&BASE.replace("\"fs.mount\"", "\"file.creat\""));
    assert!(e.contains("line 9, column 9"), "{e}");
    assert!(e.contains("did you mean `file.create`"), "{e}");
}

#[test]
fn an_unknown_observation_field_is_an_error_with_a_suggestion() {
    let e = error(&BASE.replace("field = \"class\"", "field = \"clas\""));
    assert!(e.contains("line 12, column "), "{e}");
    assert!(
        e.contains("`clas`") && e.contains("did you mean `class`"),
        "{e}"
    );
}

#[test]
fn a_duplicate_requirement_id_is_an_error_at_the_second_one() {
    let second = BASE.split("[[requirement]]").nth(1).unwrap();
    let e = error(&format!("{BASE}\n[[requirement]]{second}"));
    assert!(e.contains("duplicate requirement id"), "{e}");
    assert!(e.contains("line 18, column 6"), "{e}");
}

#[test]
fn an_unknown_key_suggests_the_known_one() {
    let e = error(&BASE.replace("remediation =", "remedation ="));
    assert!(e.contains("line 14"), "{e}");
    assert!(e.contains("did you mean `remediation`"), "{e}");
}

#[test]
fn every_planned_observation_id_is_known_to_the_validator() {
    for id in [
        "lock.flock",
        "port:6333",
        "lockfile:LOCK",
        "net.egress",
        "uds.tmp",
    ] {
        assert!(
            super::documented::lookup(id).is_some(),
            "{id} is not documented"
        );
    }
}
