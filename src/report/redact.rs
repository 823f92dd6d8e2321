//! `--redact`: replace the user name, home path and host name where the report shows them, so
//! it can be pasted publicly. Works on the finished report, so every format (table, JSON,
//! Markdown) is redacted the same way.
//!
//! Only host-derived text is touched (paths, mount sources and options, observation messages,
//! targets and values, host facts, a verdict's evidence); ids, enums, commands, explanations and
//! remediation belong to the tool and are never changed. A name that is also a word the report
//! itself uses (a host called `vm`, `docker` or `localhost`) identifies nobody and cannot be told
//! apart from those words, so it is replaced only where it stands as a host (`//vm/share`,
//! `user@vm`); a distinctive name is replaced wherever it stands as a word. Host names match in
//! any case (DNS names are case-insensitive), user names too (Windows, and Windows paths seen
//! from WSL, ignore case).

use super::Report;
use serde_json::Value;
use std::collections::BTreeSet;

mod identity;
pub use identity::Identity;

pub fn redact(report: &Report, id: &Identity) -> Report {
    let mut v = match serde_json::to_value(report) {
        Ok(v) => v,
        Err(_) => return report.clone(),
    };
    let vocabulary = report_vocabulary(&v);
    let redactor = Redactor::new(id, &vocabulary);
    if let Value::Object(sections) = &mut v {
        for (section, value) in sections.iter_mut() {
            match section.as_str() {
                "host" => redactor.host_section(value),
                "data_dirs" => redactor.all_strings_except(value, DATA_DIR_ENUMS),
                "probes" => redactor.keys(value, &["target", "message", "values"]),
                "backends" => redactor.keys(
                    value,
                    &["data_dir", "evidence", "observed", "holder", "target"],
                ),
                "run" => redactor.keys(value, &["host_root"]),
                _ => {}
            }
        }
    }
    let mut out: Report = serde_json::from_value(v).unwrap_or_else(|_| report.clone());
    out.run.redacted = true;
    out
}

/// Data-dir fields with schema-constrained or tool-owned values.
const DATA_DIR_ENUMS: &[&str] = &["type", "class", "statfs_magic", "source_of_facts"];
/// Host fields with schema-constrained values.
const HOST_ENUMS: &[&str] = &["os", "arch", "networking_mode", "runtime"];

/// Top-level directories of the filesystem hierarchy: names every report's paths use.
const SYSTEM_DIRS: &[&str] = &[
    "bin", "boot", "dev", "etc", "home", "lib", "media", "mnt", "opt", "proc", "root", "run",
    "sbin", "srv", "sys", "tmp", "usr", "var",
];

/// The words the report uses of its own: ids, names, explanations and remediation (split at
/// every non-alphanumeric character and also only at spaces and dots), plus system directories.
fn report_vocabulary(v: &Value) -> BTreeSet<String> {
    let mut words: BTreeSet<String> = SYSTEM_DIRS.iter().map(|s| s.to_string()).collect();
    let mut add = |s: &str| {
        let lower = s.to_ascii_lowercase();
        words.extend(
            lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_string),
        );
        words.extend(
            lower
                .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
                .filter(|w| !w.is_empty())
                .map(str::to_string),
        );
    };
    for p in v["probes"].as_array().into_iter().flatten() {
        p["id"].as_str().map(&mut add);
    }
    for b in v["backends"].as_array().into_iter().flatten() {
        for k in ["id", "name"] {
            b[k].as_str().map(&mut add);
        }
        for r in b["remediation"].as_array().into_iter().flatten() {
            r.as_str().map(&mut add);
        }
        for r in b["reasons"].as_array().into_iter().flatten() {
            for k in ["requirement", "probe", "explain", "remediation"] {
                r[k].as_str().map(&mut add);
            }
        }
    }
    words
}

/// One name to hide and how: everywhere as a word, or only where it stands as a host.
struct Name {
    lower: String,
    placeholder: &'static str,
    as_word: bool,
}

struct Redactor {
    homes: Vec<String>,
    names: Vec<Name>,
}

impl Redactor {
    fn new(id: &Identity, vocabulary: &BTreeSet<String>) -> Self {
        let mut names = Vec::new();
        let mut add = |list: &[String], placeholder| {
            for n in list.iter().filter(|n| !n.is_empty()) {
                let lower = n.to_ascii_lowercase();
                let as_word = !vocabulary.contains(&lower);
                names.push(Name {
                    lower,
                    placeholder,
                    as_word,
                });
            }
        };
        add(&id.hosts, "<host>");
        add(&id.users, "<user>");
        let mut homes: Vec<String> = id
            .homes
            .iter()
            .map(|h| h.trim_end_matches(['/', '\\']).to_string())
            .filter(|h| h.len() > 1)
            .collect();
        // Longest first, so /home/alice/work is not cut by /home/alice.
        homes.sort_by_key(|h| std::cmp::Reverse(h.len()));
        Redactor { homes, names }
    }

    fn host_section(&self, v: &mut Value) {
        self.all_strings_except(v, HOST_ENUMS)
    }

    /// Redact every string below `v` except under the given keys.
    fn all_strings_except(&self, v: &mut Value, keep: &[&str]) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.all_strings_except(x, keep)),
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if !keep.contains(&k.as_str()) {
                        self.all_strings_except(x, keep);
                    }
                }
            }
            _ => {}
        }
    }

    /// Redact every string below the given keys, at any depth of `v`.
    fn keys(&self, v: &mut Value, keys: &[&str]) {
        match v {
            Value::Array(a) => a.iter_mut().for_each(|x| self.keys(x, keys)),
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if keys.contains(&k.as_str()) {
                        self.all_strings_except(x, &[]);
                    } else {
                        self.keys(x, keys);
                    }
                }
            }
            _ => {}
        }
    }

    /// Home paths become `~`, then names become their placeholders.
    fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for home in &self.homes {
            out = replace_path_prefix(&out, home);
        }
        for n in &self.names {
            out = replace_name(&out, n);
        }
        out
    }
}

/// Replace `home` by `~` where it is followed by a separator, the end or a non-path character
/// (so `/home/al` does not cut `/home/alice`). Windows-style homes match in any case.
fn replace_path_prefix(s: &str, home: &str) -> String {
    let windows = home.contains('\\') || home.as_bytes().get(1) == Some(&b':');
    let (hay, needle) = if windows {
        (s.to_ascii_lowercase(), home.to_ascii_lowercase())
    } else {
        (s.to_string(), home.to_string())
    };
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = hay[from..].find(&needle).map(|p| p + from) {
        let end = pos + needle.len();
        let next = s[end..].chars().next();
        if next.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.')) {
            out.push_str(&s[last..pos]);
            out.push('~');
            last = end;
        }
        from = end;
    }
    out.push_str(&s[last..]);
    out
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Replace `name` (ASCII case-insensitive) where it stands alone: as a word when the name is
/// distinctive, only as a host (`//name/`, `\\name\`, `@name`) when it is also a report word.
fn replace_name(s: &str, n: &Name) -> String {
    let hay = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = hay[from..].find(&n.lower).map(|p| p + from) {
        let end = pos + n.lower.len();
        let before = s[..pos].chars().next_back();
        let after = s[end..].chars().next();
        let alone = !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char);
        let as_host = s[..pos].ends_with("//")
            || s[..pos].ends_with("\\\\")
            || before == Some('@')
            || s[..pos].ends_with("://");
        let host_end = after.is_none_or(|c| matches!(c, '/' | '\\' | ':' | ' ' | ')' | ','));
        if alone && (n.as_word || (as_host && host_end)) {
            out.push_str(&s[last..pos]);
            out.push_str(n.placeholder);
            last = end;
        }
        from = end;
    }
    out.push_str(&s[last..]);
    out
}

#[cfg(test)]
mod tests;
