//! Tests of loading a user's profile: read and parse errors with file, line and column,
//! validation problems, and merging into the built-in catalogue.

use super::builtin_tests::EXPECTED_IDS;
use super::*;
use crate::catalogue::profile::{Effect, Expect, ReqScope, Requirement};

const MINIMAL: &str = r#"id = "my-store"
name = "My store"
kind = "embedded"
summary = "A test profile."
docs = "https://example.org/docs"

[[requirement]]
id = "flock"
probe = "lock.flock"
scope = "data_dir"
effect = "block"
explain = "It locks with flock."
remediation = "Use a local filesystem."
source = "https://example.org/locks"
"#;

fn parse_error(text: &str) -> (usize, usize, String) {
    match load_str(Path::new("user.toml"), text) {
        Err(LoadError::Parse {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn malformed_profile_reports_line_and_column() {
    let text = MINIMAL.replace("effect = \"block\"", "effect = \"block");
    let (line, column, message) = parse_error(&text);
    assert_eq!(line, 11, "{message}");
    assert!(column > 1, "{message}");
    let wrong_type = MINIMAL.replace("kind = \"embedded\"", "kind = 3");
    let (line, column, message) = parse_error(&wrong_type);
    assert_eq!((line, column), (3, 8), "{message}");
    let bad_enum = MINIMAL.replace("effect = \"block\"", "effect = \"warn\"");
    let (line, _, message) = parse_error(&bad_enum);
    assert_eq!(line, 11);
    assert!(
        message.contains("block") && message.contains("degrade"),
        "{message}"
    );
    let display = LoadError::Parse {
        path: "p/x.toml".into(),
        line: 4,
        column: 2,
        message: "boom".into(),
    }
    .to_string();
    assert_eq!(
        display,
        "malformed profile p/x.toml, line 4, column 2: boom"
    );
}

#[test]
fn unknown_fields_are_rejected_with_a_helpful_message() {
    let text = MINIMAL.replace("docs = ", "colour = \"red\"\ndocs = ");
    let (line, column, message) = parse_error(&text);
    assert_eq!((line, column), (5, 1), "{message}");
    assert!(message.contains("unknown field `colour`"), "{message}");
    assert!(
        message.contains("summary") && message.contains("requirement"),
        "should list the valid fields: {message}"
    );

    let nested = MINIMAL.replace("explain = ", "severity = \"high\"\nexplain = ");
    let (line, _, message) = parse_error(&nested);
    assert_eq!(line, 12, "{message}");
    assert!(
        message.contains("unknown field `severity`") && message.contains("remediation"),
        "{message}"
    );
}

#[cfg(unix)]
#[test]
fn unreadable_file_names_the_path_and_errno() {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("tempdir: {e}"),
    };
    let missing = dir.path().join("nope.toml");
    match load_file(&missing) {
        Err(e @ LoadError::Read { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("nope.toml") && text.contains("ENOENT"),
                "{text}"
            );
        }
        other => panic!("expected a read error, got {other:?}"),
    }
    let good = dir.path().join("good.toml");
    if let Err(e) = std::fs::write(&good, MINIMAL) {
        panic!("write: {e}");
    }
    assert!(matches!(load_file(&good), Ok(p) if p.id == "my-store"));
    // A directory is not a readable file either.
    assert!(matches!(load_file(dir.path()), Err(LoadError::Read { .. })));
}

fn requirement(id: &str, probe: &str, scope: ReqScope) -> Requirement {
    Requirement {
        id: id.into(),
        probe: probe.into(),
        scope,
        effect: Effect::Block,
        versions: None,
        os: vec![],
        arch: vec![],
        expect: None,
        errnos: vec![],
        violated_when_applicable: false,
        remediation_windows: None,
        explain: "Explained.".into(),
        remediation: "Fix it.".into(),
        source: "https://example.org".into(),
    }
}

fn problems(profile: &Profile) -> String {
    match validate(profile) {
        Ok(()) => panic!("{} should not validate", profile.id),
        Err(list) => list.join("\n"),
    }
}

#[test]
fn validate_lists_every_problem() {
    let mut profile = match parse_profile(Path::new("m.toml"), MINIMAL) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(validate(&profile), Ok(()));
    profile.id = "My_Store".into();
    profile
        .requirements
        .push(requirement("flock", "lock.flock", ReqScope::DataDir));
    profile
        .requirements
        .push(requirement("net", "net.ingress", ReqScope::Host));
    profile
        .requirements
        .push(requirement("wrong-scope", "port:6333", ReqScope::DataDir));
    let mut versioned = requirement("versioned", "python.packages", ReqScope::Host);
    versioned.versions = Some(">=2.4,<3.x".into());
    versioned.os = vec!["mac".into()];
    profile.requirements.push(versioned);
    let mut two = requirement("two-predicates", "fs.mount", ReqScope::DataDir);
    two.expect = Some(Expect {
        field: "class".into(),
        min: Some(1.0),
        max: Some(2.0),
        ..Default::default()
    });
    two.source = "see the research".into();
    two.errnos = vec!["os error 37".into()];
    profile.requirements.push(two);
    let mut always = requirement("always", "python.packages", ReqScope::Host);
    always.violated_when_applicable = true;
    always.explain = String::new();
    profile.requirements.push(always);
    let text = problems(&profile);
    for needle in [
        "id `My_Store` must be non-empty kebab-case",
        "requirement `flock`: duplicate requirement id",
        "`net.ingress` is not an observation id documented in docs/observations.md; did you mean `net.egress`?",
        "`port:6333` is observed with scope host, not data_dir",
        "`versions` needs the profile's `package`",
        "invalid version range `>=2.4,<3.x`",
        "os `mac` is not one of",
        "expect needs exactly one of",
        "source `see the research` must be URLs",
        "errno `os error 37` must be a symbolic name",
        "`violated_when_applicable` needs a `versions`, `os` or `arch` filter",
        "requirement `always`: `explain` is empty",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[test]
fn invalid_profile_file_is_reported_with_its_path() {
    let text = MINIMAL.replace(
        "probe = \"lock.flock\"",
        "probe = \"lock.flock\"\nversions = \">=1\"",
    );
    match load_str(Path::new("dir/user.toml"), &text) {
        Err(e @ LoadError::Invalid { .. }) => {
            let shown = e.to_string();
            assert!(
                shown.starts_with("invalid profile dir/user.toml:")
                    && shown.contains("needs the profile's `package`"),
                "{shown}"
            );
        }
        other => panic!("expected an invalid-profile error, got {other:?}"),
    }
}

#[test]
fn catalogue_merges_user_profiles_over_builtins() {
    let mut custom = match load_str(Path::new("m.toml"), MINIMAL) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let mut replacement = custom.clone();
    replacement.id = "qdrant-local".into();
    replacement.name = "My Qdrant local".into();
    let merged = match catalogue(&[replacement.clone(), custom.clone()]) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(merged.len(), EXPECTED_IDS.len() + 1);
    assert_eq!(
        merged[3], replacement,
        "a user profile replaces the built-in in place"
    );
    assert_eq!(merged.last().map(|p| p.id.as_str()), Some("my-store"));
    assert!(
        catalogue(&[custom.clone(), custom.clone()])
            .is_err_and(|e| e.contains("two user profiles"))
    );
    custom.id = "Bad Id".into();
    assert!(catalogue(&[custom]).is_err_and(|e| e.contains("kebab-case")));
    assert_eq!(catalogue(&[]).map(|m| m.len()), Ok(EXPECTED_IDS.len()));
}

#[test]
fn line_column_counts_characters() {
    let text = "a = 1\nnäme = 2\n";
    assert_eq!(line_column(text, 0), (1, 1));
    assert_eq!(line_column(text, 6), (2, 1));
    let after_umlaut = text.find("me").unwrap_or_default();
    assert_eq!(line_column(text, after_umlaut), (2, 3));
    assert_eq!(
        line_column(text, 7),
        (2, 2),
        "an offset inside a character rounds down"
    );
    assert_eq!(line_column(text, 999), (3, 1));
}

/// A socket in an absolute dir: a generated blocking requirement on `uds.socket_dir:<dir>`
/// unless the profile states its own; a requirement on a dir the profile does not list, or a
/// relative base, is refused.
#[test]
fn a_socket_dir_outside_the_data_dir_is_a_requirement_on_its_own_observation() {
    use crate::catalogue::profile::Socket;
    let mut profile = parse_profile(Path::new("m.toml"), MINIMAL).unwrap();
    profile.sockets.push(Socket {
        base: "/var/run/mystore".into(),
        name: ".s.MY.1".into(),
        versions: None,
        source: "https://example.org/socket".into(),
    });
    assert_eq!(validate(&profile), Ok(()));
    let generated = crate::catalogue::requirements::generated(&profile);
    let dir_req: Vec<&Requirement> = generated
        .iter()
        .filter(|r| r.probe.starts_with("uds."))
        .collect();
    assert_eq!(dir_req.len(), 1, "{dir_req:#?}");
    assert_eq!(dir_req[0].probe, "uds.socket_dir:/var/run/mystore");
    assert_eq!(
        (dir_req[0].scope, dir_req[0].effect),
        (ReqScope::Host, Effect::Block)
    );
    // The profile's own requirement on that dir replaces the generated one.
    profile.requirements.push(requirement(
        "own-socket-dir",
        "uds.socket_dir:/var/run/mystore",
        ReqScope::Host,
    ));
    assert_eq!(validate(&profile), Ok(()));
    assert!(
        !crate::catalogue::requirements::generated(&profile)
            .iter()
            .any(|r| r.probe.starts_with("uds."))
    );
    profile.requirements.push(requirement(
        "other-dir",
        "uds.socket_dir:/run/other",
        ReqScope::Host,
    ));
    profile.sockets.push(Socket {
        base: "run/relative".into(),
        name: "x.sock".into(),
        versions: None,
        source: "https://example.org/socket".into(),
    });
    let text = problems(&profile);
    for needle in [
        "add a [[sockets]] entry with base = \"/run/other\"",
        "`base` must be `data_dir`, `tmp` or an absolute directory, not `run/relative`",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}
