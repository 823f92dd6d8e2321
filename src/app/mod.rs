//! The commands: dispatch from the parsed CLI to the pipeline, print the result, and map
//! every outcome to its documented exit code.

use crate::cli::{Cli, Command, Format};
use crate::error::{EXIT_BAD_INPUT, EXIT_OK, EXIT_OUTPUT_FAILED, InputError, warn};
use std::io::Write;
use std::sync::Mutex;

/// The first failed write to stdout, if any: the run then exits EXIT_OUTPUT_FAILED.
static OUTPUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

mod check;
pub mod dirfacts;
mod explain;
mod prepare;
mod validate;

pub use check::{CheckOptions, CheckOutcome, Replay, exit_code, run_check};

/// Run the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Worker { name, args } => return crate::probe::worker::dispatch(&name, &args),
        Command::Check(args) => check::command(&args),
        Command::Host(args) => check::host_command(&args),
        Command::Backends(args) => explain::backends(&args),
        Command::Explain(args) => explain::explain(&args),
        Command::Schema => {
            print(crate::report::SCHEMA_JSON);
            Ok(EXIT_OK)
        }
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            warn(&format!("wsl-vecprobe: error: {e}"));
            EXIT_BAD_INPUT
        }
    };
    output_failure().unwrap_or(code)
}

/// EXIT_OUTPUT_FAILED (after saying why on stderr) when a write to stdout failed.
pub fn output_failure() -> Option<i32> {
    let failed = OUTPUT_ERROR
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()?;
    warn(&format!(
        "wsl-vecprobe: error: cannot write the output to stdout: {failed}"
    ));
    Some(EXIT_OUTPUT_FAILED)
}

/// Write to stdout. A failure (`>/dev/full`, a pipe whose reader left) is remembered and
/// turns the exit code into EXIT_OUTPUT_FAILED: never a panic, never a silent success.
pub(crate) fn print(s: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        OUTPUT_ERROR
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(|| e.to_string());
    }
}

/// Write a report to stdout in the requested format. JSON is streamed, not built as one
/// string first: twenty data dirs make a 3 MB report, and a string of it (grown by doubling)
/// was a third of the run's peak memory.
pub(crate) fn print_report(report: &crate::report::Report, format: Format, verbose: bool) {
    if format != Format::Json {
        return print(&render(report, format, verbose));
    }
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    let written = crate::report::json::write(report, &mut out).and_then(|()| out.flush());
    if let Err(e) = written {
        OUTPUT_ERROR
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(|| e.to_string());
    }
}

/// Render a report in the requested format.
pub(crate) fn render(report: &crate::report::Report, format: Format, verbose: bool) -> String {
    use std::io::IsTerminal;
    match format {
        Format::Json => crate::report::json::render(report),
        Format::Markdown => crate::report::markdown::render(report),
        Format::Table => {
            let tty = std::io::stdout().is_terminal();
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            // On a terminal comfy-table wraps to its width; in a pipe or file, to $COLUMNS or 120.
            let width = if tty {
                None
            } else {
                Some(
                    std::env::var("COLUMNS")
                        .ok()
                        .and_then(|c| c.parse().ok())
                        .filter(|w| *w >= 40)
                        .unwrap_or(120),
                )
            };
            if report.run.command == "host" {
                return crate::report::host_table::render(report, width);
            }
            crate::report::table::render(
                report,
                &crate::report::table::TableStyle {
                    color: tty && !no_color,
                    width,
                    verbose,
                },
            )
        }
    }
}

pub(crate) type AppResult = Result<i32, InputError>;
