//! The terminal view of `wsl-vecprobe host`: every host fact with where it was read, and each
//! data dir's filesystem. (No probes run, so there is no verdict table.)

use super::Report;
use super::table::{fs_summary, human_bytes};
use comfy_table::{Attribute, Cell, ContentArrangement, Table, presets};

pub fn render(report: &Report, width: Option<u16>) -> String {
    let h = &report.host;
    let src = |k: &str| h.sources.get(k).cloned().unwrap_or_default();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let yes_no = |v: Option<bool>| {
        v.map(|b| if b { "yes" } else { "no" }.to_string())
            .unwrap_or_else(|| "—".into())
    };
    let mut rows: Vec<(String, String, String)> = vec![
        (
            "OS / arch".into(),
            format!("{} {}", h.os, h.arch),
            String::new(),
        ),
        (
            "Kernel".into(),
            opt(&h.kernel_release),
            src("kernel_release"),
        ),
        (
            "Distribution".into(),
            opt(&h.distribution),
            src("distribution"),
        ),
        ("glibc".into(), opt(&h.glibc_version), src("glibc_version")),
        (
            "CPU".into(),
            format!("{} · {}", opt(&h.cpu.model), h.cpu.features.join(" ")),
            src("cpu"),
        ),
        (
            "Memory".into(),
            h.memory
                .total_bytes
                .map(human_bytes)
                .unwrap_or_else(|| "—".into()),
            src("memory"),
        ),
        (
            "WSL".into(),
            if h.wsl.detected {
                format!(
                    "WSL {}",
                    h.wsl.version.map(|v| v.to_string()).unwrap_or("?".into())
                )
            } else {
                "no".into()
            },
            h.wsl.evidence.join("; "),
        ),
    ];
    if h.wsl.detected {
        let mode = opt(&h.wsl.networking_mode)
            + if h.wsl.networking_mode_inferred {
                " (inferred)"
            } else {
                ""
            };
        rows.push(("WSL networking".into(), mode, src("wsl.networking_mode")));
        rows.push((
            "WSL distro".into(),
            opt(&h.wsl.distro_name),
            src("wsl.distro_name"),
        ));
        rows.push((
            "WSL interop".into(),
            yes_no(h.wsl.interop),
            src("wsl.interop"),
        ));
        rows.push((
            "WSL systemd".into(),
            yes_no(h.wsl.systemd),
            src("wsl.systemd"),
        ));
        rows.push((
            "Docker Desktop traces".into(),
            yes_no(Some(h.wsl.docker_desktop)),
            src("wsl.docker_desktop"),
        ));
    }
    let container = if h.container.detected {
        format!(
            "{}{}",
            opt(&h.container.runtime),
            if h.container.on_wsl_kernel {
                " on a WSL2 kernel"
            } else {
                ""
            }
        )
    } else {
        "no".into()
    };
    rows.push((
        "Container".into(),
        container,
        h.container.evidence.join("; "),
    ));
    rows.push(("CI".into(), opt(&h.ci), src("ci")));
    for d in &report.data_dirs {
        let fs = &d.filesystem;
        rows.push((
            format!("Data dir {}", crate::host::shown(&d.path)),
            fs_summary(fs),
            format!(
                "{} on {} [{}]",
                opt(&fs.source),
                opt(&fs.mount_point),
                fs.source_of_facts
            ),
        ));
    }
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty();
    if let Some(w) = width {
        t.set_width(w);
    }
    t.set_header(
        ["Fact", "Value", "Read from"].map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
    );
    for (k, v, s) in rows {
        t.add_row(vec![k, v, s]);
    }
    let mut out = format!("Host: {}\n", h.one_line());
    out.push_str(&t.to_string());
    out.push('\n');
    if !h.unreadable.is_empty() {
        out.push_str(&format!("Not readable: {}\n", h.unreadable.join(", ")));
    }
    out
}
