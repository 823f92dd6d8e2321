//! The terminal table (default format): a short host summary, then one row per backend
//! (per data dir) with the verdict, the decisive evidence and the remediation. `--verbose`
//! adds every observation grouped by probe kind.

use super::Report;
use crate::catalogue::rules::Verdict;
use crate::observation::Status;
use comfy_table::{
    Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width, presets,
};

pub struct TableStyle {
    pub color: bool,
    /// Wrap to this many columns; None: the terminal's own width.
    pub width: Option<u16>,
    pub verbose: bool,
}

pub fn render(report: &Report, style: &TableStyle) -> String {
    let width = line_width(style);
    let mut out = String::new();
    out.push_str(&wrap(
        &format!("Host: {}", report.host.one_line()),
        width,
        "  ",
    ));
    let multi_dir = report.data_dirs.len() > 1;
    for (i, d) in report.data_dirs.iter().enumerate() {
        let label = if multi_dir {
            format!("Data dir #{}", i + 1)
        } else {
            "Data dir".to_string()
        };
        out.push_str(&wrap(
            &format!(
                "{label}: {} — {}",
                crate::host::shown(&d.path),
                fs_summary(&d.filesystem)
            ),
            width,
            "  ",
        ));
    }
    out.push('\n');
    let recommendation = super::recommend::render_lines(report, false);
    if !recommendation.is_empty() {
        out.push_str("Viable here, best first:\n");
        for line in recommendation {
            let indent = if line.starts_with("  ") {
                "      "
            } else {
                "    "
            };
            out.push_str(&wrap(&format!("  {line}"), width, indent));
        }
        out.push('\n');
    }
    let mut t = new_table(style);
    let mut header = vec!["Backend"];
    if multi_dir {
        header.push("Dir");
    }
    header.extend(["Verdict", "Evidence", "Fix"]);
    t.set_header(
        header
            .into_iter()
            .map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
    );
    // Remediation goes below the table, numbered, so commands and URLs keep their line.
    let mut fixes: Vec<&String> = Vec::new();
    let mut fix_width: u16 = 1;
    for b in &report.backends {
        let mut row = vec![Cell::new(&b.id)];
        if multi_dir {
            let n = report
                .data_dirs
                .iter()
                .position(|d| Some(crate::host::shown(&d.path).as_str()) == b.data_dir.as_deref());
            row.push(Cell::new(match (n, &b.data_dir) {
                (Some(n), _) => format!("#{}", n + 1),
                (None, Some(d)) => d.clone(),
                (None, None) => "host".into(),
            }));
        }
        row.push(verdict_cell(b.verdict, style.color));
        row.push(Cell::new(&b.evidence));
        let refs: Vec<String> = b
            .remediation
            .iter()
            .map(|r| {
                let n = match fixes.iter().position(|f| *f == r) {
                    Some(i) => i + 1,
                    None => {
                        fixes.push(r);
                        fixes.len()
                    }
                };
                n.to_string()
            })
            .collect();
        fix_width = fix_width.max(refs.join(",").chars().count() as u16);
        row.push(Cell::new(if refs.is_empty() {
            "—".to_string()
        } else {
            refs.join(",")
        }));
        t.add_row(row);
    }
    // A token (path, command, URL) is never split: a column is at least as wide as its longest.
    let evidence_column = if multi_dir { 3 } else { 2 };
    let longest = |texts: &mut dyn Iterator<Item = &str>| {
        texts
            .flat_map(str::split_whitespace)
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(1) as u16
    };
    let evidence_min = longest(&mut report.backends.iter().map(|b| b.evidence.as_str()));
    if let Some(c) = t.column_mut(evidence_column) {
        c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
            evidence_min + 2,
        )));
    }
    let id_min = longest(&mut report.backends.iter().map(|b| b.id.as_str()));
    let fixed = [
        (0, id_min + 2),
        (evidence_column - 1, "degraded".len() as u16 + 2),
        (evidence_column + 1, fix_width.max(3) + 2),
    ];
    for (column, width) in fixed {
        if let Some(c) = t.column_mut(column) {
            c.set_constraint(ColumnConstraint::Absolute(Width::Fixed(width)));
        }
    }
    out.push_str(&t.to_string());
    out.push('\n');
    for (i, fix) in fixes.iter().enumerate() {
        let mark = format!("[{}] ", i + 1);
        let indent = " ".repeat(mark.len());
        out.push_str(&wrap(&format!("{mark}{fix}"), width, &indent));
    }
    out.push_str(&wrap(&super::summary_line(report), width, "  "));
    if style.verbose {
        out.push('\n');
        out.push_str(&probe_table(report, style));
        out.push('\n');
    } else {
        out.push_str(&wrap(
            "Run with --verbose for every observation, or `wsl-vecprobe explain <backend>` for the rules.",
            width,
            "",
        ));
    }
    out
}

/// The width free text wraps to: the table's width, or the terminal's, or 120.
fn line_width(style: &TableStyle) -> usize {
    style
        .width
        .or_else(|| Table::new().width())
        .map_or(120, usize::from)
}

/// Word-wrap at spaces to `width` (continuation lines start with `indent`); a word longer than
/// a line stays whole on its own line. Ends with a newline.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let lead = text.len() - text.trim_start().len();
    let mut out = String::new();
    let mut line = text[..lead].to_string();
    let mut has_word = false;
    for word in text.split_whitespace() {
        if has_word && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_string();
            has_word = false;
        }
        if has_word {
            line.push(' ');
        }
        line.push_str(word);
        has_word = true;
    }
    out.push_str(&line);
    out.push('\n');
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
    let width = line_width(style);
    if width < 120 {
        // Seven columns do not fit a narrow terminal: one heading line per observation, the
        // message wrapped under it.
        let mut out = String::from("Observations:\n");
        for r in records {
            let o = &r.observation;
            let errno = o
                .errno
                .as_deref()
                .map(|e| format!(" {e}"))
                .unwrap_or_default();
            out.push_str(&wrap(
                &format!(
                    "{} {} {}{errno} · {} · {:.1} ms",
                    o.id,
                    o.target,
                    o.status.as_str(),
                    r.kind,
                    o.elapsed_ms
                ),
                width,
                "    ",
            ));
            out.push_str(&wrap(
                &format!("    {}{}", o.message, judged_against(report, o)),
                width,
                "    ",
            ));
        }
        return out;
    }
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
            Cell::new(format!("{}{}", o.message, judged_against(report, o))),
        ]);
    }
    t.to_string()
}

/// A `pass` says the probe made its observation (a value was read); whether that value meets a
/// backend's need is the rules' call. So the observation's row names the backends whose
/// requirements it broke (` — breaks elasticsearch: max-map-count`), from the verdicts' own
/// reasons: the renderer decides nothing.
fn judged_against(report: &Report, o: &crate::observation::Observation) -> String {
    use crate::catalogue::rules::Outcome;
    let mut hits: Vec<String> = Vec::new();
    for b in &report.backends {
        for r in &b.reasons {
            if r.outcome == Outcome::Violated && r.probe == o.id && r.target == o.target {
                let hit = format!("{}: {}", b.id, r.requirement);
                if !hits.contains(&hit) {
                    hits.push(hit);
                }
            }
        }
    }
    if hits.is_empty() {
        String::new()
    } else {
        format!(" — breaks {}", hits.join(", "))
    }
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
