//! The commands: dispatch from the parsed CLI to the pipeline, print the result, and map
//! every outcome to its documented exit code.

use crate::cli::{Cli, Command, Format};
use crate::error::{EXIT_BAD_INPUT, EXIT_OK, InputError};
use std::io::Write;

mod check;
mod explain;
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
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wsl-vecprobe: error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

/// Write to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub(crate) fn print(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
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
