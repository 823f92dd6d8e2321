//! TEMPORARY minimal version comparison (replaced by the catalogue branch's version.rs).
use std::cmp::Ordering;

fn parts(v: &str) -> Option<Vec<u64>> {
    let core: String = v
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if core.is_empty() {
        return None;
    }
    core.split('.')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let (mut x, mut y) = (parts(a)?, parts(b)?);
    let n = x.len().max(y.len());
    x.resize(n, 0);
    y.resize(n, 0);
    Some(x.cmp(&y))
}

/// Whether `version` lies in `spec` (`>=2.4,<3`); None when either does not parse.
pub fn matches(spec: &str, version: &str) -> Option<bool> {
    for clause in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (op, v) = ["<=", ">=", "==", "!=", "<", ">"]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|rest| (*op, rest)))?;
        let ord = compare_versions(version, v)?;
        let ok = match op {
            "<=" => ord != Ordering::Greater,
            ">=" => ord != Ordering::Less,
            "==" => ord == Ordering::Equal,
            "!=" => ord != Ordering::Equal,
            "<" => ord == Ordering::Less,
            _ => ord == Ordering::Greater,
        };
        if !ok {
            return Some(false);
        }
    }
    Some(true)
}
