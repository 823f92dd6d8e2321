//! `backends` and `explain ID`: the catalogue as a list, and one profile's rules in words.

use super::{AppResult, print};
use crate::catalogue::requirements::generated;
use crate::cli::{BackendsArgs, ExplainArgs, Format};
use crate::error::{EXIT_OK, input};

pub(super) fn backends(args: &BackendsArgs) -> AppResult {
    let profiles = crate::catalogue::load_catalogue(&args.profiles)?;
    if args.format == Format::Json {
        let list: Vec<serde_json::Value> = profiles
            .iter()
            .map(|p| serde_json::json!({"id": p.id, "name": p.name, "kind": p.kind.as_str(), "summary": p.summary}))
            .collect();
        print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        ));
    } else {
        let width = profiles.iter().map(|p| p.id.len()).max().unwrap_or(0);
        let mut s = String::new();
        for p in &profiles {
            s.push_str(&format!(
                "{:width$}  {:8}  {}\n",
                p.id,
                p.kind.as_str(),
                p.name
            ));
        }
        print(&s);
    }
    Ok(EXIT_OK)
}

pub(super) fn explain(args: &ExplainArgs) -> AppResult {
    let profiles = crate::catalogue::load_catalogue(&args.profiles)?;
    let Some(p) = profiles.iter().find(|p| p.id == args.id) else {
        let ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
        return Err(input(format!(
            "unknown backend id `{}`{}; known ids: {}",
            args.id,
            crate::catalogue::suggest::hint(&args.id, ids.iter().copied()).trim_end_matches('?'),
            ids.join(", ")
        )));
    };
    let mut s = format!(
        "{} ({}, {})\n{}\nDocs: {}\n",
        p.name,
        p.id,
        p.kind.as_str(),
        p.summary,
        p.docs
    );
    if let Some(pkg) = &p.package {
        s.push_str(&format!(
            "Client package: {pkg}; judged at its installed version, else at {}\n",
            p.assumed_version
                .as_deref()
                .unwrap_or("(no assumed version)")
        ));
    }
    for pl in &p.platforms {
        s.push_str(&format!(
            "Ships for{}: {} {}{}{} — {}\n",
            pl.versions
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default(),
            pl.os.join("/"),
            pl.arch.join("/"),
            pl.glibc_min
                .as_deref()
                .map(|g| format!(", glibc ≥ {g}"))
                .unwrap_or_default(),
            pl.python_min
                .as_deref()
                .map(|g| format!(", Python ≥ {g}"))
                .unwrap_or_default(),
            pl.source
        ));
    }
    s.push_str("\nRequirements (observation → effect when it fails):\n");
    for r in generated(p).iter().chain(p.requirements.iter()) {
        let mut filters = Vec::new();
        if let Some(v) = &r.versions {
            filters.push(format!("versions {v}"));
        }
        if !r.os.is_empty() {
            filters.push(format!("os {}", r.os.join("/")));
        }
        if !r.arch.is_empty() {
            filters.push(format!("arch {}", r.arch.join("/")));
        }
        let filters = if filters.is_empty() {
            String::new()
        } else {
            format!(" [{}]", filters.join(", "))
        };
        let ex = r
            .expect
            .as_ref()
            .map(|e| format!(" (tests `{}`)", e.field))
            .unwrap_or_default();
        s.push_str(&format!(
            "\n- {} — `{}`{ex} → {}{filters}\n  {}\n  Fix: {}\n  Source: {}\n",
            r.id,
            r.probe,
            match r.effect {
                crate::catalogue::profile::Effect::Block => "blocked",
                crate::catalogue::profile::Effect::Degrade => "degraded",
            },
            r.explain,
            r.remediation,
            r.source
        ));
    }
    print(&wrap_explanation(&s));
    Ok(EXIT_OK)
}

/// Wrap every line at spaces to `COLUMNS` (default 100), indenting continuations like the line.
fn wrap_explanation(text: &str) -> String {
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100);
    text.lines()
        .map(|line| {
            let indent = if line.starts_with("  ") || line.starts_with("- ") {
                "    "
            } else {
                "  "
            };
            crate::report::table::wrap(line, width, indent)
        })
        .collect()
}
