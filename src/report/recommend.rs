//! The recommendation line above the table: per kind (embedded, server, cloud), the backends
//! that are viable on every data dir given, then those only degraded somewhere (best first,
//! catalogue order within each), and for the kind's first backend (the catalogue's favourite)
//! when it is blocked, the one change that unblocks it. Read from the verdicts only.

use super::Report;
use crate::catalogue::profile::BackendKind;
use crate::catalogue::rules::{BackendVerdict, Verdict};

/// One kind's recommendation.
#[derive(Debug, PartialEq)]
pub struct KindLine {
    pub kind: &'static str,
    /// Viable on every data dir, then degraded (worst verdict over the dirs), best first.
    pub viable: Vec<String>,
    pub degraded: Vec<String>,
    /// Could not be judged here (a blocking requirement was not observed).
    pub unknown: Vec<String>,
    /// The favourite, when blocked: its id, and its one fix (None: more than one change needed).
    pub blocked_favourite: Option<(String, Option<String>)>,
}

pub fn recommend(report: &Report) -> Vec<KindLine> {
    [
        BackendKind::Embedded,
        BackendKind::Server,
        BackendKind::Cloud,
    ]
    .into_iter()
    .filter_map(|kind| kind_line(&report.backends, kind))
    .collect()
}

fn kind_line(backends: &[BackendVerdict], kind: BackendKind) -> Option<KindLine> {
    let mut ids: Vec<&str> = Vec::new();
    for b in backends.iter().filter(|b| b.kind == kind) {
        if !ids.contains(&b.id.as_str()) {
            ids.push(&b.id);
        }
    }
    let favourite = *ids.first()?;
    let worst = |id: &str| {
        backends
            .iter()
            .filter(|b| b.id == id)
            .map(|b| b.verdict)
            .max()
            .unwrap_or(Verdict::Unknown)
    };
    let of = |v: Verdict| -> Vec<String> {
        ids.iter()
            .filter(|id| worst(id) == v)
            .map(|id| id.to_string())
            .collect()
    };
    let blocked_favourite = (worst(favourite) == Verdict::Blocked).then(|| {
        let mut fixes: Vec<&String> = Vec::new();
        for b in backends
            .iter()
            .filter(|b| b.id == favourite && b.verdict == Verdict::Blocked)
        {
            for r in &b.remediation {
                if !fixes.contains(&r) {
                    fixes.push(r);
                }
            }
        }
        let fix = (fixes.len() == 1).then(|| fixes[0].clone());
        (favourite.to_string(), fix)
    });
    Some(KindLine {
        kind: kind.as_str(),
        viable: of(Verdict::Viable),
        degraded: of(Verdict::Degraded),
        unknown: of(Verdict::Unknown),
        blocked_favourite,
    })
}

/// The plain-text lines (table format); `code` wraps ids for Markdown.
pub fn render_lines(report: &Report, code: bool) -> Vec<String> {
    let q = |s: &str| {
        if code {
            format!("`{s}`")
        } else {
            s.to_string()
        }
    };
    let list = |ids: &[String]| ids.iter().map(|i| q(i)).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    for k in recommend(report) {
        let mut line = format!("{}: ", k.kind);
        match (k.viable.is_empty(), k.degraded.is_empty()) {
            (true, true) => line.push_str("none viable here"),
            (false, true) => line.push_str(&list(&k.viable)),
            (true, false) => {
                line.push_str(&format!("none viable; degraded: {}", list(&k.degraded)))
            }
            (false, false) => line.push_str(&format!(
                "{}; degraded: {}",
                list(&k.viable),
                list(&k.degraded)
            )),
        }
        if !k.unknown.is_empty() {
            line.push_str(&format!("; unknown: {}", list(&k.unknown)));
        }
        out.push(line);
        if let Some((id, fix)) = k.blocked_favourite {
            out.push(match fix {
                Some(fix) => format!("  {} is blocked; the one change: {fix}", q(&id)),
                None => format!(
                    "  {} is blocked for more than one reason (see its row)",
                    q(&id)
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::rules::BackendVerdict;

    fn row(
        id: &str,
        kind: BackendKind,
        dir: &str,
        verdict: Verdict,
        fix: &[&str],
    ) -> BackendVerdict {
        BackendVerdict {
            id: id.into(),
            name: id.into(),
            kind,
            data_dir: Some(dir.into()),
            verdict,
            evidence: String::new(),
            remediation: fix.iter().map(|s| s.to_string()).collect(),
            version: None,
            reasons: vec![],
        }
    }

    #[test]
    fn viable_on_every_dir_first_and_the_blocked_favourite_gets_its_one_fix() {
        use BackendKind::*;
        use Verdict::*;
        let backends = vec![
            row("milvus-lite", Embedded, "/mnt/c/p", Blocked, &["move it"]),
            row("milvus-lite", Embedded, "/home/p", Viable, &[]),
            row("chroma", Embedded, "/mnt/c/p", Degraded, &["x"]),
            row("chroma", Embedded, "/home/p", Viable, &[]),
            row("lancedb", Embedded, "/mnt/c/p", Viable, &[]),
            row("lancedb", Embedded, "/home/p", Viable, &[]),
            row("redis", Server, "/home/p", Blocked, &["a", "b"]),
        ];
        let e = kind_line(&backends, Embedded).unwrap();
        assert_eq!(e.viable, ["lancedb"]);
        assert_eq!(e.degraded, ["chroma"]);
        assert_eq!(
            e.blocked_favourite,
            Some(("milvus-lite".into(), Some("move it".into())))
        );
        let s = kind_line(&backends, Server).unwrap();
        assert!(s.viable.is_empty());
        assert_eq!(s.blocked_favourite, Some(("redis".into(), None)));
        assert!(kind_line(&backends, Cloud).is_none());
    }
}
