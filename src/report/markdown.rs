//! `--format markdown`: for pasting into an issue tracker — host summary, the verdict
//! table, then the observations and host facts in collapsible `<details>` blocks.

use super::Report;
use super::table::human_bytes;

/// Text for a code span inside a table cell: GFM still needs `\|` there, but backslash escapes
/// do not apply in code spans, so a `\` (a Windows path, an escaped byte) stays single.
fn code_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Escape a value for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

pub fn render(report: &Report) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "## wsl-vecprobe {} report\n\n",
        report.tool.version
    ));
    md.push_str(&format!("**Host:** {}\n\n", cell(&report.host.one_line())));
    if !report.data_dirs.is_empty() {
        md.push_str(
            "| Data dir | Filesystem | Class | Free | Read-only |\n|---|---|---|---|---|\n",
        );
        for d in &report.data_dirs {
            let fs = &d.filesystem;
            md.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                code_cell(&crate::host::shown(&d.path)),
                cell(&fs.fs_type),
                fs.class.as_str(),
                fs.free_bytes.map(human_bytes).unwrap_or_else(|| "?".into()),
                fs.read_only
                    .map(|r| if r { "yes" } else { "no" })
                    .unwrap_or("?")
            ));
        }
        md.push('\n');
    }
    let recommendation = super::recommend::render_lines(report, true);
    if !recommendation.is_empty() {
        md.push_str("**Viable here, best first:**\n\n");
        for line in recommendation {
            match line.strip_prefix("  ") {
                Some(favourite) => md.push_str(&format!("  - {}\n", cell(favourite))),
                None => md.push_str(&format!("- {}\n", cell(&line))),
            }
        }
        md.push('\n');
    }
    md.push_str(
        "| Backend | Data dir | Verdict | Evidence | Remediation |\n|---|---|---|---|---|\n",
    );
    for b in &report.backends {
        md.push_str(&format!(
            "| {} | {} | **{}** | {} | {} |\n",
            cell(&b.id),
            b.data_dir
                .as_deref()
                .map(|d| format!("`{}`", code_cell(d)))
                .unwrap_or_else(|| "—".into()),
            b.verdict.as_str(),
            cell(&crate::catalogue::decisive::full_evidence(
                &b.reasons, b.verdict
            )),
            cell(&if b.remediation.is_empty() {
                "—".to_string()
            } else {
                b.remediation.join(" ")
            })
        ));
    }
    md.push_str(&format!("\n{}\n\n", super::summary_line(report)));
    md.push_str("<details><summary>Observations</summary>\n\n| Kind | Observation | Target | Status | Errno | ms | Message |\n|---|---|---|---|---|---|---|\n");
    for r in &report.probes {
        let o = &r.observation;
        md.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {:.1} | {} |\n",
            r.kind,
            code_cell(&o.id),
            cell(&o.target),
            o.status.as_str(),
            o.errno.as_deref().unwrap_or(""),
            o.elapsed_ms,
            cell(&o.message)
        ));
    }
    md.push_str("\n</details>\n\n<details><summary>Host facts</summary>\n\n```json\n");
    md.push_str(&serde_json::to_string_pretty(&report.host).unwrap_or_default());
    md.push_str("\n```\n\n</details>\n");
    md
}
