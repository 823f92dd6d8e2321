//! The terminal table (default format): a short host summary, then one row per backend
//! (per data dir) with the verdict, the decisive evidence and the remediation. `--verbose`
//! adds every observation grouped by probe kind.

use super::Report;
use crate::catalogue::rules::Verdict;
use crate::observation::Status;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};

pub struct TableStyle {
    pub color: bool,
    /// Wrap to this many columns; None: the terminal's own width.
    pub width: Option<u16>,
    pub verbose: bool,
}

pub fn render(report: &Report, style: &TableStyle) -> String {
    let mut out = String::new();
    out.push_str(&format!("Host: {}\n", report.host.one_line()));
    for d in &report.data_dirs {
        out.push_str(&format!(
            "Data dir: {} — {}\n",
            d.path.display(),
            fs_summary(&d.filesystem)
        ));
    }
    out.push('\n');
    let recommendation = super::recommend::render_lines(report, false);
    if !recommendation.is_empty() {
        out.push_str("Viable here, best first:\n");
        for line in recommendation {
            out.push_str(&format!("  {line}\n"));
        }
        out.push('\n');
    }
    let multi_dir = report.data_dirs.len() > 1;
    let mut t = new_table(style);
    let mut header = vec!["Backend"];
    if multi_dir {
        header.push("Data dir");
    }
    header.extend(["Verdict", "Evidence", "Remediation"]);
    t.set_header(
        header
            .into_iter()
            .map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
    );
    for b in &report.backends {
        let mut row = vec![Cell::new(&b.id)];
        if multi_dir {
            row.push(Cell::new(b.data_dir.as_deref().unwrap_or("—")));
        }
        row.push(verdict_cell(b.verdict, style.color));
        row.push(Cell::new(&b.evidence));
        row.push(Cell::new(if b.remediation.is_empty() {
            "—".to_string()
        } else {
            b.remediation.join(" ")
        }));
        t.add_row(row);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    let s = &report.summary;
    out.push_str(&format!(
        "{} viable, {} degraded, {} blocked, {} unknown · {} observations in {:.0} ms\n",
        s.viable,
        s.degraded,
        s.blocked,
        s.unknown,
        report.probes.len(),
        report.run.elapsed_ms
    ));
    if style.verbose {
        out.push('\n');
        out.push_str(&probe_table(report, style));
        out.push('\n');
    } else {
        out.push_str("Run with --verbose for every observation, or `wsl-vecprobe explain <backend>` for the rules.\n");
    }
    out
}

fn new_table(style: &TableStyle) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(w) = style.width {
        t.set_width(w);
    }
    if !style.color {
        t.force_no_tty();
    }
    t
}

fn probe_table(report: &Report, style: &TableStyle) -> String {
    let mut records: Vec<&super::ProbeRecord> = report.probes.iter().collect();
    records.sort_by(|a, b| a.kind.cmp(&b.kind));
    let mut t = new_table(style);
    t.set_header(
        [
            "Kind",
            "Observation",
            "Target",
            "Status",
            "Errno",
            "ms",
            "Message",
        ]
        .map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
    );
    for r in records {
        let o = &r.observation;
        t.add_row(vec![
            Cell::new(&r.kind),
            Cell::new(&o.id),
            Cell::new(&o.target),
            status_cell(o.status, style.color),
            Cell::new(o.errno.as_deref().unwrap_or("")),
            Cell::new(format!("{:.1}", o.elapsed_ms)),
            Cell::new(&o.message),
        ]);
    }
    t.to_string()
}

fn verdict_cell(v: Verdict, color: bool) -> Cell {
    let c = Cell::new(v.as_str());
    if !color {
        return c;
    }
    match v {
        Verdict::Viable => c.fg(Color::Green),
        Verdict::Degraded => c.fg(Color::Yellow),
        Verdict::Blocked => c.fg(Color::Red).add_attribute(Attribute::Bold),
        Verdict::Unknown => c.fg(Color::Magenta),
    }
}

fn status_cell(s: Status, color: bool) -> Cell {
    let c = Cell::new(s.as_str());
    if !color {
        return c;
    }
    match s {
        Status::Pass => c.fg(Color::Green),
        Status::Fail => c.fg(Color::Red),
        Status::Timeout | Status::Error => c.fg(Color::Magenta),
        Status::Skipped => c.fg(Color::DarkGrey),
    }
}

/// `ext4 (local), 51.2 GiB free, read-only` — a data dir's filesystem in one phrase.
pub fn fs_summary(fs: &crate::host::FsFacts) -> String {
    let free = fs
        .free_bytes
        .map(|b| format!(", {} free", human_bytes(b)))
        .unwrap_or_default();
    let ro = if fs.read_only == Some(true) {
        ", read-only"
    } else {
        ""
    };
    format!("{} ({}){free}{ro}", fs.fs_type, fs.class.as_str())
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}
