//! PEP 440-ish versions (`2.4.10`, `3.0.0rc1`, `1.5`, `1.0.post2`, `2.6.0.dev1`) and version
//! ranges (`<2.4.12`, `>=3`, `>=2.4,<3`, `==2.5.1`, `==2.5.*`, `~=2.4.1`): parsing and numeric
//! comparison. Used to select version-specific requirements and to test `version_min`.

use std::cmp::Ordering;
use std::fmt;

/// Pre-release kind, in PEP 440 order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PreKind {
    Alpha,
    Beta,
    Rc,
}

/// A parsed version. Missing release components compare as zero (`1.5` == `1.5.0`).
#[derive(Clone, Debug)]
pub struct Version {
    pub release: Vec<u64>,
    pub pre: Option<(PreKind, u64)>,
    pub post: Option<u64>,
    pub dev: Option<u64>,
}

impl Version {
    /// Parses `[v]N(.N)*[{a|b|rc}N][.postN][.devN][+local]` (case-insensitive, `-`/`_`/`.`
    /// separators allowed before the suffixes). The local part is ignored.
    pub fn parse(text: &str) -> Result<Version, String> {
        let original = text;
        let text = text.trim().to_ascii_lowercase();
        let text = text.split('+').next().unwrap_or("");
        let text = text.strip_prefix('v').unwrap_or(text);
        let bad = |why: &str| format!("invalid version `{original}`: {why}");

        let release_end = release_end(text);
        let release_text = &text[..release_end];
        if release_text.is_empty() {
            return Err(bad("it must start with a number"));
        }
        let mut release = Vec::new();
        for part in release_text.split('.') {
            release.push(
                part.parse::<u64>()
                    .map_err(|_| bad("empty or oversized release component"))?,
            );
        }

        let mut version = Version {
            release,
            pre: None,
            post: None,
            dev: None,
        };
        let mut rest = &text[release_end..];
        while !rest.is_empty() {
            let after_sep = rest.trim_start_matches(['.', '-', '_']);
            let separator = &rest[..rest.len() - after_sep.len()];
            let (word, after_word) = split_alpha(after_sep);
            let (digits, after_number) =
                split_digits(after_word.trim_start_matches(['.', '-', '_']));
            let number = if digits.is_empty() {
                0
            } else {
                digits.parse::<u64>().map_err(|_| bad("oversized number"))?
            };
            match word {
                "a" | "alpha" | "b" | "beta" | "c" | "rc" | "pre" | "preview"
                    if version.pre.is_none() && version.post.is_none() && version.dev.is_none() =>
                {
                    let kind = match word {
                        "a" | "alpha" => PreKind::Alpha,
                        "b" | "beta" => PreKind::Beta,
                        _ => PreKind::Rc,
                    };
                    version.pre = Some((kind, number));
                }
                "post" | "rev" | "r" if version.post.is_none() && version.dev.is_none() => {
                    version.post = Some(number)
                }
                // `1.0-1` is an implicit post-release.
                "" if separator == "-"
                    && !digits.is_empty()
                    && version.post.is_none()
                    && version.dev.is_none() =>
                {
                    version.post = Some(number)
                }
                "dev" if version.dev.is_none() => version.dev = Some(number),
                _ => return Err(bad(&format!("unexpected `{rest}`"))),
            }
            rest = after_number;
        }
        Ok(version)
    }

    /// Release components padded with zeros to `len`.
    fn release_padded(&self, len: usize) -> impl Iterator<Item = u64> + '_ {
        self.release
            .iter()
            .copied()
            .chain(std::iter::repeat(0))
            .take(len)
    }

    /// Sort key of the pre/post/dev suffixes, as in PEP 440 (`1.0.dev0 < 1.0a1 < 1.0 < 1.0.post1`).
    fn suffix_key(&self) -> (i8, u8, u64, i64, u64) {
        let (phase, kind, pre_n) = match (self.pre, self.post, self.dev) {
            (None, None, Some(_)) => (-1, 0, 0),
            (Some((kind, n)), _, _) => (0, kind as u8, n),
            (None, _, _) => (1, 0, 0),
        };
        let post = self
            .post
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let dev = self.dev.unwrap_or(u64::MAX);
        (phase, kind, pre_n, post, dev)
    }

    /// True when this is a pre-release or development release.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }
}

/// End of the leading `N(.N)*` run (a trailing dot belongs to the suffix).
fn release_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            i += 1;
            end = i;
        } else if bytes[i] == b'.' && end == i && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
        } else {
            break;
        }
    }
    end
}

fn split_alpha(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    text.split_at(end)
}

fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.release.len().max(other.release.len());
        self.release_padded(len)
            .cmp(other.release_padded(len))
            .then_with(|| self.suffix_key().cmp(&other.suffix_key()))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let release: Vec<String> = self.release.iter().map(u64::to_string).collect();
        write!(f, "{}", release.join("."))?;
        if let Some((kind, n)) = self.pre {
            let tag = match kind {
                PreKind::Alpha => "a",
                PreKind::Beta => "b",
                PreKind::Rc => "rc",
            };
            write!(f, "{tag}{n}")?;
        }
        if let Some(n) = self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = self.dev {
            write!(f, ".dev{n}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `==X.Y.*`: same leading release components.
    Prefix,
    /// `~=X.Y.Z`: `>=X.Y.Z` and same `X.Y`.
    Compatible,
}

#[derive(Clone, Debug)]
struct Specifier {
    op: Op,
    version: Version,
}

impl Specifier {
    fn contains(&self, v: &Version) -> bool {
        match self.op {
            Op::Eq => v == &self.version,
            Op::Ne => v != &self.version,
            Op::Lt => v < &self.version,
            Op::Le => v <= &self.version,
            Op::Gt => v > &self.version,
            Op::Ge => v >= &self.version,
            Op::Prefix => starts_with(v, &self.version.release),
            Op::Compatible => {
                let keep = self.version.release.len().saturating_sub(1).max(1);
                v >= &self.version && starts_with(v, &self.version.release[..keep])
            }
        }
    }
}

fn starts_with(v: &Version, prefix: &[u64]) -> bool {
    v.release_padded(prefix.len().max(v.release.len()))
        .zip(prefix)
        .all(|(a, b)| a == *b)
}

/// A comma-separated conjunction of specifiers (`>=2.4,<3`).
#[derive(Clone, Debug)]
pub struct VersionRange {
    specifiers: Vec<Specifier>,
    text: String,
}

impl VersionRange {
    pub fn parse(text: &str) -> Result<VersionRange, String> {
        let mut specifiers = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("invalid version range `{text}`: empty specifier"));
            }
            let (op, rest) = [
                ("~=", Op::Compatible),
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("<", Op::Lt),
                (">", Op::Gt),
            ]
            .iter()
            .find_map(|(prefix, op)| part.strip_prefix(prefix).map(|rest| (*op, rest.trim())))
            .ok_or_else(|| format!("invalid version range `{text}`: `{part}` needs an operator (<, <=, >, >=, ==, !=, ~=)"))?;
            let (op, rest) = match (op, rest.strip_suffix(".*")) {
                (Op::Eq, Some(prefix)) => (Op::Prefix, prefix),
                (_, Some(_)) => {
                    return Err(format!(
                        "invalid version range `{text}`: `.*` only goes with =="
                    ));
                }
                (op, None) => (op, rest),
            };
            let version =
                Version::parse(rest).map_err(|e| format!("invalid version range `{text}`: {e}"))?;
            if op == Op::Compatible && version.release.len() < 2 {
                return Err(format!(
                    "invalid version range `{text}`: ~= needs at least two release components"
                ));
            }
            specifiers.push(Specifier { op, version });
        }
        Ok(VersionRange {
            specifiers,
            text: text.trim().to_string(),
        })
    }

    pub fn contains(&self, version: &Version) -> bool {
        self.specifiers.iter().all(|s| s.contains(version))
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Does `version` fall in `range`? Errors name whichever string does not parse.
pub fn matches(range: &str, version: &str) -> Result<bool, String> {
    Ok(VersionRange::parse(range)?.contains(&Version::parse(version)?))
}

/// Is `actual` at least `minimum` (`version_min` predicates: glibc `2.36` vs `2.28`)?
pub fn at_least(actual: &str, minimum: &str) -> Result<bool, String> {
    Ok(Version::parse(actual)? >= Version::parse(minimum)?)
}

#[cfg(test)]
#[path = "version_tests.rs"]
mod tests;
