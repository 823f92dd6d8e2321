//! CI detection from the environment (`GITHUB_ACTIONS`, `GITLAB_CI`, `TF_BUILD`, …).

use super::Sourced;

/// Provider-specific variables, checked in this order before the generic `CI`.
const PROVIDERS: &[(&str, &str)] = &[
    ("GITHUB_ACTIONS", "github-actions"),
    ("GITLAB_CI", "gitlab-ci"),
    ("CIRCLECI", "circleci"),
    ("TF_BUILD", "azure-pipelines"),
    ("JENKINS_URL", "jenkins"),
    ("BUILDKITE", "buildkite"),
    ("TRAVIS", "travis"),
];

/// The CI system this runs under, or None. A variable counts when set to anything but
/// empty, `false` or `0`.
pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Option<Sourced<String>> {
    let is_set = |name: &str| {
        env(name)
            .is_some_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "false" | "0"))
    };
    for (var, provider) in PROVIDERS {
        if is_set(var) {
            return Some(Sourced::new(provider.to_string(), format!("env {var}")));
        }
    }
    is_set("CI").then(|| Sourced::new("ci".to_string(), "env CI"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn detect_with(vars: &[(&str, &str)]) -> Option<Sourced<String>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        detect(&|name| map.get(name).cloned())
    }

    #[test]
    fn names_the_provider_and_its_variable() {
        let gh = detect_with(&[("GITHUB_ACTIONS", "true"), ("CI", "true")]).expect("github");
        assert_eq!(gh.value, "github-actions");
        assert_eq!(gh.source, "env GITHUB_ACTIONS");
        assert_eq!(
            detect_with(&[("TF_BUILD", "True")])
                .map(|s| s.value)
                .as_deref(),
            Some("azure-pipelines")
        );
        assert_eq!(
            detect_with(&[("JENKINS_URL", "http://j/")])
                .map(|s| s.value)
                .as_deref(),
            Some("jenkins")
        );
        assert_eq!(
            detect_with(&[("CI", "1")]).map(|s| s.value).as_deref(),
            Some("ci")
        );
    }

    #[test]
    fn false_or_empty_values_do_not_count() {
        assert_eq!(detect_with(&[]), None);
        assert_eq!(detect_with(&[("CI", "false"), ("TRAVIS", "")]), None);
        assert_eq!(detect_with(&[("GITLAB_CI", "0")]), None);
    }
}
