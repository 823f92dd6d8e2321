//! `--format json`: the report, pretty-printed, and nothing else.

use super::Report;

/// Stream the report, pretty-printed, with a final newline.
pub fn write<W: std::io::Write>(report: &Report, out: &mut W) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

pub fn render(report: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
