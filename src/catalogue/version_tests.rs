//! Unit tests for version parsing, ordering and ranges.

use super::*;

fn v(text: &str) -> Version {
    match Version::parse(text) {
        Ok(version) => version,
        Err(e) => panic!("{e}"),
    }
}

fn in_range(range: &str, version: &str) -> bool {
    match matches(range, version) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn parses_release_and_suffixes() {
    assert_eq!(v("2.4.10").release, vec![2, 4, 10]);
    let rc = v("3.0.0rc1");
    assert_eq!(rc.release, vec![3, 0, 0]);
    assert_eq!(rc.pre, Some((PreKind::Rc, 1)));
    assert_eq!(v("1.0.post2").post, Some(2));
    assert_eq!(v("1.0-3").post, Some(3));
    assert_eq!(v("2.6.0.dev1").dev, Some(1));
    assert_eq!(v("v1.5").release, vec![1, 5]);
    assert_eq!(v("1.2.2.20250921.post0").release, vec![1, 2, 2, 20250921]);
    assert_eq!(v("1.0+local.7").release, vec![1, 0]);
    assert_eq!(v("1.0.0-beta.2").pre, Some((PreKind::Beta, 2)));
    assert_eq!(v("3.0.0RC1").to_string(), "3.0.0rc1");
}

#[test]
fn rejects_garbage() {
    for bad in [
        "",
        "abc",
        "1.x",
        "1.0.",
        "1..2",
        "1.0-",
        "1.0rc1rc2",
        "1.0.post1a1",
        "99999999999999999999999",
    ] {
        assert!(Version::parse(bad).is_err(), "{bad:?} should not parse");
    }
}

#[test]
fn orders_numerically_not_lexically() {
    assert!(v("2.4.10") > v("2.4.9"));
    assert!(v("2.4.12") > v("2.4.10"));
    assert!(v("10.0") > v("9.99"));
    assert_eq!(v("1.5"), v("1.5.0"));
    assert_eq!(v("2"), v("2.0.0.0"));
    assert!(v("2.28") > v("2.17"));
}

#[test]
fn orders_pre_post_dev_as_pep440() {
    let ordered = [
        "1.0.dev0",
        "1.0a1",
        "1.0a2.dev1",
        "1.0a2",
        "1.0b1",
        "1.0rc1",
        "1.0",
        "1.0.post1.dev0",
        "1.0.post1",
        "1.1",
    ];
    for pair in ordered.windows(2) {
        assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
    }
}

#[test]
fn ranges_select_versions() {
    assert!(in_range("<2.4.12", "2.4.10"));
    assert!(!in_range("<2.4.12", "2.4.12"));
    assert!(!in_range("<2.4.12", "2.5.1"));
    assert!(in_range(">=3", "3.2.2"));
    assert!(in_range(">=3", "3.0.0"));
    assert!(
        !in_range(">=3", "3.0.0rc1"),
        "a release candidate of 3.0.0 sorts before 3.0.0"
    );
    assert!(!in_range(">=3", "2.5.1"));
    assert!(in_range(">=2.4,<3", "2.4.0"));
    assert!(in_range(">=2.4, <3", "2.5.1"));
    assert!(!in_range(">=2.4,<3", "3.0"));
    assert!(!in_range(">=2.4,<3", "2.3.9"));
    assert!(in_range("==2.5.1", "2.5.1"));
    assert!(in_range("==2.5", "2.5.0"));
    assert!(!in_range("==2.5.1", "2.5.10"));
    assert!(in_range("!=2.5.1", "2.5.0"));
    assert!(in_range(">0.33.0", "0.40.0"));
    assert!(!in_range(">0.33.0", "0.33.0"));
    assert!(in_range("<=1.10.0", "1.10"));
}

#[test]
fn wildcard_and_compatible_ranges() {
    assert!(in_range("==2.5.*", "2.5.1"));
    assert!(in_range("==2.5.*", "2.5"));
    assert!(!in_range("==2.5.*", "2.6.0"));
    assert!(in_range("~=2.4.1", "2.4.9"));
    assert!(!in_range("~=2.4.1", "2.5.0"));
    assert!(!in_range("~=2.4.1", "2.4.0"));
    assert!(in_range("~=2.4", "2.9"));
    assert!(!in_range("~=2.4", "3.0"));
}

#[test]
fn rejects_bad_ranges() {
    for bad in ["2.4", "<", ">=2.4,", "=>2", "<2.x", ">=2.*", "~=2", ""] {
        assert!(
            VersionRange::parse(bad).is_err(),
            "{bad:?} should not parse"
        );
    }
    match VersionRange::parse(">=2.4,<3.x") {
        Err(e) => assert!(e.contains("3.x"), "{e}"),
        Ok(_) => panic!("must not parse"),
    }
}

#[test]
fn at_least_compares_versions() {
    assert_eq!(at_least("2.36", "2.28"), Ok(true));
    assert_eq!(at_least("2.17", "2.28"), Ok(false));
    assert_eq!(at_least("3.10.12", "3.10"), Ok(true));
    assert_eq!(at_least("3.9.18", "3.10"), Ok(false));
    assert!(at_least("glibc", "2.28").is_err());
}
