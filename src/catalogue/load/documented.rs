//! The observation ids and their `values` fields, as `docs/observations.md` documents them: the
//! one list the strict profile validator checks `probe` and `expect.field` against. A new probe
//! documents its ids there (a test checks every planned id is documented), and profiles may then
//! use them; the validator needs no edit.

use crate::catalogue::profile::ReqScope;
use std::sync::OnceLock;

const OBSERVATIONS_MD: &str = include_str!("../../../docs/observations.md");

/// One documented observation id (or id family such as `port:<N>`).
#[derive(Debug)]
pub struct Documented {
    /// The id, or for a family the part before `<…>` (`port:`).
    pub id: String,
    pub family: bool,
    pub scopes: Vec<ReqScope>,
    /// Top-level names of `values` (an `expect.field` path starts with one of them).
    pub fields: Vec<String>,
}

pub fn all() -> &'static [Documented] {
    static ALL: OnceLock<Vec<Documented>> = OnceLock::new();
    ALL.get_or_init(|| parse(OBSERVATIONS_MD))
}

/// The documented entry an observation id belongs to.
pub fn lookup(id: &str) -> Option<&'static Documented> {
    all()
        .iter()
        .find(|d| !d.family && d.id == id)
        .or_else(|| all().iter().find(|d| d.family && id.starts_with(&d.id)))
}

/// The rows of the id table: `| \`id\` | scope | module | status | values |`.
fn parse(md: &str) -> Vec<Documented> {
    let mut out: Vec<Documented> = Vec::new();
    for line in md.lines().filter(|l| l.starts_with("| `")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() < 6 {
            continue;
        }
        let raw = cols[1].trim_matches('`');
        let (id, family) = match raw.find('<') {
            Some(i) => (raw[..i].to_string(), true),
            None => (raw.to_string(), false),
        };
        let mut scopes = Vec::new();
        if cols[2].contains("data dir") {
            scopes.push(ReqScope::DataDir);
        }
        if cols[2].contains("host") {
            scopes.push(ReqScope::Host);
        }
        let fields = if cols[5] == "same" {
            out.last().map(|d| d.fields.clone()).unwrap_or_default()
        } else {
            top_level_names(cols[5])
        };
        out.push(Documented {
            id,
            family,
            scopes,
            fields,
        });
    }
    out
}

/// Backquoted names outside brackets: in "`libc` (`glibc`/`musl`)" only `libc` is a field.
fn top_level_names(values: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0i32;
    let mut in_code = false;
    let mut current = String::new();
    for c in values.chars() {
        match c {
            '`' if in_code => {
                in_code = false;
                let name = std::mem::take(&mut current);
                let plain = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if depth == 0 && plain {
                    names.push(name);
                }
            }
            '`' => in_code = true,
            _ if in_code => current.push(c),
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_the_top_level_names_only() {
        let d = lookup("host.platform").unwrap();
        assert!(d.fields.contains(&"libc".to_string()));
        assert!(!d.fields.contains(&"musl".to_string()));
        assert_eq!(
            lookup("loopback.tcp6").unwrap().fields,
            lookup("loopback.tcp4").unwrap().fields
        );
        assert_eq!(lookup("port:6333").unwrap().scopes, [ReqScope::Host]);
        assert_eq!(
            lookup("uds.path_length").unwrap().scopes,
            [ReqScope::DataDir, ReqScope::Host]
        );
        assert!(lookup("file.creat").is_none());
    }
}
