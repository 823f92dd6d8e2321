//! `expect` predicates: a requirement's test of one field of an observation's values.

use super::profile::Expect;
use crate::observation::Observation;
use serde_json::Value;

#[derive(Debug, PartialEq)]
pub enum ExpectOutcome {
    Holds,
    /// The predicate is false; the text says what was seen.
    Fails(String),
    /// The field was absent or null.
    Missing(String),
}

pub fn evaluate(ex: &Expect, obs: &Observation) -> ExpectOutcome {
    let field = &ex.field;
    let value = match obs.value(field) {
        Some(v) if !v.is_null() => v,
        _ => {
            return match ex.missing.as_deref() {
                Some("satisfied") => ExpectOutcome::Holds,
                Some("violated") => ExpectOutcome::Fails(format!("{field} is not reported")),
                _ => ExpectOutcome::Missing(format!("{field} was not observed")),
            };
        }
    };
    let shown = show(value);
    if let Some(eq) = &ex.equals {
        let want = toml_to_json(eq);
        if !same(value, &want) {
            return ExpectOutcome::Fails(format!("{field} is {shown}, expected {}", show(&want)));
        }
    }
    if !ex.one_of.is_empty() {
        let wants: Vec<Value> = ex.one_of.iter().map(toml_to_json).collect();
        if !wants.iter().any(|w| same(value, w)) {
            return ExpectOutcome::Fails(format!(
                "{field} is {shown}, expected one of {}",
                list(&wants)
            ));
        }
    }
    if !ex.none_of.is_empty() {
        let bad: Vec<Value> = ex.none_of.iter().map(toml_to_json).collect();
        if bad.iter().any(|w| same(value, w)) {
            return ExpectOutcome::Fails(format!("{field} is {shown}"));
        }
    }
    if ex.min.is_some() || ex.max.is_some() {
        let Some(n) = value.as_f64() else {
            return ExpectOutcome::Missing(format!("{field} is {shown}, not a number"));
        };
        let min = match (ex.min, ex.min_per_cpu) {
            (Some(min), Some(per)) => match obs.value("logical_cpus").and_then(Value::as_f64) {
                Some(cpus) => Some(min + per * cpus),
                None => {
                    return ExpectOutcome::Missing(
                        "logical_cpus was not observed (the minimum grows with it)".into(),
                    );
                }
            },
            (min, _) => min,
        };
        if let Some(min) = min
            && n < min
        {
            let per_cpu = match ex.min_per_cpu {
                Some(per) => format!(" ({} + {per} per logical CPU)", ex.min.unwrap_or(0.0)),
                None => String::new(),
            };
            return ExpectOutcome::Fails(format!(
                "{field} is {shown}, below the minimum {min}{per_cpu}"
            ));
        }
        if let Some(max) = ex.max
            && n > max
        {
            return ExpectOutcome::Fails(format!("{field} is {shown}, above the maximum {max}"));
        }
    }
    if !ex.contains_all.is_empty() {
        let have: Vec<String> = value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default();
        let missing: Vec<&String> = ex
            .contains_all
            .iter()
            .filter(|w| !have.contains(&w.to_ascii_lowercase()))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            return ExpectOutcome::Fails(format!("{field} lacks {}", names.join(", ")));
        }
    }
    if let Some(min) = &ex.version_min {
        let Some(have) = value.as_str() else {
            return ExpectOutcome::Missing(format!("{field} is {shown}, not a version"));
        };
        match super::version::at_least(have, min) {
            Ok(false) => {
                return ExpectOutcome::Fails(format!("{field} is {have}, below the minimum {min}"));
            }
            Ok(true) => {}
            Err(_) => {
                return ExpectOutcome::Missing(format!(
                    "{field} is {have}, not a comparable version"
                ));
            }
        }
    }
    ExpectOutcome::Holds
}

pub fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
            _ => a == b,
        },
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn list(vs: &[Value]) -> String {
    vs.iter().map(show).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Observation;

    fn obs() -> Observation {
        Observation::pass("x", "host", "m")
            .with("class", "windows-drive")
            .with("n", 65530)
            .with("features", serde_json::json!(["sse4_2", "avx"]))
            .with("glibc", "2.27")
            .with("fits", serde_json::json!({"redis": false}))
    }
    fn ex(field: &str) -> Expect {
        Expect {
            field: field.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_minimum_per_cpu_grows_with_the_cpus_the_observation_reports() {
        let e = Expect {
            min: Some(10.0),
            min_per_cpu: Some(3.0),
            ..ex("available")
        };
        let on = |cpus: u32, available: u32| {
            Observation::pass("limits.pids", "host", "m")
                .with("available", available)
                .with("logical_cpus", cpus)
        };
        assert_eq!(evaluate(&e, &on(2, 16)), ExpectOutcome::Holds);
        assert_eq!(
            evaluate(&e, &on(16, 16)),
            ExpectOutcome::Fails(
                "available is 16, below the minimum 58 (10 + 3 per logical CPU)".into()
            )
        );
        let unknown_cpus = Observation::pass("limits.pids", "host", "m").with("available", 99);
        assert!(matches!(
            evaluate(&e, &unknown_cpus),
            ExpectOutcome::Missing(_)
        ));
    }

    #[test]
    fn predicates_hold_and_fail_as_documented() {
        let o = obs();
        let e = Expect {
            none_of: vec![toml::Value::String("windows-drive".into())],
            ..ex("class")
        };
        assert!(matches!(evaluate(&e, &o), ExpectOutcome::Fails(_)));
        let e = Expect {
            one_of: vec![toml::Value::String("local".into())],
            ..ex("class")
        };
        assert!(matches!(evaluate(&e, &o), ExpectOutcome::Fails(_)));
        let e = Expect {
            min: Some(262144.0),
            ..ex("n")
        };
        assert_eq!(
            evaluate(&e, &o),
            ExpectOutcome::Fails("n is 65530, below the minimum 262144".into())
        );
        let e = Expect {
            min: Some(1000.0),
            ..ex("n")
        };
        assert_eq!(evaluate(&e, &o), ExpectOutcome::Holds);
        let e = Expect {
            contains_all: vec!["avx2".into(), "sse4_2".into()],
            ..ex("features")
        };
        assert_eq!(
            evaluate(&e, &o),
            ExpectOutcome::Fails("features lacks avx2".into())
        );
        let e = Expect {
            version_min: Some("2.28".into()),
            ..ex("glibc")
        };
        assert!(matches!(evaluate(&e, &o), ExpectOutcome::Fails(_)));
        let e = Expect {
            equals: Some(toml::Value::Boolean(true)),
            ..ex("fits.redis")
        };
        assert!(matches!(evaluate(&e, &o), ExpectOutcome::Fails(_)));
    }

    #[test]
    fn a_missing_field_is_unobserved_unless_the_profile_says_otherwise() {
        let o = obs();
        assert!(matches!(
            evaluate(&ex("nope"), &o),
            ExpectOutcome::Missing(_)
        ));
        let e = Expect {
            missing: Some("satisfied".into()),
            ..ex("nope")
        };
        assert_eq!(evaluate(&e, &o), ExpectOutcome::Holds);
    }
}
